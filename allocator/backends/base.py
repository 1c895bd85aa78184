"""What every backend takes and returns. A backend knows LinearModels, never tasks."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

import numpy as np

# progress(seconds, incumbent or None, bound or None), in the model's own units.
Progress = Callable[[float, "float | None", "float | None"], None]


class Termination(str, enum.Enum):
    OPTIMAL = "optimal"                  # proven within the requested gap
    FEASIBLE = "feasible"                # a limit stopped the solver; x is the incumbent
    NO_SOLUTION = "no_solution"          # a limit stopped the solver before any incumbent
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


def importable(module: str) -> bool:
    """``module`` can be imported here (without importing it)."""
    import importlib.util
    return importlib.util.find_spec(module) is not None


def only_highs(backend: str, solver: str | None) -> None:
    """Refuse a solver name other than HiGHS for a backend that drives HiGHS alone."""
    if solver not in (None, "HiGHS", "highs"):
        from ..errors import AllocatorError
        raise AllocatorError(f"the {backend} backend only drives HiGHS, not {solver!r}; use "
                             f"backend='pulp' to reach other solvers")


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float | None = None      # seconds
    mip_gap: float = 1e-6                # relative
    threads: int | None = None
    verbose: bool = False
    seed: int | None = None
    warm_start: np.ndarray | None = None     # a feasible x to start from (backends that can)
    progress: Progress | None = None         # called while the solver runs (backends that can)


@dataclass(frozen=True)
class RawResult:
    termination: Termination
    x: np.ndarray | None
    objective: float | None
    bound: float | None                  # proven lower bound, when the solver reports one
    seconds: float
    solver: str
    message: str = ""
    warm_started: bool = False           # the backend accepted options.warm_start
