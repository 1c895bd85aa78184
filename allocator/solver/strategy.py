"""Which strategy ``solve`` uses: the full model, the aggregated one, or a decomposition;
chosen from the problem's size and pool structure (docs/performance.md)."""

from __future__ import annotations

from ..domain.problem import Problem
from ..errors import AllocatorError
from ..objectives import OBJECTIVES
from ..reductions.aggregation import Aggregation


STRATEGIES = ("auto", "full", "aggregated", "decomposed", "configurations")

FULL_PAIRS = 20_000        # task-device pairs up to which auto always keeps the full model


def choose_strategy(problem: Problem, objective: str, strategy: str = "auto") -> str:
    """The strategy ``solve`` uses: ``strategy`` itself when forced (checked to apply), else
    chosen from the problem's size and pool structure.

    - ``full`` for every objective but makespan, with deadlines, and up to 20,000 task-device
      pairs (where it proves optimality quickly), and where pools hold fewer than 4 devices on
      average (aggregation loses most there: one LPT packing per pool of one or two devices);
    - ``decomposed`` above 1,000,000 task-pool pairs (measured to lose more than aggregation
      below that: docs/performance.md);
    - ``aggregated`` otherwise.
    """
    if strategy not in STRATEGIES:
        raise AllocatorError(f"unknown strategy {strategy!r}; choose one of "
                             f"{', '.join(STRATEGIES)}")
    if OBJECTIVES[objective].on_nodes:
        return _on_nodes(problem, objective, strategy)
    if strategy == "configurations":
        raise AllocatorError("the configurations strategy plans clusters of nodes (the "
                             "packing objective); use strategy='full' or 'auto' here")
    simple = Aggregation().accepts(problem, objective)    # and so the decomposition too
    if strategy != "auto":
        if strategy != "full" and not simple:
            plans = " and ".join(o.name for o in OBJECTIVES.values() if o.aggregable)
            raise AllocatorError(f"the {strategy} strategy plans the {plans} objective without "
                                 f"deadlines; use strategy='full' for this problem")
        return strategy
    n, d, k = len(problem.tasks), len(problem.devices), len(problem.pools)
    if not simple or n * d <= FULL_PAIRS or d / k < 4:
        return "full"
    return "decomposed" if n * k > 1_000_000 else "aggregated"


def _on_nodes(problem: Problem, objective: str, strategy: str) -> str:
    """``full`` (node by node) up to the columns it is written for, else ``configurations``
    (node groups and task types); always ``configurations`` for an objective with a second
    aim over node contents (fragmentation)."""
    from ..objectives.packing import FULL_COLUMNS, columns
    if strategy in ("aggregated", "decomposed"):
        raise AllocatorError(f"the {strategy} strategy plans devices; for the {objective} "
                             "objective use full, configurations or auto")
    if OBJECTIVES[objective].timed:                      # one time-slot model
        if strategy == "configurations":
            raise AllocatorError(f"the {objective} objective is planned in time slots, node "
                                 "by node; use strategy='full' or 'auto'")
        return "full"
    if OBJECTIVES[objective].node_cost is not None:      # a second aim over node contents
        if strategy == "full":
            raise AllocatorError(f"the {objective} objective is planned by the configurations "
                                 "strategy; use strategy='configurations' or 'auto'")
        return "configurations"
    if strategy != "auto":
        return strategy
    return "full" if columns(problem) <= FULL_COLUMNS else "configurations"
