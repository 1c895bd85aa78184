"""How far is each heuristic from the optimum? Seeded random families at several sizes.

    python benchmarks/compare_heuristics.py                       # the full run (minutes)
    python benchmarks/compare_heuristics.py --sizes 10x3 --seeds 1 --out /tmp/r.md   # quick

For every instance it runs ``allocator.compare`` (the model under a time limit, its LP bound,
every heuristic, every plan verified) and records each method's makespan over the proven
optimum, or over the best proven bound where the model hit its limit (an upper estimate of the
true ratio). It writes a markdown report with the machine and date, and one plot.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import allocator  # noqa: E402
from allocator.objectives import infeasibility  # noqa: E402
from allocator.heuristics import HEURISTICS  # noqa: E402

GiB = 2 ** 30


def _pools(rng, m, spec):
    """Split m devices over pools drawn from spec [(kind, memory GiB, TFLOP/s), ...]."""
    k = min(len(spec), max(2, m // 4))
    counts = np.full(k, m // k)
    counts[: m % k] += 1
    return [{"name": f"{spec[j][0]}{j}", "kind": spec[j][0], "count": int(counts[j]),
             "memory": spec[j][1] * GiB, "throughput": spec[j][2] * rng.uniform(0.9, 1.1) * 1e12}
            for j in range(k) if counts[j] > 0]


FLEET = [("gpu", 80, 400), ("gpu", 40, 125), ("gpu", 16, 40), ("tpu", 32, 110),
         ("cpu", 512, 1.5), ("gpu", 24, 60), ("gpu", 48, 180), ("gpu", 80, 300)]


def uniform(rng, n, m):
    pools = _pools(rng, m, FLEET)
    tasks = [{"name": f"t{i}", "compute": rng.uniform(1, 10) * 1e17,
              "memory": rng.uniform(1, 14) * GiB} for i in range(n)]
    return pools, tasks, None


def dominant_gpu(rng, n, m):
    big = max(1, int(0.75 * m))
    pools = [{"name": "h100", "kind": "gpu", "count": big, "memory": 80 * GiB,
              "throughput": 400e12}]
    if m - big:
        pools.append({"name": "v100", "kind": "gpu", "count": m - big, "memory": 16 * GiB,
                      "throughput": 40e12})
    tasks = [{"name": f"t{i}", "compute": rng.uniform(1, 10) * 1e18,
              "memory": rng.uniform(2, 30) * GiB} for i in range(n)]
    return pools, tasks, None


def memory_tight(rng, n, m):
    pools = _pools(rng, m, FLEET)
    biggest = max(p["memory"] for p in pools) / GiB
    tasks = [{"name": f"t{i}", "compute": rng.uniform(1, 10) * 1e17,
              "memory": rng.uniform(0.5, 1.0) * biggest * GiB if rng.random() < 0.5
              else rng.uniform(1, 12) * GiB} for i in range(n)]
    return pools, tasks, None


def small_and_huge(rng, n, m):
    pools = _pools(rng, m, FLEET)
    huge = max(1, n // 20)
    tasks = [{"name": f"t{i}", "compute": (rng.uniform(20, 40) if i < huge else
                                           rng.uniform(0.1, 1)) * 1e17,
              "memory": rng.uniform(1, 14) * GiB} for i in range(n)]
    rng.shuffle(tasks)
    return pools, tasks, None


def unrelated(rng, n, m):
    pools, tasks, _ = uniform(rng, n, m)
    speeds = {t["name"]: {p["name"]: p["throughput"] * rng.choice([0.2, 0.5, 1, 1.5, 3])
                          for p in pools} for t in tasks}
    return pools, tasks, speeds


FAMILIES = {"uniform": uniform, "dominant_gpu": dominant_gpu, "memory_tight": memory_tight,
            "small_and_huge": small_and_huge, "unrelated": unrelated}


def instance(family: str, n: int, m: int, seed: int):
    rng = random.Random(zlib.crc32(f"{family}-{n}x{m}-{seed}".encode()))
    pools, tasks, speeds = FAMILIES[family](rng, n, m)
    doc = {"name": f"{family}-{n}x{m}-s{seed}", "pools": pools, "tasks": tasks}
    if speeds:
        doc["throughput"] = speeds
    return allocator.load(doc)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10x3,50x8,200x16,500x50")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--out", default="docs/heuristics-results.md")
    ap.add_argument("--plot", default="docs/heuristics-ratios.png")
    args = ap.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    families = args.families.split(",")
    ratios = defaultdict(list)            # (family, method) -> ratios
    proven = defaultdict(int)             # family -> instances with a proven optimum
    total = defaultdict(int)
    lines = []
    started = time.time()
    shipped = []
    root = Path(__file__).resolve().parent.parent / "problems"
    for path in [root / "cluster-mixed.yaml", *sorted((root / "small").glob("*.yaml"))]:
        problem = allocator.load(path, check=False)
        if problem.objective != "makespan" or infeasibility(problem, "makespan"):
            continue
        result = allocator.compare(problem, time_limit=args.time_limit)
        if result.row("optimal").status in ("optimal", "feasible"):
            shipped.append((path.relative_to(root.parent), result))
    for family in families:
        for n, m in sizes:
            for seed in range(args.seeds):
                problem = instance(family, n, m, seed)
                result = allocator.compare(problem, time_limit=args.time_limit)
                total[family] += 1
                if result.optimum is not None:
                    proven[family] += 1
                opt = result.row("optimal")
                if opt.ratio_to_bound is not None:
                    ratios[(family, "optimal")].append(opt.ratio_to_bound)
                for method in HEURISTICS:
                    r = result.row(method)
                    if r.ratio_to_bound is not None:
                        ratios[(family, method)].append(r.ratio_to_bound)
                best = result.best_heuristic()
                lines.append(f"{family:15s} {n:4d}x{m:<3d} seed {seed}: optimal {opt.status} "
                             f"x{_x(opt.ratio_to_bound)}, best heuristic {best.method} "
                             f"x{_x(best.ratio_to_bound)} ({time.time() - started:.0f}s)")
                print(lines[-1], flush=True)
    write_report(args, sizes, families, ratios, proven, total, time.time() - started, shipped)
    draw(args.plot, families, ratios)


def _x(v):
    return "-" if v is None else f"{v:.4f}"


def write_report(args, sizes, families, ratios, proven, total, seconds, shipped):
    methods = ["optimal", *HEURISTICS]
    out = ["# Heuristics against the optimum: results",
           "",
           f"Produced by `python benchmarks/compare_heuristics.py --sizes {args.sizes} "
           f"--seeds {args.seeds} --time-limit {args.time_limit:g}` on "
           f"{datetime.date.today().isoformat()}, {platform.machine()} with {os.cpu_count()} "
           f"cores, Python {platform.python_version()}, in {seconds:.0f} s.",
           "",
           "Each cell is mean / worst makespan ratio over the instances of the family. The "
           "reference is the proven optimum, or the best proven bound when the model hit its "
           "time limit, in which case the ratio overstates the true one. The `optimal` row "
           "is the model's own plan against its bound (1.000 when proven).",
           "",
           "| method | " + " | ".join(families) + " |",
           "|---|" + "---|" * len(families)]
    for method in methods:
        cells = []
        for family in families:
            r = ratios.get((family, method), [])
            cells.append(f"{np.mean(r):.3f} / {np.max(r):.3f}" if r else "-")
        out.append(f"| {method} | " + " | ".join(cells) + " |")
    out += ["", "Instances with a proven optimum: " + ", ".join(
        f"{f} {proven[f]}/{total[f]}" for f in families) + ".", "",
        f"![mean ratio per heuristic and family]({Path(args.plot).name})", "",
        "## Shipped problems", "",
        "Makespan over the optimum (or bound) for the shipped makespan problems.", "",
        "| problem | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for path, result in shipped:
        out.append(f"| `{path}` | " + " | ".join(
            _x(result.row(mth).ratio_to_bound) for mth in methods) + " |")
    out.append("")
    Path(args.out).write_text("\n".join(out), encoding="utf-8")


def draw(path, families, ratios):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    methods = list(HEURISTICS)
    fig, ax = plt.subplots(figsize=(13, 4.5))
    width = 0.8 / len(families)
    for k, family in enumerate(families):
        means = [np.mean(ratios[(family, mth)]) if ratios.get((family, mth)) else np.nan
                 for mth in methods]
        worst = [np.max(ratios[(family, mth)]) if ratios.get((family, mth)) else np.nan
                 for mth in methods]
        x = np.arange(len(methods)) + (k - (len(families) - 1) / 2) * width
        ax.bar(x, means, width, label=family)
        ax.scatter(x, worst, marker="_", color="black", s=40, zorder=3)
    ax.axhline(1.0, color="0.3", linewidth=0.8)
    ax.set_yscale("log")                   # a CPU-bound straggler can cost 100x; keep 1.01 visible
    ax.set_xticks(np.arange(len(methods)))
    ax.set_xticklabels(methods, rotation=25, ha="right")
    ax.set_ylabel("makespan / optimum (or bound), log scale")
    ax.set_title("mean ratio per heuristic and family (bars); worst instance (black ticks)")
    ax.legend(fontsize=8, ncol=len(families))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
