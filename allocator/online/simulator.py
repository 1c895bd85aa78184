"""The discrete-event simulator: simulated time, the re-planner deciding every round.

Events are arrivals and the ends of rounds. At each round's end the jobs that finished leave,
the jobs that arrived meanwhile join, and the re-planner chooses the next round; with nothing
to run the clock jumps to the next arrival. A job that finishes inside a round finishes at its
exact time, and a round lasts until its last job stops (at most ``round_s``), as in Gavel's
simulator, so that the two can be compared on the same job lists.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np

from ..domain.problem import Problem
from ..errors import ProblemError
from . import policies
from .jobs import JobSet
from .policies.base import Policy
from .replanner import Replanner, Round
from .result import SimulationResult, Timeline
from .state import OnlineState

Progress = Callable[[int, int, float], None]      # (jobs done, jobs to finish, simulated s)


def simulate(problem: Problem | JobSet, policy: str | Policy = "max_min_fairness", *,
             round_s: float = 360.0, reset_every: float = 1920.0, restart_s: float = 0.0,
             measure: Sequence[int] | None = None, seed: int = 0,
             progress: Progress | None = None,
             on_round: Callable[[float, Round], None] | None = None) -> SimulationResult:
    """Simulate ``policy`` (a name in ``POLICIES``, or an object with the :class:`Policy`
    attributes) on the problem's tasks as jobs arriving at their release times.

    ``measure``: positions (in the problem's task list) of the jobs the summary's JCT is over;
    the simulation then stops when they have all finished, as Gavel's does on its continuous
    traces. By default every job is measured and the simulation runs until all are done.
    ``restart_s``: seconds a job loses each time it starts on a pool it was not running on
    in the previous round (Gavel charges none). ``on_round(now, round)`` is told every
    round's decision before it runs. The result's ``wall_s`` counts from the policy's
    creation (its imports excluded, as Gavel's timer excludes its own) to the end."""
    jobs = problem if isinstance(problem, JobSet) else JobSet.from_problem(problem)
    if not 0 <= restart_s < round_s:
        raise ProblemError(f"the restart cost must be ≥ 0 and shorter than a round "
                           f"({round_s:g} s), got {restart_s:g} s")
    if round_s <= 0 or reset_every < 0:
        raise ProblemError("the round must be > 0 s and the reset interval ≥ 0 s")
    measured = _measured(jobs, measure)
    state = OnlineState(jobs)
    chosen = policies.make(policy, seed) if isinstance(policy, str) else policy
    every = getattr(chosen, "replan_every", reset_every)
    planner = Replanner(jobs, chosen, round_s, every, seed)
    wall = time.perf_counter()
    starts, busy = [], []                 # each round's start and device-seconds per pool
    rounds = _loop(state, planner, measured, round_s, restart_s, progress, on_round,
                   starts, busy)
    return SimulationResult(jobs=jobs, policy=chosen.name, round_s=round_s,
                            finish=state.finish.copy(),
                            end=state.now, busy=state.busy.copy(),
                            preemptions=state.preemptions.copy(), measured=measured,
                            rounds=rounds, allocations=planner.allocations,
                            wall_s=time.perf_counter() - wall,
                            timeline=Timeline(np.array(starts), np.array(busy).reshape(
                                -1, len(jobs.pools)), state.now))


def _loop(state: OnlineState, planner: Replanner, measured: np.ndarray, round_s: float,
          restart_s: float, progress, on_round, starts: list, busy: list) -> int:
    """Round after round until the measured jobs are done; the number of rounds. A steady
    round (nothing would change in the next ones until a job comes or goes or the allocation
    is due) is run again at once for as many rounds as stay so."""
    rounds, target, finished, report = 0, len(measured), 0, 0
    counted = np.zeros(state.jobs.size, dtype=bool)
    counted[measured] = True
    while True:
        planner.arrived(state.admit())
        if progress is not None and rounds >= report:
            progress(finished, target, state.now)
            report = rounds + 64
        if finished == target:
            break
        plan = planner.plan(state)
        if plan.empty:
            if state.next_arrival is None:
                raise RuntimeError(f"policy {planner.policy.name!r} ran nothing with "
                                   f"{int(state.present.sum())} jobs waiting and none to come")
            state.running[:] = False
            state.now = state.next_arrival
            continue
        if on_round is not None:
            on_round(state.now, plan)
        starts.append(state.now)
        seconds, done = state.run(plan.jobs, plan.pools, round_s, restart_s,
                                  plan.partners if plan.shared else None)
        busy.append(state.used)
        planner.ran(plan, seconds)
        if len(done):
            planner.departed(done)
            finished += int(counted[done].sum())
        rounds += 1
        if plan.steady:
            rounds += _again(state, planner, plan, seconds, on_round, starts, busy)
    if progress is not None:
        progress(target, target, state.now)
    return rounds


def _again(state: OnlineState, planner: Replanner, plan: Round, seconds: np.ndarray,
           on_round, starts: list, busy: list) -> int:
    """Run a steady round again while nothing can change: no job finishes, none arrives
    and the allocation is not due. Exactly what planning each round would do; the number of
    rounds run."""
    arrival = state.next_arrival
    before = min(np.inf if arrival is None else arrival, planner.quiet_until())
    again = state.repeat(before)
    if again:
        planner.replayed(plan, seconds, len(again))
        if on_round is not None:
            for start in again:
                on_round(start, plan)
        starts += again
        busy += [state.used] * len(again)
    return len(again)


def _measured(jobs: JobSet, measure: Sequence[int] | None) -> np.ndarray:
    """Job indices (arrival order) of the tasks at the given positions."""
    if measure is None:
        return np.arange(jobs.size)
    position = np.empty(jobs.size, dtype=np.int64)
    position[jobs.order] = np.arange(jobs.size)
    wanted = np.asarray(list(measure), dtype=np.int64)
    if wanted.size == 0:
        raise ProblemError("no jobs to measure")
    if wanted.min() < 0 or wanted.max() >= jobs.size:
        raise ProblemError(f"jobs to measure must be positions 0 to {jobs.size - 1}, "
                           f"got {int(wanted.min())} to {int(wanted.max())}")
    return position[wanted]
