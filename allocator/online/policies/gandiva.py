"""Gandiva (OSDI '18) as Gavel implements it (``policies/gandiva.py``): heterogeneity-agnostic
time-slicing. Every job gets an equal share of every pool (``count[t] / m``, per device of its
gang, capped at all of its time); the rounds rotate jobs through the devices.
"""

from __future__ import annotations

import numpy as np

from .base import View, equal_share

name = "gandiva"


class Gandiva:
    name = name
    shuffle = False
    exclusive = False

    def allocate(self, view: View) -> np.ndarray:
        return equal_share(view.counts, view.gang) * (view.rate > 0)


def make(seed: int = 0) -> Gandiva:
    return Gandiva()
