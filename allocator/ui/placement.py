"""Rich tables of a plan on cluster nodes: each node group's use, and (for small plans) each
task's node, GPUs and share (and, for a plan over time, its start and end)."""

from __future__ import annotations

from collections import defaultdict

from rich.table import Table

from ..domain.plan import Plan
from ..domain.problem import Problem
from ..domain.units import format_quantity as fq

TASK_ROWS = 60          # per-task rows shown at most; larger plans get the group table only


def placement_tables(problem: Problem, plan: Plan) -> list[Table]:
    tables = [_busy(problem, plan) if plan.schedule else _groups(problem, plan)]
    if len(plan.placements) <= TASK_ROWS:
        tables.insert(0, _tasks(problem, plan))
    return tables


def _tasks(problem: Problem, plan: Plan) -> Table:
    """A row per task, by node; with a schedule (a plan over time), its start and end."""
    timed = {s.task: s for s in plan.schedule}
    t = Table(title="schedule" if timed else "placement")
    columns = ("node", "task") + (("start", "end") if timed else ()) + (
        "GPUs", "share", "cores", "memory", "qos")
    for col in columns:
        t.add_column(col, justify="left" if col in ("node", "task", "GPUs", "qos") else "right")
    by_node = defaultdict(list)
    for name, p in plan.placements.items():
        by_node[p.node].append((timed[name].start if timed else 0.0, name, p))
    for node in problem.devices:
        for k, (_, name, p) in enumerate(sorted(by_node.get(node, []))):
            task = problem.tasks[problem.task_index[name]]
            when = (fq(timed[name].start, "time"), fq(timed[name].end, "time")) if timed else ()
            t.add_row(node if k == 0 else "", name, *when, ",".join(map(str, p.gpus)) or "-",
                      f"{p.gpu_share:g}" if p.gpus else "-", f"{task.cpu or 0:g}",
                      fq(task.memory or 0.0, "bytes"), task.qos or "")
    return t


def _busy(problem: Problem, plan: Plan) -> Table:
    """A plan over time, per node group: its tasks, its last end, and the share of its GPUs'
    and cores' time up to the makespan that the tasks use."""
    t = Table(title="node groups over the schedule")
    for col in ("group", "nodes used", "tasks", "last end", "GPU time used", "core time used"):
        t.add_column(col, justify="left" if col == "group" else "right")
    group_of = {d: problem.pools[p].name for d, p in zip(problem.devices, problem.device_pool)}
    makespan = max((s.end for s in plan.schedule), default=0.0)
    used: dict[str, dict] = defaultdict(lambda: {"nodes": set(), "tasks": 0, "end": 0.0,
                                                 "gpu": 0.0, "cpu": 0.0})
    for s in plan.schedule:
        task = problem.tasks[problem.task_index[s.task]]
        u = used[group_of[s.device]]
        u["nodes"].add(s.device)
        u["tasks"] += 1
        u["end"] = max(u["end"], s.end)
        u["gpu"] += task.gpu_demand * (s.end - s.start)
        u["cpu"] += (task.cpu or 0.0) * (s.end - s.start)

    def share(amount: float, per_node: float, count: int) -> str:
        room = per_node * count * makespan
        return f"{amount / room:.1%}" if room > 0 else "-"
    for pool in problem.pools:
        u = used[pool.name]
        t.add_row(pool.name, f"{len(u['nodes'])} of {pool.count}", str(u["tasks"]),
                  fq(u["end"], "time") if u["tasks"] else "-",
                  share(u["gpu"], pool.gpus, pool.count), share(u["cpu"], pool.cpu or 0.0,
                                                                 pool.count))
    return t


def _groups(problem: Problem, plan: Plan) -> Table:
    t = Table(title="node groups")
    for col in ("group", "nodes used", "tasks", "cores", "memory", "GPUs"):
        t.add_column(col, justify="left" if col == "group" else "right")
    group_of = {d: problem.pools[p].name for d, p in zip(problem.devices, problem.device_pool)}
    used: dict[str, dict] = defaultdict(lambda: {"nodes": set(), "tasks": 0, "cpu": 0.0,
                                                 "memory": 0.0, "gpus": 0.0})
    for name, p in plan.placements.items():
        task = problem.tasks[problem.task_index[name]]
        u = used[group_of[p.node]]
        u["nodes"].add(p.node)
        u["tasks"] += 1
        u["cpu"] += task.cpu or 0.0
        u["memory"] += task.memory or 0.0
        u["gpus"] += task.gpu_demand
    for pool in problem.pools:
        u = used[pool.name]
        gpus = f"{u['gpus']:.4g} of {pool.count * pool.gpus}" if pool.gpus else "-"
        t.add_row(pool.name, f"{len(u['nodes'])} of {pool.count}", str(u["tasks"]),
                  f"{u['cpu']:.6g} of {pool.count * (pool.cpu or 0):.6g}",
                  f"{fq(u['memory'], 'bytes')} of {fq(pool.count * pool.memory, 'bytes')}",
                  gpus)
    return t


def placed_line(problem: Problem, plan: Plan) -> str:
    """``5 of 7 tasks; 4 of 6 GPUs (66.7%)``, and the first tasks left out."""
    gpus = problem.gpu_count
    placed = sum(problem.tasks[problem.task_index[t]].gpu_demand for t in plan.placements)
    text = f"{len(plan.placements)} of {len(problem.tasks)} tasks"
    if gpus and not plan.schedule:                     # at once, not over time
        text += f"; {placed:.6g} of {gpus} GPUs ({placed / gpus:.1%})"
    if plan.unplaced:
        shown = ", ".join(plan.unplaced[:5]) + (", ..." if len(plan.unplaced) > 5 else "")
        text += f"; left out: {shown}"
    return text


def placement_comparison(problem: Problem, comparison) -> Table:
    """Rows: methods; columns: status, placed demand, its ratios to the optimum and the
    bound, tasks placed, share of the GPUs, GPUs fragmented (FGD's measure), seconds."""
    t = Table(title=f"{problem.name}: {comparison.objective_name}, optimal vs heuristics")
    for col in ("method", "status", "placed demand", "× optimum", "× bound", "tasks placed",
                "GPUs allocated", "fragmented GPUs", "seconds"):
        t.add_column(col, justify="left" if col in ("method", "status") else "right",
                     no_wrap=col == "method")

    def x(v):
        return "-" if v is None else f"{v:.4f}"
    for r in comparison.rows:
        t.add_row(r.method, r.status, "-" if r.objective is None else f"{r.objective:,.6g}",
                  x(r.ratio_to_optimum), x(r.ratio_to_bound),
                  "-" if r.placed_tasks is None else f"{r.placed_tasks:,} of "
                  f"{len(problem.tasks):,}",
                  "-" if r.gpu_allocation is None else f"{r.gpu_allocation:.2%}",
                  "-" if r.fragmentation is None else f"{r.fragmentation:,.4g}",
                  f"{r.seconds:.3f}")
    return t
