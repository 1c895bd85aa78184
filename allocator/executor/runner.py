"""Run a plan on real devices, journal every step, re-plan around failures, resume after a kill.

One worker thread per device runs its queue in plan order. A task that raises (out of memory
above all) is recorded with its error; the tasks not yet started, and the failed one, are then
re-planned onto the devices still usable — the failed task kept off the device it failed on
(off its whole pool after an out-of-memory error: the pool's devices are identical), a device
that fails ``drain_after`` times drained — and retried up to ``max_retries`` times. Every task
ends ``completed`` or ``failed`` with a reason.

The journal is JSON lines, one event per line, flushed and fsync'd as it happens, so a run
killed at any point (even ``kill -9``) resumes from it without re-running a completed task.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import AllocatorError
from ..analysis.evaluate import processing_time
from ..io import to_dict
from ..plan import Plan, Slot, Status
from ..problem import Pool, Problem, Task
from .devices import require, resolve_devices, torch_module
from .journal import Journal, JournalLock
from .memory import PeakMemory
from .workloads import run_workload

JOURNAL_VERSION = 1


# -- the report -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """One run of one task on one device. Times are seconds from the start of the run."""

    task: str
    device: str
    torch_device: str
    attempt: int
    status: str                       # completed | failed
    start: float
    end: float
    predicted_seconds: float | None = None
    peak_memory: float | None = None
    predicted_memory: float | None = None
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class TaskOutcome:
    """How a task ended: its completing attempt, or the reason it failed."""

    task: str
    status: str                       # completed | failed
    attempts: int
    device: str | None = None
    start: float | None = None
    end: float | None = None
    seconds: float | None = None
    predicted_seconds: float | None = None
    peak_memory: float | None = None
    predicted_memory: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class ExecutionReport:
    problem: str
    tasks: tuple[TaskOutcome, ...]
    attempts: tuple[Attempt, ...]
    replans: tuple[dict, ...]
    devices: dict[str, str]                       # device -> torch device
    predicted_makespan: float | None
    measured_makespan: float | None
    wall_seconds: float
    resumed: bool = False
    drained: tuple[str, ...] = ()

    @property
    def completed(self) -> list[str]:
        return [t.task for t in self.tasks if t.status == "completed"]

    @property
    def failed(self) -> list[str]:
        return [t.task for t in self.tasks if t.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def measured_plan(self, problem: Problem) -> Plan:
        """The completed attempts as a Plan (measured start and end), for Gantt charts."""
        slots = tuple(Slot(a.task, a.device, a.start, a.end)
                      for a in self.attempts if a.status == "completed")
        return Plan(problem=problem.name, objective_name="makespan", status=Status.FEASIBLE,
                    objective=self.measured_makespan, method="measured",
                    assignment={s.task: s.device for s in slots}, schedule=slots)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for a, row in zip(self.attempts, d["attempts"]):
            row["seconds"] = a.seconds
        d["completed"], d["failed"] = len(self.completed), len(self.failed)
        return d

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")


def check_report(problem: Problem, report: ExecutionReport) -> list[str]:
    """Independent checks of a report: every task ends once, completed tasks ran exactly once
    on an eligible device, no device ran two tasks at once, measured peaks fit the device."""
    issues = []
    names = {t.name for t in problem.tasks}
    seen = [t.task for t in report.tasks]
    if sorted(seen) != sorted(names):
        issues.append(f"report covers {sorted(set(seen) ^ names)} wrongly")
    done = [a for a in report.attempts if a.status == "completed"]
    counts: dict[str, int] = {}
    for a in done:
        counts[a.task] = counts.get(a.task, 0) + 1
    for task, n in counts.items():
        if n > 1:
            issues.append(f"task {task!r} completed {n} times")
    for t in report.tasks:
        if t.status == "completed" and counts.get(t.task) != 1:
            issues.append(f"task {t.task!r} is completed without exactly one completed attempt")
        if t.status == "failed" and not t.error:
            issues.append(f"task {t.task!r} failed without a reason")
    for a in done:
        i, p = problem.task_index[a.task], problem.pool_index_of(a.device)
        if not problem.eligible[i, p]:
            issues.append(f"task {a.task!r} ran on {a.device}, where it is not eligible")
        pool = problem.pools[p]
        if a.peak_memory is not None and a.peak_memory > pool.memory:
            issues.append(f"task {a.task!r} peaked at {a.peak_memory:.0f} B on {a.device}, "
                          f"above its {pool.memory:.0f} B")
    by_device: dict[str, list[Attempt]] = {}
    for a in report.attempts:
        by_device.setdefault(a.device, []).append(a)
    for device, runs in by_device.items():
        runs.sort(key=lambda a: a.start)
        for x, y in zip(runs, runs[1:]):
            if y.start < x.end - 1e-6:
                issues.append(f"{device} ran {x.task!r} and {y.task!r} at the same time")
    return issues


# -- the journal ----------------------------------------------------------------------------

def fingerprint(problem: Problem) -> str:
    text = json.dumps(to_dict(problem), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- running --------------------------------------------------------------------------------

def _predicted_makespan(problem: Problem, queues: dict[str, list[str]]) -> float | None:
    loads = []
    for device, tasks in queues.items():
        loads.append(sum(processing_time(problem, t, device) for t in tasks))
    return float(max(loads)) if loads else None


def _plan_queues(plan: Plan) -> dict[str, list[str]]:
    return {d: [s.task for s in slots] for d, slots in plan.device_schedule().items()}


class _Run:
    def __init__(self, problem: Problem, *, mapping: dict[str, str], journal: Journal,
                 max_retries: int, drain_after: int, enforce_memory: bool,
                 replan_time_limit: float, on_event: Callable[[dict], None] | None):
        self.problem = problem
        self.mapping = mapping
        self.journal = journal
        self.max_retries = max_retries
        self.drain_after = drain_after
        self.enforce_memory = enforce_memory
        self.replan_time_limit = replan_time_limit
        self.on_event = on_event
        self.cond = threading.Condition()
        self.queues: dict[str, deque] = {d: deque() for d in mapping}
        self.state: dict[str, str] = {t.name: "pending" for t in problem.tasks}
        self.attempts: dict[str, int] = {t.name: 0 for t in problem.tasks}
        self.excluded: dict[str, set] = {t.name: set() for t in problem.tasks}
        self.device_failures: dict[str, int] = {d: 0 for d in mapping}
        self.drained: set[str] = set()
        self.events: list[dict] = []
        self.origin = time.time()
        self.fatal: str | None = None

    # events
    def emit(self, event: dict) -> None:
        event = {"time": time.time(), **event}
        self.events.append(event)
        self.journal.write(event)
        if self.on_event is not None:
            self.on_event(event)

    def finished(self) -> bool:
        return all(s in ("completed", "failed") for s in self.state.values())

    def set_queues(self, queues: dict[str, list[str]]) -> None:
        for d in self.queues:
            self.queues[d] = deque(queues.get(d, ()))

    # resume
    def replay(self, events: list[dict]) -> None:
        """Rebuild the state of a killed run from its journal."""
        self.origin = events[0]["origin"]
        queues: dict[str, list[str]] = events[0]["queues"]
        last_device: dict[str, str] = {}
        for e in events:
            kind = e["event"]
            if kind == "replan":
                queues = e["queues"]
            elif kind == "task_start":
                self.attempts[e["task"]] = e["attempt"]
                last_device[e["task"]] = e["device"]
            elif kind == "task_end":
                if e["status"] == "completed":
                    self.state[e["task"]] = "completed"
                else:
                    self.excluded[e["task"]].update(e.get("excluded", ()))
                    self.device_failures[e["device"]] = \
                        self.device_failures.get(e["device"], 0) + 1
            elif kind == "task_failed":
                self.state[e["task"]] = "failed"
            elif kind == "drain":
                self.drained.add(e["device"])
        self.events = list(events)
        left = {t for t, s in self.state.items() if s == "pending"}
        queued = {t for q in queues.values() for t in q}
        fresh = {d: [t for t in q if t in left] for d, q in queues.items()}
        # Tasks that were running when the last queues were written (or when the run was
        # killed) go first on the device they last started on.
        stranded = [t for d in self.drained for t in fresh.get(d, ())]
        for task in sorted(left - queued, key=lambda t: self.problem.task_index[t]):
            device = last_device.get(task)
            if device in self.mapping and device not in self.drained:
                fresh.setdefault(device, []).insert(0, task)
            else:
                stranded.append(task)
        self.set_queues({d: q for d, q in fresh.items() if d not in self.drained})
        self.emit({"event": "resume",
                   "completed": sum(s == "completed" for s in self.state.values()),
                   "queues": {d: list(q) for d, q in self.queues.items() if q}})
        if stranded:
            self.replan(stranded, "resumed with tasks queued on drained devices")

    # one task
    def run_task(self, task: Task, device: str) -> tuple[float, float, float | None, str | None,
                                                          bool]:
        import torch
        tdev = torch.device(self.mapping[device])
        pool = self.problem.pool_of(device)
        error, oom = None, False
        start = time.time()
        meter = PeakMemory(tdev, cap=pool.memory if self.enforce_memory else None,
                           label=device)
        try:
            with meter:
                start = time.time()
                run_workload(task.workload, tdev)
            end = time.time()
        except Exception as exc:                              # the task's own failure
            end = time.time()
            oom = isinstance(exc, torch.OutOfMemoryError)
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            del exc
            gc.collect()                      # drop the frames that hold the task's tensors
            if tdev.type == "cuda":
                torch.cuda.empty_cache()
        return start, end, meter.peak, error, oom

    def worker(self, device: str) -> None:
        try:
            self._work(device)
        except BaseException as exc:          # a bug, not a task failure: stop the whole run
            with self.cond:
                self.fatal = self.fatal or f"{device}: {type(exc).__name__}: {exc}"
                self.cond.notify_all()

    def _work(self, device: str) -> None:
        while True:
            with self.cond:
                while (not self.queues[device] and not self.finished() and not self.fatal
                       and device not in self.drained):
                    self.cond.wait(timeout=1.0)
                if device in self.drained or self.finished() or self.fatal:
                    return
                name = self.queues[device].popleft()
                self.state[name] = "running"
                self.attempts[name] += 1
                attempt = self.attempts[name]
                self.emit({"event": "task_start", "task": name, "device": device,
                           "attempt": attempt})
            task = self.problem.tasks[self.problem.task_index[name]]
            start, end, peak, error, oom = self.run_task(task, device)
            with self.cond:
                self.finish(task, device, attempt, start, end, peak, error, oom)
                self.cond.notify_all()

    def finish(self, task: Task, device: str, attempt: int, start: float, end: float,
               peak: float | None, error: str | None, oom: bool) -> None:
        event = {"event": "task_end", "task": task.name, "device": device,
                 "torch_device": self.mapping[device], "attempt": attempt,
                 "start": start - self.origin, "end": end - self.origin, "peak_memory": peak,
                 "status": "completed" if error is None else "failed", "error": error}
        if error is None:
            self.state[task.name] = "completed"
            self.emit(event)
            return
        pool = self.problem.pool_of(device)
        # Out of memory would repeat on every device of the pool: they are identical.
        excluded = pool.device_names() if oom else [device]
        self.excluded[task.name].update(excluded)
        self.device_failures[device] += 1
        self.emit({**event, "excluded": excluded})
        self.state[task.name] = "pending"
        if self.device_failures[device] >= self.drain_after and device not in self.drained:
            self.drained.add(device)
            self.emit({"event": "drain", "device": device,
                       "reason": f"{self.device_failures[device]} failed tasks"})
        if attempt > self.max_retries:
            self.fail(task.name, f"failed {attempt} times; last on {device}: {error}")
        waiting = [t for d in self.queues for t in self.queues[d]]
        self.replan(waiting + ([task.name] if self.state[task.name] == "pending" else []),
                    f"{task.name} failed on {device}")

    def fail(self, name: str, reason: str) -> None:
        self.state[name] = "failed"
        self.emit({"event": "task_failed", "task": name, "reason": reason})

    def replan(self, names: list[str], reason: str) -> None:
        """Solve again for ``names`` on the devices still usable; fill the queues anew."""
        from ..solver import solve
        usable = [d for d in self.mapping if d not in self.drained]
        placeable = []
        for name in names:
            i = self.problem.task_index[name]
            allowed = [d for d in usable if d not in self.excluded[name]
                       and self.problem.eligible[i, self.problem.pool_index_of(d)]]
            if allowed:
                placeable.append((name, allowed))
            else:
                tried = ", ".join(sorted(self.excluded[name])) or "none"
                self.fail(name, f"no usable device left (failed on: {tried}; "
                                f"drained: {', '.join(sorted(self.drained)) or 'none'})")
        queues: dict[str, list[str]] = {}
        if placeable:
            sub, back = _subproblem(self.problem, placeable, usable)
            plan = solve(sub, objective="makespan", time_limit=self.replan_time_limit,
                         lp_bound=False)
            if not plan.status.has_plan:
                plan = solve(sub, objective="makespan", method="earliest_finish")
            for slot in plan.schedule:
                queues.setdefault(back[slot.device], []).append(slot.task)
            placed = {t for q in queues.values() for t in q}
            for name, _ in placeable:
                if name not in placed:
                    self.fail(name, f"the re-plan found no place for it ({plan.status})")
        self.set_queues(queues)
        self.emit({"event": "replan", "reason": reason, "queues": queues})


def _subproblem(problem: Problem, placeable: list[tuple[str, list[str]]],
                usable: list[str]) -> tuple[Problem, dict[str, str]]:
    """A problem with one single-device pool per usable device, so that a task can be kept
    off one device of a pool; no deadlines or horizon (the clock has moved on)."""
    pools, back = [], {}
    for d in usable:
        p = problem.pool_of(d)
        pools.append(Pool(name=d, kind=p.kind, count=1, memory=p.memory,
                          throughput=p.throughput, cost_per_hour=p.cost_per_hour,
                          torch_device=p.torch_device))
        back[f"{d}[0]"] = d
    tasks, overrides = [], {}
    for name, allowed in placeable:
        t = problem.tasks[problem.task_index[name]]
        tasks.append(Task(name=name, compute=t.compute, memory=t.memory, weight=t.weight,
                          priority=t.priority, allowed_pools=tuple(allowed),
                          workload=t.workload))
        if name in problem.throughput:
            overrides[name] = {d: problem.throughput[name][problem.pool_of(d).name]
                               for d in usable if problem.pool_of(d).name
                               in problem.throughput[name]}
    return Problem(name=f"{problem.name} (re-plan)", pools=tuple(pools), tasks=tuple(tasks),
                   throughput=overrides), back


def _report(problem: Problem, run: _Run, wall: float, resumed: bool,
            predicted: float | None) -> ExecutionReport:
    attempts = []
    for e in run.events:
        if e["event"] != "task_end":
            continue
        i = problem.task_index[e["task"]]
        attempts.append(Attempt(task=e["task"], device=e["device"],
                                torch_device=e["torch_device"], attempt=e["attempt"],
                                status=e["status"], start=e["start"], end=e["end"],
                                predicted_seconds=processing_time(problem, e["task"], e["device"]),
                                peak_memory=e["peak_memory"],
                                predicted_memory=problem.tasks[i].memory, error=e["error"]))
    reasons = {e["task"]: e["reason"] for e in run.events if e["event"] == "task_failed"}
    outcomes = []
    for t in problem.tasks:
        mine = [a for a in attempts if a.task == t.name]
        done = [a for a in mine if a.status == "completed"]
        if done:
            a = done[-1]
            outcomes.append(TaskOutcome(t.name, "completed", run.attempts[t.name], a.device,
                                        a.start, a.end, a.seconds, a.predicted_seconds,
                                        a.peak_memory, a.predicted_memory))
        else:
            outcomes.append(TaskOutcome(t.name, "failed", run.attempts[t.name],
                                        predicted_memory=t.memory,
                                        error=reasons.get(t.name, "not run")))
    ends = [a.end for a in attempts if a.status == "completed"]
    return ExecutionReport(
        problem=problem.name, tasks=tuple(outcomes), attempts=tuple(attempts),
        replans=tuple({k: v for k, v in e.items() if k != "event"}
                      for e in run.events if e["event"] == "replan"),
        devices=dict(run.mapping), predicted_makespan=predicted,
        measured_makespan=max(ends) if ends else None, wall_seconds=wall, resumed=resumed,
        drained=tuple(sorted(run.drained)))


def execute(problem: Problem, plan: Plan | None = None, *, journal: str | Path | None = None,
            resume: bool = False, max_retries: int = 2, drain_after: int = 3,
            enforce_memory: bool = True, replan_time_limit: float = 10.0,
            progress: bool = False, cuda_devices: int | None = None) -> ExecutionReport:
    """Run ``plan`` (solved first when ``None``) and return what happened.

    Parameters
    ----------
    journal : path, optional
        JSON-lines journal; required for ``resume``. An existing non-empty journal is only
        reused with ``resume=True``. One run writes a journal at a time: another run on it is
        refused at once, naming the process (:class:`~allocator.executor.journal.JournalLock`);
        a torn last line left by a killed run is cut off when it resumes.
    resume : bool
        Continue the run recorded in ``journal``: completed tasks are not run again.
    max_retries : int
        Re-runs allowed per task after a failure.
    drain_after : int
        Failed tasks after which a device gets no more work.
    enforce_memory : bool
        On CPU devices, raise ``torch.OutOfMemoryError`` when a task's live tensors exceed the
        pool's ``memory``, as a device of that size would.
    replan_time_limit : float
        Seconds for each re-plan's solve (a heuristic takes over if none is found).
    progress : bool
        Show a rich progress bar per device.
    cuda_devices : int, optional
        Number of CUDA devices to assume (default: what torch sees); for tests.
    """
    with JournalLock(journal):                 # one run writes a journal at a time
        return _execute(problem, plan, journal=journal, resume=resume,
                        max_retries=max_retries, drain_after=drain_after,
                        enforce_memory=enforce_memory, replan_time_limit=replan_time_limit,
                        progress=progress, cuda_devices=cuda_devices)


def _execute(problem: Problem, plan: Plan | None, *, journal: str | Path | None,
             resume: bool, max_retries: int, drain_after: int, enforce_memory: bool,
             replan_time_limit: float, progress: bool, cuda_devices: int | None
             ) -> ExecutionReport:
    from ..solver import solve
    torch_module()
    missing = [t.name for t in problem.tasks if t.workload is None]
    if missing:
        raise AllocatorError(f"task{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                             "ha" + ("ve" if len(missing) > 1 else "s")
                             + " no workload: block; the executor cannot run them")
    if resume and journal is None:
        raise AllocatorError("resume needs the journal of the run to continue")
    jpath = None if journal is None else Path(journal)
    events = Journal.read(jpath, repair=True) if resume and jpath.exists() else []
    if jpath is not None and not resume and jpath.exists() and jpath.stat().st_size:
        raise AllocatorError(f"journal {jpath} already holds a run; resume it (--resume) "
                             "or remove it")
    if events and (events[0].get("event") != "start"
                   or events[0].get("fingerprint") != fingerprint(problem)):
        raise AllocatorError(f"journal {jpath} records a run of a different problem")
    if events:
        plan_queues = events[0]["queues"]
    else:
        if plan is None:
            plan = solve(problem)
        if not plan.status.has_plan:
            raise AllocatorError(f"no plan to run: status {plan.status}"
                                 + (f" ({plan.reason})" if plan.reason else ""))
        if plan.problem != problem.name:
            raise AllocatorError(f"the plan is for problem {plan.problem!r}, "
                                 f"not {problem.name!r}")
        if plan.fractions:
            raise AllocatorError("the plan splits tasks across devices (load_balance); the "
                                 "executor runs whole tasks")
        plan_queues = _plan_queues(plan)
        placed = [t for q in plan_queues.values() for t in q]
        missing = sorted({t.name for t in problem.tasks} - set(placed), key=problem.task_index.get)
        if missing or len(placed) != len(set(placed)):
            what = (f"does not place {', '.join(missing)}" if missing
                    else "places a task more than once")
            raise AllocatorError(f"the plan ({plan.objective_name}) {what}; the executor runs "
                                 "plans with a per-device schedule (makespan, cost)")
    mapping, unavailable = resolve_devices(problem, available=cuda_devices)
    require(problem, [d for d, q in plan_queues.items() if q], mapping, unavailable)
    predicted = _predicted_makespan(problem, plan_queues)

    warm_up(set(mapping.values()) & {mapping[d] for d, q in plan_queues.items() if q})
    sink = Journal(jpath)
    bars = _Progress(problem, mapping) if progress else None
    run = _Run(problem, mapping=mapping, journal=sink, max_retries=max_retries,
               drain_after=drain_after, enforce_memory=enforce_memory,
               replan_time_limit=replan_time_limit,
               on_event=None if bars is None else bars.update)
    sink.open()
    wall = time.perf_counter()
    try:
        if bars is not None:
            bars.start(plan_queues)
        if events:
            run.replay(events)
        else:
            run.set_queues(plan_queues)
            run.emit({"event": "start", "version": JOURNAL_VERSION, "problem": problem.name,
                      "fingerprint": fingerprint(problem), "origin": run.origin,
                      "devices": mapping, "queues": plan_queues})
        threads = [threading.Thread(target=run.worker, args=(d,), name=f"allocator {d}",
                                    daemon=True) for d in mapping]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if run.fatal:
            raise AllocatorError(f"the run stopped: {run.fatal}; resume it from the journal "
                                 "once fixed")
        run.emit({"event": "end", "completed": sum(s == "completed" for s in run.state.values()),
                  "failed": sum(s == "failed" for s in run.state.values())})
    finally:
        sink.close()
        if bars is not None:
            bars.stop()
    return _report(problem, run, time.perf_counter() - wall, bool(events), predicted)


def warm_up(devices: Iterable[str]) -> float:
    """Pay torch's one-off start-up costs (the optimizer module's first import takes about a
    second, CUDA its context) before the clock starts; returns the seconds spent."""
    import torch
    t0 = time.perf_counter()
    for name in sorted(devices):
        device = torch.device(name)
        w = torch.nn.Parameter(torch.ones(8, 8, device=device))
        opt = torch.optim.Adam([w])
        (w @ w).sum().backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return time.perf_counter() - t0


class _Progress:
    """A rich progress bar per device: tasks done out of tasks given to it so far."""

    def __init__(self, problem: Problem, mapping: dict[str, str]):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.console import Console
        # Progress is not a result: it goes to stderr, so stdout stays clean for the report.
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=Console(stderr=True))
        self.mapping = mapping
        self.ids: dict[str, int] = {}
        self.running: dict[str, int] = {d: 0 for d in mapping}
        self.lock = threading.Lock()

    def start(self, queues: dict[str, Iterable[str]]) -> None:
        for d in self.mapping:
            self.ids[d] = self.bar.add_task(f"{d} ({self.mapping[d]})",
                                            total=len(list(queues.get(d, ()))))
        self.bar.start()

    def update(self, event: dict) -> None:
        with self.lock:
            kind, d = event["event"], event.get("device")
            if kind == "task_start":
                self.running[d] = 1
            elif kind == "task_end":
                self.running[d] = 0
                if event["status"] == "completed":
                    self.bar.advance(self.ids[d])
            elif kind in ("replan", "resume"):
                queues = event.get("queues", {})
                for dev, tid in self.ids.items():
                    done = self.bar.tasks[tid].completed
                    self.bar.update(tid, total=done + self.running[dev]
                                    + len(queues.get(dev, ())))

    def stop(self) -> None:
        self.bar.stop()


__all__ = ["Attempt", "ExecutionReport", "Journal", "TaskOutcome", "check_report", "execute",
           "fingerprint"]
