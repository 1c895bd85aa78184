"""allocator: decide which device runs which ML task, and prove how good the choice is.

>>> import allocator
>>> problem = allocator.load("problems/small/two-devices.yaml")
>>> plan = allocator.solve(problem)
>>> allocator.verify(problem, plan)
[]

The names below are imported on first use, so ``import allocator`` (and the command line's
quick refusals of bad input) do not pay for the solvers, SciPy or the executor.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "AllocatorError": "errors", "ProblemError": "errors", "InfeasibleError": "domain.checks",
    "Comparison": "analysis.compare", "compare": "analysis.compare",
    "Metrics": "objectives.metrics", "evaluate": "objectives.evaluation",
    "ExecutionReport": "executor", "check_report": "executor", "estimate_memory": "executor",
    "execute": "executor", "profile": "executor", "register_workload": "executor",
    "dump": "io.problem_writer", "from_dict": "io.problem_files", "load": "io.problem_files",
    "loads": "io.problem_files", "to_dict": "io.problem_writer",
    "Placement": "domain.plan", "Plan": "domain.plan", "Slot": "domain.plan",
    "Status": "domain.plan",
    "Pool": "domain.problem", "Problem": "domain.problem", "Task": "domain.problem",
    "load_plan": "io.plan_files", "save_plan": "io.plan_files",
    "solve": "solver.pipeline", "verify": "analysis.verify",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'allocator' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
