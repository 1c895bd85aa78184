"""Command line: every command is a thin call into the library.

Exit status: 0 success; 1 the problem is valid but no plan was found (the solver proved it
infeasible, or a time limit passed first); 2 bad input or usage, with one readable message.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from . import __version__
from .checks import check_problem
from .errors import AllocatorError, ProblemError
from .io import load
from .plan import Plan
from .problem import MEASURES, OBJECTIVES
from .report import render
from .schema import json_schema
from .solve import solve as solve_problem
from .verify import verify as verify_plan

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Decide which device runs which ML task, and prove how good it is.")
# Tables are wide: when output goes to a file or pipe, do not squeeze them into 80 columns.
out = Console() if sys.stdout.isatty() else Console(width=120)
err = Console(stderr=True)

Objective = Enum("Objective", {o: o for o in OBJECTIVES}, type=str)
Measure = Enum("Measure", {m: m for m in MEASURES}, type=str)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _load_checked(path: Path, objective: str | None):
    problem = load(path, check=False)
    check_problem(problem, objective or problem.objective)
    return problem


class SolveProgress:
    """A live line (elapsed, incumbent, bound, gap) on stderr for solves longer than
    ``after`` seconds; nothing for quick ones, so scripts and short runs stay quiet."""

    def __init__(self, console, after: float = 2.0):
        self.console, self.after, self.status = console, after, None

    def __enter__(self):
        return self

    def __call__(self, seconds: float, incumbent, bound) -> None:
        if seconds < self.after:
            return
        parts = [f"solving: {seconds:.1f}s"]
        if incumbent is not None:
            parts.append(f"incumbent {incumbent:.6g}")
        if bound is not None:
            parts.append(f"bound {bound:.6g}")
        if incumbent is not None and bound is not None and incumbent != 0:
            parts.append(f"gap {abs(incumbent - bound) / abs(incumbent):.2%}")
        text = " · ".join(parts)
        if self.status is None:
            self.status = self.console.status(text)
            self.status.start()
        else:
            self.status.update(text)

    def __exit__(self, *exc) -> None:
        if self.status is not None:
            self.status.stop()


@app.command()
def solve(
    file: Path = typer.Argument(..., help="Problem YAML file."),
    objective: Optional[Objective] = typer.Option(None, help="Override the file's objective."),
    backend: Optional[str] = typer.Option(None, help="highs (HiGHS via highspy; default where "
                                          "installed), scipy (HiGHS in SciPy) or pulp."),
    solver: Optional[str] = typer.Option(None, help="PuLP solver: CBC (default), HiGHS, GUROBI..."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Seconds."),
    gap: float = typer.Option(1e-6, "--gap", help="Relative MIP gap to stop at."),
    strategy: str = typer.Option("auto", help="auto, full, aggregated or decomposed."),
    threads: Optional[int] = typer.Option(None, help="Solver threads (highs, CBC)."),
    parts: Optional[int] = typer.Option(None, help="Sub-problems for --strategy decomposed."),
    warm_start: bool = typer.Option(True, "--warm-start/--no-warm-start",
                                    help="Start the solver from the best quick heuristic."),
    measure: Optional[Measure] = typer.Option(None, help="load_balance: max_load or inverse_sum."),
    method: str = typer.Option("optimal", help="optimal (the model) or a heuristic: fcfs, sjf, "
                               "priority, round_robin, least_loaded, weighted_round_robin, "
                               "first_fit_decreasing, lpt, earliest_finish, regret, "
                               "local_search."),
    seed: int = typer.Option(0, help="Seed for heuristics that use randomness."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write the plan (.json or .yaml)."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON instead."),
    gantt: Optional[Path] = typer.Option(None, "--gantt", help="Draw the plan's Gantt chart."),
) -> None:
    """Solve a problem and print the plan with its objective, bound and gap."""
    obj = objective.value if objective else None
    problem = _load_checked(file, obj)
    with SolveProgress(err) as progress:
        plan = solve_problem(problem, objective=obj, backend=backend, solver=solver,
                             time_limit=time_limit, mip_gap=gap, strategy=strategy,
                             threads=threads, parts=parts, warm_start=warm_start,
                             measure=measure.value if measure else None, method=method,
                             seed=seed, progress=progress)
    if out_file is not None:
        plan.save(out_file)
    if gantt is not None and plan.schedule:
        from .plot import gantt as draw
        draw(problem, plan, gantt)
    if as_json:
        print(json.dumps(plan.to_dict(), indent=2))
    else:
        out.print(render(problem, plan))
        if out_file is not None:
            out.print(f"plan written to {out_file}")
        if gantt is not None:
            out.print(f"Gantt chart written to {gantt}" if plan.schedule else
                      "no Gantt chart: this plan has no schedule")
    if not plan.status.has_plan:
        raise typer.Exit(1)


@app.command()
def compare(
    file: Path = typer.Argument(..., help="Problem YAML file."),
    methods: Optional[str] = typer.Option(None, help="Comma-separated heuristics (default all)."),
    objective: Optional[Objective] = typer.Option(None, help="makespan or cost."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds for the model."),
    seed: int = typer.Option(0, help="Seed for heuristics that use randomness."),
    json_file: Optional[Path] = typer.Option(None, "--json", help="Write the table as JSON."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Draw Gantt charts of the optimal, "
                                        "best and worst plans and a bar chart of the ratios."),
) -> None:
    """Compare the optimal plan, its LP bound and the heuristics on one problem."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .comparison import compare as run_compare
    from .report import comparison_table
    obj = objective.value if objective else None
    problem = _load_checked(file, obj)
    names = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        job = bar.add_task("solving", total=None)
        result = run_compare(problem, names, objective=obj, time_limit=time_limit, seed=seed,
                             progress=lambda m: bar.update(job, description=f"running {m}"))
    out.print(comparison_table(problem, result))
    if json_file is not None:
        result.save(json_file)
        out.print(f"comparison written to {json_file}")
    if plot is not None:
        from .plot import comparison_figure
        comparison_figure(problem, result, plot)
        out.print(f"figure written to {plot}")


@app.command()
def validate(
    file: Path = typer.Argument(..., help="Problem YAML file."),
    objective: Optional[Objective] = typer.Option(None, help="Check for this objective."),
) -> None:
    """Check a problem file; print a one-line summary or the first problem found."""
    obj = objective.value if objective else None
    problem = _load_checked(file, obj)
    out.print(f"ok: {problem.name}: {len(problem.tasks)} tasks, {len(problem.devices)} devices "
              f"in {len(problem.pools)} pools, objective {obj or problem.objective}")


@app.command()
def verify(
    file: Path = typer.Argument(..., help="Problem YAML file."),
    plan_file: Path = typer.Argument(..., help="Plan written by `solve --out`."),
) -> None:
    """Recompute a saved plan against its problem; list every violation."""
    problem = load(file, check=False)
    try:
        plan = Plan.load(plan_file)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        _fail(f"cannot read plan {plan_file}: {exc}")
    problems = verify_plan(problem, plan)
    for p in problems:
        err.print(f"violation: {p}", highlight=False)
    if problems:
        raise typer.Exit(1)
    out.print(f"ok: the {plan.status} {plan.objective_name} plan is feasible and its numbers agree")


@app.command()
def run(
    file: Path = typer.Argument(..., help="Problem YAML file; every task needs a workload."),
    plan_file: Optional[Path] = typer.Option(None, "--plan", help="Plan to run (from "
                                             "`solve --out`); default: solve first."),
    journal: Optional[Path] = typer.Option(None, help="JSON-lines journal, so a killed run "
                                           "can --resume."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --journal."),
    max_retries: int = typer.Option(2, "--max-retries", help="Re-runs allowed per task."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit",
                                               help="Seconds for the solve before the run."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write the report as JSON."),
    gantt: Optional[Path] = typer.Option(None, "--gantt",
                                         help="Draw planned vs measured Gantt charts."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Run a plan on this machine's devices (cpu, cuda:N) and report what happened."""
    from .executor.runner import execute
    from .report import execution_table
    problem = _load_checked(file, None)
    plan = None
    if plan_file is not None:
        try:
            plan = Plan.load(plan_file)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            _fail(f"cannot read plan {plan_file}: {exc}")
    elif not resume:
        plan = solve_problem(problem, time_limit=time_limit)
    if max_retries < 0:
        _fail("--max-retries must be 0 or more")
    report = execute(problem, plan, journal=journal, resume=resume, max_retries=max_retries,
                     progress=not quiet)
    out.print(execution_table(report))
    if out_file is not None:
        report.save(out_file)
        out.print(f"report written to {out_file}")
    if gantt is not None:
        from .plot import execution_gantt
        execution_gantt(problem, report, gantt, plan)
        out.print(f"Gantt chart written to {gantt}")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def profile(
    file: Path = typer.Argument(..., help="Problem YAML file; tasks with a workload are run."),
    out_file: Path = typer.Option(..., "--out", help="Where to write the profiled problem."),
    steps: int = typer.Option(3, help="Timed steps per workload (after one warm-up step)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Measure each workload on each pool's torch device; write the problem with the
    measured throughput and memory."""
    from .executor.profiler import profile as run_profile
    from .io import dump
    from .report import profile_table
    if steps < 1:
        _fail("--steps must be at least 1")
    problem = load(file, check=False)
    if not any(t.workload is not None for t in problem.tasks):
        _fail(f"{file}: no task has a workload: block; nothing to profile")
    result = run_profile(problem, steps=steps, progress=not quiet)
    out.print(profile_table(result))
    for why in result.skipped.values():
        out.print(f"[yellow]not measured:[/] {why}", highlight=False)
    dump(result.problem, out_file)
    out.print(f"profiled problem written to {out_file}")


@app.command()
def schema() -> None:
    """Print the problem format as JSON Schema."""
    print(json.dumps(json_schema(), indent=2))


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning input errors into one line and exit status 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except (ProblemError, AllocatorError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except Exception as exc:            # click usage errors and the unexpected
        import click
        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 130
        if os.environ.get("ALLOCATOR_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc} "
                  f"(run with ALLOCATOR_DEBUG=1 for the traceback, and please report it)",
                  highlight=False)
        return 3
    return code if isinstance(code, int) else 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
