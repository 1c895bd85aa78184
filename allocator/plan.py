"""Plans: what runs where and when, how good that is, and how sure we are.

A Plan is a value: it records the assignment (task -> device), the per-device schedule, the
status with objective, bound and gap, and for the amount-based objectives the amounts
allocated. Metrics are recomputed from the assignment by :func:`allocator.evaluate`.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

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

    def metrics(self, problem: Problem):
        from .evaluate import evaluate
        return evaluate(problem, self)

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["gap"] = self.gap
        d["schedule"] = [asdict(s) for s in self.schedule]
        d["assignment"] = dict(self.assignment)
        d["fractions"] = {k: dict(v) for k, v in self.fractions.items()}
        d["amounts"] = {k: dict(v) for k, v in self.amounts.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Plan":
        d = dict(d)
        d.pop("gap", None)
        d["status"] = Status(d["status"])
        d["schedule"] = tuple(Slot(**s) for s in d.get("schedule", ()))
        return cls(**d)

    def save(self, path: str | Path) -> None:
        """Write JSON (``.json``) or YAML (``.yaml``/``.yml``)."""
        path = Path(path)
        if path.suffix in (".yaml", ".yml"):
            path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False), encoding="utf-8")
        else:
            path.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Plan":
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
        return cls.from_dict(data)


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
