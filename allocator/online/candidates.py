"""What the re-planner chooses from each round: the units (a job alone, or two jobs sharing
devices) and the pools each may run on, kept between changes, and the greedy fill of the
pools in priority order.

The candidates (unit, pool) change only when jobs come or go or the allocation is
recomputed; between those, a round only computes their priorities and fills the pools. They
are kept sorted by pool, then by deficit and share (higher first), then by unit, so that a
stable sort by priority within each pool gives Gavel's order (priority, deficit, share).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

SMALL = 96      # candidates: up to this many, the pools are filled in a plain loop (cheaper
                # than numpy calls on arrays this short); above, a pool's leading units at once


class Units:
    """Share, time since the last reset and deficit per pool, one row per unit."""

    def __init__(self, rows: int, pools: int):
        self.share = np.zeros((rows, pools))
        self.time_on = np.zeros((rows, pools))
        self.deficit = np.zeros((rows, pools))

    def grow(self, rows: int) -> None:
        pad = np.zeros((rows - len(self.share), self.share.shape[1]))
        self.share, self.time_on, self.deficit = (np.r_[a, pad] for a in
                                                  (self.share, self.time_on, self.deficit))

    def start(self, rows: np.ndarray, initial: float) -> None:
        self.share[rows] = 0.0
        self.time_on[rows] = initial
        self.deficit[rows] = 0.0

    def reset(self, rows: np.ndarray, elapsed: float, initial: float) -> None:
        received = self.time_on[rows] - initial
        self.deficit[rows] += self.share[rows] * elapsed - received
        self.time_on[rows] = initial


@dataclass
class Candidates:
    """The units of a round and the pools each may run on, between changes."""

    # per unit: its job, the job sharing its devices (-1: none), the pair's row (-1: none),
    # its gang
    first: np.ndarray
    second: np.ndarray
    pair_row: np.ndarray
    gang: np.ndarray
    # per candidate, sorted by pool, then deficit and share (higher first), then unit
    unit: np.ndarray
    pool: np.ndarray
    share: np.ndarray
    alone: np.ndarray       # a single job (its time in the single table, else the pair's)
    row: np.ndarray         # its row in that table: the job, or the pair's row
    bounds: np.ndarray      # pool t's candidates are [bounds[t], bounds[t + 1])
    one_pool: bool          # no unit is a candidate on two pools
    simple: bool            # no unit shares a job with another
    units: int              # how many units are candidates somewhere

    @cached_property
    def lists(self) -> tuple[list, list, list]:
        """(first, second, gang) as lists, for the plain loop."""
        return self.first.tolist(), self.second.tolist(), self.gang.tolist()

    @classmethod
    def build(cls, units: tuple, may: np.ndarray, deficit: np.ndarray,
              share: np.ndarray) -> "Candidates":
        """``units``: (first, second, pair_row, gang); ``may[unit, pool]``: a candidate there;
        ``deficit`` and ``share`` [unit, pool]."""
        first, second, pair_row, gang = units
        unit, pool = np.nonzero(may)
        order = np.lexsort((unit, -share[unit, pool], -deficit[unit, pool], pool))
        unit, pool = unit[order], pool[order]
        alone = pair_row[unit] < 0
        return cls(first=first, second=second, pair_row=pair_row, gang=gang, unit=unit,
                   pool=pool, share=share[unit, pool], alone=alone,
                   row=np.where(alone, first[unit], pair_row[unit]),
                   bounds=np.searchsorted(pool, np.arange(may.shape[1] + 1)),
                   one_pool=bool((may.sum(axis=1) <= 1).all()),
                   simple=not (pair_row >= 0).any(), units=int(may.any(axis=1).sum()))

    def time_on(self, single: np.ndarray, pair: np.ndarray) -> np.ndarray:
        """Each candidate's time on its pool since the last reset, from the two tables."""
        if self.simple:
            return single[self.row, self.pool]
        out = np.empty(len(self.unit))
        out[self.alone] = single[self.row[self.alone], self.pool[self.alone]]
        out[~self.alone] = pair[self.row[~self.alone], self.pool[~self.alone]]
        return out


def fill(c: Candidates, ranked: np.ndarray, wants: np.ndarray, bounds: np.ndarray,
         order: list[int], counts: np.ndarray, jobs: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Give each pool, in ``order``, to its candidates in ``ranked`` order (unit indices,
    pool by pool as ``bounds`` says, those that ``wants`` first): a unit is taken when its
    gang fits in what the pool has left and none of its jobs is taken yet. Returns the units
    taken, their pools, and whether a unit that ``wants`` the pool went without, for want of
    room or to a unit of the same pool sharing a job (``crowded``)."""
    if len(ranked) <= SMALL:
        return _fill_loop(c, ranked.tolist(), wants.tolist(), bounds.tolist(), order,
                          counts.tolist())
    return _fill_arrays(c, ranked, wants, bounds, order, counts, jobs)


def _fill_loop(c: Candidates, ranked: list, wants: list, bounds: list, order: list[int],
               left: list) -> tuple[np.ndarray, np.ndarray, bool]:
    first, second, gang = c.lists
    taken: set[int] = set()
    chosen, on, crowded = [], [], False
    for t in order:
        if c.simple and len(taken) == c.units:
            break                  # every unit runs: nothing left to take or to go without
        room = left[t]
        # taken on the pools before this one (without pairs a job is one unit: all of them)
        earlier = taken if c.simple else set(taken)
        for i in range(bounds[t], bounds[t + 1]):
            if room == 0 and (crowded or not wants[i]):
                break
            u = ranked[i]
            a, b = first[u], second[u]
            if a in taken or (b >= 0 and b in taken):
                if wants[i] and not (a in earlier or (b >= 0 and b in earlier)):
                    crowded = True
                continue
            if gang[u] > room:
                crowded = crowded or wants[i]
                continue
            room -= gang[u]
            taken.add(a)
            if b >= 0:
                taken.add(b)
            chosen.append(u)
            on.append(t)
    return np.array(chosen, dtype=np.int64), np.array(on, dtype=np.int64), crowded


def _fill_arrays(c: Candidates, ranked: np.ndarray, wants: np.ndarray, bounds: np.ndarray,
                 order: list[int], counts: np.ndarray,
                 jobs: int) -> tuple[np.ndarray, np.ndarray, bool]:
    first, second, gang = c.first, c.second, c.gang
    left = counts.copy()
    taken = np.zeros(jobs, dtype=bool)
    chosen, on, crowded = [], [], False
    simple = c.simple
    for t in order:
        at = np.arange(bounds[t], bounds[t + 1])          # positions in ranked
        if simple:
            at = at[~taken[first[ranked[at]]]]
            rows = ranked[at]
            fit = int(np.searchsorted(np.cumsum(gang[rows]), left[t], side="right"))
            head = rows[:fit]                  # the leading units that fit all together
            left[t] -= int(gang[head].sum())
            taken[first[head]] = True
            chosen.append(head)
            on.append(np.full(fit, t))
            crowded |= fit < len(rows) and bool(wants[at[fit]])    # the first left out
            at = at[fit:] if left[t] else at[:0]
            earlier = taken
        else:
            earlier = taken.copy()             # taken on the pools before this one
        for i in at.tolist():                 # then any that fit in what is left
            if left[t] == 0 and (crowded or not wants[i]):
                break
            r = ranked[i]
            a, b = first[r], second[r]
            if taken[a] or (b >= 0 and taken[b]):
                crowded |= bool(wants[i]) and not (earlier[a] or (b >= 0 and earlier[b]))
                continue
            if gang[r] > left[t]:
                crowded |= bool(wants[i])
                continue
            left[t] -= gang[r]
            taken[a] = True
            if b >= 0:
                taken[b] = True
            chosen.append(np.array([r]))
            on.append(np.array([t]))
    pick = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
    return pick, np.concatenate(on) if on else np.zeros(0, dtype=np.int64), crowded
