"""One node's share of a cluster plan, run for real: each task in a lane that sees its GPUs
(a gang all of them, a share its one GPU, a CPU task none), all at once, retried in its own
lane, journaled and resumable. Commands print what they see; the expected values are the
plan's own placements."""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest

import allocator
from allocator import AllocatorError
from allocator.domain.plan import Placement
from allocator.executor import check_report, execute, load_report
from allocator.io.problem_files import from_dict

from .test_executor_faults import cli, write

SEES = 'echo "$CUDA_VISIBLE_DEVICES|$ALLOCATOR_GPUS|$ALLOCATOR_GPU_SHARE|$ALLOCATOR_NODE"'


def cluster(**commands) -> dict:
    def task(name, **fields):
        script = commands.get(name, f"sleep 0.4; {SEES}")
        return {"name": name, **fields, "command": ["sh", "-c", script]}
    return {"name": "node-run", "objective": "packing",
            "nodes": [{"name": "g", "count": 2, "cpu": 16, "memory": "64Gi", "gpus": 4,
                       "gpu_model": "T4"},
                      {"name": "c", "count": 1, "cpu": 8, "memory": "32Gi"}],
            "tasks": [task("gang", cpu=4, memory="8Gi", gpus=2),
                      task("s1", cpu=2, memory="4Gi", gpu_share=0.5),
                      task("s2", cpu=2, memory="4Gi", gpu_share=0.5),
                      task("etl", cpu=8, memory="16Gi")]}


# Two tasks share GPU 2 of g[0], the gang holds GPUs 0 and 1; etl runs on the CPU node.
PLACEMENTS = {"gang": Placement("g[0]", (0, 1), 1.0), "s1": Placement("g[0]", (2,), 0.5),
              "s2": Placement("g[0]", (2,), 0.5), "etl": Placement("c[0]", (), 0.0)}


def plan_for(problem) -> allocator.Plan:
    plan = allocator.Plan(problem=problem.name, objective_name="packing",
                          status=allocator.Status.FEASIBLE, objective=3.0,
                          assignment={t: p.node for t, p in PLACEMENTS.items()},
                          placements=PLACEMENTS)
    assert allocator.verify(problem, plan) == []
    return plan


def seen(logs, task: str) -> str:
    return (logs / f"{task}.out").read_text().splitlines()[-1]


def test_each_task_sees_its_gpus_and_all_start_at_once(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    problem = from_dict(cluster())
    report = execute(problem, plan_for(problem), node="g[0]", cuda_devices=4,
                     logs=tmp_path / "logs", journal=tmp_path / "run.jsonl")
    assert report.ok and report.node == "g[0]"
    assert [t.task for t in report.tasks] == ["gang", "s1", "s2"]     # etl runs on c[0]
    assert seen(tmp_path / "logs", "gang") == "0,1|0,1|1|g[0]"
    assert seen(tmp_path / "logs", "s1") == "2|2|0.5|g[0]"
    assert seen(tmp_path / "logs", "s2") == "2|2|0.5|g[0]"
    assert report.devices == {"g[0]/gang": "cuda:0,1", "g[0]/s1": "cuda:2",
                              "g[0]/s2": "cuda:2"}
    # Each sleeps 0.4 s: together, every one starts before any ends.
    assert max(a.start for a in report.attempts) < min(a.end for a in report.attempts)
    loaded = load_report(tmp_path / "run.jsonl", problem)
    assert loaded.node == "g[0]" and check_report(problem, loaded) == []


def test_gpu_indices_go_through_this_process_visible_list(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    problem = from_dict(cluster())
    execute(problem, plan_for(problem), node="g[0]", cuda_devices=4, logs=tmp_path)
    assert seen(tmp_path, "gang") == "4,5|0,1|1|g[0]"       # GPUs 0 and 1 are cuda 4 and 5
    assert seen(tmp_path, "s2") == "6|2|0.5|g[0]"


def test_a_cpu_node_needs_no_gpu(tmp_path):
    problem = from_dict(cluster())
    report = execute(problem, plan_for(problem), node="c[0]", cuda_devices=0, logs=tmp_path)
    assert report.ok and [t.task for t in report.tasks] == ["etl"]
    assert seen(tmp_path, "etl") == "||0|c[0]"
    assert report.devices == {"c[0]/etl": "cpu"}


def test_a_node_without_tasks_runs_nothing(tmp_path):
    problem = from_dict(cluster())
    report = execute(problem, plan_for(problem), node="g[1]", cuda_devices=4, logs=tmp_path)
    assert report.ok and report.tasks == () and report.attempts == ()


def test_a_failure_is_retried_in_its_own_lane(tmp_path):
    flaky = (f'if [ -e {tmp_path}/once ]; then {SEES}; else touch {tmp_path}/once; '
             'echo broken >&2; exit 3; fi')
    problem = from_dict(cluster(s1=flaky))
    report = execute(problem, plan_for(problem), node="g[0]", cuda_devices=4,
                     logs=tmp_path / "logs")
    assert report.ok
    tries = [(a.device, a.status, a.exit_code) for a in report.attempts if a.task == "s1"]
    assert tries == [("g[0]/s1", "failed", 3), ("g[0]/s1", "completed", None)]
    assert seen(tmp_path / "logs", "s1") == "2|2|0.5|g[0]"


def test_a_task_out_of_attempts_fails_alone(tmp_path):
    problem = from_dict(cluster(gang="exit 1"))
    report = execute(problem, plan_for(problem), node="g[0]", cuda_devices=4,
                     max_retries=1, logs=tmp_path)
    status = {t.task: t.status for t in report.tasks}
    assert status == {"gang": "failed", "s1": "completed", "s2": "completed"}
    assert sum(a.task == "gang" for a in report.attempts) == 2


def test_resume_runs_only_what_is_left_and_checks_the_node(tmp_path):
    journal = tmp_path / "run.jsonl"
    problem = from_dict(cluster(gang="exit 1"))
    plan = plan_for(problem)
    first = execute(problem, plan, node="g[0]", cuda_devices=4, max_retries=0,
                    journal=journal, logs=tmp_path)
    assert [t.task for t in first.tasks if t.status == "failed"] == ["gang"]
    with pytest.raises(AllocatorError, match="problem, plan or node"):
        execute(problem, plan, node="c[0]", cuda_devices=4, journal=journal, resume=True)
    again = execute(problem, plan, node="g[0]", cuda_devices=4, journal=journal,
                    resume=True, logs=tmp_path)
    assert len(again.attempts) == len(first.attempts)                  # nothing ran again
    assert again.resumed and again.completed == ["s1", "s2"]


def test_only_the_nodes_own_tasks_must_be_runnable_here(tmp_path):
    doc = cluster()
    doc["tasks"][3]["command"] = ["no-such-program-here"]               # etl, on c[0]
    problem = from_dict(doc)
    assert execute(problem, plan_for(problem), node="g[0]", cuda_devices=4,
                   logs=tmp_path).ok
    with pytest.raises(AllocatorError, match="no-such-program-here"):
        execute(problem, plan_for(problem), node="c[0]", cuda_devices=4, logs=tmp_path)


@pytest.mark.parametrize("node, plan, cuda, message", [
    ("g[0]", None, 4, "same plan"),
    ("g[7]", "plan", 4, "no node 'g[7]'"),
    ("g", "plan", 4, "group of nodes: name one of them (g[0], g[1])"),
    ("g[0]", "plan", 2, "GPU 2 of g[0]"),
])
def test_refusals(node, plan, cuda, message):
    problem = from_dict(cluster())
    with pytest.raises(AllocatorError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        execute(problem, plan_for(problem) if plan else None, node=node, cuda_devices=cuda)


def test_cli_runs_a_cpu_nodes_share(tmp_path):
    path = write(tmp_path, cluster())
    problem = allocator.load(path)
    (tmp_path / "plan.json").write_text(json.dumps(plan_for(problem).to_dict()))
    got = cli("run", path, "--plan", tmp_path / "plan.json", "--node", "c[0]", "--quiet",
              "--logs", tmp_path / "logs", "--journal", tmp_path / "run.jsonl",
              "--out", tmp_path / "report.json")
    assert got.returncode == 0, got.stderr
    assert "c[0]/etl" in got.stdout and "its share of the cluster plan" in got.stdout
    assert seen(tmp_path / "logs", "etl") == "||0|c[0]"
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["node"] == "c[0]" and saved["completed"] == 1
    shown = cli("report", tmp_path / "run.jsonl", "--problem", path)
    assert shown.returncode == 0, shown.stderr
    idle = cli("run", path, "--plan", tmp_path / "plan.json", "--node", "g[1]", "--quiet")
    assert idle.returncode == 0 and "places no task on g[1]" in idle.stderr


def test_a_plan_over_time_keeps_its_order_on_the_node(tmp_path):
    # Two GPUs: b (2 h) on one, a then c (1 h each) on the other, the gang of 2 after all
    # three: 3 h. Each takes 0.3 s here, whatever the plan said.
    doc = {"name": "timed-run", "objective": "node_makespan",
           "nodes": [{"name": "g", "cpu": 16, "memory": "64Gi", "gpus": 2}],
           "tasks": [{"name": n, "cpu": 1, "memory": "1Gi", "gpus": k,
                      "command": ["sh", "-c", f"sleep 0.3; {SEES}"]}
                     for n, k in (("a", 1), ("b", 1), ("gang", 2), ("c", 1))],
           "time": {"a": {"g": "1h"}, "b": {"g": "2h"}, "gang": {"g": "1h"}, "c": {"g": "1h"}}}
    problem = from_dict(doc)
    plan = allocator.solve(problem)
    assert plan.objective == 3 * 3600.0 and allocator.verify(problem, plan) == []
    planned = {s.task: (s.start, s.end) for s in plan.schedule}
    report = execute(problem, plan, node="g[0]", cuda_devices=2, logs=tmp_path)
    assert report.ok
    ran = {a.task: (a.start, a.end) for a in report.attempts}
    for t, (start, _) in planned.items():          # after all that the plan ended before it
        for u, (_, end) in planned.items():
            if u != t and end <= start:
                assert ran[t][0] >= ran[u][1] - 1e-6, (t, u, ran)
    together = [(t, u) for t, u in itertools.combinations(planned, 2)
                if planned[t][0] < planned[u][1] and planned[u][0] < planned[t][1]]
    assert together                                   # and some ran side by side
    assert any(ran[t][0] < ran[u][1] and ran[u][0] < ran[t][1] for t, u in together)


def test_cli_says_which_tasks_no_node_runs(tmp_path):
    path = write(tmp_path, cluster())
    problem = allocator.load(path)
    full = plan_for(problem)
    placements = {t: p for t, p in full.placements.items() if t != "s2"}
    plan = dataclasses.replace(full, placements=placements, unplaced=("s2",), objective=2.5,
                               assignment={t: p.node for t, p in placements.items()})
    assert allocator.verify(problem, plan) == []
    (tmp_path / "plan.json").write_text(json.dumps(plan.to_dict()))
    got = cli("run", path, "--plan", tmp_path / "plan.json", "--node", "c[0]", "--quiet",
              "--logs", tmp_path / "logs")
    assert got.returncode == 0 and "leaves out s2: no node runs it" in got.stderr
