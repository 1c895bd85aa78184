"""Command line: every command is a thin call into the library.

Exit status (docs/cli.md): 0 success; 1 a valid problem without a plan (proven infeasible, or a
time limit passed first) or a run with a failed task; 2 a usage error or bad input, with one
readable message on stderr naming the option, file, line or field; 130 interrupted; 3 an
internal error (a bug: please report it).

Results go to stdout; progress, notes and warnings to stderr, so ``allocator solve P --json | jq``
always works.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import math
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Callable, Iterable, Optional

import typer
from rich.console import Console

from . import __version__
from .errors import AllocatorError, ProblemError
from .domain.problem import MEASURES
from .objectives import HEURISTIC as HEURISTIC_OBJECTIVES
from .objectives import NAMES as OBJECTIVES

app = typer.Typer(
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,                 # plain usage errors: one message, never boxed
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Decide which device runs which ML task, and prove how good it is.",
)
# Tables are wide: when output goes to a file or pipe, do not squeeze them into 80 columns.
# Names and messages come from users' files: never read them as markup ("[red]") or emoji
# codes (":b:").
out = Console(markup=False, emoji=False, **({} if sys.stdout.isatty() else {"width": 120}))
# Messages on stderr are never hard-wrapped when stderr is not a terminal (logs, pipes, CI).
err = Console(stderr=True, soft_wrap=not sys.stderr.isatty(), markup=False, emoji=False)

Objective = Enum("Objective", {o: o for o in OBJECTIVES}, type=str)
Measure = Enum("Measure", {m: m for m in MEASURES}, type=str)

INPUT_FILE = {"exists": True, "dir_okay": False, "readable": True}
PROBLEM_FILE = {"metavar": "FILE", **INPUT_FILE}
TORCH_INSTALL = "pip install -e \".[torch]\" in a checkout, pip install \"allocator[torch]\" otherwise"


def _fail(message: str, code: int = 2) -> None:
    err.print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def _note(message: str) -> None:
    """A note for the person at the terminal (files written and the like): stderr."""
    err.print(message, markup=False, highlight=False)


# -- option checks: out-of-range values are usage errors naming the option ------------------

def _seconds(value: Optional[float]) -> Optional[float]:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"must be a positive number of seconds, got {value}")
    return value


def _gap(value: float) -> float:
    if not (math.isfinite(value) and 0 <= value < 1):
        raise typer.BadParameter(f"must be a relative gap with 0 <= gap < 1, got {value}")
    return value


def _at_least(low: int) -> Callable[[Optional[int]], Optional[int]]:
    def check(value: Optional[int]) -> Optional[int]:
        if value is not None and value < low:
            raise typer.BadParameter(f"must be at least {low}, got {value}")
        return value
    return check


def _writable(path: Optional[Path]) -> Optional[Path]:
    """An output file whose folder exists and may be written, checked before any work."""
    if path is None:
        return path
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a directory, not a file")
    if not folder.is_dir():
        raise typer.BadParameter(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise typer.BadParameter(f"cannot write {path}: folder {folder} is not writable")
    return path


def _writable_folder(path: Optional[Path]) -> Optional[Path]:
    """A folder that exists and is writable, or can be made in a writable folder."""
    if path is None:
        return path
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{path} is not a folder")
    probe = path if path.exists() else path.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise typer.BadParameter(f"cannot write in {probe}")
    return path


def _one_of(names: Callable[[], Iterable[str]],
            default: Optional[str] = None) -> Callable[[Optional[str]], Optional[str]]:
    """A check that ``value`` is one of ``names()``; the default passes without asking, so
    that the names (which may import the solvers) are only listed for a value given."""
    def check(value: Optional[str]) -> Optional[str]:
        if value is None or value == default:
            return value
        allowed = list(names())
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}{hint}")
        return value
    return check


def _methods() -> list[str]:
    from .heuristics import HEURISTICS
    return ["optimal", *HEURISTICS]


def _strategies() -> tuple[str, ...]:
    from .solver.strategy import STRATEGIES
    return STRATEGIES


def _write(path: Path, save: Callable[[Path], None], what: str) -> None:
    """Write a result file; a folder that is missing or read-only is bad input, not a crash."""
    try:
        save(path)
    except OSError as exc:
        _fail(f"cannot write {what} {path}: {exc.strerror or exc}")
    _note(f"{what} written to {path}")


def _load_checked(path: Path, objective: str | None):
    from .io.problem_files import load
    return load(path, objective=objective)


def _load_plan(path: Path):
    from .io.plan_files import load_plan
    return load_plan(path)


def _need_torch(command: str) -> None:
    if importlib.util.find_spec("torch") is None:
        _fail(f"`allocator {command}` runs torch, which is not installed; install it with "
              f"{TORCH_INSTALL} (planning commands need no torch)")


class SolveProgress:
    """A live line (elapsed, incumbent, bound, gap) on stderr for solves longer than
    ``after`` seconds; nothing for quick ones, so scripts and short runs stay quiet."""

    def __init__(self, console, after: float = 2.0):
        self.console, self.after, self.status = console, after, None

    def __enter__(self):
        return self

    def __call__(self, seconds: float, incumbent, bound) -> None:
        if seconds < self.after or not self.console.is_terminal:
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


def _print_version(value: bool) -> None:
    if value:
        print(f"allocator {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Decide which device runs which ML task, and prove how good it is."""


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
                                 help="auto, full, aggregated or decomposed."),
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
    from .ui.report import render
    from .solver.pipeline import solve as solve_problem
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
        from .io.plan_files import save_plan
        _write(out_file, lambda path: save_plan(plan, path), "plan")
    if gantt is not None:
        if plan.schedule:
            from .ui.plot import gantt as draw
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
    if (obj or problem.objective) not in HEURISTIC_OBJECTIVES:
        _fail(f"compare covers {' and '.join(HEURISTIC_OBJECTIVES)}, not "
              f"{obj or problem.objective!r}: the heuristics place whole tasks")

    names = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    check = _one_of(lambda: _methods()[1:])
    try:
        for name in names or ():
            check(name)
    except typer.BadParameter as exc:
        _fail(f"--methods: {exc}")
    from .analysis.compare import compare as run_compare
    from .ui.report import comparison_table
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
        from .ui.plot import comparison_figure
        _write(plot, lambda path: comparison_figure(problem, result, path), "figure")


@app.command()
def validate(
    file: Path = typer.Argument(..., help="Problem YAML file.", **PROBLEM_FILE),
    objective: Optional[Objective] = typer.Option(None, help="Check for this objective."),
) -> None:
    """Check a problem file; print a one-line summary or the first problem found."""
    obj = objective.value if objective else None
    problem = _load_checked(file, obj)
    print(f"ok: {problem.name}: {len(problem.tasks)} tasks, {len(problem.devices)} devices "
          f"in {len(problem.pools)} pools, objective {obj or problem.objective}")


@app.command()
def verify(
    file: Path = typer.Argument(..., help="Problem YAML file.", **PROBLEM_FILE),
    plan_file: Path = typer.Argument(..., help="Plan written by `solve --out`.",
                                     metavar="PLAN", **INPUT_FILE),
) -> None:
    """Recompute a saved plan against its problem; list every violation."""
    from .io.problem_files import load
    from .analysis.verify import verify as verify_plan
    problem = load(file, check=False)
    plan = _load_plan(plan_file)
    problems = verify_plan(problem, plan)
    for p in problems:
        err.print(f"violation: {p}", markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    print(f"ok: the {plan.status} {plan.objective_name} plan is feasible and its numbers agree")


@app.command()
def run(
    file: Path = typer.Argument(..., help="Problem YAML file; every task needs a command, a "
                                "callable or a workload.", **PROBLEM_FILE),
    plan_file: Optional[Path] = typer.Option(None, "--plan", help="Plan to run (from "
                                             "`solve --out`); default: solve first.",
                                             **INPUT_FILE),
    journal: Optional[Path] = typer.Option(None, callback=_writable,
                                           help="JSON-lines journal, so a killed or stopped "
                                           "run can --resume."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --journal."),
    max_retries: Optional[int] = typer.Option(None, "--max-retries", callback=_at_least(0),
                                              help="Re-runs allowed per task (>= 0; default "
                                              "2, or the journal's on --resume)."),
    task_timeout: Optional[float] = typer.Option(None, "--task-timeout", callback=_seconds,
                                                 help="Seconds (> 0) an attempt may run when "
                                                 "its task sets no timeout."),
    logs: Optional[Path] = typer.Option(None, "--logs", callback=_writable_folder,
                                        help="Folder for each task's stdout and stderr "
                                        "(default: <journal>.logs, else a temporary folder)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", callback=_seconds,
                                               help="Seconds (> 0) for the solve before the run."),
    out_file: Optional[Path] = typer.Option(None, "--out", callback=_writable,
                                            help="Write the report as JSON."),
    gantt: Optional[Path] = typer.Option(None, "--gantt", callback=_writable,
                                         help="Draw planned vs measured Gantt charts."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Run a plan on this machine's devices (cpu, cuda:N) and report what happened.

    Exit status: 0 when every task completed, 1 when one failed, 2 for bad input, 130 or
    143 when stopped by SIGINT or SIGTERM (then --resume finishes the rest).
    """
    from .analysis.verify import verify as verify_plan
    # The inputs first, before torch is imported: bad input is refused at once.
    problem = _load_checked(file, None)
    if any(t.workload is not None for t in problem.tasks):
        _need_torch("run")
    plan = None
    if plan_file is not None:
        plan = _load_plan(plan_file)
        wrong = verify_plan(problem, plan)              # against the file it was made for
        if wrong:
            _fail(f"plan {plan_file} does not fit {file}: {wrong[0]}"
                  + (f" (and {len(wrong) - 1} more; `allocator verify` lists them)"
                     if len(wrong) > 1 else ""))
    from .errors import RunStopped
    from .executor.devices import on_this_machine
    from .executor.runner import check_inputs, execute
    from .ui.report import execution_table
    from .solver.pipeline import solve as solve_problem
    check_inputs(problem, resume=resume, journal=journal)      # before the solve
    problem, notes = on_this_machine(problem)
    for note in notes:
        _note(f"note: {note}")
    if plan is None and not resume:
        plan = solve_problem(problem, time_limit=time_limit)
    try:
        report = execute(problem, plan, journal=journal, resume=resume,
                         max_retries=max_retries, task_timeout=task_timeout, logs=logs,
                         progress=not quiet)
    except RunStopped as stopped:
        out.print(execution_table(stopped.report))
        _note(f"stopped by {stopped.signal}: the tasks it was running were stopped"
              + (f"; `allocator run {file} --journal {journal} --resume` finishes the rest"
                 if journal is not None else " (without --journal it cannot be resumed)"))
        raise typer.Exit(stopped.exit_code) from None
    out.print(execution_table(report))
    if out_file is not None:
        _write(out_file, report.save, "report")
    if gantt is not None:
        from .ui.plot import execution_gantt
        _write(gantt, lambda path: execution_gantt(problem, report, path, plan), "Gantt chart")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def report(
    file: Path = typer.Argument(..., help="A run's report (`run --out`) or journal "
                                "(`run --journal`).", **INPUT_FILE),
    problem_file: Optional[Path] = typer.Option(None, "--problem", help="The problem the run "
                                                "ran: adds predictions and checks against "
                                                "it.", **INPUT_FILE),
    gantt: Optional[Path] = typer.Option(None, "--gantt", callback=_writable,
                                         help="Draw the measured Gantt chart."),
) -> None:
    """Show a saved run report or a journal: the table, checks and, with --gantt, the chart.

    Exit status 1 when the report fails its checks (negative durations, a makespan that
    disagrees with the attempts, unknown devices, a task completed twice).
    """
    from .executor.results import check_report, load_report
    from .ui.report import execution_table
    problem = _load_checked(problem_file, None) if problem_file is not None else None
    loaded = load_report(file, problem)
    out.print(execution_table(loaded))
    issues = check_report(problem, loaded)
    if gantt is not None:
        from .ui.plot import execution_gantt
        _write(gantt, lambda path: execution_gantt(problem or loaded.layout(), loaded, path),
               "Gantt chart")
    if issues:
        for issue in issues:
            _note(f"check: {issue}")
        raise typer.Exit(1)


@app.command()
def profile(
    file: Path = typer.Argument(..., help="Problem YAML file; tasks with a workload, a command "
                                "or a callable are run.", **PROBLEM_FILE),
    out_file: Path = typer.Option(..., "--out", callback=_writable,
                                  help="Where to write the profiled problem."),
    steps: int = typer.Option(3, callback=_at_least(1),
                              help="Timed steps per workload (after one warm-up step; >= 1)."),
    limit: float = typer.Option(600.0, "--limit", callback=_seconds,
                                help="Seconds (> 0) one run of a command or callable may take "
                                "when its task sets no timeout."),
    logs: Optional[Path] = typer.Option(None, "--logs", callback=_writable_folder,
                                        help="Folder for the jobs' stdout and stderr "
                                        "(default: a temporary folder)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Measure each workload, command and callable on each pool's torch device; write the
    problem with the measured throughput (workloads), time (jobs) and memory (workloads).

    A command or callable runs once, whole, as `run` would run it: profile a short version
    of a long job and scale its time table.
    """
    from .executor.profiler import profile as run_profile
    from .executor.runner import check_runnable
    from .io.problem_files import dump, load
    from .ui.report import profile_table
    problem = load(file, check=False)
    if not any(t.workload is not None or t.job is not None for t in problem.tasks):
        _fail(f"{file}: no task has a workload:, command: or callable:; nothing to profile")
    if any(t.workload is not None for t in problem.tasks):
        _need_torch("profile")
    for task in problem.tasks:
        if task.workload is not None or task.job is not None:
            check_runnable(task)
    result = run_profile(problem, steps=steps, progress=not quiet, limit=limit,
                         logs=None if logs is None else str(logs))
    out.print(profile_table(result))
    for why in result.skipped.values():
        _note(f"not measured: {why}")
    _write(out_file, lambda path: dump(result.problem, path), "profiled problem")


@app.command()
def schema() -> None:
    """Print the problem format as JSON Schema."""
    from .io.schema import json_schema
    print(json.dumps(json_schema(), indent=2))


@app.command()
def version() -> None:
    """Print the version."""
    print(f"allocator {__version__}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting.

    Usage errors are typer's (exit 2, naming the option); bad input raised by the library is
    one line on stderr and exit 2; an interrupt is 130; anything else is a bug: one line, exit 3
    (``ALLOCATOR_DEBUG=1`` shows the traceback).
    """
    try:
        app(args=argv, prog_name="allocator", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if code == 130:                     # typer turns Ctrl-C into exit 130
            err.print("interrupted", markup=False, highlight=False)
        if isinstance(code, int):
            return code
        err.print(str(code), markup=False, highlight=False)
        return 1
    except (ProblemError, AllocatorError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted", markup=False, highlight=False)
        return 130
    except Exception as exc:
        if os.environ.get("ALLOCATOR_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} (run with ALLOCATOR_DEBUG=1 "
                  "for the traceback, and please report it)", markup=False, highlight=False)
        return 3
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
