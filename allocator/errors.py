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
