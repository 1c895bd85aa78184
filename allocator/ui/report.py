"""Rich renderings of plans for the terminal. The library never prints; the CLI does."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..objectives import OBJECTIVES
from ..objectives.evaluation import evaluate
from ..domain.plan import Plan
from ..domain.problem import Problem
from ..domain.units import format_quantity as fq
from .placement import placed_line, placement_comparison, placement_tables


def format_objective(plan: Plan, value: float | None) -> str:
    if value is None:
        return "-"
    if plan.objective_name not in OBJECTIVES:
        return f"{value:.6g}"
    return OBJECTIVES[plan.objective_name].describe(value, plan.measure)


def summary(problem: Problem, plan: Plan) -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    what = ("nodes", "groups") if problem.on_nodes else ("devices", "pools")
    t.add_row("problem", f"{problem.name}: {len(problem.tasks)} tasks, "
                         f"{len(problem.devices)} {what[0]} in {len(problem.pools)} {what[1]}")
    label = plan.objective_name + (f" ({plan.measure})" if plan.measure else "")
    t.add_row("objective", label)
    style = {"optimal": "green", "feasible": "yellow"}.get(plan.status.value, "red")
    t.add_row("status", Text(plan.status.value, style=style))
    if plan.reason:
        t.add_row("reason", plan.reason)
    if plan.status.has_plan:
        t.add_row("value", format_objective(plan, plan.objective))
        if plan.bound is not None:
            side = "lower" if plan.sense == "min" else "upper"
            t.add_row(f"{side} bound", format_objective(plan, plan.bound))
        if plan.lp_bound is not None:
            t.add_row("LP relaxation", format_objective(plan, plan.lp_bound))
        if plan.gap is not None:
            t.add_row("gap", f"{plan.gap:.4%}")
        if plan.placements or plan.unplaced:
            t.add_row("placed", placed_line(problem, plan))
        m = evaluate(problem, plan)
        shown = _metric_of(plan)                  # the metric already shown as the value
        if m.makespan is not None and shown != "makespan":
            t.add_row("makespan", fq(m.makespan, "time"))
        if m.cost is not None and shown != "cost" and any(
                p.cost_per_hour is not None for p in problem.pools):
            t.add_row("cost", f"{m.cost:,.4f}")
        if m.fragmentation is not None:
            t.add_row("fragmented", f"{m.fragmentation:,.4g} GPUs (FGD's measure: free GPU "
                                     "capacity the tasks could not use)")
        if m.mean_utilization is not None:
            t.add_row("utilization", f"mean {m.mean_utilization:.1%}, min {m.min_utilization:.1%}, "
                                     f"imbalance {m.load_imbalance:.1%}")
    if plan.method != "optimal":
        t.add_row("method", f"heuristic {plan.method}: {plan.solve_seconds:.3f}s")
    else:
        solver = f"{plan.backend}/{plan.solver}" if plan.solver else plan.backend
        t.add_row("solver", f"{solver}: built in {plan.build_seconds:.3f}s, "
                            f"solved in {plan.solve_seconds:.3f}s")
        if plan.strategy is not None:
            t.add_row("strategy", plan.strategy + (f", warm start from {plan.warm_start}"
                                                   if plan.warm_start else ""))
    return t


def _metric_of(plan: Plan) -> str | None:
    """The Metrics field that holds the plan's own objective."""
    objective = OBJECTIVES.get(plan.objective_name)
    return None if objective is None else objective.metric(plan.measure)


def plan_table(problem: Problem, plan: Plan) -> Table | None:
    if not plan.status.has_plan:
        return None
    if plan.amounts and _metric_of(plan) == "utilization_ratio":      # shares of the fleet
        t = Table(title="allocated shares")
        for col in ("task", "compute need", "memory need", "share", "compute given",
                    "memory given"):
            t.add_column(col, justify="left" if col == "task" else "right")
        for task in problem.tasks:
            a = plan.amounts[task.name]
            t.add_row(task.name, f"{task.compute:.6g}", f"{task.memory:.6g}", f"{a['share']:.4%}",
                      f"{a['compute']:.6g}", f"{a['memory']:.6g}")
        return t
    if plan.amounts:
        t = Table(title="allocated device-hours")
        for col in ("task", "weight", "kind", "demand", "allocated", "short"):
            t.add_column(col, justify="left" if col in ("task", "kind") else "right")
        for task in problem.tasks:
            for kind, want in task.demand.items():
                got = plan.amounts.get(task.name, {}).get(kind, 0.0)
                t.add_row(task.name, f"{task.weight:g}", kind, f"{want / 3600:.6g}",
                          f"{got / 3600:.6g}", f"{(want - got) / 3600:.6g}")
        return t
    split = bool(plan.fractions)
    t = Table(title="plan")
    for col in ("device", "task", "start", "end") + (("share",) if split else ()) + \
            ("memory headroom",):
        t.add_column(col, justify="left" if col in ("device", "task") else "right")
    for device, slots in plan.device_schedule().items():
        pool = problem.pool_of(device)
        for k, s in enumerate(slots):
            task = problem.tasks[problem.task_index[s.task]]
            cells = [device if k == 0 else "", s.task,
                     fq(s.start, "time") if s.start else "0", fq(s.end, "time")]
            if split:
                cells.append(f"{s.fraction:.1%}")
            cells.append(fq(pool.memory - (task.memory or 0.0), "bytes"))
            t.add_row(*cells)
    return t


def render(problem: Problem, plan: Plan) -> Group:
    if problem.on_nodes:
        tables = placement_tables(problem, plan) if plan.status.has_plan else []
        return Group(*tables, summary(problem, plan))
    parts = [summary(problem, plan)]
    table = plan_table(problem, plan)
    if table is not None:
        parts.insert(0, table)
    return Group(*parts)


def comparison_table(problem: Problem, comparison) -> Table:
    """Rows: methods; columns: status, objective, ratios, the other metric, utilization, time."""
    if problem.on_nodes and not OBJECTIVES[comparison.objective_name].timed:
        return placement_comparison(problem, comparison)
    is_makespan = OBJECTIVES[comparison.objective_name].metric(None) == "makespan"
    t = Table(title=f"{problem.name}: {comparison.objective_name}, optimal vs heuristics")
    other = "cost" if is_makespan else "makespan"
    for col in ("method", "status", comparison.objective_name, "× optimum", "× bound", other,
                "mean util", "min util", "imbalance", "seconds"):
        t.add_column(col, justify="left" if col in ("method", "status") else "right",
                     no_wrap=col == "method")

    def pct(v):
        return "-" if v is None else f"{v:.1%}"

    def x(v):
        return "-" if v is None else f"{v:.3f}"

    def time_(v):
        return "-" if v is None else fq(v, "time")

    def money(v):
        return "-" if v is None else (f"{v:,.2f}" if abs(v) >= 100 else f"{v:.4g}")

    for r in comparison.rows:
        value, second = (time_(r.objective), money(r.cost)) if is_makespan else \
            (money(r.objective), time_(r.makespan))
        t.add_row(r.method, r.status, value, x(r.ratio_to_optimum), x(r.ratio_to_bound), second,
                  pct(r.mean_utilization), pct(r.min_utilization), pct(r.load_imbalance),
                  f"{r.seconds:.3f}")
    return t


def _q(value, dimension: str) -> str:
    return "-" if value is None else fq(value, dimension)


def execution_table(report) -> Group:
    """Per task: device, measured vs predicted time and memory, status; then the makespans."""
    t = Table(title=f"{report.problem}: run" + (" (resumed)" if report.resumed else ""))
    errors = any(o.error for o in report.tasks)
    for col in ("task", "device", "status", "tries", "start", "seconds", "predicted",
                "peak memory", "predicted memory") + (("error",) if errors else ()):
        t.add_column(col, justify="left" if col in ("task", "device", "status", "error")
                     else "right", no_wrap=col != "error",
                     min_width=30 if col == "error" else None)
    for o in report.tasks:
        style = {"completed": "green", "failed": "red"}.get(o.status, "yellow")
        t.add_row(o.task, o.device or "-", Text(o.status, style=style), str(o.attempts),
                  "-" if o.start is None else f"{o.start:.2f}",
                  "-" if o.seconds is None else f"{o.seconds:.3f}",
                  "-" if o.predicted_seconds is None else f"{o.predicted_seconds:.3f}",
                  _q(o.peak_memory, "bytes"), _q(o.predicted_memory, "bytes"),
                  *((_why(o),) if errors else ()))
    s = Table.grid(padding=(0, 2))
    s.add_column(style="bold")
    s.add_column()
    s.add_row("tasks", f"{len(report.completed)} completed, {len(report.failed)} failed, "
                       f"{len(report.attempts)} attempts, {len(report.replans)} re-plans")
    s.add_row("makespan", f"measured {_q(report.measured_makespan, 'time')}, "
                          f"predicted {_q(report.predicted_makespan, 'time')}")
    if report.drained:
        s.add_row("drained", ", ".join(report.drained))
    if report.node is not None:
        s.add_row("node", f"{report.node}: its share of the cluster plan, a lane per task")
    s.add_row("devices", ", ".join(f"{d} → {v}" for d, v in report.devices.items()))
    if report.stopped:
        s.add_row("stopped", f"by {report.stopped}; the rest can be resumed")
    if report.logs:
        s.add_row("task output", report.logs)
    return Group(t, s)


def online_table(summary) -> Group:
    """An online run's journal: per job, where it stands, its starts and stops, its end."""
    t = Table(title=f"online run: {summary.policy}, rounds of {summary.round_s:g} s"
              + (", space sharing" if summary.space_sharing else ""))
    errors = any(j.error for j in summary.jobs)
    for col in ("job", "status", "starts", "stopped", "finish s") + (("error",) if errors
                                                                     else ()):
        t.add_column(col, justify="left" if col in ("job", "status", "error") else "right",
                     no_wrap=col != "error", min_width=30 if col == "error" else None)
    for j in summary.jobs:
        style = {"done": "green", "failed": "red"}.get(j.status, "yellow")
        t.add_row(j.name, Text(j.status, style=style), str(j.attempts), str(j.stopped),
                  "-" if j.finish is None else f"{j.finish:.2f}",
                  *((Text(j.error or ""),) if errors else ()))
    counts = {s: sum(j.status == s for j in summary.jobs)
              for s in ("done", "failed", "started", "waiting")}
    s = Table.grid(padding=(0, 2))
    s.add_column(style="bold")
    s.add_column()
    s.add_row("jobs", ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    resumed = {0: "", 1: ", resumed once"}.get(summary.resumes,
                                                 f", resumed {summary.resumes} times")
    s.add_row("rounds", f"{summary.rounds}{resumed}")
    if not summary.ended:
        s.add_row("ended", "no: the run is running, or was stopped (--resume goes on)")
    return Group(t, s)


def _why(outcome) -> Text:
    """A failed task's reason, with the last line its stderr wrote (as plain text: never
    read as markup)."""
    text = outcome.error or ""
    last = (outcome.stderr_tail or "").strip().splitlines()[-1:]
    if last and last[0] not in text:
        text += f" — stderr: {last[0][:200]}"
    return Text(text)


def profile_table(profile) -> Table:
    """Per workload or job and torch device: time, FLOP/s, measured and estimated peak
    memory."""
    t = Table(title=f"{profile.problem.name}: profile")
    for col in ("workload or job", "device", "seconds", "throughput", "peak memory", "estimate",
                "estimate error"):
        t.add_column(col, justify="left" if col in ("workload or job", "device") else "right")
    for m in profile.measurements:
        err = m.memory_error
        t.add_row(m.workload, m.torch_device, f"{m.seconds:.3f}", _q(m.throughput, "flop_rate"),
                  _q(m.peak_memory, "bytes"), _q(m.estimated_memory, "bytes"),
                  "-" if err is None else f"{err:+.1%}")
    return t
