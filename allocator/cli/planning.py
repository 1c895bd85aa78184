"""Planning commands: solve, compare, validate, verify."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..objectives import HEURISTIC as HEURISTIC_OBJECTIVES
from .common import (
    _at_least,
    _fail,
    _gap,
    _load_checked,
    _load_plan,
    _methods,
    _note,
    _one_of,
    _seconds,
    _strategies,
    _writable,
    _write,
    app,
    err,
    INPUT_FILE,
    Measure,
    Objective,
    out,
    PROBLEM_FILE,
    SolveProgress,
)


@app.command()
def solve(
    file: Path = typer.Argument(..., help="Problem YAML file.", **PROBLEM_FILE),
    objective: Optional[Objective] = typer.Option(None, help="Override the file's objective."),
    backend: Optional[str] = typer.Option(None, help="highs (HiGHS via highspy; default where "
                                          "installed), scipy (HiGHS in SciPy) or pulp."),
    solver: Optional[str] = typer.Option(None, help="PuLP solver: CBC (default), HiGHS, GUROBI..."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", callback=_seconds,
                                               help="Seconds (> 0) for the whole solve."),
    gap: float = typer.Option(1e-6, "--gap", callback=_gap,
                              help="Relative MIP gap to stop at (0 <= gap < 1)."),
    strategy: str = typer.Option("auto", callback=_one_of(_strategies, "auto"),
                                 help="auto, full, aggregated, decomposed or configurations."),
    threads: Optional[int] = typer.Option(None, callback=_at_least(1),
                                          help="Solver threads (highs, CBC; >= 1)."),
    parts: Optional[int] = typer.Option(None, callback=_at_least(1),
                                        help="Sub-problems for --strategy decomposed (>= 1)."),
    warm_start: bool = typer.Option(True, "--warm-start/--no-warm-start",
                                    help="Start the solver from the best quick heuristic."),
    measure: Optional[Measure] = typer.Option(None, help="load_balance: max_load or inverse_sum."),
    method: str = typer.Option("optimal", callback=_one_of(_methods, "optimal"),
                               help="optimal (the model) or a heuristic: fcfs, sjf, "
                               "priority, round_robin, least_loaded, weighted_round_robin, "
                               "first_fit_decreasing, lpt, earliest_finish, regret, "
                               "local_search."),
    seed: int = typer.Option(0, help="Seed for heuristics that use randomness."),
    out_file: Optional[Path] = typer.Option(None, "--out", callback=_writable,
                                            help="Write the plan (.json or .yaml)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON on stdout "
                                 "instead of the table."),
    gantt: Optional[Path] = typer.Option(None, "--gantt", callback=_writable,
                                         help="Draw the plan's Gantt chart."),
) -> None:
    """Solve a problem and print the plan with its objective, bound and gap."""
    from ..ui.report import render
    from ..solver.pipeline import solve as solve_problem
    obj = objective.value if objective else None
    problem = _load_checked(file, obj)
    with SolveProgress(err) as progress:
        plan = solve_problem(problem, objective=obj, backend=backend, solver=solver,
                             time_limit=time_limit, mip_gap=gap, strategy=strategy,
                             threads=threads, parts=parts, warm_start=warm_start,
                             measure=measure.value if measure else None, method=method,
                             seed=seed, progress=progress)
    if as_json:
        print(json.dumps(plan.to_dict(), indent=2))
    else:
        out.print(render(problem, plan))
    if out_file is not None:
        from ..io.plan_files import save_plan
        _write(out_file, lambda path: save_plan(plan, path), "plan")
    if gantt is not None:
        if plan.schedule:
            from ..ui.plot import gantt as draw
            _write(gantt, lambda path: draw(problem, plan, path), "Gantt chart")
        else:
            _note("no Gantt chart: this plan has no schedule")
    if not plan.status.has_plan:
        raise typer.Exit(1)


@app.command()
def compare(
    file: Path = typer.Argument(..., help="Problem YAML file.", **PROBLEM_FILE),
    methods: Optional[str] = typer.Option(None, help="Comma-separated heuristics (default all)."),
    objective: Optional[Objective] = typer.Option(None, help="makespan or cost."),
    time_limit: float = typer.Option(60.0, "--time-limit", callback=_seconds,
                                     help="Seconds (> 0) for the model."),
    seed: int = typer.Option(0, help="Seed for heuristics that use randomness."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON on "
                                 "stdout instead of the table."),
    out_file: Optional[Path] = typer.Option(None, "--out", callback=_writable,
                                            help="Write the comparison as JSON."),
    plot: Optional[Path] = typer.Option(None, "--plot", callback=_writable,
                                        help="Draw Gantt charts of the optimal, "
                                        "best and worst plans and a bar chart of the ratios."),
) -> None:
    """Compare the optimal plan, its LP bound and the heuristics on one problem."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    obj = objective.value if objective else None
    problem = _load_checked(file, obj)
    if (obj or problem.objective) not in HEURISTIC_OBJECTIVES and not problem.on_nodes:
        _fail(f"compare covers {' and '.join(HEURISTIC_OBJECTIVES)} and clusters of nodes, "
              f"not {obj or problem.objective!r}: the heuristics place whole tasks")

    names = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    check = _one_of(lambda: _methods()[1:])
    try:
        for name in names or ():
            check(name)
    except typer.BadParameter as exc:
        _fail(f"--methods: {exc}")
    from ..analysis.compare import compare as run_compare
    from ..ui.report import comparison_table
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        job = bar.add_task("solving", total=None)
        result = run_compare(problem, names, objective=obj, time_limit=time_limit, seed=seed,
                             progress=lambda m: bar.update(job, description=f"running {m}"))
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        out.print(comparison_table(problem, result))
    if out_file is not None:
        _write(out_file, result.save, "comparison")
    if plot is not None:
        from ..ui.plot import comparison_figure
        _write(plot, lambda path: comparison_figure(problem, result, path), "figure")


@app.command()
def validate(
    file: Path = typer.Argument(..., help="Problem YAML file.", **PROBLEM_FILE),
    objective: Optional[Objective] = typer.Option(None, help="Check for this objective."),
) -> None:
    """Check a problem file; print a one-line summary or the first problem found."""
    obj = objective.value if objective else None
    problem = _load_checked(file, obj)
    what = ("nodes", "groups") if problem.on_nodes else ("devices", "pools")
    print(f"ok: {problem.name}: {len(problem.tasks)} tasks, {len(problem.devices)} {what[0]} "
          f"in {len(problem.pools)} {what[1]}, objective {obj or problem.objective}")


@app.command()
def verify(
    file: Path = typer.Argument(..., help="Problem YAML file.", **PROBLEM_FILE),
    plan_file: Path = typer.Argument(..., help="Plan written by `solve --out`.",
                                     metavar="PLAN", **INPUT_FILE),
) -> None:
    """Recompute a saved plan against its problem; list every violation."""
    from ..io.problem_files import load
    from ..analysis.verify import verify as verify_plan
    problem = load(file, check=False)
    plan = _load_plan(plan_file)
    problems = verify_plan(problem, plan)
    for p in problems:
        err.print(f"violation: {p}", markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    print(f"ok: the {plan.status} {plan.objective_name} plan is feasible and its numbers agree")
