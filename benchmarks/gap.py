"""Solve the public generalized-assignment instances and compare with their published values.

    python benchmarks/gap.py [--time-limit 60] [--groups gap1,...] [--backends highs,scipy,pulp]
                             [--workers 2] [--instances d801600,...] [--out docs/benchmarks-gap.md]

Reads the instances from ../shared/benchmarks (or ALLOCATOR_BENCHMARKS); exits with a message
where they are absent. OR-Library gap1-gap12 (both senses) and gapa-gapc run on every backend
named; gapd and the Yagiura C/D/E sets (the hard ones) on the first backend only. Each solve is
one thread, ``--workers`` at a time.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import allocator  # noqa: E402
from allocator.io import orlib as gap  # noqa: E402

EASY = [f"gap{k}" for k in range(1, 13)] + ["gapa", "gapb", "gapc"]
HARD = ["yagiura-c", "yagiura-d", "yagiura-e"]   # yagiura-d holds gapd's six instances


def run_one(inst, sense, backend, time_limit, known):
    problem = gap.to_problem(inst, sense)
    solver = "CBC" if backend == "pulp" else None
    start = time.perf_counter()
    plan = allocator.solve(problem, backend=backend, solver=solver, time_limit=time_limit,
                           threads=1, lp_bound=False)
    seconds = time.perf_counter() - start
    ok = allocator.verify(problem, plan) == [] if plan.status.has_plan else False
    kv = known.get((inst.name, sense))
    ours = plan.objective
    off = None
    if kv is not None and ours is not None:
        off = (ours - kv.value) / kv.value if sense == "min" else (kv.value - ours) / kv.value
    return dict(instance=inst.name, size=f"{inst.agents}x{inst.jobs}", sense=sense,
                backend=backend, published=kv.value if kv else None,
                proven=kv.optimal if kv else None, ours=ours, status=str(plan.status),
                bound=plan.bound, off=off, seconds=seconds, verified=ok)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--groups", default=",".join(EASY + HARD))
    ap.add_argument("--backends", default="highs,scipy,pulp")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--instances", default=None,
                    help="only these instance names (comma-separated) from the groups")
    ap.add_argument("--out", default="docs/benchmarks-gap.md")
    args = ap.parse_args(argv)
    root = gap.benchmark_root()
    if root is None:
        print("the GAP instances are absent (../shared/benchmarks); set ALLOCATOR_BENCHMARKS")
        return 1
    known = gap.known_values(root)
    backends = args.backends.split(",")
    jobs = []
    for group in args.groups.split(","):
        senses = ("min", "max") if group[3:].isdigit() else ("min",)
        for inst in gap.instances(group, root):
            if args.instances and inst.name not in args.instances.split(","):
                continue
            for sense in senses:
                for backend in (backends if group in EASY else backends[:1]):
                    jobs.append((group, inst, sense, backend))
    print(f"{len(jobs)} solves, {args.workers} at a time, {args.time_limit:g}s limit each")
    with ThreadPoolExecutor(args.workers) as pool:
        rows = list(pool.map(lambda j: dict(group=j[0], **run_one(j[1], j[2], j[3],
                                                                  args.time_limit, known)),
                             jobs))
    for r in rows:
        print(f"{r['instance']:>10} {r['sense']} {r['backend']:>6} {r['status']:>9} "
              f"ours={r['ours']} published={r['published']} {r['seconds']:.2f}s")
    write(rows, args, Path(args.out))
    return 0


def _fmt(v, spec):
    return "–" if v is None else format(v, spec)


def write(rows, args, out: Path) -> None:
    lines = [
        "# Generalized assignment: published values reproduced",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}, "
        f"highspy {__import__('highspy').Highs().version()}; date {date.today()}.",
        f"Command: `python benchmarks/gap.py --time-limit {args.time_limit:g} --groups "
        f"{args.groups} --backends {args.backends} --workers {args.workers}"
        + (f" --instances {args.instances}" if args.instances else "") + "`.",
        "",
        "Every instance is read from `../shared/benchmarks` at run time and solved as the `cost` "
        "objective (agents → one-device pools with a horizon, jobs → tasks with per-pool time "
        "and cost), one thread per solve, with the time limit above and the default "
        "relative gap 1e-6; every plan is checked by `verify`. *off* is how far ours is from "
        "the published value in the worse direction (0 = equal; negative would beat it). "
        "*published* is optimal where proven, else the best known.",
        "",
    ]
    summary = {}
    for r in rows:
        key = (r["group"], r["sense"], r["backend"])
        s = summary.setdefault(key, [0, 0, 0, 0.0, 0.0])
        s[0] += 1
        s[1] += r["off"] is not None and abs(r["off"]) < 1e-9
        s[2] += r["off"] is not None and r["off"] <= 0.005
        s[3] = max(s[3], r["off"] if r["off"] is not None else float("inf"))
        s[4] = max(s[4], r["seconds"])
    lines += ["## Summary", "",
              "| group | sense | backend | instances | equal to published | within 0.5% | "
              "worst off | slowest s |", "|---|---|---|---|---|---|---|---|"]
    for (g, sense, b), s in summary.items():
        lines.append(f"| {g} | {sense} | {b} | {s[0]} | {s[1]} | {s[2]} | {s[3]:.3%} | "
                     f"{s[4]:.1f} |")
    lines += ["", "## Every solve", "",
              "| instance | m×n | sense | backend | published | proven | ours | status | "
              "bound | off | seconds | verified |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['instance']} | {r['size']} | {r['sense']} | {r['backend']} | "
                     f"{_fmt(r['published'], 'g')} | {'yes' if r['proven'] else 'no'} | "
                     f"{_fmt(r['ours'], 'g')} | {r['status']} | {_fmt(r['bound'], '.6g')} | "
                     f"{_fmt(r['off'], '.3%')} | {r['seconds']:.2f} | "
                     f"{'yes' if r['verified'] else 'NO'} |")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main())
