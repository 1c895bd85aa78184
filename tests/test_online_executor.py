"""The executor driven round by round by the re-planner that drives the simulator: on the same
small problems the two take the same decisions, every decision is journaled, and a job left
out of a round is stopped and started again."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pytest

from allocator.errors import ProblemError
from allocator.executor.journal import Journal
from allocator.executor.online_run import execute_online
from allocator.io.problem_files import load
from allocator.online import JobSet, simulate

# a preemptible job: works at its rate on the pool of its devices (ALLOCATOR_DEVICES), keeps
# its progress in a file, stops at SIGTERM and resumes from the file when started again
WORKER = ("import os, signal, sys, time\n"
          "path, work = sys.argv[1], float(sys.argv[2])\n"
          "pool = os.environ['ALLOCATOR_DEVICES'].split('[')[0]\n"
          "rate = float(dict(r.split('=') for r in sys.argv[3].split(','))[pool])\n"
          "done = float(open(path).read()) if os.path.exists(path) else 0.0\n"
          "signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))\n"
          "start, before = time.monotonic(), done\n"
          "while done < work:\n"
          "    time.sleep(min(0.01, (work - done) / rate))\n"
          "    done = before + rate * (time.monotonic() - start)\n"
          "    open(path + '.partial', 'w').write(str(done))\n"
          "    os.replace(path + '.partial', path)\n")      # a kill never leaves it half written


def problem(folder, pools: dict[str, int], jobs: list[dict], rates: dict | None = None,
            sharing: list | None = None):
    """Pools of CPU devices and jobs of WORKER; ``rates`` per device (default 1), or a job's
    ``works_at`` (the rate its process works at, e.g. the one it has when sharing)."""
    rates = rates or {}
    tasks = []
    for j in jobs:
        mine = rates.get(j["name"], {p: j["works_at"] for p in pools} if "works_at" in j
                         else {})
        spec = ",".join(f"{p}={mine.get(p, 1.0) * j.get('devices', 1)}" for p in pools)
        progress = str(folder / f"{j['name']}.progress")
        tasks.append({"name": j["name"], "compute": j["work"], "release": j.get("release", 0),
                      "devices": j.get("devices", 1),
                      "command": [sys.executable, "-c", WORKER, progress, str(j["work"]), spec]})
    doc = {"name": "online", "tasks": tasks,
           "pools": [{"name": p, "kind": "cpu", "count": c, "memory": "1GiB", "throughput": 1,
                      "torch_device": "cpu"} for p, c in pools.items()]}
    if rates:
        doc["throughput"] = rates
    if sharing:
        doc["sharing"] = sharing
    return load(doc, check=False)


def simulated_decisions(p, policy, round_s, sharing=False):
    names = [t.name for t in p.tasks]
    pools = [q.name for q in p.pools]
    jobs = JobSet.from_problem(p, sharing=sharing)
    rounds = []

    def record(now, plan):
        units = [(names[jobs.order[j]], pools[t]) for j, t in zip(plan.jobs, plan.pools)]
        units += [(names[jobs.order[j]], pools[t]) for j, t in zip(plan.partners, plan.pools)
                  if j >= 0]
        rounds.append(units)
    result = simulate(jobs, policy, round_s=round_s, on_round=record)
    return rounds, result


CASES = {
    # two devices; c arrives during the first round and takes b's device in the second
    # (every job ends at least 0.7 s inside its round, so that a slow process start on a
    # loaded machine cannot push it into a round the simulator never plans)
    "fifo": ({"cpu": 2}, [{"name": "a", "work": 1.3}, {"name": "b", "work": 0.3},
                          {"name": "c", "work": 0.3, "release": 0.2}], None, "fifo"),
    # a is twice as fast on "fast"; the shortest-first LP puts b there first, then a
    "min_jct": ({"fast": 1, "slow": 1},
                [{"name": "a", "work": 1.6}, {"name": "b", "work": 0.3}],
                {"a": {"fast": 2.0, "slow": 1.0}, "b": {"fast": 1.0, "slow": 0.5}}, "min_jct"),
    # a gang of two (0.3 s) and a single on three devices; t, arriving during the first
    # round, starts at its end on the gang's devices
    "gang": ({"cpu": 3}, [{"name": "g", "work": 0.6, "devices": 2}, {"name": "s", "work": 1.3},
                          {"name": "t", "work": 0.3, "release": 0.1}], None, "optimal"),
}


PAIRS = [{"tasks": list(two), "pool": "cpu", "throughput": [0.8, 0.8]}
         for two in (("a", "b"), ("a", "c"), ("b", "c"))]
SHARED = {
    # one device, two jobs sharing it at 0.8 each: b ends at 0.125 s, a at 0.25 s (each well
    # inside its round, so that a slow process start cannot push it into the next)
    "a pair": ({"cpu": 1}, [{"name": "a", "work": 0.2, "works_at": 0.8},
                            {"name": "b", "work": 0.1, "works_at": 0.8}], PAIRS[:1]),
    # c arrives during the first round and joins a, which keeps its process, on its device
    # (b ends at 0.5 s; a has 0.2 left at 1 s and ends at 1.25 s, c at 1.25 s too)
    "a new partner": ({"cpu": 1}, [{"name": "a", "work": 1.0, "works_at": 0.8},
                                   {"name": "b", "work": 0.4, "works_at": 0.8},
                                   {"name": "c", "work": 0.2, "release": 0.2,
                                    "works_at": 0.8}], PAIRS),
}


@pytest.mark.parametrize("case", sorted(CASES) + sorted(SHARED))
def test_executor_and_simulator_take_the_same_decisions(case, tmp_path):
    if case in SHARED:
        (pools, jobs, sharing), rates, policy = SHARED[case], None, "max_min_fairness"
    else:
        (pools, jobs, rates, policy), sharing = CASES[case], None
    expected, simulated = simulated_decisions(
        problem(tmp_path / "sim", pools, jobs, rates, sharing), policy, 1.0, bool(sharing))
    p = problem(tmp_path, pools, jobs, rates, sharing)
    report = execute_online(p, policy, round_s=1.0, journal=tmp_path / "j.jsonl",
                            logs=tmp_path / "logs", space_sharing=bool(sharing))
    assert [sorted(r) for r in report.rounds] == [sorted(r) for r in expected]
    assert report.failed == {}
    # the real finish times follow the simulated ones, give or take a process start
    np.testing.assert_allclose(report.finish, simulated.finish, atol=0.5)
    events = Journal.read(tmp_path / "j.jsonl")
    journaled = [[tuple(u) for u in e["units"]] for e in events if e["event"] == "round"]
    assert journaled == report.rounds
    assert events[0]["event"] == "online_start" and events[-1]["event"] == "online_end"


def test_a_job_left_out_of_a_round_is_stopped_and_resumed(tmp_path):
    p = problem(tmp_path, {"cpu": 1}, [{"name": "a", "work": 1.2}, {"name": "b", "work": 1.2}])
    report = execute_online(p, "las", round_s=0.5, journal=tmp_path / "j.jsonl",
                            logs=tmp_path / "logs")
    assert report.failed == {} and np.isfinite(report.finish).all()
    assert report.attempts["a"] >= 2 and report.attempts["b"] >= 2       # taken turns
    events = Journal.read(tmp_path / "j.jsonl")
    assert any(e["event"] == "preempted" for e in events)
    for n in ("a", "b"):
        assert float((tmp_path / f"{n}.progress").read_text()) >= 1.2


def test_a_failing_job_is_retried_then_given_up(tmp_path):
    doc = {"name": "fail", "pools": [{"name": "cpu", "kind": "cpu", "count": 1,
                                      "memory": "1GiB", "throughput": 1, "torch_device": "cpu"}],
           "tasks": [{"name": "bad", "compute": 1, "command": [sys.executable, "-c",
                                                              "raise SystemExit(4)"]},
                     {"name": "good", "compute": 0.2, "command": ["sleep", "0.2"]}]}
    report = execute_online(load(doc, check=False), "fifo", round_s=0.5, max_retries=1,
                            logs=tmp_path)
    assert set(report.failed) == {"bad"} and report.attempts["bad"] == 2
    assert np.isfinite(report.finish[list(report.names).index("good")])


def test_a_task_with_nothing_to_run_is_refused():
    doc = {"name": "x", "pools": [{"name": "cpu", "kind": "cpu", "count": 1, "memory": "1GiB",
                                   "throughput": 1, "torch_device": "cpu"}],
           "tasks": [{"name": "idle", "compute": 1}]}
    with pytest.raises(ProblemError, match="'idle' has no command"):
        execute_online(load(doc, check=False), "fifo", round_s=1)


def test_run_command_online(tmp_path):
    from .test_cli_installed import allocator_cli
    path = tmp_path / "p.yaml"
    path.write_text("name: online\npools:\n  - {name: cpu, kind: cpu, count: 2, memory: 1GiB, "
                    "throughput: 1, torch_device: cpu}\ntasks:\n"
                    "  - {name: a, compute: 0.3, command: [sleep, '0.3']}\n"
                    "  - {name: b, compute: 0.2, release: 0.1s, command: [sleep, '0.2']}\n")
    run = allocator_cli("run", str(path), "--policy", "fifo", "--round", "1s", "--out",
                        str(tmp_path / "r.json"), "--journal", str(tmp_path / "j.jsonl"))
    assert run.returncode == 0, run.stderr
    assert "2 of 2 jobs finished in 2 rounds" in run.stdout
    import json
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [j["name"] for j in doc["jobs"]] == ["a", "b"] and doc["rounds"][0] == [["a", "cpu"]]
    bad = allocator_cli("run", str(path), "--policy", "fifo", "--plan", str(path))
    assert bad.returncode == 2 and "--plan does not go with --policy" in bad.stderr
    again = allocator_cli("run", str(path), "--policy", "fifo", "--journal",
                          str(tmp_path / "j.jsonl"))
    assert again.returncode == 2 and "already holds a run" in again.stderr
    shown = allocator_cli("report", str(tmp_path / "j.jsonl"))
    assert shown.returncode == 0, shown.stderr
    assert "online run: fifo, rounds of 1 s" in shown.stdout and "2 done" in shown.stdout


def test_a_killed_online_run_resumes_from_its_journal(tmp_path):
    import os
    import signal
    import subprocess
    import time

    from .test_bad_inputs import installed_command
    p = problem(tmp_path, {"cpu": 1}, [{"name": "quick", "work": 0.3},
                                       {"name": "slow", "work": 3.0, "release": 0.1}])
    from allocator import dump
    dump(p, tmp_path / "p.yaml")
    journal = tmp_path / "j.jsonl"
    args = [installed_command(), "run", str(tmp_path / "p.yaml"), "--policy", "fifo", "--round",
            "0.5s", "--journal", str(journal), "--logs", str(tmp_path / "logs")]
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:             # until slow has started
        if journal.exists() and '"task": "slow"' in journal.read_text():
            break
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    events = Journal.read(journal)
    assert any(e["event"] == "end" and e["task"] == "quick" for e in events)
    assert not any(e["event"] == "end" and e["task"] == "slow" for e in events)
    resumed = subprocess.run(args + ["--resume", "--out", str(tmp_path / "r.json")],
                             capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"resumed: \d+ rounds? of the journal replayed", resumed.stdout)
    assert "decides otherwise" not in resumed.stdout
    events = Journal.read(journal)
    assert [e["diverged"] for e in events if e["event"] == "online_resume"] == [False]
    starts = [e["task"] for e in events if e["event"] == "start"]
    assert starts.count("quick") == 1 and starts.count("slow") == 2    # quick is not rerun
    assert float((tmp_path / "slow.progress").read_text()) >= 3.0      # slow went on from it
    import json
    jobs = {j["name"]: j for j in json.loads((tmp_path / "r.json").read_text())["jobs"]}
    assert jobs["quick"]["finish_s"] < 1.5 < jobs["slow"]["finish_s"]


def test_resume_refuses_another_run_and_needs_a_journal(tmp_path):
    p = problem(tmp_path, {"cpu": 1}, [{"name": "a", "work": 0.1}])
    execute_online(p, "fifo", round_s=1, journal=tmp_path / "j.jsonl", logs=tmp_path / "l")
    with pytest.raises(ProblemError, match="another online run"):
        execute_online(p, "las", round_s=1, journal=tmp_path / "j.jsonl", resume=True)
    with pytest.raises(ProblemError, match=r"another online run \(policy fifo, rounds of 1 s, "
                       r"1 tasks\); resume it with the same problem, policy, round, reset "
                       r"interval, seed"):
        execute_online(p, "fifo", round_s=1, journal=tmp_path / "j.jsonl", resume=True, seed=1)
    with pytest.raises(ProblemError, match="another online run"):
        execute_online(p, "fifo", round_s=1, journal=tmp_path / "j.jsonl", resume=True,
                       reset_every=60)
    with pytest.raises(ProblemError, match="needs its journal"):
        execute_online(p, "fifo", round_s=1, resume=True)
    # a finished run resumed has nothing left to do
    report = execute_online(p, "fifo", round_s=1, journal=tmp_path / "j.jsonl", resume=True,
                            logs=tmp_path / "l")
    assert report.rounds == [] and np.isfinite(report.finish).all()


def test_resume_keeps_space_sharing_as_it_was(tmp_path):
    pools, jobs, sharing = SHARED["a pair"]
    p = problem(tmp_path, pools, jobs, None, sharing)
    journal = tmp_path / "j.jsonl"
    execute_online(p, "gandiva", round_s=1, journal=journal, logs=tmp_path / "l",
                   space_sharing=True)
    assert Journal.read(journal)[0]["space_sharing"] is True
    with pytest.raises(ProblemError, match="another online run .*space sharing"):
        execute_online(p, "gandiva", round_s=1, journal=journal, resume=True)
    with pytest.raises(ProblemError, match="'las' does not share devices"):
        execute_online(p, "las", round_s=1, space_sharing=True)
    report = execute_online(p, "gandiva", round_s=1, journal=journal, resume=True,
                            logs=tmp_path / "l", space_sharing=True)
    assert report.rounds == [] and np.isfinite(report.finish).all()


def finished_run(monkeypatch, p, policy, **options):
    """Run ``p`` to its end; the run itself (its re-planner and state)."""
    from allocator.executor.online_run import OnlineRun
    runs, go = [], OnlineRun.go

    def keep(self):
        runs.append(self)
        return go(self)
    monkeypatch.setattr(OnlineRun, "go", keep)
    execute_online(p, policy, **options)
    monkeypatch.setattr(OnlineRun, "go", go)
    return runs[0]


def fresh_run(p, policy, folder, **options):
    from allocator.executor.logs import Logs
    from allocator.executor.online_run import OnlineRun
    return OnlineRun(p, policy, round_s=options.get("round_s", 1.0), reset_every=1920.0,
                     journal=Journal(None), logs=Logs(folder), max_retries=2, grace=1.0,
                     seed=0, cuda_devices=None,
                     space_sharing=options.get("space_sharing", False))


LAS_TURNS = ({"cpu": 1}, [{"name": "a", "work": 1.2}, {"name": "b", "work": 1.2},
                          {"name": "c", "work": 0.3, "release": 0.7}], None, "las")


@pytest.mark.parametrize("case", sorted(CASES) + sorted(SHARED) + ["las"])
def test_a_journal_replayed_rebuilds_the_replanner_exactly(case, tmp_path, monkeypatch):
    from allocator.executor.online_resume import replay
    if case in SHARED:
        (pools, jobs, sharing), rates, policy = SHARED[case], None, "max_min_fairness"
    else:
        (pools, jobs, rates, policy), sharing = (LAS_TURNS if case == "las" else CASES[case]), None
    p = problem(tmp_path, pools, jobs, rates, sharing)
    options = {"round_s": 0.5 if case == "las" else 1.0, "space_sharing": bool(sharing)}
    run = finished_run(monkeypatch, p, policy, journal=tmp_path / "j.jsonl",
                       logs=tmp_path / "logs", **options)
    again = fresh_run(p, policy, tmp_path / "l2", **options)
    history = replay(again, Journal.read(tmp_path / "j.jsonl"))
    assert history.rounds == len(run.report.rounds) and not history.diverged
    assert set(history.done) == {j["name"] for j in jobs}
    for a, b in ((run.planner, again.planner), (run.planner.single, again.planner.single),
                 (run.planner.pair, again.planner.pair), (run.state, again.state)):
        for name, value in vars(a).items():
            if name == "now":                 # the clock, read whenever the run looked
                continue
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, vars(b)[name], err_msg=name)
            elif isinstance(value, (int, float, bool, dict)):
                assert value == vars(b)[name], name
    assert run.planner.pool_order.getstate() == again.planner.pool_order.getstate()
    if case == "las":
        assert run.state.preemptions.sum() > 0        # the turns were replayed


def test_a_resumed_run_goes_on_where_the_replanner_was(tmp_path, monkeypatch):
    """Two jobs take turns on one device under las; a run killed after the first round
    resumes with the other job (it has had less time), not with the first again."""
    jobs = [{"name": "a", "work": 1.2}, {"name": "b", "work": 1.2}]
    p = problem(tmp_path / "first", {"cpu": 1}, jobs)
    journal = tmp_path / "j.jsonl"
    first = execute_online(p, "las", round_s=0.5, journal=journal, logs=tmp_path / "l")
    ran, other = first.rounds[0][0][0], {"a", "b"} - {first.rounds[0][0][0]}
    events = Journal.read(journal)
    cut = next(k for k, e in enumerate(events) if e["event"] == "round_end")
    for older in (False, True):          # as killed there; the same, journaled without "now"
        kept = [{k: v for k, v in e.items() if not (older and k == "now")}
                for e in events[:cut + 1]]
        folder = tmp_path / f"resumed-{older}"
        folder.mkdir()
        (folder / "j.jsonl").write_text("".join(json.dumps(e) + "\n" for e in kept))
        q = problem(folder, {"cpu": 1}, jobs)
        report = execute_online(q, "las", round_s=0.5, journal=folder / "j.jsonl",
                                resume=True, logs=folder / "l")
        assert np.isfinite(report.finish).all() and report.failed == {}
        assert (report.replayed, report.diverged) == ((0, True) if older else (1, False))
        # replayed, b's turn; from scratch (an older journal), a tie that a takes
        assert report.rounds[0] == [(ran if older else other.pop(), "cpu")]


def test_an_online_journal_summed_up_by_hand():
    from allocator.executor.online_results import online_summary
    events = [{"event": "online_start", "policy": "las", "round_s": 2.0,
               "tasks": ["a", "b", "c", "d", "e"], "wall0": 0},
              {"event": "round", "t": 0.0, "now": 0.0, "units": [["a", "cpu"], ["b", "cpu"]]},
              {"event": "start", "t": 0.0, "task": "a", "attempt": 1, "devices": ["cpu[0]"]},
              {"event": "start", "t": 0.0, "task": "b", "attempt": 1, "devices": ["cpu[1]"]},
              {"event": "round_end", "t": 2.0},
              {"event": "round", "t": 2.0, "now": 2.0, "units": [["a", "cpu"], ["c", "cpu"]]},
              {"event": "preempted", "t": 2.0, "task": "b"},
              {"event": "start", "t": 2.0, "task": "c", "attempt": 1, "devices": ["cpu[1]"]},
              {"event": "end", "t": 2.5, "task": "a", "status": "completed", "error": None},
              {"event": "end", "t": 2.6, "task": "c", "status": "failed", "error": "exit 3"},
              {"event": "given_up", "t": 2.6, "task": "c", "error": "exit 3"},
              {"event": "online_resume", "t": 9.0},
              {"event": "start", "t": 9.0, "task": "d", "attempt": 1, "devices": ["cpu[0]"]}]
    s = online_summary(events)
    assert (s.policy, s.round_s, s.rounds, s.resumes, s.ended) == ("las", 2.0, 2, 1, False)
    got = {j.name: (j.status, j.attempts, j.stopped, j.finish, j.error) for j in s.jobs}
    assert got == {"a": ("done", 1, 0, 2.5, None), "b": ("waiting", 1, 1, None, None),
                   "c": ("failed", 1, 0, None, "exit 3"), "d": ("started", 1, 0, None, None),
                   "e": ("waiting", 0, 0, None, None)}
