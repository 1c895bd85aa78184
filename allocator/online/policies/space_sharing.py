"""Gavel's max-min fairness LP with space sharing (``max_min_fairness_packed``), over classes.

Gavel's formulation has a variable per job and per pair of jobs of the same gang size, on each
pool: the time share of the job alone, or of the two together on the same devices (each at its
rate in the pair). At POP's scale (2,048 jobs) that is about 2.1 million pairs and 6.3 million
variables. Jobs of one class (the same job type, gang and weight) are interchangeable, and the
objective (the smallest normalised throughput of any job) is concave, so averaging any
solution over the permutations of each class loses nothing: there is an optimal solution in
which every job of a class gets the same shares. Written over classes, the LP has a variable
per class and per pair of classes on each pool (a few thousand in all) and the same optimum;
:func:`job_allocation` spreads a class solution evenly back over the jobs and their pairs.

    max z   s.t.   for each class g with n_g jobs:
                     sum_t c[g,t] s[g,t] + sum_{h != g} sum_t a[g|h,t] p[gh,t]
                       + sum_t (a[g|g,t,0] + a[g|g,t,1]) p[gg,t]  >=  n_g z     (value)
                     sum_t s[g,t] + sum_{h != g} sum_t p[gh,t] + 2 sum_t p[gg,t] <= n_g
                                                                                 (time)
                   for each pool t:  sum_g gang s[g,t] + sum_{g<=h} gang p[gh,t] <= count[t]

``s[g,t]``: the total time class g's jobs run alone on t; ``p[gh,t]``: the total time pairs of
a class-g and a class-h job share devices of t. Coefficients are Gavel's: a rate times the
gang, over the job's weight and its rate under an equal split of the cluster. With ``spread``
(the policy's use), a second LP keeps the smallest value and takes, among those allocations,
the one with the most normalised work in all: the first LP's vertex may leave devices or pair
time idle that Gavel's interior-point solver would have spread. Two jobs of one
class sharing devices are taken to run at one rate each (the mean of the pair's two, which
Gavel's measurements always give equal).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ...model.sparse import LinearModel, RowBuilder
from .base import equal_split_rate
from .lp import solve_model


@dataclass(frozen=True)
class ClassAllocation:
    value: float                 # the optimal smallest normalised throughput, z
    group: np.ndarray            # each job's class
    size: np.ndarray             # jobs per class
    alone: np.ndarray            # [class, pool] total time alone
    pairs: np.ndarray            # [p, 2] the two classes of each class pair (first <= second)
    together: np.ndarray         # [p, pool] total time shared
    seconds: float               # the LP's solve time


def classes(rate, gang, weight, kind) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(each job's class, one job of each class, class sizes): jobs with the same kind, gang,
    weight and rates are one class."""
    key = np.c_[kind, gang, weight, rate]
    _, first, group, size = np.unique(key, axis=0, return_index=True, return_inverse=True,
                                      return_counts=True)
    return group.ravel(), first, size


def max_min_packed(rate: np.ndarray, gang: np.ndarray, weight: np.ndarray, counts: np.ndarray,
                   kind: np.ndarray, pair_rate: np.ndarray, spread: bool = False
                   ) -> ClassAllocation:
    """Solve the LP above. ``rate[job, pool]`` (whole gang), ``kind[job]`` its class for
    ``pair_rate[pool, kind, kind, 2]`` (the rates of two sharing; 0: they may not)."""
    group, first, size = classes(rate, gang, weight, kind)
    G, T = len(first), len(counts)
    r, g_gang, g_weight, g_kind = rate[first], gang[first], weight[first], kind[first]
    equal = equal_split_rate(r, counts)
    scale = g_gang / (g_weight * equal)                       # per class: gang / (w prop)
    a, b, both, usable = _class_pairs(g_gang, g_kind, size, pair_rate)
    P = len(a)
    ns, npair = G * T, P * T
    n = ns + npair + 1                                         # s, p, z
    z = n - 1
    s_col = np.arange(ns).reshape(G, T)
    p_col = ns + np.arange(npair).reshape(P, T)
    rows = RowBuilder(n)

    def add(row, col, val, count, low, high, what):
        rows.add(sp.csr_array((val, (row, col)), shape=(count, n)), low, high,
                 lambda: [f"{what}[{k}]" for k in range(count)])

    same = (a == b)[:, None].repeat(T, axis=1)
    gt = np.repeat(np.arange(G), T)
    # value rows: class g's singles, its pairs as first and as second, minus n_g z
    first_val = (both[:, :, 0] * scale[a]).T                   # [pair, pool]
    second_val = (both[:, :, 1] * scale[b]).T
    add(np.r_[gt, np.repeat(a, T), np.repeat(b[~(a == b)], T), np.arange(G)],
        np.r_[s_col.ravel(), p_col.ravel(), p_col[a != b].ravel(), np.full(G, z)],
        np.r_[(r * scale[:, None]).ravel(),
              np.where(same, first_val + second_val, first_val).ravel(),
              second_val[a != b].ravel(), -size.astype(float)],
        G, 0.0, np.inf, "value")
    # time rows: each unit of a same-class pair is time for two of its jobs
    add(np.r_[gt, np.repeat(a, T), np.repeat(b[a != b], T)],
        np.r_[s_col.ravel(), p_col.ravel(), p_col[a != b].ravel()],
        np.r_[np.ones(ns), np.where(same, 2.0, 1.0).ravel(), np.ones(int((a != b).sum()) * T)],
        G, -np.inf, size.astype(float), "time")
    # devices of each pool
    add(np.r_[np.tile(np.arange(T), G), np.tile(np.arange(T), P)],
        np.r_[s_col.ravel(), p_col.ravel()],
        np.r_[np.repeat(g_gang, T).astype(float), np.repeat(g_gang[a], T).astype(float)],
        T, -np.inf, counts.astype(float), "devices")
    col_hi = np.r_[np.where(r > 0, size[:, None], 0).ravel().astype(float),
                   np.where(usable, np.minimum(size[a], size[b])[:, None], 0).ravel(),
                   np.inf]
    cost = np.zeros(n)
    cost[z] = -1.0
    model = rows.build(cost, np.zeros(n), col_hi, np.zeros(n, dtype=bool))
    x, seconds = _solve(model)
    if spread:
        # among the allocations with that smallest value, the most normalised work in all
        floor = model.col_lo.copy()
        floor[z] = x[z] * (1 - 1e-7)
        total = model.A[:G].sum(axis=0)             # the value rows: each column's worth
        total[z] = 0.0
        x, more = _solve(replace(model, c=-total / max(total.max(), 1e-12), col_lo=floor))
        seconds += more
    return ClassAllocation(value=float(x[z]), group=group, size=size,
                           alone=x[:ns].reshape(G, T), pairs=np.c_[a, b],
                           together=x[ns:ns + npair].reshape(P, T), seconds=seconds)


def _solve(model: LinearModel) -> tuple[np.ndarray, float]:
    result = solve_model(model, "space-sharing max-min")
    return result.x, result.seconds


def _class_pairs(gang, kind, size, pair_rate):
    """The pairs of classes that may share (the same gang; a class with itself when it has
    two jobs): (first, second, their rates [pool, pair, 2], usable [pair, pool])."""
    a, b = np.triu_indices(len(size))
    keep = (gang[a] == gang[b]) & ((a != b) | (size[a] >= 2))
    a, b = a[keep], b[keep]
    both = pair_rate[:, kind[a], kind[b]]
    return a, b, both, (both > 0).all(axis=2).T


def job_allocation(solution: ClassAllocation, jobs_a: np.ndarray, jobs_b: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The class solution spread evenly over jobs: ``(alone[job, pool], shared[pair, pool])``
    for the job pairs ``(jobs_a[k], jobs_b[k])`` (every pair of jobs of the same gang,
    ``jobs_a < jobs_b``); a class pair's time is split equally among its job pairs."""
    g, size = solution.group, solution.size
    alone = solution.alone[g] / size[g][:, None]
    G = len(size)
    index = np.full((G, G), -1)
    index[solution.pairs[:, 0], solution.pairs[:, 1]] = np.arange(len(solution.pairs))
    ga, gb = np.minimum(g[jobs_a], g[jobs_b]), np.maximum(g[jobs_a], g[jobs_b])
    row = index[ga, gb]
    count = np.where(ga == gb, size[ga] * (size[ga] - 1) / 2, size[ga] * size[gb])
    shared = np.where(row[:, None] >= 0, solution.together[np.maximum(row, 0)], 0.0)
    return alone, shared / count[:, None]
