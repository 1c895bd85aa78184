"""First in, first out (Gavel's ``fifo``, heterogeneity-agnostic).

Jobs start in order of arrival, each on a pool chosen at random among those with room for its
gang, and keep their devices until they finish; a job that does not fit waits, and so does
every job behind it (no job jumps the queue). Reference: Gavel, ``policies/fifo.py``
(``FIFOPolicy``, mode ``base``). Gavel's code draws the random pool but then uses the last pool
with room in name order; this module uses the drawn one (see docs/online.md).
"""

from __future__ import annotations

import random

import numpy as np

from .base import View

name = "fifo"


class Fifo:
    name = name
    shuffle = True
    exclusive = True

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.placed: dict[int, int] = {}         # job -> pool, until it finishes

    def allocate(self, view: View) -> np.ndarray:
        present = {int(j): k for k, j in enumerate(view.jobs)}
        self.placed = {j: t for j, t in self.placed.items() if j in present}
        free = view.counts.astype(np.int64).copy()
        for j, t in self.placed.items():
            free[t] -= view.gang[present[j]]
        for j, k in present.items():               # arrival order
            if j in self.placed:
                continue
            room = [t for t in range(len(free))
                    if free[t] >= view.gang[k] and view.rate[k, t] > 0]
            if not room:
                break
            t = room[self.rng.randrange(len(room))]
            self.placed[j] = t
            free[t] -= view.gang[k]
        x = np.zeros(view.rate.shape)
        for j, t in self.placed.items():
            x[present[j], t] = 1.0
        return x


def make(seed: int = 0) -> Fifo:
    return Fifo(seed)
