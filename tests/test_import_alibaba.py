"""The Alibaba GPU trace importer: columns to the project's format, identical nodes grouped,
malformed rows refused with their line, and the shared trace's own counts."""

from __future__ import annotations

import pytest

import allocator
from allocator import ProblemError
from allocator.io.alibaba import import_alibaba
from allocator.io.orlib import benchmark_root

from .test_cli_installed import allocator_cli

NODES = """sn,cpu_milli,memory_mib,gpu,model
node-a,96000,393216,8,G2
node-b,96000,393216,8,G2
node-c,32000,131072,0,
node-d,8000,32768,1,V100M16
"""
PODS = """name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time
pod-0,12000,16384,1,1000,,LS,Running,0
pod-1,6000,12288,1,460,T4|G2|T4,BE,Running,5
pod-2,88000,0,8,1000,,LS,Running,9
pod-3,500,1024,0,0,,Burstable,Pending,12
"""


def _files(tmp_path, nodes=NODES, pods=PODS):
    (tmp_path / "nodes.csv").write_text(nodes)
    (tmp_path / "pods.csv").write_text(pods)
    return tmp_path / "nodes.csv", tmp_path / "pods.csv"


def test_rows_become_groups_and_tasks(tmp_path):
    doc = import_alibaba(*_files(tmp_path))
    groups = {g["name"]: g for g in doc["nodes"]}
    assert groups["G2-8gpu-96cpu-393216Mi"]["names"] == ["node-a", "node-b"]
    assert groups["cpu-0gpu-32cpu-131072Mi"] == {"name": "cpu-0gpu-32cpu-131072Mi",
                                                "names": ["node-c"], "cpu": 32,
                                                "memory": "131072Mi"}
    tasks = {t["name"]: t for t in doc["tasks"]}
    assert tasks["pod-0"] == {"name": "pod-0", "cpu": 12, "memory": "16384Mi", "gpus": 1,
                              "qos": "LS"}
    assert tasks["pod-1"]["gpu_share"] == 0.46 and tasks["pod-1"]["gpu_models"] == ["T4", "G2"]
    assert "memory" not in tasks["pod-2"] and tasks["pod-2"]["gpus"] == 8
    assert tasks["pod-3"]["cpu"] == 0.5 and "gpus" not in tasks["pod-3"]
    problem = allocator.load(doc)
    assert len(problem.devices) == 4 and problem.pools[0].node_names == ("node-a", "node-b")
    plan = allocator.solve(problem)
    assert allocator.verify(problem, plan) == []
    # pod-2 (8 GPUs, 88 cores) and pod-0 cannot share a 96-core node; the two G2 nodes and
    # the V100 hold everything: 1 + 0.46 + 8 GPUs.
    assert plan.objective == pytest.approx(9.46)


@pytest.mark.parametrize("which, old, new, words", [
    ("nodes", "node-b,96000", "node-a,96000", "node 'node-a' also appears on line 2"),
    ("nodes", "32000,131072,0,", "32k,131072,0,", "line 4: cpu_milli must be a whole number"),
    ("nodes", "8000,32768,1,V100M16", "8000,32768,1,", "has 1 GPUs but no model"),
    ("nodes", "sn,cpu_milli", "node,cpu_milli", "missing column sn"),
    ("nodes", "node-c,32000,131072,0,", "node-c,32000,131072,0,T4", "but 0 GPUs"),
    ("pods", "pod-2,88000,0,8,1000", "pod-2,88000,0,8,500", "line 4: 8 GPUs at gpu_milli 500"),
    ("pods", "pod-3,500,1024,0,0", "pod-3,500,1024,0,300", "gpu_milli is 300 but num_gpu is 0"),
    ("pods", "pod-0,12000,16384,1,1000", "pod-0,12000,16384,1,1200",
     "gpu_milli must be from 0 to 1,000"),
    ("pods", "pod-1,6000,12288,1,460,T4|G2|T4,BE,Running,5",
     "pod-1,6000,12288,1,460,T4|G2|T4,BE,Running", "line 3: expected 9 fields"),
])
def test_a_malformed_row_is_refused_with_its_line(tmp_path, which, old, new, words):
    text = {"nodes": NODES, "pods": PODS}
    assert old in text[which]
    text[which] = text[which].replace(old, new)
    with pytest.raises(ProblemError, match=words):
        import_alibaba(*_files(tmp_path, text["nodes"], text["pods"]))


def test_the_command_writes_a_problem_that_loads(tmp_path):
    nodes, pods = _files(tmp_path)
    run = allocator_cli("import", "alibaba", str(nodes), str(pods), "--out",
                        str(tmp_path / "p.yaml"))
    assert run.returncode == 0, run.stderr
    assert "4 nodes in 3 groups (17 GPUs); 4 tasks asking for 9.5 GPUs" in run.stderr
    problem = allocator.load(tmp_path / "p.yaml")
    assert problem.objective == "packing" and len(problem.tasks) == 4


def test_the_command_refuses_a_bad_file_with_exit_2(tmp_path):
    nodes, pods = _files(tmp_path)
    run = allocator_cli("import", "alibaba", str(pods), str(nodes), "--out",
                        str(tmp_path / "p.yaml"))
    assert run.returncode == 2 and "missing columns sn, gpu, model" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "p.yaml").exists()


TRACE = None if benchmark_root() is None else \
    benchmark_root() / "traces" / "alibaba-gpu-v2023"


@pytest.mark.skipif(TRACE is None or not TRACE.is_dir(), reason="the shared Alibaba trace "
                    "(../shared/benchmarks/traces/alibaba-gpu-v2023) is absent")
@pytest.mark.parametrize("pods", ["default", "gpuspec33"])
def test_the_shared_trace_keeps_its_counts(pods):
    # The trace's README: 1,523 nodes, 6,212 GPUs; 8,152 pods of which 3,078 share a GPU,
    # 16 + 15 + 44 ask for 2, 4 or 8 GPUs, 1,088 for none.
    doc = import_alibaba(TRACE / "openb_node_list_all_node.csv",
                         TRACE / f"openb_pod_list_{pods}.csv")
    problem = allocator.load(doc)
    assert len(problem.devices) == 1523 and len(problem.pools) == 27
    assert sum(p.count * p.gpus for p in problem.pools) == 6212
    tasks = problem.tasks
    assert len(tasks) == 8152
    assert sum(t.gpu_share is not None for t in tasks) == 3078
    assert [sum(t.gpus == k for t in tasks) for k in (2, 4, 8)] == [16, 15, 44]
    assert sum(t.gpu_demand == 0 for t in tasks) == 1088
    assert sum(t.gpu_demand for t in tasks) == pytest.approx(6086.8)
    if pods == "gpuspec33":
        assert sum(t.gpu_models == ("T4",) for t in tasks) == 1291


def test_a_pods_file_without_gpu_spec_and_qos_imports(tmp_path):
    # The trace's multigpu lists have neither column: any GPU model, no QoS.
    pods = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\npod-0,4000,8192,2,1000\n" \
           "pod-1,2000,4096,1,250\n"
    doc = import_alibaba(*_files(tmp_path, pods=pods))
    assert doc["tasks"] == [{"name": "pod-0", "cpu": 4, "memory": "8192Mi", "gpus": 2},
                            {"name": "pod-1", "cpu": 2, "memory": "4096Mi", "gpu_share": 0.25}]


def test_qos_weights_weigh_the_placed_demand(tmp_path):
    doc = import_alibaba(*_files(tmp_path), qos_weights={"LS": 3, "BE": 0.5})
    weights = {t["name"]: t.get("weight") for t in doc["tasks"]}
    assert weights == {"pod-0": 3, "pod-1": 0.5, "pod-2": 3, "pod-3": None}
    problem = allocator.load(doc)
    plan = allocator.solve(problem)
    # Everything is placed (as without weights): 3 * (1 + 8) + 0.5 * 0.46.
    assert plan.objective == pytest.approx(27.23)
    with pytest.raises(ProblemError, match="no pod has qos 'LX'.*BE, Burstable, LS"):
        import_alibaba(*_files(tmp_path), qos_weights={"LX": 2})
    with pytest.raises(ProblemError, match="must be a number > 0"):
        import_alibaba(*_files(tmp_path), qos_weights={"LS": 0})


@pytest.mark.parametrize("pair, words", [("LS", "expected CLASS=WEIGHT"),
                                         ("=2", "expected CLASS=WEIGHT"),
                                         ("LS=x", "expected CLASS=WEIGHT"),
                                         ("LS=-2", "must be a number > 0")])
def test_the_command_refuses_a_bad_qos_weight_with_exit_2(tmp_path, pair, words):
    nodes, pods = _files(tmp_path)
    run = allocator_cli("import", "alibaba", str(nodes), str(pods), "--out",
                        str(tmp_path / "p.yaml"), "--qos-weight", pair)
    assert run.returncode == 2 and words in run.stderr and "Traceback" not in run.stderr
