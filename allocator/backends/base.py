"""What every backend takes and returns. A backend knows LinearModels, never tasks."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class Termination(str, enum.Enum):
    OPTIMAL = "optimal"                  # proven within the requested gap
    FEASIBLE = "feasible"                # a limit stopped the solver; x is the incumbent
    NO_SOLUTION = "no_solution"          # a limit stopped the solver before any incumbent
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float | None = None      # seconds
    mip_gap: float = 1e-6                # relative
    threads: int | None = None
    verbose: bool = False


@dataclass(frozen=True)
class RawResult:
    termination: Termination
    x: np.ndarray | None
    objective: float | None
    bound: float | None                  # proven lower bound, when the solver reports one
    seconds: float
    solver: str
    message: str = ""
