"""Run Gavel's own simulator once and print its result and wall time as one JSON line.

    PYTHON benchmarks/gavel_simulate.py GAVEL POLICY V:P:K RATE FIRST END [--multi]

Run by ``benchmarks/gavel_wall.py`` with a Python that has Gavel's solver stack (cvxpy, ECOS,
numpy, scipy, psutil); it does not import allocator. GAVEL: a checkout of
github.com/stanford-futuredata/gavel (commit c4fa400, MIT licence). RATE: jobs per hour (0: a
static trace of END jobs at t = 0, ``--multi`` for multi-GPU jobs); FIRST, END: the measured
job ids. Gavel's simulator is driven as its ``simulate_scheduler_with_generated_jobs.py``
drives it (seed 0, rounds of 360 s, ECOS), with two changes that do not touch what it
computes: the modules it imports for its real cluster (gRPC stubs, matrix completion) are
empty stand-ins, and its job table is put back in the order of the paper's runs (May 2020),
so that its generator draws exactly the shared job lists. The wall time is its
``simulate()`` call alone, as in the job lists' results.csv.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
import types

# Gavel's job table before it moved A3C (its commit 19a0dd2, August 2020): the order its
# generator indexes, so the order that gives the paper's (and the shared lists') job types
MAY2020 = [
    "ResNet-18 (batch size 16)", "ResNet-18 (batch size 32)", "ResNet-18 (batch size 64)",
    "ResNet-18 (batch size 128)", "ResNet-18 (batch size 256)", "ResNet-50 (batch size 16)",
    "ResNet-50 (batch size 32)", "ResNet-50 (batch size 64)", "ResNet-50 (batch size 128)",
    "Transformer (batch size 16)", "Transformer (batch size 32)",
    "Transformer (batch size 64)", "Transformer (batch size 128)",
    "Transformer (batch size 256)", "A3C", "LM (batch size 5)", "LM (batch size 10)",
    "LM (batch size 20)", "LM (batch size 40)", "LM (batch size 80)",
    "Recommendation (batch size 512)", "Recommendation (batch size 1024)",
    "Recommendation (batch size 2048)", "Recommendation (batch size 4096)",
    "Recommendation (batch size 8192)", "CycleGAN",
]


def stand_ins() -> None:
    """Empty modules for what Gavel imports only to drive a real cluster."""
    sys.modules["matrix_completion"] = types.ModuleType("matrix_completion")
    runtime, rpc = types.ModuleType("runtime"), types.ModuleType("runtime.rpc")
    runtime.__path__, runtime.rpc = [], rpc
    for name in ("scheduler_server", "scheduler_client"):
        setattr(rpc, name, types.ModuleType(f"runtime.rpc.{name}"))
        sys.modules[f"runtime.rpc.{name}"] = getattr(rpc, name)
    sys.modules["runtime"], sys.modules["runtime.rpc"] = runtime, rpc


def main() -> None:
    gavel, policy_name, cluster, rate, first, end = sys.argv[1:7]
    multi = "--multi" in sys.argv[7:]
    folder = os.path.join(os.path.abspath(gavel), "scheduler")
    sys.path.insert(0, folder)
    os.chdir(folder)                           # Gavel opens its data files relative to here
    stand_ins()
    import job_table
    if sorted(t.model for t in job_table.JobTable) != sorted(MAY2020):
        raise SystemExit("this Gavel's job table is not the one of commit c4fa400")
    job_table.JobTable.sort(key=lambda t: MAY2020.index(t.model))
    import scheduler
    import utils
    from job_id_pair import JobIdPair

    v, p, k = (int(x) for x in cluster.split(":"))
    rate, first, end = float(rate), int(first), int(end)
    window = {JobIdPair(i, None) for i in range(first, end)}
    chatter = io.StringIO()        # its log and prints (the log handler is made with it)
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
        policy = utils.get_policy(policy_name, solver="ECOS", seed=0)
        sched = scheduler.Scheduler(policy, throughputs_file="simulation_throughputs.json",
                                    seed=0, time_per_iteration=360, simulate=True)
        start = time.perf_counter()
        sched.simulate({"v100": v, "p100": p, "k80": k}, lam=3600.0 / rate if rate else 0.0,
                       jobs_to_complete=window, fixed_job_duration=None,
                       generate_multi_gpu_jobs=multi, generate_multi_priority_jobs=False,
                       simulate_steady_state=False, num_total_jobs=None if rate else end,
                       debug=False, checkpoint_threshold=None, checkpoint_file=None,
                       num_gpus_per_server={"v100": 1, "p100": 1, "k80": 1})
        wall = time.perf_counter() - start
        jct = sched.get_average_jct(window)
    print(json.dumps({"policy": policy_name, "wall_s": wall, "mean_jct_h": jct / 3600,
                      "makespan_h": sched.get_current_timestamp() / 3600}))


if __name__ == "__main__":
    main()
