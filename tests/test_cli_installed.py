"""The installed ``allocator`` command follows the conventions of command-line tools.

Everything here runs the console script pip installed, in a process of its own, as a user or
a script would: help on every command, the version, completion, usage errors (exit 2, one
message on stderr naming the option), results on stdout and the rest on stderr, no
hard-wrapped messages in logs, exit statuses 0, 1, 2 and 130.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import allocator

from .conftest import PROBLEMS
from .test_bad_inputs import installed_command

COMMANDS = ["solve", "compare", "validate", "verify", "run", "profile", "simulate", "import",
            "schema", "version"]
SMALL = str(PROBLEMS / "small/two-devices.yaml")


def allocator_cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "ALLOCATOR_DEBUG": ""}
    env.pop("COLUMNS", None)
    return subprocess.run([installed_command(), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL, **kwargs)


@pytest.mark.parametrize("flag", ["-h", "--help"])
@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_on_every_command(command, flag):
    run = allocator_cli(*([command] if command else []), flag)
    assert run.returncode == 0 and run.stderr == ""
    assert "Usage: allocator" in run.stdout and "-h, --help" in run.stdout


def test_version():
    run = allocator_cli("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"allocator {allocator.__version__}"
    assert allocator_cli("version").stdout == run.stdout


def test_shell_completion_can_be_installed():
    assert "--install-completion" in allocator_cli("-h").stdout
    run = allocator_cli("--show-completion", "bash")
    assert run.returncode == 0 and "complete" in run.stdout and "allocator" in run.stdout


@pytest.mark.parametrize("args, names", [
    (["--frobnicate"], "--frobnicate"),
    (["solve", SMALL, "--frobnicate"], "--frobnicate"),
    (["solv", SMALL], "solv"),
    (["solve", SMALL, "--time-limit", "0"], "--time-limit"),
    (["solve", SMALL, "--time-limit", "-3"], "--time-limit"),
    (["solve", SMALL, "--gap", "-0.5"], "--gap"),
    (["solve", SMALL, "--gap", "1"], "--gap"),
    (["solve", SMALL, "--threads", "0"], "--threads"),
    (["solve", SMALL, "--parts", "0"], "--parts"),
    (["compare", SMALL, "--time-limit", "-1"], "--time-limit"),
    (["run", SMALL, "--max-retries", "-1"], "--max-retries"),
    (["profile", SMALL, "--out", "x.yaml", "--steps", "0"], "--steps"),
    (["solve", "no-such-file.yaml"], "no-such-file.yaml"),
    (["solve"], "FILE"),
])
def test_usage_errors_exit_2_naming_the_option(args, names, tmp_path):
    run = allocator_cli(*args, cwd=tmp_path)
    assert run.returncode == 2, run
    assert run.stdout == "" and names in run.stderr
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) <= 6


def test_results_on_stdout_notes_on_stderr(tmp_path):
    target = tmp_path / "plan.json"
    run = allocator_cli("solve", SMALL, "--json", "--out", str(target))
    assert run.returncode == 0
    plan = json.loads(run.stdout)                     # stdout is the JSON and nothing else
    assert plan["status"] == "optimal" and plan["objective"] == 5.0
    assert f"plan written to {target}" in run.stderr
    assert json.loads(target.read_text())["objective"] == 5.0
    run = allocator_cli("compare", SMALL, "--json", "--time-limit", "10")
    assert run.returncode == 0 and json.loads(run.stdout)["optimum"] == 5.0
    run = allocator_cli("schema")
    assert json.loads(run.stdout)["title"] == "allocator problem"


def test_messages_are_not_hard_wrapped_off_a_terminal(tmp_path):
    # A message far longer than 80 columns stays on one line when stderr is a file or pipe.
    name = "a-task-with-a-remarkably-long-name-" * 4
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: x\npools: [{{name: g, kind: gpu, count: 1, memory: 1GiB, "
                   f"throughput: 1e12}}]\ntasks: [{{name: {name}, compute: 1e12, memory: 2GiB}}]\n")
    run = allocator_cli("validate", str(bad))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and len(lines[0]) > 200


def test_exit_1_without_a_plan():
    run = allocator_cli("solve", str(PROBLEMS / "small/deadlines-infeasible.yaml"))
    assert run.returncode == 1 and "infeasible" in run.stdout


def test_run_without_torch_says_how_to_install_it():
    # A process in which torch cannot be found stands for an install without the extra.
    code = ("import sys, importlib.util; real = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda n, *a: None if n == 'torch' else real(n, *a); "
            "from allocator.cli import main; sys.exit(main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", code, "run",
                          str(PROBLEMS / "local-demo.yaml")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2, run
    assert '.[torch]' in run.stderr and "Traceback" not in run.stderr


def test_interrupt_exits_130(tmp_path):
    # A solve that would take a minute, interrupted as Ctrl-C would.
    from .test_catalogue import _hard_problem
    import yaml
    path = tmp_path / "hard.yaml"
    path.write_text(yaml.safe_dump(_hard_problem()))
    child = subprocess.Popen([installed_command(), "solve", str(path), "--time-limit", "60"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, (child.returncode, err)
    assert err.strip() == "interrupted" and out == ""


def test_solver_chatter_is_kept_off_stdout_and_stdout_comes_back(capfd):
    import threading
    from allocator.backends.base import solver_chatter_hidden
    with solver_chatter_hidden():
        os.write(1, b"Running HiGHS ...\n")              # what the banner does
    os.write(1, b"result\n")
    # Overlapping uses from threads: stdout is restored once, when the last one leaves.
    inside = threading.Barrier(2)

    def chatter():
        with solver_chatter_hidden():
            inside.wait()
            os.write(1, b"banner from a thread\n")
            inside.wait()
    threads = [threading.Thread(target=chatter) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.write(1, b"after\n")
    assert capfd.readouterr().out == "result\nafter\n"
