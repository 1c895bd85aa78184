"""What does the journal cost per task? 1,000 no-op tasks, with and without a journal.

    python benchmarks/journal_overhead.py                 # writes its section of docs/executor.md
    python benchmarks/journal_overhead.py --tasks 200 --repeats 1 --no-write      # quick

Each task is a no-op callable (``os:getpid``) run in its device's worker process, so the
run's time is the executor's own: dispatch, the round trip to the worker, the events. The
same problem and plan run without a journal and with one, alternating, ``--repeats`` times
each, in this one process; the journal's cost per task is the difference of the medians
divided by the number of tasks. Every event goes through the journal (two per task, plus
the start and the end); a task's start is on disk (fsync'd) before it runs, and the
group commit lets the devices' events share their fsyncs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import allocator  # noqa: E402
from allocator.executor import execute  # noqa: E402
from allocator.domain.plan import Plan, Slot, Status  # noqa: E402

from doc_section import write_section  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs" / "executor.md"


def noop_problem(tasks: int, devices: int):
    p = allocator.load({"name": "no-ops", "pools": [{"name": "cpu", "kind": "cpu",
                                                     "count": devices, "memory": "1GiB",
                                                     "throughput": "1 GFLOP/s"}],
                        "tasks": [{"name": f"t{k}", "compute": 1e6, "memory": "1MiB",
                                   "callable": "os:getpid"} for k in range(tasks)]})
    slots = tuple(Slot(f"t{k}", f"cpu[{k % devices}]", 0.0, 0.001) for k in range(tasks))
    plan = Plan(problem=p.name, objective_name="makespan", status=Status.FEASIBLE,
                assignment={s.task: s.device for s in slots}, schedule=slots)
    return p, plan


def one_run(problem, plan, folder: Path, journal: bool) -> float:
    path = folder / f"run-{len(list(folder.iterdir()))}.jsonl" if journal else None
    report = execute(problem, plan, journal=path, logs=folder / "logs")
    assert report.ok
    return report.wall_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    problem, plan = noop_problem(args.tasks, args.devices)
    walls: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:     # the disk a journal would use
        for _ in range(args.repeats):
            for journal in (False, True):
                walls[journal].append(one_run(problem, plan, Path(tmp), journal))
    bare, journaled = (statistics.median(walls[j]) for j in (False, True))
    per_task = (journaled - bare) / args.tasks * 1e3
    lines = [
        f"{args.tasks:,} no-op tasks on {args.devices} CPU devices, median of {args.repeats} "
        f"runs each ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; `python benchmarks/journal_overhead.py`):",
        "",
        "| run | wall (s) | per task (ms) |",
        "|---|---:|---:|",
        f"| without a journal | {bare:.3f} | {bare / args.tasks * 1e3:.3f} |",
        f"| with the journal | {journaled:.3f} | {journaled / args.tasks * 1e3:.3f} |",
        f"| **the journal's cost** | {journaled - bare:.3f} | **{per_task:.3f}** |",
        "",
        f"Ratio with / without: {journaled / bare:.2f}. Runs: without "
        + ", ".join(f"{w:.2f}" for w in walls[False]) + " s; with "
        + ", ".join(f"{w:.2f}" for w in walls[True]) + " s.",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section(DOCS, "journal-overhead", lines)


if __name__ == "__main__":
    main()
