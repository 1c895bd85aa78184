"""What every backend takes and returns. A backend knows LinearModels, never tasks."""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Protocol

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


_stdout_lock = threading.Lock()
_stdout_users = 0
_stdout_saved: int | None = None


@contextlib.contextmanager
def solver_chatter_hidden(hide: bool = True) -> Iterator[None]:
    """Keep what a solver library writes straight to file descriptor 1 (HiGHS prints its
    banner there when an instance is made, whatever its options) off stdout, which is for
    results (``allocator solve --json | jq``). Reference-counted, so solves running in
    threads at once restore stdout exactly once, when the last one leaves."""
    global _stdout_users, _stdout_saved
    if not hide:
        yield
        return
    with _stdout_lock:
        hidden = True
        if _stdout_users == 0:
            try:
                sys.stdout.flush()
                _stdout_saved = os.dup(1)
            except (OSError, ValueError):        # no stdout at all: nothing to keep clean
                hidden = False
            else:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.close(devnull)
        if hidden:
            _stdout_users += 1
    try:
        yield
    finally:
        if hidden:
            with _stdout_lock:
                _stdout_users -= 1
                if _stdout_users == 0 and _stdout_saved is not None:
                    os.dup2(_stdout_saved, 1)
                    os.close(_stdout_saved)
                    _stdout_saved = None


@functools.cache
def importable(module: str) -> bool:
    """``module`` can be imported here (without importing it). Asked once per process: the
    search costs more than the small LPs solved by the thousand in a simulation."""
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
    presolve: bool = True                    # False: skip presolve (backends that can; for
                                             # small models solved many times over)


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
    duals: np.ndarray | None = None      # an LP's row duals, from backends that give them


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do beyond solving a model; the solver asks these, never probes."""

    warm_start: bool            # starts from SolveOptions.warm_start (a feasible x)
    progress: bool              # reports incumbent and bound while it runs
    threads: bool               # honours SolveOptions.threads
    column_generation: bool     # relax_by_columns: an LP over a few columns, priced out
    duals: bool = False         # an optimal LP's row duals in RawResult.duals


class Backend(Protocol):
    """A backend: a module with these names (``backends/highs.py`` is one)."""

    name: str
    CAPABILITIES: Capabilities
    STATUS_MAP: Mapping          # its solver's statuses -> Termination, in one table

    def available(self) -> bool: ...

    def solvers(self) -> list[str]: ...

    def solve(self, model, options: SolveOptions, solver: str | None = None) -> RawResult: ...
