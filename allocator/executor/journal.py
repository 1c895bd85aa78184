"""The run's journal: JSON lines, one writer at a time.

Every state change of a run is appended as one JSON line and fsync'd before the call returns,
so a run killed at any moment can be resumed from it. One process writes a journal at a
time: :class:`JournalLock` holds an exclusive lock on ``<journal>.lock`` (``flock``, which the
kernel releases when the holder dies, however it dies) with the holder's process id in it, so
a second run on a live journal is refused at once, naming the process.

A run killed in the middle of a write leaves a *torn* last line, one without its newline: it
is dropped when the journal is read, and cut off before a resumed run appends to it (else the
next event would be glued to it). Any other line that is not JSON is damage, reported with its
line number.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path

from ..errors import AllocatorError


class JournalLock:
    """An exclusive lock on ``<journal>.lock`` for the ``with`` block; nothing without a
    journal."""

    def __init__(self, journal: str | Path | None):
        self.journal = None if journal is None else Path(journal)
        self._fh = None

    def __enter__(self) -> "JournalLock":
        if self.journal is None:
            return self
        path = self.journal.with_name(self.journal.name + ".lock")
        try:
            fh = open(path, "a+", encoding="utf-8")
        except OSError as exc:
            raise AllocatorError(f"cannot lock the journal {self.journal}: "
                                 f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise AllocatorError(f"the journal {self.journal} is in use by {holder}: one run "
                                 "writes a journal at a time; wait for that run to end (or "
                                 "stop it), then --resume") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"process {os.getpid()}")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            self._fh.seek(0)
            self._fh.truncate()
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Journal:
    """Append-only JSON lines; each event is flushed and fsync'd before the call returns."""

    def __init__(self, path: str | Path | None):
        self.path = None if path is None else Path(path)
        self._fh = None
        self._lock = threading.Lock()

    @staticmethod
    def read(path: str | Path, *, repair: bool = False) -> list[dict]:
        """The events of a journal, without a torn last line; with ``repair``, that line is
        also cut off the file (hold the :class:`JournalLock` to do so)."""
        path = Path(path)
        data = path.read_bytes()
        whole = data.rfind(b"\n") + 1                # past the last complete line
        if whole < len(data) and repair:
            with open(path, "r+b") as fh:
                fh.truncate(whole)
                os.fsync(fh.fileno())
        events = []
        for k, line in enumerate(data[:whole].decode("utf-8", "replace").splitlines()):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                raise AllocatorError(f"{path}:{k + 1}: the journal is damaged (line {k + 1} "
                                     "is not a JSON event)") from None
        return events

    def open(self) -> None:
        if self.path is not None:
            self._fh = open(self.path, "a", encoding="utf-8")

    def write(self, event: dict) -> None:
        if self._fh is None:
            return
        with self._lock:
            self._fh.write(json.dumps(event) + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


