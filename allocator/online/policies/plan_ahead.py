"""The plan ahead: the earliest time every known job (the present ones and the next arrivals)
can finish, as one LP over the intervals between arrivals, and an allocation for now that
keeps to it.

Time is cut at ``now + first`` and at every known arrival; the last interval ends at T. Job k
(released at ``r_k`` from now) may use pool t in interval i from its release on:
``y[k, t, i]`` is the time it runs there (in units of L, the longest a job would take alone
plus the last arrival, so that numbers stay near 1):

    min T   s.t.   sum_t y[k,t,i] <= length_i                      (one pool at a time)
                   sum_k gang_k y[k,t,i] <= count_t length_i       (devices)
                   sum_{t,i} rate[k,t] y[k,t,i] >= work_k          (every job finishes)

with ``length`` of the last interval ``T - its start``, which keeps it linear. Its optimum is
a lower bound on any schedule's makespan (no restart cost, rounds of any length). A second LP
keeps ``T <= T* (1 + 1e-7)``, asks of every present job at least the steady pace that would
finish it by T* in the first interval (``rate_k y[k,:,0] >= work_k length_0 / T*``; dropped
when the arrivals to come leave no room for it), and among those plans does the most of the
shortest jobs' work in the first interval (``max sum_k weight_k rate_k y[k,:,0] / work_k``).
The policy runs the first interval's shares, ``y[k, t, 0] / length_0``, until the next event.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...model.sparse import LinearModel
from .lp import solve_model

SLACK = 1e-7


def plan(rate: np.ndarray, gang: np.ndarray, work: np.ndarray, release: np.ndarray,
         weight: np.ndarray, counts: np.ndarray, first: float) -> tuple[np.ndarray, float]:
    """(shares[k, t] for the first interval, T* in seconds from now) for jobs released at
    ``release`` (≥ 0, seconds from now), cutting the first interval at ``first`` s."""
    K, T = rate.shape
    edges = np.unique(np.r_[0.0, release, first])
    I = len(edges)
    unit = float((work / rate.max(axis=1)).max() + edges[-1])
    length = np.diff(edges) / unit                    # the intervals before the last
    k_idx, t_idx, i_idx = np.nonzero((rate[:, :, None] > 0)
                                     & (release[:, None, None] <= edges[None, None, :]))
    n = len(k_idx) + 1
    Tcol = n - 1
    cols = np.arange(n - 1)
    # one pool at a time: rows (k, i); the last interval's right side moves with T
    time_row = k_idx * I + i_idx
    # devices: rows (t, i)
    use_row = K * I + t_idx * I + i_idx
    # work: rows k
    work_row = K * I + T * I + k_idx
    m = K * I + T * I + K
    lasts_time = np.arange(K) * I + I - 1
    lasts_use = K * I + np.arange(T) * I + I - 1
    A = sp.csr_array((np.r_[np.ones(n - 1), gang[k_idx].astype(float),
                            rate[k_idx, t_idx] * unit / work[k_idx],
                            -np.ones(K), -counts.astype(float)],
                      (np.r_[time_row, use_row, work_row, lasts_time, lasts_use],
                       np.r_[cols, cols, cols, np.full(K + T, Tcol)])), shape=(m, n))
    start_last = edges[-1] / unit
    hi = np.r_[np.where(np.arange(K * I) % I == I - 1, -start_last,
                        np.tile(np.r_[length, 0.0], K)),
               np.where(np.arange(T * I) % I == I - 1, -counts.repeat(I) * start_last,
                        counts.repeat(I) * np.tile(np.r_[length, 0.0], T)),
               np.full(K, np.inf)]
    lo = np.r_[np.full(K * I + T * I, -np.inf), np.ones(K)]
    col_hi = np.full(n, np.inf)
    cost = np.zeros(n)
    cost[Tcol] = 1.0
    model = LinearModel(c=cost, A=A, row_lo=lo, row_hi=hi, col_lo=np.r_[np.zeros(n - 1),
                        start_last], col_hi=col_hi, integrality=np.zeros(n, dtype=bool))
    best = _solve(model, "plan-ahead makespan")[Tcol]
    # the second LP: the same plan's end, every job present at least at the steady pace that
    # would finish it by then, and most of the short jobs' work now
    now = np.flatnonzero(i_idx == 0)
    first_length = edges[1] / unit
    present = np.unique(k_idx[now])
    steady = sp.csr_array((rate[k_idx[now], t_idx[now]] * unit / work[k_idx[now]],
                           (np.searchsorted(present, k_idx[now]), now)), shape=(len(present), n))
    cost = np.zeros(n)
    cost[now] = -(weight * unit / work)[k_idx[now]] * rate[k_idx[now], t_idx[now]]
    col_hi[Tcol] = best * (1 + SLACK)
    paced = LinearModel(c=cost, A=sp.csr_array(sp.vstack([A, steady])),
                        row_lo=np.r_[lo, np.full(len(present), first_length / best)],
                        row_hi=np.r_[hi, np.full(len(present), np.inf)], col_lo=model.col_lo,
                        col_hi=col_hi, integrality=model.integrality)
    try:
        y = _solve(paced, "plan-ahead now")
    except RuntimeError:            # arrivals to come leave no room for that pace: drop it
        y = _solve(LinearModel(c=cost, A=A, row_lo=lo, row_hi=hi, col_lo=model.col_lo,
                               col_hi=col_hi, integrality=model.integrality), "plan-ahead now")
    shares = np.zeros((K, T))
    np.add.at(shares, (k_idx[now], t_idx[now]), y[now] / first_length)
    return np.clip(shares, 0.0, 1.0), float(best * unit)


def _solve(model: LinearModel, what: str) -> np.ndarray:
    return solve_model(model, what).x
