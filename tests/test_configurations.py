"""The configurations strategy for large clusters: task types (apply / invert), pricing against
an enumeration of one node's contents, and whole solves bracketing the enumerated optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import allocator
from allocator.backends import SolveOptions, get_backend
from allocator.model import pricing as pricing_module
from allocator.model.configurations import Types
from allocator.model.pricing import fills, pricing
from allocator.objectives import packing
from allocator.reductions.task_types import TaskTypes
from allocator.solver.strategy import choose_strategy

from .test_packing import _fits_gpus, brute_force, random_cluster


@pytest.mark.parametrize("seed", range(25))
def test_plan_and_bound_bracket_the_enumerated_optimum(seed):
    doc = random_cluster(seed)
    problem = allocator.load(doc)
    plan = allocator.solve(problem, strategy="configurations")
    best = brute_force(doc)
    assert plan.strategy == "configurations" and allocator.verify(problem, plan) == []
    assert plan.objective <= best + 1e-9
    assert plan.bound is not None and plan.bound >= best - 1e-6
    if plan.status == "optimal":
        assert plan.objective == pytest.approx(best)


def test_identical_tasks_become_one_type_and_come_back_distinct():
    problem = allocator.load({"name": "c", "objective": "packing",
                              "nodes": [{"name": "n", "cpu": 8, "memory": "8Gi"}],
                              "tasks": [{"name": n, "cpu": c} for n, c in
                                        [("a", 1), ("b", 2), ("c", 1), ("d", 1), ("e", 2)]]})
    kinds = TaskTypes.apply(problem)
    assert list(kinds.count) == [3, 2] and list(kinds.first) == [0, 1]
    tasks = kinds.invert(np.array([0, 1, 0, 0]))
    assert [problem.tasks[i].name for i in tasks] == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="more slots"):
        kinds.invert(np.array([1, 1, 1]))


def _best_single_node(doc, group, reward, kinds, problem):
    """The most rewarding contents of one node of ``group``, by enumeration of counts."""
    node = doc["nodes"][group]
    first = [problem.tasks[i] for i in kinds.first]
    ranges = [range(int(c) + 1) if problem.allowed[kinds.first[t], group] else range(1)
              for t, c in enumerate(kinds.count)]
    best = 0.0
    for counts in itertools.product(*ranges):
        if sum(k * (t.cpu or 0) for k, t in zip(counts, first)) > node["cpu"]:
            continue
        if sum(k * (t.memory or 0) for k, t in zip(counts, first)) > node["memory"]:
            continue
        gangs = [t.gpus for k, t in zip(counts, first) for _ in range(k) if t.gpu_share is None]
        shares = [t.gpu_share for k, t in zip(counts, first) for _ in range(k)
                  if t.gpu_share is not None]
        if not _fits_gpus(node.get("gpus", 0), gangs, shares):
            continue
        best = max(best, float(np.dot(counts, reward)))
    return best


@pytest.mark.parametrize("by_gpu", [False, True])
@pytest.mark.parametrize("seed", range(15))
def test_pricing_finds_the_best_contents_of_one_node(seed, by_gpu, monkeypatch):
    if by_gpu:
        monkeypatch.setattr(pricing_module, "FILLS_MOST", 0)
    doc = random_cluster(seed)
    problem = allocator.load(doc)
    kinds = TaskTypes.apply(problem)
    types = Types.of(problem, kinds.first, kinds.count,
                     packing.worth(problem)[kinds.first])
    rng = np.random.default_rng(seed)
    reward = types.value - rng.uniform(0, 0.5, types.value.size)
    for g in range(len(problem.pools)):
        want = _best_single_node(doc, g, np.maximum(reward, 0) * (reward > 1e-9), kinds,
                                 problem)
        built = pricing(types, g, reward)
        if built is None:
            assert want == 0.0
            continue
        model, decode = built
        raw = get_backend("highs").solve(model, SolveOptions())
        assert -raw.objective == pytest.approx(want, abs=1e-6)
        pattern = decode(raw.x)
        assert float(pattern.counts(types.count.size) @ reward) == pytest.approx(want)


def test_auto_switches_to_configurations_beyond_the_full_models_size(monkeypatch):
    problem = allocator.load(random_cluster(4))
    assert choose_strategy(problem, "packing") == "full"
    monkeypatch.setattr(packing, "FULL_COLUMNS", 1)
    assert choose_strategy(problem, "packing") == "configurations"
    with pytest.raises(allocator.AllocatorError, match="plans devices"):
        choose_strategy(problem, "packing", "aggregated")


def test_a_backend_without_duals_is_refused():
    problem = allocator.load(random_cluster(4))
    with pytest.raises(allocator.AllocatorError, match="needs an LP's duals"):
        allocator.solve(problem, strategy="configurations", backend="scipy")


@pytest.mark.parametrize("seed", range(15))
def test_the_groups_totals_bound_every_placement(seed):
    from allocator.model.configurations import aggregate
    doc = random_cluster(seed)
    problem = allocator.load(doc)
    kinds = TaskTypes.apply(problem)
    types = Types.of(problem, kinds.first, kinds.count, packing.worth(problem)[kinds.first])
    raw = get_backend("highs").solve(aggregate(types), SolveOptions())
    assert -raw.objective >= brute_force(doc) - 1e-6


def test_progress_hears_each_rounds_bound_and_it_never_rises():
    problem = allocator.load("problems/small/gpu-sharing.yaml")
    heard = []
    plan = allocator.solve(problem, strategy="configurations",
                           progress=lambda seconds, incumbent, bound: heard.append(bound))
    assert heard and all(b >= plan.objective - 1e-9 for b in heard)
    assert all(a >= b for a, b in zip(heard, heard[1:]))
    assert plan.status == "optimal" and plan.objective == pytest.approx(12.0)


def test_the_fills_cover_every_way_to_share_one_gpu_and_are_most_full():
    values, caps = np.array([0.2, 0.3, 0.45, 0.6]), [3, 2, 2, 1]
    found = fills(values, caps)
    every = [c for c in itertools.product(*(range(k + 1) for k in caps))
             if np.dot(c, values) <= 1 + 1e-9]
    for counts in every:                          # within some fill
        assert any(np.all(np.array(counts) <= f) for f in found), counts
    for f in found:                               # nothing more fits, and each is a real way
        assert np.dot(f, values) <= 1 + 1e-9
        assert all(f[j] >= caps[j] or np.dot(f, values) + values[j] > 1 + 1e-9
                   for j in range(values.size))
    assert len({tuple(f) for f in found}) == len(found)
    assert fills(values, caps, len(found)) is not None and fills(values, caps, 3) is None


def _packs(bins: int, shares: list[float]) -> bool:
    """Shares into ``bins`` GPUs of capacity 1, by trying each GPU for each share in turn."""
    def place(i: int, load: list[float]) -> bool:
        if i == len(shares):
            return True
        return any(load[b] + shares[i] <= 1 + 1e-9 and place(i + 1, load[:b] + [load[b] + shares[i]]
                                                              + load[b + 1:])
                   for b in range(bins))
    return place(0, [0.0] * bins)


@pytest.mark.parametrize("by_gpu", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_pricing_packs_many_shares_on_one_node_as_an_enumeration_does(seed, by_gpu,
                                                                       monkeypatch):
    if by_gpu:                                    # as with too many share values for fills
        monkeypatch.setattr(pricing_module, "FILLS_MOST", 0)
    shares = [0.6, 0.45, 0.3, 0.25]
    tasks = [{"name": f"s{k}-{j}", "cpu": 1 + k % 2, "memory": 2, "gpu_share": s}
             for k, s in enumerate(shares) for j in range(3)]
    tasks += [{"name": "pair", "cpu": 4, "memory": 4, "gpus": 2},
              {"name": "one-a", "cpu": 2, "memory": 8, "gpus": 1},
              {"name": "one-b", "cpu": 2, "memory": 8, "gpus": 1}]
    doc = {"name": "dense", "objective": "packing", "tasks": tasks,
           "nodes": [{"name": "n", "cpu": 16, "memory": 32, "gpus": 4, "gpu_model": "A10"}]}
    problem = allocator.load(doc)
    kinds = TaskTypes.apply(problem)
    types = Types.of(problem, kinds.first, kinds.count, packing.worth(problem)[kinds.first])
    reward = types.value * np.random.default_rng(seed).uniform(0.5, 1.5, types.value.size)
    first = [problem.tasks[i] for i in kinds.first]
    best = 0.0
    for counts in itertools.product(*(range(int(c) + 1) for c in kinds.count)):
        chosen = [t for k, t in zip(counts, first) for _ in range(k)]
        if sum(t.cpu for t in chosen) > 16 or sum(t.memory for t in chosen) > 32:
            continue
        gangs = sum(t.gpus for t in chosen if t.gpu_share is None and t.gpus)
        if gangs <= 4 and _packs(4 - gangs, [t.gpu_share for t in chosen if t.gpu_share]):
            best = max(best, float(np.dot(counts, reward)))
    model, decode = pricing(types, 0, reward)
    raw = get_backend("highs").solve(model, SolveOptions())
    assert -raw.objective == pytest.approx(best)
    pattern = decode(raw.x)                       # its GPUs: gangs apart, shares within 1
    load = np.zeros(4)
    for t, gpus in pattern.slots:
        load[list(gpus)] += types.share[t] if types.share[t] else 1.0
    assert load.max() <= 1 + 1e-9
    assert float(pattern.counts(types.count.size) @ reward) == pytest.approx(best)


def _halves():
    return allocator.load({"name": "halves", "objective": "fragmentation", "nodes": [
        {"name": "n", "count": 2, "cpu": 64, "memory": 64, "gpus": 2, "gpu_model": "T4"}],
        "tasks": [{"name": "s1", "cpu": 1, "memory": 1, "gpu_share": 0.5},
                  {"name": "s2", "cpu": 1, "memory": 1, "gpu_share": 0.5},
                  {"name": "w", "cpu": 1, "memory": 1, "gpus": 1}]})


def test_the_second_aim_moves_tasks_to_leave_no_fragment(monkeypatch):
    from allocator.backends import get_backend
    from allocator.domain.fragmentation import cluster_fragmentation
    from allocator.heuristics.placement import place
    from allocator.objectives.fragmentation import node_cost
    from allocator.solver.budget import Budget
    from allocator.solver.configurations import Patterns, _least_cost
    problem = _halves()
    kinds = TaskTypes.apply(problem)
    types = Types.of(problem, kinds.first, kinds.count, packing.worth(problem)[kinds.first])
    patterns = Patterns(problem, kinds)
    patterns.of(place(problem, "first_fit_decreasing"))      # both halves on one GPU
    # The halves on two nodes: each keeps a half GPU free, which the whole-GPU tasks (1/3 of
    # the GPU tasks) cannot use: F = 2 x 1/3 x 0.5.
    spread = {"s1": allocator.Placement("n[0]", (0,), 0.5),
              "s2": allocator.Placement("n[1]", (0,), 0.5),
              "w": allocator.Placement("n[0]", (1,), 1.0)}
    assert cluster_fragmentation(problem, spread) == pytest.approx(1 / 3)
    placed = _least_cost(problem, kinds, types, patterns, [spread], node_cost(problem),
                         get_backend("highs"), SolveOptions(), Budget(None))
    assert sorted(placed) == ["s1", "s2", "w"]
    assert cluster_fragmentation(problem, placed) == 0.0
    assert placed["s1"].node == placed["s2"].node and placed["s1"].gpus == placed["s2"].gpus
    # Given several starts, it starts from the least fragmented: with a solver that finds
    # nothing better, that start is the answer.
    packed = {"s1": allocator.Placement("n[1]", (0,), 0.5),
              "s2": allocator.Placement("n[1]", (0,), 0.5),
              "w": allocator.Placement("n[0]", (0,), 1.0)}
    assert cluster_fragmentation(problem, packed) == 0.0
    monkeypatch.setattr(get_backend("highs"), "solve", lambda *a, **k: type(
        "Raw", (), {"x": None})())
    chosen = _least_cost(problem, kinds, types, patterns, [spread, packed],
                         node_cost(problem), get_backend("highs"), SolveOptions(), Budget(None))
    assert cluster_fragmentation(problem, chosen) == 0.0


def test_the_fragmentation_objective_places_the_optimum_and_leaves_no_fragment_here():
    problem = _halves()
    plan = allocator.solve(problem)
    assert plan.strategy == "configurations" and plan.status == "optimal"
    assert plan.objective == pytest.approx(2.0) and allocator.verify(problem, plan) == []
    assert allocator.evaluate(problem, plan).fragmentation == 0.0
    with pytest.raises(allocator.AllocatorError, match="planned by the configurations"):
        allocator.solve(problem, strategy="full")


@pytest.mark.parametrize("seed", range(20))
def test_fragmentation_places_as_much_as_packing_and_fragments_no_more(seed):
    doc = random_cluster(seed)
    problem = allocator.load(doc)
    first = allocator.solve(problem, objective="packing", strategy="configurations")
    plan = allocator.solve(problem, objective="fragmentation")
    assert allocator.verify(problem, plan) == []
    assert plan.objective == pytest.approx(brute_force(doc)) == pytest.approx(first.objective)
    # The second stage starts from the first stage's plan and keeps it unless it finds less;
    # first fit may then add a task that was left out (more placed, possibly more F).
    if len(plan.placements) == len(first.placements) and problem.gpu_count:
        assert allocator.evaluate(problem, plan).fragmentation <= \
            allocator.evaluate(problem, first).fragmentation + 1e-9


@pytest.mark.parametrize("limit, starts", [(None, ["first_fit_decreasing", "least_allocated"]),
                                           (10.0, ["first_fit_decreasing"])])
def test_a_short_time_limit_starts_from_the_quicker_placement_only(monkeypatch, limit, starts):
    from allocator.solver import configurations
    called = []

    def place(problem, method):
        called.append(method)
        return real(problem, method)
    real = configurations.place
    monkeypatch.setattr(configurations, "place", place)
    problem = allocator.load(random_cluster(4))
    plan = allocator.solve(problem, strategy="configurations", time_limit=limit)
    assert called == starts and allocator.verify(problem, plan) == []


@pytest.mark.parametrize("seed", range(12))
def test_the_bound_without_gpu_models_bounds_both_problems(seed):
    # Random clusters whose GPU tasks accept one model each, so that dropping the models
    # merges types. The relaxation's bound is at least the enumerated optimum with models
    # and without them.
    from allocator.heuristics.placement import place
    from allocator.solver.budget import Budget
    from allocator.solver.configurations import (Patterns, _relaxed_bound, _translated,
                                                 _without_models)
    doc = random_cluster(seed)
    for t in doc["tasks"]:
        if t.get("gpus") or t.get("gpu_share"):
            t["gpu_models"] = ["T4"] if int(t["name"][1:]) % 2 else ["V100"]
    free = {**doc, "tasks": [{k: v for k, v in t.items() if k != "gpu_models"}
                             for t in doc["tasks"]]}
    problem = allocator.load(doc)
    kinds = TaskTypes.apply(problem)
    relaxed = _without_models(problem, kinds.count.size + 1)     # always accepted here
    assert relaxed is not None and relaxed[1].count.size <= kinds.count.size
    patterns = Patterns(problem, kinds)                 # the problem's own, read over
    patterns.of(place(problem, "first_fit_decreasing"))  # the relaxation's types; or none
    for known in (_translated(patterns.items, kinds, relaxed[1]), []):
        bound = _relaxed_bound(relaxed, known, get_backend("highs"), SolveOptions(),
                               Budget(None), 1.0)
        assert bound >= brute_force(doc) - 1e-6 and bound >= brute_force(free) - 1e-6
    assert _without_models(allocator.load(free), 10 ** 6) is None    # no models: none

