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
