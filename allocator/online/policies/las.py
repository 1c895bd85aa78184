"""Least attained service (Gavel's ``max_min_fairness``, heterogeneity-agnostic).

Every job gets the same device time (weighted by its priority weight), whatever it does with
it: the max-min fair share of the cluster's devices, counted as devices, spread over the pools
in proportion to their sizes. The rounds then run first the jobs that have had the least of
their share. Reference: Gavel, ``policies/max_min_fairness.py`` (``MaxMinFairnessPolicy``:
the LP with every throughput set to 1, whose solution is this closed form).
"""

from __future__ import annotations

import numpy as np

from .base import View

name = "las"


def fair_levels(gang: np.ndarray, weight: np.ndarray, devices: float) -> np.ndarray:
    """Each job's devices held, ``min(gang, z * weight)``, for the largest ``z`` whose total
    fits ``devices`` (water-filling)."""
    if gang.sum() <= devices:
        return gang.astype(float)
    cap = gang / weight                             # the level at which a job is full
    order = np.argsort(cap, kind="stable")
    full = np.r_[0.0, np.cumsum(gang[order])]       # devices of the jobs full below level
    rest = np.r_[np.cumsum(weight[order][::-1])[::-1], 0.0]   # weight of the others
    for k in range(len(order)):
        z = (devices - full[k]) / rest[k]
        if z <= cap[order[k]]:
            return np.minimum(gang, z * weight)
    return gang.astype(float)


class Las:
    name = name
    shuffle = True
    exclusive = False

    def allocate(self, view: View) -> np.ndarray:
        held = fair_levels(view.gang, view.weight, float(view.counts.sum()))
        spread = view.counts[None, :] * (view.rate > 0)
        spread = spread / spread.sum(axis=1, keepdims=True)
        x = (held / view.gang)[:, None] * spread
        use = (view.gang[:, None] * x).sum(axis=0)
        over = np.maximum(use / view.counts, 1.0)
        return x / over[None, :]


def make(seed: int = 0) -> Las:
    return Las()
