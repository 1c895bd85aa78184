"""Pricing for the configuration model (:mod:`allocator.model.configurations`): the most
rewarding contents of one node of a group, as a small exact MIP."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .configurations import Pattern, Types
from .sparse import LinearModel, RowBuilder

FILLS_MOST = 20_000      # fills enumerated at most; past it, the GPU-by-GPU model


def pricing(types: Types, g: int, reward: np.ndarray) -> tuple[LinearModel, callable] | None:
    """The best pattern of group ``g`` for per-task ``reward`` (v_t - pi_t), as a MIP
    minimising minus the reward; ``None`` when no type with a positive reward fits.

    Columns: a[t], the node's tasks of each useful type; w[q], how many of its GPUs hold
    *fill* q, a most-full set of share values that fits one GPU (:func:`fills`). Rows: the
    node's cores, memory and named resources; its GPUs (gangs' whole GPUs plus the filled
    ones); and per share value, the tasks within the slots the fills give. Shares of equal
    value are interchangeable on a GPU, so this is exact, and it has no symmetric copies of
    one GPU's contents (which slow a GPU-by-GPU model down by orders of magnitude). Beyond
    FILLS_MOST fills (many distinct share values), the GPU-by-GPU model is used instead."""
    useful = np.flatnonzero(types.fits[:, g] & (reward > 1e-9))
    n_gpus = int(types.gpus[g])
    if n_gpus == 0:
        useful = useful[(types.gang[useful] == 0) & (types.share[useful] == 0)]
    if useful.size == 0:
        return None
    most = _per_node(types, g, useful)
    values, value_of = np.unique(types.share[useful], return_inverse=True)
    shared = values > 0
    caps = [int(min(np.floor(1 / v + 1e-9), most[value_of == k].sum()))
            for k, v in enumerate(values) if v > 0]
    fill = fills(values[shared], caps, FILLS_MOST) if shared.any() else np.zeros((0, 0))
    if fill is None:
        return _by_gpu(types, g, reward, useful)
    return _by_fills(types, g, reward, useful, most, fill, values, value_of)


def _by_fills(types: Types, g: int, reward: np.ndarray, useful: np.ndarray,
              most: np.ndarray, fill: np.ndarray, values: np.ndarray,
              value_of: np.ndarray) -> tuple[LinearModel, callable]:
    """The fill model (see :func:`pricing`); ``values``: the useful types' distinct shares
    (0 first when some take none), ``value_of``: each type's among them."""
    n_gpus = int(types.gpus[g])
    gang = types.gang[useful].astype(float)
    shared = values > 0
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


def fills(values: np.ndarray, caps: list[int], most: int | None = None) -> np.ndarray | None:
    """The most-full ways to share one GPU: counts of each of ``values`` (at most ``caps``)
    whose sum is at most 1 and to which no value within its cap can be added. Every set of
    shares that fits one GPU lies within one of them. ``None`` past ``most`` of them."""
    out: list[tuple[int, ...]] = []
    counts = [0] * len(values)

    def extend(i: int, left: float) -> None:
        if most is not None and len(out) > most:
            return
        if i < 0:
            if all(counts[j] >= caps[j] or v > left + 1e-9 for j, v in enumerate(values)):
                out.append(tuple(counts))
            return
        for k in range(min(int(np.floor(left / values[i] + 1e-9)), caps[i]), -1, -1):
            counts[i] = k
            extend(i - 1, left - k * values[i])
        counts[i] = 0
    extend(len(values) - 1, 1.0)
    if most is not None and len(out) > most:
        return None
    return np.array(out, dtype=float).reshape(len(out), len(values))


def _by_gpu(types: Types, g: int, reward: np.ndarray, useful: np.ndarray):
    """The same MIP GPU by GPU: b[t, j] tasks of shared type t on GPU j, z[j] when GPU j is
    held whole, the GPUs ordered by load (they are identical). Exact, but its symmetric
    copies make it slow to prove; kept for share values too many to enumerate fills for."""
    n_gpus = int(types.gpus[g])
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
    rows.add(sp.csr_array(need.T), -np.inf, types.capacity[g],
             lambda: ["resources"] * need.shape[1])
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
