"""Property tests: on random small problems every plan verifies, the bound is below the
objective, and no random feasible assignment beats the optimum."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import allocator
from allocator.domain.plan import Plan, Status, sequence
from allocator.objectives import OBJECTIVES

KINDS = ["cpu", "gpu"]


@st.composite
def problems(draw):
    n_pools = draw(st.integers(1, 3))
    pools = [{"name": f"p{j}", "kind": draw(st.sampled_from(KINDS)),
              "count": draw(st.integers(1, 2)),
              "memory": draw(st.sampled_from([16, 40, 80])) * 2 ** 30,
              "throughput": draw(st.integers(1, 8)) * 1e12,
              "cost_per_hour": draw(st.sampled_from([0.5, 1.0, 3.0]))} for j in range(n_pools)]
    n_tasks = draw(st.integers(1, 6))
    tasks = [{"name": f"t{i}", "compute": draw(st.integers(1, 50)) * 1e14,
              "memory": draw(st.sampled_from([1, 8, 24])) * 2 ** 30} for i in range(n_tasks)]
    return allocator.load({"name": "prop", "pools": pools, "tasks": tasks}, check=False)


def random_plan(problem, data) -> Plan | None:
    """A uniformly drawn assignment over eligible devices, as a plan (None if none exist)."""
    assignment = {}
    for i, task in enumerate(problem.tasks):
        options = [d for d, p in zip(problem.devices, problem.device_pool) if problem.eligible[i, p]]
        if not options:
            return None
        assignment[task.name] = data.draw(st.sampled_from(options))
    plan = Plan(problem=problem.name, objective_name="makespan", status=Status.FEASIBLE,
                assignment=assignment, schedule=sequence(problem, assignment))
    return plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(), data=st.data(), objective=st.sampled_from(["makespan", "cost"]))
def test_optimum_is_verified_bounded_and_unbeaten(problem, data, objective):
    plan = allocator.solve(problem, objective=objective)
    assert allocator.verify(problem, plan) == []
    other = random_plan(problem, data)
    if other is None:
        assert plan.status == "infeasible"
        return
    assert plan.status == "optimal"
    assert plan.bound <= plan.objective * (1 + 1e-9) + 1e-12
    assert plan.lp_bound <= plan.objective * (1 + 1e-9) + 1e-12
    value = OBJECTIVES[objective].value(allocator.evaluate(problem, other))
    assert plan.objective <= value * (1 + 1e-9) + 1e-12


@settings(max_examples=30, deadline=None)
@given(problem=problems())
def test_divisible_load_bounds_the_makespan(problem):
    whole = allocator.solve(problem, objective="makespan")
    split = allocator.solve(problem, objective="load_balance")
    assert allocator.verify(problem, split) == []
    if whole.status == "optimal":
        assert split.status == "optimal"
        # Splitting tasks can only help: the divisible optimum is a lower bound.
        assert split.objective <= whole.objective * (1 + 1e-7)
        assert whole.lp_bound <= whole.objective * (1 + 1e-9)
