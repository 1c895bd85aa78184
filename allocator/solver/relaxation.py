"""The LP relaxation of a built model: whole, or by column generation from each task's
fastest columns when the model is large (docs/formulations.md)."""

from __future__ import annotations

import numpy as np

from ..backends import SolveOptions
from ..model.sparse import rank_in_group
from ..model.assignment import Built


SIFT_COLUMNS = 50_000       # columns from which the LP relaxation goes by column generation

SIFT_START = 2              # each task's fastest columns it starts from (with the warm start's)



def relaxation(built: Built, engine, solver: str | None, options: SolveOptions,
               x0: np.ndarray | None = None):
    """The LP relaxation of ``built.model``. With 50,000 columns or more, where the backend
    offers it (``highs``) and the formulation names each column's task, by column generation:
    from each task's two fastest columns and those of the warm start ``x0``, adding the others
    as they price out, to the same optimum as the whole LP (docs/formulations.md)."""
    model = built.model.relaxed()
    if not by_columns(built, engine):
        return engine.solve(model, options, solver)
    task, seconds = built.task_columns
    group = np.full(model.n_cols, -1)
    group[:task.size] = task
    start = np.zeros(model.n_cols, bool)
    start[:task.size] = rank_in_group(task, seconds) < SIFT_START
    if x0 is not None:
        start |= x0 > 0.5
    return engine.relax_by_columns(model, options, start, group)



def by_columns(built: Built, engine) -> bool:
    """Whether :func:`relaxation` goes by column generation."""
    return engine.CAPABILITIES.column_generation and built.task_columns is not None and \
        built.model.n_cols >= SIFT_COLUMNS
