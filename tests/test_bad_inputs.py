"""The catalogue of bad inputs (tests/bad_inputs.py), through the installed ``allocator``.

Each case runs the console script pip installed, as a user would, in a process of its own:
it must end with its exit status (2: bad input or usage), say so on stderr in a short message
naming the culprit, print nothing on stdout and show no traceback. The cases run a few at a
time; a case that hangs fails at its timeout, and each case's peak memory is checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .bad_inputs import CASES, Case

HANG = 120                  # seconds: a case still running by then has hung
MEMORY_LIMIT = 300 * 2**20  # bytes of peak resident memory a refusal may use (docs/cli.md)


def installed_command() -> str:
    """The ``allocator`` console script of the Python running the tests."""
    script = Path(sys.executable).parent / "allocator"
    found = str(script) if script.exists() else shutil.which("allocator")
    assert found, "the allocator command is not installed: pip install -e \".[test]\""
    return found


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_bytes: int


# The command runs under a small Python process that forks and execs it, then reports the
# child's peak memory: a child forked straight from this (large) test process would count
# this process's memory as its own (Linux carries the parent's high-water mark over exec).
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_case(case: Case, command: str) -> Outcome:
    """Run one case in a fresh folder; its exit status, streams, wall time and peak memory."""
    with tempfile.TemporaryDirectory() as folder:
        for name, content in case.files.items():
            target = Path(folder) / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        env = {**os.environ, "COLUMNS": "200", "ALLOCATOR_DEBUG": ""}
        peak_file = Path(folder) / ".peak"
        started = time.perf_counter()
        try:
            run = subprocess.run([sys.executable, "-c", _MEASURE, str(peak_file), command,
                                  *case.args(folder)], capture_output=True, cwd=folder,
                                 env=env, stdin=subprocess.DEVNULL, timeout=HANG,
                                 start_new_session=True)
            code, out, err = run.returncode, run.stdout, run.stderr
        except subprocess.TimeoutExpired as exc:
            code, out, err = -9, exc.stdout or b"", exc.stderr or b""
        seconds = time.perf_counter() - started
        peak = int(peak_file.read_text()) if peak_file.exists() else 0
        return Outcome(code, out.decode("utf-8", "replace"),
                       err.decode("utf-8", "replace").replace(folder, "<dir>"), seconds, peak)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    command = installed_command()
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        done = pool.map(lambda case: (case.id, run_case(case, command)), CASES)
        return dict(done)


def test_the_catalogue_is_large():
    assert len(CASES) >= 250


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_clearly(case: Case, outcomes):
    got = outcomes[case.id]
    both = got.stdout + got.stderr
    assert got.seconds < HANG, f"hung: {case.argv}"
    assert "Traceback" not in both and "internal error" not in both, both
    assert got.code == case.code, (got.code, got.stderr)
    assert got.stdout == "", got.stdout            # a refusal is not a result
    assert got.stderr.strip(), "nothing said on stderr"
    if case.short:
        assert len(got.stderr.strip().splitlines()) <= 6, got.stderr
    for fragment in case.expect:
        assert fragment in got.stderr, (fragment, got.stderr)
    assert got.peak_bytes < MEMORY_LIMIT, f"{got.peak_bytes / 2**20:.0f} MiB"
