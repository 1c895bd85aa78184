"""Plans: what runs where and when, how good that is, and how sure we are.

A Plan is a value: it records the assignment (task -> device), the per-device schedule, the
status with objective, bound and gap, and for the amount-based objectives the amounts
allocated. Metrics are recomputed from the assignment by :func:`allocator.evaluate`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping

import numpy as np

from ..errors import ProblemError
from .problem import Problem


class Status(str, enum.Enum):
    OPTIMAL = "optimal"            # proven optimal (within the requested gap)
    FEASIBLE = "feasible"          # a plan, stopped by a limit; see gap and bound
    INFEASIBLE = "infeasible"      # no plan exists; see reason
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"    # a limit stopped the solver before it found any plan
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class Slot:
    """One task (or a fraction of it) on one device, from ``start`` to ``end`` seconds."""

    task: str
    device: str
    start: float
    end: float
    fraction: float = 1.0


@dataclass(frozen=True)
class Placement:
    """Where a task runs on a cluster of nodes: its node, the 0-based indices of the GPUs it
    uses there, and the fraction of each of those GPUs it takes (1 for whole GPUs, its share
    for a shared one, 0 when it uses none)."""

    node: str
    gpus: tuple[int, ...] = ()
    gpu_share: float = 0.0

    @classmethod
    def of(cls, task, node: str, gpus) -> "Placement":
        """``task`` (a :class:`~allocator.domain.problem.Task`) on ``gpus`` of ``node``: its
        share of each when it shares one, else 1 for whole GPUs, 0 with none."""
        gpus = tuple(gpus)
        share = task.gpu_share if task.gpu_share is not None else (1.0 if gpus else 0.0)
        return cls(node, gpus, share)


@dataclass(frozen=True)
class Plan:
    problem: str
    objective_name: str
    status: Status
    objective: float | None = None
    bound: float | None = None         # proven bound: lower for minimise, upper for maximise
    lp_bound: float | None = None      # LP relaxation, when the model has integers
    sense: str = "min"
    assignment: Mapping[str, str] = field(default_factory=dict)
    schedule: tuple[Slot, ...] = ()
    fractions: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    amounts: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    reason: str | None = None
    measure: str | None = None         # load_balance only: max_load | inverse_sum
    method: str = "optimal"
    backend: str | None = None
    solver: str | None = None
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    strategy: str | None = None        # full | aggregated | decomposed (solver plans)
    warm_start: str | None = None      # the heuristic the solver started from, or whose plan
                                       # was kept because the solver found nothing better
    placements: Mapping[str, Placement] = field(default_factory=dict)   # on nodes: task ->
    unplaced: tuple[str, ...] = ()     # tasks a partial placement leaves out

    @property
    def gap(self) -> float | None:
        """Relative distance between objective and bound (0 when proven optimal)."""
        if self.objective is None or self.bound is None:
            return None
        diff = self.objective - self.bound if self.sense == "min" else self.bound - self.objective
        return max(0.0, diff) / max(abs(self.objective), 1e-12)

    def device_schedule(self) -> dict[str, list[Slot]]:
        """Slots grouped by device, in execution order."""
        out: dict[str, list[Slot]] = {}
        for slot in self.schedule:
            out.setdefault(slot.device, []).append(slot)
        return out

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["gap"] = self.gap
        d["schedule"] = [asdict(s) for s in self.schedule]
        d["assignment"] = dict(self.assignment)
        d["fractions"] = {k: dict(v) for k, v in self.fractions.items()}
        d["amounts"] = {k: dict(v) for k, v in self.amounts.items()}
        d["placements"] = {k: {"node": v.node, "gpus": list(v.gpus), "gpu_share": v.gpu_share}
                           for k, v in self.placements.items()}
        d["unplaced"] = list(self.unplaced)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str | None = None) -> "Plan":
        """Rebuild a plan written by :meth:`to_dict`; a document of the wrong shape raises
        :class:`~allocator.errors.ProblemError` naming the field (and ``source``)."""
        try:
            return cls(**_plan_fields(d))
        except ProblemError as exc:
            raise exc.located(None, source) from None


# -- the shape of a plan document -------------------------------------------------------

_NUMBER_FIELDS = ("objective", "bound", "lp_bound", "build_seconds", "solve_seconds")
_TEXT_FIELDS = ("reason", "measure", "backend", "solver", "strategy", "warm_start")


def _number(value: Any, path: str, *, optional: bool = True) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProblemError(f"must be a finite number, got {value!r}", path)
    return float(value)


def _text(value: Any, path: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ProblemError(f"must be a string, got {value!r}", path)
    return value


def _mapping(value: Any, path: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ProblemError(f"must be a mapping, got {type(value).__name__}", path)
    return value


def _table(value: Any, path: str) -> dict[str, dict[str, float]]:
    out = {}
    for key, row in _mapping(value, path).items():
        sub = f"{path}.{key}"
        out[_text(key, sub, optional=False)] = {
            _text(k, f"{sub}.{k}", optional=False): _number(v, f"{sub}.{k}", optional=False)
            for k, v in _mapping(row, sub).items()}
    return out


def _plan_fields(d: Any) -> dict[str, Any]:
    """The constructor arguments of a plan document, each checked for its type."""
    if not isinstance(d, Mapping) or not d:
        got = "nothing" if not d else f"a {type(d).__name__}"
        raise ProblemError(f"a plan must be a mapping with at least problem, objective_name "
                           f"and status; this file holds {got}")
    known = {f.name for f in fields(Plan)} | {"gap"}
    for key in d:
        if key not in known:
            raise ProblemError(f"unknown key {key!r} in the plan (allowed: "
                               f"{', '.join(sorted(known))})", str(key))
    for key in ("problem", "objective_name", "status"):
        if key not in d:
            raise ProblemError(f"missing required key {key!r} in the plan")
    try:
        status = Status(d["status"])
    except (ValueError, TypeError):
        raise ProblemError(f"{d['status']!r} is not one of "
                           f"{', '.join(s.value for s in Status)}", "status") from None
    args: dict[str, Any] = {"problem": _text(d["problem"], "problem", optional=False),
                            "objective_name": _text(d["objective_name"], "objective_name",
                                                    optional=False),
                            "status": status}
    for key in _NUMBER_FIELDS:
        if key in d:
            args[key] = _number(d[key], key, optional=key not in ("build_seconds",
                                                                   "solve_seconds"))
    for key in _TEXT_FIELDS:
        if key in d:
            args[key] = _text(d[key], key)
    if "sense" in d:
        if d["sense"] not in ("min", "max"):
            raise ProblemError(f"must be min or max, got {d['sense']!r}", "sense")
        args["sense"] = d["sense"]
    if "method" in d:
        args["method"] = _text(d["method"], "method", optional=False)
    assignment = _mapping(d.get("assignment"), "assignment")
    args["assignment"] = {_text(t, f"assignment.{t}", optional=False):
                          _text(dev, f"assignment.{t}", optional=False)
                          for t, dev in assignment.items()}
    args["fractions"] = _table(d.get("fractions"), "fractions")
    args["amounts"] = _table(d.get("amounts"), "amounts")
    args["schedule"] = _slots(d.get("schedule") or [])
    args["placements"] = _placements(d.get("placements"))
    unplaced = d.get("unplaced") or []
    if not isinstance(unplaced, list):
        raise ProblemError(f"must be a list of task names, got {type(unplaced).__name__}",
                           "unplaced")
    args["unplaced"] = tuple(_text(t, f"unplaced[{k}]", optional=False)
                             for k, t in enumerate(unplaced))
    return args


def _slots(schedule: Any) -> tuple[Slot, ...]:
    if not isinstance(schedule, list):
        raise ProblemError(f"must be a list of slots, got {type(schedule).__name__}", "schedule")
    slots = []
    for k, s in enumerate(schedule):
        sub = f"schedule[{k}]"
        s = _mapping(s, sub)
        extra = set(s) - {"task", "device", "start", "end", "fraction"}
        if extra:
            raise ProblemError(f"unknown key {sorted(extra)[0]!r} in a slot (allowed: task, "
                               "device, start, end, fraction)", sub)
        slots.append(Slot(task=_text(s.get("task"), f"{sub}.task", optional=False),
                          device=_text(s.get("device"), f"{sub}.device", optional=False),
                          start=_number(s.get("start"), f"{sub}.start", optional=False),
                          end=_number(s.get("end"), f"{sub}.end", optional=False),
                          fraction=_number(s.get("fraction", 1.0), f"{sub}.fraction",
                                           optional=False)))
    return tuple(slots)


def _placements(value: Any) -> dict[str, Placement]:
    out = {}
    for task, p in _mapping(value, "placements").items():
        sub = f"placements.{task}"
        p = _mapping(p, sub)
        extra = set(p) - {"node", "gpus", "gpu_share"}
        if extra:
            raise ProblemError(f"unknown key {sorted(extra)[0]!r} in a placement (allowed: "
                               "node, gpus, gpu_share)", sub)
        gpus = p.get("gpus") or []
        if not isinstance(gpus, list) or any(isinstance(g, bool) or not isinstance(g, int)
                                             for g in gpus):
            raise ProblemError(f"must be a list of GPU indices, got {gpus!r}", f"{sub}.gpus")
        out[_text(task, sub, optional=False)] = Placement(
            node=_text(p.get("node"), f"{sub}.node", optional=False), gpus=tuple(gpus),
            gpu_share=_number(p.get("gpu_share", 0.0), f"{sub}.gpu_share", optional=False))
    return out


def sequence(problem: Problem, assignment: Mapping[str, str]) -> tuple[Slot, ...]:
    """Order each device's tasks and time them back to back from 0.

    Order: earliest deadline first (which meets every deadline whenever the device's load
    allows it), then shortest processing time (which minimises mean completion), then name.
    """
    by_device: dict[str, list[int]] = {}
    for task, device in assignment.items():
        by_device.setdefault(device, []).append(problem.task_index[task])
    slots = []
    for device in problem.devices:
        tasks = by_device.get(device)
        if not tasks:
            continue
        pool = problem.pool_index_of(device)
        dur = {i: float(problem.ptime[i, pool]) for i in tasks}
        tasks.sort(key=lambda i: (problem.tasks[i].deadline if problem.tasks[i].deadline
                                  is not None else np.inf, dur[i], problem.tasks[i].name))
        t = 0.0
        for i in tasks:
            slots.append(Slot(problem.tasks[i].name, device, t, t + dur[i]))
            t += dur[i]
    return tuple(slots)


def split_schedule(problem: Problem, fractions: Mapping[str, Mapping[str, float]]) -> tuple[Slot, ...]:
    """Back-to-back slots for divisible tasks, each device in task order."""
    slots = []
    for device in problem.devices:
        pool = problem.pool_index_of(device)
        t = 0.0
        for task in problem.tasks:
            f = fractions.get(task.name, {}).get(device, 0.0)
            if f > 0:
                dur = f * float(problem.ptime[problem.task_index[task.name], pool])
                slots.append(Slot(task.name, device, t, t + dur, f))
                t += dur
    return tuple(slots)
