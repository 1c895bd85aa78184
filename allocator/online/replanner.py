"""The re-planner: each round, what runs where.

It keeps the policy's allocation (the time share of each job, or pair of jobs sharing devices,
on each pool) and recomputes it when jobs have come or gone, at most once every
``reset_every`` seconds (Gavel's rule). Each round it hands every pool's devices to the units
furthest behind their share on that pool: priority = share / fraction of the pool's time the
unit has had since the last recomputation, ties broken by the deficit carried over from
earlier periods, then the share (Gavel's rounds, scheduler.py ``_update_priorities`` and
``_schedule_jobs_on_workers_helper``). A policy with ``lag_first`` is served by the time each
unit is owed instead, a unit given all its time on a pool first. A gang takes all its devices
in the round or none. The same re-planner drives the simulator and the executor; neither
decides anything itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from .candidates import Candidates, Units, fill
from .jobs import JobSet
from .policies.base import Packed, Policy
from .state import OnlineState

NEW_JOB = 1e9          # priority scale of a unit with a share and no time yet (Gavel's)
WHOLE = 1 - 1e-3       # a share this close to 1 is all of the unit's time (lag_first)


@dataclass(frozen=True)
class Round:
    jobs: np.ndarray        # each unit's job, in the order the units were chosen
    pools: np.ndarray       # the pool each unit runs on
    partners: np.ndarray    # the job sharing the unit's devices, or -1
    pair_rows: np.ndarray   # the pair's row in the re-planner, or -1
    # the same units would be chosen on the same pools in the next rounds, until a job comes
    # or goes or the allocation is recomputed: every unit that wanted devices got them (so
    # neither priorities nor, for a policy that shuffles them, the pools' order mattered)
    steady: bool = False
    # some unit is two jobs sharing devices: derived from pair_rows, once (read every round)
    shared: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shared", bool(np.count_nonzero(self.pair_rows >= 0)))

    @property
    def empty(self) -> bool:
        return len(self.jobs) == 0


class Replanner:
    def __init__(self, jobs: JobSet, policy: Policy, round_s: float = 360.0,
                 reset_every: float = 1920.0, seed: int = 0):
        n, pools = jobs.rate.shape
        self.jobs, self.policy = jobs, policy
        self.round_s, self.reset_every = float(round_s), float(reset_every)
        self.single = Units(n, pools)
        self.pair = Units(0, pools)
        self.members = np.zeros((0, 2), dtype=np.int64)    # pair row -> its two jobs
        self.live = np.zeros(0, dtype=bool)                # both members present
        self.pair_row: dict[tuple[int, int], int] = {}
        self.pairs_made = 0
        self.pool_time = np.zeros(pools)
        self.last_reset = 0.0
        self.first_reset: float | None = None    # when the first allocation was made
        self.stale = False                       # jobs came or went since the allocation
        self.allocations = 0                     # how many times the policy was asked
        self.pool_order = random.Random(seed + 5)   # pool order, for policies that shuffle it
        self.lag_first = bool(getattr(policy, "lag_first", False))
        self.candidates: Candidates | None = None   # until jobs come or go or shares change

    @property
    def share(self) -> np.ndarray:
        """The single jobs' shares, [job, pool]."""
        return self.single.share

    def arrived(self, jobs: np.ndarray) -> None:
        if len(jobs):
            self.single.start(jobs, self.round_s / 2)   # Gavel's initial time, so that a new
            self.stale = True                           # job's fraction is not 0
            self.candidates = None

    def departed(self, jobs: np.ndarray) -> None:
        if len(jobs):
            self.single.share[jobs] = 0.0
            gone = np.isin(self.members, jobs).any(axis=1) & self.live
            self.live[gone] = False
            self.pair.share[gone] = 0.0
            for a, b in self.members[gone].tolist():
                del self.pair_row[(a, b)]
            self.stale = True
            self.candidates = None

    def ran(self, plan: Round, seconds: np.ndarray, times: int = 1) -> None:
        """Count the round's time (``seconds`` per unit), ``times`` times over as that many
        rounds would (the same additions in the same order)."""
        if not plan.shared:
            cells = [(self.single.time_on, (plan.jobs, plan.pools), seconds)]
        else:
            alone = plan.pair_rows < 0
            cells = [(self.single.time_on, (plan.jobs[alone], plan.pools[alone]),
                      seconds[alone]),
                     (self.pair.time_on, (plan.pair_rows[~alone], plan.pools[~alone]),
                      seconds[~alone])]
        for table, cell, add in cells:         # each cell at most once in a round
            total = table[cell]
            for _ in range(times):
                total += add
            table[cell] = total
        for _ in range(times):
            np.add.at(self.pool_time, plan.pools, seconds)

    def replayed(self, plan: Round, seconds: np.ndarray, times: int) -> None:
        """A steady round ran ``times`` more times without being planned again: their time,
        and the pool orders their planning would have drawn."""
        if self.policy.shuffle:
            for _ in range(times):
                self.pool_order.shuffle(list(range(len(self.pool_time))))
        self.ran(plan, seconds, times)

    def quiet_until(self) -> float:
        """Before when, with no job coming or going, the allocation stays as it is (a little
        early, so that float rounding cannot matter)."""
        if not self.stale:
            return np.inf
        if self.first_reset is None or self.last_reset == self.first_reset:
            return -np.inf
        return self.last_reset + self.reset_every - 1e-6

    def plan(self, state: OnlineState) -> Round:
        """The next round. When the allocation is out of date but not yet due, and leaves the
        cluster idle with jobs waiting, it is recomputed at once (an idle cluster gains
        nothing by waiting; Gavel's simulator in that case waits for the interval)."""
        present = state.present_jobs
        now = state.now
        # due: the interval has passed, or no allocation was made since the first one's time
        # (Gavel's "last reset at time 0", so that the jobs of a trace's first moments are
        # not held up by the interval)
        due = now - self.last_reset >= self.reset_every or self.last_reset == self.first_reset \
            or self.first_reset is None
        if self.stale and due:
            self._recompute(state, present)
        plan = self._select(present, now)
        if plan.empty and self.stale and len(present):
            self._recompute(state, present)
            plan = self._select(present, now)
        return plan

    def _recompute(self, state: OnlineState, present: np.ndarray) -> None:
        self._reset(present, state.now)
        self._allocate(state.view(getattr(self.policy, "lookahead", 0)))
        self.stale = False
        self.candidates = None

    def _reset(self, present: np.ndarray, now: float) -> None:
        """A new period: what each unit should have had since the last reset minus what it had
        is added to its deficit, and the time counts start again."""
        if self.first_reset is None:
            self.first_reset = self.last_reset = now
        elapsed, initial = now - self.last_reset, self.round_s / 2
        live = np.flatnonzero(self.live)
        self.single.reset(present, elapsed, initial)
        self.pair.reset(live, elapsed, initial)
        self.pool_time[:] = initial * (len(present) + len(live))
        self.last_reset = now

    def _allocate(self, view) -> None:
        self.pair.share[:] = 0.0
        if view.size == 0:
            return
        result = self.policy.allocate(view)
        self.allocations += 1
        if isinstance(result, Packed):
            self.single.share[view.jobs] = result.singles
            for (k1, k2), share in zip(result.pairs.tolist(), result.shared):
                row = self._pair(int(view.jobs[k1]), int(view.jobs[k2]))
                self.pair.share[row] = share
        else:
            self.single.share[view.jobs] = result

    def _pair(self, a: int, b: int) -> int:
        """The row of the pair (a, b), made on first use."""
        key = (min(a, b), max(a, b))
        if key not in self.pair_row:
            row = self.pairs_made
            self.pairs_made += 1
            self.pair_row[key] = row
            if row == len(self.members):                    # room for twice as many
                self.members = np.r_[self.members, np.zeros((max(row, 8), 2), np.int64)]
                self.live = np.r_[self.live, np.zeros(max(row, 8), dtype=bool)]
                self.pair.grow(len(self.members))
            self.members[row] = key
            self.live[row] = True
            self.pair.start(np.array([row]), self.round_s / 2)
        return self.pair_row[key]

    def _candidates(self, present: np.ndarray) -> Candidates:
        """The units present (single jobs, then live pairs with a share) and where each may
        run: where it can, and for an exclusive policy only where it has a share (where it
        also needs time owed, that is left to each round)."""
        if self.candidates is not None:
            return self.candidates
        none = np.full(len(present), -1)
        first, second, pair_row = present, none, none
        can = self.jobs.rate[present] > 0
        share, deficit = self.single.share[present], self.single.deficit[present]
        rows = np.zeros(0, dtype=np.int64)
        if self.pairs_made:
            rows = np.flatnonzero(self.live & (self.pair.share > 0).any(axis=1))
        if len(rows):                           # then the pairs, after the single jobs
            a, b = self.members[rows, 0], self.members[rows, 1]
            both = np.stack([self.jobs.paired(a, b, np.full(len(rows), t))
                             for t in range(len(self.jobs.pools))], axis=1)   # [pair, pool, 2]
            first, second = np.concatenate([present, a]), np.concatenate([none, b])
            pair_row = np.concatenate([none, rows])
            can = np.concatenate([can, (both > 0).all(axis=2)])
            share = np.concatenate([share, self.pair.share[rows]])
            deficit = np.concatenate([deficit, self.pair.deficit[rows]])
        may = can & (share > 0) if self.policy.exclusive and not self.lag_first else can
        self.candidates = Candidates.build((first, second, pair_row, self.jobs.gang[first]),
                                           may, deficit, share)
        return self.candidates

    def _priority(self, c: Candidates, now: float) -> np.ndarray:
        """Each candidate's priority: share / fraction of the pool's time had (a share with
        no time yet: NEW_JOB x share; no share: 0), or with ``lag_first`` the time owed by
        the end of the round (a share of all the unit's time: NEW_JOB)."""
        share, time_on = c.share, c.time_on(self.single.time_on, self.pair.time_on)
        if self.lag_first:
            owed = share * (now - self.last_reset + self.round_s)
            owed -= time_on - self.round_s / 2
            return np.where(share >= WHOLE, NEW_JOB, owed)
        pool_time = self.pool_time[c.pool]
        fraction = np.divide(time_on, pool_time, out=np.zeros(len(share)), where=pool_time > 0)
        prio = np.divide(share, fraction, out=share * NEW_JOB, where=fraction > 0)
        prio[share <= 0] = 0.0
        return prio

    def _select(self, present: np.ndarray, now: float) -> Round:
        c = self._candidates(present)
        order = list(range(len(self.jobs.pools)))
        if self.policy.shuffle:
            self.pool_order.shuffle(order)
        prio = self._priority(c, now)
        pools, bounds = c.pool, c.bounds
        keep = None
        if self.policy.exclusive and self.lag_first:       # only units owed time
            keep = np.flatnonzero(prio > 0)
            prio, pools = prio[keep], pools[keep]
            bounds = np.searchsorted(pools, np.arange(len(order) + 1))
        # by pool, then priority (higher first); equal priorities keep the candidates' order
        ranked = np.lexsort((-prio, pools))
        # a unit with no share has priority 0 whatever its time, and its rank among those
        # never changes: only units with a share can make a round depend on priorities
        # (with lag_first every unit's time owed changes as it runs)
        wants = prio[ranked] > 0 if not self.lag_first else np.ones(len(ranked), dtype=bool)
        if keep is not None:
            ranked = keep[ranked]
        pick, on, crowded = fill(c, c.unit[ranked], wants, bounds, order, self.jobs.counts,
                                 self.jobs.size)
        return Round(c.first[pick], on, c.second[pick], c.pair_row[pick],
                     steady=self._steady(crowded, c))

    def _steady(self, crowded: bool, c: Candidates) -> bool:
        """Whether the units just chosen would be chosen again, as they were, in rounds with
        no job coming or going: no unit with a share went without (so priorities did not
        matter), each unit was wanted on one pool only where pools come in a random order,
        and what a unit may run on does not change with its time owed."""
        if crowded or (self.policy.exclusive and self.lag_first):
            return False
        return not self.policy.shuffle or c.one_pool
