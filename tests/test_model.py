"""The constraint matrix, entry by entry, against rows written out from the problem's raw fields.

The formulations assemble their matrix in compressed form without any intermediate matrix
(``RowBuilder.add_csr``); here each row is rebuilt from its definition with plain loops, keyed
by the row's name, so that a misplaced entry, a lost row or a wrong bound shows."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.sparse as sp

import allocator
from allocator.objectives import cost, makespan
from allocator.model.sparse import RowBuilder

from .bruteforce import _time, random_problem


def test_row_builder_stacks_blocks_of_any_width_and_compressed_rows():
    rows = RowBuilder(4)
    rows.add(sp.csr_array([[1.0, 2.0]]), 0.0, 5.0, lambda: ["narrow"])     # columns 0-1 only
    rows.add_csr([0, 0, 0], [], [], -np.inf, np.inf, lambda: ["empty1", "empty2"])
    # Row 0: 3 at column 3, 4 at column 0 (columns in any order); row 1: 5 at column 2.
    rows.add_csr([10, 12, 13], np.r_[np.zeros(10, int), 3, 0, 2], np.r_[np.zeros(10), 3.0, 4.0, 5.0],
                 [1.0, 2.0], 9.0, lambda: ["a", "b"])
    rows.add_csr([0], [], [], 0.0, 0.0, lambda: ["never"])                     # no rows at all
    model = rows.build(np.zeros(4), np.zeros(4), np.ones(4), np.zeros(4, bool))
    assert model.A.toarray().tolist() == [[1, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0],
                                          [4, 0, 0, 3], [0, 0, 5, 0]]
    assert model.row_lo.tolist() == [0, -np.inf, -np.inf, 1, 2]
    assert model.row_hi.tolist() == [5, np.inf, np.inf, 9, 9]
    assert model.row_names() == ["narrow", "empty1", "empty2", "a", "b"]
    empty = RowBuilder(3).build(np.zeros(3), np.zeros(3), np.ones(3), np.zeros(3, bool))
    assert empty.A.shape == (0, 3) and empty.row_lo.shape == (0,)


def _reference_rows(problem, with_load: bool) -> dict[str, tuple[dict, float, float]]:
    """{row name: ({column name: coefficient}, lo, hi)} written out from the definitions."""
    devices = [(f"{pool.name}[{k}]", pool, k) for pool in problem.pools for k in range(pool.count)]
    time = {(t.name, d): _time(problem, t, pool) for t in problem.tasks for d, pool, _ in devices}
    pairs = {k: v for k, v in time.items() if v is not None}

    def load(d, due=math.inf, sign=1.0):
        return {f"x[{t},{d}]": sign * p for (t, e), p in pairs.items()
                if e == d and (problem.tasks[problem.task_index[t]].deadline or math.inf) <= due}

    rows = {}
    for t in problem.tasks:
        rows[f"assign[{t.name}]"] = ({f"x[{t.name},{d}]": 1.0 for (s, d) in pairs if s == t.name},
                                     1.0, 1.0)
    for d, pool, k in devices:
        if with_load:
            rows[f"load[{d}]"] = ({**load(d), "C": -1.0}, -math.inf, 0.0)
        horizon = pool.horizon if pool.horizon is not None else problem.horizon
        if horizon is not None:
            rows[f"horizon[{d}]"] = (load(d), -math.inf, horizon)
        for due in sorted({t.deadline for t in problem.tasks if t.deadline is not None}):
            if load(d, due):
                rows[f"deadline[{d},{due:g}s]"] = (load(d, due), -math.inf, due)
        if k + 1 < pool.count:
            nxt = f"{pool.name}[{k + 1}]"
            rows[f"symmetry[{d}>={nxt}]"] = ({**load(d), **load(nxt, sign=-1.0)}, 0.0, math.inf)
    return rows


@pytest.mark.parametrize("formulation", [makespan, cost], ids=["makespan", "cost"])
@pytest.mark.parametrize("seed", range(40))
def test_matrix_matches_rows_written_from_the_definitions(formulation, seed):
    doc = random_problem(seed, max_tasks=7, max_devices=6)
    if seed % 3 == 0:                                # a pool's own horizon over the problem's
        doc["pools"][0]["horizon"] = 4000.0
    problem = allocator.load(doc, check=False)
    model = formulation.build(problem).model
    names, cols = model.row_names(), model.col_names()
    expected = _reference_rows(problem, with_load=formulation is makespan)
    assert sorted(names) == sorted(expected)
    assert len(set(cols)) == len(cols) == model.n_cols
    A = model.A.toarray()
    for r, name in enumerate(names):
        entries, lo, hi = expected[name]
        got = {cols[j]: A[r, j] for j in np.flatnonzero(A[r])}
        assert got == pytest.approx(entries), name
        assert (model.row_lo[r], model.row_hi[r]) == (lo, hi), name
    # Every pair column is a pair the problem allows, and every allowed pair has its column.
    pattern = re.compile(r"x\[(.+),(.+)\]")
    allowed = {f"x[{k[0]},{k[1]}]" for k, v in {
        (t.name, f"{pool.name}[{k}]"): _time(problem, t, pool)
        for t in problem.tasks for pool in problem.pools for k in range(pool.count)}.items()
        if v is not None}
    assert {c for c in cols if pattern.fullmatch(c)} == allowed
