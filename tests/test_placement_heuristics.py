"""Placement heuristics on clusters of nodes: each scorer's choice against a hand count, every
plan feasible (verify) and never above the optimum, FGD's fragmentation measure by hand."""

from __future__ import annotations

import numpy as np
import pytest

import allocator
from allocator.domain.cluster_state import ClusterState
from allocator.heuristics import PLACEMENT_HEURISTICS
from allocator.domain.fragmentation import cluster_fragmentation, fragmentation, workload
from allocator.heuristics.placement import SCORES, place

from .test_packing import brute_force, random_cluster


def _cluster(nodes, tasks):
    return allocator.load({"name": "c", "objective": "packing", "nodes": nodes, "tasks": tasks})


@pytest.mark.parametrize("method", PLACEMENT_HEURISTICS)
@pytest.mark.parametrize("seed", range(12))
def test_every_heuristic_plan_verifies_and_stays_below_the_optimum(method, seed):
    doc = random_cluster(seed)
    problem = allocator.load(doc)
    plan = allocator.solve(problem, method=method)
    assert plan.status == "feasible" and plan.method == method
    assert allocator.verify(problem, plan) == []
    assert plan.objective <= brute_force(doc) + 1e-9


def _two_nodes():
    # Node a: 8 cores, 2 GPUs; node b: 16 cores, 2 GPUs. A 4-core task on a is already there.
    problem = _cluster([{"name": "a", "cpu": 8, "memory": "16Gi", "gpus": 2, "gpu_model": "T4"},
                        {"name": "b", "cpu": 16, "memory": "16Gi", "gpus": 2,
                         "gpu_model": "T4"}],
                       [{"name": "old", "cpu": 4, "memory": "4Gi", "allowed_pools": ["a"]},
                        {"name": "new", "cpu": 2, "memory": "4Gi", "gpus": 1}])
    state = ClusterState(problem)
    state.place(0, 0)
    return problem, state


def test_scores_by_hand():
    problem, state = _two_nodes()
    nodes = np.array([0, 1])
    # After placing "new": a uses 6/8 cores, 8/16 GiB, 1/2 GPUs; b uses 2/16, 4/16, 1/2.
    used_a, used_b = np.array([6 / 8, 8 / 16, 1 / 2]), np.array([2 / 16, 4 / 16, 1 / 2])
    least = SCORES["least_allocated"](state, 1, nodes)
    assert least == pytest.approx([np.mean(1 - used_a), np.mean(1 - used_b)])
    most = SCORES["most_allocated"](state, 1, nodes)
    assert most == pytest.approx([np.mean(used_a), np.mean(used_b)])
    balanced = SCORES["balanced_allocation"](state, 1, nodes)
    assert balanced == pytest.approx([1 - np.std(used_a), 1 - np.std(used_b)])
    # Demand / capacity times free / capacity: a has 4 of 8 cores, 12 of 16 GiB, 2 GPUs free.
    dot = SCORES["dot_product"](state, 1, nodes)
    assert dot == pytest.approx([2 / 8 * 4 / 8 + 4 / 16 * 12 / 16 + 1 / 2 * 2 / 2,
                                 2 / 16 * 16 / 16 + 4 / 16 * 16 / 16 + 1 / 2 * 2 / 2])
    assert SCORES["first_fit"](state, 1, nodes)[0] > SCORES["first_fit"](state, 1, nodes)[1]


def test_spread_and_bin_pack_choose_opposite_nodes():
    problem, _ = _two_nodes()
    assert place(problem, "least_allocated")["new"].node == "b[0]"
    assert place(problem, "most_allocated")["new"].node == "a[0]"
    assert place(problem, "first_fit")["new"].node == "a[0]"


def test_fragmentation_by_hand():
    # One node type, two GPUs; the workload: half the GPU tasks take a whole GPU, half 0.5.
    problem = _cluster([{"name": "n", "cpu": 64, "memory": "64Gi", "gpus": 2,
                         "gpu_model": "T4"}],
                       [{"name": "w", "cpu": 1, "gpus": 1}, {"name": "s", "cpu": 1,
                                                              "gpu_share": 0.5}])
    state = ClusterState(problem)
    w = workload(problem)
    assert sorted(w.p) == [0.5, 0.5]
    cpu, mem = state.free[0, 0], state.free[0, 1]
    # GPUs free [1, 0.5]: the whole-GPU type cannot use the 0.5 (stranded 0.5); the share
    # type can use both (0). F = 0.5 x 0.5 + 0.5 x 0 = 0.25.
    assert fragmentation(w, 0, cpu, mem, np.array([1.0, 0.5])) == pytest.approx(0.25)
    # GPUs free [0.25, 0.5]: the whole type fits nowhere (all 0.75 stranded), the share type
    # uses the 0.5 but not the 0.25. F = 0.5 x 0.75 + 0.5 x 0.25 = 0.5.
    assert fragmentation(w, 0, cpu, mem, np.array([0.25, 0.5])) == pytest.approx(0.5)
    # Too few cores for every type: all free GPU capacity is stranded.
    assert fragmentation(w, 0, 0.5, mem, np.array([1.0, 1.0])) == pytest.approx(2.0)
    # The cluster's F after placing the share alone on GPU 1: GPUs free [1, 0.5], 0.25.
    placed = {"s": allocator.Placement("n[0]", (1,), 0.5)}
    assert cluster_fragmentation(problem, placed) == pytest.approx(0.25)
    assert cluster_fragmentation(problem, {}) == 0.0


def test_fgd_fills_the_half_used_gpu_where_spreading_would_fragment():
    # Node a is empty; node b has one GPU half used. A 0.5 share: FGD puts it on b's half GPU
    # (F of b falls from 0.25 to 0; a would rise to 0.25), LeastAllocated spreads it to a.
    problem = _cluster([{"name": "a", "cpu": 64, "memory": "64Gi", "gpus": 2, "gpu_model": "T4"},
                        {"name": "b", "cpu": 64, "memory": "64Gi", "gpus": 2,
                         "gpu_model": "T4"}],
                       [{"name": "first", "cpu": 1, "gpu_share": 0.5,
                         "allowed_pools": ["b"]},
                        {"name": "second", "cpu": 1, "gpu_share": 0.5},
                        {"name": "whole", "cpu": 1, "gpus": 1, "allowed_pools": ["a"]},
                        {"name": "whole2", "cpu": 1, "gpus": 1, "allowed_pools": ["a"]}])
    fgd = place(problem, "fgd")
    assert fgd["second"].node == "b[0]" and fgd["second"].gpus == fgd["first"].gpus
    assert place(problem, "least_allocated")["second"].node == "a[0]"
    assert len(fgd) == 4                       # and so both whole GPUs of a stay free


def test_an_unknown_heuristic_for_nodes_is_refused():
    problem, _ = _two_nodes()
    with pytest.raises(allocator.AllocatorError, match="does not place tasks on nodes"):
        allocator.solve(problem, method="lpt")


def test_compare_covers_the_placement_heuristics():
    doc = random_cluster(3)
    result = allocator.compare(allocator.load(doc))
    assert result.sense == "max"
    assert {r.method for r in result.rows} >= set(PLACEMENT_HEURISTICS) | {"optimal"}
    best = result.best_heuristic()
    assert best.objective == max(r.objective for r in result.rows
                                 if r.method in PLACEMENT_HEURISTICS)
    assert result.row("optimal").objective == pytest.approx(brute_force(doc))


def test_higher_priority_is_taken_first_as_kubernetes_queue_does():
    # One GPU: the file lists the low-priority task first; every heuristic places the other.
    doc = {"name": "prio", "objective": "packing",
           "nodes": [{"name": "g", "cpu": 8, "memory": 32, "gpus": 1}],
           "tasks": [{"name": "batch", "cpu": 1, "memory": 1, "gpus": 1},
                     {"name": "serve", "cpu": 1, "memory": 1, "gpus": 1, "priority": 10}]}
    problem = allocator.load(doc)
    for method in PLACEMENT_HEURISTICS:
        plan = allocator.solve(problem, method=method)
        assert list(plan.placements) == ["serve"] and plan.unplaced == ("batch",), method
