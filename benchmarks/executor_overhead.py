"""What does the executor cost beyond the work itself, and how good are its memory estimates?

    python benchmarks/executor_overhead.py                  # writes docs/executor-results.md
    python benchmarks/executor_overhead.py --out /tmp/r.md --repeats 1     # quick

Three measurements, all in one run on this machine (and on CUDA when there is a GPU):

1. Per-task overhead: a queue of N near-empty tasks (an 8×8 matrix product) run by
   ``allocator.execute`` (in one worker process per device) on 1 and 2 devices; overhead per task = (each device's busy span) /
   (tasks it ran), less the same workload called directly in a loop. Device idle time between
   queued tasks = the gap from one task's measured end to the next one's start.
2. Overhead on real work: the same queue of small training jobs run directly in a loop and
   through ``execute`` on one device; the ratios of the tasks' span and of the whole call
   (with the solve and the worker's start) to the direct loop.
3. Memory: each workload at two sizes, estimate against what was measured (the CPU tracker,
   or ``torch.cuda.max_memory_allocated``), as estimate / measured - 1.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import allocator  # noqa: E402
from allocator.executor import MemoryTracker, estimate_memory  # noqa: E402
from allocator.executor.memory import PeakMemory  # noqa: E402
from allocator.executor.workloads import warm_up  # noqa: E402
from allocator.domain.workloads import normalise, workload_model  # noqa: E402
from allocator.executor.workloads import run_workload  # noqa: E402

TINY = {"name": "matmul", "n": 8, "iterations": 1}
REAL = [{"name": "mlp_train", "width": 256, "steps": 10},
        {"name": "conv_train", "channels": 16, "image": 32, "steps": 2},
        {"name": "transformer_train", "d_model": 128, "sequence": 64, "steps": 3},
        {"name": "transformer_infer", "d_model": 256, "sequence": 128, "steps": 3}]
SIZES = {"matmul": [{"n": 512}, {"n": 2048, "iterations": 2}],
         "mlp_train": [{}, {"width": 1024, "depth": 6, "batch": 128, "steps": 3}],
         "conv_train": [{}, {"channels": 64, "image": 64, "layers": 4, "batch": 16, "steps": 2}],
         "transformer_train": [{}, {"d_model": 512, "layers": 4, "heads": 8, "sequence": 256,
                                    "batch": 4, "steps": 2}],
         "transformer_infer": [{}, {"d_model": 512, "layers": 4, "heads": 8, "sequence": 256,
                                    "batch": 8, "steps": 2}]}


def problem(blocks, devices: int, device: str) -> allocator.Problem:
    kind = "gpu" if device.startswith("cuda") else "cpu"
    return allocator.load({
        "name": "overhead",
        "pools": [{"name": "d", "kind": kind, "count": devices, "memory": "64GiB",
                   "throughput": "10 GFLOP/s", "torch_device": "cuda" if kind == "gpu" else "cpu"}],
        "tasks": [{"name": f"t{k}", "workload": {**b, "seed": k}} for k, b in enumerate(blocks)]})


def direct(blocks, device) -> float:
    dev = torch.device(device)
    t0 = time.perf_counter()
    for b in blocks:
        run_workload(normalise(b, "w"), dev)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return time.perf_counter() - t0


def overhead_rows(device: str, n: int, repeats: int) -> list[str]:
    rows = []
    bare = statistics.median(direct([TINY] * n, device) for _ in range(repeats)) / n
    for devices in (1, 2):
        per_task, gaps = [], []
        for _ in range(repeats):
            p = problem([TINY] * n, devices, device)
            report = allocator.execute(p)
            by_device = {}
            for a in report.attempts:
                by_device.setdefault(a.device, []).append(a)
            for runs in by_device.values():
                runs.sort(key=lambda a: a.start)
                span = runs[-1].end - runs[0].start
                per_task.append(span / len(runs))
                gaps += [y.start - x.end for x, y in zip(runs, runs[1:])]
        rows.append(f"| {device} | {devices} | {n} | {bare * 1e3:.3f} | "
                    f"{statistics.median(per_task) * 1e3:.3f} | "
                    f"{(statistics.median(per_task) - bare) * 1e3:.3f} | "
                    f"{statistics.median(gaps) * 1e3:.3f} | {max(gaps) * 1e3:.3f} |")
    return rows


def tracked(blocks, device) -> float:
    """The direct loop with the CPU memory tracker on, as the executor runs CPU tasks."""
    dev = torch.device(device)
    t0 = time.perf_counter()
    for b in blocks:
        with MemoryTracker():
            run_workload(normalise(b, "w"), dev)
    return time.perf_counter() - t0


def real_rows(device: str, repeats: int) -> list[str]:
    blocks = REAL * 2
    base = statistics.median(direct(blocks, device) for _ in range(repeats))
    with_tracker = (statistics.median(tracked(blocks, device) for _ in range(repeats))
                    if device == "cpu" else None)
    through, spans = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        report = allocator.execute(problem(blocks, 1, device))
        through.append(time.perf_counter() - t0)
        spans.append(max(a.end for a in report.attempts) - min(a.start for a in report.attempts))
    mid, span = statistics.median(through), statistics.median(spans)
    tr = "-" if with_tracker is None else f"{with_tracker:.3f}"
    return [f"| {device} | {len(blocks)} | {base:.3f} | {tr} | {span:.3f} | {span / base:.3f} "
            f"| {mid:.3f} | {mid / base:.3f} |"]


def memory_rows(device: str) -> list[str]:
    rows = []
    dev = torch.device(device)
    for name, sizes in SIZES.items():
        for extra in sizes:
            b = normalise({"name": name, **extra}, "w")
            estimate = estimate_memory(**workload_model(b)).total
            with PeakMemory(dev) as meter:
                run_workload(b, dev)
            peak = meter.peak
            label = " ".join(f"{k}={v}" for k, v in extra.items()) or "defaults"
            rows.append(f"| {device} | {name} | {label} | {estimate / 2**20:.2f} | "
                        f"{peak / 2**20:.2f} | {estimate / peak - 1:+.1%} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).resolve().parent.parent / "docs" / "executor-results.md")
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    devices = ["cpu"] + (["cuda:0"] if torch.cuda.is_available() else [])
    warm_up(devices)
    started = time.perf_counter()
    lines = [
        "# Executor overhead and memory estimates: results",
        "",
        f"Written by `python benchmarks/executor_overhead.py` on {datetime.date.today()}: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, torch {torch.__version__}"
        + (f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU")
        + f"; median of {args.repeats} runs.",
        "",
        "## Per-task overhead",
        "",
        "A queue of near-empty tasks (one 8×8 matrix product each). *direct*: the workload "
        "called in a loop; *through execute*: a device's busy span over the tasks it ran; "
        "*idle gap*: from one task's end to the next one's start on the same device.",
        "",
        "| device | devices | tasks | direct ms/task | through execute ms/task | "
        "overhead ms/task | idle gap median ms | idle gap max ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in devices:
        lines += overhead_rows(d, args.tasks, args.repeats)
    lines += ["", "## Overhead on real work", "",
              "Eight small training and inference jobs, one device: called directly in a loop "
              "(bare, and with the CPU memory tracker the executor uses), and through "
              "`execute` (no journal): *tasks' span* from the first task's start to the last "
              "one's end, in the device's worker process with memory tracking; *whole call* "
              "adds the solve and starting that worker (a fresh interpreter that imports "
              "torch).", "",
              "| device | tasks | direct s | direct with memory tracker s | tasks' span s "
              "| span / direct | whole call s | whole call / direct |",
              "|---|---|---|---|---|---|---|---|"]
    for d in devices:
        lines += real_rows(d, args.repeats)
    lines += ["", "## Memory estimate against measurement", "",
              "Estimate from `estimate_memory` with each workload's model description; "
              "measured: bytes of live tensors at the peak (CPU tracker) or "
              "`torch.cuda.max_memory_allocated` (CUDA). Error = estimate / measured - 1.", "",
              "| device | workload | parameters | estimate MiB | measured MiB | error |",
              "|---|---|---|---|---|---|"]
    for d in devices:
        lines += memory_rows(d)
    lines += ["", f"Total run time {time.perf_counter() - started:.0f} s.", ""]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
