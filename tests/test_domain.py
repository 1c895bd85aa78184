"""The domain carries what the next models need — a resource vector per device and per task, a
task's device count, a release time — with today's values as defaults, and the solver refuses
what no model plans yet, naming the culprit."""

from __future__ import annotations

import dataclasses

import pytest

import allocator
from allocator import ProblemError

from .conftest import PROBLEMS


def _problem():
    return allocator.load(PROBLEMS / "small" / "memory-eligibility.yaml")


def test_todays_problems_have_todays_shape():
    problem = _problem()
    for t in problem.tasks:
        assert (t.devices, t.release, dict(t.requests)) == (1, 0.0, {})
        assert t.needs == {"compute": t.compute, "memory": t.memory}
    for p in problem.pools:
        assert p.capacity == {"memory": p.memory, "throughput": p.throughput}
    assert allocator.to_dict(problem) == allocator.to_dict(allocator.from_dict(
        allocator.to_dict(problem)))


def test_vectors_carry_named_resources():
    pool = dataclasses.replace(_problem().pools[0], resources={"cpu_milli": 64000.0})
    assert pool.capacity["cpu_milli"] == 64000.0 and pool.capacity["memory"] == pool.memory
    task = dataclasses.replace(_problem().tasks[0], requests={"cpu_milli": 8000.0},
                               compute=None)
    assert task.needs == {"memory": task.memory, "cpu_milli": 8000.0}


@pytest.mark.parametrize("change, words", [
    (dict(devices=2), "asks for 2 devices at once"),
    (dict(release=60.0), "has a release time"),
    (dict(requests={"cpu_milli": 1.0}), "requests cpu_milli"),
])
def test_what_no_model_plans_is_refused_naming_the_task(change, words):
    problem = _problem()
    tasks = list(problem.tasks)
    tasks[1] = dataclasses.replace(tasks[1], **change)
    changed = dataclasses.replace(problem, tasks=tuple(tasks))
    with pytest.raises(ProblemError) as caught:
        allocator.solve(changed)
    assert words in str(caught.value) and repr(tasks[1].name) in str(caught.value)
    assert caught.value.path == "tasks[1]"


def test_a_pool_with_named_resources_is_refused():
    problem = _problem()
    pools = list(problem.pools)
    pools[0] = dataclasses.replace(pools[0], resources={"host_memory": 1e12})
    with pytest.raises(ProblemError, match="offers host_memory"):
        allocator.solve(dataclasses.replace(problem, pools=tuple(pools)))


def test_a_restricted_problem_follows_its_pools_origins():
    problem = allocator.load({
        "name": "r", "pools": [{"name": "a", "kind": "cpu", "count": 2, "memory": 10,
                                "throughput": 1},
                               {"name": "b", "kind": "gpu", "count": 1, "memory": 10,
                                "throughput": 2}],
        "tasks": [{"name": "x", "compute": 4, "memory": 1},
                  {"name": "y", "compute": 4, "memory": 1, "allowed_pools": ["b"]}],
        "time": {"x": {"a": 3, "b": 1}, "y": {"b": 5}}, "cost": {"x": {"a": 0.5}}})
    a, b = problem.pools
    pools = (dataclasses.replace(a, name="a[1]", count=1), dataclasses.replace(b, name="b[0]"))
    tasks = (problem.tasks[0], dataclasses.replace(problem.tasks[1], allowed_pools=("b[0]",)))
    sub = problem.restricted("r/sub", tasks, pools, {"a[1]": "a", "b[0]": "b"}, 100.0)
    assert sub.time == {"x": {"a[1]": 3, "b[0]": 1}, "y": {"b[0]": 5}}
    assert sub.cost == {"x": {"a[1]": 0.5}} and sub.throughput == {}
    assert (sub.name, sub.horizon, sub.objective) == ("r/sub", 100.0, problem.objective)
    assert sub.ptime.tolist() == [[3.0, 1.0], [float("inf"), 5.0]]
