"""Shared fixtures: the installed backends, the repository paths, and a plan checker."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import allocator
from allocator.backends import pulp_backend

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"


def _engines() -> list[tuple[str, str | None]]:
    engines = [("scipy", None)]
    if importlib.util.find_spec("highspy"):
        engines.insert(0, ("highs", None))
    if pulp_backend.available():
        installed = pulp_backend.solvers()
        if "PULP_CBC_CMD" in installed:
            engines.append(("pulp", "CBC"))
        if "HiGHS" in installed and importlib.util.find_spec("highspy"):
            engines.append(("pulp", "HiGHS"))
    return engines


ENGINES = _engines()


@pytest.fixture(params=ENGINES, ids=lambda e: e[0] + (f"-{e[1]}" if e[1] else ""))
def engine(request) -> dict:
    """Keyword arguments for ``allocator.solve`` naming one installed backend/solver."""
    backend, solver = request.param
    return {"backend": backend, "solver": solver}


def solved(problem, **kwargs) -> allocator.Plan:
    """Solve and insist that ``verify`` accepts the plan: every plan in the tests goes through it."""
    plan = allocator.solve(problem, **kwargs)
    problem = allocator.load(problem, check=False) if not isinstance(problem, allocator.Problem) \
        else problem
    assert allocator.verify(problem, plan) == [], allocator.verify(problem, plan)
    return plan
