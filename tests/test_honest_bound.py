"""A bound on the wrong side of the objective is a solver error, never a gap below zero."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

import allocator
from allocator.cli import main

from .conftest import ENGINES, PROBLEMS


def _lying(backend_module, monkeypatch, shift: float):
    """Make the backend report its bound ``shift`` model units past its objective."""
    real = backend_module.solve

    def solve(model, options, solver=None):
        raw = real(model, options, solver)
        if model.is_mip and raw.objective is not None:
            raw = dataclasses.replace(raw, bound=raw.objective + shift)
        return raw
    monkeypatch.setattr(backend_module, "solve", solve)


@pytest.mark.parametrize("backend, solver", ENGINES, ids=[f"{b}-{s}" for b, s in ENGINES])
def test_a_bound_above_the_objective_is_a_solver_error(backend, solver, monkeypatch):
    module = importlib.import_module(
        {"highs": "allocator.backends.highs", "scipy": "allocator.backends.scipy_highs",
         "pulp": "allocator.backends.pulp_backend"}[backend])
    _lying(module, monkeypatch, shift=1.0)
    problem = allocator.load(PROBLEMS / "small/two-devices.yaml")
    plan = allocator.solve(problem, backend=backend, solver=solver, warm_start=False)
    assert plan.status == "error"
    assert "solver error" in plan.reason and "above the objective 5" in plan.reason
    assert plan.gap == 0.0            # the gap is not what tells: the status is


def test_an_honest_bound_is_left_alone(monkeypatch):
    module = importlib.import_module("allocator.backends.highs")
    _lying(module, monkeypatch, shift=-1.0)          # below the objective: a weak but true bound
    plan = allocator.solve(PROBLEMS / "small/two-devices.yaml", warm_start=False, lp_bound=False)
    assert plan.status in ("optimal", "feasible") and plan.bound == pytest.approx(4.0)


def test_the_command_line_exits_1_and_says_why(monkeypatch, capsys):
    _lying(importlib.import_module("allocator.backends.highs"), monkeypatch, shift=1.0)
    assert main(["solve", str(PROBLEMS / "small/two-devices.yaml"), "--no-warm-start"]) == 1
    assert "solver error" in capsys.readouterr().out


def test_maximisation_bound_below_the_objective():
    plan = allocator.Plan(problem="p", objective_name="cost", status=allocator.Status.OPTIMAL,
                          objective=10.0, bound=9.0, sense="max", solver="X")
    from allocator.solver.bounds import honest_bound
    assert honest_bound(plan).status == "error"
    assert honest_bound(dataclasses.replace(plan, bound=11.0)).status == "optimal"
