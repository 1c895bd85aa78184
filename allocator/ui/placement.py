"""Rich tables of a plan on cluster nodes: each node group's use, and (for small plans) each
task's node, GPUs and share."""

from __future__ import annotations

from collections import defaultdict

from rich.table import Table

from ..domain.plan import Plan
from ..domain.problem import Problem
from ..domain.units import format_quantity as fq

TASK_ROWS = 60          # per-task rows shown at most; larger plans get the group table only


def placement_tables(problem: Problem, plan: Plan) -> list[Table]:
    tables = [_groups(problem, plan)]
    if len(plan.placements) <= TASK_ROWS:
        tables.insert(0, _tasks(problem, plan))
    return tables


def _tasks(problem: Problem, plan: Plan) -> Table:
    t = Table(title="placement")
    for col in ("node", "task", "GPUs", "share", "cores", "memory", "qos"):
        t.add_column(col, justify="left" if col in ("node", "task", "GPUs", "qos") else "right")
    by_node = defaultdict(list)
    for name, p in plan.placements.items():
        by_node[p.node].append((name, p))
    for node in problem.devices:
        for k, (name, p) in enumerate(sorted(by_node.get(node, []))):
            task = problem.tasks[problem.task_index[name]]
            t.add_row(node if k == 0 else "", name, ",".join(map(str, p.gpus)) or "-",
                      f"{p.gpu_share:g}" if p.gpus else "-", f"{task.cpu or 0:g}",
                      fq(task.memory or 0.0, "bytes"), task.qos or "")
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
    if gpus:
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
