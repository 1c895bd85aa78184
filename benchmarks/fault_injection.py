"""Fault injection, as an operator would try it: tasks that crash in every way, and runs
killed with kill -9 at random moments and resumed.

    python benchmarks/fault_injection.py                  # writes its section of docs/executor.md
    python benchmarks/fault_injection.py --trials 5 --no-write                      # quick

1. Crashes: one run of a problem with one task per fault (an exception, ``os._exit``, a
   segfault, ``sys.exit``, a non-zero exit, SIGKILL, a hang past its timeout) beside eight
   healthy tasks, on three CPU devices: how each ended, whether every healthy task
   completed, and which devices were drained (none should be: each fault is a task's).
2. kill -9: ``--trials`` runs of the installed command line (eleven short commands that
   append their name to a ledger when they finish, one of which fails on ``cpu[0]``), each
   killed once or twice at a random moment (seeded) and resumed to the end. Counted: tasks
   lost, tasks completed twice in the journal, tasks that ran twice in truth (the kill fell
   between a task's end and its record: at most one per device per kill), and starts on a
   device the task was excluded from.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import allocator  # noqa: E402
from allocator.executor import execute  # noqa: E402
from allocator.executor.journal import Journal  # noqa: E402

from doc_section import write_section  # noqa: E402

DOCS = ROOT / "docs" / "executor.md"
CRASHES = {
    "exception": "raise ValueError('bug')",
    "os._exit(7)": "import os; os._exit(7)",
    "segfault": "import ctypes; ctypes.string_at(0)",
    "sys.exit(3)": "import sys; sys.exit(3)",
}


def sh(name: str, script: str, **extra) -> dict:
    return {"name": name, "compute": 1e9, "memory": "1MiB", "command": ["sh", "-c", script],
            **extra}


def crash_run(folder: Path) -> list[str]:
    tasks = [{"name": name, "compute": 1e9, "memory": "1MiB",
              "command": [sys.executable, "-c", code]} for name, code in CRASHES.items()]
    tasks += [sh("exit 4", "exit 4"), sh("SIGKILL", "kill -9 $$"),
              sh("hang (timeout 1s)", "sleep 600", timeout="1s")]
    tasks += [sh(f"healthy{k}", "sleep 0.1") for k in range(8)]
    problem = allocator.load({"name": "crashes", "tasks": tasks, "pools": [
        {"name": "cpu", "kind": "cpu", "count": 3, "memory": "4GiB",
         "throughput": "1 GFLOP/s"}]})
    report = execute(problem, max_retries=1, logs=folder / "crash-logs")
    lines = ["| fault | ended | how | attempts |", "|---|---|---|---:|"]
    for o in report.tasks:
        if o.task.startswith("healthy"):
            continue
        how = o.signal or (f"exit status {o.exit_code}" if o.exit_code is not None else "")
        if "timed out" in (o.error or ""):
            how = "timed out, stopped"
        lines.append(f"| {o.task} | {o.status} | {how} | {o.attempts} |")
    healthy = [o for o in report.tasks if o.task.startswith("healthy")]
    lines += ["", f"Healthy tasks completed: {sum(o.status == 'completed' for o in healthy)} "
                  f"of {len(healthy)}; devices drained: "
                  f"{', '.join(report.drained) or 'none'}; the run itself ended normally."]
    return lines


def ledger_problem(folder: Path) -> Path:
    ledger = folder / "ledger"
    tasks = [sh(f"t{k}", f'sleep 0.{k % 3 + 1}; echo "$ALLOCATOR_TASK" >> "{ledger}"')
             for k in range(10)]
    tasks.append(sh("picky", f'[ "$ALLOCATOR_DEVICE_NAME" = "cpu[0]" ] && exit 9; '
                             f'echo picky >> "{ledger}"'))
    path = folder / "p.yaml"
    path.write_text(yaml.safe_dump({"name": "kill-loop", "tasks": tasks, "pools": [
        {"name": "cpu", "kind": "cpu", "count": 2, "memory": "4GiB",
         "throughput": "1 GFLOP/s"}]}))
    return path


def kill_loop(folder: Path, trials: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    totals = dict(kills=0, cut=0, lost=0, twice_journal=0, twice_truth=0, excluded=0)
    for trial in range(trials):
        sub = folder / f"trial{trial}"
        sub.mkdir()
        problem, journal = ledger_problem(sub), sub / "run.jsonl"
        command = [sys.executable, "-m", "allocator.cli", "run", str(problem), "--journal",
                   str(journal), "--quiet", "--max-retries", "4"]
        for _ in range(rng.choice((1, 2))):
            proc = subprocess.Popen(command + (["--resume"] if journal.exists() else []),
                                    env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5, 2.0))
            if proc.poll() is None:
                proc.kill()
                totals["kills"] += 1
            proc.wait()
        events = Journal.read(journal) if journal.exists() else []
        totals["cut"] += bool(events) and events[-1]["event"] != "end"
        subprocess.run(command + ["--resume"], env=env, capture_output=True, check=False)
        events = Journal.read(journal)
        names = {t["name"] for t in yaml.safe_load(problem.read_text())["tasks"]}
        done = [e["task"] for e in events if e["event"] == "task_end"
                and e["status"] == "completed"]
        totals["lost"] += len(names - set(done))
        totals["twice_journal"] += len(done) - len(set(done))
        ledger = (sub / "ledger").read_text().split()
        totals["twice_truth"] += len(ledger) - len(set(ledger))
        excluded: dict[str, set] = {}
        for e in events:
            if e["event"] == "task_start" and e["device"] in excluded.get(e["task"], ()):
                totals["excluded"] += 1
            if e["event"] == "task_end":
                excluded.setdefault(e["task"], set()).update(e.get("excluded", ()))
    return [f"{trials} trials (seed {seed}), {totals['kills']} kills, "
            f"{totals['cut']} of them in the middle of a run:", "",
            "| tasks lost | completed twice (journal) | ran twice (in truth) | "
            "started on an excluded device |", "|---:|---:|---:|---:|",
            f"| {totals['lost']} | {totals['twice_journal']} | {totals['twice_truth']} | "
            f"{totals['excluded']} |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        crashes = crash_run(Path(tmp))
        kills = kill_loop(Path(tmp), args.trials, args.seed)
    lines = [f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} "
             f"cores, Python {platform.python_version()} "
             "(`python benchmarks/fault_injection.py`).", "", "**Crashes**", "", *crashes,
             "", "**kill -9**", "", *kills]
    print("\n".join(lines))
    if not args.no_write:
        write_section(DOCS, "fault-injection", lines)


if __name__ == "__main__":
    main()
