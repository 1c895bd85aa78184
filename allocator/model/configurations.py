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
are filled, :func:`pricing`. For any pi >= 0,

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
    minimising minus the reward; ``None`` when no type with a positive reward fits.

    Columns: a[t], the node's tasks of each useful type; w[q], how many of its GPUs hold
    *fill* q, a most-full set of share values that fits one GPU (:func:`fills`). Rows: the
    node's cores, memory and named resources; its GPUs (gangs' whole GPUs plus the filled
    ones); and per share value, the tasks within the slots the fills give. Shares of equal
    value are interchangeable on a GPU, so this is exact, and it has no symmetric copies of
    one GPU's contents (which slow a GPU-by-GPU model down by orders of magnitude)."""
    useful = np.flatnonzero(types.fits[:, g] & (reward > 1e-9))
    n_gpus = int(types.gpus[g])
    if n_gpus == 0:
        useful = useful[(types.gang[useful] == 0) & (types.share[useful] == 0)]
    if useful.size == 0:
        return None
    share, gang = types.share[useful], types.gang[useful].astype(float)
    most = _per_node(types, g, useful)
    values, value_of = np.unique(share, return_inverse=True)
    shared = values > 0
    caps = [int(min(np.floor(1 / v + 1e-9), most[value_of == k].sum()))
            for k, v in enumerate(values) if v > 0]
    fill = fills(values[shared], caps) if shared.any() else np.zeros((0, 0))
    n_a, n_w = useful.size, fill.shape[0]
    n = n_a + n_w
    rows = RowBuilder(n)
    need = types.need[useful]
    rows.add(sp.hstack([sp.csr_array(need.T), sp.csr_array((need.shape[1], n_w))]).tocsr(),
             -np.inf, types.capacity[g], lambda: ["resources"] * need.shape[1])
    if n_gpus:
        rows.add(sp.csr_array(np.r_[gang, np.ones(n_w)][None, :]), -np.inf, float(n_gpus),
                 lambda: ["gpus"])
    if n_w:
        member = (value_of[None, :] == np.flatnonzero(shared)[:, None]).astype(float)
        rows.add(sp.csr_array(np.hstack([member, -fill.T])), -np.inf, 0.0,
                 lambda: [f"slots[{v:g}]" for v in values[shared]])
    model = rows.build(-np.r_[reward[useful], np.zeros(n_w)], np.zeros(n),
                       np.r_[most, np.full(n_w, float(n_gpus))], np.ones(n, bool))

    def decode(x: np.ndarray) -> Pattern:
        a, w = np.round(x[:n_a]).astype(int), np.round(x[n_a:]).astype(int)
        slots, gpu = [], 0
        for t, k in zip(useful[gang > 0], a[gang > 0]):
            for _ in range(k):
                slots.append((int(t), tuple(range(gpu, gpu + int(types.gang[t])))))
                gpu += int(types.gang[t])
        free: list[list[int]] = [[] for _ in range(fill.shape[1])]
        for q in np.repeat(np.arange(n_w), w):              # one GPU per fill used
            for v, k in enumerate(fill[q].astype(int)):
                free[v] += [gpu] * k
            gpu += 1
        column = np.cumsum(shared) - 1                       # share value -> fill column
        for t, k, v, whole in zip(useful, a, value_of, gang):
            if shared[v]:
                slots += [(int(t), (free[column[v]].pop(0),)) for _ in range(k)]
            elif whole == 0:
                slots += [(int(t), ())] * k
        return Pattern(g, tuple(slots))
    return model, decode


def _per_node(types: Types, g: int, useful: np.ndarray) -> np.ndarray:
    """At most how many tasks of each useful type one node of ``g`` holds on its own."""
    need, offer = types.need[useful], types.capacity[g]
    with np.errstate(divide="ignore", invalid="ignore"):
        most = np.where(need > 0, np.floor(offer / need + 1e-9), np.inf).min(axis=1)
    most = np.minimum(most, types.count[useful])
    gang, share, n_gpus = types.gang[useful], types.share[useful], types.gpus[g]
    most = np.where(gang > 0, np.minimum(most, n_gpus // np.maximum(gang, 1)), most)
    return np.where(share > 0, np.minimum(most, n_gpus * np.floor(1 / np.where(
        share > 0, share, 1) + 1e-9)), most)


def fills(values: np.ndarray, caps: list[int]) -> np.ndarray:
    """The most-full ways to share one GPU: counts of each of ``values`` (at most ``caps``)
    whose sum is at most 1 and to which no value within its cap can be added. Every set of
    shares that fits one GPU lies within one of them."""
    out: list[tuple[int, ...]] = []
    counts = [0] * len(values)

    def extend(i: int, left: float) -> None:
        if i < 0:
            if all(counts[j] >= caps[j] or v > left + 1e-9 for j, v in enumerate(values)):
                out.append(tuple(counts))
            return
        for k in range(min(int(np.floor(left / values[i] + 1e-9)), caps[i]), -1, -1):
            counts[i] = k
            extend(i - 1, left - k * values[i])
        counts[i] = 0
    extend(len(values) - 1, 1.0)
    return np.array(out, dtype=float).reshape(len(out), len(values))


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
