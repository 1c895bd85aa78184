"""``allocator simulate``: jobs arriving over time on a cluster, round by round, under a
policy, in simulated time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .common import (INPUT_FILE, _duration, _fail, _located_in, _one_of, _policies, _writable,
                     _write, app, err, out)


def _window(text: Optional[str]) -> Optional[range]:
    if text is None:
        return None
    first, sep, last = text.partition(":")
    try:
        window = range(int(first), int(last))
    except ValueError:
        window = None
    if not sep or window is None or len(window) == 0:
        raise typer.BadParameter(f"expected FIRST:END, whole numbers with FIRST < END "
                                 f"(4000:5000), got {text!r}")
    return window


@app.command()
def simulate(
    file: Path = typer.Argument(..., metavar="JOBS", help="A Gavel job list (.csv) or a problem "
                                "file (.yaml) whose tasks have release times.", **INPUT_FILE),
    cluster: Optional[str] = typer.Option(None, metavar="TYPE=COUNT,...",
                                          help="GPUs per type, e.g. v100=36,p100=36,k80=36; "
                                          "needed for a job list, and for a problem file "
                                          "replaces the counts of the pools it names."),
    policy: str = typer.Option("max_min_fairness",
                               callback=_one_of(_policies, "max_min_fairness"),
                               help="fifo, las, gandiva, max_min_fairness, min_makespan, "
                               "finish_time_fairness, min_jct or optimal (see "
                               "docs/online.md)."),
    round_: str = typer.Option("360s", "--round", help="Round length (e.g. 360s, 6m)."),
    measure: Optional[str] = typer.Option(None, metavar="FIRST:END",
                                          help="Measure the mean JCT over the jobs at these "
                                          "positions (Gavel's job ids FIRST to END-1), and "
                                          "stop once they have finished; default: all jobs."),
    restart_cost: float = typer.Option(0.0, "--restart-cost", metavar="SECONDS",
                                       help="Seconds a job loses each time it is started or "
                                       "moved (default 0, as Gavel)."),
    space_sharing: bool = typer.Option(False, "--space-sharing", help="Let two jobs share "
                                       "the same devices at their pair rates (a job list's "
                                       "from --pairs, a problem file's from its 'sharing' "
                                       "list): gandiva pairs jobs when over-subscribed, "
                                       "max_min_fairness becomes Gavel's "
                                       "max_min_fairness_packed."),
    pairs: Optional[Path] = typer.Option(None, metavar="JSON", help="Gavel's "
                                         "simulation_throughputs.json, for --space-sharing "
                                         "(default: that file in the job list's folder or the "
                                         "one above it).", **INPUT_FILE),
    seed: int = typer.Option(0, help="Seed of the policies that draw at random."),
    out_file: Optional[Path] = typer.Option(None, "--out", callback=_writable,
                                            help="Write every job's arrival and finish and "
                                            "the summary (.json)."),
    plot: bool = typer.Option(False, "--plot", help="With --out, also draw the JCT "
                              "distribution (NAME-jct.png) and each pool's use over time "
                              "(NAME-utilization.png) beside it."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Simulate jobs arriving over time on a cluster under a policy: when each finishes,
    the mean completion time, the makespan and the use of each GPU type."""
    from ..online import simulate as run_simulation
    if plot and out_file is None:
        _fail("--plot needs --out (the plots are written beside the result file)")
    round_s, window = _duration(round_), _window(measure)
    if not 0 <= restart_cost < round_s:
        _fail(f"--restart-cost must be ≥ 0 s and shorter than a round ({round_s:g} s), "
              f"got {restart_cost:g}")
    jobs = _jobs(_problem(file, cluster), file, policy, space_sharing, pairs)
    with _Progress() as progress:
        result = run_simulation(jobs, policy, round_s=round_s, restart_s=restart_cost,
                                measure=window, seed=seed, progress=progress)
    summary = result.summary()
    if as_json:
        out.print_json(json.dumps(summary))
    else:
        _print_summary(summary)
    if out_file is not None:
        _save(result, out_file, plot)


def _save(result, out_file: Path, plot: bool) -> None:
    """The result file, and with ``plot`` its two plots beside it."""
    text = json.dumps(result.to_dict(), indent=1)
    _write(out_file, lambda path: path.write_text(text, encoding="utf-8"), "result")
    if plot:
        from ..ui.online_plots import jct_figure, utilization_figure
        stem = out_file.with_suffix("")
        jct_path, use_path = Path(f"{stem}-jct.png"), Path(f"{stem}-utilization.png")
        _write(jct_path, lambda path: jct_figure([result], path), "JCT plot")
        _write(use_path, lambda path: utilization_figure(result, path), "utilization plot")


PAIRS_FILE = "simulation_throughputs.json"


def _jobs(problem, file: Path, policy: str, space_sharing: bool, pairs: Optional[Path]):
    """The problem's jobs, with the pair rates of space sharing when asked for."""
    from dataclasses import replace

    from ..io.gavel import pair_rates
    from ..online import JobSet
    from ..online.policies import require_sharing
    if not space_sharing:
        if pairs is not None:
            _fail("--pairs is for --space-sharing")
        return JobSet.from_problem(problem)
    require_sharing(policy)
    if file.suffix.lower() != ".csv":
        if pairs is not None:
            _fail("--pairs is for a Gavel job list (.csv); a problem file gives its pairs in "
                  "its 'sharing' list")
        with _located_in(file):
            return JobSet.from_problem(problem, sharing=True)
    jobs = JobSet.from_problem(problem)
    if pairs is None:
        found = [d / PAIRS_FILE for d in (file.parent, file.parent.parent)
                 if (d / PAIRS_FILE).is_file()]
        if not found:
            _fail(f"--space-sharing needs the pair rates: give --pairs {PAIRS_FILE} (none "
                  f"beside {file} or in the folder above)")
        pairs = found[0]
    kind, rates = pair_rates(pairs, file, jobs.names, jobs.gang, jobs.pools)
    return replace(jobs, kind=kind, pair_rate=rates)


def _problem(file: Path, cluster: Optional[str]):
    from dataclasses import replace

    from ..io.gavel import import_gavel, parse_cluster
    from ..io.problem_files import from_dict, load
    counts = parse_cluster(cluster) if cluster is not None else None
    if file.suffix.lower() == ".csv":
        if counts is None:
            _fail("a job list needs --cluster (e.g. --cluster v100=36,p100=36,k80=36)")
        return from_dict(import_gavel(file, counts), check=False)
    problem = load(file, check=False)
    if counts:
        names = [p.name for p in problem.pools]
        unknown = [n for n in counts if n not in names]
        if unknown:
            _fail(f"--cluster names {', '.join(map(repr, unknown))}, not a pool of {file} "
                  f"(pools: {', '.join(names)})")
        problem = replace(problem, pools=tuple(replace(p, count=counts.get(p.name, p.count))
                                               for p in problem.pools))
    return problem


def _print_summary(s: dict) -> None:
    from rich.table import Table
    hours = _duration_text
    table = Table(title=f"simulation: {s['policy']}", show_header=False)
    table.add_row("jobs", f"{s['jobs']:,} ({s['finished']:,} finished)")
    table.add_row("makespan", hours(s["makespan_s"]))
    table.add_row(f"mean JCT ({s['measured_jobs']:,} jobs)", hours(s["mean_jct_s"]))
    table.add_row("median / p99 JCT", f"{hours(s['median_jct_s'])} / {hours(s['p99_jct_s'])}")
    use = ", ".join(f"{p} {u:.1%}" for p, u in s["utilization_by_pool"].items())
    table.add_row("utilization", f"{s['utilization']:.1%} ({use})")
    table.add_row("rounds / allocations", f"{s['rounds']:,} / {s['allocations']:,}")
    table.add_row("preemptions", f"{s['preemptions']:,}")
    table.add_row("wall time", f"{s['wall_s']:.1f} s")
    out.print(table)


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:,.2f} h"


class _Progress:
    """A progress bar on stderr (jobs finished, simulated time) while the simulation runs, on a
    terminal only."""

    def __enter__(self):
        self.bar = None
        if err.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
            self.bar = Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[clock]}"), console=err,
                                transient=True)
            self.task = self.bar.add_task("jobs", total=None, clock="")
            self.bar.start()
        return self

    def __call__(self, done: int, total: int, now: float) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total,
                            clock=f"t = {now / 3600:,.1f} h")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
