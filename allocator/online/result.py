"""What a simulation gives: when every job arrived and finished, and the summary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .jobs import JobSet


@dataclass(frozen=True)
class Timeline:
    """Each round's start and the device-seconds each pool was held in it."""

    starts: np.ndarray          # s
    busy: np.ndarray            # [round, pool] device-seconds
    end: float

    def utilization(self, counts: np.ndarray, bins: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """(bin edges in s, [bin, pool] fraction of the pool's devices held), in equal time
        bins from the first round to the end; each round's use is counted in its start's
        bin."""
        start = float(self.starts[0]) if len(self.starts) else 0.0
        edges = np.linspace(start, max(self.end, start + 1e-9), bins + 1)
        where = np.clip(np.searchsorted(edges, self.starts, side="right") - 1, 0, bins - 1)
        held = np.zeros((bins, self.busy.shape[1]))
        np.add.at(held, where, self.busy)
        return edges, held / (np.diff(edges)[:, None] * counts[None, :])


@dataclass(frozen=True)
class SimulationResult:
    jobs: JobSet
    policy: str
    round_s: float
    finish: np.ndarray          # s; nan for jobs not finished when the simulation stopped
    end: float                  # s: when it stopped (the end of the last round)
    busy: np.ndarray            # device-seconds held, per pool
    preemptions: np.ndarray     # per job
    measured: np.ndarray        # the jobs the summary's JCT is over
    rounds: int
    allocations: int            # times the policy computed an allocation
    wall_s: float
    timeline: Timeline

    @property
    def jct(self) -> np.ndarray:
        return self.finish - self.jobs.arrival

    def utilization(self) -> dict[str, float]:
        """Per pool: the fraction of its device time that jobs held, from time 0 to the end."""
        span = self.end * self.jobs.counts
        return {p: float(b / s) if s > 0 else 0.0
                for p, b, s in zip(self.jobs.pools, self.busy, span)}

    def summary(self) -> dict:
        jct = self.jct[self.measured]
        done = np.isfinite(jct)
        devices = float(self.jobs.counts.sum())
        return {
            "policy": self.policy,
            "jobs": int(self.jobs.size),
            "finished": int(np.isfinite(self.finish).sum()),
            "measured_jobs": int(len(self.measured)),
            "makespan_s": float(np.nanmax(self.finish)) if np.isfinite(self.finish).any()
            else None,
            "end_s": self.end,
            "mean_jct_s": float(jct[done].mean()) if done.any() else None,
            "median_jct_s": float(np.median(jct[done])) if done.any() else None,
            "p99_jct_s": float(np.percentile(jct[done], 99)) if done.any() else None,
            "utilization": float(self.busy.sum() / (self.end * devices)) if self.end > 0
            else 0.0,
            "utilization_by_pool": self.utilization(),
            "preemptions": int(self.preemptions.sum()),
            "rounds": self.rounds,
            "allocations": self.allocations,
            "round_s": self.round_s,
            "wall_s": self.wall_s,
        }

    def job_ids(self) -> list:
        """Each job's id: its name as a whole number when every name is one (Gavel's job
        lists), else its position in the problem's task list."""
        if all(n.isdigit() for n in self.jobs.names):
            return [int(n) for n in self.jobs.names]
        return [int(i) for i in self.jobs.order]

    def to_dict(self) -> dict:
        ids = self.job_ids()
        jobs = [{"job_id": i, "name": n, "arrival_s": float(a),
                 "finish_s": float(f) if np.isfinite(f) else None}
                for i, n, a, f in zip(ids, self.jobs.names, self.jobs.arrival, self.finish)]
        jobs.sort(key=lambda j: j["job_id"])
        return {"summary": self.summary(), "jobs": jobs}
