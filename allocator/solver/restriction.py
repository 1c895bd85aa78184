"""Problems too large to write in full: a start that scales, candidate pairs, and a bound that
holds for the whole problem.

Above :data:`MODEL_PAIRS` eligible task-device pairs (the shared Alibaba trace as a cost
problem has ten million), the full model does not fit in a time limit, nor in memory. Then:

1. a greedy start over every pair, one task at a time in numpy (:func:`greedy_fit`): each task,
   hardest first, goes to the device where it costs least (``cost``) or finishes earliest
   (``makespan``) among those with room left in their horizon;
2. a restricted model over each task's best pools (:func:`candidate_pools`), whole pools so
   that devices of a pool stay interchangeable, with the start's pool always among them; any
   plan of the restriction is a plan of the whole problem;
3. a bound that holds for the whole problem: for cost, the Lagrangian relaxation of the
   pools' capacities (:func:`lagrangian_bound`), improved by subgradient steps for as long as
   the time limit allows; for makespan, every task on its best pool with capacity ignored
   (:func:`relaxed_bound`). The restriction's own LP bound does not hold for the whole problem
   and is never reported.
"""

from __future__ import annotations

import time

import numpy as np

from ..domain.problem import Problem
from ..objectives import get
from .candidate import Candidate

MODEL_PAIRS = 1_000_000    # eligible task-device pairs above which the model is restricted
CANDIDATE_PAIRS = 400_000  # task-device pairs the restricted model keeps (at least 4 per task)


def eligible_pairs(problem: Problem) -> int:
    """Eligible task-device pairs (pool eligibility times the pools' device counts)."""
    counts = np.array([p.count for p in problem.pools])
    return int((problem.eligible.astype(np.int64) @ counts).sum())


def _coefficient(problem: Problem, objective: str) -> np.ndarray:
    """Task x pool: what a pair adds to the objective (price, or time); inf where ineligible."""
    return get(objective).coefficient(problem)


def _additive(objective: str) -> bool:
    """The objective sums a value per placement (cost), rather than a bottleneck (makespan)."""
    return get(objective).score == "sum"


def greedy_fit(problem: Problem, objective: str) -> Candidate | None:
    """A plan of every task, or None where the greedy gets stuck (or deadlines apply).

    Tasks go hardest first: for cost, largest regret (second cheapest pool minus cheapest);
    for makespan, longest fastest time (LPT). Each goes to the device with room left in its
    horizon where it costs least (cost) or finishes earliest (makespan). Time O(tasks x
    devices) in numpy, one task at a time; memory O(tasks x pools).
    """
    if not get(objective).heuristics or problem.sense != "min" or \
            any(t.deadline is not None for t in problem.tasks):
        return None
    pool_of = problem.device_pool
    horizon = problem.device_horizon * (1 + 1e-9)
    coef = _coefficient(problem, objective)
    if _additive(objective):
        two = np.partition(coef, 1, axis=1)[:, :2] if coef.shape[1] > 1 else \
            np.c_[coef, np.full(len(coef), np.inf)]
        regret = np.where(np.isfinite(two[:, 1]), two[:, 1] - two[:, 0], np.inf)
        order = np.argsort(-regret, kind="stable")
    else:
        order = np.argsort(-problem.ptime.min(axis=1), kind="stable")
    load = np.zeros(len(problem.devices))
    placed = np.empty(len(problem.tasks), dtype=np.int64)
    for i in order:
        time_on = problem.ptime[i, pool_of]                   # seconds on each device
        room = load + time_on <= horizon                      # inf (ineligible) never fits
        if not room.any():
            return None
        score = coef[i, pool_of] if _additive(objective) else load + time_on
        d = int(np.argmin(np.where(room, score, np.inf)))
        placed[i] = d
        load[d] += time_on[d]
    assignment = {t.name: problem.devices[d] for t, d in zip(problem.tasks, placed)}
    if _additive(objective):
        value = float(coef[np.arange(len(placed)), pool_of[placed]].sum())
    else:
        value = float(load.max())
    return Candidate("greedy_fit", assignment, value)


def candidate_pools(problem: Problem, objective: str, start: dict[str, str] | None,
                    pairs: int = CANDIDATE_PAIRS) -> np.ndarray:
    """Task x pool mask: each task's best pools by its coefficient, whole pools, until it has
    about ``pairs / tasks`` device columns (at least 4, or all it may use), plus the pool of
    its device in ``start``."""
    n, k = problem.eligible.shape
    want = max(4, pairs // max(n, 1))
    coef = np.where(problem.eligible, _coefficient(problem, objective), np.inf)
    counts = np.array([p.count for p in problem.pools])
    order = np.argsort(coef, axis=1, kind="stable")          # best pools first, per task
    columns = np.cumsum(counts[order], axis=1)                # devices up to each rank
    # Keep ranks until the task has `want` columns: the first rank reaching it included.
    ranks = (columns - counts[order]) < want
    keep = np.zeros((n, k), dtype=bool)
    np.put_along_axis(keep, order, ranks, axis=1)
    keep &= problem.eligible
    if start is not None:
        for i, t in enumerate(problem.tasks):
            keep[i, problem.pool_index_of(start[t.name])] = True
    return keep


def relaxed_bound(problem: Problem, objective: str) -> float:
    """A lower bound for the whole problem, capacity ignored: each task on its best eligible
    pool (cost: the sum of the cheapest prices; makespan: the larger of the longest fastest
    time and the fastest times spread over every device)."""
    best = np.where(problem.eligible, _coefficient(problem, objective), np.inf).min(axis=1)
    if _additive(objective):
        return float(best.sum())
    return float(max(best.max(), best.sum() / len(problem.devices)))


def lagrangian_bound(problem: Problem, upper: float, deadline: float,
                     max_rounds: int = 200, objective: str = "cost") -> float:
    """A lower bound on the value of every plan of an additive objective (cost) of the whole problem (deadlines and per-device
    capacity relaxed to each pool's total): the best over subgradient steps of

        L(lam) = sum_i min_p (c[i,p] + lam_p t[i,p]) - sum_p lam_p count_p H_p,   lam >= 0,

    which is at most the optimum for every lam (weak duality); lam = 0 is
    :func:`relaxed_bound`. Steps follow Polyak's rule towards ``upper`` (a plan's cost),
    halving the step after five rounds without progress; stops at ``deadline``
    (``time.perf_counter``), after ``max_rounds``, or when the bound meets ``upper``.
    """
    c = np.where(problem.eligible, _coefficient(problem, objective), np.inf)
    t = np.where(problem.eligible, problem.ptime, 0.0)
    capacity = np.array([p.count for p in problem.pools]) * problem.pool_horizon
    finite = np.isfinite(capacity)
    if not finite.any():
        return relaxed_bound(problem, objective)
    capacity = np.where(finite, capacity, 0.0)
    lam = np.zeros(len(problem.pools))
    best, theta, stalled = -np.inf, 1.0, 0
    rows = np.arange(len(problem.tasks))
    for _ in range(max_rounds):
        reduced = c + lam[None, :] * t
        choice = np.argmin(reduced, axis=1)
        value = float(reduced[rows, choice].sum() - lam @ capacity)
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, stalled = value, 0
        else:
            stalled += 1
            if stalled >= 5:
                theta, stalled = theta / 2, 0
        if best >= upper * (1 - 1e-9) or time.perf_counter() > deadline or theta < 1e-4:
            break
        used = np.bincount(choice, weights=t[rows, choice], minlength=len(lam))
        step = np.where(finite, used - capacity, 0.0)        # capacity with no horizon: lam 0
        norm = float(step @ step)
        if norm == 0:
            break                                            # every capacity met: optimal
        lam = np.maximum(0.0, lam + theta * (upper - value) / norm * step)
    return best
