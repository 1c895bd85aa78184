"""Space sharing from a problem file: the ``sharing`` list read, written back and turned into
the pair rates of the simulator and the executor, with hand-computed simulations."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from allocator.errors import ProblemError
from allocator.executor.online_run import OnlineRun
from allocator.io.problem_files import from_dict, load, to_dict
from allocator.online import JobSet, simulate

DOC = {"name": "share",
       "pools": [{"name": "v100", "kind": "gpu", "count": 1, "memory": "16GiB", "throughput": 1},
                 {"name": "k80", "kind": "gpu", "count": 2, "memory": "12GiB",
                  "throughput": 1}],
       "tasks": [{"name": "alone", "compute": 1}, {"name": "a", "compute": 0.7},
                 {"name": "b", "compute": 0.4},
                 {"name": "g", "compute": 1, "devices": 2, "allowed_pools": ["k80"]},
                 {"name": "h", "compute": 1, "devices": 2, "allowed_pools": ["k80"]}],
       "sharing": [{"tasks": ["a", "b"], "pool": "v100", "throughput": [0.8, "0.8"]},
                   {"tasks": ["h", "g"], "pool": "k80", "throughput": [0.5, 0.25]}]}


def one_device(rates: list[float]) -> dict:
    return {"name": "pair", "pools": [DOC["pools"][0]], "tasks": DOC["tasks"][1:3],
            "sharing": [{"tasks": ["a", "b"], "pool": "v100", "throughput": rates}]}


def test_the_sharing_list_is_read_and_written_back():
    p = load(DOC, check=False)
    assert [(s.tasks, s.pool, s.throughput) for s in p.sharing] == [
        (("a", "b"), "v100", (0.8, 0.8)), (("h", "g"), "k80", (0.5, 0.25))]
    assert from_dict(to_dict(p), check=False) == p
    assert load({k: v for k, v in DOC.items() if k != "sharing"}, check=False).sharing == ()


def test_pair_rates_by_hand():
    jobs = JobSet.from_problem(load(DOC, check=False), sharing=True)
    assert jobs.names == ("alone", "a", "b", "g", "h")
    assert jobs.kind.tolist() == [0, 1, 2, 3, 4]                 # alone shares nothing: class 0
    expected = np.zeros((2, 5, 5, 2))
    expected[0, 1, 2], expected[0, 2, 1] = (0.8, 0.8), (0.8, 0.8)
    expected[1, 4, 3], expected[1, 3, 4] = (1.0, 0.5), (0.5, 1.0)    # whole gangs of two
    np.testing.assert_array_equal(jobs.pair_rate, expected)
    assert JobSet.from_problem(load(DOC, check=False)).pair_rate is None
    with pytest.raises(ProblemError, match="no 'sharing' list"):
        JobSet.from_problem(load(one_device([1, 1]) | {"sharing": None}, check=False),
                            sharing=True)


@pytest.mark.parametrize("policy", ["max_min_fairness", "gandiva"])
def test_a_good_pair_shares_the_device(policy):
    """a (0.7 steps) and b (0.4) on one device, 0.8 steps/s each when together against 1
    alone: sharing does 1.6 steps/s, so both run together from the start; b ends at
    0.4 / 0.8 = 0.5 s, a at 0.7 / 0.8 = 0.875 s."""
    jobs = JobSet.from_problem(load(one_device([0.8, 0.8]), check=False), sharing=True)
    rounds = []
    result = simulate(jobs, policy, round_s=1.0,
                      on_round=lambda now, plan: rounds.append(plan.partners.tolist()))
    np.testing.assert_allclose(result.finish, [0.875, 0.5])
    assert rounds == [[1]]


def test_a_bad_pair_is_not_made():
    """Together at 0.3 steps/s each (0.6 in all, against 1 alone): max-min fairness gives
    each job half the device alone (0.5 of its rate) rather than any pair time (0.3), so no
    round pairs them. Alone, in rounds of 0.25 s, they take turns: b (0.4 steps) ends in its
    second turn, 0.15 s into it, and a (0.7) at 1.1 s, when all the work is done."""
    shared = JobSet.from_problem(load(one_device([0.3, 0.3]), check=False), sharing=True)
    rounds = []
    result = simulate(shared, "max_min_fairness", round_s=0.25,
                      on_round=lambda now, plan: rounds.append((plan.jobs.tolist(),
                                                                plan.partners.tolist())))
    assert all(p == [-1] for _, p in rounds)
    turns = [j for j, _ in rounds]
    assert turns[:3] in ([[0], [1], [0]], [[1], [0], [1]])             # they take turns
    b_ends = 0.65 if turns[0] == [1] else 0.9
    np.testing.assert_allclose(result.finish, [1.1, b_ends])


def test_pairs_on_too_small_a_pool_are_left_out():
    """g and h hold two devices: their pair on a pool of one device is never made (they run
    on the v100s, two of them here)."""
    doc = {**DOC, "pools": [{**DOC["pools"][0], "count": 2}, {**DOC["pools"][1], "count": 1}],
           "tasks": DOC["tasks"][:3] + [{**t, "allowed_pools": None} for t in DOC["tasks"][3:]]}
    jobs = JobSet.from_problem(load(doc, check=False), sharing=True)
    assert not jobs.pair_rate[1].any() and jobs.pair_rate[0, 1, 2].tolist() == [0.8, 0.8]


def test_units_keep_their_devices_and_split_pairs_move():
    """Last round 0 and 1 shared device 0 and 2 ran alone on device 1; now 1 runs alone, 0
    with a new job 3, and 2 alone. 1 keeps device 0 (its unit comes first), 0 must move
    (its device is 1's now) and takes the free device 2 with job 3; 2 keeps device 1."""
    stopped = []
    live = {j: SimpleNamespace(devices=d, pool=0) for j, d in ((0, (0,)), (1, (0,)), (2, (1,)))}
    run = SimpleNamespace(live=live, problem=SimpleNamespace(pools=[SimpleNamespace(count=3)]),
                          jobs=SimpleNamespace(gang=np.ones(4, dtype=np.int64)))
    run._stop = lambda j, why: (stopped.append((j, why)), live.pop(j))
    places = OnlineRun._places(run, [[1], [0, 3], [2]], np.array([0, 0, 0]))
    assert places == [(0,), (2,), (1,)] and stopped == [(0, "moved")]


def test_simulate_command_with_a_problem_files_pairs(tmp_path):
    from .test_cli_installed import allocator_cli
    path = tmp_path / "p.json"
    path.write_text(json.dumps(one_device([0.8, 0.8])))
    run = allocator_cli("simulate", str(path), "--space-sharing", "--policy", "gandiva",
                        "--round", "1s", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["makespan_s"] == pytest.approx(0.875)
    assert summary["mean_jct_s"] == pytest.approx((0.875 + 0.5) / 2)
