"""Run jobs that arrive over time on real devices, round by round, with the re-planner that
drives the simulator (:mod:`allocator.online.replanner`) deciding every round.

The loop is the simulator's, on the real clock: at each round's end the jobs that ended leave,
the jobs whose release time has come join, and the re-planner chooses the next round. A unit
that runs on in the next round on the same pool keeps its process; one left out is stopped
(SIGTERM, then SIGKILL after the grace period) and started again when it is chosen again, so a
preemptible job should checkpoint on SIGTERM and resume from its checkpoint (the environment
says which attempt this is: ``ALLOCATOR_ATTEMPT``). A round ends after ``round_s`` seconds, or
sooner when every process of it has ended. A job is done when its process exits 0; its work
done so far is estimated from its rate. A job that fails is retried, up to ``max_retries``
times, and then given up. Every decision and every start, stop and end is journaled before it
takes effect, so a run stopped or killed continues from its journal (``resume``): the jobs it
finished stay done, the others start again, and the re-planner takes up where it was (the
journal's rounds are replayed through it: see :mod:`allocator.executor.online_resume`).

With space sharing, two jobs of a unit run at once on the same devices, each in its own
process; a job that shared devices in the last round keeps its process when it stays on them.
Each process sees its devices: ``CUDA_VISIBLE_DEVICES`` (its GPUs' indices, empty on a
CPU pool), ``ALLOCATOR_DEVICE_NAME`` (the devices' names, comma-separated), ``ALLOCATOR_TASK``.
"""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..domain.problem import Problem
from ..errors import ProblemError
from ..online import policies
from ..online.jobs import JobSet
from ..online.replanner import Replanner, Round
from ..online.state import OnlineState
from .devices import resolve_devices
from .journal import Journal, JournalLock
from .logs import Logs
from .online_resume import previous, replay
from .online_results import History
from .placement import Placement
from .processes import GRACE_SECONDS, DeviceRunner, Order, Outcome

TICK = 0.02          # seconds between looks at the clock and the processes while a round runs


@dataclass
class Attempt:
    """A job's process: the thread that runs it, its runner, and how it ended."""

    job: int
    pool: int
    devices: tuple[int, ...]            # indices of the pool's devices it holds
    runner: DeviceRunner
    thread: threading.Thread
    started: float                      # on the run's clock
    outcome: Outcome | None = None


@dataclass
class OnlineReport:
    """What happened: each round's decisions, each job's arrival and end (on the run's clock,
    seconds from its start), and the jobs that failed for good."""

    names: tuple[str, ...]
    arrival: np.ndarray
    finish: np.ndarray
    rounds: list[list[tuple[str, str]]] = field(default_factory=list)   # [(job, pool)]
    failed: dict[str, str] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    # a resumed run: how many of the journal's rounds it replayed, and whether it stopped
    # replaying at one the re-planner would now decide otherwise (an older journal)
    replayed: int = 0
    diverged: bool = False


class OnlineRun:
    def __init__(self, problem: Problem, policy: str, *, round_s: float, reset_every: float,
                 journal: Journal, logs: Logs, max_retries: int, grace: float, seed: int,
                 cuda_devices: int | None, space_sharing: bool = False):
        self.problem = problem
        self.jobs = JobSet.from_problem(problem, sharing=space_sharing)
        self.job_of = {name: j for j, name in enumerate(self.jobs.names)}
        missing = [t.name for t in problem.tasks if t.job is None and t.workload is None]
        if missing:
            raise ProblemError(f"task {missing[0]!r} has no command, callable or workload to run")
        mapping, unavailable = resolve_devices(problem, available=cuda_devices)
        if unavailable:
            raise ProblemError(next(iter(unavailable.values())))
        self.torch = [[mapping[d] for d in p.device_names()] for p in problem.pools]
        chosen = policies.make(policy, seed)
        self.planner = Replanner(self.jobs, chosen, round_s,
                                 getattr(chosen, "replan_every", reset_every), seed)
        self.state = OnlineState(self.jobs)
        self.state.now = 0.0
        self.round_s, self.journal, self.logs = round_s, journal, logs
        self.max_retries, self.grace = max_retries, grace
        self.live: dict[int, Attempt] = {}
        self.tries = np.zeros(self.jobs.size, dtype=np.int64)
        self.report = OnlineReport(self.jobs.names, self.jobs.arrival.copy(),
                                   np.full(self.jobs.size, np.nan))
        self.t0, self.wall0 = time.monotonic(), time.time()    # the run's clock starts

    def clock(self) -> float:
        return time.monotonic() - self.t0

    def carry_on(self, events: list[dict]) -> None:
        """Continue the run of the journal's ``events``: its clock from its first start, the
        re-planner where the journal leaves it, its finished and given-up jobs done, its
        attempts counted."""
        self.wall0 = events[0]["wall0"]
        self.t0 = time.monotonic() - (time.time() - self.wall0)
        history = replay(self, events)
        now = self.clock()
        self.journal.write({"event": "online_resume", "t": now, "replayed": history.rounds,
                            "diverged": history.diverged})
        self.resume_at(now, history)
        for name, attempt in history.tries.items():
            self.tries[self.job_of[name]] = attempt
            self.report.attempts[name] = attempt
        self.report.replayed, self.report.diverged = history.rounds, history.diverged

    # -- the steps a journal replays -------------------------------------------------------
    def admit_at(self, now: float) -> None:
        """The clock reads ``now``: the jobs released by then join."""
        self.state.now = now
        self.planner.arrived(self.state.admit())

    def plan_at(self, now: float) -> Round:
        """The re-planner's decision at ``now``."""
        self.admit_at(now)
        return self.planner.plan(self.state)

    def decided(self, plan: Round) -> list[list[str]]:
        """The round's (job, pool) names: each unit's job, then the partners."""
        names = self.jobs.names
        pools = [p.name for p in self.problem.pools]
        decided = [[names[j], pools[t]] for j, t in zip(plan.jobs.tolist(), plan.pools.tolist())]
        decided += [[names[j], pools[t]] for j, t in zip(plan.partners.tolist(),
                                                         plan.pools.tolist()) if j >= 0]
        return decided

    def apply(self, plan: Round, end: dict) -> None:
        """A round's end (a journal's ``round_end``) in the run's state and the re-planner:
        the jobs that failed (given up, or to start again), then each member's time held
        (``seconds``, members as :meth:`decided` lists them) and whether it finished."""
        for name in end["failed"]:
            j = self.job_of[name]
            if name in end["given_up"]:
                self.state.withdraw([j])
                self.planner.departed(np.array([j]))
            else:
                self.state.running[j] = False
        self.state.now = end["start"]
        held, finished = self.state.observe(plan.jobs, plan.pools, np.array(end["seconds"]),
                                            np.array(end["ended"], dtype=bool),
                                            partners=plan.partners)
        self.planner.ran(plan, held)
        self.planner.departed(finished)
        self.report.finish[finished] = self.state.finish[finished]

    def resume_at(self, now: float, history: History) -> None:
        """The run starts again at ``now``: the jobs released by then admitted, those the
        journal says finished or were given up leave, and nothing is running."""
        self.admit_at(now)
        for name, t in history.done.items():
            self.state.finish[self.job_of[name]] = self.report.finish[self.job_of[name]] = t
        self.report.failed.update(history.failed)
        over = [self.job_of[n] for n in [*history.done, *history.failed]
                if self.state.present[self.job_of[n]]]
        self.state.withdraw(over)
        self.state.remaining[over] = 0.0
        self.planner.departed(np.array(over, dtype=np.int64))
        self.state.running[:] = False

    # -- the loop --------------------------------------------------------------------------
    def go(self) -> OnlineReport:
        state = self.state
        while True:
            now = self.clock()
            self.admit_at(now)
            if not state.present.any() and state.next_arrival is None:
                break
            plan = self.planner.plan(state)
            if not plan.empty:
                self._round(plan, now)
                continue
            if state.next_arrival is None:
                raise RuntimeError(f"policy {self.planner.policy.name!r} ran nothing with "
                                   f"{int(state.present.sum())} jobs waiting and none to come")
            self.journal.write({"event": "idle", "t": self.clock(), "now": now})
            self._stop_all()
            state.running[:] = False
            time.sleep(max(state.next_arrival - self.clock(), 0.0))
        self.journal.write({"event": "online_end", "t": self.clock()})
        return self.report

    def _round(self, plan: Round, now: float) -> None:
        decided = self.decided(plan)
        self.report.rounds.append([tuple(d) for d in decided])
        self.journal.write({"event": "round", "t": self.clock(), "now": now, "units": decided})
        start = self.clock()
        members = np.concatenate([plan.jobs, plan.partners[plan.partners >= 0]])
        on = np.concatenate([plan.pools, plan.pools[plan.partners >= 0]])
        wanted = dict(zip(members.tolist(), on.tolist()))
        for j in [j for j, a in self.live.items() if wanted.get(j) != a.pool]:
            self._stop(j, "preempted")
        units = [[j] + ([p] if p >= 0 else []) for j, p in zip(plan.jobs.tolist(),
                                                              plan.partners.tolist())]
        for unit, t, devices in zip(units, plan.pools.tolist(), self._places(units, plan.pools)):
            for j in unit:
                if j not in self.live:
                    self._start(j, t, devices)
        while self.clock() - start < self.round_s and \
                any(self.live[j].outcome is None for j in members.tolist()):
            time.sleep(TICK)
        self._account(plan, members, start)

    def _places(self, units: list[list[int]], pools: np.ndarray) -> list[tuple[int, ...]]:
        """The devices of each unit (one job, or two sharing): those a member already runs
        on, if no unit before it has claimed them, else free ones. A member running on other
        devices than its unit's is stopped (to start again on the unit's): two jobs that
        shared devices in the last round and not in this one, or two that meet on one pool."""
        claimed: dict[int, set[int]] = {}
        places: list[tuple[int, ...] | None] = []
        for unit, t in zip(units, pools.tolist()):
            taken = claimed.setdefault(t, set())
            held = [self.live[j].devices for j in unit if j in self.live]
            devices = next((d for d in held if not taken & set(d)), None)
            for j in unit:
                if j in self.live and self.live[j].devices != devices:
                    self._stop(j, "moved")
            if devices is not None:
                taken |= set(devices)
            places.append(devices)
        for k, (unit, t) in enumerate(zip(units, pools.tolist())):
            if places[k] is None:             # new units take devices no unit has claimed
                free = sorted(set(range(self.problem.pools[t].count)) - claimed[t])
                places[k] = tuple(free[:int(self.jobs.gang[unit[0]])])
                claimed[t] |= set(places[k])
        return places

    def _account(self, plan: Round, members: np.ndarray, start: float) -> None:
        """The round's end: each member's time and outcome journaled, then applied."""
        now = self.clock()
        end = {"event": "round_end", "t": now, "start": start, "seconds": [], "ended": [],
               "failed": [], "given_up": []}
        for j in members.tolist():
            attempt = self.live[j]
            done = attempt.outcome is not None and attempt.outcome.status == "completed"
            stop = self._end_of(attempt) if attempt.outcome is not None else now
            end["seconds"].append(max(stop - max(start, attempt.started), 0.0))
            end["ended"].append(done)
            if attempt.outcome is not None:
                self._ended(j, attempt, end)
        self.journal.write(end)
        self.apply(plan, end)
        self.state.now = self.clock()

    def _end_of(self, attempt: Attempt) -> float:
        return attempt.outcome.end - self.wall0

    # -- processes -------------------------------------------------------------------------
    def _start(self, job: int, pool: int, devices: tuple[int, ...]) -> None:
        task = self.problem.tasks[int(self.jobs.order[job])]
        self.tries[job] += 1
        names = [self.problem.pools[pool].device_names()[d] for d in devices]
        torch = [self.torch[pool][d] for d in devices]
        gpus = tuple(int(x.split(":")[1]) if ":" in x else 0 for x in torch
                     if x.startswith("cuda"))
        lane = ",".join(names)
        placement = Placement.of_gpus(lane, gpus, {"ALLOCATOR_DEVICES": lane})
        runner = DeviceRunner(placement, self.logs, grace=self.grace)
        order = Order.of(task, int(self.tries[job]), timeout=task.timeout)
        self.journal.write({"event": "start", "t": self.clock(), "task": task.name,
                            "attempt": int(self.tries[job]), "devices": names})
        attempt = Attempt(job, pool, devices, runner, None, self.clock())
        attempt.thread = threading.Thread(target=self._run, args=(attempt, order), daemon=True,
                                          name=f"allocator {task.name}")
        self.live[job] = attempt
        attempt.thread.start()

    @staticmethod
    def _run(attempt: Attempt, order: Order) -> None:
        attempt.outcome = attempt.runner.run(order)

    def _stop(self, job: int, why: str) -> None:
        attempt = self.live[job]
        self.journal.write({"event": why, "t": self.clock(), "task": self.jobs.names[job]})
        attempt.runner.interrupt()
        attempt.thread.join()
        self._release(job)

    def _stop_all(self) -> None:
        for j in list(self.live):
            self._stop(j, "stopped")

    def _ended(self, job: int, attempt: Attempt, end: dict) -> None:
        """A process ended: journaled; a failure noted in the round's ``end`` (given up
        after ``max_retries``, else to start again)."""
        outcome = attempt.outcome
        name = self.jobs.names[job]
        self.journal.write({"event": "end", "t": self.clock(), "task": name,
                            "status": outcome.status, "error": outcome.error})
        self._release(job)
        if outcome.status == "failed":
            end["failed"].append(name)
            if self.tries[job] > self.max_retries:
                end["given_up"].append(name)
                self.report.failed[name] = outcome.error or "failed"
                self.journal.write({"event": "given_up", "t": self.clock(), "task": name,
                                    "error": self.report.failed[name]})

    def _release(self, job: int) -> None:
        attempt = self.live.pop(job)
        attempt.runner.close()
        self.report.attempts[self.jobs.names[job]] = int(self.tries[job])


def execute_online(problem: Problem, policy: str = "max_min_fairness", *, round_s: float = 360.0,
                   reset_every: float = 1920.0, journal: str | Path | None = None,
                   resume: bool = False, logs: str | Path | None = None, max_retries: int = 2,
                   grace: float = GRACE_SECONDS, seed: int = 0, cuda_devices: int | None = None,
                   space_sharing: bool = False) -> OnlineReport:
    """Run the problem's tasks as jobs arriving at their release times (seconds from the
    run's start), ``policy`` deciding each round what runs where; see the module's notes.
    ``space_sharing``: two jobs may run together on the same devices, as the problem's
    ``sharing`` list allows (for the policies that pair jobs: gandiva, max_min_fairness).
    With ``resume``, continue the run in ``journal`` (stopped or killed): its clock goes on
    from the first start, the jobs it finished stay done, the others start again, and the
    re-planner goes on from the journal's rounds (the time each job has had, its shares)."""
    if resume and journal is None:
        raise ProblemError("resuming an online run needs its journal")
    if space_sharing:
        policies.require_sharing(policy)
    folder = Path(logs) if logs is not None else Path(tempfile.mkdtemp(prefix="allocator-"))
    settings = {"policy": policy, "round_s": round_s, "reset_every": reset_every,
                "seed": seed, "space_sharing": space_sharing}
    with JournalLock(journal):
        before = previous(journal, settings, [t.name for t in problem.tasks]) if resume \
            else None
        if not resume and journal is not None and Path(journal).exists() \
                and Path(journal).stat().st_size:
            raise ProblemError(f"the journal {journal} already holds a run; resume it, or "
                               "give a new journal")
        book = Journal(journal)
        book.open()
        try:
            run = OnlineRun(problem, policy, round_s=round_s, reset_every=reset_every,
                            journal=book, logs=Logs(folder), max_retries=max_retries,
                            grace=grace, seed=seed, cuda_devices=cuda_devices,
                            space_sharing=space_sharing)
            if before is None:
                book.write({"event": "online_start", **settings,
                            "tasks": list(run.jobs.names), "wall0": run.wall0})
            else:
                run.carry_on(before)
            try:
                return run.go()
            finally:
                run._stop_all()
        finally:
            book.close()
