"""How fast, and in how much memory, the installed ``allocator`` refuses bad input.

Runs every case of the catalogue in tests/bad_inputs.py through the installed command, one at
a time (nothing else running), and writes the slowest and the largest to the bad-inputs
section of docs/cli.md with the machine and the date. The bound the project holds to: each
refusal within 1 s and under 300 MB. A process start of the command is part of every figure
(the import of the CLI and the problem loader; the solvers are not imported to refuse input).

    python benchmarks/bad_inputs.py          # about 3 min on 2 cores
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doc_section import write_section  # noqa: E402  (benchmarks/, beside this script)
from tests.bad_inputs import CASES  # noqa: E402
from tests.test_bad_inputs import installed_command, run_case  # noqa: E402

DOC = ROOT / "docs" / "cli.md"


def main() -> None:
    command = installed_command()
    rows = []
    for k, case in enumerate(CASES, 1):
        got = run_case(case, command)
        rows.append((got.seconds, got.peak_bytes, case.id, got.code))
        print(f"[{k}/{len(CASES)}] {case.id}: exit {got.code}, {got.seconds:.2f} s, "
              f"{got.peak_bytes / 2**20:.0f} MiB", flush=True)
    seconds = [r[0] for r in rows]
    slowest = sorted(rows, reverse=True)[:5]
    largest = max(rows, key=lambda r: r[1])
    wrong = [r[2] for r in rows if r[3] != 2]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = ["### Measured", "",
             f"`python benchmarks/bad_inputs.py` on {datetime.date.today()} ({machine}): the "
             f"{len(rows)} cases of the catalogue, each a fresh `allocator` process, one at a "
             f"time, timed with the small Python process that measures its memory (so a "
             f"little over the command alone). Exit status 2 in {len(rows) - len(wrong)} of {len(rows)}"
             + (f" (not: {', '.join(wrong)})" if wrong else "") + ".", "",
             "| | seconds (process start included) | peak memory |", "|---|---:|---:|",
             f"| median | {statistics.median(seconds):.2f} | "
             f"{statistics.median(r[1] for r in rows) / 2**20:.0f} MiB |",
             f"| slowest | {slowest[0][0]:.2f} (`{slowest[0][2]}`) | |",
             f"| largest | | {largest[1] / 2**20:.0f} MiB (`{largest[2]}`) |", "",
             "The five slowest: " + ", ".join(f"`{r[2]}` {r[0]:.2f} s" for r in slowest) + "."]
    write_section(DOC, "bad-inputs", lines)
    print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
