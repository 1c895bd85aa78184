"""Every backend follows the Backend protocol: its capabilities are declared (the solver asks
them, never probes), and its solver's statuses map to a Termination in one table."""

from __future__ import annotations

import dataclasses
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


def _lp(cost, bound):
    """max cost @ x with x1 + x2 <= bound, 0 <= x <= 1 (as a minimisation)."""
    import numpy as np
    import scipy.sparse as sp
    from allocator.model.sparse import LinearModel
    return LinearModel(c=-np.asarray(cost, float), A=sp.csr_array(np.ones((1, 2))),
                       row_lo=np.array([-np.inf]), row_hi=np.array([bound]),
                       col_lo=np.zeros(2), col_hi=np.ones(2), integrality=np.zeros(2, bool))


def test_highs_reuses_one_instance_per_thread_as_if_new():
    """Successive small LPs on the kept instance: each solved from scratch (nothing of the
    last model, options or callbacks left), as by hand; a time limit or a progress callback
    gets a new instance (the kept one's clock and callbacks would carry over)."""
    pytest.importorskip("highspy")
    import threading
    from allocator.backends import highs
    from allocator.backends.base import SolveOptions
    by_hand = [([3, 1], 1.0, 3.0), ([1, 2], 2.0, 3.0), ([2, 5], 0.5, 2.5), ([3, 1], 1.0, 3.0)]
    for cost, bound, best in by_hand:
        result = highs.solve(_lp(cost, bound), SolveOptions())
        assert result.termination is Termination.OPTIMAL
        assert -result.objective == pytest.approx(best)
    kept = highs._this_thread.kept
    assert highs._highs(SolveOptions(), reuse=True) is kept
    # an LP large enough to be watched for Ctrl-C leaves no callback behind
    import numpy as np
    import scipy.sparse as sp
    from allocator.model.sparse import LinearModel
    n = highs.SMALL_LP + 1
    wide = LinearModel(c=-np.ones(n), A=sp.csr_array(np.ones((1, n))), row_lo=np.array([-np.inf]),
                       row_hi=np.array([2.5]), col_lo=np.zeros(n), col_hi=np.ones(n),
                       integrality=np.zeros(n, bool))
    assert -highs.solve(wide, SolveOptions()).objective == pytest.approx(2.5)
    assert highs._this_thread.kept is kept and not kept.cbSimplexInterrupt.callbacks
    assert highs._highs(SolveOptions(), reuse=False) is not kept
    limited = highs.solve(_lp([1, 1], 1.0), SolveOptions(time_limit=5.0))
    assert -limited.objective == pytest.approx(1.0) and highs._this_thread.kept is kept
    # a solve while the kept instance is held (another solve on the thread) gets a new one
    highs._this_thread.busy = True
    try:
        assert highs._highs(SolveOptions(), reuse=True) is not kept
    finally:
        highs._this_thread.busy = False
    # another thread keeps its own
    other = []
    worker = threading.Thread(target=lambda: other.append(
        (highs.solve(_lp([1, 2], 2.0), SolveOptions()).objective, highs._this_thread.kept)))
    worker.start()
    worker.join()
    assert -other[0][0] == pytest.approx(3.0) and other[0][1] is not kept


def test_highs_solve_stopped_before_a_solution_has_none():
    """HiGHS stopped by its limit before it found a point (a time limit of 0) reports no
    solution, not a feasible one: the info it is read from is fetched only for such solves
    and for MIPs. An optimal LP of the same shape is solved as by hand, duals included."""
    pytest.importorskip("highspy")
    import numpy as np
    from allocator.backends import highs
    from allocator.backends.base import SolveOptions
    lp = dataclasses.replace(_lp([3, 1], 1.5), row_lo=np.array([1.0]))   # x = 0 is not feasible
    mip = dataclasses.replace(lp, integrality=np.ones(2, bool))
    for model in (lp, mip):
        stopped = highs.solve(model, SolveOptions(time_limit=0.0))
        assert stopped.termination is Termination.NO_SOLUTION, stopped
        assert stopped.x is None and stopped.objective is None
    solved = highs.solve(_lp([3, 1], 1.5), SolveOptions())
    assert solved.termination is Termination.OPTIMAL
    assert solved.x == pytest.approx([1.0, 0.5]) and solved.objective == pytest.approx(-3.5)
    # max 3 x1 + x2 with x1 + x2 <= 1.5, x <= 1: x2 is basic, so the row's dual is x2's cost
    # in the minimisation, -1
    assert solved.duals == pytest.approx([-1.0])
