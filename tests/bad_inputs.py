"""A catalogue of bad inputs for the installed ``allocator`` command.

Every case is a command line, the files it reads, the exit status it must end with and
fragments its message on stderr must hold (the file, the field, the option). It aims at every
field of the problem format with every kind of wrong value, at hostile YAML, at plan files of
the wrong shape, and at every option of every command. tests/test_bad_inputs.py runs it;
benchmarks/bad_inputs.py times it and measures its memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# A good problem: every key of the format appears at least once, so that each can be broken.
GOOD = """\
name: good
description: a problem whose every key can be broken
objective: makespan
horizon: 100h
pools:
  - name: h100
    kind: gpu
    count: 2
    memory: 80GiB
    throughput: 400 TFLOP/s
    cost_per_hour: 4.5
    torch_device: cpu
    horizon: 90h
  - name: cpu
    kind: cpu
    count: 1
    memory: 256GiB
    throughput: 2 TFLOP/s
    cost_per_hour: 0.5
tasks:
  - name: llama
    compute: 2.5e18 FLOP
    memory: 30GiB
    weight: 2
    priority: 1
    deadline: 50h
    allowed_kinds: [gpu]
    allowed_pools: [h100]
    demand: {gpu: 10h}
    callable: train.jobs:main
    params: {epochs: 3}
    timeout: 60h
  - name: etl
    compute: 1e15 FLOP
    memory: 64GiB
    command: [python, etl.py, --fast]
    env: {MODE: fast}
    cwd: jobs
throughput:
  llama: {h100: 450 TFLOP/s}
time:
  etl: {cpu: 600s}
cost:
  etl: {cpu: 0.2}
sharing:
  - {tasks: [llama, etl], pool: h100, throughput: [300 TFLOP/s, 100 TFLOP/s]}
"""

# A problem the executor can run (a tiny built-in workload), for `run` and `profile`.
RUNNABLE = """\
name: runnable
pools:
  - {name: cpu, kind: cpu, count: 1, memory: 8GiB, throughput: 1 GFLOP/s, torch_device: cpu}
tasks:
  - name: tiny
    workload: {name: matmul, n: 8, iterations: 1}
"""


@dataclass(frozen=True)
class Case:
    """``argv`` may name ``{file}``, ``{plan}`` and ``{dir}`` (a folder); ``files`` maps a
    file name to its text (str) or bytes."""

    id: str
    argv: tuple[str, ...]
    files: dict = field(default_factory=dict)
    code: int = 2
    expect: tuple[str, ...] = ()
    short: bool = True                  # the message fits in a few lines (not a help page)

    def args(self, folder: str) -> list[str]:
        return [a.format(file=f"{folder}/p.yaml", plan=f"{folder}/plan.json", dir=folder)
                for a in self.argv]


def _replace(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


CASES: list[Case] = []


def add(id: str, argv, files=None, code: int = 2, expect=(), short: bool = True) -> None:
    CASES.append(Case(id, tuple(argv), dict(files or {}), code, tuple(expect), short))


def problem(id: str, text: str | bytes, *expect: str, command: str = "validate") -> None:
    add(f"{command}-{id}", [command, "{file}"], {"p.yaml": text}, 2, ("p.yaml", *expect))


# -- every field, every kind of wrong value --------------------------------------------------

STR_BAD = {"number": "123", "empty": '""', "list": "[a, b]", "mapping": "{a: 1}", "bool": "true"}
INT_BAD = {"zero": "0", "negative": "-1", "fraction": "1.5", "word": "two", "bool": "true",
           "huge": "1000000", "astronomic": "1" + "0" * 40, "list": "[1]", "float-exp": "1.0e+9",
           "string-exp": "10e18"}
NUMBER_BAD = {"negative": "-1", "word": "abc", "nan": ".nan", "inf": ".inf", "minus-inf": "-.inf",
              "bool": "true", "list": "[1]", "mapping": "{a: 1}", "over-max": "1.0e+16",
              "huge-int": "1" + "0" * 400}
QUANTITY_BAD = {"negative": "-5", "zero": "0", "unknown-unit": "'5 parsecs'", "nan": ".nan",
                "inf": ".inf", "nan-string": "'nan'", "inf-string": "'inf'",
                "overflow-string": "'1e999'", "bool": "false", "list": "[1]",
                "mapping": "{a: 1}", "empty": "''", "unit-only": "'GiB'", "two-numbers": "'1 2'",
                "huge-int": "1" + "0" * 400}
WRONG_DIMENSION = {"memory": "'5 s'", "throughput": "'5 GiB'", "compute": "'5 TFLOP/s'",
                   "deadline": "'5 FLOP'", "horizon": "'5 GiB'"}
OVER_MAXIMUM = {"memory": "'2 EiB'", "throughput": "'1e25 FLOP/s'", "compute": "'1e31 FLOP'",
                "deadline": "'1e13 s'", "horizon": "'1e13 s'"}
ENUM_BAD = {"unknown": "gpux", "number": "1", "list": "[gpu]"}

POOL_LINES = {"name": "  - name: h100", "kind": "    kind: gpu", "count": "    count: 2",
              "memory": "    memory: 80GiB", "throughput": "    throughput: 400 TFLOP/s",
              "cost_per_hour": "    cost_per_hour: 4.5", "torch_device": "    torch_device: cpu",
              "horizon": "    horizon: 90h"}
TASK_LINES = {"name": "  - name: llama", "compute": "    compute: 2.5e18 FLOP",
              "memory": "    memory: 30GiB", "weight": "    weight: 2",
              "priority": "    priority: 1", "deadline": "    deadline: 50h",
              "allowed_kinds": "    allowed_kinds: [gpu]",
              "allowed_pools": "    allowed_pools: [h100]", "demand": "    demand: {gpu: 10h}"}


def _set(line: str, value: str) -> str:
    key = line.split(":")[0]
    return _replace(line, f"{key}: {value}")


for key, line in POOL_LINES.items():
    path = "pools[0]" if key == "name" else f"pools[0].{key}"
    kind = {"name": "str", "kind": "enum", "count": "int", "cost_per_hour": "number",
            "torch_device": "str"}.get(key, "quantity")
    bad = {"str": STR_BAD, "enum": ENUM_BAD, "int": INT_BAD, "number": NUMBER_BAD,
           "quantity": QUANTITY_BAD}[kind]
    for what, value in bad.items():
        problem(f"pool-{key}-{what}", _set(line, value), path)
for key in ("memory", "throughput", "horizon"):
    problem(f"pool-{key}-wrong-dimension", _set(POOL_LINES[key], WRONG_DIMENSION[key]),
            f"pools[0].{key}", "unit")
    problem(f"pool-{key}-over-maximum", _set(POOL_LINES[key], OVER_MAXIMUM[key]),
            f"pools[0].{key}", "largest")
for key in ("name", "kind", "count", "memory", "throughput"):          # required: null is missing
    problem(f"pool-{key}-null", _set(POOL_LINES[key], "null"), "pools[0]", f"'{key}'")
problem("pool-torch_device-unknown", _set(POOL_LINES["torch_device"], "tpu:0"),
        "pools[0].torch_device", "cuda:N")
problem("pool-unknown-key", _replace("    count: 2", "    cuont: 2"), "pools[0].cuont",
        "did you mean 'count'")
problem("pool-missing-kind", _replace("    kind: gpu\n", ""), "pools[0]", "'kind'")

for key, line in TASK_LINES.items():
    path = "tasks[0]" if key == "name" else f"tasks[0].{key}"
    kind = {"name": "str", "weight": "number", "priority": "int",
            "allowed_kinds": "list", "allowed_pools": "list", "demand": "demand"}.get(key,
                                                                                   "quantity")
    if kind == "list":
        bad = {"empty": "[]", "unknown": "[nosuch]", "repeated": "[gpu, gpu]" if key ==
               "allowed_kinds" else "[h100, h100]", "number": "5", "list-of-numbers": "[1]",
               "mapping": "{a: 1}"}
    elif kind == "demand":
        bad = {"unknown-kind": "{gpus: 10h}", "negative": "{gpu: -1h}", "not-mapping": "[gpu]",
               "nan": "{gpu: .nan}", "wrong-unit": "{gpu: 10 GiB}", "over-maximum": "{gpu: 1e13 s}"}
    elif kind == "int":
        bad = {k: v for k, v in INT_BAD.items() if k not in ("zero", "negative", "huge")}
        bad["over-maximum"] = "3000000000"
    else:
        bad = {"str": STR_BAD, "number": NUMBER_BAD, "quantity": QUANTITY_BAD}[kind]
    for what, value in bad.items():
        problem(f"task-{key}-{what}", _set(line, value), path)
for key in ("memory", "compute", "deadline"):
    problem(f"task-{key}-wrong-dimension", _set(TASK_LINES[key], WRONG_DIMENSION[key]),
            f"tasks[0].{key}", "unit")
    problem(f"task-{key}-over-maximum", _set(TASK_LINES[key], OVER_MAXIMUM[key]),
            f"tasks[0].{key}", "largest")
problem("task-weight-zero", _set(TASK_LINES["weight"], "0"), "tasks[0].weight", "positive")
problem("task-unknown-key", _replace("    weight: 2", "    wieght: 2"), "tasks[0].wieght",
        "did you mean 'weight'")
problem("task-memory-and-model", _replace("    memory: 30GiB", "    memory: 30GiB\n    model: "
                                          "{parameters: 1e9}"), "tasks[0].model", "both")
problem("task-model-unknown-key", _replace("    memory: 30GiB", "    model: {parameters: 1e9, "
                                           "layers: 3}"), "tasks[0].model.layers", "unknown key")
problem("task-model-no-parameters", _replace("    memory: 30GiB", "    model: {batch: 3}"),
        "tasks[0].model", "parameters")
problem("task-model-negative", _replace("    memory: 30GiB", "    model: {parameters: -5}"),
        "tasks[0].model")
problem("task-model-not-mapping", _replace("    memory: 30GiB", "    model: 7B"),
        "tasks[0].model")
problem("task-workload-unknown", _replace("    memory: 30GiB", "    memory: 30GiB\n    workload: "
                                          "{name: nosuch}"), "tasks[0].workload")
problem("task-workload-bad-param", _replace("    memory: 30GiB", "    memory: 30GiB\n    workload: "
                                            "{name: matmul, n: -3}"), "tasks[0].workload")
problem("task-workload-not-mapping", _replace("    memory: 30GiB", "    memory: 30GiB\n    "
                                              "workload: [matmul]"), "tasks[0].workload")
problem("task-workload-unknown-param", _replace("    memory: 30GiB", "    memory: 30GiB\n    "
                                                "workload: {name: matmul, nn: 3}"),
        "tasks[0].workload")

# Users' jobs: command (with env, cwd), callable (with params), timeout.
JOB_LINES = {"command": "    command: [python, etl.py, --fast]", "env": "    env: {MODE: fast}",
             "cwd": "    cwd: jobs", "callable": "    callable: train.jobs:main",
             "params": "    params: {epochs: 3}", "timeout": "    timeout: 60h"}
JOB_PATH = {"command": "tasks[1].command", "env": "tasks[1].env", "cwd": "tasks[1].cwd",
            "callable": "tasks[0].callable", "params": "tasks[0].params",
            "timeout": "tasks[0].timeout"}
JOB_BAD = {
    "command": {"empty-list": "[]", "empty-string": "''", "number": "5", "mapping": "{a: 1}",
                "nested-list": "[python, [a]]", "bool-argument": "[python, true]",
                "unclosed-quote": "\"python 'x\"", "empty-program": "['', x]"},
    "env": {"not-mapping": "[MODE]", "bad-name": "{1MODE: x}", "list-value": "{MODE: [a]}",
            "reserved": "{CUDA_VISIBLE_DEVICES: '1'}", "null-value": "{MODE: null}"},
    "cwd": {"list": "[a]", "number": "5", "empty": "''"},
    "callable": {"no-colon": "train.jobs", "spaces": "'train jobs:main'", "number": "5",
                 "empty": "''", "two-colons": "a:b:c"},
    "params": {"not-mapping": "[1, 2]", "string": "epochs"},
    "timeout": {"negative": "-5s", "zero": "0", "word": "soon", "wrong-unit": "5 GiB",
                "nan": ".nan", "list": "[1]"},
}
for key, bad in JOB_BAD.items():
    for what, value in bad.items():
        problem(f"task-{key}-{what}", _set(JOB_LINES[key], value), JOB_PATH[key])
problem("task-command-and-callable", _replace(JOB_LINES["cwd"], JOB_LINES["cwd"]
                                              + "\n    callable: a.b:c"),
        "tasks[1]", "command and callable")
problem("task-command-and-workload", _replace(JOB_LINES["cwd"], JOB_LINES["cwd"]
                                              + "\n    workload: {name: matmul}"),
        "tasks[1]", "workload and command")
problem("task-env-without-command", _replace(JOB_LINES["params"], JOB_LINES["params"]
                                             + "\n    env: {A: b}"), "tasks[0].env", "command")
problem("task-params-without-callable", _replace(JOB_LINES["env"], JOB_LINES["env"]
                                                 + "\n    params: {a: 1}"),
        "tasks[1].params", "callable")
problem("task-unknown-job-key", _replace(JOB_LINES["callable"], "    callabel: train.jobs:main"),
        "tasks[0].callabel", "did you mean 'callable'")

# Processing times that overflow: compute / throughput beyond 1e12 s.
problem("overflowing-processing-time", _replace("    throughput: 400 TFLOP/s", "    throughput: "
                                                "1.0e-300"), "tasks[1].compute", "would take")
problem("slow-processing-time", _replace("    throughput: 400 TFLOP/s", "    throughput: 1"),
        "tasks[1].compute", "would take")
problem("too-many-devices", _replace("pools:\n", "pools:\n" + "".join(
    f"  - {{name: p{k}, kind: cpu, count: 100000, memory: 1GiB, throughput: 1e12}}\n"
    for k in range(10))), "pools", "1,000,000")

# Top level and tables.
TOP_BAD = {"name": "[a]", "description": "{a: 1}", "objective": "fastest", "horizon": "-1h"}
for key, value in TOP_BAD.items():
    old_line = next(line for line in GOOD.splitlines() if line.startswith(f"{key}: "))
    problem(f"top-{key}-bad", _replace(old_line, f"{key}: {value}"), key)
problem("top-horizon-over-maximum", _replace("horizon: 100h", "horizon: 1e13 s"), "horizon",
        "largest")
problem("top-measure-unknown", _replace("name: good", "name: good\nmeasure: mean"), "measure")
problem("top-sense-unknown", _replace("name: good", "name: good\nsense: up"), "sense")
problem("top-unknown-key", _replace("name: good", "name: good\nobjectve: cost"), "objectve",
        "did you mean 'objective'")
problem("top-missing-name", _replace("name: good\n", ""), "'name'")
problem("top-missing-pools",
        GOOD.split("pools:")[0] + "tasks: [{name: a, compute: 1, memory: 1}]\n", "'pools'")
problem("top-missing-tasks", GOOD.split("tasks:")[0], "'tasks'")
problem("pools-not-list", GOOD.split("pools:")[0] + "pools: {a: 1}\ntasks: [{name: a}]\n", "pools")
problem("pools-empty", GOOD.split("pools:")[0] + "pools: []\ntasks: [{name: a}]\n", "pools")
problem("pool-not-mapping", _replace("pools:\n", "pools:\n  - just-a-name\n"), "pools[0]")
problem("tasks-not-list", GOOD.split("tasks:")[0] + "tasks: 5\n", "tasks")
problem("tasks-empty", GOOD.split("tasks:")[0] + "tasks: []\n", "tasks")
problem("task-not-mapping", _replace("tasks:\n", "tasks:\n  - 42\n"), "tasks[0]")
problem("duplicate-pool-name", _replace("  - name: cpu", "  - name: h100"), "pools[1].name",
        "duplicate pool name")
problem("duplicate-task-name", _replace("  - name: etl", "  - name: llama"), "tasks[1].name",
        "duplicate task name")
for table, good_row in (("throughput", "  llama: {h100: 450 TFLOP/s}"),
                        ("time", "  etl: {cpu: 600s}"), ("cost", "  etl: {cpu: 0.2}")):
    task, pool = good_row.split(":")[0].strip(), good_row.split("{")[1].split(":")[0]
    value = good_row.split(": ", 2)[-1].rstrip("}")
    problem(f"{table}-unknown-task", _replace(good_row, good_row.replace(task, "nosuch", 1)),
            f"{table}.nosuch", "unknown task")
    problem(f"{table}-unknown-pool", _replace(good_row, good_row.replace("{" + pool, "{nosuch")),
            f"{table}.{task}.nosuch", "unknown pool")
    problem(f"{table}-bad-value", _replace(good_row, good_row.replace(value, "-3")),
            f"{table}.{task}.{pool}")
    problem(f"{table}-nan", _replace(good_row, good_row.replace(value, ".nan")),
            f"{table}.{task}.{pool}")
    problem(f"{table}-row-not-mapping", _replace(good_row, f"  {task}: 5"), f"{table}.{task}")
    problem(f"{table}-not-mapping", _replace(f"{table}:\n{good_row}", f"{table}: [1, 2]"), table)
SHARED = "  - {tasks: [llama, etl], pool: h100, throughput: [300 TFLOP/s, 100 TFLOP/s]}"
for id, new, expect in [
        ("not-list", "  - 5", ("sharing[0]", "mapping")),
        ("unknown-key", SHARED.replace("pool:", "pools:"), ("sharing[0].pools", "'pool'")),
        ("missing-pool", SHARED.replace("pool: h100, ", ""), ("'pool'", "sharing entry 0")),
        ("one-task", SHARED.replace("[llama, etl]", "[llama]"), ("sharing[0].tasks", "two")),
        ("same-task", SHARED.replace("[llama, etl]", "[llama, llama]"),
         ("sharing[0].tasks", "repeats")),
        ("unknown-task", SHARED.replace("etl]", "etll]"),
         ("sharing[0].tasks[1]", "'etll'", "did you mean 'etl'")),
        ("unknown-pool", SHARED.replace("pool: h100", "pool: h10"),
         ("sharing[0].pool", "did you mean 'h100'")),
        ("one-rate", SHARED.replace("[300 TFLOP/s, 100 TFLOP/s]", "[300 TFLOP/s]"),
         ("sharing[0].throughput", "two throughputs")),
        ("rate-zero", SHARED.replace("100 TFLOP/s]", "0]"), ("sharing[0].throughput[1]",)),
        ("rate-wrong-unit", SHARED.replace("300 TFLOP/s", "300 GiB"),
         ("sharing[0].throughput[0]", "unit")),
        ("twice", SHARED + "\n" + SHARED.replace("[llama, etl]", "[etl, llama]"),
         ("sharing[1]", "already given (sharing[0])")),
        ("gangs-differ", SHARED + "\n  - {tasks: [etl, big], pool: h100, throughput: [1, 1]}",
         ("sharing[1].tasks", "'big' (2)", "as many devices"))]:
    text = _replace(SHARED, new)
    if id == "gangs-differ":
        text = _replace("tasks:\n", "tasks:\n  - {name: big, compute: 1e15, memory: 1GiB, "
                        "devices: 2}\n", text)
    problem(f"sharing-{id}", text, *expect)
add("simulate-sharing-pool-not-allowed", ["simulate", "{file}", "--space-sharing", "--policy",
                                          "gandiva"],
    {"p.yaml": _replace(SHARED, SHARED.replace("pool: h100", "pool: cpu"))}, 2,
    ("p.yaml", "sharing[0].pool", "'llama' may not run on pool 'cpu'"))
problem("sharing-empty", _replace(f"sharing:\n{SHARED}", "sharing: []"), "sharing",
        "non-empty list")
problem("cost-null", _replace("  etl: {cpu: 0.2}", "  etl: {cpu: null}"), "cost.etl.cpu")
problem("time-wrong-unit", _replace("  etl: {cpu: 600s}", "  etl: {cpu: 600 GiB}"),
        "time.etl.cpu", "unit")

# -- hostile and broken YAML --------------------------------------------------------------

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{k}: &{k} [{', '.join(['*' + p] * 9)}]\n" for p, k in zip("abcdefgh", "bcdefghi"))
problem("yaml-alias-bomb", BOMB, "alias", ":1")
problem("yaml-alias-bomb-in-tasks", GOOD + "x: &x [y, y, y, y, y, y, y, y, y, y]\n" + "".join(
    f"x{k}: &x{k} [{', '.join(['*x' + (str(k - 1) if k > 1 else '')] * 10)}]\n"
    for k in range(1, 8)), "alias")
problem("yaml-recursive-alias", "name: &a [*a]\n", "recursive alias", ":1")
problem("yaml-recursive-mapping", "pools: &p\n  inner: *p\n", "recursive alias")
problem("yaml-deep-flow", "name: " + "[" * 200 + "]" * 200 + "\n", "nesting deeper")
problem("yaml-deep-block", "name: x\nd:\n" + "".join("  " * k + "- \n" for k in range(1, 90)),
        "nesting deeper")
problem("yaml-deep-mapping", "".join("  " * k + f"k{k}:\n" for k in range(80)) + "  " * 80 + "v\n",
        "nesting deeper")
problem("yaml-duplicate-top-key", _replace("name: good", "name: good\nname: again"),
        "duplicate key 'name'", ":2", "line 1")
problem("yaml-duplicate-pool-key", _replace("    count: 2", "    count: 2\n    count: 3"),
        "duplicate key 'count'", "line 8")
problem("yaml-duplicate-task-key", _replace("    weight: 2", "    weight: 2\n    weight: 5"),
        "duplicate key 'weight'")
problem("yaml-duplicate-table-key", _replace("  etl: {cpu: 600s}", "  etl: {cpu: 600s, cpu: 1s}"),
        "duplicate key 'cpu'")
problem("yaml-custom-tag", _replace("kind: gpu", "kind: !accelerator gpu"), "'!accelerator'")
problem("yaml-python-tag", "name: !!python/object/apply:os.system ['echo hi']\n", "!!python")
problem("yaml-binary-tag", _replace("name: good", "name: !!binary aGVsbG8="), "!!binary")
problem("yaml-set-tag", _replace("name: good", "name: !!set {a, b}"), "!!set")
problem("yaml-complex-key", "? [a, b]\n: 1\n", "plain value")
problem("yaml-non-utf8", _replace("description: a", "description: caf\xe9 a").encode("latin-1"),
        "not UTF-8")
problem("yaml-binary-file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8")
problem("yaml-nul-byte", "name: a\x00b\n", "malformed YAML")
problem("yaml-empty-file", "", "empty")
problem("yaml-whitespace-only", "   \n\n  \n", "empty")
problem("yaml-comment-only", "# nothing here\n", "empty")
problem("yaml-two-documents", GOOD + "---\nname: second\n", "malformed YAML")
problem("yaml-tab-indent", "name: x\n\tpools: []\n", "malformed YAML", ":2")
problem("yaml-unclosed-bracket", "name: x\npools: [\n  - {name: a\ntasks: []\n", "malformed YAML")
problem("yaml-scalar-document", "just a string\n", "mapping")
problem("yaml-list-document", "- a\n- b\n", "mapping")
problem("yaml-bad-indentation", "name: x\n pools: 1\n  tasks: 2\n", "malformed YAML")
problem("yaml-unterminated-string", 'name: "good\n', "malformed YAML")
add("validate-directory", ["validate", "{dir}"], {}, 2, ("is a directory",))
add("validate-missing-file", ["validate", "{dir}/nope.yaml"], {}, 2,
    ("nope.yaml", "does not exist"))

# -- infeasible or incomplete for the objective: named culprits -------------------------------

problem("task-fits-nowhere", _replace("    memory: 64GiB", "    memory: 300GiB"), "'etl'",
        "largest device")
problem("kinds-match-no-pool", _replace("allowed_kinds: [gpu]", "allowed_kinds: [tpu]"),
        "'llama'", "no pool matches")
problem("deadline-too-short", _replace("deadline: 50h", "deadline: 1h"), "'llama'", "deadline")
problem("pool-horizon-too-short", _replace("    horizon: 90h", "    horizon: 1h"), "'llama'",
        "horizon")
problem("all-pools-forbidden", _replace("  llama: {h100: 450 TFLOP/s}", "  llama: {h100: null}"),
        "'llama'", "forbid")
problem("cost-without-price", _replace("    cost_per_hour: 4.5\n", "").replace(
    "objective: makespan", "objective: cost"), "h100", "cost_per_hour")
problem("shortfall-without-demand", _replace("objective: makespan",
                                             "objective: weighted_shortfall"), "'etl'", "demand")
problem("sense-max-with-makespan", _replace("name: good", "name: good\nsense: max"), "sense")
add("validate-objective-needs-horizon", ["validate", "{file}", "--objective", "utilization"],
    {"p.yaml": _replace("horizon: 100h\n", "").replace("    horizon: 90h\n", "")}, 2,
    ("horizon",))

# -- plan files of the wrong shape ----------------------------------------------------------

PLAN = {"problem": "good", "objective_name": "makespan", "status": "optimal", "objective": 1.0,
        "assignment": {"llama": "h100[0]", "etl": "cpu[0]"}, "schedule": []}


def plan_case(id: str, content, *expect: str) -> None:
    text = content if isinstance(content, (str, bytes)) else json.dumps(content)
    add(f"verify-plan-{id}", ["verify", "{file}", "{plan}"], {"p.yaml": GOOD, "plan.json": text},
        2, ("plan.json", *expect))


plan_case("list", [1, 2], "mapping")
plan_case("number", "42", "mapping")
plan_case("empty", "", "malformed JSON")
plan_case("not-json", "{plan: yes", "malformed JSON")
plan_case("nan", '{"problem": "good", "objective_name": "makespan", "status": "optimal", '
          '"objective": NaN}', "NaN")
plan_case("binary", b"\xff\xfe\x00\x01", "not UTF-8")
plan_case("missing-status", {k: v for k, v in PLAN.items() if k != "status"}, "'status'")
plan_case("bad-status", {**PLAN, "status": "great"}, "status", "optimal")
plan_case("status-number", {**PLAN, "status": 3}, "status")
plan_case("objective-text", {**PLAN, "objective": "fast"}, "objective", "number")
plan_case("objective-infinite", {**PLAN, "objective": 1e999}, "Infinity")
plan_case("unknown-key", {**PLAN, "assignmnet": {}}, "assignmnet")
plan_case("assignment-list", {**PLAN, "assignment": ["h100[0]"]}, "assignment", "mapping")
plan_case("assignment-device-number", {**PLAN, "assignment": {"llama": 3}}, "assignment.llama")
plan_case("schedule-mapping", {**PLAN, "schedule": {"a": 1}}, "schedule", "list")
plan_case("slot-missing-end", {**PLAN, "schedule": [{"task": "llama", "device": "h100[0]",
                                                     "start": 0}]}, "schedule[0].end")
plan_case("slot-unknown-key", {**PLAN, "schedule": [{"task": "llama", "device": "h100[0]",
                                                     "start": 0, "end": 1, "when": 2}]},
          "schedule[0]", "'when'")
plan_case("slot-start-text", {**PLAN, "schedule": [{"task": "llama", "device": "h100[0]",
                                                    "start": "now", "end": 1}]},
          "schedule[0].start")
plan_case("fractions-bad", {**PLAN, "fractions": {"llama": {"h100[0]": "half"}}},
          "fractions.llama.h100[0]")
plan_case("amounts-not-mapping", {**PLAN, "amounts": [1]}, "amounts")
plan_case("sense-sideways", {**PLAN, "sense": "sideways"}, "sense")
plan_case("problem-number", {**PLAN, "problem": 7}, "problem")
add("verify-plan-yaml-bomb", ["verify", "{file}", "{dir}/plan.yaml"],
    {"p.yaml": GOOD, "plan.yaml": BOMB}, 2, ("plan.yaml", "alias"))
add("verify-plan-missing", ["verify", "{file}", "{dir}/nope.json"], {"p.yaml": GOOD}, 2,
    ("nope.json", "does not exist"))
add("verify-plan-directory", ["verify", "{file}", "{dir}"], {"p.yaml": GOOD}, 2,
    ("is a directory",))
add("verify-bad-problem", ["verify", "{file}", "{plan}"],
    {"p.yaml": "name: [x]\n", "plan.json": json.dumps(PLAN)}, 2, ("p.yaml", "'pools'"))
add("verify-missing-plan-argument", ["verify", "{file}"], {"p.yaml": GOOD}, 2, ("PLAN",))


# -- clusters of nodes, and the trace importer ----------------------------------------------

CLUSTER = """\
name: cluster
objective: packing
nodes:
  - name: g2
    count: 2
    cpu: 96
    memory: 384Gi
    gpus: 8
    gpu_model: G2
tasks:
  - name: pod
    cpu: 12
    memory: 16Gi
    gpu_share: 0.5
    gpu_models: [G2]
"""
NODE_BAD = {
    "count-zero": ("    count: 2", "    count: 0", "nodes[0].count"),
    "cpu-unit": ("    cpu: 96", "    cpu: 96 GiB", "nodes[0].cpu"),
    "cpu-negative": ("    cpu: 96", "    cpu: -1", "nodes[0].cpu"),
    "memory-missing": ("    memory: 384Gi\n", "", "'memory'"),
    "gpus-fraction": ("    gpus: 8", "    gpus: 0.5", "nodes[0].gpus"),
    "gpus-negative": ("    gpus: 8", "    gpus: -2", "nodes[0].gpus"),
    "model-without-gpus": ("    gpus: 8\n", "", "has no GPUs"),
    "unknown-key": ("    gpu_model: G2", "    gpu_modle: G2", "did you mean 'gpu_model'"),
    "names-mismatch": ("    count: 2", "    count: 2\n    names: [a]", "count 2 but 1 names"),
    "names-repeated": ("    count: 2", "    count: 2\n    names: [a, a]", "repeats"),
    "resources-text": ("    gpu_model: G2", "    gpu_model: G2\n    resources: {rdma: lots}",
                       "nodes[0].resources.rdma"),
    "share-one": ("    gpu_share: 0.5", "    gpu_share: 1", "gpu_share", "less than 1"),
    "share-negative": ("    gpu_share: 0.5", "    gpu_share: -0.5", "gpu_share"),
    "share-and-gpus": ("    gpu_share: 0.5", "    gpu_share: 0.5\n    gpus: 1", "both gpus"),
    "models-empty": ("    gpu_models: [G2]", "    gpu_models: []", "gpu_models"),
    "task-cpu-word": ("    cpu: 12", "    cpu: twelve", "tasks[0].cpu"),
    "pools-and-nodes": ("objective: packing", "objective: packing\npools: []", "not both"),
}
for id, (old, new, *expect) in NODE_BAD.items():
    problem(f"node-{id}", _replace(old, new, CLUSTER), *expect)
problem("node-objective-makespan", _replace("objective: packing", "objective: makespan",
                                            CLUSTER), "plans devices")
problem("node-packing-on-pools", _replace("objective: makespan", "objective: packing"),
        "describe them under 'nodes:'")
add("solve-cluster-method-for-devices", ["solve", "{file}", "--method", "lpt"],
    {"p.yaml": CLUSTER}, 2, ("lpt", "does not place tasks on nodes"))
add("solve-cluster-strategy-for-devices", ["solve", "{file}", "--strategy", "decomposed"],
    {"p.yaml": CLUSTER}, 2, ("decomposed", "plans devices"))
NODES_CSV = "sn,cpu_milli,memory_mib,gpu,model\nn1,96000,393216,8,G2\n"
PODS_CSV = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos\np1,1000,1024,1,500,,LS\n"
for id, nodes, pods, expect in [
        ("row-text", NODES_CSV.replace("96000", "many"), PODS_CSV, ("line 2", "cpu_milli")),
        ("missing-column", "sn,cpu\nn1,1\n", PODS_CSV, ("missing columns",)),
        ("pod-share-gang", NODES_CSV, PODS_CSV.replace("1,500", "2,500"), ("line 2",
                                                                           "gpu_milli 500")),
        ("empty-pods", NODES_CSV, "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos\n",
         ("no pods",)),
        ("binary", NODES_CSV, b"\xff\xfe\x00", ("pods.csv",))]:
    add(f"import-alibaba-{id}", ["import", "alibaba", "{dir}/nodes.csv", "{dir}/pods.csv",
                                 "--out", "{dir}/p.yaml"],
        {"nodes.csv": nodes, "pods.csv": pods}, 2, expect)
add("import-alibaba-no-out", ["import", "alibaba", "{dir}/nodes.csv", "{dir}/pods.csv"],
    {"nodes.csv": NODES_CSV, "pods.csv": PODS_CSV}, 2, ("--out",))
add("import-unknown-format", ["import", "gavel", "x.csv"], {}, 2, ("gavel",))
RUNNABLE_CLUSTER = CLUSTER.replace("    gpu_models: [G2]\n", "    gpu_models: [G2]\n"
                                   "    command: [python, -c, pass]\n")
# The pod on GPU 7 of g2[0]: a machine needs 8 CUDA devices to run it.
CLUSTER_PLAN = json.dumps({"problem": "cluster", "objective_name": "packing",
                           "status": "optimal", "objective": 0.5,
                           "assignment": {"pod": "g2[0]"}, "schedule": [],
                           "placements": {"pod": {"node": "g2[0]", "gpus": [7],
                                                  "gpu_share": 0.5}}, "unplaced": []})
add("run-cluster-of-nodes", ["run", "{file}", "--quiet"], {"p.yaml": RUNNABLE_CLUSTER}, 2,
    ("cluster of nodes", "--node NAME"))
add("profile-cluster-of-nodes", ["profile", "{file}", "--out", "{dir}/q.yaml"],
    {"p.yaml": RUNNABLE_CLUSTER}, 2, ("cluster of nodes", "profiles"))
add("run--node-without-plan", ["run", "{file}", "--node", "g2[0]"],
    {"p.yaml": RUNNABLE_CLUSTER}, 2, ("--node", "--plan"))
for id, node, expect in [("unknown", "g3[0]", ("no node 'g3[0]'", "g2[0]")),
                         ("group", "g2", ("group of nodes", "g2[0], g2[1]")),
                         ("few-gpus", "g2[0]", ("GPU 7 of g2[0]", "CUDA device"))]:
    add(f"run--node-{id}", ["run", "{file}", "--plan", "{plan}", "--node", node, "--quiet"],
        {"p.yaml": RUNNABLE_CLUSTER, "plan.json": CLUSTER_PLAN}, 2, expect)

# -- every option of every command ----------------------------------------------------------

SOLVE_BAD = {
    "--objective": ["fastest"], "--backend": ["gurobi"], "--time-limit": ["0", "-1", "nan",
                                                                           "inf", "abc"],
    "--gap": ["-0.1", "1", "1.5", "nan", "abc"], "--strategy": ["greedy"],
    "--threads": ["0", "-2", "abc"], "--parts": ["0", "x"], "--measure": ["mean"],
    "--method": ["fcsf", "random"], "--seed": ["abc", "1.5"],
}
for option, values in SOLVE_BAD.items():
    for value in values:
        add(f"solve{option}={value}", ["solve", "{file}", option, value], {"p.yaml": GOOD}, 2,
            (option if option not in ("--backend",) else "gurobi",))
add("solve--solver-unknown", ["solve", "{file}", "--backend", "pulp", "--solver", "NOSUCH"],
    {"p.yaml": GOOD}, 2, ("NOSUCH",))
add("solve--out-missing-folder", ["solve", "{file}", "--out", "{dir}/no/such/plan.json"],
    {"p.yaml": GOOD}, 2, ("--out", "plan.json", "does not exist"))
add("solve--gantt-missing-folder", ["solve", "{file}", "--gantt", "{dir}/no/such/g.png"],
    {"p.yaml": GOOD}, 2, ("--gantt", "g.png", "does not exist"))
add("solve--strategy-not-applicable", ["solve", "{file}", "--strategy", "aggregated",
                                       "--objective", "weighted_shortfall"],
    {"p.yaml": GOOD.replace("  - name: etl\n", "  - name: etl\n    demand: {cpu: 1h}\n")}, 2,
    ("aggregated",))
add("solve-missing-file", ["solve", "{dir}/nope.yaml"], {}, 2, ("nope.yaml", "does not exist"))
add("solve-no-file", ["solve"], {}, 2, ("FILE",))
add("solve-extra-argument", ["solve", "{file}", "extra"], {"p.yaml": GOOD}, 2, ("extra",))
add("solve-unknown-option", ["solve", "{file}", "--fast"], {"p.yaml": GOOD}, 2, ("--fast",))
add("solve-option-without-value", ["solve", "{file}", "--time-limit"], {"p.yaml": GOOD}, 2,
    ("--time-limit",))
add("solve-json-with-value", ["solve", "{file}", "--json", "out.json"], {"p.yaml": GOOD}, 2,
    ("out.json",))

for option, values in {"--time-limit": ["0", "-5", "nan"], "--objective": ["speed"],
                       "--seed": ["x"]}.items():
    for value in values:
        add(f"compare{option}={value}", ["compare", "{file}", option, value], {"p.yaml": GOOD},
            2, (option,))
add("compare--methods-unknown", ["compare", "{file}", "--methods", "fcfs,nosuch"],
    {"p.yaml": GOOD}, 2, ("--methods", "nosuch"))
add("compare-utilization", ["compare", "{file}", "--objective", "utilization"],
    {"p.yaml": GOOD}, 2, ("makespan and cost",))
add("compare--out-missing-folder", ["compare", "{file}", "--out", "{dir}/no/c.json",
                                    "--time-limit", "5"], {"p.yaml": GOOD}, 2,
    ("--out", "does not exist"))
add("run--out-is-a-directory", ["run", "{file}", "--out", "{dir}"], {"p.yaml": RUNNABLE}, 2,
    ("--out", "is a directory"))
add("profile--out-missing-folder", ["profile", "{file}", "--out", "{dir}/no/q.yaml"],
    {"p.yaml": RUNNABLE}, 2, ("--out", "does not exist"))
add("compare-missing-file", ["compare", "{dir}/nope.yaml"], {}, 2, ("does not exist",))
add("compare-unknown-option", ["compare", "{file}", "--plots", "x.png"], {"p.yaml": GOOD}, 2,
    ("--plots",))
add("validate--objective-unknown", ["validate", "{file}", "--objective", "speed"],
    {"p.yaml": GOOD}, 2, ("--objective",))
add("validate-unknown-option", ["validate", "{file}", "--strict"], {"p.yaml": GOOD}, 2,
    ("--strict",))

RUN_PLAN = {"problem": "runnable", "objective_name": "makespan", "status": "optimal",
            "objective": 1.0, "assignment": {"tiny": "cpu[7]"}, "schedule": []}
for option, values in {"--max-retries": ["-1", "x"], "--time-limit": ["0", "-3"]}.items():
    for value in values:
        add(f"run{option}={value}", ["run", "{file}", option, value, "--quiet"],
            {"p.yaml": RUNNABLE}, 2, (option,))
add("run--plan-wrong-shape", ["run", "{file}", "--plan", "{plan}", "--quiet"],
    {"p.yaml": RUNNABLE, "plan.json": "[1]"}, 2, ("plan.json", "mapping"))
add("run--plan-tampered", ["run", "{file}", "--plan", "{plan}", "--quiet"],
    {"p.yaml": RUNNABLE, "plan.json": json.dumps(RUN_PLAN)}, 2, ("plan.json", "cpu[7]"))
add("run--plan-missing", ["run", "{file}", "--plan", "{dir}/nope.json"], {"p.yaml": RUNNABLE},
    2, ("nope.json",))
add("solve-node-makespan-without-time", ["solve", "{file}", "--objective", "node_makespan"],
    {"p.yaml": CLUSTER}, 2, ("p.yaml", "'pod' may run on node group 'g2' but has no time"))
add("solve-node-makespan-bad-method", ["solve", "{file}", "--objective", "node_makespan",
                                       "--method", "fgd"],
    {"p.yaml": CLUSTER + "time: {pod: {g2: 1h}}\n"}, 2, ("fgd", "over time"))
add("run--node-on-pools", ["run", "{file}", "--plan", "{plan}", "--node", "cpu[0]"],
    {"p.yaml": RUNNABLE, "plan.json": json.dumps({**RUN_PLAN, "assignment": {"tiny": "cpu[0]"}})},
    2, ("--node", "device pools"))
add("run-bad-problem", ["run", "{file}"], {"p.yaml": "name: x\n"}, 2, ("p.yaml", "'pools'"))
add("run-missing-file", ["run", "{dir}/nope.yaml"], {}, 2, ("does not exist",))
add("profile--steps-zero", ["profile", "{file}", "--out", "{dir}/q.yaml", "--steps", "0"],
    {"p.yaml": RUNNABLE}, 2, ("--steps",))
add("profile--steps-word", ["profile", "{file}", "--out", "{dir}/q.yaml", "--steps", "many"],
    {"p.yaml": RUNNABLE}, 2, ("--steps",))
add("profile-missing-out", ["profile", "{file}"], {"p.yaml": RUNNABLE}, 2, ("--out",))
add("profile-nothing-to-run", ["profile", "{file}", "--out", "{dir}/q.yaml"],
    {"p.yaml": RUNNABLE.replace("    workload: {name: matmul, n: 8, iterations: 1}",
                                "    compute: 1e9\n    memory: 1MiB")},
    2, ("no task has a workload:, command: or callable:",))
add("profile-bad-problem", ["profile", "{file}", "--out", "{dir}/q.yaml"],
    {"p.yaml": "pools: 1\n"}, 2, ("p.yaml",))
JOB_RUN = """\
name: jobs
pools:
  - {name: cpu, kind: cpu, count: 1, memory: 8GiB, throughput: 1 GFLOP/s}
tasks:
  - {name: job, compute: 1e9, memory: 1MiB, %s}
"""
for id, job, expect in (
        ("missing-program", "command: [no-such-program-here, x]",
         ("task 'job'", "cannot find the program 'no-such-program-here'")),
        ("missing-script", "command: [./nope.sh]", ("task 'job'", "'./nope.sh'", "cwd")),
        ("missing-cwd", "command: [python, x.py], cwd: nowhere",
         ("task 'job'", "nowhere", "not a folder")),
        ("missing-module", "callable: 'no_such_module_here:main'",
         ("task 'job'", "cannot import 'no_such_module_here'"))):
    for command in ("run", "profile"):
        add(f"{command}-job-{id}", [command, "{file}", "--quiet",
                                    *(["--out", "{dir}/q.yaml"] if command == "profile" else [])],
            {"p.yaml": JOB_RUN % job}, 2, expect)
add("profile--limit-zero", ["profile", "{file}", "--out", "{dir}/q.yaml", "--limit", "0"],
    {"p.yaml": RUNNABLE}, 2, ("--limit",))
add("run--task-timeout-negative", ["run", "{file}", "--task-timeout", "-1", "--quiet"],
    {"p.yaml": RUNNABLE}, 2, ("--task-timeout",))
add("run--logs-is-a-file", ["run", "{file}", "--logs", "{file}", "--quiet"],
    {"p.yaml": RUNNABLE}, 2, ("--logs",))
ONLINE = """\
name: online
pools:
  - {name: cpu, kind: cpu, count: 1, memory: 8GiB, throughput: 1, torch_device: cpu}
tasks:
  - {name: a, compute: 1, command: [sleep, '1']}
  - {name: b, compute: 1, release: 1s, command: [sleep, '1']}
"""
for command in (["simulate", "{file}", "--round", "1s"], ["run", "{file}", "--round", "1s"]):
    add(f"{command[0]}--space-sharing-without-pairs", [*command, "--policy", "gandiva",
                                                     "--space-sharing"],
        {"p.yaml": ONLINE}, 2, ("p.yaml", "no 'sharing' list"))
    add(f"{command[0]}--space-sharing-policy", [*command, "--policy", "las", "--space-sharing"],
        {"p.yaml": ONLINE}, 2, ("'las' does not share devices",))
add("simulate--pairs-with-a-problem-file", ["simulate", "{file}", "--space-sharing", "--pairs",
                                            "{file}"],
    {"p.yaml": ONLINE}, 2, ("--pairs is for a Gavel job list",))
add("run--space-sharing-without-policy", ["run", "{file}", "--space-sharing"],
    {"p.yaml": ONLINE}, 2, ("--space-sharing is for online runs",))
add("report-missing-file", ["report", "{dir}/nope.jsonl"], {}, 2, ("nope.jsonl",))
add("report-not-a-report", ["report", "{file}"], {"p.yaml": "[1, 2]\n"}, 2, ("p.yaml",))
add("report-online-journal--gantt", ["report", "{dir}/j.jsonl", "--gantt", "{dir}/g.png"],
    {"j.jsonl": '{"event": "online_start", "policy": "fifo", "round_s": 1.0, "tasks": ["a"], '
                '"wall0": 0}\n'}, 2, ("--gantt is for planned runs", "j.jsonl"))
add("report-online-result", ["report", "{dir}/r.json"],
    {"r.json": '{"policy": "fifo", "rounds": [], "jobs": []}'}, 2,
    ("r.json", "is an online run's result (run --policy --out)"))
add("schema-extra-argument", ["schema", "more"], {}, 2, ("more",))
add("version-extra-argument", ["version", "--short"], {}, 2, ("--short",))
add("no-arguments", [], {}, 2, ("Usage", "Commands"), short=False)      # the help, as an error
add("unknown-command", ["slove", "{file}"], {}, 2, ("slove",))
add("unknown-global-option", ["--verbose", "solve"], {}, 2, ("--verbose",))

assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
