"""Steady rounds run again without being planned: the simulator then gives exactly what
planning every round gives (the reference: the same simulation with replay turned off)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from allocator.io.problem_files import load
from allocator.online import JobSet, simulate
from allocator.online.replanner import Replanner

FAST = ["fifo", "las", "gandiva", "max_min_fairness", "min_makespan", "min_jct",
        "finish_time_fairness", "optimal"]


def random_jobs(seed: int, sharing: bool) -> JobSet:
    """2-3 pools of 1-4 devices (the first 2-4), 5-12 jobs arriving in bursts, gangs of 1-2,
    per-device rates on a coarse grid (so that ties happen), some jobs barred from a pool."""
    rng = np.random.default_rng(seed)
    pools = {f"p{t}": int(rng.integers(1 if t else 2, 5))        # p0 takes every job
             for t in range(int(rng.integers(2, 4)))}
    n = int(rng.integers(5, 13))
    tasks = [{"name": f"j{k}", "compute": int(rng.integers(50, 4000)),
              "release": int(rng.choice([0, 0, 150, 700, 2000])) + int(rng.integers(0, 3)),
              "devices": int(rng.integers(1, 3))} for k in range(n)]
    barred = 0.2 if seed % 2 else 0.7         # often: jobs that run on one pool only
    rates = {t["name"]: {p: None if k and rng.random() < barred else
                         float(rng.choice([0.5, 1.0, 2.0, 3.0]))
                         for k, p in enumerate(pools)} for t in tasks}      # None: barred
    doc = {"name": "r", "pools": [{"name": p, "kind": "gpu", "count": c, "memory": "16GiB",
                                   "throughput": 1.0} for p, c in pools.items()],
           "tasks": tasks, "throughput": rates}
    jobs = JobSet.from_problem(load(doc, check=False))
    if sharing:
        classes = 3
        pair = rng.choice([0.3, 0.6, 0.8], size=(len(pools), classes, classes, 2))
        jobs = replace(jobs, kind=rng.integers(0, classes, jobs.size), pair_rate=pair)
    return jobs


def run(jobs: JobSet, policy: str, replay: bool, monkeypatch, restart_s: float = 0.0):
    with monkeypatch.context() as patch:
        if not replay:
            patch.setattr(Replanner, "_steady", lambda self, crowded, ok: False)
        decisions = []
        result = simulate(jobs, policy, round_s=100, restart_s=restart_s,
                          on_round=lambda now, plan: decisions.append(
                              (now, sorted(zip(plan.jobs.tolist(), plan.pools.tolist(),
                                               plan.partners.tolist())))))
    return result, decisions      # each round's start and units (in any order: the units'
                                  # order in a round follows the order pools were offered in)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("policy", FAST)
def test_replaying_steady_rounds_changes_nothing(policy, seed, monkeypatch):
    jobs = random_jobs(seed, sharing=False)
    for restart_s in (0.0, 15.0):
        fast, fast_rounds = run(jobs, policy, True, monkeypatch, restart_s)
        slow, slow_rounds = run(jobs, policy, False, monkeypatch, restart_s)
        assert fast_rounds == slow_rounds                   # every round, decided alike
        assert np.array_equal(fast.finish, slow.finish)     # bit for bit
        assert np.array_equal(fast.preemptions, slow.preemptions)
        assert (fast.end, fast.rounds) == (slow.end, slow.rounds)
        assert np.allclose(fast.busy, slow.busy, rtol=1e-12)
        assert np.array_equal(fast.timeline.starts, slow.timeline.starts)
        assert np.allclose(fast.timeline.busy, slow.timeline.busy, rtol=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("policy", ["gandiva", "max_min_fairness"])
def test_replaying_steady_rounds_with_space_sharing_changes_nothing(policy, seed,
                                                                     monkeypatch):
    jobs = random_jobs(100 + seed, sharing=True)
    fast, fast_rounds = run(jobs, policy, True, monkeypatch)
    slow, slow_rounds = run(jobs, policy, False, monkeypatch)
    assert fast_rounds == slow_rounds
    assert np.array_equal(fast.finish, slow.finish) and fast.end == slow.end


def count_plans(monkeypatch) -> list[int]:
    calls = [0]
    select = Replanner._select

    def counted(self, present, now):
        calls[0] += 1
        return select(self, present, now)

    monkeypatch.setattr(Replanner, "_select", counted)
    return calls


def one_device(jobs: list[tuple[str, int]]) -> JobSet:
    doc = {"name": "t", "pools": [{"name": "gpu", "kind": "gpu", "count": 1,
                                   "memory": "16GiB", "throughput": 1.0}],
           "tasks": [{"name": n, "compute": w} for n, w in jobs]}
    return JobSet.from_problem(load(doc, check=False))


def test_a_lone_job_is_planned_twice_in_ten_rounds(monkeypatch):
    # 1000 steps at 1 step/s, rounds of 100 s: round 1 is planned (steady) and replayed while
    # the job has more than a round's work left (rounds 2-9: 900 down to 200 at their
    # starts); round 10 is planned and finishes it
    calls = count_plans(monkeypatch)
    r = simulate(one_device([("a", 1000)]), "fifo", round_s=100)
    assert r.finish.tolist() == [1000.0] and r.rounds == 10
    assert calls[0] == 2
    assert r.timeline.starts.tolist() == [100.0 * k for k in range(10)]


def test_rounds_where_jobs_wait_are_all_planned(monkeypatch):
    # two jobs time-share one device: someone waits every round, so no round is steady
    calls = count_plans(monkeypatch)
    r = simulate(one_device([("a", 300), ("b", 100)]), "las", round_s=100)
    assert r.finish.tolist() == [400.0, 200.0]
    assert calls[0] == r.rounds == 4


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("policy, sharing", [
    ("las", False), ("max_min_fairness", False), ("gandiva", False), ("optimal", False),
    ("fifo", False), ("max_min_fairness", True), ("gandiva", True)])
def test_the_loop_and_the_array_fills_agree(policy, seed, sharing, monkeypatch):
    """Short candidate lists are filled in a plain loop, long ones with arrays: forced
    either way, the same rounds."""
    from allocator.online import candidates
    jobs = random_jobs(200 + seed, sharing)
    with monkeypatch.context() as patch:
        patch.setattr(candidates, "SMALL", 0)
        arrays, array_rounds = run(jobs, policy, True, monkeypatch)
    with monkeypatch.context() as patch:
        patch.setattr(candidates, "SMALL", 10 ** 9)
        loop, loop_rounds = run(jobs, policy, True, monkeypatch)
    assert array_rounds == loop_rounds
    assert np.array_equal(arrays.finish, loop.finish) and arrays.rounds == loop.rounds
