"""The cluster part of the problem format: ``nodes:`` (groups of identical nodes with cores,
host memory and GPUs) and what a task requests of a node (cores, whole GPUs or a share of
one, GPU models, QoS, named resources). The loader (:mod:`.problem_files`) calls these for
the fields that :mod:`.schema` describes."""

from __future__ import annotations

from typing import Any, Mapping

from ..domain.problem import Pool, Task
from ..errors import ProblemError
from .schema import MAX_DEVICES, NODE_FIELDS, TASK_FIELDS


def read_nodes(reader, items: list[Mapping]) -> tuple[Pool, ...]:
    """The node groups of a ``nodes:`` list, as pools of kind ``gpu`` (with GPUs) or ``cpu``."""
    pools = tuple(read_node(reader, item, f"nodes[{k}]") for k, item in enumerate(items))
    total = sum(p.count for p in pools)
    if total > MAX_DEVICES:
        raise ProblemError(f"the node groups hold {total:,} nodes in all, more than the limit "
                           f"of {MAX_DEVICES:,}", "nodes")
    seen: dict[str, str] = {}
    for j, pool in enumerate(pools):
        for k, node in enumerate(pool.node_names or ()):
            if node in seen:
                raise ProblemError(f"node name {node!r} appears twice (also in group "
                                   f"{seen[node]!r})", f"nodes[{j}].names[{k}]")
            seen[node] = pool.name
    return pools


def read_node(reader, doc: Mapping, path: str) -> Pool:
    what = f"node group {doc.get('name', path)!r}"
    reader.keys(doc, NODE_FIELDS, path, what)
    F = NODE_FIELDS
    names = reader.field(doc, "names", F["names"], path)
    count = reader.field(doc, "count", F["count"], path,
                         default=len(names) if names is not None else 1)
    if count < 1:
        raise ProblemError(f"{what} must have at least one node, got count {count}",
                           f"{path}.count")
    if names is not None and len(names) != count:
        raise ProblemError(f"{what} has count {count} but {len(names)} names", f"{path}.names")
    gpus = reader.field(doc, "gpus", F["gpus"], path, default=0)
    if gpus < 0:
        raise ProblemError(f"must be 0 or more, got {gpus}", f"{path}.gpus")
    for key in ("gpu_model", "gpu_memory"):
        if doc.get(key) is not None and gpus == 0:
            raise ProblemError(f"{what} gives {key} but has no GPUs", f"{path}.{key}")
    return Pool(
        name=reader.field(doc, "name", F["name"], path),
        kind="gpu" if gpus else "cpu", count=count,
        memory=reader.field(doc, "memory", F["memory"], path),
        throughput=0.0,
        cpu=reader.field(doc, "cpu", F["cpu"], path),
        gpus=gpus,
        gpu_model=reader.field(doc, "gpu_model", F["gpu_model"], path),
        gpu_memory=reader.field(doc, "gpu_memory", F["gpu_memory"], path),
        node_names=names,
        resources=reader.field(doc, "resources", F["resources"], path, default={}),
        cost_per_hour=reader.field(doc, "cost_per_hour", F["cost_per_hour"], path,
                                   allow_zero=True),
    )


def read_requests(reader, doc: Mapping, path: str, what: str) -> dict[str, Any]:
    """A task's requests of its node, as :class:`~allocator.domain.problem.Task` fields."""
    F = TASK_FIELDS
    gpus = reader.field(doc, "gpus", F["gpus"], path, default=0)
    if gpus < 0:
        raise ProblemError(f"must be 0 or more, got {gpus}", f"{path}.gpus")
    share = doc.get("gpu_share")
    if share is not None:
        share = reader.field(doc, "gpu_share", F["gpu_share"], path)
        if share >= 1:
            raise ProblemError(f"must be less than 1 (a fraction of one GPU; for whole GPUs "
                               f"write gpus: {round(share) or 1}), got {share!r}",
                               f"{path}.gpu_share")
        if gpus:
            raise ProblemError(f"{what} gives both gpus and gpu_share; give whole GPUs or a "
                               "share of one", f"{path}.gpu_share")
    models = reader.field(doc, "gpu_models", F["gpu_models"], path)
    if models is not None and not (gpus or share):
        raise ProblemError(f"{what} gives gpu_models but asks for no GPU", f"{path}.gpu_models")
    return dict(cpu=reader.field(doc, "cpu", F["cpu"], path, allow_zero=True), gpus=gpus,
                gpu_share=share, gpu_models=models,
                qos=reader.field(doc, "qos", F["qos"], path),
                requests=reader.field(doc, "requests", F["requests"], path, default={}))


def node_to_dict(pool: Pool) -> dict[str, Any]:
    d = {"name": pool.name, "count": pool.count, "cpu": pool.cpu, "memory": pool.memory}
    if pool.node_names is not None:
        d["names"] = list(pool.node_names)
    if pool.gpus:
        d.update(gpus=pool.gpus, gpu_model=pool.gpu_model, gpu_memory=pool.gpu_memory)
    if pool.resources:
        d["resources"] = dict(pool.resources)
    d["cost_per_hour"] = pool.cost_per_hour
    return {k: v for k, v in d.items() if v is not None}


def requests_to_dict(task: Task) -> dict[str, Any]:
    d = {"cpu": task.cpu, "gpus": task.gpus or None, "gpu_share": task.gpu_share,
         "gpu_models": list(task.gpu_models) if task.gpu_models else None, "qos": task.qos,
         "requests": dict(task.requests) or None}
    return {k: v for k, v in d.items() if v is not None}
