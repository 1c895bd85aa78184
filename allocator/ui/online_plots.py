"""Plots of simulations: the distribution of job completion times, and each pool's use over
time (matplotlib, imported lazily, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..online.result import SimulationResult
from .plot import _pyplot

HOUR = 3600.0


def jct_figure(results: Sequence[SimulationResult], path: str | Path,
               title: str | None = None) -> None:
    """The cumulative distribution of the measured jobs' completion times, one line per
    simulation (policy)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for r in results:
        jct = np.sort(r.jct[r.measured][np.isfinite(r.jct[r.measured])]) / HOUR
        if len(jct):
            ax.plot(jct, np.arange(1, len(jct) + 1) / len(jct),
                    label=f"{r.policy} (mean {jct.mean():.2f} h)")
    ax.set_xscale("log")
    ax.set_xlabel("job completion time (h)")
    ax.set_ylabel("fraction of jobs")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "Job completion times", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def utilization_figure(result: SimulationResult, path: str | Path,
                       title: str | None = None) -> None:
    """The fraction of each pool's devices held by jobs, over time."""
    plt = _pyplot()
    edges, use = result.timeline.utilization(result.jobs.counts)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    middle = (edges[:-1] + edges[1:]) / 2 / HOUR
    for t, pool in enumerate(result.jobs.pools):
        ax.plot(middle, use[:, t], label=f"{pool} ({result.jobs.counts[t]})")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("time (h)")
    ax.set_ylabel("devices held (fraction)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or f"{result.policy}: use of each pool", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
