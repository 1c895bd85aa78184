"""Reductions as apply / invert pairs: inverting what apply produced gives back a plan of the
original problem, and each says when it applies. (That their bounds hold for the whole problem
is tests/test_strategies.py's, against brute force.)"""

from __future__ import annotations

import numpy as np
import pytest

import allocator
from allocator.backends import SolveOptions, get_backend
from allocator.domain.plan import sequence
from allocator.io.synthetic import fleet
from allocator.objectives import OBJECTIVES
from allocator.reductions.aggregation import Aggregation
from allocator.reductions.decomposition import Decomposition
from allocator.reductions.neighbourhoods import Neighbourhood


def _pool_of(problem, assignment):
    return np.array([problem.pool_index_of(assignment[t.name]) for t in problem.tasks])


@pytest.mark.parametrize("seed", range(4))
def test_aggregation_invert_keeps_every_task_in_its_pool(seed):
    problem = fleet("many_per_pool", 30, 12, seed=seed)
    plan = allocator.solve(problem, method="lpt")
    reduction = Aggregation()
    built, inverse = reduction.apply(problem)
    pool_of = _pool_of(problem, plan.assignment)
    back = reduction.invert(pool_of, inverse)
    assert set(back) == {t.name for t in problem.tasks}
    assert np.array_equal(_pool_of(problem, back), pool_of)
    # The encoded plan is feasible in the reduced model, at no more than the plan's makespan
    # (the model is a relaxation), and decoding it gives the packing of invert.
    x = built.encode(plan.assignment)
    assert built.model.max_violation(x) <= 1e-9
    assert built.model.objective_value(x) <= plan.objective * (1 + 1e-9)
    assert built.decode(x)["assignment"] == back


@pytest.mark.parametrize("parts", [2, 3, 5])
def test_decomposition_parts_partition_the_problem_and_invert_joins_them(parts):
    problem = fleet("unrelated", 60, 12, seed=parts)
    reduction = Decomposition(parts, seed=1)
    subs, pieces = reduction.apply(problem)
    names = [t.name for sub in subs for t in sub.tasks]
    assert sorted(names) == sorted(t.name for t in problem.tasks)       # each task once
    for sub, (_, devices) in zip(subs, pieces):
        assert sorted(devices) == sorted(sub.devices)
        for pool in sub.pools:                      # a part's pool is a slice of the whole's
            assert pool.count <= problem.pools[problem.pool_index[pool.name]].count
    whole = [d for _, devices in pieces for d in devices.values()]
    assert len(whole) == len(set(whole)) <= len(problem.devices)          # no device twice
    plans = [allocator.solve(sub, method="lpt") for sub in subs]
    assignment = reduction.invert([p.assignment for p in plans], pieces)
    schedule = sequence(problem, assignment)
    makespan = max(slot.end for slot in schedule)
    # Each device serves one part, so the whole's makespan is the parts' largest.
    assert makespan == pytest.approx(max(p.objective for p in plans))
    plan = allocator.Plan(status=allocator.Status.FEASIBLE, assignment=assignment,
                          schedule=schedule, objective=makespan, objective_name="makespan",
                          problem=problem.name)
    assert allocator.verify(problem, plan) == []


def test_decomposition_parts_default_to_about_2500_tasks_each():
    assert Decomposition.parts_for(fleet("unrelated", 100, 8, seed=0)) == 2
    assert Decomposition.parts_for(fleet("unrelated", 100, 8, seed=0), 7) == 7


def test_neighbourhood_invert_of_the_fixed_values_is_the_identity():
    problem = fleet("unrelated", 20, 4, seed=2)
    built = OBJECTIVES["makespan"].build(problem)
    x = built.encode(allocator.solve(problem, method="lpt").assignment)
    free = np.random.default_rng(0).random(built.model.n_cols) < 0.5
    reduction = Neighbourhood(x, free)
    sub, inverse = reduction.apply(built.model)
    assert np.array_equal(reduction.invert(x[free], inverse), x)
    raw = get_backend("highs").solve(sub, SolveOptions(), None)
    better = reduction.invert(raw.x, inverse)
    assert built.model.max_violation(better) <= 1e-6
    assert built.model.objective_value(better) <= built.model.objective_value(x) + 1e-9


def test_pool_reductions_accept_makespan_without_deadlines_only():
    doc = {"name": "one", "pools": [{"name": "g", "kind": "gpu", "count": 2, "memory": "16GiB",
                      "throughput": "10TFLOPS", "cost_per_hour": 1}],
           "tasks": [{"name": "a", "compute": "10TFLOP", "memory": "1GiB"}]}
    plain = allocator.load(doc)
    doc["tasks"][0]["deadline"] = "1h"
    timed = allocator.load(doc)
    for reduction in (Aggregation(), Decomposition(2)):
        assert reduction.accepts(plain, "makespan")
        assert not reduction.accepts(plain, "cost")
        assert not reduction.accepts(timed, "makespan")
