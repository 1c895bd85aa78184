"""Makespan on a cluster of nodes (:mod:`allocator.objectives.node_makespan`): a list
schedule first (it sets the slot, the horizon and the solver's start), then the time-slot
model (:mod:`allocator.model.timed_nodes`) within the time left; the better schedule is the
plan, and its bound the larger of the model's and the capacity bounds."""

from __future__ import annotations

import logging
import math
from dataclasses import replace

from ..backends.base import SolveOptions, Termination
from ..domain.plan import Plan, Status
from ..domain.problem import Problem
from ..domain.timeline import grid, in_slots, schedule_end, seconds
from ..model.timed_nodes import build_timed, decode, encode, timed_columns
from ..objectives.node_makespan import capacity_bound, plan_fields
from .budget import Budget

log = logging.getLogger(__name__)

MAX_COLUMNS = 200_000      # the largest time-slot model written; past it, the list schedule


def solve_timed(problem: Problem, engine, options: SolveOptions, budget: Budget,
                common: dict) -> Plan:
    """The node_makespan plan of ``problem`` within ``budget``, with its bound."""
    times = seconds(problem)
    slot, exact, by_name = grid(problem, times)         # and the list schedule on it
    durations = in_slots(times, slot)
    first = {problem.task_index[t]: v for t, v in by_name.items()}
    horizon = schedule_end(problem, by_name, durations)
    bound = capacity_bound(problem)
    C = timed_columns(problem, durations, horizon)
    best = plan_fields(problem, first, slot)
    solver, started = None, False
    if 0 < C.task.size < MAX_COLUMNS and best["objective"] > bound * (1 + options.mip_gap):
        least = math.floor(bound / slot + 1e-9)         # rounded-up times: still a bound
        model = build_timed(problem, C, horizon, least)
        raw = engine.solve(model, replace(options, time_limit=budget.left(),
                                          warm_start=encode(C, first, horizon)))
        solver, started = raw.solver, raw.warm_started
        if raw.x is not None and raw.termination in (Termination.OPTIMAL,
                                                     Termination.FEASIBLE):
            found = plan_fields(problem, decode(C, raw.x), slot)
            if found["objective"] < best["objective"]:
                best = found
        if exact and raw.bound is not None:
            bound = max(bound, math.ceil(raw.bound - 1e-6) * slot)
    elif C.task.size >= MAX_COLUMNS:
        log.info("node_makespan: %d columns, %d at most: the list schedule", C.task.size,
                 MAX_COLUMNS)
    value = best.pop("objective")
    status = Status.OPTIMAL if value - bound <= options.mip_gap * max(value, 1e-12) + 1e-9 \
        else Status.FEASIBLE
    log.info("node_makespan: slot %.6g s (%s), horizon %d slots, value %.6g, bound %.6g",
             slot, "exact" if exact else "times rounded up", horizon, value, bound)
    return Plan(status=status, objective=value, bound=bound, solve_seconds=budget.spent(),
                sense="min", solver=solver, warm_start="list schedule" if started else None,
                **common, **best)
