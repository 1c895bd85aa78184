"""The command line: readable output, files written, exit statuses."""

from __future__ import annotations

import json

import allocator
from allocator.cli import main

from .conftest import PROBLEMS


def test_solve_prints_plan_and_bound(capsys):
    assert main(["solve", str(PROBLEMS / "small/memory-eligibility.yaml")]) == 0
    out = capsys.readouterr().out
    for word in ("device", "task", "start", "end", "memory headroom", "optimal", "lower bound",
                 "gap", "huge", "big[0]", "6 s"):
        assert word in out, word


def test_solve_out_then_verify(tmp_path, capsys):
    target = tmp_path / "plan.json"
    problem_file = str(PROBLEMS / "small/deadlines.yaml")
    assert main(["solve", problem_file, "--out", str(target)]) == 0
    plan = allocator.load_plan(target)
    assert plan.status == "optimal" and plan.objective == 4.0
    assert main(["verify", problem_file, str(target)]) == 0
    assert "ok:" in capsys.readouterr().out
    # A corrupted plan is rejected with the violation named.
    data = json.loads(target.read_text())
    data["assignment"]["a"] = "slow[0]"
    target.write_text(json.dumps(data))
    assert main(["verify", problem_file, str(target)]) == 1
    assert "violation" in capsys.readouterr().err


def test_solve_json_and_overrides(capsys):
    args = ["solve", str(PROBLEMS / "small/two-devices.yaml"), "--objective", "cost",
            "--backend", "pulp", "--solver", "CBC", "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["objective_name"] == "cost" and data["backend"] == "pulp"
    assert data["objective"] * 3600 == 10.0 or abs(data["objective"] * 3600 - 10.0) < 1e-9


def test_unknown_solver_lists_the_installed_ones(capsys):
    args = ["solve", str(PROBLEMS / "small/two-devices.yaml"), "--backend", "pulp",
            "--solver", "NOSUCH"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "unknown PuLP solver 'NOSUCH'" in err and "PULP_CBC_CMD" in err


def test_unknown_backend(capsys):
    assert main(["solve", str(PROBLEMS / "small/two-devices.yaml"), "--backend", "gurobi"]) == 2
    assert "unknown backend 'gurobi'; installed: highs, scipy, pulp" in capsys.readouterr().err


def test_infeasible_found_by_the_solver_exits_1(capsys):
    assert main(["solve", str(PROBLEMS / "small/deadlines-infeasible.yaml")]) == 1
    assert "infeasible" in capsys.readouterr().out


def test_validate_and_schema(capsys):
    assert main(["validate", str(PROBLEMS / "cluster-mixed.yaml")]) == 0
    assert "ok: cluster-mixed: 32 tasks, 20 devices in 5 pools" in capsys.readouterr().out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert set(schema["properties"]) >= {"name", "pools", "tasks", "horizon", "throughput"}
    assert schema["$defs"]["task"]["additionalProperties"] is False


def test_schema_accepts_the_shipped_problems_and_matches_the_loader():
    """Every key the JSON Schema lists is one the loader accepts, and vice versa."""
    from allocator.io.schema import POOL_FIELDS, PROBLEM_FIELDS, TASK_FIELDS, json_schema
    schema = json_schema()
    assert set(schema["properties"]) == set(PROBLEM_FIELDS)
    assert set(schema["$defs"]["pool"]["properties"]) == set(POOL_FIELDS)
    assert set(schema["$defs"]["task"]["properties"]) == set(TASK_FIELDS)


def test_every_key_is_documented():
    from allocator.io.schema import POOL_FIELDS, PROBLEM_FIELDS, TASK_FIELDS
    doc = (PROBLEMS.parent / "docs" / "problem-format.md").read_text()
    for key in {*PROBLEM_FIELDS, *POOL_FIELDS, *TASK_FIELDS}:
        assert f"`{key}`" in doc, key


def test_names_are_printed_as_written_never_as_markup(tmp_path):
    import subprocess
    import sys

    import yaml

    from .conftest import ROOT
    odd = "[bold]train:b:"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({
        "name": "odd", "pools": [{"name": "cpu", "kind": "cpu", "count": 1, "memory": "1GiB",
                                  "throughput": "1 GFLOP/s"}],
        "tasks": [{"name": odd, "compute": 1e9, "memory": "1MiB"},
                  {"name": "x", "compute": 1e9, "memory": "5GiB"}]}))
    env = {"PYTHONPATH": str(ROOT), "COLUMNS": "200", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "allocator.cli", "validate", str(path)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 2 and "'x'" in run.stderr
    path.write_text(path.read_text().replace("5GiB", "1MiB"))
    run = subprocess.run([sys.executable, "-m", "allocator.cli", "solve", str(path)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0 and odd in run.stdout, run.stdout
