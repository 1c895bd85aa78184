"""A run's state, and the events that change it.

The state is a fold over the journal's events: a live run applies each event as it journals
it, and a resumed run applies the journal's events in order, through the same
:meth:`RunState.apply`, so the two can never disagree about what happened.

Events (one JSON object each, with ``event`` and ``time``):

============ =========================================================================
``start``     problem, fingerprint, origin, devices, queues, limits (max_retries,
              drain_after), objective
``task_start`` task, device, attempt
``task_end``  task, device, attempt, status (completed, failed, interrupted), start, end,
              peak memory, error, cause, exit code or signal, stderr tail, excluded devices
``drain``     device, reason
``task_failed`` task, reason (it will not run again)
``replan``    reason, queues (replacing the queues of every device)
``resume``    queues, the tasks the dead run was running (each counts as an attempt),
              and the limits when they changed
``stop``      signal (the run was stopped by SIGINT or SIGTERM)
``end``       completed and failed counts
============ =========================================================================
"""

from __future__ import annotations

from collections import deque

DONE = ("completed", "failed")


class RunState:
    """What each task and device is doing; changed only by :meth:`apply`."""

    def __init__(self, tasks: list[str], devices: list[str]):
        self.order = {t: k for k, t in enumerate(tasks)}
        self.status: dict[str, str] = {t: "pending" for t in tasks}
        self.attempts: dict[str, int] = {t: 0 for t in tasks}    # starts
        self.spent: dict[str, int] = {t: 0 for t in tasks}       # starts that failed or died
        self.excluded: dict[str, set[str]] = {t: set() for t in tasks}
        self.device_of: dict[str, str] = {}                      # last device started on
        self.completed_on: dict[str, str] = {}
        self.failures: dict[str, dict[str, str]] = {d: {} for d in devices}   # task -> cause
        self.drained: set[str] = set()
        self.queues: dict[str, deque] = {d: deque() for d in devices}
        self.reasons: dict[str, str] = {}
        self.limits: dict = {"max_retries": 2, "drain_after": 2}
        self.objective = "makespan"
        self.origin = 0.0
        self.events: list[dict] = []

    # -- queries
    def finished(self) -> bool:
        return all(s in DONE for s in self.status.values())

    def queued(self) -> set[str]:
        return {t for q in self.queues.values() for t in q}

    def waiting(self) -> list[str]:
        """Pending tasks in no queue: they need a plan."""
        queued = self.queued()
        return sorted((t for t, s in self.status.items() if s == "pending" and t not in queued),
                      key=self.order.__getitem__)

    def usable(self) -> list[str]:
        return [d for d in self.queues if d not in self.drained]

    def counts(self) -> dict[str, int]:
        return {s: sum(v == s for v in self.status.values()) for s in DONE}

    # -- the one place the state changes
    def apply(self, e: dict) -> None:
        self.events.append(e)
        kind = e["event"]
        if kind == "start":
            self.origin = e["origin"]
            self.limits.update(e.get("limits", {}))
            self.objective = e.get("objective", self.objective)
            self._set_queues(e["queues"])
        elif kind in ("replan", "resume"):
            for task in e.get("interrupted", ()):        # running when the run died
                if self.status[task] == "running":
                    self.status[task] = "pending"
                    self.spent[task] += 1
            self.limits.update(e.get("limits", {}))
            self._set_queues(e["queues"])
        elif kind == "task_start":
            task, device = e["task"], e["device"]
            self.status[task] = "running"
            self.attempts[task] = e["attempt"]
            self.device_of[task] = device
            queue = self.queues.get(device)
            if queue and queue[0] == task:
                queue.popleft()
            elif queue and task in queue:
                queue.remove(task)
        elif kind == "task_end":
            self._task_end(e)
        elif kind == "drain":
            self.drained.add(e["device"])
            self.queues[e["device"]].clear()
        elif kind == "task_failed":
            self.status[e["task"]] = "failed"
            self.reasons[e["task"]] = e["reason"]
            for queue in self.queues.values():
                if e["task"] in queue:
                    queue.remove(e["task"])

    def _task_end(self, e: dict) -> None:
        task, device, status = e["task"], e["device"], e["status"]
        if status == "completed":
            self.status[task] = "completed"
            self.completed_on[task] = device
            return
        self.status[task] = "pending"
        if status == "failed":
            self.spent[task] += 1
            self.excluded[task].update(e.get("excluded", ()))
            self.failures.setdefault(device, {})[task] = e.get("cause") or "exception"

    def _set_queues(self, queues: dict[str, list[str]]) -> None:
        for device in self.queues:
            self.queues[device] = deque(t for t in queues.get(device, ())
                                        if self.status.get(t) == "pending")

    # -- resuming
    def interrupted_by_a_kill(self) -> list[str]:
        """Tasks that were running when the run died (a start without an end)."""
        return [t for t, s in self.status.items() if s == "running"]
