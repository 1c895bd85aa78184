"""Each pool's own horizon bounds what its devices offer, for the amount-based objectives too.

The optima are computed independently of the models: weighted shortfall is a fractional
knapsack per kind (serve the heaviest demands first until the kind's device-time is spent),
and utilization's optimum is the smallest shares, sum(t / C) / sum(max(t / C, m / M)).
"""

from __future__ import annotations

import random

import pytest

import allocator

from .conftest import solved

HOUR = 3600.0
KINDS = ("cpu", "gpu", "tpu")


def _pools(rng: random.Random, top: float | None) -> list[dict]:
    pools = []
    for j in range(rng.randint(2, 4)):
        pool = {"name": f"p{j}", "kind": rng.choice(KINDS), "count": rng.randint(1, 3),
                "memory": rng.randint(1, 8) * 1e9, "throughput": rng.randint(1, 9) * 1e12}
        if top is None or rng.random() < 0.6:
            pool["horizon"] = rng.randint(1, 12) * HOUR
        pools.append(pool)
    return pools


def _horizon(pool: dict, top: float | None) -> float:
    return pool.get("horizon", top)


def shortfall_by_hand(doc: dict) -> float:
    """Per kind, give device-time to the heaviest demands first (exact for this LP)."""
    top = doc.get("horizon")
    total = 0.0
    for kind in KINDS:
        left = sum(p["count"] * _horizon(p, top) for p in doc["pools"] if p["kind"] == kind)
        wants = sorted(((t["weight"], t["demand"].get(kind, 0.0)) for t in doc["tasks"]),
                       reverse=True)
        for weight, want in wants:
            served = min(want, left)
            left -= served
            total += weight * (want - served)
    return total


def utilization_by_hand(doc: dict) -> float:
    top = doc.get("horizon")
    flop = sum(p["count"] * p["throughput"] * _horizon(p, top) for p in doc["pools"])
    memory = sum(p["count"] * p["memory"] for p in doc["pools"])
    need = [t["compute"] / flop for t in doc["tasks"]]
    return sum(need) / sum(max(n, t["memory"] / memory) for n, t in zip(need, doc["tasks"]))


def test_a_short_pool_horizon_is_not_given_the_problems_horizon(engine):
    # One GPU for 1 h (its own horizon) in a 10 h problem; 5 h of GPU wanted. Only 1 h can be
    # served: a model that used the top-level horizon would serve all 5 h.
    doc = {"name": "short", "horizon": "10h", "objective": "weighted_shortfall",
           "pools": [{"name": "g", "kind": "gpu", "count": 1, "memory": "1GiB",
                      "throughput": 1e12, "horizon": "1h"},
                     {"name": "c", "kind": "cpu", "count": 1, "memory": "1GiB",
                      "throughput": 1e12}],
           "tasks": [{"name": "a", "demand": {"gpu": "5h", "cpu": "2h"}}]}
    plan = solved(doc, **engine)
    assert plan.amounts["a"]["gpu"] == pytest.approx(1 * HOUR)
    assert plan.amounts["a"]["cpu"] == pytest.approx(2 * HOUR)
    assert plan.objective == pytest.approx(4 * HOUR)


def test_verify_refuses_amounts_beyond_a_pools_own_horizon():
    doc = {"name": "short", "horizon": "10h", "objective": "weighted_shortfall",
           "pools": [{"name": "g", "kind": "gpu", "count": 1, "memory": "1GiB",
                      "throughput": 1e12, "horizon": "1h"}],
           "tasks": [{"name": "a", "demand": {"gpu": "5h"}}]}
    problem = allocator.load(doc)
    honest = solved(problem)
    import dataclasses
    greedy = dataclasses.replace(honest, amounts={"a": {"gpu": 5 * HOUR}}, objective=0.0)
    errors = allocator.verify(problem, greedy)
    assert any("gpu is allocated 18000 device-seconds, more than its capacity 3600" in e
               for e in errors), errors


@pytest.mark.parametrize("seed", range(12))
def test_weighted_shortfall_with_pool_horizons_matches_the_knapsack(seed, engine):
    rng = random.Random(seed)
    top = rng.choice([None, 6 * HOUR])
    pools = _pools(rng, top)
    tasks = [{"name": f"t{i}", "weight": rng.randint(1, 5),
              "demand": {k: rng.randint(0, 20) * HOUR for k in rng.sample(KINDS, 2)}}
             for i in range(rng.randint(2, 5))]
    doc = {"name": "wsf", "objective": "weighted_shortfall", "pools": pools, "tasks": tasks}
    if top is not None:
        doc["horizon"] = top
    plan = solved(doc, **engine)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(shortfall_by_hand(doc), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_utilization_with_pool_horizons_matches_the_closed_form(seed, engine):
    rng = random.Random(100 + seed)
    top = rng.choice([None, 8 * HOUR])
    pools = _pools(rng, top)
    flop = sum(p["count"] * p["throughput"] * _horizon(p, top) for p in pools)
    smallest = min(p["memory"] for p in pools)          # every task fits every device
    n = rng.randint(2, 5)
    tasks = [{"name": f"t{i}", "compute": rng.uniform(0.001, 0.8 / n) * flop,
              "memory": rng.uniform(0.1, 1.0) * smallest} for i in range(n)]
    doc = {"name": "util", "objective": "utilization", "pools": pools, "tasks": tasks}
    if top is not None:
        doc["horizon"] = top
    plan = solved(doc, **engine)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(utilization_by_hand(doc), rel=1e-6)


def test_a_pool_without_any_horizon_is_named():
    doc = {"name": "none", "objective": "utilization",
           "pools": [{"name": "g", "kind": "gpu", "count": 1, "memory": "1GiB",
                      "throughput": 1e12, "horizon": "1h"},
                     {"name": "c", "kind": "cpu", "count": 1, "memory": "1GiB",
                      "throughput": 1e12}],
           "tasks": [{"name": "a", "compute": 1e12, "memory": 1}]}
    with pytest.raises(allocator.ProblemError, match="pool 'c' has none"):
        allocator.load(doc)
