"""Makespan on a cluster of nodes over time: gangs hold the same GPUs from start to end,
shares of one GPU add up to at most 1 at every moment, cores and memory at every moment.
Optima against an enumeration written from the problem's raw fields (every order, node and
GPU choice, each task at its earliest start); every plan checked by verify."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest

import allocator
from allocator import ProblemError
from allocator.domain.plan import Slot

HOUR = 3600.0


def _choices(node: dict, task: dict) -> list[tuple[int, ...]]:
    gpus = node.get("gpus", 0)
    if "gpu_share" in task:
        return [(g,) for g in range(gpus)]
    if task.get("gpus"):
        return list(itertools.combinations(range(gpus), task["gpus"]))
    return [()]


def _fits(node, placed, task, gpus, start, end) -> bool:
    """``task`` on ``gpus`` of ``node`` over [start, end), beside ``placed`` there."""
    moments = {start} | {s for _, _, s, _ in placed if start < s < end}
    for m in moments:
        now = [(t, g) for t, g, s, e in placed if s <= m < e] + [(task, gpus)]
        if sum(t.get("cpu", 0) for t, _ in now) > node["cpu"] or \
                sum(t.get("memory", 0) for t, _ in now) > node["memory"]:
            return False
        load: dict[int, float] = {}
        for t, gs in now:
            for g in gs:
                load[g] = load.get(g, 0.0) + t.get("gpu_share", 1.0)
        if any(v > 1 + 1e-9 for v in load.values()):
            return False
    return True


def brute_force(doc: dict) -> float:
    """The least makespan over every order of the tasks and every node and GPU choice, each
    task at the earliest start its node allows beside the tasks before it."""
    nodes = [(g["name"], g) for g in doc["nodes"] for _ in range(g.get("count", 1))]
    tasks = doc["tasks"]
    options = []
    for t in tasks:
        mine = []
        for n, (group, node) in enumerate(nodes):
            time = doc["time"].get(t["name"], {}).get(group)
            models = t.get("gpu_models")
            if time is None or (models and (t.get("gpus") or t.get("gpu_share"))
                                and node.get("gpu_model") not in models):
                continue
            mine += [(n, gs, time) for gs in _choices(node, t)]
        options.append(mine)
    best = float("inf")
    for order in itertools.permutations(range(len(tasks))):
        for pick in itertools.product(*(options[i] for i in order)):
            placed: dict[int, list] = {n: [] for n in range(len(nodes))}
            end = 0.0
            for i, (n, gs, time) in zip(order, pick):
                node = nodes[n][1]
                for start in sorted({0.0} | {e for _, _, _, e in placed[n]}):
                    if _fits(node, placed[n], tasks[i], gs, start, start + time):
                        placed[n].append((tasks[i], gs, start, start + time))
                        end = max(end, start + time)
                        break
                else:
                    end = float("inf")
                    break
            best = min(best, end)
    return best


def random_timed(seed: int) -> dict:
    rng = random.Random(seed)
    groups = []
    for g in range(rng.randint(1, 2)):
        node = {"name": f"n{g}", "count": rng.randint(1, 2), "cpu": rng.choice([8, 16]),
                "memory": rng.choice([32, 64])}
        gpus = rng.choice([0, 1, 2, 2])
        if gpus:
            node.update(gpus=gpus, gpu_model=rng.choice(["T4", "V100"]))
        groups.append(node)
    if not any(g.get("gpus") for g in groups):
        groups[0].update(gpus=2, gpu_model="T4")
    tasks, time = [], {}
    for i in range(rng.randint(2, 4)):
        t = {"name": f"t{i}", "cpu": rng.choice([2, 4, 8]), "memory": rng.choice([8, 16, 32])}
        kind = rng.random()
        if kind < 0.35:
            t["gpu_share"] = rng.choice([0.3, 0.5, 0.6])
        elif kind < 0.75:
            t["gpus"] = rng.choice([1, 1, 2])
        tasks.append(t)
        time[t["name"]] = {g["name"]: rng.choice([1, 2, 3]) * HOUR for g in groups}
    doc = {"name": f"timed{seed}", "objective": "node_makespan", "nodes": groups,
           "tasks": tasks, "time": time}
    problem = allocator.load(doc, check=False)
    fits = problem.allowed
    for i, t in enumerate(problem.tasks):            # null where it may not run
        for p, pool in enumerate(problem.pools):
            if not fits[i, p]:
                time[t.name][pool.name] = None
    doc["tasks"] = [t for i, t in enumerate(tasks) if fits[i].any()]   # those that fit
    doc["time"] = {t["name"]: time[t["name"]] for t in doc["tasks"]}
    return doc


@pytest.mark.parametrize("seed", range(30))
def test_the_optimum_is_the_enumerated_one_and_verifies(seed):
    doc = random_timed(seed)
    plan = allocator.solve(doc)
    problem = allocator.load(doc)
    expected = brute_force(doc)
    assert plan.status == "optimal", plan
    assert plan.objective == pytest.approx(expected)
    assert plan.bound == pytest.approx(expected)
    assert allocator.verify(problem, plan) == []
    assert sorted(plan.placements) == sorted(t["name"] for t in doc["tasks"])


def _doc(nodes, tasks, time):
    return {"name": "t", "objective": "node_makespan", "nodes": nodes, "tasks": tasks,
            "time": time}


def test_a_gang_waits_for_all_its_gpus():
    # One node, two GPUs: two 1-GPU jobs of 1 h side by side, then the 2-GPU gang for 2 h.
    doc = _doc([{"name": "g", "cpu": 16, "memory": 64, "gpus": 2}],
               [{"name": "gang", "cpu": 1, "memory": 1, "gpus": 2},
                {"name": "a", "cpu": 1, "memory": 1, "gpus": 1},
                {"name": "b", "cpu": 1, "memory": 1, "gpus": 1}],
               {"gang": {"g": 2 * HOUR}, "a": {"g": HOUR}, "b": {"g": HOUR}})
    plan = allocator.solve(doc)
    assert plan.status == "optimal" and plan.objective == 3 * HOUR
    gang = next(s for s in plan.schedule if s.task == "gang")
    assert plan.placements["gang"].gpus == (0, 1) and (gang.start, gang.end) in (
        (0.0, 2 * HOUR), (HOUR, 3 * HOUR))


def test_shares_of_one_gpu_over_time():
    # One GPU: 0.6 and 0.4 together for 1 h, the other 0.6 after: 2 h (0.6 + 0.6 > 1).
    doc = _doc([{"name": "g", "cpu": 16, "memory": 64, "gpus": 1}],
               [{"name": n, "cpu": 1, "memory": 1, "gpu_share": s}
                for n, s in (("x", 0.6), ("y", 0.6), ("z", 0.4))],
               {n: {"g": HOUR} for n in "xyz"})
    plan = allocator.solve(doc)
    assert plan.objective == 2 * HOUR and plan.bound == 2 * HOUR
    starts = {s.task: s.start for s in plan.schedule}
    assert starts["x"] != starts["y"]


def test_cores_run_out_before_gpus():
    # 8 cores: two 6-core jobs cannot overlap, though the node has 4 free GPUs.
    doc = _doc([{"name": "g", "cpu": 8, "memory": 64, "gpus": 4}],
               [{"name": n, "cpu": 6, "memory": 1, "gpus": 1} for n in "ab"],
               {n: {"g": HOUR} for n in "ab"})
    assert allocator.solve(doc).objective == 2 * HOUR


def test_times_off_the_grid_round_up_and_stay_honest():
    # 1 h and 1 h + 0.5 s: the exact slot (0.5 s) needs too many slots, so a coarser one.
    doc = _doc([{"name": "g", "cpu": 16, "memory": 64, "gpus": 2}],
               [{"name": "a", "cpu": 1, "memory": 1, "gpus": 2},
                {"name": "b", "cpu": 1, "memory": 1, "gpus": 1},
                {"name": "c", "cpu": 1, "memory": 1, "gpus": 1}],
               {"a": {"g": HOUR}, "b": {"g": HOUR + 0.5}, "c": {"g": HOUR + 0.5}})
    plan = allocator.solve(doc)
    problem = allocator.load(doc)
    assert allocator.verify(problem, plan) == []
    best = brute_force(doc)                                  # 2 h + 0.5 s
    assert plan.bound <= best + 1e-6 and plan.objective >= best - 1e-6
    assert plan.objective <= best * 1.05


def test_verify_catches_overlaps_short_slots_and_missing_tasks():
    doc = _doc([{"name": "g", "cpu": 16, "memory": 64, "gpus": 2}],
               [{"name": "gang", "cpu": 1, "memory": 1, "gpus": 2},
                {"name": "a", "cpu": 1, "memory": 1, "gpus": 1}],
               {"gang": {"g": 2 * HOUR}, "a": {"g": HOUR}})
    problem = allocator.load(doc)
    plan = allocator.solve(problem)
    assert allocator.verify(problem, plan) == []
    together = tuple(Slot(s.task, s.device, 0.0, s.end - s.start) for s in plan.schedule)
    wrong = allocator.verify(problem, dataclasses.replace(plan, schedule=together))
    assert any("shared beyond itself at 0 s" in w for w in wrong)
    short = tuple(dataclasses.replace(s, end=s.start + 60.0) if s.task == "a" else s
                  for s in plan.schedule)
    assert any("needs 3600 s" in w for w in allocator.verify(
        problem, dataclasses.replace(plan, schedule=short)))
    dropped = dataclasses.replace(
        plan, placements={"gang": plan.placements["gang"]}, assignment={"gang": "g[0]"},
        schedule=tuple(s for s in plan.schedule if s.task == "gang"), unplaced=("a",))
    assert any("'a' is not placed" in w for w in allocator.verify(problem, dropped))


def test_inputs_it_needs_are_named():
    doc = _doc([{"name": "g", "cpu": 16, "memory": 64, "gpus": 2},
                {"name": "c", "cpu": 16, "memory": 64}],
               [{"name": "etl", "cpu": 1, "memory": 1}], {"etl": {"g": HOUR}})
    with pytest.raises(ProblemError, match="'etl' may run on node group 'c' but has no time"):
        allocator.solve(doc)
    doc["time"]["etl"]["c"] = None                      # null keeps it off c
    assert allocator.solve(doc).placements["etl"].node == "g[0]"
    doc["tasks"][0]["gpus"] = 4                         # no node has 4 GPUs
    with pytest.raises(ProblemError, match="'etl' fits on no node"):
        allocator.solve(doc)
    with pytest.raises(allocator.AllocatorError, match="planned in time slots"):
        allocator.solve(_doc([{"name": "g", "cpu": 1, "memory": 1}],
                             [{"name": "x", "cpu": 1, "memory": 1}], {"x": {"g": 1.0}}),
                        strategy="configurations")


@pytest.mark.parametrize("seed", range(12))
def test_heuristics_verify_and_never_beat_the_optimum(seed):
    doc = random_timed(seed)
    comparison = allocator.compare(doc)                  # every plan verified inside
    optimum = comparison.row("optimal").objective
    assert optimum == pytest.approx(brute_force(doc))
    for method in ("backfill", "lpt", "widest_first"):
        row = comparison.row(method)
        assert row.status == "feasible" and row.objective >= optimum - 1e-6


def test_backfill_fills_a_gap_without_delaying_the_first():
    # File order: the gang waits for b (1 h); c (1 GPU, 1 h) fits beside b at 0 s.
    doc = _doc([{"name": "g", "cpu": 16, "memory": 64, "gpus": 2}],
               [{"name": "b", "cpu": 1, "memory": 1, "gpus": 1},
                {"name": "gang", "cpu": 1, "memory": 1, "gpus": 2},
                {"name": "c", "cpu": 1, "memory": 1, "gpus": 1}],
               {"b": {"g": HOUR}, "gang": {"g": HOUR}, "c": {"g": HOUR}})
    plan = allocator.solve(doc, method="backfill")
    starts = {s.task: s.start for s in plan.schedule}
    assert starts == {"b": 0.0, "gang": HOUR, "c": 0.0} and plan.objective == 2 * HOUR
    with pytest.raises(allocator.AllocatorError, match="does not schedule tasks over time"):
        allocator.solve(doc, method="first_fit")


def test_list_schedules_take_higher_priority_first():
    # One GPU, two 1-h jobs: the file lists the low-priority one first; it runs second.
    doc = _doc([{"name": "g", "cpu": 16, "memory": 64, "gpus": 1}],
               [{"name": "batch", "cpu": 1, "memory": 1, "gpus": 1},
                {"name": "serve", "cpu": 1, "memory": 1, "gpus": 1, "priority": 5}],
               {"batch": {"g": HOUR}, "serve": {"g": HOUR}})
    for method in ("backfill", "lpt", "widest_first"):
        starts = {s.task: s.start for s in allocator.solve(doc, method=method).schedule}
        assert starts == {"serve": 0.0, "batch": HOUR}, method


def test_times_far_apart_get_a_coarse_grid_not_a_huge_one():
    # 1e9 s and 1 ms: their common slot (1 ms) would need 1e12 slots; the grid coarsens
    # first, and the plan stays feasible and honest (the long job alone bounds it).
    doc = _doc([{"name": "g", "cpu": 4, "memory": 8, "gpus": 1}],
               [{"name": "long", "cpu": 1, "memory": 1, "gpus": 1},
                {"name": "blip", "cpu": 1, "memory": 1}],
               {"long": {"g": 1e9}, "blip": {"g": 1e-3}})
    plan = allocator.solve(doc)
    assert allocator.verify(allocator.load(doc), plan) == []
    assert plan.bound == pytest.approx(1e9) and plan.objective == pytest.approx(1e9, rel=0.02)


def test_past_the_models_size_the_list_schedule_is_the_plan(monkeypatch):
    from allocator.solver import timed
    monkeypatch.setattr(timed, "MAX_COLUMNS", 1)
    doc = random_timed(3)
    plan = allocator.solve(doc)
    lpt = allocator.solve(doc, method="lpt")
    assert plan.objective == lpt.objective and plan.solver is None
    assert allocator.verify(allocator.load(doc), plan) == []
    assert plan.bound <= brute_force(doc) + 1e-6 <= plan.objective + 2e-6
