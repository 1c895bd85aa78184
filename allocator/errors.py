"""Exceptions. Input problems raise :class:`ProblemError`; misuse raises :class:`AllocatorError`."""

from __future__ import annotations


class AllocatorError(Exception):
    """Misuse of the library (unknown backend, solver not installed, ...)."""


class ProblemError(AllocatorError, ValueError):
    """A problem description is invalid.

    ``path`` is the location of the culprit inside the document (``tasks[3].memory``) and
    ``line`` its 1-based line in the YAML file when known. ``str(err)`` is one readable line.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None,
                 source: str | None = None):
        self.message = message
        self.path = path
        self.line = line
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source) + (f":{self.line}" if self.line else ""))
        elif self.line:
            where.append(f"line {self.line}")
        if self.path:
            where.append(self.path)
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def located(self, line: int | None, source: str | None) -> "ProblemError":
        """Return a copy with the line and the file name filled in."""
        return ProblemError(self.message, self.path, self.line or line, self.source or source)


class RunStopped(Exception):
    """A run stopped by SIGINT or SIGTERM; ``report`` says what it did, and the journal lets
    ``resume`` finish the rest. ``exit_code`` is the shell's: 130 for SIGINT, 143 for
    SIGTERM."""

    def __init__(self, signal_name: str, report):
        self.signal = signal_name
        self.report = report
        self.exit_code = {"SIGINT": 130, "SIGTERM": 143}.get(signal_name, 1)
        super().__init__(f"the run was stopped by {signal_name}; resume it from its journal "
                         "to finish the rest")
