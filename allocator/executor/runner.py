"""Run a plan on real devices: one thread per device feeds its process, every event journaled.

The parts, each in its own module: the journal (:mod:`.journal`: one writer, group commit),
the run's state as a fold over its events (:mod:`.state`), the processes a task runs in
(:mod:`.processes`, :mod:`.worker`), what a failure means (:mod:`.policy`), planning again
(:mod:`.replan`) and the report (:mod:`.results`). This module only wires them: it checks
the inputs, starts the device threads and the re-planner, turns what a process reports into
events, and stops cleanly on SIGINT and SIGTERM.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..objectives.metrics import processing_time
from ..errors import AllocatorError, RunStopped
from ..io.problem_files import to_dict
from ..domain.plan import Plan
from ..domain.problem import Problem, Task
from . import policy
from .devices import require, require_torch, resolve_devices
from .journal import Journal, JournalLock
from .processes import GRACE_SECONDS, DeviceRunner, Logs, Order, Outcome, Placement
from .replan import replan
from .results import ExecutionReport, report_from_events
from .state import RunState

JOURNAL_VERSION = 2


def fingerprint(problem: Problem) -> str:
    text = json.dumps(to_dict(problem), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def execute(problem: Problem, plan: Plan | None = None, *, journal: str | Path | None = None,
            resume: bool = False, max_retries: int | None = None,
            drain_after: int | None = None, enforce_memory: bool = True,
            replan_time_limit: float = 10.0, task_timeout: float | None = None,
            logs: str | Path | None = None, grace: float = GRACE_SECONDS,
            progress: bool = False, cuda_devices: int | None = None) -> ExecutionReport:
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

    Raises
    ------
    RunStopped
        On SIGINT or SIGTERM (with the report so far); ``resume`` finishes the rest.
    """
    check_inputs(problem, resume=resume, journal=journal, max_retries=max_retries,
                 drain_after=drain_after, task_timeout=task_timeout)
    with JournalLock(journal):                 # one run writes a journal at a time
        events = _previous_events(problem, journal, resume)
        if not events:
            plan = _runnable_plan(problem, plan)
        return _execute(problem, plan, events, journal=journal,
                        limits=_limits(max_retries, drain_after),
                        enforce_memory=enforce_memory, replan_time_limit=replan_time_limit,
                        task_timeout=task_timeout, logs=logs, grace=grace, progress=progress,
                        cuda_devices=cuda_devices)


def _limits(max_retries: int | None, drain_after: int | None) -> dict:
    return {k: v for k, v in (("max_retries", max_retries), ("drain_after", drain_after))
            if v is not None}


# -- before anything runs -------------------------------------------------------------------

def check_inputs(problem: Problem, *, resume: bool = False, journal=None,
                 max_retries: int | None = None, drain_after: int | None = None,
                 task_timeout: float | None = None) -> None:
    """Refuse, before any solve, what cannot run: tasks with nothing to run, a program or
    module this machine lacks, a journal folder that cannot be written, bad limits."""
    if resume and journal is None:
        raise AllocatorError("resume needs the journal of the run to continue")
    for name, value, least in (("max_retries", max_retries, 0), ("drain_after", drain_after, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < least):
            raise AllocatorError(f"{name} must be a whole number >= {least}, got {value!r}")
    if task_timeout is not None and not task_timeout > 0:
        raise AllocatorError(f"task_timeout must be > 0 seconds, got {task_timeout!r}")
    missing = [t.name for t in problem.tasks if t.job is None and t.workload is None]
    if missing:
        raise AllocatorError(f"task{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                             "ha" + ("ve" if len(missing) > 1 else "s")
                             + " nothing to run: give each a command:, a callable: or a "
                             "workload: (docs/executor.md)")
    if any(t.workload is not None for t in problem.tasks):
        require_torch()
    for task in problem.tasks:
        check_runnable(task)
    if journal is not None:
        folder = Path(journal).resolve().parent
        if not folder.is_dir():
            raise AllocatorError(f"the journal's folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise AllocatorError(f"the journal's folder {folder} is not writable")


def check_runnable(task: Task) -> None:
    """What can be checked on this machine before anything runs: the command's folder and
    program, the callable's module, that a workload's function can reach a worker."""
    what = f"task {task.name!r}"
    job = task.job
    if job is not None and job.command is not None:
        if not Path(job.cwd).is_dir():
            raise AllocatorError(f"{what}: its cwd {job.cwd} is not a folder on this machine")
        program = job.command[0]
        path = job.env.get("PATH", os.environ.get("PATH", os.defpath))
        found = (Path(job.cwd, program).is_file() if os.sep in program
                 else shutil.which(program, path=path) is not None)
        if not found:
            raise AllocatorError(f"{what}: cannot find the program {program!r} "
                                 + ("in its cwd" if os.sep in program else "on the PATH"))
    elif job is not None:
        module = job.callable.partition(":")[0]
        sys.path.insert(0, job.cwd)                   # where the worker imports it from
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError) as exc:
            spec, why = None, f" ({exc})"
        else:
            why = ""
        finally:
            sys.path.remove(job.cwd)
        if spec is None:
            raise AllocatorError(f"{what}: cannot import {module!r} for its callable "
                                 f"{job.callable!r}{why}")
    elif task.workload is not None:
        from ..domain.workloads import split
        workload = split(task.workload)[0]
        try:
            pickle.dumps(workload.run)
        except Exception:
            raise AllocatorError(
                f"{what}: the function of workload {workload.name!r} cannot be sent to a "
                "worker process (it is defined inside a function or interactively); define "
                "it at the top level of an importable module") from None


def _previous_events(problem: Problem, journal, resume: bool) -> list[dict]:
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
                   or events[0].get("fingerprint") != fingerprint(problem)):
        raise AllocatorError(f"journal {jpath} records a run of a different problem")
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

def _execute(problem: Problem, plan: Plan | None, events: list[dict], *, journal, limits: dict,
             enforce_memory: bool, replan_time_limit: float, task_timeout: float | None,
             logs, grace: float, progress: bool, cuda_devices: int | None) -> ExecutionReport:
    mapping, unavailable = resolve_devices(problem, available=cuda_devices)
    if events:
        queues = events[0]["queues"]
        for e in events:
            if e["event"] in ("replan", "resume"):
                queues = e["queues"]
    else:
        queues = {d: [s.task for s in slots] for d, slots in plan.device_schedule().items()}
    require(problem, [d for d, q in queues.items() if q], mapping, unavailable)
    folder = Path(logs) if logs is not None else (
        Path(str(journal) + ".logs") if journal is not None
        else Path(tempfile.mkdtemp(prefix="allocator-run-")))
    runners = {d: DeviceRunner(Placement.of(d, mapping[d]), Logs(folder), grace=grace)
               for d in mapping}
    sink = Journal(journal)
    run = _Run(problem, runners, sink, enforce_memory=enforce_memory,
               replan_time_limit=replan_time_limit, task_timeout=task_timeout)
    bars = None
    try:
        _warm_up(problem, runners, queues)
        sink.open()
        wall = time.perf_counter()
        with run.lock:
            if events:
                run.resume(events, limits)
            else:
                run.begin(plan, queues, limits, str(folder))
        if progress:
            from .progress import DeviceProgress
            bars = DeviceProgress(problem, mapping)
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
    report = report_from_events(run.state.events, problem, wall=wall)
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


class _Run:
    """The live run: device threads take tasks from the state's queues, a re-planner thread
    plans for tasks that lost their place; every change is an event, journaled."""

    def __init__(self, problem: Problem, runners: dict[str, DeviceRunner], journal: Journal, *,
                 enforce_memory: bool, replan_time_limit: float, task_timeout: float | None):
        self.problem = problem
        self.runners = runners
        self.journal = journal
        self.enforce_memory = enforce_memory
        self.replan_time_limit = replan_time_limit
        self.task_timeout = task_timeout
        self.lock = threading.Condition()
        self.state = RunState([t.name for t in problem.tasks], list(runners))
        self.on_event: Callable[[dict], None] | None = None
        self.replan_reasons: list[str] = []
        self.stopped: str | None = None
        self.fatal: str | None = None

    # events (call with the lock held)
    def emit(self, event: dict) -> int:
        event = {"event": event.pop("event"), "time": time.time(), **event}
        self.state.apply(event)
        seq = self.journal.append(event)
        if self.on_event is not None:
            self.on_event(event)
        return seq

    def begin(self, plan: Plan, queues: dict, limits: dict, logs: str) -> None:
        self.emit({"event": "start", "version": JOURNAL_VERSION, "problem": self.problem.name,
                   "fingerprint": fingerprint(self.problem), "origin": time.time(),
                   "objective": plan.objective_name, "devices": {
                       d: r.placement.torch_device for d, r in self.runners.items()},
                   "tasks": [t.name for t in self.problem.tasks],
                   "limits": {**self.state.limits, **limits}, "logs": logs,
                   "predicted_makespan": _predicted_makespan(self.problem, queues),
                   "queues": queues})

    def resume(self, events: list[dict], limits: dict) -> None:
        for e in events:
            self.state.apply(e)
        state = self.state
        died = state.interrupted_by_a_kill()
        queues = {d: list(q) for d, q in state.queues.items()}
        for task in died:                  # first again where it was, if it may go there
            device = state.device_of[task]
            if device in queues and device not in state.drained \
                    and device not in state.excluded[task]:
                queues[device].insert(0, task)
        changed = {k: v for k, v in limits.items() if state.limits.get(k) != v}
        self.emit({"event": "resume", "interrupted": died, "queues": queues,
                   **({"limits": changed} if changed else {}),
                   "completed": state.counts()["completed"]})
        for task in died:
            if state.status[task] == "pending" and policy.out_of_attempts(state, task):
                self.emit({"event": "task_failed", "task": task,
                           "reason": f"started {state.attempts[task]} times, and its last "
                                     "allowed attempt ended with the run (killed)"})
        if state.waiting():
            self.replan_reasons.append("resumed with tasks that need a device")

    def stop(self, name: str) -> None:
        """Stop the run (from a signal handler): no new task starts, running ones are
        stopped, SIGTERM then SIGKILL."""
        if self.stopped is None:
            self.stopped = name
            for r in self.runners.values():
                r.interrupt()
        threading.Thread(target=self._wake, daemon=True).start()   # never lock in a handler

    def _wake(self) -> None:
        with self.lock:
            self.lock.notify_all()

    def _halt(self, why: str) -> None:
        with self.lock:
            self.fatal = self.fatal or why
            self.lock.notify_all()
        for r in self.runners.values():
            r.interrupt()

    def over(self) -> bool:
        return self.state.finished() or self.stopped is not None or self.fatal is not None

    # threads
    def go(self) -> None:
        threads = [threading.Thread(target=self._guarded, args=(self.device_loop, d),
                                    name=f"allocator {d}", daemon=True) for d in self.runners]
        threads.append(threading.Thread(target=self._guarded, args=(self.replanner, None),
                                        name="allocator re-planner", daemon=True))
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):       # joins that let signals through
            for t in threads:
                t.join(0.2)
        with self.lock:
            if self.stopped is not None and self.fatal is None:
                self.emit({"event": "stop", "signal": self.stopped})
            elif self.fatal is None:
                self.emit({"event": "end", **self.state.counts()})
        if self.fatal is None:
            try:
                self.journal.wait()
            except AllocatorError as exc:
                self.fatal = str(exc)

    def _guarded(self, body, arg) -> None:
        try:
            body(arg) if arg is not None else body()
        except AllocatorError as exc:                   # the journal could not be written
            self._halt(str(exc))
        except BaseException as exc:                    # a bug, not a task's failure
            self._halt(f"{type(exc).__name__}: {exc}")

    def device_loop(self, device: str) -> None:
        state = self.state
        while True:
            with self.lock:
                while not self.over() and not state.queues[device] \
                        and device not in state.drained:
                    self.lock.wait(1.0)
                if self.over() or device in state.drained:
                    return
                task = state.queues[device][0]
                attempt = state.attempts[task] + 1
                seq = self.emit({"event": "task_start", "task": task, "device": device,
                                 "attempt": attempt})
            self.journal.wait(seq)                       # on disk before the task starts
            outcome = self.runners[device].run(self._order(task, device, attempt))
            with self.lock:
                self.ended(task, device, attempt, outcome)
                self.lock.notify_all()

    def _order(self, name: str, device: str, attempt: int) -> Order:
        task = self.problem.tasks[self.problem.task_index[name]]
        timeout = task.timeout if task.timeout is not None else self.task_timeout
        cpu = self.runners[device].placement.child_device == "cpu"
        cap = self.problem.pool_of(device).memory if self.enforce_memory and cpu else None
        return Order.of(task, attempt, timeout=timeout, memory_cap=cap)

    def ended(self, task: str, device: str, attempt: int, outcome: Outcome) -> None:
        state = self.state
        excluded = (policy.exclusions(self.problem, device, outcome.cause)
                    if outcome.status == "failed" else [])
        self.emit({"event": "task_end", "task": task, "device": device,
                   "torch_device": self.runners[device].placement.torch_device,
                   "attempt": attempt, "status": outcome.status,
                   "start": outcome.start - state.origin, "end": outcome.end - state.origin,
                   "peak_memory": outcome.peak_memory, "error": outcome.error,
                   "cause": outcome.cause, "exit_code": outcome.exit_code,
                   "signal": outcome.signal, "stderr_tail": outcome.stderr_tail,
                   "excluded": excluded})
        if outcome.status == "interrupted":
            return
        suspects = [device] if outcome.status == "failed" else \
            [d for d, failed in state.failures.items() if task in failed]
        for d, reason in policy.to_drain(state, suspects).items():
            self.emit({"event": "drain", "device": d, "reason": reason})
            self.replan_reasons.append(f"{d} drained")
        if outcome.status == "failed":
            if policy.out_of_attempts(state, task):
                self.emit({"event": "task_failed", "task": task,
                           "reason": f"failed {state.spent[task]} times; last on {device}: "
                                     f"{outcome.error}"})
            else:
                self.replan_reasons.append(f"{task} failed on {device}")

    def replanner(self) -> None:
        state = self.state
        while True:
            with self.lock:
                while not self.over() and not self.replan_reasons:
                    self.lock.wait(1.0)
                    if not self.replan_reasons and state.waiting():     # a safety net
                        self.replan_reasons.append("tasks waiting for a device")
                if self.over():
                    return
                reason = "; ".join(dict.fromkeys(self.replan_reasons))
                self.replan_reasons.clear()
                allowed = self._allowed()
                elapsed = time.time() - state.origin
            queues, unplaced = replan(self.problem, allowed, objective=state.objective,
                                      elapsed=elapsed, time_limit=self.replan_time_limit)
            with self.lock:
                if self.over():
                    return
                for task, why in unplaced.items():
                    if state.status[task] == "pending":
                        self.emit({"event": "task_failed", "task": task, "reason": why})
                self.emit({"event": "replan", "reason": reason, "queues": queues})
                self.lock.notify_all()

    def _allowed(self) -> dict[str, list[str]]:
        """Pending tasks and the devices each may still use; those with none fail here."""
        state, problem = self.state, self.problem
        usable = state.usable()
        allowed = {}
        for task, status in state.status.items():
            if status != "pending":
                continue
            i = problem.task_index[task]
            devices = [d for d in usable if d not in state.excluded[task]
                       and problem.eligible[i, problem.pool_index_of(d)]]
            if devices:
                allowed[task] = devices
            else:
                tried = ", ".join(sorted(state.excluded[task])) or "none"
                drained = ", ".join(sorted(state.drained)) or "none"
                self.emit({"event": "task_failed", "task": task,
                           "reason": f"no usable device left (kept off: {tried}; drained: "
                                     f"{drained})"})
        return allowed


def _predicted_makespan(problem: Problem, queues: dict[str, list[str]]) -> float | None:
    loads = [sum(processing_time(problem, t, d) for t in q) for d, q in queues.items()]
    return float(max(loads)) if loads else None


__all__ = ["check_inputs", "execute", "fingerprint"]
