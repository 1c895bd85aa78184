"""Import the Alibaba GPU cluster trace v2023 ("openb", the FGD paper's trace) into the
project's own problem format.

Nodes file columns: ``sn`` (node name), ``cpu_milli``, ``memory_mib``, ``gpu`` (GPUs on the
node), ``model`` (GPU model; empty on CPU-only nodes). Pods file columns: ``name``,
``cpu_milli``, ``memory_mib``, ``num_gpu``, ``gpu_milli`` (thousandths of one GPU; below 1000
with one GPU is a share), and when present (the trace's multigpu lists have neither)
``gpu_spec`` (accepted GPU models, ``|``-separated; empty: any) and ``qos``; the time columns
are not used here. Identical nodes become one group with the
nodes' own names. A malformed row is refused naming its file, line and column.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping

from ..errors import ProblemError
from .csv_rows import rows, whole

NODE_COLUMNS = ("sn", "cpu_milli", "memory_mib", "gpu", "model")
POD_COLUMNS = ("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli")
OPTIONAL_POD_COLUMNS = ("gpu_spec", "qos")      # absent from the multigpu lists: empty
MAX_GPUS = 1024


def _unique_name(row: dict[str, str], column: str, what: str, where: str, line: int,
                 seen: dict[str, int]) -> str:
    """The row's name, refused when empty or seen on an earlier line."""
    name = row[column].strip()
    if not name:
        raise ProblemError(f"{where}: {column} (the {what}'s name) is empty")
    if name in seen:
        raise ProblemError(f"{where}: {what} {name!r} also appears on line {seen[name]}")
    seen[name] = line
    return name


def read_nodes(path: str | Path) -> list[dict[str, Any]]:
    """Node groups (the ``nodes:`` list of a problem), identical nodes together."""
    path = Path(path)
    groups: dict[tuple, list[str]] = defaultdict(list)
    seen: dict[str, int] = {}
    for line, row in rows(path, NODE_COLUMNS):
        where = f"{path}, line {line}"
        name = _unique_name(row, "sn", "node", where, line, seen)
        cpu = whole(row, "cpu_milli", where, low=1)
        memory = whole(row, "memory_mib", where, low=1)
        gpus = whole(row, "gpu", where, high=MAX_GPUS)
        model = row["model"].strip()
        if gpus and not model:
            raise ProblemError(f"{where}: node {name!r} has {gpus} GPUs but no model")
        if model and not gpus:
            raise ProblemError(f"{where}: node {name!r} has GPU model {model!r} but 0 GPUs")
        groups[(model, gpus, cpu, memory)].append(name)
    if not groups:
        raise ProblemError(f"{path}: no nodes")
    out = []
    for (model, gpus, cpu, memory), names in sorted(groups.items(), key=lambda g: -len(g[1])):
        group = {"name": f"{model or 'cpu'}-{gpus}gpu-{_cores(cpu)}cpu-{memory}Mi",
                 "names": names, "cpu": _cores(cpu), "memory": f"{memory}Mi"}
        if gpus:
            group.update(gpus=gpus, gpu_model=model)
        out.append(group)
    return out


def read_pods(path: str | Path) -> list[dict[str, Any]]:
    """Tasks: cores, memory, whole GPUs or a share of one, accepted GPU models, QoS."""
    path = Path(path)
    tasks, seen = [], {}
    for line, row in rows(path, POD_COLUMNS):
        where = f"{path}, line {line}"
        row = {c: "" for c in OPTIONAL_POD_COLUMNS} | row
        name = _unique_name(row, "name", "pod", where, line, seen)
        task: dict[str, Any] = {"name": name}
        cpu = whole(row, "cpu_milli", where)
        memory = whole(row, "memory_mib", where)
        if cpu:
            task["cpu"] = _cores(cpu)
        if memory:
            task["memory"] = f"{memory}Mi"
        task.update(_gpus(row, where))
        qos = row["qos"].strip()
        if qos:
            task["qos"] = qos
        tasks.append(task)
    if not tasks:
        raise ProblemError(f"{path}: no pods")
    return tasks


def _gpus(row: dict[str, str], where: str) -> dict[str, Any]:
    count = whole(row, "num_gpu", where, high=MAX_GPUS)
    milli = whole(row, "gpu_milli", where, high=1000)
    spec = [m.strip() for m in row["gpu_spec"].split("|") if m.strip()]
    if count == 0:
        if milli:
            raise ProblemError(f"{where}: gpu_milli is {milli} but num_gpu is 0")
        if spec:
            raise ProblemError(f"{where}: gpu_spec {row['gpu_spec']!r} but num_gpu is 0")
        return {}
    if milli == 0:
        raise ProblemError(f"{where}: num_gpu is {count} but gpu_milli is 0")
    if count > 1 and milli != 1000:
        raise ProblemError(f"{where}: {count} GPUs at gpu_milli {milli}; only a single GPU "
                           "may be shared (gpu_milli below 1000 with num_gpu 1)")
    out: dict[str, Any] = {"gpus": count} if milli == 1000 else {"gpu_share": milli / 1000}
    if spec:
        out["gpu_models"] = list(dict.fromkeys(spec))      # the trace repeats some
    return out


def _cores(milli: int) -> int | float:
    return milli // 1000 if milli % 1000 == 0 else milli / 1000


def import_alibaba(nodes: str | Path, pods: str | Path, name: str | None = None,
                   qos_weights: Mapping[str, float] | None = None) -> dict:
    """A problem document (``objective: packing``) from the trace's nodes and pods files;
    ``qos_weights`` ({class: weight}) gives the pods of each listed QoS class that ``weight``,
    so that packing places priority-weighted demand."""
    pods = Path(pods)
    groups, tasks = read_nodes(nodes), read_pods(pods)
    if qos_weights:
        _weigh(tasks, qos_weights, pods)
    return {"name": name or pods.stem, "description": f"Alibaba GPU trace v2023: nodes "
            f"{Path(nodes).name}, pods {pods.name}", "objective": "packing",
            "nodes": groups, "tasks": tasks}


def _weigh(tasks: list[dict[str, Any]], weights: Mapping[str, float], path: Path) -> None:
    classes = sorted({t["qos"] for t in tasks if "qos" in t})
    for qos, weight in weights.items():
        if qos not in classes:
            raise ProblemError(f"{path}: no pod has qos {qos!r} (its classes: "
                               f"{', '.join(classes) or 'none'})")
        if not (isinstance(weight, (int, float)) and math.isfinite(weight) and weight > 0):
            raise ProblemError(f"the weight of qos {qos!r} must be a number > 0, got {weight!r}")
    for t in tasks:
        if t.get("qos") in weights:
            t["weight"] = weights[t["qos"]]
