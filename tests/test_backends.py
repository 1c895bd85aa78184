"""Every backend follows the Backend protocol: its capabilities are declared (the solver asks
them, never probes), and its solver's statuses map to a Termination in one table."""

from __future__ import annotations

import inspect
import itertools

import pytest

from allocator.backends import BACKENDS, Capabilities, Termination
from allocator.backends import pulp_backend


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_each_backend_declares_the_protocol(name):
    backend = BACKENDS[name]
    assert backend.name == name
    assert isinstance(backend.CAPABILITIES, Capabilities)
    assert backend.STATUS_MAP and all(isinstance(t, Termination)
                                      for t in backend.STATUS_MAP.values())
    for function in ("available", "solvers", "solve"):
        assert callable(getattr(backend, function))
    assert list(inspect.signature(backend.solve).parameters) == ["model", "options", "solver"]
    # A backend that says it generates columns has the function that does it.
    assert backend.CAPABILITIES.column_generation == hasattr(backend, "relax_by_columns")


def _pulp_by_hand(solution: int, status: int) -> Termination:
    """PuLP's statuses read one by one (pulp.constants), independently of the table."""
    if solution == 1:
        return Termination.OPTIMAL
    if solution == 2:
        return Termination.FEASIBLE
    if solution == -1 or status == -1:
        return Termination.INFEASIBLE
    if solution == -2 or status == -2:
        return Termination.UNBOUNDED
    if status == 0:
        return Termination.NO_SOLUTION
    return Termination.ERROR


def test_pulp_status_table_agrees_with_pulps_constants():
    import pulp
    assert (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible, pulp.LpSolutionInfeasible,
            pulp.LpSolutionUnbounded, pulp.LpStatusInfeasible, pulp.LpStatusUnbounded,
            pulp.LpStatusNotSolved) == (1, 2, -1, -2, -1, -2, 0)
    for solution, status in itertools.product(range(-3, 4), range(-4, 3)):
        assert pulp_backend.termination(solution, status) is _pulp_by_hand(solution, status), \
            (solution, status)


def test_highs_status_names_exist_in_highspy():
    highspy = pytest.importorskip("highspy")
    from allocator.backends import highs
    known = set(highspy.HighsModelStatus.__members__)
    assert set(highs.STATUS_MAP) <= known
