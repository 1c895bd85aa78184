"""Running commands: run a plan on this machine's devices, report on a run, profile."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import (
    _at_least,
    _duration,
    _fail,
    _load_checked,
    _load_plan,
    _located_in,
    _need_torch,
    _note,
    _one_of,
    _policies,
    _seconds,
    _writable,
    _writable_folder,
    _write,
    app,
    INPUT_FILE,
    out,
    PROBLEM_FILE,
)


def _stopped(stopped, file: Path, journal: Optional[Path]) -> None:
    """A run stopped by a signal: what ran, how to finish it, and its exit status."""
    from ..ui.report import execution_table
    out.print(execution_table(stopped.report))
    _note(f"stopped by {stopped.signal}: the tasks it was running were stopped"
          + (f"; `allocator run {file} --journal {journal} --resume` finishes the rest"
             if journal is not None else " (without --journal it cannot be resumed)"))
    raise typer.Exit(stopped.exit_code) from None


def _checked_plan(plan_file: Path, problem, file: Path):
    """The plan in ``plan_file``, verified against the problem it is to run (exit 2 naming
    the first violation)."""
    from ..analysis.verify import verify as verify_plan
    plan = _load_plan(plan_file)
    wrong = verify_plan(problem, plan)                  # against the file it was made for
    if wrong:
        _fail(f"plan {plan_file} does not fit {file}: {wrong[0]}"
              + (f" (and {len(wrong) - 1} more; `allocator verify` lists them)"
                 if len(wrong) > 1 else ""))
    return plan


def _node_inputs(problem, plan_file) -> None:
    """A node's share: a cluster of nodes, and the plan for all of it."""
    from ..executor.node_share import require_cluster
    require_cluster(problem)
    if plan_file is None:
        _fail("--node runs one node's share of a plan for the whole cluster: solve it once "
              "(allocator solve P --out plan.json) and give every node that plan (--plan)")


def _node_notes(node: str, plan, report) -> None:
    """What a node's run did not do: its node had nothing, or the plan left tasks out."""
    if not report.tasks:
        _note(f"the plan places no task on {node}: nothing to run there")
    left = plan.unplaced
    if left:
        _note(f"the plan leaves out {', '.join(left[:3])}{', ...' if len(left) > 3 else ''}: "
              f"no node runs {'them' if len(left) > 1 else 'it'}")


def _run_chart(path: Path, problem, report, plan) -> None:
    """Planned and measured Gantt charts (a node's share: its lanes, measured only)."""
    from ..ui.plot import execution_gantt
    if report.node is not None:
        problem, plan = report.layout(), None
    _write(path, lambda p: execution_gantt(problem, report, p, plan), "Gantt chart")


def _device_plan(problem, plan, *, resume: bool, journal, time_limit):
    """A run on this machine's devices: its inputs checked, then the problem as this machine
    runs it and the plan (solved when none is given and the run is not resumed)."""
    from ..executor.devices import on_this_machine
    from ..executor.inputs import check_inputs
    from ..solver.pipeline import solve as solve_problem
    check_inputs(problem, resume=resume, journal=journal)      # before the solve
    problem, notes = on_this_machine(problem)
    for note in notes:
        _note(f"note: {note}")
    if plan is None and not resume:
        plan = solve_problem(problem, time_limit=time_limit)
    return problem, plan


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
    node: Optional[str] = typer.Option(None, "--node", help="On a cluster of nodes: run the "
                                       "tasks --plan places on this node, each seeing its "
                                       "GPUs (GPU j of the node is cuda:j here)."),
    policy: Optional[str] = typer.Option(None, callback=_one_of(_policies),
                                         help="Online: start each task at its release "
                                         "time and let this policy decide every round what "
                                         "runs where (as `allocator simulate`; see "
                                         "docs/online.md)."),
    round_: str = typer.Option("360s", "--round", help="Online: the round length."),
    space_sharing: bool = typer.Option(False, "--space-sharing", help="Online: let two jobs "
                                       "run together on the same devices, as the problem's "
                                       "'sharing' list allows (gandiva, max_min_fairness)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    """Run a plan on this machine's devices (cpu, cuda:N) and report what happened.

    A cluster of nodes (nodes: in its file) runs node by node: solve it once, then on each
    node `allocator run P --plan plan.json --node NAME` runs that node's share, all at once.

    Exit status: 0 when every task completed, 1 when one failed, 2 for bad input, 130 or
    143 when stopped by SIGINT or SIGTERM (then --resume finishes the rest).
    """
    if policy is not None:
        _run_online(file, policy, round_, journal=journal, resume=resume, logs=logs,
                    out_file=out_file, max_retries=max_retries, space_sharing=space_sharing,
                    others={"--plan": plan_file, "--node": node, "--gantt": gantt,
                            "--time-limit": time_limit})
        return
    if space_sharing:
        _fail("--space-sharing is for online runs (with --policy)")
    _run_plan(file, plan_file, journal=journal, resume=resume, max_retries=max_retries,
              task_timeout=task_timeout, logs=logs, time_limit=time_limit, out_file=out_file,
              gantt=gantt, node=node, quiet=quiet)


def _run_plan(file: Path, plan_file: Optional[Path], *, journal, resume, max_retries,
              task_timeout, logs, time_limit, out_file, gantt, node, quiet) -> None:
    """``run`` with a plan (solved first when none is given)."""
    # The inputs first, before torch is imported: bad input is refused at once.
    problem = _load_checked(file, None)
    if any(t.workload is not None for t in problem.tasks):
        _need_torch("run")
    if node is not None:
        _node_inputs(problem, plan_file)
    plan = None if plan_file is None else _checked_plan(plan_file, problem, file)
    from ..errors import RunStopped
    from ..executor.runner import execute
    from ..ui.report import execution_table
    if node is None:
        problem, plan = _device_plan(problem, plan, resume=resume, journal=journal,
                                     time_limit=time_limit)
    try:
        report = execute(problem, plan, journal=journal, resume=resume,
                         max_retries=max_retries, task_timeout=task_timeout, logs=logs,
                         progress=not quiet, node=node)
    except RunStopped as stopped:
        _stopped(stopped, file, journal)
    out.print(execution_table(report))
    if node is not None:
        _node_notes(node, plan, report)
    if out_file is not None:
        _write(out_file, report.save, "report")
    if gantt is not None:
        _run_chart(gantt, problem, report, plan)
    if not report.ok:
        raise typer.Exit(1)


def _run_online(file: Path, policy: str, round_: str, *, journal, resume, logs, out_file,
                max_retries, space_sharing: bool, others: dict) -> None:
    """``run --policy``: jobs arriving over time, the re-planner deciding each round."""
    import json

    from ..executor.online_run import execute_online
    from ..io.problem_files import load
    given = [name for name, value in others.items() if value]
    if given:
        _fail(f"{given[0]} does not go with --policy (an online run plans as it goes)")
    if resume and journal is None:
        _fail("--resume needs --journal (the journal of the run to continue)")
    problem = load(file, check=False)
    with _located_in(file):
        report = execute_online(problem, policy, round_s=_duration(round_), journal=journal,
                                resume=resume, logs=logs, space_sharing=space_sharing,
                                max_retries=2 if max_retries is None else max_retries)
    if resume:
        rounds = "round" if report.replayed == 1 else "rounds"
        out.print(f"resumed: {report.replayed} {rounds} of the journal replayed"
                  + (" (then one the policy now decides otherwise: the re-planner goes on from"
                     " the rounds before it)" if report.diverged else ""))
    done = [f for f in report.finish if f == f]
    out.print(f"{len(done)} of {len(report.names)} jobs finished in {len(report.rounds)} rounds"
              + (f"; the last at {max(done):.1f} s" if done else ""))
    for name, why in report.failed.items():
        out.print(f"failed: {name}: {why}")
    if out_file is not None:
        doc = {"policy": policy, "rounds": report.rounds,
               "jobs": [{"name": n, "arrival_s": float(a),
                         "finish_s": float(f) if f == f else None,
                         "attempts": report.attempts.get(n, 0)}
                        for n, a, f in zip(report.names, report.arrival, report.finish)]}
        text = json.dumps(doc, indent=1)
        _write(out_file, lambda path: path.write_text(text, encoding="utf-8"), "report")
    if report.failed:
        raise typer.Exit(1)


@app.command()
def report(
    file: Path = typer.Argument(..., help="A run's report (`run --out`) or journal "
                                "(`run --journal`), or an online run's journal "
                                "(`run --policy --journal`).", **INPUT_FILE),
    problem_file: Optional[Path] = typer.Option(None, "--problem", help="The problem the run "
                                                "ran: adds predictions and checks against "
                                                "it.", **INPUT_FILE),
    gantt: Optional[Path] = typer.Option(None, "--gantt", callback=_writable,
                                         help="Draw the measured Gantt chart."),
) -> None:
    """Show a saved run report or a journal: the table, checks and, with --gantt, the chart.

    Exit status 1 when the report fails its checks (negative durations, a makespan that
    disagrees with the attempts, unknown devices, a task completed twice). An online run's
    journal: each job's status, starts, stops and end; exit status 1 when a job was given up.
    """
    from ..executor.online_results import read_online
    from ..executor.results import check_report, load_report
    from ..ui.report import execution_table, online_table
    online = read_online(file)
    if online is not None:
        given = [name for name, value in (("--problem", problem_file), ("--gantt", gantt))
                 if value is not None]
        if given:
            _fail(f"{given[0]} is for planned runs; {file} is an online run's journal")
        out.print(online_table(online))
        if any(j.status == "failed" for j in online.jobs):
            raise typer.Exit(1)
        return
    problem = _load_checked(problem_file, None) if problem_file is not None else None
    loaded = load_report(file, problem)
    out.print(execution_table(loaded))
    issues = check_report(problem, loaded)
    if gantt is not None:
        from ..ui.plot import execution_gantt
        chart = problem if problem is not None and loaded.node is None else loaded.layout()
        _write(gantt, lambda path: execution_gantt(chart, loaded, path),
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
    from ..executor.profiler import profile as run_profile
    from ..executor.inputs import check_runnable
    from ..io.problem_files import dump, load
    from ..ui.report import profile_table
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
