"""Run a plan on real devices: one thread per device feeds its process, every event journaled.

The parts, each in its own module: the journal (:mod:`.journal`: one writer, group commit),
the run's state as a fold over its events (:mod:`.state`), the processes a task runs in
(:mod:`.processes`, :mod:`.worker`), what a failure means (:mod:`.policy`), planning again
(:mod:`.replan`), the checks before a run (:mod:`.inputs`), the live run's threads
(:mod:`.live_run`) and the report (:mod:`.results`). This module only wires them: it checks
the inputs, reads or starts the journal, starts the live run, and stops cleanly on SIGINT
and SIGTERM.
"""

from __future__ import annotations

import importlib.util
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import AllocatorError, RunStopped
from ..domain.plan import Plan
from ..domain.problem import Problem
from .devices import cuda_count, require, resolve_devices
from .inputs import check_inputs
from .journal import Journal, JournalLock
from .logs import Logs
from .processes import GRACE_SECONDS, DeviceRunner, Placement
from .live_run import LiveRun, fingerprint
from .node_share import NodeShare, node_share
from .results import ExecutionReport, report_from_events

def execute(problem: Problem, plan: Plan | None = None, *, journal: str | Path | None = None,
            resume: bool = False, max_retries: int | None = None,
            drain_after: int | None = None, enforce_memory: bool = True,
            replan_time_limit: float = 10.0, task_timeout: float | None = None,
            logs: str | Path | None = None, grace: float = GRACE_SECONDS,
            progress: bool = False, cuda_devices: int | None = None,
            node: str | None = None) -> ExecutionReport:
    """Run ``plan`` (solved first when ``None``) and return what happened.

    Every task runs in a process of its own: a command as a child process, a callable or a
    torch workload in its device's worker process. A task's failure — an exception, a
    non-zero exit, a signal, a crash, a timeout — fails that attempt, never the run.

    Parameters
    ----------
    journal : path, optional
        JSON-lines journal; required for ``resume``. An existing non-empty journal is only
        reused with ``resume=True``. One run writes a journal at a time: another run on it
        is refused at once, naming the process; a torn last line left by a killed run is cut
        off when it resumes.
    resume : bool
        Continue the run recorded in ``journal``: completed tasks are not run again.
    max_retries : int, optional
        Re-runs allowed per task after a failure (default 2; a resumed run keeps the
        journaled limit unless given another).
    drain_after : int, optional
        Failures pointing at a device (from different tasks) after which it gets no more
        work (default 2; see :mod:`allocator.executor.policy`).
    enforce_memory : bool
        On CPU devices, fail a torch task whose live tensors exceed the pool's ``memory``
        with ``torch.OutOfMemoryError``, as a device of that size would.
    replan_time_limit : float
        Seconds for each re-plan's solve (a heuristic takes over if none is found).
    task_timeout : float, optional
        Seconds an attempt may run when its task sets no ``timeout``.
    logs : path, optional
        Folder of the tasks' stdout and stderr (default: ``<journal>.logs``, or a new
        temporary folder without a journal).
    grace : float
        Seconds between SIGTERM and SIGKILL when a task is stopped.
    progress : bool
        Show a rich progress bar per device (on stderr).
    cuda_devices : int, optional
        Number of CUDA devices to assume (default: what this machine has); for tests.
    node : str, optional
        On a cluster of nodes: run the share of ``plan`` (required) that it places on this
        node, every task at once in a lane that sees its GPUs (:mod:`.node_share`).

    Raises
    ------
    RunStopped
        On SIGINT or SIGTERM (with the report so far); ``resume`` finishes the rest.
    """
    share = None
    if node is not None:
        share = node_share(problem, plan, node, cuda_devices=(
            cuda_devices if cuda_devices is not None else cuda_count()))
    check_inputs(problem, resume=resume, journal=journal, max_retries=max_retries,
                 drain_after=drain_after, task_timeout=task_timeout,
                 node_tasks=None if share is None else share.tasks)
    with JournalLock(journal):                 # one run writes a journal at a time
        events = _previous_events(problem, journal, resume,
                                  None if share is None else share.describe())
        if not events and share is None:
            plan = _runnable_plan(problem, plan)
        lanes = _device_lanes(problem, plan, events, cuda_devices) if share is None else (
            share.placements, {lane: [t] for t, lane in share.lanes.items()})
        return _execute(problem, plan, events, lanes, share, journal=journal,
                        limits=_limits(max_retries, drain_after),
                        enforce_memory=enforce_memory, replan_time_limit=replan_time_limit,
                        task_timeout=task_timeout, logs=logs, grace=grace, progress=progress)


def _limits(max_retries: int | None, drain_after: int | None) -> dict:
    return {k: v for k, v in (("max_retries", max_retries), ("drain_after", drain_after))
            if v is not None}


# -- before anything runs -------------------------------------------------------------------


def _previous_events(problem: Problem, journal, resume: bool, share: dict | None
                     ) -> list[dict]:
    jpath = None if journal is None else Path(journal)
    if jpath is None or not jpath.exists():
        return []
    if not resume:
        if jpath.stat().st_size:
            raise AllocatorError(f"journal {jpath} already holds a run; resume it (--resume) "
                                 "or remove it")
        return []
    events = Journal.read(jpath, repair=True)
    if events and (events[0].get("event") != "start"
                   or events[0].get("fingerprint") != fingerprint(problem, share)):
        what = "problem" if share is None else "problem, plan or node"
        raise AllocatorError(f"journal {jpath} records a run of a different {what}")
    return events


def _runnable_plan(problem: Problem, plan: Plan | None) -> Plan:
    if plan is None:
        from ..solver.pipeline import solve
        plan = solve(problem)
    if not plan.status.has_plan:
        raise AllocatorError(f"no plan to run: status {plan.status}"
                             + (f" ({plan.reason})" if plan.reason else ""))
    if plan.problem != problem.name:
        raise AllocatorError(f"the plan is for problem {plan.problem!r}, not {problem.name!r}")
    if plan.fractions:
        raise AllocatorError("the plan splits tasks across devices (load_balance); the "
                             "executor runs whole tasks")
    placed = [s.task for s in plan.schedule]
    missing = sorted({t.name for t in problem.tasks} - set(placed), key=problem.task_index.get)
    if missing or len(placed) != len(set(placed)):
        what = (f"does not place {', '.join(missing)}" if missing
                else "places a task more than once")
        raise AllocatorError(f"the plan ({plan.objective_name}) {what}; the executor runs "
                             "plans with a per-device schedule (makespan, cost)")
    return plan


# -- running --------------------------------------------------------------------------------

def _device_lanes(problem: Problem, plan: Plan | None, events: list[dict],
                  cuda_devices: int | None) -> tuple[dict[str, Placement], dict]:
    """What each device's child sees, and the queues to start from (the journal's last, or
    the plan's), for a run on this machine's devices."""
    mapping, unavailable = resolve_devices(problem, available=cuda_devices)
    if events:
        queues = events[0]["queues"]
        for e in events:
            if e["event"] in ("replan", "resume"):
                queues = e["queues"]
    else:
        queues = {d: [s.task for s in slots] for d, slots in plan.device_schedule().items()}
    require(problem, [d for d, q in queues.items() if q], mapping, unavailable)
    return {d: Placement.of(d, mapping[d]) for d in mapping}, queues


def _execute(problem: Problem, plan: Plan | None, events: list[dict], lanes: tuple,
             share: NodeShare | None, *, journal, limits: dict, enforce_memory: bool,
             replan_time_limit: float, task_timeout: float | None, logs, grace: float,
             progress: bool) -> ExecutionReport:
    placements, queues = lanes
    folder = Path(logs) if logs is not None else (
        Path(str(journal) + ".logs") if journal is not None
        else Path(tempfile.mkdtemp(prefix="allocator-run-")))
    runners = {d: DeviceRunner(p, Logs(folder), grace=grace) for d, p in placements.items()}
    sink = Journal(journal)
    run = LiveRun(problem, runners, sink, enforce_memory=enforce_memory,
                  replan_time_limit=replan_time_limit, task_timeout=task_timeout,
                  lanes=None if share is None else share.lanes,
                  after=None if share is None else share.after)
    bars = None
    try:
        _warm_up(problem, runners, queues)
        sink.open()
        wall = time.perf_counter()
        with run.lock:
            if events:
                run.resume(events, limits)
            else:
                run.begin(plan, queues, limits, str(folder),
                          None if share is None else share.describe())
        if progress:
            from .progress import DeviceProgress
            bars = DeviceProgress({d: p.torch_device for d, p in placements.items()})
            bars.start({d: list(q) for d, q in run.state.queues.items()})
            run.on_event = bars.update
        with _Signals(run.stop):
            run.go()
        wall = time.perf_counter() - wall
    finally:
        if bars is not None:
            bars.stop()
        for r in runners.values():
            r.close()
        closing_error = None
        try:
            sink.close()
        except AllocatorError as exc:
            closing_error = exc
    if run.fatal or closing_error:
        raise AllocatorError(f"the run stopped: {run.fatal or closing_error}")
    report = report_from_events(run.state.events, problem if share is None else None,
                                wall=wall)
    if run.stopped:
        raise RunStopped(run.stopped, report)
    return report


def _warm_up(problem: Problem, runners: dict[str, DeviceRunner], queues) -> None:
    """Start the worker processes the queues need, and pay torch's one-off costs there,
    in parallel, before the clock starts."""
    have_torch = importlib.util.find_spec("torch") is not None
    threads = []
    for device, queue in queues.items():
        tasks = [problem.tasks[problem.task_index[t]] for t in queue]
        callables = any(t.job is not None and t.job.callable for t in tasks)
        # A callable's peak memory is measured with torch when torch is here: import it
        # now, not inside the first task's time.
        torch = any(t.workload is not None for t in tasks) or (callables and have_torch)
        if device in runners and (torch or callables):
            runners[device].start_worker()          # from this thread, which outlives it
            threads.append(threading.Thread(target=runners[device].warm_up, args=(torch,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class _Signals:
    """SIGINT and SIGTERM call ``stop(name)`` for the block (from the main thread only)."""

    def __init__(self, stop: Callable[[str], None]):
        self.stop = stop
        self.saved: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(
                    sig, lambda number, frame: self.stop(signal.Signals(number).name))
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


__all__ = ["check_inputs", "execute", "fingerprint"]
