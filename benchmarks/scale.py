"""How solve time and quality grow with the size of the fleet, per strategy and backend.

    python benchmarks/scale.py [--time-limit 20] [--gap 0.005] [--quick] [--out docs/performance.md]

Seeded families from ``allocator.synthetic`` at 50x8 ... 5,000x64, plus the Gavel/POP size
2,048 x 1,536 (three pools of 512) and 10,000 x 1,000 (twenty pools of 50). Each case runs in
its own process (peak memory is that process's maximum resident set), one case at a time. For
each: build and solve seconds, objective, bound, gap, peak memory; the PuLP-expression build of
the full model beside the vectorised one; and the strategy ``auto`` picks. Results, machine and
date go to docs/performance.md with a log-log plot of time against size.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = [(50, 8, None), (200, 16, None), (1000, 32, None), (5000, 64, None)]
BIG = [(2048, 1536, 3), (10000, 1000, 20)]
FULL_LIMIT = 400_000          # task x device pairs above which the full model is not run
REPEATS = 3                   # builds timed per case; the fastest of each kind is reported


def case(args):
    family, n, d, pools, strategy, backend, time_limit, gap = args
    import allocator
    from allocator.synthetic import fleet
    problem = fleet(family, n, d, seed=0, pools=pools)
    solver = "CBC" if backend == "pulp" else None
    start = time.perf_counter()
    plan = allocator.solve(problem, strategy=strategy, backend=backend, solver=solver,
                           time_limit=time_limit, mip_gap=gap, threads=os.cpu_count())
    wall = time.perf_counter() - start
    ok = allocator.verify(problem, plan) == [] if plan.status.has_plan else False
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # MiB on Linux
    return dict(family=family, size=f"{n}x{d}", n=n, d=d, pools=len(problem.pools),
                strategy=plan.strategy, asked=strategy, backend=backend, status=str(plan.status),
                objective=plan.objective, bound=plan.bound, gap=plan.gap,
                build=plan.build_seconds, solve=plan.solve_seconds, wall=wall, peak=peak,
                verified=ok, warm=plan.warm_start)


def build_times(args):
    """(vectorised build seconds, PuLP expression build seconds) of the full makespan model."""
    family, n, d, pools = args
    from allocator.backends import pulp_backend
    from allocator.formulations import makespan
    from allocator.synthetic import fleet
    problem = fleet(family, n, d, seed=0, pools=pools)
    problem.ptime
    vec, expr = [], []
    for _ in range(REPEATS):                       # the best of a few, as timeit does
        start = time.perf_counter()
        built = makespan.build(problem)
        vec.append(time.perf_counter() - start)
        start = time.perf_counter()
        pulp_backend._build(built.model)
        expr.append(time.perf_counter() - start)
    return min(vec), min(expr)


def isolated(fn, args):
    with mp.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(fn, (args,))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--gap", type=float, default=0.005)
    ap.add_argument("--quick", action="store_true", help="only the two smallest sizes")
    ap.add_argument("--out", default="docs/performance.md")
    args = ap.parse_args(argv)
    from allocator.solve import choose_strategy
    from allocator.synthetic import FAMILIES, fleet
    sizes = SIZES[:2] if args.quick else SIZES
    cases = [(f, n, d, p) for f in FAMILIES for n, d, p in sizes]
    if not args.quick:
        cases += [(f, n, d, p) for f in ("many_per_pool", "unrelated") for n, d, p in BIG]
    rows, builds = [], []
    for family, n, d, pools in cases:
        auto = choose_strategy(fleet(family, n, d, pools=pools), "makespan")
        runs = []
        if n * d <= FULL_LIMIT:
            runs.append(("full", "highs"))
            if family == "unrelated" and n * d <= 32_000:
                runs += [("full", "scipy"), ("full", "pulp")]
        runs.append(("aggregated", "highs"))
        if n >= 1000:
            runs.append(("decomposed", "highs"))
        for strategy, backend in runs:
            r = isolated(case, (family, n, d, pools, strategy, backend, args.time_limit,
                                args.gap))
            r["auto"] = strategy == auto and backend == "highs"
            rows.append(r)
            print(f"{family:>14} {r['size']:>11} {strategy:>10} {backend:>5} {r['status']:>9} "
                  f"gap={_pct(r['gap'])} build={r['build']:.3f}s solve={r['solve']:.2f}s "
                  f"peak={r['peak']:.0f}MiB{'  <- auto' if r['auto'] else ''}", flush=True)
        if n * d <= FULL_LIMIT:
            vec, expr = isolated(build_times, (family, n, d, pools))
            builds.append(dict(family=family, size=f"{n}x{d}", vec=vec, expr=expr))
            print(f"{'':>14} build: vectorised {vec:.4f}s, PuLP expressions {expr:.3f}s "
                  f"({expr / vec:.0f}x)", flush=True)
    write(rows, builds, args)
    return 0


def _pct(v):
    return "–" if v is None else f"{v:.2%}"


def write(rows, builds, args) -> None:
    import highspy
    out = Path(args.out)
    lines = [
        "# Performance: time and quality against size",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, highspy {highspy.Highs().version()}; date {date.today()}.",
        f"Command: `python benchmarks/scale.py --time-limit {args.time_limit:g} --gap "
        f"{args.gap:g}{' --quick' if args.quick else ''}` (seed 0 for every family; each case in "
        "its own process, one at a time; solver threads = cores).",
        "",
        "Columns: *strategy* as run (`auto` marks the one `solve()` picks by itself), *gap* = "
        "(objective − bound) / objective with the bound proven for the whole problem, "
        "*build* = building the LinearModel, *solve* = quick heuristics + solver + LP bound, "
        "*peak* = the process's maximum resident memory. `feasible` = stopped at the time "
        "limit (or, for aggregated and decomposed plans, solved but not proven within the gap).",
        "",
        "| family | size | pools | strategy | auto | backend | status | objective | bound | gap "
        "| build s | solve s | peak MiB | warm start | verified |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['family']} | {r['size']} | {r['pools']} | {r['asked']} | "
            f"{'**auto**' if r['auto'] else ''} | {r['backend']} | {r['status']} | "
            f"{_g(r['objective'])} | {_g(r['bound'])} | {_pct(r['gap'])} | {r['build']:.3f} | "
            f"{r['solve']:.2f} | {r['peak']:.0f} | {r['warm'] or '–'} | "
            f"{'yes' if r['verified'] else 'no'} |")
    lines += ["", "## Building the model: vectorised against PuLP expressions", "",
              "The full makespan model, built by the formulation (numpy + scipy.sparse) and then "
              "handed to PuLP row by row as the `pulp` backend does; each timed "
              f"{REPEATS} times in one process, the fastest of each kept.", "",
              "| family | size | vectorised s | PuLP expressions s | ratio |",
              "|---|---|---|---|---|"]
    for b in builds:
        lines.append(f"| {b['family']} | {b['size']} | {b['vec']:.4f} | {b['expr']:.3f} | "
                     f"{b['expr'] / b['vec']:.0f}× |")
    figure = out.with_name("performance.png")
    plot(rows, figure)
    lines += ["", f"![solve time against size]({figure.name})", ""]
    marker = "<!-- results above are generated by benchmarks/scale.py -->"
    notes = out.read_text().split(marker, 1)[1] if out.exists() and marker in out.read_text() \
        else "\n"
    out.write_text("\n".join(lines) + "\n" + marker + notes, encoding="utf-8")
    print(f"wrote {out} and {figure}")


def _g(v):
    return "–" if v is None else f"{v:.6g}"


def plot(rows, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for family in sorted({r["family"] for r in rows}):
        pts = sorted((r["n"] * r["d"], r["build"] + r["solve"]) for r in rows
                     if r["family"] == family and r["auto"])
        if pts:
            ax.plot(*zip(*pts), marker="o", label=f"{family} (auto)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tasks × devices")
    ax.set_ylabel("seconds (build + solve)")
    ax.set_title("allocator.solve, automatic strategy")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
