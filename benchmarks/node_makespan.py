"""Makespan on a cluster of nodes over time (the ``node_makespan`` objective): the time-slot
model's plan, bound and gap beside the list-schedule heuristics, on seeded random clusters
of growing size, in one run.

    python benchmarks/node_makespan.py [--time-limit 30] [--out docs/performance.md]

Each cluster: A100 nodes (8 GPUs) and T4 nodes (4 GPUs), half of each; tasks of 2-8 cores,
30% sharing one GPU (0.25 or 0.5), 60% asking 1, 2, 4 or 8 whole GPUs (a gang), the rest no
GPU; each task's time on an A100 node 1-6 h, twice that on a T4 node (none there for a gang
of 8). Every plan is checked by ``allocator.verify``. The results replace the "Over time"
section of the output file, with machine and date.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = [(12, 2), (24, 2), (48, 4)]          # tasks, nodes
METHODS = ("backfill", "lpt", "widest_first")


def cluster(tasks: int, nodes: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    groups = [{"name": "a100", "count": nodes // 2, "cpu": 64, "memory": "512Gi", "gpus": 8,
               "gpu_model": "A100"},
              {"name": "t4", "count": nodes - nodes // 2, "cpu": 32, "memory": "128Gi",
               "gpus": 4, "gpu_model": "T4"}]
    docs, times = [], {}
    for i in range(tasks):
        t = {"name": f"job{i}", "cpu": rng.choice([2, 4, 8]),
             "memory": rng.choice(["8Gi", "16Gi", "32Gi"])}
        kind = rng.random()
        if kind < 0.3:
            t["gpu_share"] = rng.choice([0.25, 0.5])
        elif kind < 0.9:
            t["gpus"] = rng.choice([1, 1, 2, 4, 8])
        docs.append(t)
        hours = rng.choice([1, 2, 3, 4, 6])
        times[t["name"]] = {"a100": f"{hours}h",
                            "t4": None if t.get("gpus", 0) > 4 else f"{2 * hours}h"}
    return {"name": f"random-{tasks}x{nodes}", "objective": "node_makespan", "nodes": groups,
            "tasks": docs, "time": times}


def run(tasks: int, nodes: int, time_limit: float) -> dict:
    import allocator
    problem = allocator.load(cluster(tasks, nodes))
    row = {"name": problem.name}
    for method in ("optimal", *METHODS):
        start = time.perf_counter()
        plan = allocator.solve(problem, method=method, time_limit=time_limit)
        seconds = time.perf_counter() - start
        wrong = allocator.verify(problem, plan)
        if wrong:
            raise AssertionError(f"{problem.name} {method}: {wrong[0]}")
        row[method] = (plan.objective / 3600.0, seconds)
        if method == "optimal":
            row["status"], row["bound"], row["gap"] = plan.status, plan.bound / 3600.0, plan.gap
    return row


def lines(rows: list[dict], time_limit: float) -> list[str]:
    out = ["## Over time", "",
           f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
           f"{platform.python_version()}; date "
           f"{date.today()}. Command: `python benchmarks/node_makespan.py --time-limit "
           f"{time_limit:g}` (seeded random clusters, see the script; every plan verified). "
           "Makespans in hours; the heuristics as ratios to the plan, in the same run.", "",
           "| cluster | status | makespan h | bound h | gap | s | " +
           " | ".join(METHODS) + " |", "|---|---|---|---|---|---|" + "---|" * len(METHODS)]
    for r in rows:
        value, seconds = r["optimal"]
        heur = [f"{r[m][0] / value:.3f} ({r[m][0]:g} h)" for m in METHODS]
        out.append(f"| {r['name']} | {r['status']} | {value:g} | {r['bound']:.3g} | "
                   f"{r['gap']:.1%} | {seconds:.1f} | " + " | ".join(heur) + " |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--out", default="docs/performance.md")
    args = ap.parse_args()
    from doc_section import write_section
    rows = []
    for tasks, nodes in SIZES:
        rows.append(run(tasks, nodes, args.time_limit))
        print(rows[-1], flush=True)
    write_section(Path(args.out), "node-makespan", lines(rows, args.time_limit))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
