"""The run's journal: JSON lines, one writer at a time.

Every state change of a run is appended as one JSON line; an event is on disk (fsync'd)
before anything that depends on it happens, so a run killed at any moment can be resumed
from it. Writes are group-committed: one fsync covers every event queued meanwhile. One process writes a journal at a
time: :class:`JournalLock` holds an exclusive lock on ``<journal>.lock`` (``flock``, which the
kernel releases when the holder dies, however it dies) with the holder's process id in it, so
a second run on a live journal is refused at once, naming the process.

A run killed in the middle of a write leaves a *torn* last line, one without its newline: it
is dropped when the journal is read, and cut off before a resumed run appends to it (else the
next event would be glued to it). Any other line that is not JSON is damage, reported with its
line number.
"""

from __future__ import annotations

import errno
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


LINGER = 0.05          # seconds an event nobody waits for may wait for its fsync


class Journal:
    """Append-only JSON lines, group-committed.

    :meth:`append` queues an event and returns its sequence number at once; :meth:`wait`
    returns when an event is on disk: a writer thread writes whatever is queued, then
    ``fsync``s once for the whole batch. So the events of several devices share one ``fsync``, and a
    caller waits only where the order matters (before a task starts, before the run ends).
    A write that fails (a full disk above all) stops the journal: every wait then raises an
    :class:`AllocatorError` that says what happened.
    """

    def __init__(self, path: str | Path | None):
        self.path = None if path is None else Path(path)
        self._fh = None
        self._cond = threading.Condition()
        self._queue: list[str] = []
        self._queued = 0                    # sequence number of the last event queued
        self._synced = 0                    # ... and of the last one on disk
        self._wanted = 0                    # ... and of the last one someone waits for
        self._error: str | None = None
        self._closing = False
        self._thread: threading.Thread | None = None

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
        if self.path is None:
            return
        try:
            self._fh = open(self.path, "ab")
        except OSError as exc:
            raise AllocatorError(f"cannot write the journal {self.path}: "
                                 f"{exc.strerror or exc}") from None
        self._thread = threading.Thread(target=self._writer, name="allocator journal",
                                        daemon=True)
        self._thread.start()

    def append(self, event: dict) -> int:
        """Queue ``event``; its sequence number, for :meth:`wait`. Nothing is written until
        someone waits (or :data:`LINGER` seconds pass), so events that nobody waits for ride
        along with the next fsync instead of costing one of their own."""
        if self._fh is None:
            return 0
        line = json.dumps(event) + "\n"
        with self._cond:
            self._queue.append(line)
            self._queued += 1
            return self._queued

    def wait(self, seq: int | None = None) -> None:
        """Return once event ``seq`` (default: every event queued) is on disk."""
        if self._fh is None:
            return
        with self._cond:
            target = self._queued if seq is None else seq
            if target > self._wanted:
                self._wanted = target
                self._cond.notify_all()
            while self._synced < target and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise AllocatorError(self._error)

    def write(self, event: dict) -> None:
        """Append ``event`` and wait until it is on disk."""
        self.wait(self.append(event))

    def _writer(self) -> None:
        while True:
            with self._cond:
                while not self._closing and not (self._queue and self._wanted > self._synced):
                    if not self._cond.wait(LINGER) and self._queue:
                        break                       # nobody waited: write what lingers
                if not self._queue:
                    if self._closing:
                        return
                    continue
                batch, self._queue = self._queue, []
                last = self._queued
            try:
                self._fh.write("".join(batch).encode("utf-8"))
                self._fh.flush()
                os.fsync(self._fh.fileno())
            except OSError as exc:
                with self._cond:
                    self._error = _write_error(self.path, exc)
                    self._cond.notify_all()
                return
            with self._cond:
                self._synced = last
                self._cond.notify_all()

    def close(self) -> None:
        """Write what is queued and close; raises if the journal could not be written."""
        if self._fh is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        try:
            self._fh.close()
        except OSError:
            pass
        self._fh = None
        if self._error is not None:
            raise AllocatorError(self._error)


def _write_error(path: Path | None, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return (f"the disk holding the journal {path} is full: the run "
                "stopped, and so did its running tasks; free some space, then --resume")
    if exc.errno == errno.EDQUOT:
        return (f"the disk quota for the journal {path} is exhausted: the run stopped; "
                "free some space, then --resume")
    return f"cannot write the journal {path}: {exc.strerror or exc}; the run stopped"
