"""The online policies' LPs on every installed backend: the same optimal values as HiGHS
through highspy (and, for max-min fairness, as a dense LP written out for SciPy)."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.backends import installed
from allocator.online.policies import lp as online_lp
from allocator.online.policies.max_min_fairness import MaxMinFairness, normalised_rates
from allocator.online.policies.min_makespan import solve as min_makespan
from allocator.online.policies.plan_ahead import plan
from allocator.online.policies.space_sharing import max_min_packed

from .test_online import dense_max_min, view_of

BACKENDS = installed()


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    monkeypatch.setattr(online_lp, "default_backend", lambda: request.param)
    used = []
    get = online_lp.get_backend
    monkeypatch.setattr(online_lp, "get_backend", lambda name: used.append(name) or get(name))
    yield request.param
    assert request.param in used, used        # the test's LPs went to that backend


def random_view(seed: int, jobs: int = 9):
    rng = np.random.default_rng(seed)
    kinds = rng.uniform(0.5, 20, (4, 3)) * (rng.random((4, 3)) > 0.2)
    kinds[:, 0] = np.maximum(kinds[:, 0], 0.5)
    pick = rng.integers(0, 4, jobs)
    return view_of(kinds[pick], rng.integers(1, 6, 3), gang=rng.choice([1, 2], jobs),
                   remaining=rng.uniform(100, 5000, jobs)), kinds, pick


def on_highs(monkeypatch, compute):
    with monkeypatch.context() as patch:
        patch.setattr(online_lp, "default_backend", lambda: "highs")
        return compute()


@pytest.mark.parametrize("seed", range(3))
def test_max_min_fairness_on_every_backend(backend, seed):
    view, _, _ = random_view(seed)
    x = MaxMinFairness().allocate(view)
    assert ((view.gang[:, None] * x).sum(axis=0) <= view.counts + 1e-6).all()
    value = (normalised_rates(view) * x).sum(axis=1).min()
    assert value == pytest.approx(dense_max_min(view), rel=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_min_makespan_on_every_backend(backend, seed, monkeypatch):
    view, _, _ = random_view(seed)
    x, finish = min_makespan(view)
    _, reference = on_highs(monkeypatch, lambda: min_makespan(view))
    assert finish == pytest.approx(reference, rel=1e-6)
    # the allocation finishes every job by then
    assert ((view.rate * x).sum(axis=1) * finish >= view.remaining * (1 - 1e-6)).all()


@pytest.mark.parametrize("seed", range(3))
def test_space_sharing_lp_on_every_backend(backend, seed, monkeypatch):
    view, kinds, pick = random_view(seed)
    rng = np.random.default_rng(50 + seed)
    pair = rng.choice([0.0, 0.4, 0.7], size=(3, 4, 4, 2))

    def solve():
        return max_min_packed(view.rate, view.gang, view.weight, view.counts, pick, pair).value

    assert solve() == pytest.approx(on_highs(monkeypatch, solve), rel=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_plan_ahead_bound_on_every_backend(backend, seed, monkeypatch):
    view, _, _ = random_view(seed, jobs=6)
    release = np.r_[np.zeros(3), np.random.default_rng(seed).uniform(100, 2000, 3)]

    def bound():
        return plan(view.rate, view.gang, view.remaining, release, view.weight, view.counts,
                    360.0)[1]

    assert bound() == pytest.approx(on_highs(monkeypatch, bound), rel=1e-6)
