"""The problem format, described once: the loader validates against it, ``allocator schema``
prints it as JSON Schema, and ``docs/problem-format.md`` documents every key in it."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.problem import KINDS, MEASURES, SENSES
from ..objectives import NAMES as OBJECTIVES


@dataclass(frozen=True)
class Field:
    type: str                 # str | int | number | quantity | enum | enum_list | str_list | ...
    doc: str
    required: bool = False
    dimension: str | None = None      # for quantities: bytes, flop, flop_rate, time
    choices: tuple[str, ...] = ()
    maximum: float | None = None      # for int fields (numbers and quantities: units.MAXIMUM)


# Devices a problem may hold (docs/problem-format.md#limits): enough for any real fleet, few
# enough that naming every device cannot exhaust memory.
MAX_POOL_DEVICES = 100_000
MAX_DEVICES = 1_000_000
MAX_PRIORITY = 2 ** 31 - 1


PROBLEM_FIELDS: dict[str, Field] = {
    "name": Field("str", "Name of the problem, shown in reports.", required=True),
    "description": Field("str", "Free text."),
    "objective": Field("enum", "What to optimise; `allocator.solve(objective=...)` overrides it.",
                       choices=OBJECTIVES),
    "horizon": Field("quantity", "Time each device is available (e.g. `72h`). Caps every device's "
                     "load; gives the capacity of the amount-based objectives.", dimension="time"),
    "measure": Field("enum", "How `load_balance` measures balance: `max_load` (default) or the "
                     "seed's `inverse_sum` (sum over devices of 1 / load).", choices=MEASURES),
    "pools": Field("pools", "Device pools (at least one); or `nodes`."),
    "nodes": Field("nodes", "Cluster nodes, in groups of identical nodes (at least one), "
                   "instead of `pools`: for the `packing` objective."),
    "tasks": Field("tasks", "Tasks (at least one).", required=True),
    "sense": Field("enum", "`min` (default) or `max`: whether the `cost` objective minimises "
                   "the total or maximises it (a table of profits or preferences, as in the "
                   "maximisation form of generalized assignment).", choices=SENSES),
    "throughput": Field("table", "Per-task, per-pool throughput overrides: "
                        "`{task: {pool: rate or null}}`; `null` forbids the pair.",
                        dimension="flop_rate"),
    "time": Field("table", "Per-task, per-pool processing times, overriding compute / "
                  "throughput: `{task: {pool: 3h or null}}`; `null` forbids the pair. A task "
                  "with a time for every pool it may use needs no `compute`.", dimension="time"),
    "sharing": Field("sharing", "Space sharing, for `allocator simulate` and `allocator run "
                     "--policy` with `--space-sharing`: pairs of tasks that may run together "
                     "on the same devices, and each one's throughput while they do."),
    "cost": Field("table", "Per-task, per-pool price of running the task on one device of the "
                  "pool, overriding `cost_per_hour` x hours: `{task: {pool: 12.5}}`.",
                  dimension="number"),
}

POOL_FIELDS: dict[str, Field] = {
    "name": Field("str", "Unique pool name; device k is `name[k]`.", required=True),
    "kind": Field("enum", "Device kind.", required=True, choices=KINDS),
    "count": Field("int", "Number of identical devices (1 to 100,000).", required=True,
                   maximum=MAX_POOL_DEVICES),
    "memory": Field("quantity", "Memory per device (e.g. `80GiB`).", required=True,
                    dimension="bytes"),
    "throughput": Field("quantity", "Sustained throughput per device (e.g. `400 TFLOP/s`).",
                        required=True, dimension="flop_rate"),
    "cost_per_hour": Field("number", "Price of one device-hour (≥ 0); needed by `cost`."),
    "torch_device": Field("str", "Torch device the executor maps this pool to (`cpu`, `cuda:1`)."),
    "horizon": Field("quantity", "Time each device of this pool is available (e.g. `40h`); "
                     "overrides the problem's `horizon` for this pool.", dimension="time"),
}

NODE_FIELDS: dict[str, Field] = {
    "name": Field("str", "Unique name of this group of identical nodes; node k is `name[k]` "
                  "unless `names` says otherwise.", required=True),
    "count": Field("int", "Number of identical nodes (1 to 100,000; default: the number of "
                   "`names`, else 1).", maximum=MAX_POOL_DEVICES),
    "names": Field("str_list", "One name per node (e.g. the cluster's own node names)."),
    "cpu": Field("quantity", "CPU cores per node (`96`, or `500m` for half a core).",
                 required=True, dimension="cores"),
    "memory": Field("quantity", "Host memory per node (e.g. `384GiB` or `384Gi`).",
                    required=True, dimension="bytes"),
    "gpus": Field("int", "GPUs per node (default 0).", maximum=1024),
    "gpu_model": Field("str", "The model of the node's GPUs (e.g. `V100M32`, `T4`)."),
    "gpu_memory": Field("quantity", "Memory per GPU.", dimension="bytes"),
    "resources": Field("number_map", "More resources per node, by name (e.g. `{rdma: 1}`)."),
    "cost_per_hour": Field("number", "Price of one node-hour (≥ 0)."),
}

SHARING_FIELDS: dict[str, Field] = {
    "tasks": Field("str_list", "The two tasks, by name; they hold the same number of devices.",
                   required=True),
    "pool": Field("str", "The pool whose devices they share.", required=True),
    "throughput": Field("quantity_pair", "Each one's throughput per device while they share, "
                        "in the order of `tasks` (e.g. `[35, 20]`, in the unit of their "
                        "`throughput` entries).", required=True, dimension="flop_rate"),
}

TASK_FIELDS: dict[str, Field] = {
    "name": Field("str", "Unique task name.", required=True),
    "compute": Field("quantity", "Total work (e.g. `2.5e18 FLOP`); needed by every objective "
                     "but `weighted_shortfall`.", dimension="flop"),
    "memory": Field("quantity", "Peak memory on one device (e.g. `30GiB`); needed by every "
                    "objective but `weighted_shortfall`.", dimension="bytes"),
    "weight": Field("number", "Importance (> 0, default 1); used by `weighted_shortfall`."),
    "priority": Field("int", "Priority (higher first, default 0, at most 2^31 - 1 either "
                      "way); used by heuristics.", maximum=MAX_PRIORITY),
    "deadline": Field("quantity", "Latest finish time from time 0 (e.g. `6h`); honoured by "
                      "`makespan` and `cost`.", dimension="time"),
    "allowed_kinds": Field("enum_list", "Device kinds the task may use (default: all).",
                           choices=KINDS),
    "allowed_pools": Field("str_list", "Pools the task may use (default: all)."),
    "workload": Field("workload", "What the executor runs: `{name: mlp_train, width: 512, ...}` "
                      "(see docs/executor.md). Gives `compute` and `memory` when they are left "
                      "out."),
    "model": Field("model", "Model description to estimate `memory` from, instead of giving it: "
                   "`{parameters, precision, optimizer, batch, sequence, "
                   "activations_per_sample, workspace}` (see docs/memory.md)."),
    "demand": Field("demand", "Device-time wanted per kind, e.g. `{cpu: 100h, gpu: 100h}`; "
                    "needed by `weighted_shortfall`."),
    "command": Field("command", "A program the executor runs, as a list of arguments or one "
                     "string split like a shell (never run through one): `[python, train.py, "
                     "--epochs, 3]` (see docs/executor.md)."),
    "env": Field("str_map", "Environment variables added for `command`."),
    "cwd": Field("str", "Folder `command` or `callable` runs in, relative to the problem "
                 "file's folder (default: that folder); a callable's module is imported "
                 "from there first."),
    "callable": Field("str", "A Python function the executor calls, "
                      "`package.module:function` (see docs/executor.md)."),
    "params": Field("mapping", "Keyword arguments for `callable`."),
    "timeout": Field("quantity", "Longest time one attempt may run (e.g. `30s`, `2h`); then it "
                     "is stopped and counts as failed.", dimension="time"),
    "cpu": Field("quantity", "CPU cores it requests on its node (`12`, `500m`).",
                 dimension="cores"),
    "gpus": Field("int", "Whole GPUs it needs, all on one node (a gang when more than one).",
                  maximum=1024),
    "gpu_share": Field("number", "A fraction of one GPU (0 < share < 1) instead of whole GPUs; "
                       "the shares on one GPU add up to at most 1."),
    "gpu_models": Field("str_list", "GPU models it accepts (default: any)."),
    "qos": Field("str", "Its quality-of-service class, as the cluster names it (`LS`, `BE`, "
                 "`Guaranteed`, ...); kept with the plan."),
    "requests": Field("number_map", "More resources it requests on its node, by name."),
    "release": Field("quantity", "When it arrives (e.g. `2h`, default 0): it may not start "
                     "before. For `allocator simulate`; the plans of `solve` start every task at "
                     "time 0.", dimension="time"),
    "devices": Field("int", "Devices of one pool it holds at once (a gang; default 1). For "
                     "`allocator simulate`, where a gang runs at `devices` x its throughput.",
                     maximum=100_000),
}

_QUANTITY_EXAMPLE = {"bytes": "80GiB", "flop": "2.5e18 FLOP", "flop_rate": "400 TFLOP/s",
                     "time": "4h", "cores": "500m"}


def _json(field: Field) -> dict:
    if field.type == "str":
        return {"type": "string", "description": field.doc}
    if field.type == "int":
        bounds = {"maximum": field.maximum} if field.maximum is not None else {}
        return {"type": "integer", "description": field.doc, **bounds}
    if field.type == "number":
        return {"type": "number", "description": field.doc}
    if field.type == "enum":
        return {"enum": list(field.choices), "description": field.doc}
    if field.type == "enum_list":
        return {"type": "array", "items": {"enum": list(field.choices)}, "minItems": 1,
                "uniqueItems": True, "description": field.doc}
    if field.type == "str_list":
        return {"type": "array", "items": {"type": "string"}, "minItems": 1,
                "uniqueItems": True, "description": field.doc}
    if field.type == "quantity":
        return {"type": ["number", "string"], "description": field.doc,
                "examples": [_QUANTITY_EXAMPLE[field.dimension]]}
    if field.type == "demand":
        return {"type": "object", "description": field.doc,
                "propertyNames": {"enum": list(KINDS)},
                "additionalProperties": {"type": ["number", "string"]}}
    if field.type == "workload":
        return {"type": ["object", "string"], "description": field.doc,
                "properties": {"name": {"type": "string"}, "seed": {"type": "integer"}}}
    if field.type == "command":
        return {"type": ["array", "string"], "items": {"type": ["string", "number"]},
                "minItems": 1, "description": field.doc}
    if field.type == "str_map":
        return {"type": "object", "additionalProperties": {"type": ["string", "number"]},
                "description": field.doc}
    if field.type == "mapping":
        return {"type": "object", "description": field.doc}
    if field.type == "model":
        from ..domain.memory import MODEL_KEYS
        return {"type": "object", "description": field.doc, "required": ["parameters"],
                "additionalProperties": False,
                "properties": {k: {"type": ["number", "string"]} for k in MODEL_KEYS}}
    if field.type == "pools":
        return {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/pool"},
                "description": field.doc}
    if field.type == "number_map":
        return {"type": "object", "additionalProperties": {"type": "number", "minimum": 0},
                "description": field.doc}
    if field.type == "nodes":
        return {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"},
                "description": field.doc}
    if field.type == "sharing":
        return {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/shared_pair"},
                "description": field.doc}
    if field.type == "quantity_pair":
        return {"type": "array", "items": {"type": ["number", "string"]}, "minItems": 2,
                "maxItems": 2, "description": field.doc}
    if field.type == "tasks":
        return {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/task"},
                "description": field.doc}
    if field.type == "table":
        cell = ["number"] if field.dimension == "number" else ["number", "string", "null"]
        return {"type": "object", "description": field.doc, "additionalProperties": {
            "type": "object", "additionalProperties": {"type": cell}}}
    raise AssertionError(field.type)


def _object(fields: dict[str, Field]) -> dict:
    return {"type": "object", "additionalProperties": False,
            "required": [k for k, f in fields.items() if f.required],
            "properties": {k: _json(f) for k, f in fields.items()}}


def json_schema() -> dict:
    """The problem format as a JSON Schema (draft 2020-12)."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "title": "allocator problem"}
    schema.update(_object(PROBLEM_FIELDS))
    schema["$defs"] = {"pool": _object(POOL_FIELDS), "node": _object(NODE_FIELDS),
                       "task": _object(TASK_FIELDS), "shared_pair": _object(SHARING_FIELDS)}
    schema["oneOf"] = [{"required": ["pools"]}, {"required": ["nodes"]}]
    return schema
