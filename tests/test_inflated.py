"""Inflated workloads: resampled to a multiple of the cluster's GPUs, seeded, with more shares
or gangs on request."""

from __future__ import annotations

import pytest

import allocator
from allocator import ProblemError
from allocator.io.inflated import inflate


def _cluster():
    return allocator.load("problems/small/gpu-sharing.yaml")


@pytest.mark.parametrize("demand", [0.5, 1.0, 1.3, 2.0])
def test_the_demand_reaches_the_multiple_asked(demand):
    problem = _cluster()
    gpus = sum(p.count * p.gpus for p in problem.pools)            # 12
    out = inflate(problem, demand, seed=3)
    asked = sum(t.gpu_demand for t in out.tasks)
    biggest = max(t.gpu_demand for t in problem.tasks)
    assert demand * gpus <= asked < demand * gpus + biggest
    assert out.pools == problem.pools and len({t.name for t in out.tasks}) == len(out.tasks)
    assert allocator.verify(out, allocator.solve(out, method="first_fit")) == []


def test_the_same_seed_gives_the_same_tasks_and_another_seed_others():
    problem = _cluster()
    assert inflate(problem, 1.5, seed=1).tasks == inflate(problem, 1.5, seed=1).tasks
    assert inflate(problem, 1.5, seed=1).tasks != inflate(problem, 1.5, seed=2).tasks


def test_weights_draw_more_shares_or_gangs():
    problem = _cluster()

    def share_of(p, test):
        return sum(test(t) for t in p.tasks) / len(p.tasks)
    shares = [share_of(inflate(problem, 20, seed=0, share_weight=w),
                       lambda t: t.gpu_share is not None) for w in (1, 4)]
    gangs = [share_of(inflate(problem, 20, seed=0, gang_weight=w), lambda t: t.gpus > 1)
             for w in (1, 4)]
    assert shares[1] > shares[0] and gangs[1] > gangs[0]


def test_nothing_to_inflate_is_refused():
    devices = allocator.load("problems/small/two-devices.yaml")
    with pytest.raises(ProblemError, match="with GPUs"):
        inflate(devices, 1.2)
    with pytest.raises(ProblemError, match="positive"):
        inflate(_cluster(), 0)
