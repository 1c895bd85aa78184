"""Pieces shared by the formulations: the task x device assignment variables and the
constraint groups that more than one objective uses. Everything is vectorised."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Mapping

import numpy as np
import scipy.sparse as sp

from .sparse import LinearModel, RowBuilder
from ..domain.problem import Problem


@dataclass(frozen=True)
class Built:
    """A formulation's output: the model and how to read its solution back.

    ``decode(x)`` returns Plan fields (``assignment``, ``schedule``, ``amounts``, ...), and may
    return ``objective`` and ``bound`` when the model's value is not the objective itself.
    ``encode(assignment)``, where given, is the inverse: a feasible x for a task -> device
    assignment (a heuristic's plan), to warm-start the solver. ``integral(x)``, where given,
    reads a relaxed solution's whole placements: {task index: device index} for the tasks the
    LP puts on one device entirely (the start of an LP-guided plan). ``pairs``, where given,
    says which task and device each of the first columns is (for large-neighbourhood search).
    ``task_columns``, where given, is the task each of the first columns places and its
    processing time: the LP relaxation of a large model may start from each task's fastest
    columns and add the others as they price out (column generation).
    """

    model: LinearModel
    decode: Callable[[np.ndarray], dict[str, Any]]
    sense: str = "min"                  # the objective's sense as the user sees it
    scale: float = 1.0                  # user objective = scale * model objective
    encode: Callable[[Mapping[str, str]], np.ndarray] | None = None
    integral: Callable[[np.ndarray], dict[int, int]] | None = None
    pairs: Pairs | None = None        # the task x device pairs behind the first columns
    task_columns: tuple[np.ndarray, np.ndarray] | None = None   # (task, seconds) of the first


@dataclass(frozen=True)
class Pairs:
    """The eligible (task, device) pairs: column j of x is task ``ti[j]`` on device ``di[j]``."""

    ti: np.ndarray
    di: np.ndarray
    p: np.ndarray          # processing time of the pair, seconds
    n_tasks: int
    n_devices: int

    @property
    def n(self) -> int:
        return self.ti.shape[0]

    @cached_property
    def device_major(self) -> tuple[np.ndarray, np.ndarray]:
        """(indptr, order): the pairs grouped by device, in task order within each; device d's
        pairs are ``order[indptr[d]:indptr[d + 1]]``."""
        at = np.full((self.n_devices, self.n_tasks), -1,
                     dtype=np.int32 if self.n < 2 ** 31 else np.int64)
        at[self.di, self.ti] = np.arange(self.n)
        at = at.ravel()
        order = at[at >= 0]
        return np.r_[0, np.cumsum(np.bincount(self.di, minlength=self.n_devices))], order

    def by_device(self, values=None) -> sp.csr_array:
        """Matrix with one row per device: ``values`` (default the times) at its pairs."""
        v = self.p if values is None else values
        return sp.csr_array((v, (self.di, np.arange(self.n))), shape=(self.n_devices, self.n))


def pairs(problem: Problem, keep: np.ndarray | None = None) -> Pairs:
    """The eligible pairs; with ``keep`` (task x pool), only those it marks as well (the
    candidates of a model too large to write in full: allocator.solver.restriction)."""
    allowed = problem.eligible if keep is None else problem.eligible & keep
    elig = allowed[:, problem.device_pool]                    # task x device
    ti, di = np.nonzero(elig)
    p = problem.ptime[ti, problem.device_pool[di]]
    return Pairs(ti, di, p, len(problem.tasks), len(problem.devices))


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + l)`` over the pairs of ``starts`` and ``lengths``."""
    before = np.cumsum(lengths) - lengths
    return np.repeat(starts - before, lengths) + np.arange(lengths.sum())


def device_rows(P: Pairs, devices: np.ndarray, values=None):
    """Compressed rows (indptr, columns, values) of "sum of ``values`` (default the times)
    over device ``devices[k]``'s pairs", row k for each k; zero values are left out."""
    indptr, order = P.device_major
    lengths = np.diff(indptr)[devices]
    cols = order[ranges(indptr[devices], lengths)]
    v = (P.p if values is None else values)[cols]
    if not v.all():
        whole = v != 0
        lengths = np.bincount(np.repeat(np.arange(len(devices)), lengths)[whole],
                              minlength=len(devices))
        cols, v = cols[whole], v[whole]
    return np.r_[0, np.cumsum(lengths)], cols, v


def add_assignment_rows(rows: RowBuilder, problem: Problem, P: Pairs) -> None:
    # Each task is assigned to exactly one device (or split over devices, summing to 1).
    # The pairs come task by task, so the rows are the columns in order.
    indptr = np.r_[0, np.cumsum(np.bincount(P.ti, minlength=P.n_tasks))]
    rows.add_csr(indptr, np.arange(P.n), np.ones(P.n), 1.0, 1.0,
                 lambda: [f"assign[{t.name}]" for t in problem.tasks])


def add_load_rows(rows: RowBuilder, problem: Problem, P: Pairs, column: int) -> None:
    """Every device's load is at most the variable in ``column`` (the makespan C)."""
    m = P.n_devices
    indptr, cols, v = device_rows(P, np.arange(m))
    indptr = indptr + np.arange(m + 1)               # one more entry per row: -1 for C
    last = indptr[1:] - 1
    body = np.ones(indptr[-1], bool)
    body[last] = False
    idx, val = np.empty(indptr[-1], cols.dtype), np.empty(indptr[-1])
    idx[body], val[body] = cols, v
    idx[last], val[last] = column, -1.0
    rows.add_csr(indptr, idx, val, -np.inf, 0.0, lambda: [f"load[{d}]" for d in problem.devices])


def add_deadline_rows(rows: RowBuilder, problem: Problem, P: Pairs) -> None:
    """Jackson's condition: with every task released at 0, a device meets all deadlines (run in
    earliest-deadline order) iff for each deadline D the work due by D fits in [0, D]."""
    deadlines = np.array([t.deadline if t.deadline is not None else np.inf for t in problem.tasks])
    due = deadlines[P.ti]
    for D in np.unique(deadlines[np.isfinite(deadlines)]):
        due_work = np.where(due <= D, P.p, 0.0)
        keep = np.unique(P.di[due_work != 0])           # devices with work due by D
        # Work due by D on each device fits before D.
        rows.add_csr(*device_rows(P, keep, due_work), -np.inf, float(D),
                     lambda D=D, keep=keep: [f"deadline[{problem.devices[d]},{D:g}s]" for d in keep])


def add_horizon_rows(rows: RowBuilder, problem: Problem, P: Pairs) -> None:
    """Every device's load fits in its horizon (the pool's, else the problem's), where finite."""
    h = problem.device_horizon
    keep = np.flatnonzero(np.isfinite(h))
    rows.add_csr(*device_rows(P, keep), -np.inf, h[keep],
                 lambda: [f"horizon[{problem.devices[d]}]" for d in keep])


def add_symmetry_rows(rows: RowBuilder, problem: Problem, P: Pairs) -> None:
    """Devices of one pool are interchangeable: order their loads (valid for every objective
    whose constraints treat devices of a pool alike), which removes equivalent solutions."""
    first = np.r_[0, np.cumsum([p.count for p in problem.pools])[:-1]]
    pairs_ = [(d, d + 1) for f, p in zip(first, problem.pools) for d in range(f, f + p.count - 1)]
    if not pairs_:
        return
    # Row k: device a[k, 0]'s load (+p), then device a[k, 1]'s (-p).
    a = np.array(pairs_)
    indptr, order = P.device_major
    lengths = np.diff(indptr)[a]
    cols = order[ranges(indptr[a].ravel(), lengths.ravel())]
    sign = np.repeat(np.tile([1.0, -1.0], len(a)), lengths.ravel())
    # Within a pool, device k carries at least as much load as device k+1.
    rows.add_csr(np.r_[0, np.cumsum(lengths.sum(axis=1))], cols, sign * P.p[cols], 0.0, np.inf,
                 lambda: [f"symmetry[{problem.devices[i]}>={problem.devices[j]}]" for i, j in pairs_])


def largest_per_task(ti: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each task in ``ti``, the column holding its largest value (robust to a 0/1
    solution that came back as 0.9999 and 0.0001)."""
    order = np.lexsort((-values, ti))               # per task, largest value first
    return order[np.r_[True, ti[order][1:] != ti[order][:-1]]]


def decode_assignment(problem: Problem, P: Pairs, x: np.ndarray) -> dict[str, str]:
    """Task -> device from a 0/1 solution (the largest entry of each task, to be robust)."""
    first = largest_per_task(P.ti, x[:P.n])
    return {problem.tasks[P.ti[j]].name: problem.devices[P.di[j]] for j in first}


def integral_pairs(P: Pairs, x: np.ndarray, tol: float = 1e-6) -> dict[int, int]:
    """{task: device} for the pairs a relaxed solution sets to 1 (within ``tol``)."""
    whole = np.flatnonzero(x[:P.n] >= 1 - tol)
    return {int(P.ti[j]): int(P.di[j]) for j in whole}


def encode_assignment(problem: Problem, P: Pairs, assignment: Mapping[str, str]) -> np.ndarray:
    """0/1 pair values for an assignment, its devices relabelled within each pool so that loads
    do not increase (as the symmetry rows require; devices of a pool are interchangeable).

    Raises ValueError when a task's device is not among the model's columns (a model over
    candidate pairs only, and a plan made without them)."""
    n = len(problem.tasks)
    dev = np.array([problem.device_index[assignment[t.name]] for t in problem.tasks])
    load = np.bincount(dev, weights=problem.ptime[np.arange(n), problem.device_pool[dev]],
                       minlength=P.n_devices)
    relabel = np.empty(P.n_devices, dtype=int)
    first = 0
    for pool in problem.pools:
        ids = np.arange(first, first + pool.count)
        relabel[ids[np.argsort(-load[ids], kind="stable")]] = ids
        first += pool.count
    x = (relabel[dev][P.ti] == P.di).astype(float)
    covered = np.bincount(P.ti, weights=x, minlength=n)
    if not np.all(covered == 1):
        missing = problem.tasks[int(np.flatnonzero(covered != 1)[0])].name
        raise ValueError(f"task {missing!r} is on a device the model has no column for")
    return x


def pair_names(problem: Problem, P: Pairs) -> Callable[[], list[str]]:
    return lambda: [f"x[{problem.tasks[i].name},{problem.devices[d]}]"
                    for i, d in zip(P.ti, P.di)]
