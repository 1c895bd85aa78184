"""Formulations, one module per objective. Each has ``build(problem) -> Built``: a
:class:`~allocator.model.sparse.LinearModel` and a decoder back to Plan fields. None imports a solver.
"""

from __future__ import annotations

from types import ModuleType

from . import cost, load_balance, makespan, utilization, weighted_shortfall
from ..model.assignment import Built

FORMULATIONS: dict[str, ModuleType] = {m.name: m for m in
                                       (makespan, cost, weighted_shortfall, utilization,
                                        load_balance)}

__all__ = ["FORMULATIONS", "Built"]
