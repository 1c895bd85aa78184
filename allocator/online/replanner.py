"""The re-planner: each round, what runs where.

It keeps the policy's allocation (the time share of each job on each pool) and recomputes it
when jobs have come or gone, at most once every ``reset_every`` seconds (Gavel's rule). Each
round it hands every pool's devices to the jobs furthest behind their share on that pool:
priority = share / fraction of the pool's time the job has had since the last recomputation,
ties broken by the deficit carried over from earlier periods, then the share (Gavel's rounds,
scheduler.py ``_update_priorities`` and ``_schedule_jobs_on_workers_helper``). A gang takes
all its devices in the round or none. The same re-planner drives the simulator and the
executor; neither decides anything itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .jobs import JobSet
from .policies.base import Policy
from .state import OnlineState

NEW_JOB = 1e9          # priority scale of a job with a share and no time yet (Gavel's)


@dataclass(frozen=True)
class Round:
    jobs: np.ndarray        # the jobs that run this round, in the order they were chosen
    pools: np.ndarray       # the pool each runs on

    @property
    def empty(self) -> bool:
        return len(self.jobs) == 0


class Replanner:
    def __init__(self, jobs: JobSet, policy: Policy, round_s: float = 360.0,
                 reset_every: float = 1920.0, seed: int = 0):
        n, pools = jobs.rate.shape
        self.jobs, self.policy = jobs, policy
        self.round_s, self.reset_every = float(round_s), float(reset_every)
        self.share = np.zeros((n, pools))        # the allocation
        self.time_on = np.zeros((n, pools))      # seconds run per pool since the last reset
        self.pool_time = np.zeros(pools)
        self.deficit = np.zeros((n, pools))
        self.last_reset = 0.0
        self.stale = False                       # jobs came or went since the allocation
        self.allocations = 0                     # how many times the policy was asked
        self.pool_order = random.Random(seed + 5)   # pool order, for policies that shuffle it

    def arrived(self, jobs: np.ndarray) -> None:
        if len(jobs):
            self.time_on[jobs] = self.round_s / 2      # Gavel's initial time, so a new job's
            self.deficit[jobs] = 0.0                   # fraction is not 0
            self.share[jobs] = 0.0
            self.stale = True

    def departed(self, jobs: np.ndarray) -> None:
        if len(jobs):
            self.share[jobs] = 0.0
            self.stale = True

    def ran(self, jobs: np.ndarray, pools: np.ndarray, seconds: np.ndarray) -> None:
        np.add.at(self.time_on, (jobs, pools), seconds)
        np.add.at(self.pool_time, pools, seconds)

    def plan(self, state: OnlineState) -> Round:
        present = np.flatnonzero(state.present)
        now = state.now
        if self.stale and (now - self.last_reset >= self.reset_every or self.last_reset == 0):
            self._reset(present, now)
            view = state.view()
            self.share[present] = self.policy.allocate(view)
            self.allocations += 1
            self.stale = False
        return self._select(present, now)

    def _reset(self, present: np.ndarray, now: float) -> None:
        """A new period: what each job should have had since the last reset minus what it had
        is added to its deficit, and the time counts start again."""
        elapsed = now - self.last_reset
        received = self.time_on[present] - self.round_s / 2
        self.deficit[present] += self.share[present] * elapsed - received
        self.time_on[present] = self.round_s / 2
        self.pool_time[:] = self.round_s / 2 * len(present)
        self.last_reset = now

    def priorities(self, present: np.ndarray, now: float) -> np.ndarray:
        share = self.share[present]
        if getattr(self.policy, "lag_first", False):
            # time the job is owed on the pool by the end of this round since the last reset;
            # a job given all of its time on the pool runs there every round
            owed = share * (now - self.last_reset + self.round_s)
            owed -= self.time_on[present] - self.round_s / 2
            return np.where(share >= 1 - 1e-9, NEW_JOB, owed)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(self.pool_time > 0, self.time_on[present] / self.pool_time, 0.0)
            prio = np.where(fraction > 0, share / fraction, share * NEW_JOB)
        return np.where((share > 0) & (self.jobs.rate[present] > 0), prio, 0.0)

    def _select(self, present: np.ndarray, now: float) -> Round:
        prio = self.priorities(present, now)
        gang = self.jobs.gang[present]
        order = list(range(len(self.jobs.pools)))
        if self.policy.shuffle:
            self.pool_order.shuffle(order)
        left = self.jobs.counts.copy()
        taken = np.zeros(len(present), dtype=bool)
        chosen, on = [], []
        for t in order:
            can = self.jobs.rate[present, t] > 0
            if self.policy.exclusive:
                can &= prio[:, t] > 0
            rows = np.flatnonzero(can)
            rows = rows[np.lexsort((-self.share[present[rows], t], -self.deficit[present[rows], t],
                                    -prio[rows, t]))]
            rows = rows[~taken[rows]]
            fit = int(np.searchsorted(np.cumsum(gang[rows]), left[t], side="right"))
            head = rows[:fit]                   # the leading jobs that fit all together
            left[t] -= int(gang[head].sum())
            taken[head] = True
            chosen.extend(head.tolist())
            on.extend([t] * fit)
            for r in rows[fit:].tolist():       # then any that fit in what is left
                if left[t] == 0:
                    break
                if gang[r] <= left[t]:
                    left[t] -= gang[r]
                    taken[r] = True
                    chosen.append(r)
                    on.append(t)
        return Round(present[np.array(chosen, dtype=np.int64)], np.array(on, dtype=np.int64))
