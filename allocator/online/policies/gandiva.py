"""Gandiva (OSDI '18) as Gavel implements it (``policies/gandiva.py``): heterogeneity-agnostic
time-slicing, with packing when the cluster is over-subscribed.

Every unit gets an equal share of every pool (``count[t] / m`` per device of its gang, capped
at all of its time), and the rounds rotate the units through the devices. While the jobs ask
for no more devices than the cluster has, a unit is a job. Beyond that, and where the jobs'
pair rates are known (space sharing), jobs are paired at random, two of the same gang size
each, to share their devices; a pair is kept until one of its jobs leaves or it is found to
do less together than apart (``sum over pools of rate in pair / rate alone < 1``, Gandiva's
introspection as Gavel computes it), and the jobs left over run alone.
"""

from __future__ import annotations

import random

import numpy as np

from .base import Packed, View, equal_share

name = "gandiva"


class Gandiva:
    name = name
    shuffle = False
    exclusive = False

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.partner: dict[int, int] = {}          # job -> the job it shares devices with

    def allocate(self, view: View) -> np.ndarray | Packed:
        can = view.rate > 0
        if view.pair_rate is None or view.gang.sum() <= view.counts.sum():
            return equal_share(view.counts, view.gang) * can
        row = {int(j): k for k, j in enumerate(view.jobs)}
        self._keep_good_pairs(view, row)
        waiting = [j for j in row if j not in self.partner]
        for _ in range(len(waiting)):
            if len(waiting) < 2:
                break
            a, b = self.rng.sample(waiting, 2)
            if view.gang[row[a]] != view.gang[row[b]]:
                continue
            waiting.remove(a)
            waiting.remove(b)
            self.partner[a], self.partner[b] = b, a
        pairs = np.array(sorted({(min(a, b), max(a, b)) for a, b in self.partner.items()}),
                         dtype=np.int64).reshape(-1, 2)
        alone = np.array([row[j] for j in waiting], dtype=np.int64)
        first = np.array([row[a] for a in pairs[:, 0]], dtype=np.int64)
        second = np.array([row[b] for b in pairs[:, 1]], dtype=np.int64)
        x = equal_share(view.counts, np.r_[view.gang[alone], view.gang[first]])
        singles = np.zeros(view.rate.shape)
        singles[alone] = x[:len(alone)] * can[alone]
        return Packed(singles=singles, pairs=np.c_[first, second], shared=x[len(alone):])

    def _keep_good_pairs(self, view: View, row: dict[int, int]) -> None:
        """Drop the pairs with a job gone, or that do less together than apart."""
        keep = {}
        for a, b in self.partner.items():
            if a not in row or b not in row:
                continue
            ka, kb = row[a], row[b]
            both = view.pair_rate[:, view.kind[ka], view.kind[kb]]        # [pool, 2]
            alone = view.rate[[ka, kb]].T                                  # [pool, 2]
            if (both > 0).all() and (alone > 0).all() and (both / alone).sum() >= 1.0:
                keep[a] = b
        self.partner = keep


def make(seed: int = 0) -> Gandiva:
    return Gandiva(seed)
