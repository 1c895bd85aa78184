"""The online simulator: event order, rounds, gangs, preemption, and a hand-computed small
trace for every policy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import linprog

from allocator.errors import ProblemError
from allocator.io.problem_files import load
from allocator.online import JobSet, simulate
from allocator.online.policies import NAMES, make
from allocator.online.policies.base import View
from allocator.online.policies.las import fair_levels
from allocator.online.policies.max_min_fairness import MaxMinFairness, normalised_rates
from allocator.online.policies.min_makespan import solve as min_makespan_solve
from allocator.online.replanner import Replanner
from allocator.online.state import DONE, FUTURE, RUNNING, WAITING, OnlineState


def problem(pools: dict[str, int], jobs: list[dict], rates: dict | None = None):
    """Pools {name: devices}, jobs [{name, work, release?, devices?}] and per-device rates
    {job: {pool: rate}} (default 1 everywhere)."""
    doc = {"name": "t", "pools": [{"name": p, "kind": "gpu", "count": c, "memory": "16GiB",
                                   "throughput": 1.0} for p, c in pools.items()],
           "tasks": [{"name": j["name"], "compute": j["work"], "release": j.get("release", 0),
                      "devices": j.get("devices", 1)} for j in jobs]}
    if rates:
        doc["throughput"] = rates
    return load(doc, check=False)


def finish(result) -> dict[str, float]:
    return dict(zip(result.jobs.names, result.finish.tolist()))


def view_of(rate, counts, gang=None, remaining=None, weight=None, age=None) -> View:
    rate = np.asarray(rate, dtype=float)
    k = len(rate)
    one = np.ones(k)
    return View(now=0.0, jobs=np.arange(k), rate=rate,
                gang=np.ones(k, dtype=np.int64) if gang is None else np.asarray(gang),
                weight=one if weight is None else np.asarray(weight, dtype=float),
                remaining=one * 100 if remaining is None else np.asarray(remaining, float),
                age=np.zeros(k) if age is None else np.asarray(age, float),
                counts=np.asarray(counts))


TWO = [{"name": "a", "work": 300}, {"name": "b", "work": 100}]


# -- hand-computed traces, one device, rounds of 100 s --------------------------------------

def test_fifo_runs_jobs_to_completion_in_arrival_order():
    r = simulate(problem({"gpu": 1}, TWO), "fifo", round_s=100)
    assert finish(r) == {"a": 300.0, "b": 400.0}
    assert r.summary()["mean_jct_s"] == 350.0


def test_las_alternates_then_gives_the_survivor_everything():
    # shares 1/2 each: a, then b (further behind), b done at 200; a alone until 400
    r = simulate(problem({"gpu": 1}, TWO), "las", round_s=100)
    assert finish(r) == {"a": 400.0, "b": 200.0}


def test_min_jct_runs_the_shortest_first():
    r = simulate(problem({"gpu": 1}, TWO), "min_jct", round_s=100)
    assert finish(r) == {"a": 400.0, "b": 100.0}
    assert r.summary()["mean_jct_s"] == 250.0


def test_gandiva_splits_time_equally():
    r = simulate(problem({"gpu": 1}, TWO), "gandiva", round_s=100)
    assert finish(r) == {"a": 400.0, "b": 200.0}


def test_finish_time_fairness_allocation_is_the_equal_split_for_equal_jobs():
    x = make("finish_time_fairness").allocate(view_of([[1.0], [1.0]], [1]))
    np.testing.assert_allclose(x, [[0.5], [0.5]], atol=2e-3)


def test_min_makespan_three_jobs_on_two_devices_end_at_150():
    jobs = [{"name": n, "work": 100} for n in "abc"]
    view = view_of(np.ones((3, 1)), [2])
    assert min_makespan_solve(view)[1] == pytest.approx(150.0)
    x = make("min_makespan").allocate(view)
    assert x[:, 0] == pytest.approx([2 / 3] * 3)
    r = simulate(problem({"gpu": 2}, jobs), "min_makespan", round_s=50)
    assert r.summary()["makespan_s"] == pytest.approx(150.0)


@pytest.mark.parametrize("policy", ["optimal", "min_makespan", "max_min_fairness"])
def test_heterogeneous_pair_reaches_the_lower_bound(policy):
    # a is twice as fast on "fast"; b is the same anywhere: a on fast, b on slow, both 100 s
    p = problem({"fast": 1, "slow": 1}, [{"name": "a", "work": 200}, {"name": "b", "work": 100}],
                {"a": {"fast": 2.0, "slow": 1.0}, "b": {"fast": 1.0, "slow": 1.0}})
    r = simulate(p, policy, round_s=50)
    assert r.summary()["makespan_s"] == pytest.approx(100.0)


# -- the LPs against hand values and an independent dense formulation -------------------------

def test_max_min_fairness_value_by_hand():
    # normalised rates: a (4/3, 2/3), b (1, 1); b can never exceed 1, and a can reach 1 too
    view = view_of([[2.0, 1.0], [1.0, 1.0]], [1, 1])
    x = MaxMinFairness().allocate(view)
    value = (normalised_rates(view) * x).sum(axis=1)
    assert value.min() == pytest.approx(1.0)
    assert (x.sum(axis=1) <= 1 + 1e-9).all() and (x.sum(axis=0) <= 1 + 1e-9).all()


def dense_max_min(view: View) -> float:
    """The max-min LP over every job (no grouping), written out densely for SciPy."""
    k, t = view.rate.shape
    c = normalised_rates(view)
    n = k * t + 1
    A, b = [], []
    for j in range(k):                                   # z - sum_t c x <= 0
        row = np.zeros(n)
        row[j * t:(j + 1) * t] = -c[j]
        row[-1] = 1
        A.append(row), b.append(0)
        row = np.zeros(n)
        row[j * t:(j + 1) * t] = 1
        A.append(row), b.append(1)
    for p in range(t):
        row = np.zeros(n)
        row[p:k * t:t] = view.gang
        A.append(row), b.append(view.counts[p])
    bounds = [(0, 1 if view.rate[j, p] > 0 else 0) for j in range(k) for p in range(t)]
    res = linprog(np.r_[np.zeros(k * t), -1], A_ub=np.array(A), b_ub=b,
                  bounds=bounds + [(None, None)], method="highs")
    return -res.fun


@pytest.mark.parametrize("seed", range(6))
def test_max_min_fairness_grouped_lp_matches_the_dense_one(seed):
    rng = np.random.default_rng(seed)
    kinds = rng.uniform(0.5, 20, (4, 3)) * (rng.random((4, 3)) > 0.15)
    kinds[:, 0] = np.maximum(kinds[:, 0], 0.5)
    pick = rng.integers(0, 4, 14)
    gang = rng.choice([1, 2], 14)
    view = view_of(kinds[pick], rng.integers(1, 6, 3), gang=gang)
    x = MaxMinFairness().allocate(view)
    assert (x.sum(axis=1) <= 1 + 1e-7).all()
    assert ((view.gang[:, None] * x).sum(axis=0) <= view.counts + 1e-7).all()
    assert (x[view.rate == 0] == 0).all()
    value = (normalised_rates(view) * x).sum(axis=1).min()
    assert value == pytest.approx(dense_max_min(view), rel=1e-6)


def test_fair_levels_water_filling_by_hand():
    # 5 devices: gangs 4, 1, 1 -> level z with min(4, z) + 1 + 1 = 5 gives z = 3
    assert fair_levels(np.array([4, 1, 1]), np.ones(3), 5.0) == pytest.approx([3, 1, 1])
    assert fair_levels(np.array([1, 1]), np.ones(2), 5.0) == pytest.approx([1, 1])
    # weights 2 and 1 on 3 devices, gangs 4 and 4: 2z + z = 3
    assert fair_levels(np.array([4, 4]), np.array([2.0, 1.0]), 3.0) == pytest.approx([2, 1])


# -- events, gangs, preemptions ----------------------------------------------------------------

def test_an_arrival_joins_at_the_end_of_the_round_and_its_jct_counts_from_arrival():
    p = problem({"gpu": 1}, [{"name": "a", "work": 1000},
                             {"name": "b", "work": 100, "release": 10}])
    r = simulate(p, "las", round_s=100)
    # b is admitted at 100; a runs 100-200 (ties go to the earlier job), b 200-300; a's
    # share stays 1/2 (the next recomputation is not due before 100 + 1920 s) but it runs
    # alone from 300 and ends at 300 + 800
    assert finish(r) == {"a": 1100.0, "b": 300.0}
    assert r.jct.tolist() == [1100.0, 290.0]


def test_a_job_finishes_at_its_exact_time_inside_a_round():
    r = simulate(problem({"gpu": 1}, [{"name": "a", "work": 150}]), "fifo", round_s=100)
    assert r.finish.tolist() == [150.0]
    assert r.rounds == 2


def test_the_clock_jumps_to_the_next_arrival_when_idle():
    p = problem({"gpu": 1}, [{"name": "a", "work": 50}, {"name": "b", "work": 50,
                                                          "release": 1000}])
    r = simulate(p, "fifo", round_s=100)
    assert finish(r) == {"a": 50.0, "b": 1050.0}
    assert r.summary()["utilization"] == pytest.approx(100 / 1050)


def test_restart_cost_and_preemptions_are_counted():
    p = problem({"gpu": 1}, [{"name": "a", "work": 180}, {"name": "b", "work": 180}])
    r = simulate(p, "las", round_s=100, restart_s=10)
    # each round starts a job that did not run in the last one: 10 s lost, 90 done
    assert finish(r) == {"a": 300.0, "b": 400.0}
    assert r.preemptions.tolist() == [1, 1]


def test_gang_holds_all_its_devices_or_none():
    jobs = [{"name": "g", "work": 400, "devices": 2}, {"name": "s1", "work": 300},
            {"name": "s2", "work": 300}]
    p = problem({"gpu": 3}, jobs)
    js = JobSet.from_problem(p)
    for policy in NAMES:
        state = OnlineState(js)
        planner = Replanner(js, make(policy), round_s=50)
        while True:
            planner.arrived(state.admit())
            if not state.present.any():
                break
            plan = planner.plan(state)
            assert js.gang[plan.jobs].sum() <= 3, policy
            assert len(set(plan.jobs.tolist())) == len(plan.jobs)
            seconds, done = state.run(plan.jobs, plan.pools, 50)
            planner.ran(plan, seconds)
            planner.departed(done)
        assert np.isfinite(state.finish).all(), policy
    # fifo: g (2 devices at 1 each: 400 in 200 s) and s1 start; s2 takes g's device at 200
    r = simulate(p, "fifo", round_s=50)
    assert finish(r) == {"g": 200.0, "s1": 300.0, "s2": 500.0}
    assert r.busy.tolist() == [2 * 200 + 300 + 300]


def test_job_states_follow_the_clock():
    p = problem({"gpu": 1}, [{"name": "a", "work": 100},
                             {"name": "b", "work": 100, "release": 500}])
    js = JobSet.from_problem(p)
    state = OnlineState(js)
    state.admit()
    assert [state.status(0), state.status(1)] == [WAITING, FUTURE]
    state.run(np.array([0]), np.array([0]), 50)
    assert state.status(0) == RUNNING
    state.run(np.array([0]), np.array([0]), 50)
    assert state.status(0) == DONE and state.now == 100


# -- space sharing ---------------------------------------------------------------------------

def test_gandiva_pairs_jobs_on_one_device_when_over_subscribed():
    p = problem({"gpu": 1}, [{"name": "a", "work": 80}, {"name": "b", "work": 80}])
    js = JobSet.from_problem(p)
    shared = replace(js, kind=np.array([0, 0]), pair_rate=np.full((1, 1, 1, 2), 0.8))
    r = simulate(shared, "gandiva", round_s=100)
    assert finish(r) == {"a": 100.0, "b": 100.0}          # 80 at 0.8 each, together
    assert r.summary()["utilization"] == pytest.approx(1.0)
    alone = simulate(js, "gandiva", round_s=100)
    assert finish(alone) == {"a": 80.0, "b": 160.0}      # the round ends when a does


def test_max_min_fairness_pairs_jobs_that_do_more_together():
    p = problem({"gpu": 1}, [{"name": "a", "work": 80}, {"name": "b", "work": 80}])
    js = JobSet.from_problem(p)
    shared = replace(js, kind=np.array([0, 0]), pair_rate=np.full((1, 1, 1, 2), 0.8))
    # together each gets 0.8 of its rate alone, apart 1/2: the LP pairs them
    r = simulate(shared, "max_min_fairness", round_s=100)
    assert finish(r) == {"a": 100.0, "b": 100.0}
    slow = replace(js, kind=np.array([0, 0]), pair_rate=np.full((1, 1, 1, 2), 0.3))
    assert finish(simulate(slow, "max_min_fairness", round_s=100)) == {"a": 80.0, "b": 160.0}


@pytest.mark.parametrize("together, kept", [(0.4, False), (0.6, True)])
def test_gandiva_keeps_a_pair_only_while_it_does_more_together(together, kept):
    from allocator.online.policies.gandiva import Gandiva
    view = replace(view_of([[1.0], [1.0]], [1]), kind=np.array([0, 0]),
                   pair_rate=np.full((1, 1, 1, 2), together))
    policy = Gandiva()
    policy.partner = {0: 1, 1: 0}
    policy._keep_good_pairs(view, {0: 0, 1: 1})
    assert policy.partner == ({0: 1, 1: 0} if kept else {})
    policy.partner = {0: 1, 1: 0}
    policy._keep_good_pairs(view, {0: 0})                 # job 1 has left
    assert policy.partner == {}


# -- input checks ----------------------------------------------------------------------------

def test_a_gang_larger_than_every_pool_is_refused_by_name():
    p = problem({"gpu": 2}, [{"name": "big", "work": 10, "devices": 4}])
    with pytest.raises(ProblemError, match="'big'.*4 devices.*'gpu', has 2"):
        JobSet.from_problem(p)


def test_a_task_without_work_is_refused():
    p = load({"name": "t", "pools": [{"name": "g", "kind": "gpu", "count": 1, "memory": "1GiB",
                                      "throughput": 1}], "tasks": [{"name": "x"}]}, check=False)
    with pytest.raises(ProblemError, match="'x' has no compute"):
        JobSet.from_problem(p)


def test_bad_simulation_options_are_refused():
    p = problem({"gpu": 1}, TWO)
    with pytest.raises(ProblemError, match="unknown policy 'lass'; did you mean 'las'"):
        simulate(p, "lass")
    with pytest.raises(ProblemError, match="restart cost"):
        simulate(p, "fifo", round_s=100, restart_s=100)
    with pytest.raises(ProblemError, match="positions 0 to 1"):
        simulate(p, "fifo", measure=[5])


def test_measure_stops_when_the_measured_jobs_are_done():
    p = problem({"gpu": 1}, TWO)
    r = simulate(p, "min_jct", round_s=100, measure=[1])
    assert r.end == 100.0 and np.isnan(r.finish[0])
    assert r.summary()["mean_jct_s"] == 100.0


# -- space sharing: the class LP against Gavel's job-pair LP -----------------------------------

def explicit_pair_lp(rate, gang, weight, counts, kind, pair_rate) -> float:
    """Gavel's max_min_fairness_packed LP with a variable per job and per job pair, densely."""
    n, T = rate.shape
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if gang[i] == gang[j]]
    combos = [(i, -1) for i in range(n)] + pairs
    nv = len(combos) * T + 1
    equal = (rate * counts).sum(axis=1) / counts.sum()
    A, b, bounds = [], [], []
    for c, (i, j) in enumerate(combos):
        for t in range(T):
            ok = rate[i, t] > 0 if j < 0 else (pair_rate[t, kind[i], kind[j]] > 0).all()
            bounds.append((0, 1 if ok else 0))
    for k in range(n):
        value, time = np.zeros(nv), np.zeros(nv)
        for c, (i, j) in enumerate(combos):
            if k not in (i, j):
                continue
            for t in range(T):
                r = rate[k, t] if j < 0 else pair_rate[t, kind[i], kind[j]][0 if k == i else 1]
                value[c * T + t] = -r * gang[k] / (weight[k] * equal[k])
                time[c * T + t] = 1
        value[-1] = 1
        A += [value, time]
        b += [0, 1]
    for t in range(T):
        row = np.zeros(nv)
        for c, (i, j) in enumerate(combos):
            row[c * T + t] = gang[i]
        A.append(row)
        b.append(counts[t])
    res = linprog(np.r_[np.zeros(nv - 1), -1], A_ub=np.array(A), b_ub=b,
                  bounds=bounds + [(None, None)], method="highs")
    return -res.fun


@pytest.mark.parametrize("seed", range(4))
def test_class_lp_with_space_sharing_matches_the_job_pair_lp(seed):
    from allocator.online.policies.space_sharing import job_allocation, max_min_packed
    rng = np.random.default_rng(seed)
    kinds, T = 3, 2
    base = rng.uniform(0.5, 10, (kinds, T))
    pair_rate = np.zeros((T, kinds, kinds, 2))
    for t in range(T):              # (a, b) and (b, a) describe the same pair, each its way
        for a in range(kinds):
            for b in range(a, kinds):
                if rng.random() < 0.8:
                    ra, rb = rng.uniform(0.2, 1.0, 2) * base[[a, b], t]
                    rb = ra if a == b else rb       # two jobs of one kind: one rate (Gavel's)
                    pair_rate[t, a, b], pair_rate[t, b, a] = (ra, rb), (rb, ra)
    kind = rng.integers(0, kinds, 8)
    rate = base[kind]
    gang = np.ones(8, dtype=np.int64)
    weight = np.ones(8)
    counts = rng.integers(1, 4, T)
    solution = max_min_packed(rate, gang, weight, counts, kind, pair_rate)
    assert solution.value == pytest.approx(explicit_pair_lp(rate, gang, weight, counts, kind,
                                                            pair_rate), rel=1e-6)
    # spread back over the jobs it is feasible for Gavel's LP and reaches the same value
    ia, ib = np.triu_indices(8, 1)
    alone, shared = job_allocation(solution, ia, ib)
    time = alone.sum(axis=1) + np.bincount(ia, shared.sum(axis=1), 8) \
        + np.bincount(ib, shared.sum(axis=1), 8)
    assert (time <= 1 + 1e-7).all()
    assert (alone.sum(axis=0) + shared.sum(axis=0) <= counts + 1e-7).all()


# -- the plan ahead ----------------------------------------------------------------------------

@pytest.mark.parametrize("devices, expected", [(1, 20.0), (2, 15.0)])
def test_plan_ahead_bound_by_hand(devices, expected):
    from allocator.online.policies.plan_ahead import plan
    # a (10 s of work) now, b (10 s) released at 5 s: one device ends at 20, two at 15
    shares, finish = plan(np.ones((2, 1)), np.ones(2, dtype=np.int64), np.array([10.0, 10.0]),
                          np.array([0.0, 5.0]), np.ones(2), np.array([devices]), first=0.01)
    assert finish == pytest.approx(expected)
    assert shares[0, 0] == pytest.approx(1.0)        # a runs now, at full speed
    assert shares[1, 0] == pytest.approx(0.0)        # b has not arrived


def test_plan_ahead_is_a_fluid_bound_with_gangs():
    from allocator.online.policies.plan_ahead import plan
    # a gang of 2 (rate 2 in all, 8 of work: 4 s) and a single (4 s) on 2 devices: any real
    # schedule takes 8 s (the gang holds both devices), the fluid plan counts device-seconds:
    # (2 x 4 + 4) / 2 = 6 s, a lower bound (docs/online.md)
    _, finish = plan(np.array([[2.0], [1.0]]), np.array([2, 1]), np.array([8.0, 4.0]),
                     np.zeros(2), np.ones(2), np.array([2]), first=0.01)
    assert finish == pytest.approx(6.0)
    p = problem({"gpu": 2}, [{"name": "g", "work": 8, "devices": 2}, {"name": "s", "work": 4}])
    assert simulate(p, "optimal", round_s=1).summary()["makespan_s"] == pytest.approx(8.0)
