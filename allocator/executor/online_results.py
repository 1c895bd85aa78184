"""What an online run's journal (``run --policy --journal``) says: how far the run went and,
for each job, where it stands, how many times it started and was stopped, and when it ended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .journal import Journal

DONE, FAILED, STARTED, WAITING = "done", "failed", "started", "waiting"


@dataclass
class History:
    """What a journal says happened to the jobs, as far as it has been read (:meth:`note`
    each event in turn); a resume also counts what it replayed."""

    done: dict[str, float] = field(default_factory=dict)    # jobs finished: when
    failed: dict[str, str] = field(default_factory=dict)    # jobs given up: why
    tries: dict[str, int] = field(default_factory=dict)     # attempts started
    rounds: int = 0                 # rounds replayed through the re-planner
    diverged: bool = False          # the replay stopped at a round decided otherwise now

    def note(self, e: dict) -> None:
        kind = e.get("event")
        if kind == "start":
            self.tries[e["task"]] = e["attempt"]
        elif kind == "end" and e["status"] == "completed":
            self.done[e["task"]] = e["t"]
        elif kind == "given_up":
            self.failed[e["task"]] = e["error"]


@dataclass(frozen=True)
class OnlineJob:
    name: str
    # done; failed (given up); started (its last attempt has no end in the journal: running,
    # or stopped with the run); waiting (not started yet, or stopped and not started again)
    status: str
    attempts: int
    stopped: int                  # times stopped to give its devices to another (or moved)
    finish: float | None          # s from the run's start
    error: str | None = None


@dataclass(frozen=True)
class OnlineSummary:
    policy: str
    round_s: float
    space_sharing: bool
    rounds: int
    resumes: int
    ended: bool                   # the journal ends with the run's end
    jobs: tuple[OnlineJob, ...]


def online_summary(events: list[dict]) -> OnlineSummary:
    """The summary of an online run's journal ``events`` (its first is ``online_start``)."""
    start = events[0]
    names = list(start["tasks"])
    history, stopped, last = History(), dict.fromkeys(names, 0), {}
    for e in events:
        history.note(e)
        kind, task = e.get("event"), e.get("task")
        if kind in ("preempted", "moved"):
            stopped[task] += 1
        if task is not None:
            last[task] = kind
    jobs = tuple(OnlineJob(name, _status(name, last, history), history.tries.get(name, 0),
                           stopped[name], history.done.get(name), history.failed.get(name))
                 for name in names)
    return OnlineSummary(
        policy=start["policy"], round_s=start["round_s"],
        space_sharing=start.get("space_sharing", False),
        rounds=sum(e.get("event") == "round" for e in events),
        resumes=sum(e.get("event") == "online_resume" for e in events),
        ended=events[-1].get("event") == "online_end", jobs=jobs)


def _status(name: str, last: dict, history: History) -> str:
    if name in history.done:
        return DONE
    if name in history.failed:
        return FAILED
    return STARTED if last.get(name) == "start" else WAITING


def read_online(path: str | Path) -> OnlineSummary | None:
    """The summary of the online run's journal at ``path``; None when it is not one (a
    planned run's journal or report, or not a journal at all)."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline()
    except OSError:
        return None
    try:
        head = json.loads(first)
    except ValueError:
        return None
    if not isinstance(head, dict) or head.get("event") != "online_start":
        return None
    return online_summary(Journal.read(path))
