"""Packing on cluster nodes: partial placement of multi-resource tasks, gangs of whole GPUs on
one node, shares of one GPU (per GPU, not per node), GPU models. Optima against an
enumeration written from the problem's raw fields; every plan checked by verify."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest

import allocator
from allocator import ProblemError
from allocator.domain.plan import Placement


def _fits_gpus(gpus: int, gangs: list[int], shares: list[float]) -> bool:
    """Whole GPUs for the gangs, and the shares packed into the GPUs left (tried every way)."""
    left = gpus - sum(gangs)
    if left < 0:
        return False
    if not shares:
        return True
    if left == 0:
        return False
    for choice in itertools.product(range(left), repeat=len(shares)):
        load = [0.0] * left
        for s, g in zip(shares, choice):
            load[g] += s
        if max(load) <= 1 + 1e-9:
            return True
    return False


def brute_force(doc: dict) -> float:
    """The largest placed demand over every way to place or leave out each task."""
    nodes = [g for g in doc["nodes"] for _ in range(g.get("count", 1))]
    tasks = doc["tasks"]
    by_gpu = any(t.get("gpus") or t.get("gpu_share") for t in tasks)
    best = 0.0
    for choice in itertools.product(range(-1, len(nodes)), repeat=len(tasks)):
        ok, value = True, 0.0
        for n, node in enumerate(nodes):
            mine = [t for t, c in zip(tasks, choice) if c == n]
            if sum(t.get("cpu", 0) for t in mine) > node["cpu"] or \
                    sum(t.get("memory", 0) for t in mine) > node["memory"]:
                ok = False
                break
            if any((t.get("gpus") or t.get("gpu_share")) and "gpu_models" in t and
                   node.get("gpu_model") not in t["gpu_models"] for t in mine):
                ok = False
                break
            if not _fits_gpus(node.get("gpus", 0), [t.get("gpus", 0) for t in mine],
                              [t["gpu_share"] for t in mine if "gpu_share" in t]):
                ok = False
                break
        if not ok:
            continue
        for t, c in zip(tasks, choice):
            if c >= 0:
                amount = (t.get("gpu_share") or t.get("gpus", 0)) if by_gpu else t.get("cpu", 0)
                value += t.get("weight", 1) * amount
        best = max(best, value)
    return best


def random_cluster(seed: int) -> dict:
    rng = random.Random(seed)
    groups = []
    for g in range(rng.randint(1, 2)):
        gpus = rng.choice([0, 1, 2, 2, 4])
        node = {"name": f"n{g}", "count": rng.randint(1, 2), "cpu": rng.choice([4, 8, 16]),
                "memory": rng.choice([16, 32, 64])}
        if gpus:
            node.update(gpus=gpus, gpu_model=rng.choice(["T4", "V100"]))
        groups.append(node)
    tasks = []
    for i in range(rng.randint(2, 5)):
        t = {"name": f"t{i}", "cpu": rng.choice([1, 2, 4, 8]), "memory": rng.choice([4, 8, 16]),
             "weight": rng.choice([1, 1, 2])}
        kind = rng.random()
        if kind < 0.35:
            t["gpu_share"] = rng.choice([0.25, 0.4, 0.5, 0.6, 0.75])
        elif kind < 0.75:
            t["gpus"] = rng.choice([1, 1, 2, 4])
        if ("gpus" in t or "gpu_share" in t) and rng.random() < 0.3:
            t["gpu_models"] = [rng.choice(["T4", "V100"])]
        tasks.append(t)
    return {"name": f"cluster{seed}", "objective": "packing", "nodes": groups, "tasks": tasks}


@pytest.mark.parametrize("seed", range(40))
def test_the_optimum_is_the_enumerated_one_and_verifies(seed):
    doc = random_cluster(seed)
    problem = allocator.load(doc)
    plan = allocator.solve(problem)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(brute_force(doc), abs=1e-9)
    assert plan.bound == pytest.approx(plan.objective, abs=1e-6)
    assert allocator.verify(problem, plan) == []
    assert sorted(list(plan.placements) + list(plan.unplaced)) == \
        sorted(t["name"] for t in doc["tasks"])


def _cluster(nodes, tasks):
    return allocator.load({"name": "c", "objective": "packing", "nodes": nodes, "tasks": tasks})


def test_shares_are_packed_per_gpu_not_per_node():
    # Three 0.6 shares need 1.8 GPUs and the node has 2, but no GPU holds two of them.
    problem = _cluster([{"name": "n", "cpu": 8, "memory": "8Gi", "gpus": 2,
                         "gpu_model": "T4"}],
                       [{"name": f"s{k}", "cpu": 1, "gpu_share": 0.6} for k in range(3)])
    plan = allocator.solve(problem)
    assert plan.objective == pytest.approx(1.2) and len(plan.unplaced) == 1
    assert sorted(p.gpus for p in plan.placements.values()) == [(0,), (1,)]


def test_a_gang_holds_its_gpus_on_one_node():
    # Two nodes of one GPU each hold 2 GPUs between them, but not a 2-GPU gang.
    problem = _cluster([{"name": "n", "count": 2, "cpu": 8, "memory": "8Gi", "gpus": 1,
                         "gpu_model": "T4"}],
                       [{"name": "gang", "cpu": 1, "gpus": 2}, {"name": "one", "gpus": 1}])
    plan = allocator.solve(problem)
    assert plan.objective == 1.0 and plan.unplaced == ("gang",)


def test_a_whole_gpu_is_not_shared_and_a_gang_gets_distinct_gpus():
    problem = _cluster([{"name": "n", "cpu": 8, "memory": "8Gi", "gpus": 4,
                         "gpu_model": "A100"}],
                       [{"name": "gang", "gpus": 3}, {"name": "half", "gpu_share": 0.5},
                        {"name": "third", "gpu_share": 0.3},
                        {"name": "more", "gpus": 1, "weight": 0.5}])
    plan = allocator.solve(problem)
    # 3 whole GPUs and the two shares (0.8) on the fourth; "more" would be worth 0.5 there.
    assert plan.objective == pytest.approx(3.8) and plan.unplaced == ("more",)
    gang = plan.placements["gang"]
    assert len(set(gang.gpus)) == 3 and gang.gpu_share == 1.0
    assert plan.placements["half"].gpus == plan.placements["third"].gpus
    assert not set(plan.placements["half"].gpus) & set(gang.gpus)


def test_gpu_models_and_cores_decide_where_a_task_may_go():
    problem = _cluster([{"name": "t4", "cpu": 4, "memory": "8Gi", "gpus": 2, "gpu_model": "T4"},
                        {"name": "v100", "cpu": 64, "memory": "8Gi", "gpus": 1,
                         "gpu_model": "V100"}],
                       [{"name": "wants-v100", "cpu": 2, "gpus": 1, "gpu_models": ["V100"]},
                        {"name": "many-cores", "cpu": 8, "gpus": 1},
                        {"name": "any", "cpu": 1, "gpus": 2}])
    plan = allocator.solve(problem)
    # wants-v100 and many-cores both need the V100 node (only it has 8 cores); one GPU there.
    assert plan.objective == 3.0
    assert plan.placements["any"].node == "t4[0]"
    assert len(plan.unplaced) == 1 and plan.unplaced[0] in ("wants-v100", "many-cores")


def test_tasks_without_gpus_are_added_where_they_fit():
    problem = _cluster([{"name": "n", "cpu": 8, "memory": "8Gi", "gpus": 1, "gpu_model": "T4"}],
                       [{"name": "gpu", "cpu": 4, "gpus": 1}, {"name": "cpu-a", "cpu": 3},
                        {"name": "cpu-b", "cpu": 3}])
    plan = allocator.solve(problem)
    # The placed demand counts GPUs; of the CPU tasks, one fits beside the GPU task.
    assert plan.objective == 1.0 and len(plan.placements) == 2
    assert allocator.verify(problem, plan) == []


def test_without_gpu_requests_the_demand_is_cores():
    problem = _cluster([{"name": "n", "count": 2, "cpu": 10, "memory": "64Gi"}],
                       [{"name": f"t{k}", "cpu": c} for k, c in enumerate([6, 6, 5, 4, 3])])
    # 6+4 and 6+3 (19 cores), or 6+4 and 5+3... at most 19 of 20 fit: 6+4, 6+3 -> 19; 5 out.
    assert allocator.solve(problem).objective == 19.0


def test_node_names_are_the_clusters_own():
    problem = _cluster([{"name": "g", "names": ["node-a", "node-b"], "cpu": 1,
                         "memory": "1Gi", "gpus": 1, "gpu_model": "T4"}],
                       [{"name": "x", "gpus": 1}, {"name": "y", "gpus": 1}])
    plan = allocator.solve(problem)
    assert sorted(p.node for p in plan.placements.values()) == ["node-a", "node-b"]
    assert allocator.verify(problem, plan) == []


def test_the_plan_document_holds_the_placements(tmp_path):
    problem = _cluster([{"name": "n", "cpu": 8, "memory": "8Gi", "gpus": 2, "gpu_model": "T4"}],
                       [{"name": "s", "gpu_share": 0.5}, {"name": "w", "gpus": 1},
                        {"name": "c", "cpu": 1}, {"name": "big", "gpus": 2, "weight": 0.5}])
    plan = allocator.solve(problem)
    doc = plan.to_dict()
    assert doc["placements"]["c"] == {"node": "n[0]", "gpus": [], "gpu_share": 0.0}
    assert doc["placements"]["s"]["gpu_share"] == 0.5 and doc["unplaced"] == ["big"]
    allocator.save_plan(plan, tmp_path / "plan.json")
    again = allocator.load_plan(tmp_path / "plan.json")
    assert again.placements == plan.placements and again.unplaced == plan.unplaced
    assert allocator.verify(problem, again) == []


@pytest.mark.parametrize("change, words", [
    (lambda p: {**p, "s": Placement("n[0]", (0,), 0.5)}, "shared beyond itself"),
    (lambda p: {**p, "w": Placement("n[0]", (0, 1), 1.0)}, "uses 2 GPUs but needs 1"),
    (lambda p: {**p, "w": Placement("n[0]", (5,), 1.0)}, "GPUs 0 to 1"),
    (lambda p: {**p, "s": Placement("n[0]", (1,), 0.25)}, "asks for 0.5"),
    (lambda p: {**p, "s": Placement("m[0]", (1,), 0.5)}, "unknown node"),
])
def test_verify_finds_each_broken_rule(change, words):
    problem = _cluster([{"name": "n", "cpu": 8, "memory": "8Gi", "gpus": 2, "gpu_model": "T4"}],
                       [{"name": "s", "gpu_share": 0.5}, {"name": "w", "gpus": 1}])
    plan = allocator.solve(problem)
    placements = change(dict(plan.placements))
    broken = dataclasses.replace(plan, placements=placements,
                                 assignment={t: p.node for t, p in placements.items()})
    assert any(words in e for e in allocator.verify(problem, broken)), \
        allocator.verify(problem, broken)


def test_verify_wants_every_task_placed_or_listed():
    problem = _cluster([{"name": "n", "cpu": 8, "memory": "8Gi"}],
                       [{"name": "a", "cpu": 4}, {"name": "b", "cpu": 8}])
    plan = allocator.solve(problem)
    broken = dataclasses.replace(plan, unplaced=())
    assert "task 'a' is neither placed nor listed unplaced" in allocator.verify(problem, broken)


@pytest.mark.parametrize("doc, words", [
    ({"nodes": [{"name": "n", "cpu": 1, "memory": 1}], "pools": [{"name": "p"}]},
     "either 'pools'"),
    ({"nodes": [{"name": "n", "cpu": 1, "memory": 1, "gpu": 2}]}, "did you mean 'gpus'"),
    ({"nodes": [{"name": "n", "memory": 1}]}, "missing required key 'cpu'"),
    ({"nodes": [{"name": "n", "cpu": "2 GiB", "memory": 1}]}, "bytes unit"),
    ({"nodes": [{"name": "n", "cpu": 1, "memory": 1, "gpu_model": "T4"}]}, "has no GPUs"),
    ({"nodes": [{"name": "n", "count": 3, "names": ["a", "b"], "cpu": 1, "memory": 1}]},
     "count 3 but 2 names"),
    ({"tasks": [{"name": "t", "gpu_share": 1.5}]}, "must be less than 1"),
    ({"tasks": [{"name": "t", "gpus": 1, "gpu_share": 0.5}]}, "both gpus and gpu_share"),
    ({"tasks": [{"name": "t", "gpu_models": ["T4"]}]}, "asks for no GPU"),
    ({"tasks": [{"name": "t", "gpus": -1}]}, "0 or more"),
])
def test_bad_cluster_input_names_the_culprit(doc, words):
    full = {"name": "c", "objective": "packing",
            "nodes": [{"name": "n", "cpu": 1, "memory": 1}], "tasks": [{"name": "t"}], **doc}
    full = {k: v for k, v in full.items() if v is not None}
    with pytest.raises(ProblemError, match=words):
        allocator.load(full)


def test_units_of_kubernetes_are_read():
    problem = _cluster([{"name": "n", "cpu": "1500m", "memory": "2Gi"}],
                       [{"name": "t", "cpu": "500m", "memory": "512Mi"}])
    assert problem.pools[0].cpu == 1.5 and problem.pools[0].memory == 2 * 2 ** 30
    assert problem.tasks[0].cpu == 0.5 and problem.tasks[0].memory == 2 ** 29


def test_objectives_of_devices_refuse_nodes_and_packing_refuses_devices():
    nodes = _cluster([{"name": "n", "cpu": 1, "memory": 1}], [{"name": "t"}])
    with pytest.raises(ProblemError, match="plans devices"):
        allocator.solve(nodes, objective="makespan")
    devices = allocator.load("problems/small/two-devices.yaml")
    with pytest.raises(ProblemError, match="describe them under 'nodes:'"):
        allocator.solve(devices, objective="packing")


def test_a_cluster_problem_survives_a_round_trip():
    problem = _cluster([{"name": "g", "names": ["a", "b"], "cpu": 8, "memory": "8Gi",
                         "gpus": 2, "gpu_model": "T4", "gpu_memory": "16Gi",
                         "resources": {"rdma": 1}}],
                       [{"name": "t", "cpu": 2, "gpu_share": 0.5, "gpu_models": ["T4"],
                         "qos": "LS", "requests": {"rdma": 1}, "weight": 2}])
    assert allocator.from_dict(allocator.to_dict(problem)) == problem


def test_the_shipped_cluster_places_every_gpu():
    problem = allocator.load("problems/small/gpu-sharing.yaml")
    plan = allocator.solve(problem)
    assert plan.status == "optimal" and plan.objective == pytest.approx(12.0)
    assert {"etl", "report"} <= set(plan.placements)
    assert allocator.verify(problem, plan) == []
