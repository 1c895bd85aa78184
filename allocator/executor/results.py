"""What a run did: the report built from its events, saved and loaded, and checked.

A report is built from the journal's events alone (:func:`report_from_events`), so a saved
report and a journal say the same thing, and ``allocator report`` can show either.
:func:`check_report` trusts nothing in it: it recomputes the makespan from the attempts and
checks every attempt against the devices and, given the problem, against eligibility and
memory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..objectives.metrics import processing_time
from ..errors import AllocatorError
from ..domain.plan import Plan, Slot, Status
from ..domain.problem import Pool, Problem, Task

MAKESPAN_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Attempt:
    """One run of one task on one device. Times are seconds from the start of the run."""

    task: str
    device: str
    torch_device: str
    attempt: int
    status: str                       # completed | failed | interrupted
    start: float
    end: float
    predicted_seconds: float | None = None
    peak_memory: float | None = None
    predicted_memory: float | None = None
    error: str | None = None
    cause: str | None = None          # exit | signal | exception | timeout | out_of_memory | ...
    exit_code: int | None = None
    signal: str | None = None
    stderr_tail: str | None = None

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class TaskOutcome:
    """How a task ended: its completing attempt, or the reason it failed (with the last
    failed attempt's exit status or signal and stderr)."""

    task: str
    status: str                       # completed | failed | pending (a stopped run)
    attempts: int
    device: str | None = None
    start: float | None = None
    end: float | None = None
    seconds: float | None = None
    predicted_seconds: float | None = None
    peak_memory: float | None = None
    predicted_memory: float | None = None
    error: str | None = None
    exit_code: int | None = None
    signal: str | None = None
    stderr_tail: str | None = None


@dataclass(frozen=True)
class ExecutionReport:
    problem: str
    tasks: tuple[TaskOutcome, ...]
    attempts: tuple[Attempt, ...]
    replans: tuple[dict, ...]
    devices: dict[str, str]                       # device -> torch device
    predicted_makespan: float | None
    measured_makespan: float | None
    wall_seconds: float | None
    resumed: bool = False
    drained: tuple[str, ...] = ()
    stopped: str | None = None                    # the signal that stopped the run
    logs: str | None = None                       # folder of the tasks' stdout and stderr
    node: str | None = None                       # one node's share of a cluster plan

    @property
    def completed(self) -> list[str]:
        return [t.task for t in self.tasks if t.status == "completed"]

    @property
    def failed(self) -> list[str]:
        return [t.task for t in self.tasks if t.status == "failed"]

    @property
    def ok(self) -> bool:
        return all(t.status == "completed" for t in self.tasks)

    def measured_plan(self, problem: Problem) -> Plan:
        """The completed attempts as a Plan (measured start and end), for Gantt charts."""
        slots = tuple(Slot(a.task, a.device, a.start, a.end)
                      for a in self.attempts if a.status == "completed")
        return Plan(problem=problem.name, objective_name="makespan", status=Status.FEASIBLE,
                    objective=self.measured_makespan, method="measured",
                    assignment={s.task: s.device for s in slots}, schedule=slots)

    def layout(self) -> Problem:
        """A problem naming this report's devices (grouped into pools by name; a node's
        lanes, for a node's share of a cluster plan) and tasks, for charts."""
        tasks = tuple(Task(t.task, compute=1.0, memory=1.0) for t in self.tasks)
        if self.node is not None:
            lanes = tuple(self.devices)
            kind = "gpu" if any(v.startswith("cuda") for v in self.devices.values()) else "cpu"
            return Problem(name=self.problem, tasks=tasks, pools=(
                Pool(self.node, kind, len(lanes), 1.0, 1.0, node_names=lanes),))
        pools: dict[str, list[str]] = {}
        for device, torch_device in self.devices.items():
            name = device.rsplit("[", 1)[0]
            pools.setdefault(name, []).append(torch_device)
        return Problem(name=self.problem,
                       pools=tuple(Pool(name, "gpu" if kinds[0].startswith("cuda") else "cpu",
                                        len(kinds), 1.0, 1.0) for name, kinds in pools.items()),
                       tasks=tasks)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for a, row in zip(self.attempts, d["attempts"]):
            row["seconds"] = a.seconds
        d["completed"], d["failed"] = len(self.completed), len(self.failed)
        return d

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> "ExecutionReport":
        def build(kind, row):
            names = {f.name for f in fields(kind)}
            return kind(**{k: v for k, v in row.items() if k in names})
        try:
            return cls(**{**{k: v for k, v in doc.items()
                             if k in {f.name for f in fields(cls)}},
                          "tasks": tuple(build(TaskOutcome, r) for r in doc["tasks"]),
                          "attempts": tuple(build(Attempt, r) for r in doc["attempts"]),
                          "replans": tuple(doc.get("replans", ())),
                          "drained": tuple(doc.get("drained", ()))})
        except (KeyError, TypeError, AttributeError) as exc:
            raise AllocatorError(f"not a run report: {type(exc).__name__}: {exc}") from None


def load_report(path: str | Path, problem: Problem | None = None) -> ExecutionReport:
    """A saved report (``run --out``) or a journal (``run --journal``) as a report."""
    from ..io.text import read_text
    from .journal import Journal
    path = Path(path)
    text = read_text(path, "run report or journal", "JSON")
    first = text.lstrip()[:1]
    if first != "{":
        raise AllocatorError(f"{path}: not a run report or journal (it does not start with a "
                             "JSON object)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None                               # several lines: a journal
    report = isinstance(doc, dict) and "event" not in doc     # else a journal (one line or more)
    if report and "tasks" in doc:
        return ExecutionReport.from_dict(doc)
    events = [] if report else Journal.read(path)
    if report and "rounds" in doc:
        raise AllocatorError(f"{path} is an online run's result (run --policy --out): it lists "
                             "each job's arrival, finish and attempts; `allocator report` "
                             "reads an online run's journal (--journal)")
    if events and events[0].get("event") == "online_start":
        raise AllocatorError(f"{path} is an online run's journal: read it with "
                             "allocator.executor.online_results.read_online")
    if not events or events[0].get("event") != "start":
        raise AllocatorError(f"{path}: not a run journal (its first event is not a start)")
    return report_from_events(events, problem)


def report_from_events(events: list[dict], problem: Problem | None = None, *,
                       wall: float | None = None) -> ExecutionReport:
    """The report of a journal's events; ``problem`` adds the predictions (none for a node's
    share of a cluster plan: its lanes are not the problem's devices)."""
    start = events[0]
    node = start.get("node")
    if node is not None:
        problem = None
    devices = dict(start["devices"])
    tasks = _task_names(events, problem)
    attempts = tuple(_attempt(e, problem) for e in events if e["event"] == "task_end")
    reasons = {e["task"]: e["reason"] for e in events if e["event"] == "task_failed"}
    starts: dict[str, int] = {}
    for e in events:
        if e["event"] == "task_start":
            starts[e["task"]] = max(starts.get(e["task"], 0), e["attempt"])
    outcomes = []
    for name in tasks:
        mine = [a for a in attempts if a.task == name]
        done = [a for a in mine if a.status == "completed"]
        memory = _memory(problem, name)
        if done:
            a = done[-1]
            outcomes.append(TaskOutcome(name, "completed", starts.get(name, 0), a.device,
                                        a.start, a.end, a.seconds, a.predicted_seconds,
                                        a.peak_memory, memory))
            continue
        last = next((a for a in reversed(mine) if a.status == "failed"), None)
        status = "failed" if name in reasons else "pending"
        outcomes.append(TaskOutcome(
            name, status, starts.get(name, 0), predicted_memory=memory,
            error=reasons.get(name, "not run: the run was stopped before it finished"),
            exit_code=last and last.exit_code, signal=last and last.signal,
            stderr_tail=last and last.stderr_tail))
    ends = [a.end for a in attempts if a.status == "completed"]
    stop = next((e for e in reversed(events) if e["event"] == "stop"), None)
    return ExecutionReport(
        problem=start["problem"], tasks=tuple(outcomes), attempts=attempts,
        replans=tuple({k: v for k, v in e.items() if k != "event"}
                      for e in events if e["event"] == "replan"),
        devices=devices, predicted_makespan=start.get("predicted_makespan"),
        measured_makespan=max(ends) if ends else None, wall_seconds=wall,
        resumed=any(e["event"] == "resume" for e in events),
        drained=tuple(sorted({e["device"] for e in events if e["event"] == "drain"})),
        stopped=None if stop is None or _ended_after(events, stop) else stop["signal"],
        logs=start.get("logs"), node=node)


def _ended_after(events: list[dict], stop: dict) -> bool:
    return any(e["event"] == "end" for e in events[events.index(stop):])


def _task_names(events: list[dict], problem: Problem | None) -> list[str]:
    if problem is not None:
        return [t.name for t in problem.tasks]
    names = dict.fromkeys(events[0].get("tasks") or ())
    for e in events:
        if "task" in e:
            names.setdefault(e["task"])
    return list(names)


def _memory(problem: Problem | None, task: str) -> float | None:
    if problem is None or task not in problem.task_index:
        return None
    return problem.tasks[problem.task_index[task]].memory


def _attempt(e: dict, problem: Problem | None) -> Attempt:
    predicted = None
    if problem is not None and e["task"] in problem.task_index \
            and e["device"] in problem.device_index:
        predicted = processing_time(problem, e["task"], e["device"])
    return Attempt(task=e["task"], device=e["device"], torch_device=e["torch_device"],
                   attempt=e["attempt"], status=e["status"], start=e["start"], end=e["end"],
                   predicted_seconds=predicted, peak_memory=e.get("peak_memory"),
                   predicted_memory=_memory(problem, e["task"]), error=e.get("error"),
                   cause=e.get("cause"), exit_code=e.get("exit_code"), signal=e.get("signal"),
                   stderr_tail=e.get("stderr_tail"))


def check_report(problem: Problem | None, report: ExecutionReport) -> list[str]:
    """Independent checks of a report: durations are not negative, the makespan is the last
    completed end, every device is known, every task ends once and a completed task
    completed exactly once, no device ran two tasks at once; given the problem, every task
    is in the report, and completed attempts ran on eligible devices within their memory."""
    issues = []
    for a in report.attempts:
        if a.start < -MAKESPAN_TOLERANCE or a.end < a.start:
            issues.append(f"attempt {a.attempt} of {a.task!r} has a negative duration or "
                          f"start ({a.start:g} to {a.end:g})")
        if a.device not in report.devices:
            issues.append(f"attempt {a.attempt} of {a.task!r} ran on {a.device!r}, a device "
                          "the report does not list")
        elif problem is not None and report.node is None \
                and a.device not in problem.device_index:
            issues.append(f"attempt {a.attempt} of {a.task!r} ran on {a.device!r}, which the "
                          "problem does not have")
    done = [a for a in report.attempts if a.status == "completed"]
    last = max((a.end for a in done), default=None)
    made = report.measured_makespan
    if (last is None) != (made is None) or (last is not None
                                           and abs(last - made) > MAKESPAN_TOLERANCE):
        issues.append(f"the makespan {made} disagrees with the attempts, whose last completed "
                      f"end is {last}")
    counts: dict[str, int] = {}
    for a in done:
        counts[a.task] = counts.get(a.task, 0) + 1
    for task, n in counts.items():
        if n > 1:
            issues.append(f"task {task!r} completed {n} times")
    seen = [t.task for t in report.tasks]
    if len(seen) != len(set(seen)):
        issues.append("the report lists a task twice")
    for t in report.tasks:
        if t.status == "completed" and counts.get(t.task) != 1:
            issues.append(f"task {t.task!r} is completed without exactly one completed attempt")
        if t.status == "failed" and not t.error:
            issues.append(f"task {t.task!r} failed without a reason")
    if problem is not None:
        issues += (_against_problem(problem, report, done) if report.node is None
                   else _against_cluster(problem, report))
    by_device: dict[str, list[Attempt]] = {}
    for a in report.attempts:
        by_device.setdefault(a.device, []).append(a)
    for device, runs in by_device.items():
        runs.sort(key=lambda a: a.start)
        for x, y in zip(runs, runs[1:]):
            if y.start < x.end - MAKESPAN_TOLERANCE:
                issues.append(f"{device} ran {x.task!r} and {y.task!r} at the same time")
    return issues


def _against_cluster(problem: Problem, report: ExecutionReport) -> list[str]:
    """A node's share: the node is the cluster's, and its tasks are the problem's."""
    issues = []
    if report.node not in problem.device_index:
        issues.append(f"the run was on node {report.node!r}, which the problem does not have")
    strange = sorted(t.task for t in report.tasks if t.task not in problem.task_index)
    if strange:
        issues.append(f"the run has tasks the problem does not have: {', '.join(strange)}")
    return issues


def _against_problem(problem: Problem, report: ExecutionReport, done: list[Attempt]
                     ) -> list[str]:
    issues = []
    names = {t.name for t in problem.tasks}
    seen = {t.task for t in report.tasks}
    if seen != names:
        issues.append(f"report covers {sorted(seen ^ names)} wrongly")
    for a in done:
        if a.task not in problem.task_index or a.device not in problem.device_index:
            continue
        i, p = problem.task_index[a.task], problem.pool_index_of(a.device)
        if not problem.eligible[i, p]:
            issues.append(f"task {a.task!r} ran on {a.device}, where it is not eligible")
        pool = problem.pools[p]
        if a.peak_memory is not None and a.peak_memory > pool.memory:
            issues.append(f"task {a.task!r} peaked at {a.peak_memory:.0f} B on {a.device}, "
                          f"above its {pool.memory:.0f} B")
    return issues


__all__ = ["Attempt", "ExecutionReport", "TaskOutcome", "check_report", "load_report",
           "report_from_events"]
