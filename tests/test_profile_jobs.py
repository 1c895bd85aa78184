"""`profile` for users' jobs: commands and callables run once, whole, as `run` runs them;
their measured seconds become the problem's time table. And a command's peak memory is its
own, not the planner's."""

from __future__ import annotations

import itertools
import os
import sys

import pytest
import yaml

import allocator
from allocator.executor.logs import Logs
from allocator.executor.processes import DeviceRunner, Order, Placement
from allocator.executor.profiler import profile

from .conftest import ROOT

PY = sys.executable
MiB = 2 ** 20


def problem(tmp_path, tasks, pools=None, **extra):
    doc = {"name": "profile-jobs",
           "pools": pools or [{"name": "cpu", "kind": "cpu", "count": 2, "memory": "4GiB",
                               "throughput": "1 GFLOP/s"}],
           "tasks": [{"memory": "1MiB", **t} for t in tasks], **extra}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return allocator.load(path, check=False)


def sleeper(seconds):
    return [PY, "-c", f"import time; time.sleep({seconds})"]


def test_commands_are_timed_once_and_fill_the_time_table(tmp_path):
    p = problem(tmp_path, [
        {"name": "a", "command": sleeper(0.3)},
        {"name": "b", "command": sleeper(0.3)},                # the same job: measured once
        {"name": "c", "command": sleeper(0.1), "compute": 1e9},
        {"name": "f", "callable": "tests.fault_jobs:ok", "cwd": str(ROOT)}])
    result = profile(p, logs=str(tmp_path / "logs"))
    assert result.skipped == {}
    assert len(result.measurements) == 3
    q = result.problem
    a, c = q.time["a"]["cpu"], q.time["c"]["cpu"]
    assert 0.3 <= a < 10 and q.time["b"]["cpu"] == a
    assert 0.1 <= c < a
    assert 0 < q.time["f"]["cpu"] < 10
    job_c = next(m for m in result.measurements if "0.1" in m.workload)
    assert job_c.flop == 1e9 and job_c.throughput == pytest.approx(1e9 / job_c.seconds)
    # The tasks themselves are unchanged (memory as written) and the problem now plans.
    assert q.tasks == p.tasks
    plan = allocator.solve(q)
    assert allocator.verify(q, plan) == []
    times = [q.time[n]["cpu"] for n in "abcf"]
    best = min(max(sum(t for t, d in zip(times, split) if d == k) for k in (0, 1))
               for split in itertools.product((0, 1), repeat=4))      # by brute force
    assert plan.objective == pytest.approx(best, rel=1e-6)
    assert (tmp_path / "logs" / "a.out").read_text().startswith("=== a: attempt 1")


def test_a_job_that_fails_or_runs_too_long_is_not_measured_and_says_why(tmp_path):
    p = problem(tmp_path, [
        {"name": "broken", "command": [PY, "-c", "import sys; print('no data here', "
                                        "file=sys.stderr); sys.exit(4)"]},
        {"name": "slow", "command": sleeper(30), "timeout": "0.5s"},
        {"name": "fine", "command": sleeper(0)}],
        time={"broken": {"cpu": "7s"}})
    result = profile(p)
    assert set(result.skipped) == {"broken@cpu", "slow@cpu"}
    assert "exited with status 4 (no data here)" in result.skipped["broken@cpu"]
    assert "timed out after 0.5 s" in result.skipped["slow@cpu"]
    q = result.problem
    assert q.time["broken"]["cpu"] == 7.0           # kept as written
    assert "slow" not in q.time and "fine" in q.time


def test_the_limit_bounds_jobs_without_a_timeout(tmp_path):
    p = problem(tmp_path, [{"name": "slow", "command": sleeper(30)}])
    result = profile(p, limit=0.3)
    assert "timed out after 0.3 s" in result.skipped["slow@cpu"]


def test_a_job_runs_only_where_it_may(tmp_path):
    marker = tmp_path / "ran"
    pools = [{"name": "a", "kind": "cpu", "count": 1, "memory": "4GiB", "throughput": "1 GFLOP/s"},
             {"name": "b", "kind": "cpu", "count": 1, "memory": "4GiB",
              "throughput": "1 GFLOP/s"}]
    p = problem(tmp_path, [
        {"name": "x", "command": [PY, "-c", f"open({str(marker)!r}, 'a').write('x')"],
         "allowed_pools": ["b"]},
        {"name": "never", "command": [PY, "-c", f"open({str(marker)!r}, 'a').write('n')"]}],
        pools=pools, time={"never": {"a": None, "b": None}})
    q = profile(p).problem
    assert marker.read_text() == "x"               # once: pools a and b are both "cpu" here
    assert q.time["x"] == {"b": pytest.approx(q.time["x"]["b"])} and "a" not in q.time["x"]
    assert q.time["never"] == {"a": None, "b": None}


def test_cli_profiles_commands(tmp_path):
    import subprocess
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({
        "name": "cli", "pools": [{"name": "cpu", "kind": "cpu", "count": 1, "memory": "1GiB",
                                  "throughput": "1 GFLOP/s"}],
        "tasks": [{"name": "a", "command": sleeper(0.1), "memory": "1MiB"},
                  {"name": "b", "command": ["false"], "memory": "1MiB"}]}))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    run = subprocess.run([PY, "-m", "allocator.cli", "profile", str(path), "--out",
                          str(tmp_path / "q.yaml"), "--limit", "20", "--quiet"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "not measured: task 'b' on cpu: exited with status 1" in run.stderr
    assert allocator.load(tmp_path / "q.yaml", check=False).time["a"]["cpu"] >= 0.1
    missing = tmp_path / "m.yaml"
    missing.write_text(path.read_text().replace("false", "no-such-program-here"))
    run = subprocess.run([PY, "-m", "allocator.cli", "profile", str(missing), "--out",
                          str(tmp_path / "q.yaml")], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and "cannot find the program 'no-such-program-here'" in run.stderr
    assert "Traceback" not in run.stderr


# -- a command's peak memory --------------------------------------------------------------------

def _peak(tmp_path, script):
    runner = DeviceRunner(Placement.of("cpu[0]", "cpu"), Logs(tmp_path))
    try:
        outcome = runner.run(Order("t", 1, "command", command=(PY, "-c", script)))
    finally:
        runner.close()
    assert outcome.status == "completed", outcome
    return outcome.peak_memory


def test_a_commands_peak_memory_is_its_own(tmp_path):
    # This process holds a good deal (pytest, numpy, the test modules); a fork copies it, and
    # the kernel's ru_maxrss of the child would count it. A small command must not.
    ballast = bytearray(600 * MiB)
    for k in range(0, len(ballast), 4096):
        ballast[k] = 1
    small = _peak(tmp_path, "import time; time.sleep(0.3)")
    assert small is not None and small < 100 * MiB
    # Held for longer than the longest sampling interval (1 s): when this process is larger
    # than the command, ru_maxrss cannot tell, and the sampled high-water mark is what counts.
    big = _peak(tmp_path, "import time\nb = bytearray(400 * 2**20)\n"
                          "for k in range(0, len(b), 4096): b[k] = 1\ntime.sleep(1.5)")
    assert 400 * MiB <= big < 500 * MiB
    del ballast
