"""Where every job stands at the simulated or real clock's ``now``: arrived or not, work left,
done (and when), running this round and on which pool, what it has used and been preempted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .jobs import JobSet
from .policies.base import View

FUTURE, WAITING, RUNNING, DONE = "future", "waiting", "running", "done"


@dataclass(frozen=True)
class Replay:
    """What the last simulated round did, to run it again as it was."""

    members: np.ndarray     # the jobs that ran
    steps: np.ndarray       # the work each did
    service: np.ndarray     # the device-seconds each held
    used: np.ndarray        # device-seconds per pool
    length: float           # s


class OnlineState:
    def __init__(self, jobs: JobSet):
        n, pools = jobs.rate.shape
        self.jobs = jobs
        self.now = float(jobs.arrival[0]) if n else 0.0
        self.remaining = jobs.work.astype(float).copy()
        self.finish = np.full(n, np.nan)
        self.arrived = 0                         # jobs[:arrived] have arrived (arrival order)
        self.present = np.zeros(n, dtype=bool)   # arrived and not done
        self.running = np.zeros(n, dtype=bool)   # in the round that ran last
        self.pool = np.full(n, -1)               # the pool of its last round
        self.preemptions = np.zeros(n, dtype=np.int64)
        self.service = np.zeros(n)               # device-seconds it has held
        self.busy = np.zeros(pools)              # device-seconds each pool has been held
        self.used = np.zeros(pools)              # device-seconds of each pool in the last round
        self.last: Replay | None = None          # the last round, while it can run again
        self._present_jobs: np.ndarray | None = None
        self.ran_last = np.zeros(0, dtype=np.int64)   # the members of the last round

    def admit(self) -> np.ndarray:
        """The jobs that have arrived by ``now`` since the last call."""
        if self.arrived == self.jobs.size or self.jobs.arrival[self.arrived] > self.now:
            return np.zeros(0, dtype=np.int64)
        stop = int(np.searchsorted(self.jobs.arrival, self.now, side="right"))
        new = np.arange(self.arrived, stop)
        self.present[new] = True
        self.arrived = stop
        self._present_jobs = None
        return new

    def withdraw(self, jobs) -> None:
        """The jobs leave: finished, given up, or (a resumed run) done before."""
        self.present[jobs] = False
        self.running[jobs] = False
        self._present_jobs = None

    @property
    def present_jobs(self) -> np.ndarray:
        """The jobs present (arrived, not done), in arrival order."""
        if self._present_jobs is None:
            self._present_jobs = np.flatnonzero(self.present)
        return self._present_jobs

    @property
    def next_arrival(self) -> float | None:
        return float(self.jobs.arrival[self.arrived]) if self.arrived < self.jobs.size else None

    def status(self, job: int) -> str:
        if job >= self.arrived:
            return FUTURE
        if not self.present[job]:
            return DONE
        return RUNNING if self.running[job] else WAITING

    def view(self, lookahead: int = 0) -> View:
        """The jobs present; with ``lookahead``, also the next that many arrivals."""
        k = np.flatnonzero(self.present)
        upcoming = None
        if lookahead:
            upcoming = self._view(np.arange(self.arrived, min(self.arrived + lookahead,
                                                              self.jobs.size)), None)
        return self._view(k, upcoming)

    def _view(self, k: np.ndarray, upcoming: View | None) -> View:
        j = self.jobs
        return View(now=self.now, jobs=k, rate=j.rate[k], gang=j.gang[k], weight=j.weight[k],
                    remaining=self.remaining[k], age=self.now - j.arrival[k], counts=j.counts,
                    kind=None if j.kind is None else j.kind[k], pair_rate=j.pair_rate,
                    upcoming=upcoming)

    def run(self, jobs: np.ndarray, pools: np.ndarray, round_s: float, restart_s: float = 0.0,
            partners: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Run one simulated round from ``now``: unit u is job ``jobs[u]`` on ``pools[u]``,
        sharing its devices with job ``partners[u]`` when that is ≥ 0 (each then at its rate
        in the pair). Each job does the whole steps its rate allows in the round
        (``floor(rate x round)``, as Gavel's simulator counts them), capped at its work left,
        after ``restart_s`` when it did not run on that pool in the last round (a preemption
        or a first start). Returns each unit's busy seconds (its longer job's) and the jobs
        that finished; ``now`` moves to the end of the round (its last unit's end)."""
        members, on, unit_of, rate = self._members(jobs, pools, partners)
        restart = self._restart(members, on, restart_s)
        budget = rate * (round_s - restart)
        left = self.remaining[members]
        steps = np.minimum(np.floor(budget), left)
        # a job too slow for a whole step does part of one (count_nonzero here and below: a
        # few times cheaper than .all() or .any() on arrays this short, and rounds are many)
        if np.count_nonzero(steps) < len(steps):
            steps = np.where(steps > 0, steps, np.minimum(budget, left))
        done = steps >= left
        seconds = steps / rate + restart if restart_s else steps / rate
        held, finished = self._record(jobs, pools, members, on, unit_of, steps, seconds, done)
        if len(finished) or (restart_s and np.count_nonzero(restart)):
            self.last = None              # the next round differs: no restart, or jobs gone
        return held, finished

    def repeat(self, before: float) -> list[float]:
        """Run the last round again while no job would finish in it (each of its jobs has more
        work left than the round does) and the round starts before ``before`` (s), exactly as
        :meth:`run` would (the same additions in the same order). Nothing is repeated after a
        round that finished jobs or paid a restart, or that ran on the real clock. Returns
        the starts of the rounds run."""
        last, starts = self.last, []
        if last is None:
            return starts
        left, service = self.remaining[last.members], self.service[last.members]
        while self.now < before and (left > last.steps).all():
            starts.append(self.now)
            left -= last.steps
            service += last.service
            self.busy += last.used
            self.now += last.length
        self.remaining[last.members], self.service[last.members] = left, service
        return starts

    def observe(self, jobs: np.ndarray, pools: np.ndarray, seconds: np.ndarray,
                ended: np.ndarray, restart_s: float = 0.0,
                partners: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Account for a round that really ran (the executor): each member job (``jobs``,
        then the partners) ran ``seconds`` and ``ended`` says whether it finished. Its work
        done is estimated at its rate, and a job that has not ended keeps a little work left
        whatever the estimate. ``now`` moves on by the longest unit, as in :meth:`run`."""
        members, on, unit_of, rate = self._members(jobs, pools, partners)
        restart = self._restart(members, on, restart_s)
        left = self.remaining[members]
        guess = np.minimum(rate * np.maximum(seconds - restart, 0.0), left * (1 - 1e-9))
        steps = np.where(ended, left, guess)
        result = self._record(jobs, pools, members, on, unit_of, steps, seconds, ended)
        self.last = None                  # a real round is never replayed
        return result

    def _members(self, jobs, pools, partners):
        """(member jobs: the units' jobs then their partners, each one's pool, its unit, its
        rate there)."""
        units = len(jobs)
        rate = self.jobs.rate[jobs, pools]
        if partners is None or not units or partners.max() < 0:
            return jobs, pools, None, rate
        pair = np.flatnonzero(partners >= 0)
        unit_of = np.concatenate([np.arange(units), pair])
        both = self.jobs.paired(jobs[pair], partners[pair], pools[pair])
        rate = np.concatenate([rate, both[:, 1]])
        rate[pair] = both[:, 0]
        return np.concatenate([jobs, partners[pair]]), pools[unit_of], unit_of, rate

    def _restart(self, members, on, restart_s: float) -> np.ndarray | float:
        """The restart cost of each member: paid when it did not run on that pool last round
        (0.0 for all when there is none)."""
        if not restart_s:
            return 0.0
        return np.where((self.pool[members] != on) | ~self.running[members], restart_s, 0.0)

    def _record(self, jobs, pools, members, on, unit_of, steps, seconds, done):
        """Account for a round: unit u (``jobs[u]`` on ``pools[u]``) held its devices for its
        longest member's ``seconds``; member k (``members[k]``, of unit ``unit_of[k]``; None:
        every unit is one job) did ``steps[k]`` and finished where ``done``."""
        gang = self.jobs.gang[jobs]
        self.remaining[members] -= steps
        held = seconds
        if unit_of is not None:
            held = np.zeros(len(jobs))
            np.maximum.at(held, unit_of, seconds)
        used = np.bincount(pools, held * gang, minlength=len(self.busy))
        self.busy += used
        service = held * gang if unit_of is None else held[unit_of] * self.jobs.gang[members]
        self.service[members] += service
        self._preempted(members, on)
        finished = members[done] if np.count_nonzero(done) else members[:0]
        if len(finished):
            self.remaining[finished] = 0.0
            self.finish[finished] = self.now + seconds[done]
            self.withdraw(finished)
        length = float(np.maximum.reduce(held)) if len(jobs) else 0.0
        self.now += length
        self.used = used
        self.last = Replay(members, steps, service, used, length)
        return held, finished

    def _preempted(self, members, on) -> None:
        """The round's members run now: a job that ran last round and is present but left out,
        or that moved to another pool, counts a preemption. (The jobs marked running are
        always members of the last round: those of them not withdrawn since.)"""
        was = self.running[members]
        before = self.ran_last[self.running[self.ran_last]]     # still marked running
        moved = was & (self.pool[members] != on)
        if np.count_nonzero(moved):
            self.preemptions[members[moved]] += 1
        if np.count_nonzero(was) < len(before):                 # some were left out
            self.running[before] = False
            self.running[members] = True
            stopped = before[~self.running[before] & self.present[before]]
            self.preemptions[stopped] += 1
        else:
            self.running[members] = True
        self.pool[members] = on
        self.ran_last = members
