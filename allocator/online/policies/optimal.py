"""Our own policy: the exact plan over the known jobs, revised at every arrival and completion.

At each event it solves the plan ahead (``plan_ahead.py``) over the jobs present and the next
arrivals (up to ``LOOKAHEAD``, and none once ``PLANNED`` jobs are present, where the LP over
intervals would grow past what an event can afford): the earliest time all of them can
finish, as an LP over the intervals
between arrivals, then, keeping that time, the plan that does the most of the shortest jobs'
work now. The first interval's shares are the allocation. The re-planner asks for it at every
event (``replan_every = 0``), not at most every 1920 s as for Gavel's policies, and serves
units by the time they are owed, a unit given all its time on a pool first (``lag_first``),
so that a job the plan needs running all the time is never left out of a round.
"""

from __future__ import annotations

import numpy as np

from .base import View
from .plan_ahead import plan

name = "optimal"
LOOKAHEAD = 4           # arrivals planned for ahead of time
PLANNED = 32            # no arrivals are planned for when the plan would hold more jobs
FIRST = 1e-3            # the first interval, as a fraction of the longest job's time alone


class Optimal:
    name = name
    shuffle = False
    exclusive = False
    replan_every = 0.0
    lag_first = True
    lookahead = LOOKAHEAD

    def allocate(self, view: View) -> np.ndarray:
        return plan_now(view)[0]


def plan_now(view: View) -> tuple[np.ndarray, float]:
    """(the present jobs' shares, the earliest time from now all known jobs can finish)."""
    ahead = view.upcoming
    rate, gang, work, weight = view.rate, view.gang, view.remaining, view.weight
    release = np.zeros(view.size)
    if ahead is not None and ahead.size and view.size + ahead.size <= PLANNED:
        rate, gang = np.r_[rate, ahead.rate], np.r_[gang, ahead.gang]
        work, weight = np.r_[work, ahead.remaining], np.r_[weight, ahead.weight]
        release = np.r_[release, -ahead.age]
    longest = float((work / rate.max(axis=1)).max())
    later = release[release > 0]
    first = min(FIRST * longest, later.min()) if len(later) else FIRST * longest
    shares, finish = plan(rate, gang, work, release, weight, view.counts, first)
    return shares[:view.size], finish


def make(seed: int = 0) -> Optimal:
    return Optimal()
