"""The live run: device threads take tasks from the state's queues, run them through their
device's runner, and turn what each attempt reports into events; a re-planner thread plans
again for tasks that lost their place. Every change is an event, journaled before it
matters."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable

from ..domain.plan import Plan
from ..domain.problem import Problem
from ..errors import AllocatorError
from ..io.problem_files import to_dict
from ..objectives.metrics import processing_time
from . import policy
from .journal import Journal
from .processes import DeviceRunner, Order, Outcome
from .replan import replan
from .state import DONE, RunState

JOURNAL_VERSION = 2


def fingerprint(problem: Problem, share: dict | None = None) -> str:
    """Which problem a journal belongs to: a hash of its document (and, for one node's share
    of a cluster plan, of the node and its tasks' GPUs)."""
    doc = to_dict(problem) if share is None else {"problem": to_dict(problem), "share": share}
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def predicted_makespan(problem: Problem, queues: dict[str, list[str]]) -> float | None:
    """The makespan the model predicts for these queues."""
    loads = [sum(processing_time(problem, t, d) for t in q) for d, q in queues.items()]
    return float(max(loads)) if loads else None


class LiveRun:
    """The live run: device threads take tasks from the state's queues, a re-planner thread
    plans for tasks that lost their place; every change is an event, journaled.

    With ``lanes`` (one node's share of a cluster plan: task -> its lane) only those tasks
    run, each in its own lane, and a failed attempt is queued again in the same lane: no
    device is kept off, no re-plan, no memory cap (the node's own hardware runs them). A
    task starts once the tasks ``after`` names for it have ended (completed or failed).
    """

    def __init__(self, problem: Problem, runners: dict[str, DeviceRunner], journal: Journal, *,
                 enforce_memory: bool, replan_time_limit: float, task_timeout: float | None,
                 lanes: dict[str, str] | None = None,
                 after: dict[str, tuple[str, ...]] | None = None):
        self.problem = problem
        self.lanes = lanes
        self.after = after or {}
        self.runners = runners
        self.journal = journal
        self.enforce_memory = enforce_memory
        self.replan_time_limit = replan_time_limit
        self.task_timeout = task_timeout
        self.lock = threading.Condition()
        tasks = list(lanes) if lanes is not None else [t.name for t in problem.tasks]
        self.state = RunState(tasks, list(runners))
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

    def begin(self, plan: Plan, queues: dict, limits: dict, logs: str,
              share: dict | None = None) -> None:
        """The start event; ``share`` describes one node's share of a cluster plan."""
        predicted = None if self.lanes is not None else predicted_makespan(self.problem, queues)
        self.emit({"event": "start", "version": JOURNAL_VERSION, "problem": self.problem.name,
                   "fingerprint": fingerprint(self.problem, share), "origin": time.time(),
                   "objective": plan.objective_name, "devices": {
                       d: r.placement.torch_device for d, r in self.runners.items()},
                   "tasks": list(self.state.status), **({} if share is None else share),
                   "limits": {**self.state.limits, **limits}, "logs": logs,
                   "predicted_makespan": predicted, "queues": queues})

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
                while not self.over() and device not in state.drained and (
                        not state.queues[device] or self._held(state.queues[device][0])):
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

    def _held(self, task: str) -> bool:
        """Tasks it waits for are still to end."""
        return any(self.state.status[t] not in DONE for t in self.after.get(task, ()))

    def _order(self, name: str, device: str, attempt: int) -> Order:
        task = self.problem.tasks[self.problem.task_index[name]]
        timeout = task.timeout if task.timeout is not None else self.task_timeout
        cpu = self.runners[device].placement.child_device == "cpu"
        cap = (self.problem.pool_of(device).memory
               if self.enforce_memory and cpu and self.lanes is None else None)
        return Order.of(task, attempt, timeout=timeout, memory_cap=cap)

    def ended(self, task: str, device: str, attempt: int, outcome: Outcome) -> None:
        state = self.state
        excluded = (policy.exclusions(self.problem, device, outcome.cause)
                    if outcome.status == "failed" and self.lanes is None else [])
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
            if self.lanes is not None:                  # again in its own lane
                queues, unplaced = {self.lanes[t]: [t] for t in allowed}, {}
            else:
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
        state = self.state
        usable = state.usable()
        allowed = {}
        for task, status in state.status.items():
            if status != "pending":
                continue
            devices = [d for d in usable if d not in state.excluded[task]
                       and self._may_use(task, d)]
            if devices:
                allowed[task] = devices
            else:
                tried = ", ".join(sorted(state.excluded[task])) or "none"
                drained = ", ".join(sorted(state.drained)) or "none"
                self.emit({"event": "task_failed", "task": task,
                           "reason": f"no usable device left (kept off: {tried}; drained: "
                                     f"{drained})"})
        return allowed

    def _may_use(self, task: str, device: str) -> bool:
        if self.lanes is not None:
            return self.lanes[task] == device
        problem = self.problem
        return bool(problem.eligible[problem.task_index[task], problem.pool_index_of(device)])
