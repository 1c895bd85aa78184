"""Resuming an online run from its journal: the journal's rounds replayed through the
re-planner, so that it goes on where the run left it.

An online run journals everything its re-planner is told, before it matters: each round's
decision with the time it was planned at (``round``), each round's end (``round_end``: every
member's time, whether it finished, which jobs failed and which were given up), each time it
found nothing to run (``idle``), and each resume (``online_resume``). The re-planner decides
from those alone, so feeding them to a new one in order rebuilds it exactly: the time each job
has had on each pool, the deficits, the allocation, the draws of the policies that draw at
random. A round that was planned but never ended (the run was killed in it) is planned again
and not counted. A round the re-planner would now decide otherwise (a journal written before
rounds carried their planning time) ends the replay there: the jobs the journal says finished
or were given up still leave, and the re-planner goes on from the rounds before.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ProblemError
from .journal import Journal
from .online_results import History

# settings an older journal's online_start may lack, at the values its run had
DEFAULTS = {"reset_every": 1920.0, "seed": 0, "space_sharing": False}


def previous(journal: str | Path, settings: dict, names: list[str]) -> list[dict]:
    """The events of the online run in ``journal``, from its start, after checking that it
    is the run these ``settings`` (policy, round, reset interval, seed, space sharing) and
    tasks would make."""
    events = Journal.read(journal, repair=True)
    first = next((k for k, e in enumerate(events) if e.get("event") == "online_start"), None)
    if first is None:
        raise ProblemError(f"the journal {journal} holds no online run to resume")
    start = events[first]
    was = {key: start.get(key, DEFAULTS.get(key)) for key in settings}
    if was != settings or sorted(start["tasks"]) != sorted(names):
        extra = "".join(f", {key.replace('_', ' ')} {was[key]:g}" for key in ("reset_every",
                        "seed") if was[key] != DEFAULTS[key])
        raise ProblemError(f"the journal {journal} is of another online run (policy "
                           f"{was['policy']}, rounds of {was['round_s']:g} s, "
                           f"{len(start['tasks'])} tasks{extra}"
                           f"{', space sharing' if was['space_sharing'] else ''}); resume it "
                           "with the same problem, policy, round, reset interval, seed and "
                           "space sharing")
    return events[first:]


def replay(run, events: list[dict]) -> History:
    """Feed the journal's ``events`` to ``run`` (an online run, fresh: its ``plan_at``,
    ``decided``, ``apply``, ``resume_at`` and ``state``), as its run met them; what the
    journal says happened."""
    history, pending = History(), None
    for e in events:
        kind = e.get("event")
        history.note(e)
        if history.diverged:
            continue
        if kind in ("round", "idle"):
            pending = None
            if "now" not in e:
                history.diverged = True
                continue
            plan = run.plan_at(e["now"])
            if run.decided(plan) != e.get("units", []):
                history.diverged = True
            elif kind == "round":
                pending = plan
            else:
                run.state.running[:] = False
        elif kind == "round_end" and pending is not None:
            run.apply(pending, e)
            history.rounds += 1
            pending = None
        elif kind == "online_resume":
            run.resume_at(e["t"], history)
            pending = None
    return history
