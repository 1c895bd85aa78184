"""verify() recomputes everything and catches hand-corrupted plans."""

from __future__ import annotations

import dataclasses

import pytest

import allocator
from allocator.domain.plan import Slot, sequence

from .conftest import PROBLEMS, solved


@pytest.fixture
def memory_case():
    problem = allocator.load(PROBLEMS / "small/memory-eligibility.yaml")
    return problem, solved(problem)


def _with(plan, assignment=None, **changes):
    problem = changes.pop("problem")
    if assignment is not None:
        changes.setdefault("schedule", sequence(problem, assignment))
        changes["assignment"] = assignment
    return dataclasses.replace(plan, **changes)


def test_task_on_a_device_it_does_not_fit(memory_case):
    problem, plan = memory_case
    assignment = dict(plan.assignment, huge="small[0]")
    errors = allocator.verify(problem, _with(plan, assignment, problem=problem))
    assert any("task 'huge' needs" in e and "small[0]" in e for e in errors), errors


def test_task_missing(memory_case):
    problem, plan = memory_case
    assignment = {k: v for k, v in plan.assignment.items() if k != "t1"}
    errors = allocator.verify(problem, _with(plan, assignment, problem=problem))
    assert "task 't1' is not assigned" in errors


def test_task_twice(memory_case):
    problem, plan = memory_case
    slot = next(s for s in plan.schedule if s.task == "t1")
    twice = plan.schedule + (Slot("t1", slot.device, 100.0, 100.0 + slot.end - slot.start),)
    errors = allocator.verify(problem, dataclasses.replace(plan, schedule=twice))
    assert any("'t1' appears 2 times" in e for e in errors), errors


def test_unknown_device(memory_case):
    problem, plan = memory_case
    assignment = dict(plan.assignment, t2="small[7]")
    bad = dataclasses.replace(plan, assignment=assignment)
    assert any("unknown device 'small[7]'" in e for e in allocator.verify(problem, bad))


def test_wrong_duration_and_overlap(memory_case):
    problem, plan = memory_case
    slots = list(plan.schedule)
    k = next(i for i, s in enumerate(slots) if s.device == "small[0]")
    slots[k] = dataclasses.replace(slots[k], end=slots[k].end + 1.0)
    errors = allocator.verify(problem, dataclasses.replace(plan, schedule=tuple(slots)))
    assert any("lasts" in e for e in errors), errors
    assert any("overlap" in e for e in errors), errors


def test_false_objective_and_bound(memory_case):
    problem, plan = memory_case
    assert any("states objective" in e
               for e in allocator.verify(problem, dataclasses.replace(plan, objective=5.0)))
    assert any("wrong side" in e
               for e in allocator.verify(problem, dataclasses.replace(plan, bound=7.0)))


def test_missed_deadline():
    problem = allocator.load(PROBLEMS / "small/deadlines.yaml")
    plan = solved(problem)
    swapped = {"a": "slow[0]", "b": "fast[0]", "c": "fast[0]"}
    bad = _with(plan, swapped, problem=problem, objective=None)
    assert any("after its deadline" in e for e in allocator.verify(problem, bad))


def test_amounts_over_demand_and_capacity():
    problem = allocator.load(PROBLEMS / "seed-weighted-shortfall-tight.yaml")
    plan = solved(problem)
    amounts = {t: dict(a) for t, a in plan.amounts.items()}
    amounts["subtask-1"]["cpu"] = 150 * 3600.0           # more than its 100 h demand
    amounts["subtask-2"]["gpu"] = 200 * 3600.0           # GPU now over its 300 h capacity
    errors = allocator.verify(problem, dataclasses.replace(plan, amounts=amounts))
    assert any("subtask-1" in e and "outside" in e for e in errors), errors
    assert any(e.startswith("gpu is allocated") for e in errors), errors


def test_utilization_share_too_small():
    problem = allocator.load(PROBLEMS / "seed-utilization.yaml")
    plan = solved(problem)
    amounts = {t: dict(a) for t, a in plan.amounts.items()}
    amounts["T2"]["share"] = 0.2
    errors = allocator.verify(problem, dataclasses.replace(plan, amounts=amounts))
    assert any("T2" in e and "less than" in e for e in errors), errors


def test_split_fractions_must_sum_to_one():
    problem = allocator.load(PROBLEMS / "small/two-devices.yaml")
    plan = solved(problem, objective="load_balance")
    fractions = {t: dict(f) for t, f in plan.fractions.items()}
    task = next(iter(fractions))
    device = next(iter(fractions[task]))
    fractions[task][device] *= 0.5
    errors = allocator.verify(problem, dataclasses.replace(plan, fractions=fractions))
    assert any("fractions summing to" in e for e in errors), errors


def test_infeasible_plan_needs_a_reason():
    problem = allocator.load(PROBLEMS / "small/deadlines-infeasible.yaml", check=False)
    plan = solved(problem)
    assert plan.status == "infeasible"
    assert allocator.verify(problem, dataclasses.replace(plan, reason=None)) != []


def test_plan_round_trips_through_json_and_yaml(tmp_path, memory_case):
    problem, plan = memory_case
    for name in ("plan.json", "plan.yaml"):
        allocator.save_plan(plan, tmp_path / name)
        again = allocator.load_plan(tmp_path / name)
        assert again == plan
        assert allocator.verify(problem, again) == []
