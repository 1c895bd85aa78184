"""Solver backends, one module per family, behind a registry.

>>> sorted(BACKENDS)
['highs', 'pulp', 'scipy']
"""

from __future__ import annotations

from types import ModuleType

from ..errors import AllocatorError
from . import highs, pulp_backend, scipy_highs
from .base import Backend, Capabilities, RawResult, SolveOptions, Termination

# Each module follows the Backend protocol (backends/base.py).
BACKENDS: dict[str, ModuleType] = {"highs": highs, "scipy": scipy_highs, "pulp": pulp_backend}


def get_backend(name: str) -> ModuleType:
    """The backend module called ``name``; a clear error lists the installed ones."""
    if name not in BACKENDS:
        raise AllocatorError(f"unknown backend {name!r}; installed: {', '.join(installed())}")
    backend = BACKENDS[name]
    if not backend.available():
        raise AllocatorError(f"backend {name!r} is not available; installed: "
                             f"{', '.join(installed())}")
    return backend


def installed() -> list[str]:
    return [n for n, b in BACKENDS.items() if b.available()]


def default_backend() -> str:
    """``highs`` (warm starts, threads, progress) where highspy is installed, else ``scipy``."""
    return "highs" if highs.available() else "scipy"


__all__ = ["BACKENDS", "Backend", "Capabilities", "default_backend", "get_backend", "installed",
           "RawResult", "SolveOptions", "Termination"]
