"""Loading: round trips, and one clear message naming the culprit for every kind of bad input."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import allocator
from allocator.cli import main
from allocator.errors import ProblemError

from .conftest import PROBLEMS

GOOD = textwrap.dedent("""\
    name: good
    pools:
      - name: h100
        kind: gpu
        count: 2
        memory: 80GiB
        throughput: 400 TFLOP/s
        cost_per_hour: 4.5
      - name: cpu
        kind: cpu
        count: 1
        memory: 256GiB
        throughput: 2 TFLOP/s
    tasks:
      - name: llama
        compute: 2.5e18 FLOP
        memory: 30GiB
        weight: 2
        allowed_kinds: [gpu]
      - name: etl
        compute: 1e15 FLOP
        memory: 64GiB
    throughput:
      llama: {h100: 450 TFLOP/s}
    """)


def test_good_problem_loads_with_units_parsed():
    p = allocator.loads(GOOD)
    assert p.pools[0].memory == 80 * 1024 ** 3
    assert p.tasks[0].compute == 2.5e18
    assert p.rate[0, 0] == 450e12                 # the override
    assert p.rate[1, 0] == 400e12
    assert p.ptime[0, 0] == pytest.approx(2.5e18 / 450e12)
    assert p.eligible.tolist() == [[True, False], [True, True]]
    assert p.devices == ("h100[0]", "h100[1]", "cpu[0]")


@pytest.mark.parametrize("path", sorted(PROBLEMS.rglob("*.yaml")), ids=lambda p: p.name)
def test_shipped_problems_round_trip(path, tmp_path):
    problem = allocator.load(path, check=False)
    assert allocator.from_dict(allocator.to_dict(problem), check=False) == problem
    allocator.dump(problem, tmp_path / "p.yaml")
    assert allocator.load(tmp_path / "p.yaml", check=False) == problem


def test_dict_and_file_give_the_same_problem(tmp_path):
    import yaml
    assert allocator.load(yaml.safe_load(GOOD)) == allocator.loads(GOOD)


def _edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


# (document, fragment of the message, line of the culprit or None)
BAD = {
    "malformed yaml": ("name: x\npools: [\n  - {name: a\ntasks: []\n", "malformed YAML", 3),
    "tab indentation": ("name: x\n\tpools: []\n", "malformed YAML", 2),
    "not a mapping": ("- just\n- a list\n", "the problem must be a mapping", None),
    "empty": ("", "the problem is empty", None),
    "unknown top key": (_edit("name: good", "name: good\nobjectve: cost"),
                        "unknown key 'objectve' in the problem; did you mean 'objective'?", 2),
    "unknown pool key": (_edit("    count: 2", "    cuont: 2"),
                         "unknown key 'cuont' in pool 'h100'; did you mean 'count'?", 5),
    "unknown task key": (_edit("    weight: 2", "    wieght: 2"),
                         "unknown key 'wieght' in task 'llama'; did you mean 'weight'?", 18),
    "missing pools": ("name: x\ntasks: [{name: a, compute: 1, memory: 1}]\n",
                      "missing required key 'pools' (devices) or 'nodes'", None),
    "missing task compute for makespan": (_edit("    compute: 1e15 FLOP\n", ""),
                                          "task 'etl' has no 'compute'; the makespan objective needs it", 20),
    "missing pool memory": (_edit("    memory: 256GiB\n", ""),
                            "missing required key 'memory' in pool 'cpu'", 9),
    "negative memory": (_edit("memory: 30GiB", "memory: -30GiB"), "must be positive", 17),
    "zero compute": (_edit("compute: 1e15 FLOP", "compute: 0"), "must be positive", 21),
    "nan throughput": (_edit("throughput: 2 TFLOP/s", "throughput: .nan"), "not a finite number", 13),
    "negative cost": (_edit("cost_per_hour: 4.5", "cost_per_hour: -1"), "must be non-negative", 8),
    "zero count": (_edit("count: 2", "count: 0"), "must have at least one device", 5),
    "fractional count": (_edit("count: 2", "count: 1.5"), "must be a whole number", 5),
    "unknown unit": (_edit("memory: 30GiB", "memory: 30 GiBs"), "unknown unit 'GiBs'", 17),
    "wrong dimension": (_edit("throughput: 2 TFLOP/s", "throughput: 2 TFLOP"),
                        "is a flop unit but this field needs flop rate", 13),
    "unknown kind": (_edit("kind: cpu", "kind: cpuu"), "'cpuu' is not one of cpu, gpu, tpu, other; did you mean 'cpu'?", 10),
    "duplicate pool": (_edit("  - name: cpu", "  - name: h100"),
                       "duplicate pool name 'h100' (first at pools[0])", 9),
    "duplicate task": (_edit("  - name: etl", "  - name: llama"),
                       "duplicate task name 'llama' (first at tasks[0])", 20),
    "unknown allowed pool": (_edit("allowed_kinds: [gpu]", "allowed_pools: [h10]"),
                             "task 'llama' allows unknown pool 'h10'; did you mean 'h100'?", 19),
    "throughput unknown task": (_edit("  llama: {h100", "  lama: {h100"),
                                "throughput override for unknown task 'lama'; did you mean 'llama'?", 24),
    "throughput unknown pool": (_edit("{h100: 450 TFLOP/s}", "{h200: 450 TFLOP/s}"),
                                "throughput override names unknown pool 'h200'; did you mean 'h100'?", 24),
    "unknown objective": (_edit("name: good", "name: good\nobjective: fastest"),
                          "'fastest' is not one of makespan", 2),
    "task fits nowhere": (_edit("memory: 30GiB", "memory: 120GiB"),
                          "task 'llama' needs 120 GiB of memory, but the largest device it may use "
                          "has 80 GiB (pool 'h100')", None),
    "kinds match no pool": (_edit("allowed_kinds: [gpu]", "allowed_kinds: [tpu]"),
                            "task 'llama' allows kinds ['tpu'] and pools ['any'], but no pool matches both", None),
    "deadline too short": (_edit("weight: 2", "weight: 2\n    deadline: 1h"),
                           "task 'llama' has deadline 1 h but needs at least 1.543 h on its fastest pool 'h100'", None),
    "horizon too short for a task": (_edit("name: good", "name: good\nhorizon: 1h"),
                                     "task 'llama' needs at least 1.543 h on its fastest pool 'h100', "
                                     "longer than the horizon of 1 h", None),
    "horizon too short in total": (
        _edit("name: good", "name: good\nhorizon: 1.6h")
        .replace("  - name: etl", "".join(f"  - {{name: llama{k}, compute: 2.5e18 FLOP, memory: 30GiB, "
                                          f"allowed_kinds: [gpu]}}\n" for k in (2, 3, 4))
                 + "  - name: etl")
        .replace("  llama: {h100: 450 TFLOP/s}", "".join(f"  llama{k}: {{h100: 450 TFLOP/s}}\n"
                                                      for k in ("", 2, 3, 4))),
        "the tasks need at least 6.174 device-hours even on their fastest pools, but 3 devices "
        "over the horizon of 1.6 h offer 4.8", None),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_gets_one_clear_message(case):
    text, fragment, line = BAD[case]
    with pytest.raises(ProblemError) as info:
        allocator.loads(text, source="bad.yaml")
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    if line is not None:
        assert message.startswith(f"bad.yaml:{line}:"), message


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_cli_exits_2_without_traceback(case, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD[case][0])
    for command in (["validate", str(path)], ["solve", str(path)]):
        assert main(command) == 2
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err + captured.out
        assert "error:" in captured.err


def test_cli_process_exit_status_and_stderr(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD["unknown pool key"][0])
    run = subprocess.run([sys.executable, "-m", "allocator.cli", "validate", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "did you mean 'count'?" in run.stderr
    assert "Traceback" not in run.stderr


def test_missing_file_is_bad_input(capsys):
    assert main(["validate", "no/such/file.yaml"]) == 2
    err = capsys.readouterr().err
    assert "no/such/file.yaml" in err and "does not exist" in err


def test_objective_specific_requirements():
    doc = allocator.to_dict(allocator.loads(GOOD))
    with pytest.raises(ProblemError, match="pool 'cpu' has no 'cost_per_hour'"):
        allocator.solve(doc, objective="cost")
    with pytest.raises(ProblemError, match="weighted_shortfall objective needs a 'horizon'|"
                                           "task 'llama' has no 'demand'"):
        allocator.solve(doc, objective="weighted_shortfall")
    with pytest.raises(ProblemError, match="the utilization objective needs a 'horizon'"):
        allocator.solve(doc, objective="utilization")


def test_demand_kinds_are_checked():
    bad = _edit("    weight: 2", "    demand: {gpus: 10h}")
    with pytest.raises(ProblemError, match="unknown device kind 'gpus'.*did you mean 'gpu'"):
        allocator.loads(bad)


def test_infeasible_problem_loads_unchecked_and_solves_to_a_reason():
    text = BAD["deadline too short"][0]
    problem = allocator.loads(text, check=False)
    plan = allocator.solve(problem)
    assert plan.status == "infeasible"
    assert "deadline 1 h" in plan.reason
    assert allocator.verify(problem, plan) == []
