"""What a policy sees and returns.

A policy turns the jobs present now into an *allocation*: ``x[k, t]``, the fraction of time
job k should run on pool t (on ``gang[k]`` devices of it), with ``sum_t x[k, t] <= 1`` and
``sum_k gang[k] * x[k, t] <= count[t]``. The re-planner turns allocations into rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class View:
    """The jobs present at ``now`` (arrived, not done), as rows; every array has one row per
    job, in arrival order."""

    now: float
    jobs: np.ndarray            # their indices in the JobSet
    rate: np.ndarray            # [k, t] work units per second of the whole gang; 0: cannot run
    gang: np.ndarray            # devices each holds at once
    weight: np.ndarray          # priority weights
    remaining: np.ndarray       # work left
    age: np.ndarray             # seconds since arrival
    counts: np.ndarray          # devices per pool
    kind: np.ndarray | None = None        # job classes, where jobs may share devices
    pair_rate: np.ndarray | None = None   # [pool, class, class, 2]: the rates of two sharing
    upcoming: "View | None" = None        # the next jobs to arrive (age < 0), for a policy
                                          # with ``lookahead`` (their remaining: all work)

    @property
    def size(self) -> int:
        return len(self.jobs)

    def grouped(self, key: np.ndarray) -> tuple["View", np.ndarray, np.ndarray]:
        """Jobs with equal rows of ``key`` (and equal gangs) as one row each: the view of one
        job per group, each job's group, and the group sizes. An LP over groups whose row
        stands for all its jobs (``AllocationLP(copies=sizes)``) has the same optimum as over
        the jobs: any solution can be split evenly within a group."""
        rows = np.column_stack([key, self.gang])
        order = np.lexsort(rows.T[::-1])            # by row, first column first; stable
        ranked = rows[order]
        new = (ranked[1:] != ranked[:-1]).any(axis=1)
        starts = np.flatnonzero(np.concatenate([[True], new]))
        first = order[starts]                       # each group's first job, groups by row
        sizes = np.diff(np.append(starts, len(order)))
        group = np.empty(len(order), dtype=np.int64)
        group[order] = np.repeat(np.arange(len(starts)), sizes)
        one = View(now=self.now, jobs=self.jobs[first], rate=self.rate[first],
                   gang=self.gang[first], weight=self.weight[first],
                   remaining=self.remaining[first], age=self.age[first], counts=self.counts)
        return one, group, sizes


class Policy(Protocol):
    """A policy: ``allocate`` is called when the re-planner recomputes the allocation."""

    name: str
    # optional: lookahead (int, the arrivals it is shown ahead), replan_every (seconds between
    # allocations instead of the re-planner's), lag_first (serve units by time owed)
    shuffle: bool        # pools are offered in a new random order each round (Gavel does
                         # this for its heterogeneity-agnostic policies but Gandiva)
    exclusive: bool      # only jobs with an allocation run (FIFO); else spare devices are lent

    def allocate(self, view: View) -> "np.ndarray | Packed": ...


def equal_split_rate(rate: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each job's rate if every pool were split evenly among all jobs, per device of each
    pool alike (Gavel's "proportional" throughput, the normaliser of its max-min LPs)."""
    return (rate * counts[None, :]).sum(axis=1) / counts.sum()


def equal_share(counts: np.ndarray, gang: np.ndarray) -> np.ndarray:
    """Every job an equal share of each pool's devices, scaled so that no job gets more than
    all of its time (Gandiva's split, and Themis' "isolated" share): ``x[k, t] = count[t] /
    (m gang[k])``, each row divided by its sum where that is above 1."""
    m = len(gang)
    if m == 0:
        return np.zeros((0, len(counts)))
    x = counts[None, :] / m / gang[:, None]
    return x / np.maximum(x.sum(axis=1), 1.0)[:, None]


@dataclass(frozen=True)
class Packed:
    """An allocation with space sharing: ``singles[k, t]`` as a plain allocation, and for each
    pair of jobs ``pairs[p] = (k1, k2)`` (rows of the view) the time share ``shared[p, t]``
    of the two running together on the same ``gang`` devices of pool t."""

    singles: np.ndarray
    pairs: np.ndarray        # [p, 2]
    shared: np.ndarray       # [p, t]
