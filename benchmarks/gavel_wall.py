"""Our simulator's wall time against Gavel's own simulator, both run here, turn about.

    python benchmarks/gavel_wall.py --gavel DIR [--python PY] [--lists NAME ...]
                                    [--repeats 3] [--out docs/online.md]

The wall times in ``joblists/results.csv`` were measured once, on another day, on a shared VM
whose speed drifts; this benchmark measures the ratio on one machine at one time instead. For
each job list and each policy Gavel also has, it runs Gavel's ``simulate()`` (in a process of
its own, ``benchmarks/gavel_simulate.py`` under PY) and ours (in this process), one after the
other, ``--repeats`` times (once where Gavel's run takes over a minute), and keeps each
one's fastest. Gavel's result is checked against
results.csv (the same run: its generator draws exactly the shared list) and ours is shown
beside it. DIR: a checkout of github.com/stanford-futuredata/gavel at commit c4fa400; PY: a
Python with what Gavel's simulator imports (``pip install cvxpy ecos numpy scipy psutil``;
neither is a dependency of the project). Without the shared Gavel data, or without DIR, the
script says so and stops. The results replace the "same-machine" section of the output page.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.doc_section import machine, write_section  # noqa: E402
from benchmarks.online import (GAVEL_NAME, HOUR, fastest_of, gavel_folder,  # noqa: E402
                               gavel_results, jobs_of, simulation)

CHILD = Path(__file__).resolve().parent / "gavel_simulate.py"
REPLICA = "fifo (Gavel's code)"    # the same run as Gavel's fifo (see benchmarks/online.py)
STATIC = ["fifo", REPLICA, "gandiva", "las", "max_min_fairness", "min_makespan"]
CONTINUOUS = ["fifo", REPLICA, "las", "gandiva", "max_min_fairness"]
LISTS = {  # job list: (cluster, jobs per hour (0: static), measured ids, policies)
    "continuous-single_may2020_rate1_seed0.csv": ((12, 12, 12), 1.0, (100, 300), CONTINUOUS),
    "static-multi_may2020_n50_seed0.csv": ((36, 36, 36), 0.0, (0, 50), STATIC),
    "static-multi_may2020_n100_seed0.csv": ((36, 36, 36), 0.0, (0, 100), STATIC),
    "static-multi_may2020_n200_seed0.csv": ((36, 36, 36), 0.0, (0, 200), STATIC),
    # Gavel's gandiva takes it 25 min at 2 jobs/h (results.csv): left out of the long lists
    "continuous-single_may2020_rate2_seed0.csv": ((36, 36, 36), 2.0, (4000, 5000),
                                                  [p for p in CONTINUOUS if p != "gandiva"]),
    "continuous-single_may2020_rate4.8_seed0.csv": ((36, 36, 36), 4.8, (4000, 5000),
                                                    [p for p in CONTINUOUS if p != "gandiva"]),
}
DEFAULT = ["continuous-single_may2020_rate1_seed0.csv", "static-multi_may2020_n50_seed0.csv",
           "static-multi_may2020_n100_seed0.csv"]
LONG = 60.0          # s: a Gavel run this long is not repeated (nor, then, is ours)


def gavel_once(python: str, gavel: Path, name: str, policy: str, timeout: float) -> dict:
    """One run of Gavel's simulator: its result and wall time (seconds in ``simulate()``)."""
    cluster, rate, (first, end), _ = LISTS[name]
    args = [python, str(CHILD), str(gavel), policy, ":".join(map(str, cluster)), str(rate),
            str(first), str(end)] + (["--multi"] if "multi" in name else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"Gavel's simulator failed on {name} with {policy}:\n"
                         f"{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def our_run(folder: Path, name: str, policy: str):
    """A function that runs our simulator on the list, as benchmarks/online.py does."""
    cluster, rate, window, _ = LISTS[name]
    jobs = jobs_of(folder, name, cluster, sharing=policy == "gandiva")   # Gavel's packs
    return simulation(jobs, policy, range(*window) if rate else None)


def compare(args, folder: Path, name: str, results: dict) -> list[str]:
    """The table rows of one list: each policy's result and fastest wall time, both sides."""
    cluster, rate, _, policies = LISTS[name]
    metric = "mean_jct_h" if rate else "makespan_h"
    rows = []
    for policy in policies:
        theirs = GAVEL_NAME[policy]
        run, gavel, ours, walls, their_walls = our_run(folder, name, policy), None, None, [], []
        for _ in range(args.repeats):
            once = gavel_once(args.python, args.gavel, name, theirs, args.timeout)
            if gavel is not None and once[metric] != gavel[metric]:
                raise SystemExit(f"Gavel's {theirs} gave two results on {name}")
            gavel = once
            their_walls.append(once["wall_s"])
            ours, wall = fastest_of(run, short=0.0, repeats=1)
            walls.append(wall)
            if once["wall_s"] > LONG:
                break
        row = results.get((name, theirs))
        recorded = float(row[metric]) if row else None
        same = "—" if recorded is None else \
            ("yes" if abs(gavel[metric] - recorded) <= 1e-9 * recorded else
             f"no ({recorded:.2f})")
        summary = ours.summary()
        mine = (summary["mean_jct_s"] if rate else summary["makespan_s"]) / HOUR
        times = min(their_walls) / min(walls)
        speed = f"{times:.1f}x" if times < 20 else f"{times:.0f}x"   # no rounding up to 10x
        rows.append(f"| {policy} | {theirs} | {mine:.2f} | {gavel[metric]:.2f} | {same} "
                    f"| {min(walls):.3f} | {min(their_walls):.2f} | {speed} |")
        print(rows[-1], flush=True)
    what = "mean JCT (h) of the measured jobs" if rate else "makespan (h)"
    return [f"**{name}** on {':'.join(map(str, cluster))}, {what}", "",
            "| policy | Gavel's policy | ours | Gavel here | = results.csv | our wall s "
            "| Gavel's wall s | faster |", "|---|---|---|---|---|---|---|---|", *rows, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gavel", type=Path, help="a checkout of Gavel (commit c4fa400)")
    parser.add_argument("--python", default=sys.executable,
                        help="a Python with cvxpy, ecos, numpy, scipy and psutil")
    parser.add_argument("--lists", nargs="+", default=DEFAULT, choices=sorted(LISTS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds one Gavel run may take")
    parser.add_argument("--out", type=Path, default=Path("docs/online.md"))
    args = parser.parse_args()
    folder = gavel_folder()
    if folder is None or args.gavel is None or not (args.gavel / "scheduler").is_dir():
        print("needs ../shared/benchmarks/traces/gavel (or ALLOCATOR_BENCHMARKS) and --gavel "
              "DIR, a checkout of Gavel; nothing to compare with")
        return
    needs = subprocess.run([args.python, "-c", "import cvxpy, ecos, numpy, scipy, psutil"],
                           capture_output=True, text=True)
    if needs.returncode != 0:
        print(f"{args.python} cannot run Gavel's simulator "
              f"({needs.stderr.strip().splitlines()[-1]}); give --python a Python with "
              "cvxpy, ecos, numpy, scipy and psutil")
        return
    results, _ = gavel_results(folder)
    lines = [f"Measured {date.today().isoformat()} on {machine()}, `python "
             f"benchmarks/gavel_wall.py --repeats {args.repeats}`: Gavel's simulator "
             "(commit c4fa400, ECOS through cvxpy) and ours, turn about, each one's fastest "
             f"of {args.repeats} (one run where Gavel's takes over {LONG:.0f} s); Gavel's "
             "time is its `simulate()` call, ours our `simulate` call, imports excluded on "
             "both sides.", ""]
    for name in args.lists:
        print(name, flush=True)
        lines += compare(args, folder, name, results)
    write_section(args.out, "same-machine", lines)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
