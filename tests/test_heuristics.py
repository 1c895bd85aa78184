"""Heuristics: hand-worked placements, and properties on random problems."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import allocator
from allocator.domain.plan import sequence
from allocator.heuristics import GREEDY, HEURISTICS
from allocator.heuristics.local_search import improve
from allocator.objectives import OBJECTIVES

from .bruteforce import random_problem
from .conftest import PROBLEMS
from .test_properties import problems

# Two identical devices (1 FLOP/s); tasks in file order a=3, b=1, c=2, d=2 seconds.
FOUR = {"name": "four", "pools": [{"name": "p", "kind": "gpu", "count": 2, "memory": "16GiB",
                                   "throughput": 1, "cost_per_hour": 1}],
        "tasks": [{"name": "a", "compute": 3, "memory": "1GiB"},
                  {"name": "b", "compute": 1, "memory": "4GiB"},
                  {"name": "c", "compute": 2, "memory": "2GiB", "priority": 1},
                  {"name": "d", "compute": 2, "memory": "3GiB", "priority": 2}]}

# Worked by hand, following docs/heuristics rules: orderings and placements with ties going
# to the lower device index.
EXPECTED = {
    # file order a, b, c, d; least busy device: a->0 (3), b->1 (1), c->1 (3), d->0 (tie) (5)
    "fcfs": ({"a": "p[0]", "b": "p[1]", "c": "p[1]", "d": "p[0]"}, 5.0),
    # b, c, d, a: b->0 (1), c->1 (2), d->0 (3), a->1 (5)
    "sjf": ({"b": "p[0]", "c": "p[1]", "d": "p[0]", "a": "p[1]"}, 5.0),
    # priority d (2), c (1), then a, b: d->0 (2), c->1 (2), a->0 (5), b->1 (3)
    "priority": ({"d": "p[0]", "c": "p[1]", "a": "p[0]", "b": "p[1]"}, 5.0),
    # alternate: a->0, b->1, c->0, d->1
    "round_robin": ({"a": "p[0]", "b": "p[1]", "c": "p[0]", "d": "p[1]"}, 5.0),
    # fewest tasks: a->0, b->1, c->0 (tie), d->1
    "least_loaded": ({"a": "p[0]", "b": "p[1]", "c": "p[0]", "d": "p[1]"}, 5.0),
    # a (3), c (2), d (2), b (1) to the earliest finish: a->0 (3), c->1 (2), d->1 (4), b->0 (4)
    "lpt": ({"a": "p[0]", "c": "p[1]", "d": "p[1]", "b": "p[0]"}, 4.0),
    # memory b (4), d (3), c (2), a (1), capacity 4 = 8 s / 2 devices: b->0 (1), d->0 (3),
    # c->1 (0+2 <= 4, but p[0] 3+2 > 4), a->1 (5 > 4 on 0, 2+3 = 5 > 4 on 1: earliest finish,
    # 3+3 = 6 vs 2+3 = 5 -> p[1])
    "first_fit_decreasing": ({"b": "p[0]", "d": "p[0]", "c": "p[1]", "a": "p[1]"}, 5.0),
    # min-min: b on 0 (1); c on 1 (2); d: 0 -> 3, 1 -> 4: on 0 (3); a: 0 -> 6, 1 -> 5: on 1
    "earliest_finish": ({"b": "p[0]", "c": "p[1]", "d": "p[0]", "a": "p[1]"}, 5.0),
    # sufferage: all regrets 0 at first, so a (the earliest) -> p[0] (3, 0); then b, c and d
    # each finish 2 earlier on p[1] (regret 3, 3, 3 with b earliest): b -> p[1] (3, 1); c and
    # d both regret 2: c -> p[1] (3, 3); d finishes at 5 on either: p[0]
    "regret": ({"a": "p[0]", "b": "p[1]", "c": "p[1]", "d": "p[0]"}, 5.0),
}


@pytest.mark.parametrize("method", list(EXPECTED))
def test_hand_worked(method):
    problem = allocator.load(FOUR)
    plan = allocator.solve(problem, method=method)
    assert allocator.verify(problem, plan) == []
    assignment, makespan = EXPECTED[method]
    assert dict(plan.assignment) == assignment
    assert plan.objective == makespan
    assert plan.status == "feasible" and plan.method == method


def test_weighted_round_robin_follows_throughput():
    # Weights 2:1 give the smooth sequence fast, slow, fast, fast, slow, fast.
    doc = {"name": "wrr", "pools": [
        {"name": "fast", "kind": "gpu", "count": 1, "memory": "16GiB", "throughput": 2},
        {"name": "slow", "kind": "gpu", "count": 1, "memory": "16GiB", "throughput": 1}],
        "tasks": [{"name": f"t{i}", "compute": 1, "memory": "1GiB"} for i in range(6)]}
    plan = allocator.solve(doc, method="weighted_round_robin")
    assert [plan.assignment[f"t{i}"] for i in range(6)] == \
        ["fast[0]", "slow[0]", "fast[0]", "fast[0]", "slow[0]", "fast[0]"]


def test_local_search_stops_at_its_deadline():
    problem = allocator.load(FOUR)
    start = EXPECTED["fcfs"][0]
    assert improve(problem, start, "makespan", deadline=0.0) == start
    assert improve(problem, start, "makespan") != start


def test_local_search_reaches_the_optimum_on_the_hand_case():
    plan = allocator.solve(FOUR, method="local_search")
    assert plan.objective == 4.0


def test_heuristic_names_the_task_it_cannot_place():
    # Horizon 4 s: fcfs puts a (3) on p[0], b (1) on p[1], c (2) on p[1], then d (2) fits
    # neither (3 + 2 > 4, 3 + 2 > 4) although the optimum {a, b} | {c, d} exists.
    doc = dict(FOUR, horizon=4)
    plan = allocator.solve(doc, method="fcfs")
    assert plan.status == "infeasible" and "task 'd'" in plan.reason
    assert allocator.solve(doc).objective == 4.0


def test_unknown_method_lists_the_known_ones():
    with pytest.raises(allocator.AllocatorError, match="unknown method 'fifo'.*fcfs"):
        allocator.solve(FOUR, method="fifo")


@settings(max_examples=40, deadline=None)
@given(problem=problems(), objective=st.sampled_from(["makespan", "cost"]))
def test_every_heuristic_verifies_and_is_no_better_than_the_optimum(problem, objective):
    optimum = allocator.solve(problem, objective=objective)
    for method in HEURISTICS:
        plan = allocator.solve(problem, objective=objective, method=method)
        assert allocator.verify(problem, plan) == [], method
        if optimum.status == "infeasible":
            assert plan.status == "infeasible"
        elif plan.status == "feasible":
            assert optimum.bound <= optimum.objective * (1 + 1e-9) + 1e-12
            assert optimum.objective <= plan.objective * (1 + 1e-6) + 1e-12, method


@pytest.mark.parametrize("seed", range(15))
def test_random_problems_with_deadlines_and_horizons(seed):
    problem = allocator.load(random_problem(seed), check=False)
    optimum = allocator.solve(problem)
    for method in HEURISTICS:
        plan = allocator.solve(problem, method=method)
        assert allocator.verify(problem, plan) == [], method
        if plan.status == "feasible":
            assert optimum.status == "optimal"
            assert optimum.objective <= plan.objective * (1 + 1e-6)


@pytest.mark.parametrize("start", list(GREEDY))
@pytest.mark.parametrize("objective", ["makespan", "cost"])
def test_local_search_never_worsens_its_start(start, objective):
    problem = allocator.load(PROBLEMS / "cluster-mixed.yaml")
    first = allocator.solve(problem, method=start, objective=objective)
    better = improve(problem, dict(first.assignment), objective, seed=3)
    plan = allocator.Plan(problem=problem.name, objective_name=objective,
                          status=allocator.Status.FEASIBLE, assignment=better,
                          schedule=sequence(problem, better))
    plan = dataclasses.replace(plan,
                               objective=OBJECTIVES[objective].value(allocator.evaluate(problem, plan)))
    assert allocator.verify(problem, plan) == []
    assert plan.objective <= first.objective * (1 + 1e-12)
