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
for gangs, shares packed GPU by GPU): a small exact MIP over the node's tasks and how its GPUs
are filled, :func:`allocator.model.pricing.pricing`. For any pi >= 0,

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
    rows, counts, group = _pattern_rows(types, patterns, -np.inf, types.count)
    return rows.build(-(counts @ types.value), np.zeros(len(patterns)), types.nodes[group],
                      np.full(len(patterns), integer))


def rearrangement(types: Types, patterns: list[Pattern], placed: np.ndarray,
                  cost: np.ndarray) -> LinearModel:
    """The placements of the same tasks (``placed[t]`` of each type, exactly) over
    ``patterns``, each group within its nodes, at least total ``cost`` (per pattern: a node's
    cost holding it, less an empty node's)."""
    rows, _, group = _pattern_rows(types, patterns, placed, placed)
    return rows.build(cost, np.zeros(len(patterns)), types.nodes[group],
                      np.ones(len(patterns), bool))


def _pattern_rows(types: Types, patterns: list[Pattern], lo, hi):
    """Rows over pattern counts: each group within its nodes, each type's tasks within
    [lo, hi]; with the patterns' type counts and groups."""
    G, T = types.nodes.size, types.count.size
    counts = np.array([p.counts(T) for p in patterns]).reshape(len(patterns), T)
    group = np.array([p.group for p in patterns], dtype=np.int64)
    n = len(patterns)
    rows = RowBuilder(n)
    rows.add(sp.csr_array((np.ones(n), (group, np.arange(n))), shape=(G, n)), -np.inf,
             types.nodes, lambda: [f"nodes[{g}]" for g in range(G)])
    rows.add(sp.csr_array(counts.T), lo, hi, lambda: [f"tasks[{t}]" for t in range(T)])
    return rows, counts, group


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
