"""Placement on the Alibaba GPU trace v2023 and on inflated workloads: the exact strategy's
placed demand, bound, gap, time and memory beside every placement heuristic, in one run;
and each plan's GPU fragmentation (FGD's measure) beside the fragmentation objective's.

    python benchmarks/clusters.py [--time-limit 60] [--quick] [--out docs/performance.md]

Workloads: the trace's ``default`` and ``gpuspec33`` pod lists on its 1,523 nodes, and
inflated lists in the FGD paper's style (``allocator.io.inflated``: resampled with seed 0 to
0.9, 1.1 and 1.3 x the cluster's GPUs, one with shares drawn twice as often and one with
gangs five times as often). Each workload runs in its own process (peak memory is that
process's maximum resident set), one at a time. Needs ../shared/benchmarks/traces/
alibaba-gpu-v2023 (or ALLOCATOR_BENCHMARKS); without it the script says so and stops.
The results replace the "Clusters" section of the output file, with machine and date.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import re
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

INFLATED = [(0.9, 1.0, 1.0), (1.1, 1.0, 1.0), (1.3, 1.0, 1.0), (1.1, 2.0, 1.0),
            (1.1, 1.0, 5.0)]


def trace() -> Path | None:
    from allocator.io.orlib import benchmark_root
    root = benchmark_root()
    folder = None if root is None else root / "traces" / "alibaba-gpu-v2023"
    return folder if folder is not None and folder.is_dir() else None


def workload(name: str):
    import allocator
    from allocator.io.alibaba import import_alibaba
    from allocator.io.inflated import inflate
    folder = trace()
    pods = "gpuspec33" if name == "gpuspec33" else "default"
    problem = allocator.load(import_alibaba(folder / "openb_node_list_all_node.csv",
                                            folder / f"openb_pod_list_{pods}.csv"))
    if name.startswith("x"):
        demand, share, gang = INFLATED[int(name[1:])]
        problem = inflate(problem, demand, seed=0, share_weight=share, gang_weight=gang)
    return problem


def run(args):
    name, time_limit = args
    import allocator
    from allocator.heuristics import PLACEMENT_HEURISTICS
    problem = workload(name)
    start = time.perf_counter()
    plan = allocator.solve(problem, time_limit=time_limit)
    wall = time.perf_counter() - start
    assert allocator.verify(problem, plan) == [], allocator.verify(problem, plan)[:3]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    heuristics, stranded = {}, {"packing": allocator.evaluate(problem, plan).fragmentation}
    for method in PLACEMENT_HEURISTICS:
        start = time.perf_counter()
        h = allocator.solve(problem, method=method)
        assert allocator.verify(problem, h) == []
        heuristics[method] = (h.objective, time.perf_counter() - start)
        stranded[method] = allocator.evaluate(problem, h).fragmentation
    start = time.perf_counter()
    second = allocator.solve(problem, objective="fragmentation", time_limit=time_limit)
    second_wall = time.perf_counter() - start
    assert allocator.verify(problem, second) == []
    stranded["fragmentation"] = allocator.evaluate(problem, second).fragmentation
    gpus = problem.gpu_count
    return dict(name=problem.name, tasks=len(problem.tasks),
                asked=sum(t.gpu_demand for t in problem.tasks), gpus=gpus,
                strategy=plan.strategy, status=str(plan.status), objective=plan.objective,
                bound=plan.bound, gap=plan.gap, wall=wall, peak=peak, heuristics=heuristics,
                stranded=stranded, second=(second.objective, second_wall))


def table(rows: list[dict]) -> str:
    from allocator.heuristics import PLACEMENT_HEURISTICS
    head = ("| workload | tasks | GPUs asked / cluster | strategy | status | placed GPUs | "
            "bound | gap | wall s | peak MiB |\n|---|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r['name']} | {r['tasks']:,} | {r['asked']:,.1f} / {r['gpus']:,} | {r['strategy']} "
        f"| {r['status']} | {r['objective']:,.2f} | "
        f"{'-' if r['bound'] is None else format(r['bound'], ',.2f')} | "
        f"{'-' if r['gap'] is None else format(r['gap'], '.2%')} | {r['wall']:.1f} | "
        f"{r['peak']:,.0f} |\n" for r in rows)
    heads = " | ".join(PLACEMENT_HEURISTICS)
    second = (f"\nEach heuristic's placed GPUs as a ratio to the plan above (and seconds):\n\n"
              f"| workload | {heads} |\n|---|{'---|' * len(PLACEMENT_HEURISTICS)}\n")
    for r in rows:
        cells = [f"{v / r['objective']:.4f} ({v:,.1f}; {s:.1f} s)"
                 for v, s in (r["heuristics"][m] for m in PLACEMENT_HEURISTICS)]
        second += f"| {r['name']} | " + " | ".join(cells) + " |\n"
    return head + body + second + _fragmentation_table(rows)


def _fragmentation_table(rows: list[dict]) -> str:
    """Each plan's fragmentation (FGD's measure, GPUs), the fragmentation objective's first."""
    from allocator.heuristics import PLACEMENT_HEURISTICS
    out = ("\nGPUs fragmented (FGD's measure summed over the nodes: free GPU capacity the "
           "workload's tasks could not use; lower is better) by each plan. `fragmentation` is "
           "the objective of that name (the placed GPUs as `packing`, then the least "
           "fragmentation; its placed GPUs and wall seconds in brackets); `packing` the plan "
           "above:\n\n| workload | fragmentation | packing | "
           + " | ".join(PLACEMENT_HEURISTICS) + " |\n|---|---|---|"
           + "---|" * len(PLACEMENT_HEURISTICS) + "\n")
    for r in rows:
        placed, wall = r["second"]
        f = r["stranded"]
        out += (f"| {r['name']} | {f['fragmentation']:,.1f} ({placed:,.1f}; {wall:.1f} s) | "
                + " | ".join(f"{f[m]:,.1f}" for m in ("packing",) + tuple(PLACEMENT_HEURISTICS))
                + " |\n")
    return out


def write(out: Path, rows: list[dict], time_limit: float) -> None:
    from importlib.metadata import version
    section = (f"## Clusters\n\nMachine: {platform.machine()}, {mp.cpu_count()} cores, Python "
               f"{platform.python_version()}, highspy {version('highspy')}; date {date.today()}.\n"
               f"Command: `python benchmarks/clusters.py --time-limit {time_limit:g}` (each "
               f"workload in its own process; the plan by `solve(time_limit=...)`, strategy "
               f"auto; every plan verified).\n\n" + table(rows) + "\n")
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    pattern = re.compile(r"## Clusters\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip("\n") + "\n", text) if pattern.search(text) \
        else text.rstrip("\n") + "\n\n" + section
    out.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="the two trace workloads only")
    ap.add_argument("--out", default="docs/performance.md")
    args = ap.parse_args()
    if trace() is None:
        print("the shared Alibaba trace is absent (../shared/benchmarks/traces/"
              "alibaba-gpu-v2023, or set ALLOCATOR_BENCHMARKS); nothing to run")
        return
    names = ["default", "gpuspec33"] + ([] if args.quick else
                                        [f"x{k}" for k in range(len(INFLATED))])
    rows = []
    ctx = mp.get_context("spawn")
    for name in names:
        with ctx.Pool(1) as pool:
            row = pool.apply(run, ((name, args.time_limit),))
        rows.append(row)
        print(f"{row['name']}: {row['status']} {row['objective']:.2f} bound {row['bound']} "
              f"in {row['wall']:.1f}s", flush=True)
    write(Path(args.out), rows, args.time_limit)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
