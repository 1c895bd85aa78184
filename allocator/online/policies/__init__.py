"""The online policies, one module each, behind one registry: ``make(name, seed)``."""

from __future__ import annotations

from importlib import import_module

from ...errors import ProblemError
from .base import Policy, View

NAMES = ("fifo", "las", "gandiva", "max_min_fairness", "min_makespan", "finish_time_fairness",
         "min_jct", "optimal")
SHARING = ("gandiva", "max_min_fairness")    # the policies that pair jobs on shared devices


def make(name: str, seed: int = 0) -> Policy:
    if name not in NAMES:
        import difflib
        close = difflib.get_close_matches(name, NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ProblemError(f"unknown policy {name!r}{hint} (policies: {', '.join(NAMES)})")
    return import_module(f"{__name__}.{name}").make(seed)


def require_sharing(name: str) -> None:
    """Refuse space sharing for a policy that never pairs jobs."""
    if name not in SHARING:
        raise ProblemError(f"policy {name!r} does not share devices; space sharing works "
                           f"with {', '.join(SHARING)}")


__all__ = ["NAMES", "SHARING", "Policy", "View", "make", "require_sharing"]
