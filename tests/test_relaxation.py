"""The LP relaxation by column generation reaches the same optimum as the whole LP, from any
start, and never reports a bound it has not proven."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import allocator
import importlib
from allocator.backends import SolveOptions, get_backend
from allocator.reductions import aggregation as aggregated
from allocator.objectives import makespan
from allocator.model.sparse import rank_in_group
from allocator.io.synthetic import FAMILIES, fleet

from .bruteforce import brute_force, random_problem

pytest.importorskip("highspy")
HIGHS = get_backend("highs")


def _whole(model):
    raw = HIGHS.solve(model.relaxed(), SolveOptions(), None)
    assert raw.termination.name == "OPTIMAL"
    return raw.objective


def _group(built):
    task, _ = built.task_columns
    group = np.full(built.model.n_cols, -1)
    group[:task.size] = task
    return group


def test_rank_in_group_by_hand():
    group = np.array([1, 0, 1, 0, 1, 2])
    key = np.array([5.0, 2.0, 1.0, 2.0, 3.0, 9.0])
    # group 0: 2.0 (index 1), 2.0 (index 3), ties by position; group 1: 1 < 3 < 5.
    assert rank_in_group(group, key).tolist() == [2, 0, 0, 1, 1, 0]


@pytest.mark.parametrize("formulation", [makespan, aggregated], ids=["full", "aggregated"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("per_group", [1, 3])
def test_column_generation_reaches_the_whole_lp_from_each_tasks_fastest_column(
        formulation, family, per_group):
    built = formulation.build(fleet(family, 120, 12, seed=3))
    task, seconds = built.task_columns
    start = np.zeros(built.model.n_cols, bool)
    start[:task.size] = rank_in_group(task, seconds) == 0
    raw = HIGHS.relax_by_columns(built.model, SolveOptions(), start, _group(built), per_group)
    assert raw.termination.name == "OPTIMAL"
    assert raw.bound == raw.objective == pytest.approx(_whole(built.model), rel=1e-7)
    relaxed = built.model.relaxed()
    assert relaxed.max_violation(raw.x) <= 1e-6
    assert relaxed.objective_value(raw.x) == pytest.approx(raw.objective)
    assert "column generation" in raw.message


@pytest.mark.parametrize("seed", range(12))
def test_column_generation_with_deadlines_and_horizons_from_a_start_that_may_be_infeasible(seed):
    # Random small problems with deadlines and horizons: a start of one column per task is
    # often infeasible (the restricted LP falls back to the whole model) and must still agree.
    problem = allocator.load(random_problem(seed, max_tasks=7, max_devices=5), check=False)
    built = makespan.build(problem)
    whole = HIGHS.solve(built.model.relaxed(), SolveOptions(), None)
    task, seconds = built.task_columns
    start = np.zeros(built.model.n_cols, bool)
    start[:task.size] = rank_in_group(task, -seconds) == 0        # the slowest column each
    raw = HIGHS.relax_by_columns(built.model, SolveOptions(), start, _group(built))
    assert raw.termination == whole.termination
    if whole.termination.name == "OPTIMAL":
        assert raw.objective == pytest.approx(whole.objective, rel=1e-7)


def test_a_time_limit_during_column_generation_leaves_no_bound():
    built = makespan.build(fleet("unrelated", 400, 32, seed=1))
    start = np.zeros(built.model.n_cols, bool)
    raw = HIGHS.relax_by_columns(built.model, SolveOptions(time_limit=1e-9), start,
                                 _group(built))
    assert raw.termination.name == "NO_SOLUTION"
    assert raw.bound is None and raw.x is None


@pytest.mark.parametrize("seed", range(6))
def test_solve_through_column_generation_matches_brute_force(seed, monkeypatch, caplog):
    doc = random_problem(seed, max_tasks=6, max_devices=3)
    problem = allocator.load(doc, check=False)
    best = brute_force(problem, "makespan")
    monkeypatch.setattr(importlib.import_module("allocator.solver.relaxation"), "SIFT_COLUMNS", 0)  # all
    with caplog.at_level(logging.INFO, logger="allocator"):
        plan = allocator.solve(problem, backend="highs")
    if best is None:
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best, rel=1e-6)
    assert plan.lp_bound <= best * (1 + 1e-9)
    assert "column generation" in caplog.text


def test_large_solve_uses_column_generation_and_keeps_its_bound(caplog):
    problem = fleet("unrelated", 10000, 1000, seed=0, pools=20)
    with caplog.at_level(logging.INFO, logger="allocator"):
        plan = allocator.solve(problem, time_limit=30, mip_gap=0.005)
    assert plan.strategy == "aggregated"
    assert "by column generation" in caplog.text
    assert plan.bound is not None and plan.gap <= 0.01
    assert allocator.verify(problem, plan) == []
