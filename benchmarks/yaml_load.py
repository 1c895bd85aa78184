"""Loading a large problem file: allocator.load against the pure-Python loader it replaced.

Writes a problem of about 50 MB (tasks with their tables, as a trace importer would), then
times, in this one process and on the same text:

- baseline: ``yaml.safe_load`` (PyYAML's pure-Python parser, what load() used before) and the
  same validation (``from_dict``);
- allocator: ``allocator.loads`` (libyaml's C parser where present, the hostile-input checks
  of allocator.io.yaml_safe, then the same validation).

Each is the best of ``--repeat`` runs. The figures go between the yaml-load markers of
docs/performance.md, with the machine and the date.

    python benchmarks/yaml_load.py            # ~50 MB, ~2 min on 2 cores
    python benchmarks/yaml_load.py --mb 5     # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import random
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import allocator  # noqa: E402
from allocator.io.yaml_safe import LOADER  # noqa: E402
from doc_section import write_section  # noqa: E402  (benchmarks/, beside this script)

DOC = ROOT / "docs" / "performance.md"
POOLS = [("h100", "gpu", 80), ("a100", "gpu", 40), ("v100", "gpu", 16), ("t4", "gpu", 16),
         ("tpu", "tpu", 32), ("cpu", "cpu", 512)]


def problem_text(megabytes: float, seed: int = 0) -> str:
    """A valid problem of about ``megabytes`` MB: pools, then tasks with a throughput row."""
    rng = random.Random(seed)
    head = ["name: large", "objective: makespan", "pools:"]
    head += [f"  - {{name: {n}, kind: {k}, count: 64, memory: {m}GiB, "
             f"throughput: {rng.randint(10, 900)} TFLOP/s, cost_per_hour: {rng.randint(1, 9)}}}"
             for n, k, m in POOLS]
    tasks, table = ["tasks:"], ["throughput:"]
    size, i = sum(len(line) + 1 for line in head), 0
    target = megabytes * 1e6
    while size < target:
        task = (f"  - name: job-{i:07d}\n    compute: {rng.uniform(1, 900):.4g}e15 FLOP\n"
                f"    memory: {rng.randint(1, 15)}GiB\n    priority: {rng.randint(0, 9)}\n"
                f"    allowed_kinds: [gpu, tpu]")
        row = (f"  job-{i:07d}: {{h100: {rng.randint(100, 900)} TFLOP/s, "
               f"a100: {rng.randint(50, 400)} TFLOP/s}}")
        tasks.append(task)
        table.append(row)
        size += len(task) + len(row) + 2
        i += 1
    return "\n".join(head + tasks + table) + "\n"


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
        gc.enable()
        result = None if _ != repeat - 1 else result
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the file (MB)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each loader")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    text = problem_text(args.mb)
    megabytes = len(text.encode()) / 1e6
    print(f"problem file: {megabytes:.1f} MB, parser: {LOADER.__name__}", flush=True)

    fast, problem = best_of(args.repeat, lambda: allocator.loads(text, check=False))
    print(f"allocator.loads: {fast:.2f} s ({len(problem.tasks):,} tasks)", flush=True)

    def baseline():
        return allocator.from_dict(yaml.load(text, Loader=yaml.SafeLoader), check=False)
    slow, reference = best_of(args.repeat, baseline)
    print(f"yaml.safe_load + from_dict: {slow:.2f} s", flush=True)
    assert reference == problem, "both loaders must build the same problem"
    ratio = slow / fast
    print(f"speed-up: {ratio:.1f}x")

    if args.no_write:
        return
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python "
               f"{platform.python_version()}, PyYAML {yaml.__version__} "
               f"(libyaml: {'yes' if yaml.__with_libyaml__ else 'no'})")
    write_section(DOC, "yaml-load", [
        "## Loading a large problem file",
        "",
        f"`python benchmarks/yaml_load.py` on {datetime.date.today()} ({machine}): one "
        f"problem file of {megabytes:.1f} MB ({len(problem.tasks):,} tasks, each with a "
        f"throughput row), loaded into the same Problem both ways, best of {args.repeat}.",
        "",
        "| loader | seconds | against the old loader |",
        "|---|---:|---:|",
        f"| `yaml.safe_load` (pure Python) + validation, the old `load` | {slow:.2f} | 1.0x |",
        f"| `allocator.load`: {LOADER.__name__}, hostile-input checks, validation | "
        f"{fast:.2f} | **{ratio:.1f}x faster** |",
        "",
        "The checks of `allocator.io.yaml_safe` (aliases, nesting, duplicate keys, tags) walk each "
        "node once, so they cost time linear in the file; they are included in the second row.",
    ])
    print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
