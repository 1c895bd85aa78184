r"""Placement on clusters by configurations (Gilmore-Gomory), over groups of identical nodes
and types of identical tasks.

A *configuration* (pattern) of node group g says what one node of g holds: how many tasks of
each type and on which GPUs. With lambda[g,a] the number of g's nodes that hold pattern a:

    maximise    sum_{g,a} v(a) lambda[g,a]                 v(a) = sum_t v_t a_t
    subject to  sum_a lambda[g,a] <= N_g                   every group (its nodes)
                sum_{g,a} a_t lambda[g,a] <= c_t           every type (its tasks)
                lambda >= 0, integer

Every placement is such a solution (read each node's contents as its pattern), so the LP
relaxation over all patterns bounds every placement. Patterns are found by *pricing*: for
duals pi_t >= 0 of the type rows, the best pattern of group g maximises
sum_t (v_t - pi_t) a_t over what fits on one node (cores, memory, named resources, whole GPUs
for gangs, shares packed GPU by GPU): a small MIP, :func:`pricing`. For any pi >= 0,

    sum_t c_t pi_t + sum_g N_g max(0, P_g(pi))            (P_g: the best pattern's value)

bounds every placement (Lagrangian relaxation of the type rows), with any upper bound on
P_g (the pricing MIP's dual bound) in its place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..domain.problem import Problem
from .sparse import LinearModel, RowBuilder


@dataclass(frozen=True)
class Pattern:
    """What one node of ``group`` holds: ``slots`` as (type, GPU indices) per task."""

    group: int
    slots: tuple[tuple[int, tuple[int, ...]], ...]

    def counts(self, n_types: int) -> np.ndarray:
        return np.bincount([t for t, _ in self.slots], minlength=n_types).astype(float)


@dataclass(frozen=True)
class Types:
    """Per type: count, value, cores, memory, named requests, whole GPUs (gang), share;
    per group: nodes, cores, memory, named resources, GPUs; and which types fit which."""

    count: np.ndarray
    value: np.ndarray
    need: np.ndarray            # type x resource (cores, memory, named requests)
    gang: np.ndarray            # whole GPUs (0 for a share or none)
    share: np.ndarray           # fraction of one GPU (0 for none or whole)
    nodes: np.ndarray
    capacity: np.ndarray        # group x resource
    gpus: np.ndarray
    fits: np.ndarray            # type x group: one node holds one task of the type

    @classmethod
    def of(cls, problem: Problem, first: np.ndarray, count: np.ndarray,
           value: np.ndarray) -> "Types":
        tasks = [problem.tasks[i] for i in first]
        requests = problem.node_requests
        return cls(count.astype(float), value, requests.need[first],
                   np.array([t.gpus if t.gpu_share is None else 0 for t in tasks]),
                   np.array([t.gpu_share or 0.0 for t in tasks]),
                   np.array([p.count for p in problem.pools], dtype=float),
                   requests.offer, np.array([p.gpus for p in problem.pools]),
                   problem.allowed[first])


def master(types: Types, patterns: list[Pattern], integer: bool = False) -> LinearModel:
    """The configuration model over ``patterns`` (minimising minus the placed value); rows:
    the groups, then the types."""
    G, T = types.nodes.size, types.count.size
    counts = np.array([p.counts(T) for p in patterns]).reshape(len(patterns), T)
    group = np.array([p.group for p in patterns], dtype=np.int64)
    n = len(patterns)
    rows = RowBuilder(n)
    rows.add(sp.csr_array((np.ones(n), (group, np.arange(n))), shape=(G, n)), -np.inf,
             types.nodes, lambda: [f"nodes[{g}]" for g in range(G)])
    rows.add(sp.csr_array(counts.T), -np.inf, types.count,
             lambda: [f"tasks[{t}]" for t in range(T)])
    return rows.build(-(counts @ types.value), np.zeros(n), types.nodes[group],
                      np.full(n, integer))


def pricing(types: Types, g: int, reward: np.ndarray) -> tuple[LinearModel, callable] | None:
    """The best pattern of group ``g`` for per-task ``reward`` (v_t - pi_t), as a MIP
    minimising minus the reward; ``None`` when no type with a positive reward fits."""
    useful = np.flatnonzero(types.fits[:, g] & (reward > 1e-9))
    n_gpus = int(types.gpus[g])
    if n_gpus == 0:
        useful = useful[(types.gang[useful] == 0) & (types.share[useful] == 0)]
    if useful.size == 0:
        return None
    whole = useful[types.share[useful] == 0]
    shared = useful[types.share[useful] > 0]
    gang_gpus = bool((types.gang[whole] > 0).any())
    # Columns: a[t] for whole-or-none types; b[t, j] for shared types on GPU j; z[j].
    n_a, n_b, n_z = whole.size, shared.size * n_gpus, n_gpus if gang_gpus else 0
    n = n_a + n_b + n_z
    col_type = np.r_[whole, np.repeat(shared, n_gpus)]
    col_gpu = np.r_[np.full(n_a, -1), np.tile(np.arange(n_gpus), shared.size)]
    place = np.arange(n_a + n_b)
    rows = RowBuilder(n)
    need = types.need[col_type]
    rows.add(sp.csr_array(need.T), -np.inf, types.capacity[g], lambda: ["resources"] * need.shape[1])
    z = n_a + n_b + np.arange(n_z)
    gang = types.gang[col_type[:n_a]].astype(float)
    if gang.any():
        rows.add(sp.csr_array((np.r_[gang, -np.ones(n_z)], (np.zeros(n_a + n_z, dtype=int),
                                                            np.r_[np.arange(n_a), z])),
                              shape=(1, n)), -np.inf if not n_z else 0.0, 0.0, lambda: ["gangs"])
    if shared.size:                               # a shared type's tasks over all GPUs
        per = np.arange(n_a, n_a + n_b)
        rows.add(sp.csr_array((np.ones(n_b), (np.repeat(np.arange(shared.size), n_gpus), per)),
                              shape=(shared.size, n)), -np.inf, types.count[shared],
                 lambda: [f"count[{t}]" for t in shared])
    load = _gpu_loads(types, col_type, col_gpu, z, n_gpus, n)
    if load is not None:
        rows.add(load, -np.inf, 1.0, lambda: [f"gpu[{j}]" for j in range(n_gpus)])
        # GPUs in order of decreasing load (identical GPUs: symmetry).
        rows.add(load[:-1] - load[1:], 0.0, np.inf, lambda: ["order"] * (n_gpus - 1))
    hi = np.r_[types.count[col_type[:n_a]],
               np.minimum(types.count[col_type[n_a:]],
                          np.floor(1 / np.maximum(types.share[col_type[n_a:]], 1e-9) + 1e-9)),
               np.ones(n_z)]
    model = rows.build(-np.r_[reward[col_type], np.zeros(n_z)], np.zeros(n), hi,
                       np.ones(n, bool))

    def decode(x: np.ndarray) -> Pattern:
        x = np.round(x)
        free = [j for j in range(n_gpus) if n_z and x[z[j]] > 0.5]
        slots = []
        for k in place[x[place] > 0.5]:
            t, j = int(col_type[k]), int(col_gpu[k])
            for _ in range(int(x[k])):
                if j >= 0:
                    slots.append((t, (j,)))
                else:
                    taken, free[:] = tuple(free[:types.gang[t]]), free[types.gang[t]:]
                    slots.append((t, taken))
        return Pattern(g, tuple(slots))
    return model, decode


def _gpu_loads(types: Types, col_type, col_gpu, z, n_gpus: int, n: int):
    """GPU x column: each GPU's load (shares on it, and 1 when held whole), or None."""
    if n_gpus == 0:
        return None
    on = np.flatnonzero(col_gpu >= 0)
    rows = np.r_[col_gpu[on], np.arange(z.size)]
    cols = np.r_[on, z]
    vals = np.r_[types.share[col_type[on]], np.ones(z.size)]
    if cols.size == 0:
        return None
    return sp.csr_array((vals, (rows, cols)), shape=(n_gpus, n))


def aggregate(types: Types) -> LinearModel:
    """A quick relaxation: y[t,g] tasks of type t on group g, within the group's totals of
    cores, memory, resources and GPUs (not node by node), each type within its count. Its
    LP value bounds every placement (any placement's totals satisfy these rows)."""
    ti, gi = np.nonzero(types.fits)
    n = ti.size
    G, T = types.nodes.size, types.count.size
    rows = RowBuilder(n)
    cols = np.arange(n)
    rows.add(sp.csr_array((np.ones(n), (ti, cols)), shape=(T, n)), -np.inf, types.count,
             lambda: [f"tasks[{t}]" for t in range(T)])
    for r in range(types.need.shape[1]):
        rows.add(sp.csr_array((types.need[ti, r], (gi, cols)), shape=(G, n)), -np.inf,
                 types.nodes * types.capacity[:, r], lambda: [f"total[{g}]" for g in range(G)])
    gpus = np.where(types.share > 0, types.share, types.gang)[ti]
    rows.add(sp.csr_array((gpus, (gi, cols)), shape=(G, n)), -np.inf, types.nodes * types.gpus,
             lambda: [f"gpus[{g}]" for g in range(G)])
    return rows.build(-types.value[ti], np.zeros(n), np.full(n, np.inf), np.zeros(n, bool))
