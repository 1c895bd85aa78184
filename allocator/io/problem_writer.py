"""Problems written out: :func:`to_dict` (a plain document in SI units, which
:func:`allocator.from_dict` reads back) and :func:`dump` (YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..domain.problem import Problem
from .cluster_fields import node_to_dict, requests_to_dict
from .sharing_fields import sharing_to_dict


def to_dict(problem: Problem) -> dict[str, Any]:
    """The problem as a plain document in SI units; ``from_dict(to_dict(p)) == p``."""
    doc: dict[str, Any] = {"name": problem.name}
    if problem.description is not None:
        doc["description"] = problem.description
    doc["objective"] = problem.objective
    if problem.horizon is not None:
        doc["horizon"] = problem.horizon
    if problem.measure != "max_load":
        doc["measure"] = problem.measure
    if problem.sense != "min":
        doc["sense"] = problem.sense
    if problem.on_nodes:
        doc["nodes"] = [node_to_dict(p) for p in problem.pools]
    else:
        doc["pools"] = [_drop_none({"name": p.name, "kind": p.kind, "count": p.count,
                                    "memory": p.memory, "throughput": p.throughput,
                                    "cost_per_hour": p.cost_per_hour,
                                    "torch_device": p.torch_device, "horizon": p.horizon})
                       for p in problem.pools]
    tasks = []
    for t in problem.tasks:
        d = _drop_none({"name": t.name, "compute": t.compute, "memory": t.memory,
                        "weight": t.weight, "priority": t.priority, "deadline": t.deadline,
                        "allowed_kinds": list(t.allowed_kinds) if t.allowed_kinds else None,
                        "allowed_pools": list(t.allowed_pools) if t.allowed_pools else None})
        if t.demand:
            d["demand"] = dict(t.demand)
        if t.workload is not None:
            d["workload"] = dict(t.workload)
        if t.model is not None:
            d.pop("memory", None)
            d["model"] = dict(t.model)
        if t.job is not None:
            d.update(t.job.to_dict())
        if t.timeout is not None:
            d["timeout"] = t.timeout
        if t.release:
            d["release"] = t.release
        if t.devices != 1:
            d["devices"] = t.devices
        d.update(requests_to_dict(t))
        tasks.append(d)
    doc["tasks"] = tasks
    for key in ("throughput", "time", "cost"):
        table = getattr(problem, key)
        if table:
            doc[key] = {t: dict(row) for t, row in table.items()}
    if problem.sharing:
        doc["sharing"] = sharing_to_dict(problem)
    return doc


def dump(problem: Problem, path: str | Path) -> None:
    """Write the problem as YAML (SI units)."""
    Path(path).write_text(yaml.safe_dump(to_dict(problem), sort_keys=False), encoding="utf-8")


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}
