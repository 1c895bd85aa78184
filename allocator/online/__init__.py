"""Time: jobs that arrive, rounds, gangs and fairness.

``simulate(problem, policy)`` runs a problem's tasks as jobs arriving at their release times
on its pools, with the re-planner (``replanner.py``) deciding each round what runs where
through one of the policies (``policies/``)."""

from .jobs import JobSet
from .policies import NAMES as POLICIES
from .result import SimulationResult
from .simulator import simulate

__all__ = ["JobSet", "POLICIES", "SimulationResult", "simulate"]
