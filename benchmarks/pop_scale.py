"""Gavel's max-min fairness LP with space sharing at POP's scale: our class LP (HiGHS through
the project's backend) against Gavel's job-pair formulation in cvxpy, on the same instances.

    python benchmarks/pop_scale.py [--sizes 32 64 128 256 2048] [--cvxpy-limit 900]
                                   [--out docs/online.md]

Instances as POP's (SOSP '21) and Gavel's runtime sweeps build them: N single-GPU jobs, each of
one of Gavel's job types drawn uniformly (seed 0), N/4 GPUs of each of V100, P100 and K80,
every pair of jobs allowed to share a GPU at Gavel's measured pair throughputs
(``simulation_throughputs.json``). At N = 2,048: 1,536 GPUs, 2,096,128 job pairs.

For each N it times (a) ``allocator.online.policies.space_sharing.max_min_packed`` (the model
built and solved), checks its solution spread back over every job and job pair against the
job-pair LP's constraints, and (b) where cvxpy is installed, Gavel's formulation written as
Gavel's ``MaxMinFairnessPolicyWithPacking`` writes it (a variable per job and per job pair on
each GPU type), solved with ECOS as Gavel does, in a process of its own stopped after
``--cvxpy-limit`` seconds. cvxpy is not a dependency of the project: install it (``pip install
cvxpy ecos``) to run (b). The results replace the "POP scale" section of the output page.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.doc_section import machine, write_section  # noqa: E402

POOLS = ("v100", "p100", "k80")


def instance(n: int, seed: int = 0):
    """(rate[job, pool], kind[job], pair_rate[pool, kind, kind, 2], counts)."""
    from allocator.io.orlib import benchmark_root
    path = benchmark_root() / "traces" / "gavel" / "simulation_throughputs.json"
    table = json.loads(path.read_text())
    kinds = sorted(k for k in table["v100"] if k.endswith(", 1)"))
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, len(kinds), n)
    base = np.array([[table[p][k]["null"] for p in POOLS] for k in kinds])
    pair = np.zeros((len(POOLS), len(kinds), len(kinds), 2))
    for t, p in enumerate(POOLS):
        for a, ka in enumerate(kinds):
            for b, kb in enumerate(kinds):
                value = table[p][ka].get(kb)
                if isinstance(value, list) and min(value) > 0:
                    pair[t, a, b] = value
    return base[kind], kind, pair, np.full(len(POOLS), n // 4)


def ours(n: int) -> dict:
    from allocator.online.policies.space_sharing import job_allocation, max_min_packed
    rate, kind, pair, counts = instance(n)
    gang, weight = np.ones(n, dtype=np.int64), np.ones(n)
    start = time.perf_counter()
    solution = max_min_packed(rate, gang, weight, counts, kind, pair)
    seconds = time.perf_counter() - start
    ia, ib = np.triu_indices(n, 1)
    alone, shared = job_allocation(solution, ia, ib)
    busy = shared.sum(axis=1)
    job_time = alone.sum(axis=1) + np.bincount(ia, busy, n) + np.bincount(ib, busy, n)
    equal = (rate * counts).sum(axis=1) / counts.sum()
    both = pair[:, kind[ia], kind[ib]]                               # [pool, pair, 2]
    value = (alone * rate).sum(axis=1) \
        + np.bincount(ia, (shared * both[:, :, 0].T).sum(axis=1), n) \
        + np.bincount(ib, (shared * both[:, :, 1].T).sum(axis=1), n)
    value /= equal
    use = alone.sum(axis=0) + shared.sum(axis=0)
    return {"seconds": seconds, "value": solution.value, "pairs": len(ia),
            "classes": len(solution.size), "lp_seconds": solution.seconds,
            "check_value": float(value.min()), "max_job_time": float(job_time.max()),
            "max_use": float((use / counts).max())}


def gavel_cvxpy(n: int, queue) -> None:
    """Gavel's job-pair formulation in cvxpy (as policies/max_min_fairness.py writes it),
    solved with ECOS; puts (seconds, value) on ``queue``."""
    import cvxpy as cp
    import scipy.sparse as sp
    start = time.perf_counter()
    rate, kind, pair, counts = instance(n)
    T = len(POOLS)
    ia, ib = np.triu_indices(n, 1)
    m = n + len(ia)
    equal = (rate * counts).sum(axis=1) / counts.sum()
    both = pair[:, kind[ia], kind[ib]]
    cols = np.arange(m * T).reshape(m, T)
    value = sp.csr_matrix((np.r_[(rate / equal[:, None]).ravel(),
                                 (both[:, :, 0].T / equal[ia, None]).ravel(),
                                 (both[:, :, 1].T / equal[ib, None]).ravel()],
                           (np.r_[np.repeat(np.arange(n), T), np.repeat(ia, T), np.repeat(ib, T)],
                            np.r_[cols[:n].ravel(), cols[n:].ravel(), cols[n:].ravel()])),
                          shape=(n, m * T))
    busy = sp.csr_matrix((np.ones(n * T + 2 * len(ia) * T),
                          (np.r_[np.repeat(np.arange(n), T), np.repeat(ia, T), np.repeat(ib, T)],
                           np.r_[cols[:n].ravel(), cols[n:].ravel(), cols[n:].ravel()])),
                         shape=(n, m * T))
    use = sp.csr_matrix((np.ones(m * T), (np.tile(np.arange(T), m), cols.ravel())),
                        shape=(T, m * T))
    x = cp.Variable(m * T)
    banned = np.flatnonzero(np.r_[(rate <= 0).ravel(), ((both <= 0).any(axis=2).T).ravel()])
    constraints = [x >= 0, busy @ x <= 1, use @ x <= counts]
    if len(banned):
        constraints.append(x[banned] == 0)
    problem = cp.Problem(cp.Maximize(cp.min(value @ x)), constraints)
    problem.solve(solver="ECOS")
    queue.put((time.perf_counter() - start, float(problem.value), problem.status))


def reference(n: int, limit: float) -> dict | None:
    import importlib.util
    if importlib.util.find_spec("cvxpy") is None:
        return None
    queue = mp.get_context("spawn").Queue()
    process = mp.get_context("spawn").Process(target=gavel_cvxpy, args=(n, queue))
    start = time.perf_counter()
    process.start()
    process.join(limit)
    if process.is_alive():
        process.kill()
        process.join()
        return {"seconds": None, "limit": limit}
    if queue.empty():
        return {"seconds": None, "failed": True, "wall": time.perf_counter() - start}
    seconds, value, status = queue.get()
    return {"seconds": seconds, "value": value, "status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256, 2048])
    parser.add_argument("--cvxpy-limit", type=float, default=900.0)
    parser.add_argument("--out", type=Path, default=Path("docs/online.md"))
    args = parser.parse_args()
    from allocator.io.orlib import benchmark_root
    if benchmark_root() is None or not (benchmark_root() / "traces" / "gavel").is_dir():
        print("../shared/benchmarks/traces/gavel is absent; nothing to measure")
        return
    rows = []
    for n in args.sizes:
        mine = ours(n)
        theirs = reference(n, args.cvxpy_limit)
        if theirs is None:
            their_text, ratio, gap = "cvxpy not installed", "—", "—"
        elif theirs["seconds"] is None:
            their_text = ("stopped after " + f"{theirs['limit']:.0f} s" if "limit" in theirs
                          else "failed (out of memory?)")
            ratio = f"> {theirs['limit'] / mine['seconds']:,.0f}x" if "limit" in theirs else "—"
            gap = "—"
        else:
            their_text = f"{theirs['seconds']:.2f} ({theirs['status']})"
            ratio = f"{theirs['seconds'] / mine['seconds']:,.0f}x"
            gap = f"{abs(theirs['value'] - mine['value']) / mine['value']:.1e}"
        rows.append(f"| {n:,} | {n // 4 * 3:,} | {mine['pairs']:,} | {mine['classes']} | "
                    f"{mine['seconds']:.3f} | {mine['value']:.6f} | {mine['check_value']:.6f} | "
                    f"{mine['max_job_time']:.6f} | {mine['max_use']:.6f} | {their_text} | "
                    f"{ratio} | {gap} |")
        print(rows[-1], flush=True)
    lines = [f"Measured {date.today().isoformat()} on {machine()}, "
             "`python benchmarks/pop_scale.py`.", "",
             "| jobs | GPUs | job pairs | classes | ours s | ours: min normalised throughput "
             "| the same, spread over jobs | largest job time | largest pool use "
             "| Gavel's formulation, cvxpy + ECOS, s | faster | value difference |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|", *rows]
    write_section(args.out, "pop-scale", lines)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
