"""Time limits honoured end to end on a cost problem of ten million task-device pairs.

The problem is made from the shared Alibaba GPU trace v2023 (``../shared/benchmarks/traces/
alibaba-gpu-v2023``; skipped cleanly where absent) the simplest way: every node is one
device (a pool of count 1), every pod a single-resource task.

- memory: the pod's `memory_mib` against the node's; pods that ask for GPUs may use GPU nodes
  only (`allowed_kinds: [gpu]`);
- work: the pod's run time (`deletion_time - scheduled_time`, at least 60 s, at most its
  first day) times its CPU cores, at 1 GFLOP/s per core; a node runs it at 1 GFLOP/s per core
  of its own, so a pod's time on a node is its run time scaled by cores asked / cores there;
- price per device-hour: 0.04 per core + 1.2 per GPU of the node (cloud-like), so the cost
  objective is a generalized assignment over 1,523 devices;
- horizon: the same on every device, 1.25 x the total work spread evenly (or room for the
  longest pod on its fastest node, if more), so capacity binds.

Each run is a fresh process (``allocator solve FILE --objective cost --time-limit T --json``
through the installed command), timed from outside, with its peak memory (ru_maxrss), and
its plan checked by ``allocator verify`` in another process. Results go between the
time-limit markers of docs/performance.md.

    python benchmarks/time_limit.py                 # --limits 60: about 2 min on 2 cores
    python benchmarks/time_limit.py --limits 30,60
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from doc_section import write_section  # benchmarks/, beside this script

ROOT = Path(__file__).resolve().parent.parent
TRACE = ROOT.parent / "shared" / "benchmarks" / "traces" / "alibaba-gpu-v2023"
DOC = ROOT / "docs" / "performance.md"
DAY = 86_400.0


def trace_problem(trace: Path = TRACE) -> dict:
    """The cost problem described above, as a document of the problem format."""
    with open(trace / "openb_node_list_all_node.csv", newline="") as f:
        nodes = list(csv.DictReader(f))
    with open(trace / "openb_pod_list_default.csv", newline="") as f:
        pods = list(csv.DictReader(f))
    pools = []
    for n in nodes:
        cores, gpus = int(n["cpu_milli"]) / 1000, int(n["gpu"])
        pools.append({"name": n["sn"], "kind": "gpu" if gpus else "cpu", "count": 1,
                      "memory": f"{n['memory_mib']}MiB", "throughput": cores * 1e9,
                      "cost_per_hour": round(0.04 * cores + 1.2 * gpus, 4)})
    tasks, work, longest = [], 0.0, 0.0
    node_cores = [(int(n["cpu_milli"]) / 1000, int(n["memory_mib"]), int(n["gpu"]) > 0)
                  for n in nodes]
    for p in pods:
        start = p["scheduled_time"] or p["creation_time"]
        seconds = min(DAY, max(60.0, float(p["deletion_time"]) - float(start)))
        cores, memory = max(int(p["cpu_milli"]), 1) / 1000, max(int(p["memory_mib"]), 1)
        gpu = int(p["num_gpu"]) > 0
        task = {"name": p["name"], "compute": seconds * cores * 1e9, "memory": f"{memory}MiB"}
        if gpu:
            task["allowed_kinds"] = ["gpu"]
        tasks.append(task)
        work += seconds * cores
        fastest = max(c for c, m, g in node_cores if m >= memory and (g or not gpu))
        longest = max(longest, seconds * cores / fastest)
    total_cores = sum(c for c, _, _ in node_cores)
    # The same horizon on every device: 1.25 x the work spread evenly, and room for the
    # longest pod on its fastest node.
    horizon = max(1.25 * work / total_cores, 1.05 * longest)
    return {"name": "alibaba-v2023-cost", "objective": "cost", "horizon": horizon,
            "description": "Alibaba GPU trace v2023: every node one device, every pod a "
                           "single-resource task (benchmarks/time_limit.py)",
            "pools": pools, "tasks": tasks}


def run(command: list[str], limit: float) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run ``command``; its result, wall seconds and peak resident bytes."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(command, child.returncode,
                                           out.read().decode(), err.read().decode())
    return done, seconds, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", default="60", help="comma-separated time limits (s)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if not TRACE.exists():
        print(f"skipped: the trace is not at {TRACE}")
        return
    command = str(Path(sys.executable).parent / "allocator")
    doc = trace_problem()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        problem_file = Path(folder) / "alibaba-cost.yaml"
        problem_file.write_text(yaml.safe_dump(doc, sort_keys=False))
        import allocator
        problem = allocator.load(problem_file)
        pairs = int(problem.eligible[:, problem.device_pool].sum())
        print(f"{len(problem.tasks):,} tasks x {len(problem.devices):,} devices: "
              f"{pairs:,} eligible pairs", flush=True)
        del problem
        for limit in (float(x) for x in args.limits.split(",")):
            plan_file = Path(folder) / f"plan-{limit:g}.json"
            done, seconds, peak = run([command, "solve", str(problem_file), "--time-limit",
                                       f"{limit:g}", "--out", str(plan_file), "--json"], limit)
            plan = json.loads(done.stdout) if done.returncode in (0, 1) and done.stdout else {}
            verified = "-"
            if plan_file.exists():
                check, _, _ = run([command, "verify", str(problem_file), str(plan_file)], limit)
                verified = "yes" if check.returncode == 0 else f"NO: {check.stderr.strip()[:200]}"
            row = {"limit": limit, "seconds": seconds, "peak_gib": peak / 2**30,
                   "status": plan.get("status", f"exit {done.returncode}"),
                   "objective": plan.get("objective"), "bound": plan.get("bound"),
                   "gap": plan.get("gap"), "warm_start": plan.get("warm_start"),
                   "strategy": plan.get("strategy"), "reason": plan.get("reason"),
                   "verified": verified, "budget": 1.2 * limit + 10}
            rows.append(row)
            print(json.dumps(row), flush=True)
            if done.returncode not in (0, 1):
                print(done.stderr[-2000:], file=sys.stderr)
    if args.no_write:
        return
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = ["## Time limits on ten million pairs", "",
             f"`python benchmarks/time_limit.py --limits {args.limits}` on "
             f"{datetime.date.today()} ({machine}): the shared Alibaba v2023 trace as a cost "
             f"problem, every node one device and every pod a single-resource task: "
             f"{len(doc['tasks']):,} tasks x {len(doc['pools']):,} devices, {pairs:,} eligible "
             f"pairs. Each run is `allocator solve FILE --time-limit T --json` in a fresh process, "
             f"timed from outside (loading the file included), its plan checked by "
             f"`allocator verify` in another. The target: a verified plan within 1.2 x T + 10 s, "
             f"under 4 GiB.", "",
             "| limit | wall (s) | target (s) | peak memory (GiB) | status | objective | bound | "
             "gap | start | verified |",
             "|---:|---:|---:|---:|---|---:|---:|---:|---|---|"]
    for r in rows:
        fmt = (lambda v: "-" if v is None else f"{v:,.6g}")
        gap = "-" if r["gap"] is None else f"{r['gap']:.2%}"
        lines.append(f"| {r['limit']:g} | {r['seconds']:.1f} | {r['budget']:.0f} | "
                     f"{r['peak_gib']:.2f} | {r['status']} | {fmt(r['objective'])} | "
                     f"{fmt(r['bound'])} | {gap} | {r['warm_start'] or '-'} | {r['verified']} |")
    write_section(DOC, "time-limit", lines)
    print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
