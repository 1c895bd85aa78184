"""Every `$ allocator ...` line in the README and docs runs and succeeds.

The Python examples in docs/*.md run as doctests (pytest's --doctest-glob, see pyproject).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys

import pytest

from allocator.cli import main

from .conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _commands():
    for page in PAGES:
        for block in re.findall(r"```console\n(.*?)```", page.read_text(), flags=re.S):
            for line in block.splitlines():
                if line.startswith("$ allocator "):
                    yield pytest.param(line[2:], id=f"{page.name}: {line[2:]}")


@pytest.mark.parametrize("command", list(_commands()))
def test_documented_command_runs(command, tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "problems", tmp_path / "problems")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    # a command task's `python` is the one on the PATH: this interpreter's, as in a venv
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep
                       + os.environ.get("PATH", ""))
    args = shlex.split(command)[1:]
    if args[0] == "report":                          # needs the journal the guide made
        assert main(["run", "examples/train-script/problem.yaml", "--journal", args[1],
                     "--quiet"]) == 0
    if args[0] == "verify":                          # needs the plan the guide saved first
        assert main(["solve", args[1], "--out", args[2]]) == 0
    if args[0] == "run" and "--plan" in args:        # needs the plan the page solved first
        assert main(["solve", args[1], "--out", args[args.index("--plan") + 1]]) == 0
    if args[0] == "run" and args[1] == "profiled.yaml":   # needs the profile the page made
        assert main(["profile", "problems/local-demo.yaml", "--out", "profiled.yaml",
                     "--quiet"]) == 0
    assert main(args) == 0, capsys.readouterr()


def test_readme_setup_commands_are_the_ones_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = 'pip install -e ".[test]" && pytest'
    main_command = "pip install -e . && allocator solve problems/cluster-mixed.yaml"
    next_command = 'pip install -e ".[torch]" && allocator run problems/local-demo.yaml'
    for command in (main_command, next_command, test_command):
        assert command in readme and command in ci, command
    # Solving needs no torch: the main command installs none (no extra).
    assert "[all]" not in main_command and "torch" not in main_command
