"""YAML and dict input/output for problems.

Files are parsed by :mod:`allocator.io.yaml_safe` (plain data only, bounded time and memory). Unknown keys are errors (with a did-you-mean), and every error
names the field path (``tasks[3].memory``) and, for files, the line.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..objectives import check_problem
from ..errors import ProblemError
from ..domain.jobs import read_job
from ..domain.problem import TORCH_DEVICE, KINDS, Pool, Problem, Task
from .cluster_fields import read_nodes, read_requests
from .sharing_fields import check_sharing, read_sharing
from .problem_writer import dump, to_dict
from .schema import MAX_DEVICES, POOL_FIELDS, PROBLEM_FIELDS, TASK_FIELDS, Field
from ..domain.units import MAXIMUM, as_float, check_maximum, parse_quantity
from .text import read_text
from .yaml_safe import parse

__all__ = ["load", "loads", "from_dict", "to_dict", "dump"]


# -- public entry points -------------------------------------------------------------------

def load(source: str | Path | Mapping[str, Any] | Problem, *, check: bool = True,
         objective: str | None = None) -> Problem:
    """Load and validate a problem from a YAML file path or from a dict of the same schema.

    With ``check``, the problem is also checked for ``objective`` (default: its own): the
    inputs that objective needs, and infeasibility that can be pinned on one culprit.
    Raises :class:`~allocator.errors.ProblemError` with one readable message naming the culprit.

    >>> p = load({"name": "tiny", "pools": [{"name": "gpu", "kind": "gpu", "count": 1,
    ...          "memory": "16GiB", "throughput": "10 TFLOP/s"}],
    ...          "tasks": [{"name": "a", "compute": "1e15 FLOP", "memory": "1GiB"}]})
    >>> float(p.ptime[0, 0])
    100.0
    """
    if isinstance(source, Problem):
        return source
    if isinstance(source, Mapping):
        return from_dict(source, check=check, objective=objective)
    if isinstance(source, (str, Path)):
        path = Path(source)
        return loads(read_text(path), source=str(path), check=check, objective=objective,
                     base=path.parent)
    raise TypeError(f"load() takes a path, a dict or a Problem, not {type(source).__name__}")


def loads(text: str, *, source: str | None = None, check: bool = True,
          objective: str | None = None, base: str | Path | None = None) -> Problem:
    """Load and validate a problem from YAML text; ``base`` is the folder a task's relative
    ``cwd`` is relative to (default: the current folder)."""
    parsed = parse(text, source)
    try:
        return from_dict(parsed.data, check=check, objective=objective, base=base)
    except ProblemError as err:
        raise err.located(parsed.line_of(err.path), source) from None


def from_dict(doc: Any, *, check: bool = True, objective: str | None = None,
              base: str | Path | None = None) -> Problem:
    """Validate a document (as returned by ``yaml.safe_load``) and build a :class:`Problem`;
    ``base`` as in :func:`loads`."""
    problem = _Reader(None if base is None else Path(base)).problem(doc)
    if check:
        check_problem(problem, objective or problem.objective)
    return problem


# -- validation ----------------------------------------------------------------------------

def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_processing_times(problem: Problem) -> None:
    """compute / throughput within the largest time allowed (units.MAXIMUM): beyond it the
    numbers are a mistake of units, and the models' coefficients would overflow."""
    with np.errstate(over="ignore"):
        ptime = problem.raw_ptime
    over = problem.allowed & (np.isfinite(ptime) & (ptime > MAXIMUM["time"])
                              | np.isposinf(ptime) & (problem.rate > 0) & ~_timed(problem))
    if over.any():
        i, j = (int(k) for k in np.argwhere(over)[0])
        t, p = problem.tasks[i], problem.pools[j]
        seconds = float(t.compute) / float(problem.rate[i, j])      # Python floats: inf, no warning
        raise ProblemError(f"task {t.name!r} would take {seconds:.3g} s on "
                           f"pool {p.name!r} (compute / throughput), more than the largest time "
                           f"allowed (1e12 s); check the units of its compute and the pool's "
                           f"throughput", f"tasks[{i}].compute")


def _timed(problem: Problem) -> np.ndarray:
    """Pairs whose processing time comes from the ``time`` table."""
    mask = np.zeros((len(problem.tasks), len(problem.pools)), dtype=bool)
    for task, row in problem.time.items():
        for pool in row:
            mask[problem.task_index[task], problem.pool_index[pool]] = True
    return mask


class _Reader:
    """Walks a document, checks each field against the schema and builds the domain objects."""

    did_you_mean = staticmethod(_did_you_mean)

    def __init__(self, base: Path | None = None):
        self.base = base                 # the folder a task's relative cwd is relative to

    def mapping(self, value: Any, path: str, what: str) -> Mapping:
        if not isinstance(value, Mapping):
            raise ProblemError(f"{what} must be a mapping of keys to values, "
                               f"got {type(value).__name__}", path or None)
        return value

    def keys(self, doc: Mapping, fields: dict[str, Field], path: str, what: str) -> None:
        for key in doc:
            if key not in fields:
                sub = f"{path}.{key}" if path else str(key)
                raise ProblemError(f"unknown key {key!r} in {what}{_did_you_mean(key, fields)} "
                                   f"(allowed: {', '.join(fields)})", sub)
        if fields is PROBLEM_FIELDS and doc.get("pools") is None and doc.get("nodes") is None:
            raise ProblemError("missing required key 'pools' (devices) or 'nodes' (a cluster "
                               "of nodes) in the problem")
        for key, f in fields.items():
            if f.required and doc.get(key) is None:
                raise ProblemError(f"missing required key {key!r} in {what}", path or None)

    def field(self, doc: Mapping, key: str, f: Field, path: str, default=None, *,
              allow_zero: bool = False):
        value = doc.get(key)
        sub = f"{path}.{key}" if path else key
        if value is None:
            return default
        if f.type == "str":
            if not isinstance(value, str) or not value.strip():
                raise ProblemError(f"must be a non-empty string, got {value!r}", sub)
            return value
        if f.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ProblemError(f"must be a whole number, got {value!r}", sub)
            if f.maximum is not None and abs(value) > f.maximum:
                bound = f"at most {f.maximum:,}" if value > 0 else f"at least {-f.maximum:,}"
                raise ProblemError(f"must be {bound} (see the limits in "
                                   f"docs/problem-format.md), got {value:,}", sub)
            return value
        if f.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(as_float(value, "number", sub)):
                raise ProblemError(f"must be a finite number, got {value!r}", sub)
            if value < 0 or (value == 0 and not allow_zero):
                raise ProblemError(f"must be {'non-negative' if allow_zero else 'positive'}, "
                                   f"got {value!r}", sub)
            return check_maximum(float(value), "number", sub, value)
        if f.type == "quantity":
            return parse_quantity(value, f.dimension, sub, allow_zero=allow_zero)
        if f.type == "enum":
            if value not in f.choices:
                raise ProblemError(f"{value!r} is not one of {', '.join(f.choices)}"
                                   f"{_did_you_mean(value, f.choices)}", sub)
            return value
        if f.type in ("enum_list", "str_list"):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not value:
                raise ProblemError(f"must be a non-empty list, got {value!r}", sub)
            for k, item in enumerate(value):
                if not isinstance(item, str):
                    raise ProblemError(f"must be a string, got {item!r}", f"{sub}[{k}]")
                if f.type == "enum_list" and item not in f.choices:
                    raise ProblemError(f"{item!r} is not one of {', '.join(f.choices)}"
                                       f"{_did_you_mean(item, f.choices)}", f"{sub}[{k}]")
            if len(set(value)) != len(value):
                raise ProblemError(f"lists {value!r} with repeats", sub)
            return tuple(value)
        if f.type == "number_map":
            value = self.mapping(value, sub, key)
            return {str(name): self.field(value, name, Field("number", ""), sub,
                                          allow_zero=True) for name in value}
        raise AssertionError(f.type)

    def named_list(self, value: Any, path: str, what: str) -> list[Mapping]:
        if not isinstance(value, list) or not value:
            raise ProblemError(f"must be a non-empty list of {what}s", path)
        items, seen = [], {}
        for k, item in enumerate(value):
            sub = f"{path}[{k}]"
            item = self.mapping(item, sub, f"{what} {k}")
            name = item.get("name")
            if isinstance(name, str) and name in seen:
                raise ProblemError(f"duplicate {what} name {name!r} (first at {path}[{seen[name]}])",
                                   f"{sub}.name")
            if isinstance(name, str):
                seen[name] = k
            items.append(item)
        return items

    def problem(self, doc: Any) -> Problem:
        if doc is None:
            raise ProblemError("the problem is empty; it needs at least name, pools and tasks")
        doc = self.mapping(doc, "", "the problem")
        self.keys(doc, PROBLEM_FIELDS, "", "the problem")
        F = PROBLEM_FIELDS
        name = self.field(doc, "name", F["name"], "")
        pools = self.pools(doc)
        pool_names = [p.name for p in pools]
        tasks = tuple(self.task(item, f"tasks[{k}]", pool_names)
                      for k, item in enumerate(self.named_list(doc["tasks"], "tasks", "task")))
        problem = Problem(
            name=name,
            description=self.field(doc, "description", F["description"], ""),
            objective=self.field(doc, "objective", F["objective"], "", default="makespan"),
            horizon=self.field(doc, "horizon", F["horizon"], ""),
            measure=self.field(doc, "measure", F["measure"], "", default="max_load"),
            sense=self.field(doc, "sense", F["sense"], "", default="min"),
            pools=pools,
            tasks=tasks,
            **{key: self.table(doc.get(key), key, pool_names, [t.name for t in tasks])
               for key in ("throughput", "time", "cost")},
            sharing=read_sharing(self, doc.get("sharing"), [t.name for t in tasks], pool_names),
        )
        _check_processing_times(problem)
        check_sharing(problem)
        return problem

    def pools(self, doc: Mapping) -> tuple[Pool, ...]:
        """The problem's ``pools``, or its ``nodes`` (exactly one of them)."""
        if doc.get("pools") is not None and doc.get("nodes") is not None:
            raise ProblemError("give either 'pools' (devices) or 'nodes' (a cluster of nodes), "
                               "not both")
        if doc.get("nodes") is not None:
            return read_nodes(self, self.named_list(doc["nodes"], "nodes", "node group"))
        pools = tuple(self.pool(item, f"pools[{k}]")
                      for k, item in enumerate(self.named_list(doc["pools"], "pools", "pool")))
        total = sum(p.count for p in pools)
        if total > MAX_DEVICES:
            raise ProblemError(f"the pools hold {total:,} devices in all, more than the limit "
                               f"of {MAX_DEVICES:,}", "pools")
        return pools

    def pool(self, doc: Mapping, path: str) -> Pool:
        what = f"pool {doc.get('name', path)!r}"
        self.keys(doc, POOL_FIELDS, path, what)
        F = POOL_FIELDS
        count = self.field(doc, "count", F["count"], path)
        if count < 1:
            raise ProblemError(f"{what} must have at least one device, got count {count}",
                               f"{path}.count")
        torch_device = self.field(doc, "torch_device", F["torch_device"], path)
        if torch_device is not None:
            if not TORCH_DEVICE.match(torch_device):
                raise ProblemError(f"torch_device {torch_device!r} is not one of cpu, cuda, "
                                   "cuda:N, auto", f"{path}.torch_device")
        return Pool(
            name=self.field(doc, "name", F["name"], path),
            kind=self.field(doc, "kind", F["kind"], path),
            count=count,
            memory=self.field(doc, "memory", F["memory"], path),
            throughput=self.field(doc, "throughput", F["throughput"], path),
            cost_per_hour=self.field(doc, "cost_per_hour", F["cost_per_hour"], path,
                                     allow_zero=True),
            torch_device=torch_device,
            horizon=self.field(doc, "horizon", F["horizon"], path),
        )

    def task(self, doc: Mapping, path: str, pool_names: list[str]) -> Task:
        what = f"task {doc.get('name', path)!r}"
        self.keys(doc, TASK_FIELDS, path, what)
        F = TASK_FIELDS
        allowed_pools = self.field(doc, "allowed_pools", F["allowed_pools"], path)
        for k, pool in enumerate(allowed_pools or ()):
            if pool not in pool_names:
                raise ProblemError(f"{what} allows unknown pool {pool!r}"
                                   f"{_did_you_mean(pool, pool_names)} "
                                   f"(pools: {', '.join(pool_names)})",
                                   f"{path}.allowed_pools[{k}]")
        demand = {}
        if doc.get("demand") is not None:
            raw = self.mapping(doc["demand"], f"{path}.demand", f"the demand of {what}")
            for kind, amount in raw.items():
                if kind not in KINDS:
                    raise ProblemError(f"unknown device kind {kind!r} in the demand of {what}"
                                       f"{_did_you_mean(kind, KINDS)} (kinds: {', '.join(KINDS)})",
                                       f"{path}.demand.{kind}")
                demand[kind] = parse_quantity(amount, "time", f"{path}.demand.{kind}",
                                              allow_zero=True)
        compute = self.field(doc, "compute", F["compute"], path)
        memory = self.field(doc, "memory", F["memory"], path)
        workload = model = None
        if doc.get("workload") is not None:
            from ..domain.workloads import normalise, workload_flop, workload_model
            workload = normalise(doc["workload"], f"{path}.workload")
            if compute is None:
                compute = workload_flop(workload)
            if memory is None and doc.get("model") is None:
                description = workload_model(workload)
                if description is not None:
                    from ..domain.memory import estimate_memory
                    memory = estimate_memory(**description).total
        if doc.get("model") is not None:
            if doc.get("memory") is not None:
                raise ProblemError(f"{what} gives both memory and model; give one (model "
                                   "estimates the memory)", f"{path}.model")
            from ..domain.memory import estimate_from_dict
            model = dict(doc["model"]) if isinstance(doc["model"], Mapping) else doc["model"]
            memory = estimate_from_dict(model, f"{path}.model").total
        return Task(
            name=self.field(doc, "name", F["name"], path),
            compute=compute,
            memory=memory,
            workload=workload,
            model=model,
            weight=self.field(doc, "weight", F["weight"], path, default=1.0),
            priority=self.field(doc, "priority", F["priority"], path, default=0),
            deadline=self.field(doc, "deadline", F["deadline"], path),
            allowed_kinds=self.field(doc, "allowed_kinds", F["allowed_kinds"], path),
            allowed_pools=allowed_pools,
            demand=demand,
            job=read_job(doc, path, what, self.base),
            timeout=self.field(doc, "timeout", F["timeout"], path),
            release=self.field(doc, "release", F["release"], path, default=0.0,
                               allow_zero=True),
            devices=self._devices(doc, path),
            **read_requests(self, doc, path, what),
        )

    def _devices(self, doc: Mapping, path: str) -> int:
        devices = self.field(doc, "devices", TASK_FIELDS["devices"], path, default=1)
        if devices < 1:
            raise ProblemError(f"must be at least 1, got {devices}", f"{path}.devices")
        return devices

    def table(self, doc: Any, key: str, pool_names: list[str], task_names: list[str]) -> dict:
        """A per-task, per-pool table (``throughput``, ``time`` or ``cost``)."""
        if doc is None:
            return {}
        doc = self.mapping(doc, key, key)
        dimension = PROBLEM_FIELDS[key].dimension
        known_tasks = set(task_names)
        out: dict[str, dict[str, float | None]] = {}
        for task, row in doc.items():
            path = f"{key}.{task}"
            if task not in known_tasks:
                raise ProblemError(f"{key} override for unknown task {task!r}"
                                   f"{_did_you_mean(task, task_names)}", path)
            row = self.mapping(row, path, f"the {key} overrides of task {task!r}")
            out[task] = {}
            for pool, value in row.items():
                sub = f"{path}.{pool}"
                if pool not in pool_names:
                    raise ProblemError(f"{key} override names unknown pool {pool!r}"
                                       f"{_did_you_mean(pool, pool_names)} "
                                       f"(pools: {', '.join(pool_names)})", sub)
                if dimension == "number":
                    out[task][pool] = self.field(row, pool, Field("number", ""), path,
                                                 allow_zero=True)
                    if value is None:
                        raise ProblemError("must be a number (a price), got null", sub)
                else:
                    out[task][pool] = (None if value is None else
                                       parse_quantity(value, dimension, sub))
        return out
