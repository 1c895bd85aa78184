"""compare(): the model, its LP bound and the heuristics on one problem."""

from __future__ import annotations

import json

import pytest

import allocator
from allocator.cli import main
from allocator.heuristics import HEURISTICS

from .conftest import PROBLEMS
from .test_heuristics import EXPECTED, FOUR


def test_rows_match_separate_solves():
    result = allocator.compare(FOUR)
    assert [r.method for r in result.rows] == ["lp_bound", "optimal", *HEURISTICS]
    assert result.optimum == 4.0 and result.bound == pytest.approx(4.0)
    for method, (_, makespan) in EXPECTED.items():
        row = result.row(method)
        assert row.objective == makespan
        assert row.ratio_to_optimum == pytest.approx(makespan / 4.0)
        assert row.ratio_to_bound == pytest.approx(makespan / 4.0)
    assert result.row("optimal").ratio_to_optimum == 1.0
    assert result.row("lp_bound").objective <= 4.0
    assert result.best_heuristic().objective == 4.0           # lpt and local_search reach it
    assert result.worst_heuristic().objective == 5.0


def test_cost_comparison_and_method_subset():
    result = allocator.compare(PROBLEMS / "small/memory-eligibility.yaml", ["lpt", "fcfs"],
                               objective="cost")
    assert [r.method for r in result.rows] == ["lp_bound", "optimal", "lpt", "fcfs"]
    assert result.optimum == pytest.approx(18 / 3600)
    for r in result.rows[2:]:
        assert r.ratio_to_optimum >= 1 - 1e-9


def test_time_limited_model_gives_ratios_against_the_bound():
    from .test_catalogue import _hard_problem
    result = allocator.compare(_hard_problem(), ["lpt"], time_limit=1)
    opt = result.row("optimal")
    if opt.status == "feasible":
        assert result.optimum is None and opt.ratio_to_optimum is None
        assert opt.ratio_to_bound > 1
    # No heuristic beats a proven bound.
    assert result.row("lpt").objective >= result.bound
    assert result.row("lpt").ratio_to_bound >= 1


def test_unknown_method_and_objective():
    with pytest.raises(allocator.AllocatorError, match="unknown method 'fifo'"):
        allocator.compare(FOUR, ["fifo"])
    with pytest.raises(allocator.AllocatorError, match="covers makespan and cost"):
        allocator.compare(PROBLEMS / "seed-utilization.yaml")


def test_cli_compare_table_out_and_json(tmp_path, capsys):
    target = tmp_path / "c.json"
    assert main(["compare", str(PROBLEMS / "small/two-devices.yaml"), "--out", str(target)]) == 0
    captured = capsys.readouterr()
    for word in ("lp_bound", "optimal", "local_search", "optimum", "bound"):
        assert word in captured.out
    assert f"comparison written to {target}" in captured.err     # a note, not a result
    data = json.loads(target.read_text())
    assert data["optimum"] == 5.0
    assert {r["method"] for r in data["rows"]} == {"lp_bound", "optimal", *HEURISTICS}
    # --json prints the same document on stdout, and nothing else.
    assert main(["compare", str(PROBLEMS / "small/two-devices.yaml"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["optimum"] == 5.0 and len(printed["rows"]) == len(data["rows"])


def test_plots_are_written(tmp_path, capsys):
    from PIL import Image          # matplotlib depends on pillow
    figure, chart = tmp_path / "c.png", tmp_path / "g.png"
    assert main(["compare", str(PROBLEMS / "cluster-mixed.yaml"), "--plot", str(figure)]) == 0
    assert main(["solve", str(PROBLEMS / "cluster-mixed.yaml"), "--gantt", str(chart)]) == 0
    for path in (figure, chart):
        with Image.open(path) as image:
            width, height = image.size
            assert width >= 1000 and height >= 600
            # Not a blank canvas: the bars put many colours on it.
            assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 50
