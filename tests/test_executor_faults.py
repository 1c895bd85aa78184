"""Faults, with real processes: users' commands and callables that crash, hang, exit or are
killed; runs killed with kill -9 at random moments, stopped with SIGINT and SIGTERM; a
journal in use, torn, on a full disk or in a folder that is not there; tampered reports."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import allocator
from allocator import AllocatorError, ProblemError
from allocator.executor import check_report, execute, load_report
from allocator.executor.journal import Journal
from allocator.executor.replan import subproblem
from allocator.executor.state import RunState
from allocator.executor import policy
from allocator.io.problem_files import from_dict

from .conftest import ROOT

JOBS = "tests.fault_jobs"


def problem(tasks, count=2, **extra):
    return {"name": "faults", "pools": [{"name": "cpu", "kind": "cpu", "count": count,
                                         "memory": "4GiB", "throughput": "1 GFLOP/s"}],
            "tasks": [{"compute": 1e9, "memory": "1MiB", **t} for t in tasks], **extra}


def call(name, target, **params):
    return {"name": name, "callable": f"{JOBS}:{target}", **({"params": params} if params else {})}


def sh(name, script, **extra):
    return {"name": name, "command": ["sh", "-c", script], **extra}


def write(tmp_path, doc, name="p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def cli(*args, timeout=120, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "allocator.cli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


# -- users' jobs -----------------------------------------------------------------------------

def test_a_command_sees_its_device_env_and_folder_and_logs_beside_the_journal(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    script = ('echo "dev=$ALLOCATOR_DEVICE name=$ALLOCATOR_DEVICE_NAME task=$ALLOCATOR_TASK '
              'cuda=[$CUDA_VISIBLE_DEVICES] mine=$MINE pwd=$(pwd)"; echo warn >&2')
    f = write(tmp_path, problem([sh("a", script, env={"MINE": 42}, cwd="work")], count=1))
    p = allocator.load(f)
    report = execute(p, journal=tmp_path / "run.jsonl")
    assert report.ok and check_report(p, report) == []
    out = (tmp_path / "run.jsonl.logs" / "a.out").read_text().splitlines()
    assert out[0].startswith("=== a: attempt 1 on cpu[0] (cpu)")
    assert out[1] == f"dev=cpu name=cpu[0] task=a cuda=[] mine=42 pwd={work.resolve()}"
    assert (tmp_path / "run.jsonl.logs" / "a.err").read_text().splitlines()[1] == "warn"
    assert report.logs == str(tmp_path / "run.jsonl.logs")


def test_a_callable_gets_its_params_and_device(tmp_path):
    p = allocator.load(problem([call("c", "ok", note="hello")], count=1))
    report = execute(p, logs=tmp_path / "logs")
    assert report.ok
    assert (tmp_path / "logs" / "c.out").read_text().splitlines()[1] == "ok c hello"


def test_crashes_fail_their_task_never_the_run(tmp_path):
    tasks = [call("raises", "raises"), call("os-exit", "exits_hard", code=7),
             call("segfault", "segfaults"), call("sys-exit", "calls_sys_exit", code=3),
             sh("exit-4", "echo bye >&2; exit 4"), sh("sigkill", "kill -9 $$"),
             call("fine", "ok"), sh("fine-too", "true")]
    p = allocator.load(problem(tasks))
    report = execute(p, max_retries=0, logs=tmp_path)
    assert check_report(p, report) == []
    outcome = {o.task: o for o in report.tasks}
    assert outcome["fine"].status == outcome["fine-too"].status == "completed"
    assert outcome["raises"].error.endswith("ValueError: the task's own bug")
    assert "ValueError: the task's own bug" in outcome["raises"].stderr_tail
    assert outcome["os-exit"].exit_code == 7 and "leaving" in outcome["os-exit"].stderr_tail
    assert outcome["segfault"].signal == "SIGSEGV"
    assert outcome["sys-exit"].exit_code == 3
    assert outcome["exit-4"].exit_code == 4 and outcome["exit-4"].stderr_tail == "bye"
    assert outcome["sigkill"].signal == "SIGKILL"
    assert sorted(report.failed) == ["exit-4", "os-exit", "raises", "segfault", "sigkill",
                                     "sys-exit"]


def test_a_hung_task_is_stopped_at_its_timeout(tmp_path):
    tasks = [call("hangs", "hangs", seconds=600), sh("sleeps", "sleep 600", timeout="1s"),
             sh("quick", "true")]
    p = allocator.load(problem(tasks, count=3))
    t0 = time.monotonic()
    report = execute(p, max_retries=0, task_timeout=1.0, grace=1.0, logs=tmp_path)
    assert time.monotonic() - t0 < 30
    outcome = {o.task: o for o in report.tasks}
    assert outcome["quick"].status == "completed"
    for name in ("hangs", "sleeps"):
        assert outcome[name].status == "failed" and "timed out after 1 s" in outcome[name].error
    assert all(a.seconds < 5 for a in report.attempts)


def test_retries_are_counted_across_resumes_and_the_limit_is_journaled(tmp_path):
    journal = tmp_path / "run.jsonl"
    p = allocator.load(problem([sh("doomed", "exit 1"), sh("fine", "true")], count=3))
    report = execute(p, journal=journal, max_retries=0)
    assert report.failed == ["doomed"] and len(report.attempts) == 2
    start = Journal.read(journal)[0]
    assert start["limits"] == {"max_retries": 0, "drain_after": 2}
    # resuming without a limit keeps the journaled one: nothing runs again
    report = execute(p, journal=journal, resume=True)
    assert report.failed == ["doomed"] and len(report.attempts) == 2


def test_unknown_programs_modules_and_folders_are_refused_before_anything_runs(tmp_path):
    for task, message in [(sh("a", "true", cwd="nowhere"), "is not a folder"),
                          ({"name": "a", "command": ["no-such-program-x"]}, "cannot find"),
                          (call("a", "x").copy() | {"callable": "no_such_module:f"},
                           "cannot import 'no_such_module'")]:
        p = from_dict(problem([task], count=1), base=tmp_path)
        with pytest.raises(AllocatorError, match=message):
            execute(p)


@pytest.mark.parametrize("task, message", [
    ({"command": []}, "is empty"),
    ({"command": "python 'unclosed"}, "cannot be split"),
    ({"command": ["a", {"b": 1}]}, "must be a string or a number"),
    ({"command": ["a"], "callable": "m:f"}, "gives command and callable"),
    ({"command": ["a"], "workload": {"name": "matmul"}}, "gives workload and command"),
    ({"callable": "m:f", "env": {"A": 1}}, "env without command"),
    ({"command": ["a"], "params": {"x": 1}}, "params without callable"),
    ({"command": ["a"], "env": {"CUDA_VISIBLE_DEVICES": "0"}}, "set by the executor"),
    ({"command": ["a"], "env": {"1A": "x"}}, "not a variable name"),
    ({"callable": "not a target"}, "package.module:function"),
    ({"command": ["a"], "timeout": "-3s"}, "timeout"),
])
def test_bad_job_fields_name_the_culprit(task, message):
    with pytest.raises(ProblemError, match=message):
        allocator.load(problem([{"name": "t", **task}], count=1))


def test_a_command_as_one_string_is_split_like_a_shell_but_never_run_by_one(tmp_path):
    p = allocator.load(problem([{"name": "t", "command": "printf '%s|' 'a b' ';' c"}], count=1))
    assert p.tasks[0].job.command == ("printf", "%s|", "a b", ";", "c")
    report = execute(p, logs=tmp_path)
    assert report.ok
    assert (tmp_path / "t.out").read_text().splitlines()[1] == "a b|;|c|"


# -- failure policy and re-planning ----------------------------------------------------------

def test_policy_drains_on_device_evidence_only():
    p = allocator.load(problem([sh(f"t{k}", "true") for k in range(3)], count=3))
    state = RunState([t.name for t in p.tasks], list(p.devices))
    state.limits["drain_after"] = 2
    # one broken task failing on every device: no device is to blame
    for d in p.devices:
        state.failures[d]["t0"] = "exit"
    assert policy.to_drain(state, list(p.devices)) == {}
    # two different tasks that failed on cpu[0] completed elsewhere: cpu[0] is
    state.failures["cpu[0]"]["t1"] = state.failures["cpu[0]"]["t2"] = "exit"
    state.completed_on.update({"t1": "cpu[1]", "t2": "cpu[2]"})
    assert list(policy.to_drain(state, list(p.devices))) == ["cpu[0]"]
    # out of memory says nothing about the device
    state.failures["cpu[1]"]["t1"] = "out_of_memory"
    state.failures["cpu[1]"]["t2"] = "device"
    assert policy.evidence(state, "cpu[1]") == ["t2"]


def test_out_of_memory_keeps_a_task_off_every_device_no_bigger():
    doc = problem([sh("t", "true")])
    doc["pools"] += [{"name": "big", "kind": "cpu", "count": 1, "memory": "8GiB",
                      "throughput": "1 GFLOP/s"},
                     {"name": "same", "kind": "cpu", "count": 1, "memory": "4GiB",
                      "throughput": "1 GFLOP/s"}]
    p = allocator.load(doc)
    assert policy.exclusions(p, "cpu[0]", "out_of_memory") == ["cpu[0]", "cpu[1]", "same[0]"]
    assert policy.exclusions(p, "cpu[0]", "exit") == ["cpu[0]"]


def test_the_replan_keeps_the_problem_whole():
    doc = problem([{"name": "a", "deadline": "100s"}, {"name": "b"}], horizon="1000s",
                  time={"a": {"cpu": "7s"}}, cost={"b": {"cpu": 3.5}})
    doc["pools"][0]["cost_per_hour"] = 1.0
    p = allocator.load(doc)
    sub = subproblem(p, {"a": ["cpu[1]"], "b": ["cpu[0]", "cpu[1]"]}, elapsed=40.0)
    assert [q.name for q in sub.pools] == ["cpu[0]", "cpu[1]"]
    assert sub.horizon == 960.0
    by = {t.name: t for t in sub.tasks}
    assert by["a"].deadline == 60.0 and by["a"].allowed_pools == ("cpu[1]",)
    assert sub.time == {"a": {"cpu[1]": 7.0}}
    assert sub.cost == {"b": {"cpu[0]": 3.5, "cpu[1]": 3.5}}
    assert float(sub.ptime[sub.task_index["a"], sub.pool_index["cpu[1]"]]) == 7.0


def test_a_kill_between_a_failure_and_its_replan_never_reruns_on_the_excluded_device(tmp_path):
    journal = tmp_path / "run.jsonl"
    f = write(tmp_path, problem([call("picky", "broken_on", device="cpu[0]"),
                                 sh("other", "true")]))
    p = allocator.load(f)
    from allocator.domain.plan import Plan, Slot, Status
    plan = Plan(problem=p.name, objective_name="makespan", status=Status.FEASIBLE,
                assignment={"picky": "cpu[0]", "other": "cpu[1]"},
                schedule=(Slot("picky", "cpu[0]", 0, 1), Slot("other", "cpu[1]", 0, 1)))
    execute(p, plan, journal=journal)
    lines = journal.read_text().splitlines(keepends=True)
    # cut the journal right after picky's failure: the kill came before the re-plan
    cut = next(k for k, line in enumerate(lines)
               if '"task_end"' in line and '"picky"' in line and '"failed"' in line)
    journal.write_text("".join(lines[:cut + 1]))
    report = execute(p, journal=journal, resume=True)
    assert report.ok and check_report(p, report) == []
    events = Journal.read(journal)
    starts = [e["device"] for e in events[cut + 1:] if e["event"] == "task_start"
              and e["task"] == "picky"]
    assert starts and "cpu[0]" not in starts


# -- kill -9, signals, the journal ----------------------------------------------------------

def _ledger_problem(tmp_path, n=10) -> Path:
    """Tasks that append their name to a ledger when they finish; one fails on cpu[0]."""
    ledger = tmp_path / "ledger"
    tasks = [sh(f"t{k}", f'sleep 0.{k % 3 + 1}; echo "$ALLOCATOR_TASK" >> "{ledger}"')
             for k in range(n)]
    tasks.append(sh("picky", f'[ "$ALLOCATOR_DEVICE_NAME" = "cpu[0]" ] && exit 9; '
                             f'echo picky >> "{ledger}"'))
    return write(tmp_path, problem(tasks))


def _until_a_task_starts(journal: Path, proc, timeout: float = 30.0) -> None:
    """Wait until the run journals one more task start than it had (or ends), so that a kill
    after it falls inside the run however long the interpreter took to start."""
    def starts():
        return journal.read_text().count('"task_start"') if journal.exists() else 0
    before, deadline = starts(), time.monotonic() + timeout
    while proc.poll() is None and starts() <= before and time.monotonic() < deadline:
        time.sleep(0.01)


def test_kill_9_at_random_moments_loses_nothing_and_runs_nothing_twice(tmp_path):
    """A seeded loop of 20 trials: run, kill -9 at a random moment (twice in some trials),
    resume to the end. No task is lost, none completes twice in the journal, none starts
    on a device it was excluded from; a task re-runs in truth only when the kill fell
    between its end and the journal's record of it."""
    rng = random.Random(20261201)
    cut_short = 0                            # trials whose kill fell in the middle of the run
    for trial in range(20):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        f = _ledger_problem(folder)
        journal = folder / "run.jsonl"
        kills = 0
        for _ in range(rng.choice((1, 2))):
            proc = subprocess.Popen([sys.executable, "-m", "allocator.cli", "run", str(f),
                                     "--journal", str(journal), "--quiet", "--max-retries", "4"]
                                    + (["--resume"] if journal.exists() else []),
                                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _until_a_task_starts(journal, proc)
            time.sleep(rng.uniform(0.0, 0.8))         # the tasks take about 1 s in all
            if proc.poll() is None:
                proc.kill()
                kills += 1
            proc.wait()
        if journal.exists() and Journal.read(journal)[-1:] != [] \
                and Journal.read(journal)[-1]["event"] != "end":
            cut_short += 1
        done = cli("run", f, "--journal", journal, "--quiet", "--resume")
        assert done.returncode == 0, (trial, done.stderr)
        events = Journal.read(journal)
        completed = [e["task"] for e in events
                     if e["event"] == "task_end" and e["status"] == "completed"]
        p = allocator.load(f)
        assert sorted(completed) == sorted(t.name for t in p.tasks), trial
        excluded: dict[str, set] = {}
        for e in events:
            if e["event"] == "task_start":
                assert e["device"] not in excluded.get(e["task"], ()), (trial, e)
            if e["event"] == "task_end":
                excluded.setdefault(e["task"], set()).update(e.get("excluded", ()))
        ledger = (folder / "ledger").read_text().split()
        assert set(ledger) == {t.name for t in p.tasks}, trial
        assert len(ledger) - len(set(ledger)) <= 2 * kills, trial
        assert check_report(p, load_report(journal, p)) == [], trial
    assert cut_short >= 10, cut_short


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_stop_the_children_and_resume_finishes(tmp_path, sig, code):
    marker, fast = tmp_path / "started", tmp_path / "fast"
    tasks = [sh(f"t{k}", f'[ -e "{fast}" ] && exit 0; touch "{marker}"; sleep 30')
             for k in range(2)]
    f = write(tmp_path, problem(tasks))
    journal = tmp_path / "run.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "allocator.cli", "run", str(f), "--journal",
                             str(journal), "--quiet"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    t0 = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert time.monotonic() - t0 < 10                          # SIGTERM to the children
    assert "Traceback" not in err and "--resume" in err
    events = Journal.read(journal)
    assert events[-1]["event"] == "stop" and events[-1]["signal"] == sig.name
    ends = [e for e in events if e["event"] == "task_end"]
    assert ends and all(e["status"] == "interrupted" for e in ends)
    for pattern in (str(marker), "^sleep 30$"):          # the task's shell, and its sleep
        assert subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 1
    # resume: the interrupted tasks run again (quickly this time) and the run ends
    fast.touch()
    done = cli("run", f, "--journal", journal, "--quiet", "--resume")
    assert done.returncode == 0, done.stderr
    events = Journal.read(journal)
    assert events[-1]["event"] == "end"
    assert sorted(e["task"] for e in events if e["event"] == "task_end"
                  and e["status"] == "completed") == ["t0", "t1"]


def test_a_second_run_on_a_live_journal_and_a_torn_tail_are_handled(tmp_path):
    f = write(tmp_path, problem([sh(f"t{k}", "sleep 0.2") for k in range(4)]))
    journal = tmp_path / "run.jsonl"
    assert cli("run", f, "--journal", journal, "--quiet").returncode == 0
    text = journal.read_text()
    journal.write_text(text[:text.index('"event": "end"') - 30])       # torn mid-line
    resumed = cli("run", f, "--journal", journal, "--quiet", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert all(line.endswith("}") for line in journal.read_text().splitlines())


def test_a_full_disk_is_reported_as_such(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    sink = Journal("/dev/full")
    sink.open()
    with pytest.raises(AllocatorError, match="is full"):
        sink.write({"event": "start"})
    with pytest.raises(AllocatorError, match="is full"):
        sink.close()


def test_a_missing_or_unwritable_journal_folder_is_refused_before_solving(tmp_path):
    f = write(tmp_path, problem([sh("a", "true")], count=1))
    result = cli("run", f, "--journal", tmp_path / "missing" / "run.jsonl", "--quiet")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "missing" in result.stderr
    if os.geteuid() != 0:                       # root writes anywhere: nothing to test there
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        result = cli("run", f, "--journal", locked / "run.jsonl", "--quiet")
        assert result.returncode == 2 and "cannot write" in result.stderr


def test_a_tampered_plan_is_refused_naming_the_violation(tmp_path):
    doc = problem([sh("a", "true")])
    doc["pools"].append({"name": "small", "kind": "cpu", "count": 1, "memory": "1KiB",
                         "throughput": "1 GFLOP/s"})
    f = write(tmp_path, doc)
    plan = tmp_path / "plan.json"
    assert cli("solve", f, "--out", plan).returncode == 0
    data = json.loads(plan.read_text())
    data["assignment"]["a"] = "small[0]"
    for slot in data.get("schedule", []):
        slot["device"] = "small[0]"
    plan.write_text(json.dumps(data))
    result = cli("run", f, "--plan", plan, "--quiet")
    assert result.returncode == 2 and "does not fit" in result.stderr
    assert "small[0]" in result.stderr and "bytes but small has 1024" in result.stderr


# -- reports ---------------------------------------------------------------------------------

def test_report_shows_a_journal_or_a_saved_report_and_checks_it(tmp_path):
    f = write(tmp_path, problem([sh("a", "sleep 0.1"), sh("b", "exit 5")]))
    journal, saved = tmp_path / "run.jsonl", tmp_path / "report.json"
    assert cli("run", f, "--journal", journal, "--out", saved, "--quiet",
               "--max-retries", "0").returncode == 1
    for source in (journal, saved):
        shown = cli("report", source, "--gantt", tmp_path / "g.png")
        assert shown.returncode == 0, shown.stderr
        assert "failed" in shown.stdout and (tmp_path / "g.png").stat().st_size
        assert load_report(source).tasks[1].exit_code == 5
    assert cli("report", journal, "--problem", f).returncode == 0
    good = json.loads(saved.read_text())
    for change, message in [(lambda d: d["attempts"][0].update(end=-1.0), "negative"),
                            (lambda d: d.update(measured_makespan=99.0), "disagrees"),
                            (lambda d: d["attempts"][0].update(device="gpu[7]"),
                             "does not list")]:
        bad = json.loads(json.dumps(good))
        change(bad)
        tampered = tmp_path / "tampered.json"
        tampered.write_text(json.dumps(bad))
        result = cli("report", tampered)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    (tmp_path / "junk.json").write_text("[1, 2]")
    result = cli("report", tmp_path / "junk.json")
    assert result.returncode == 2 and "not a run report" in result.stderr


def test_the_worked_example_runs(tmp_path):
    """docs/executor.md's worked example: a user's training script, run as commands."""
    pytest.importorskip("torch")
    example = ROOT / "examples" / "train-script"
    journal = tmp_path / "run.jsonl"
    env_path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    result = subprocess.run([sys.executable, "-m", "allocator.cli", "run",
                             str(example / "problem.yaml"), "--journal", str(journal),
                             "--quiet"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": env_path})
    assert result.returncode == 0, result.stderr
    out = (tmp_path / "run.jsonl.logs" / "wide.out").read_text().splitlines()
    assert [line.split(" loss")[0] for line in out[1:]] == [f"wide: epoch {k}" for k in (1, 2, 3)]
    assert out[1].endswith("on cpu")
