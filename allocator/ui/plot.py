"""Gantt charts and ratio bars with matplotlib (imported lazily; the Agg backend, no screen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..domain.plan import Plan
from ..domain.problem import Problem
from ..objectives import OBJECTIVES


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _colours(problem: Problem):
    """One colour per task, spread over a perceptually ordered colour map."""
    plt = _pyplot()
    cmap = plt.get_cmap("turbo")
    n = max(len(problem.tasks), 1)
    # Interleave so that neighbouring tasks in the file get distant colours.
    order = np.argsort(np.arange(n) * 0.618033988749895 % 1.0)
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    return {t.name: cmap(0.05 + 0.9 * rank[i] / max(n - 1, 1)) for i, t in enumerate(problem.tasks)}


def draw_gantt(ax, problem: Problem, plan: Plan, title: str, colours=None, label_min=0.04):
    """Draw one plan on ``ax``: a row per device, grouped by pool, bars labelled by task."""
    colours = colours or _colours(problem)
    devices = list(problem.devices)
    row = {d: k for k, d in enumerate(devices)}
    end = max((s.end for s in plan.schedule), default=1.0)
    scale, unit = (3600.0, "h") if end >= 2 * 3600 else ((60.0, "min") if end >= 120 else (1.0, "s"))
    for s in plan.schedule:
        y = row[s.device]
        ax.barh(y, (s.end - s.start) / scale, left=s.start / scale, height=0.8,
                color=colours[s.task], edgecolor="white", linewidth=0.5)
        if (s.end - s.start) / end >= label_min:
            r, g, b, _ = colours[s.task]
            ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"
            ax.text((s.start + s.end) / 2 / scale, y, s.task, ha="center", va="center",
                    fontsize=6, color=ink, clip_on=True)
    # Pools: a separator line and the pool's name between groups of rows.
    first = 0
    for pool in problem.pools:
        if first:
            ax.axhline(first - 0.5, color="0.3", linewidth=0.8)
        first += pool.count
    ax.set_yticks(range(len(devices)))
    ax.set_yticklabels(devices, fontsize=6 if len(devices) > 24 else 7)
    ax.set_ylim(len(devices) - 0.5, -0.5)
    ax.set_xlim(0, end / scale * 1.02)
    ax.set_xlabel(f"time ({unit})")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", color="0.85", linewidth=0.5)
    ax.set_axisbelow(True)


def gantt(problem: Problem, plan: Plan, path: str | Path) -> None:
    """Write a Gantt chart of one plan to ``path`` (PNG, SVG or PDF by extension)."""
    plt = _pyplot()
    height = 1.5 + 0.28 * len(problem.devices)
    fig, ax = plt.subplots(figsize=(12, height))
    title = f"{problem.name}: {plan.method} {plan.objective_name}"
    if plan.objective is not None and _in_seconds(plan):
        title += f" = {plan.objective / 3600:.4g} h"
    draw_gantt(ax, problem, plan, title)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def comparison_figure(problem: Problem, comparison, path: str | Path) -> None:
    """Gantt charts of the optimal plan, the best and the worst heuristic (plans with a
    schedule only: a placement on nodes has none), and a bar chart of every method's ratio to
    the optimum (or to the bound where the model hit its limit)."""
    plt = _pyplot()
    shown = [("optimal", comparison.plans["optimal"])]
    for row in (comparison.best_heuristic(), comparison.worst_heuristic()):
        if row is not None and row.method not in [m for m, _ in shown]:
            shown.append((row.method, comparison.plans[row.method]))
    shown = [(m, p) for m, p in shown if p.status.has_plan and p.schedule]
    n_dev = len(problem.devices)
    fig = plt.figure(figsize=(14, 2.0 + 0.28 * n_dev * len(shown) + 3.0))
    grid = fig.add_gridspec(len(shown) + 1, 1,
                            height_ratios=[0.28 * n_dev + 0.8] * len(shown) + [3.0])
    colours = _colours(problem)
    key = "ratio_to_optimum" if comparison.optimum is not None else "ratio_to_bound"
    for k, (method, plan) in enumerate(shown):
        ax = fig.add_subplot(grid[k])
        ratio = getattr(comparison.row(method), key)
        title = f"{method}: {plan.objective_name} {_fmt(plan)}"
        if ratio is not None:
            title += f" ({ratio:.3f} × {'optimum' if key == 'ratio_to_optimum' else 'bound'})"
        draw_gantt(ax, problem, plan, title, colours)
    ax = fig.add_subplot(grid[-1])
    rows = [r for r in comparison.rows if getattr(r, key) is not None and r.method != "lp_bound"]
    ratios = [getattr(r, key) for r in rows]
    bars = ax.bar(range(len(rows)), ratios,
                  color=["tab:green" if r.method == "optimal" else "tab:blue" for r in rows])
    ax.axhline(1.0, color="0.3", linewidth=0.8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r.method for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"{comparison.objective_name} / {'optimum' if key == 'ratio_to_optimum' else 'bound'}")
    ax.set_ylim(0, max(ratios + [1.0]) * 1.12)
    for b, v in zip(bars, ratios):
        ax.text(b.get_x() + b.get_width() / 2, v, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_title(f"{problem.name}: {comparison.objective_name}, each method against the "
                 f"{'optimum' if key == 'ratio_to_optimum' else 'best bound'}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _in_seconds(plan: Plan) -> bool:
    """The plan's objective is the makespan itself (a time, whatever the measure)."""
    objective = OBJECTIVES.get(plan.objective_name)
    return objective is not None and not objective.measures and \
        objective.metric(plan.measure) == "makespan"


def _fmt(plan: Plan) -> str:
    if plan.objective is None:
        return "-"
    if _in_seconds(plan):
        return f"{plan.objective / 3600:.4g} h" if plan.objective >= 7200 else f"{plan.objective:.4g} s"
    return f"{plan.objective:.4g}"


def execution_gantt(problem: Problem, report, path: str | Path, plan: Plan | None = None) -> None:
    """Planned (when ``plan`` is given) above measured: failed attempts are hatched red."""
    plt = _pyplot()
    colours = _colours(problem)
    panels = 2 if plan is not None and plan.schedule else 1
    height = 1.5 + 0.28 * len(problem.devices)
    fig, axes = plt.subplots(panels, 1, figsize=(12, height * panels), squeeze=False)
    if panels == 2:
        draw_gantt(axes[0, 0], problem, plan, f"{problem.name}: planned (predicted makespan "
                   f"{report.predicted_makespan:.3g} s)", colours)
    ax = axes[-1, 0]
    measured = report.measured_plan(problem)
    draw_gantt(ax, problem, measured, f"{problem.name}: measured (makespan "
               f"{(report.measured_makespan or 0):.3g} s)", colours)
    row = {d: k for k, d in enumerate(problem.devices)}
    for a in report.attempts:
        if a.status == "failed":
            ax.barh(row[a.device], max(a.end - a.start, 1e-3), left=a.start, height=0.8,
                    color="none", edgecolor="red", hatch="///")
    end = max([a.end for a in report.attempts] + [1e-3])
    ax.set_xlim(0, end * 1.02)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
