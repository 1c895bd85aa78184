"""Run one attempt of one task in a process of its own, and say how it ended.

A command runs as a child process in a session of its own (so that the whole group can be
stopped), with its device exposed in the environment: ``CUDA_VISIBLE_DEVICES`` (the GPU's
index, empty for a CPU device), ``ALLOCATOR_DEVICE`` (the torch device as the child sees it:
``cuda:0`` or ``cpu``), ``ALLOCATOR_DEVICE_NAME`` (the problem's name for it, ``gpu[1]``),
``ALLOCATOR_TASK`` and ``ALLOCATOR_ATTEMPT``. Callables and torch
workloads run in one worker process per device, a fresh interpreter (never a fork of the
planner, whose threads and OpenMP pool a fork would copy half alive), started again after a
task kills it. Either way a crash, a signal, a non-zero exit, an exception or a
timeout ends *that attempt* as failed, with the exit status or signal and the last lines of
its stderr; the run goes on. Children die with the run, even with ``kill -9``
(``PR_SET_PDEATHSIG``), so a resumed run never races an orphan of the last one.

Each task's stdout and stderr are appended to ``<logs>/<task>.out`` and ``<task>.err``, one
header line per attempt.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .logs import Logs, file_name, stderr_tail
from .placement import Placement
from .memory import CommandMemory, resident_bytes

GRACE_SECONDS = 5.0          # between SIGTERM and SIGKILL

# What a failure's text says about its cause; the failure policy decides what it means.
_OUT_OF_MEMORY = re.compile(r"out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED")
_DEVICE_ERROR = re.compile(r"CUDA error|cudaError|CUBLAS_STATUS_(?!ALLOC)|CUDNN_STATUS_|"
                           r"NCCL (?:error|WARN)|uncorrectable ECC|AcceleratorError|"
                           r"CUDA driver|device-side assert")


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended. ``cause`` of a failure: ``exit``, ``signal``, ``exception``,
    ``timeout``, ``out_of_memory``, ``device`` (a CUDA/driver error) or ``start`` (it could
    not be started); ``interrupted`` attempts were stopped by the run itself."""

    status: str                           # completed | failed | interrupted
    start: float
    end: float
    error: str | None = None
    cause: str | None = None
    exit_code: int | None = None
    signal: str | None = None
    stderr_tail: str | None = None
    peak_memory: float | None = None


@dataclass(frozen=True)
class Order:
    """One attempt to run: a task's command, callable or workload, on a device."""

    task: str
    attempt: int
    kind: str                              # command | callable | workload
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    target: Any = None                     # "module:function", or a workload's run function
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    timeout: float | None = None
    memory_cap: float | None = None        # CPU only: fail past this many bytes, as a device would

    @classmethod
    def of(cls, task, attempt: int, *, timeout: float | None = None,
           memory_cap: float | None = None) -> "Order":
        """The order that runs ``task`` (an :class:`allocator.domain.problem.Task` with a job or a
        workload)."""
        job = task.job
        if job is not None and job.command is not None:
            return cls(task.name, attempt, "command", command=job.command, env=job.env,
                       cwd=job.cwd, timeout=timeout)
        if job is not None:
            return cls(task.name, attempt, "callable", target=job.callable, params=job.params,
                       cwd=job.cwd, timeout=timeout, memory_cap=memory_cap)
        from ..domain.workloads import split
        workload, params, seed = split(task.workload)
        return cls(task.name, attempt, "workload", target=workload.run, params=params,
                   seed=seed, timeout=timeout, memory_cap=memory_cap)


def classify(error: str | None, tail: str | None, default: str) -> str:
    """The cause a failure's text points at: out of memory, the device, or ``default``."""
    text = f"{error or ''}\n{tail or ''}"
    if _OUT_OF_MEMORY.search(text):
        return "out_of_memory"
    if _DEVICE_ERROR.search(text):
        return "device"
    return default


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# -- dying with the run ---------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux)."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _command_child_setup() -> None:            # runs in the child between fork and exec
    die_with_parent()


# -- one device's runner --------------------------------------------------------------------

class DeviceRunner:
    """Runs attempts for one device, one at a time; :meth:`interrupt` (from any thread)
    stops the one running."""

    def __init__(self, placement: Placement, logs: Logs, *, grace: float = GRACE_SECONDS):
        self.placement = placement
        self.logs = logs
        self.grace = grace
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self._worker: subprocess.Popen | None = None
        self._conn: Any = None
        self._pidfd = -1

    # control
    def interrupt(self) -> None:
        self._stopping = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def close(self) -> None:
        self._stop_worker(kill=False)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def start_worker(self) -> None:
        """Start the worker process. Call it from a thread that outlives the worker (the
        kernel ends a child when the thread that started it ends: ``PR_SET_PDEATHSIG``)."""
        self._ensure_worker()

    def warm_up(self, torch: bool = True) -> None:
        """With ``torch``, pay torch's one-off costs in the worker (before the clock starts);
        either way, wait until it is ready."""
        self._ensure_worker()
        self._conn.send(("warm", torch))
        self._conn.recv()

    # running
    def run(self, order: Order) -> Outcome:
        out, err, offset = self.logs.begin(order, self.placement)
        if self._stopping:
            now = time.time()
            return Outcome("interrupted", now, now, "the run was stopped before it started",
                           "interrupted")
        if order.kind == "command":
            outcome = self._run_command(order, out, err)
        else:
            outcome = self._run_in_worker(order, out, err)
        if outcome.status == "failed":
            tail = stderr_tail(err, offset)
            cause = outcome.cause
            if cause in ("exit", "signal", "exception"):
                cause = classify(outcome.error, tail, cause)
            outcome = Outcome(outcome.status, outcome.start, outcome.end, outcome.error, cause,
                              outcome.exit_code, outcome.signal, tail, outcome.peak_memory)
        return outcome

    def _environment(self, order: Order) -> dict[str, str]:
        return {**os.environ, **order.env,
                **self.placement.env, "CUDA_VISIBLE_DEVICES": self.placement.visible,
                "ALLOCATOR_DEVICE": self.placement.child_device,
                "ALLOCATOR_DEVICE_NAME": self.placement.device,
                "ALLOCATOR_TASK": order.task, "ALLOCATOR_ATTEMPT": str(order.attempt)}

    def _run_command(self, order: Order, out: Path, err: Path) -> Outcome:
        start = time.time()
        spawner = resident_bytes()
        try:
            with open(out, "ab") as fo, open(err, "ab") as fe:
                proc = subprocess.Popen(order.command, cwd=order.cwd,
                                        env=self._environment(order), stdin=subprocess.DEVNULL,
                                        stdout=fo, stderr=fe, start_new_session=True,
                                        preexec_fn=_command_child_setup)
        except OSError as exc:
            with open(err, "a", encoding="utf-8") as fe:
                fe.write(f"cannot start {order.command[0]!r}: {exc.strerror or exc}\n")
            return Outcome("failed", start, time.time(),
                           f"cannot start {order.command[0]!r}: {exc.strerror or exc}", "start")
        meter = CommandMemory(proc.pid, spawner)      # Popen returns once the exec succeeded
        status, rusage, how = self._wait(proc.pid, order.timeout, start,
                                         lambda sig: _signal_group(proc.pid, sig), meter.sample)
        end = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        return self._ended(how, proc.returncode, start, end, order, meter.peak(rusage))

    def _wait(self, pid: int, timeout: float | None, start: float, send, sample) -> tuple:
        """Wait for the command ``pid`` to end, stopping its group on timeout or interrupt
        and calling ``sample`` now and then: ``(wait status, rusage, how)``."""
        pidfd = os.pidfd_open(pid)
        try:
            how = self._watch(pidfd, (), start, timeout, sample)
            if how != "ended":
                send(signal.SIGTERM)
                select.select([pidfd], [], [], self.grace)
            # What the task left behind in its group ends with it (the leader, exited or not,
            # still holds its pid until it is reaped below, so the group cannot be another's).
            send(signal.SIGKILL)
            _, status, rusage = os.wait4(pid, 0)
            return status, rusage, how
        finally:
            os.close(pidfd)

    def _watch(self, pidfd: int, answers: tuple, start: float, timeout: float | None,
               sample=None) -> str:
        """Until the process behind ``pidfd`` ends (``ended``), one of ``answers`` is ready
        (``answer``), the attempt's time is up (``timeout``) or the run stops
        (``interrupted``); ``sample`` is called at first and then at growing intervals of
        up to a second."""
        from multiprocessing.connection import wait
        every = 0.05
        while True:
            if sample is not None:
                sample()
            left = None if timeout is None else start + timeout - time.time()
            if left is not None and left <= 0:
                return "timeout"
            if sample is not None:
                left = every if left is None else min(left, every)
                every = min(2 * every, 1.0)
            ready = wait([*answers, pidfd, self._wake_r], left)
            if any(a in ready for a in answers):
                return "answer"
            if pidfd in ready:
                return "ended"
            if self._wake_r in ready and self._stopping:
                return "interrupted"

    def _ended(self, how: str, code: int, start: float, end: float, order: Order,
               peak: float | None) -> Outcome:
        if how == "interrupted":
            return Outcome("interrupted", start, end, "stopped: the run was stopped",
                           "interrupted", peak_memory=peak)
        if how == "timeout":
            return Outcome("failed", start, end, f"timed out after {order.timeout:g} s",
                           "timeout", peak_memory=peak)
        if code == 0:
            return Outcome("completed", start, end, peak_memory=peak)
        if code < 0:
            name = signal_name(-code)
            return Outcome("failed", start, end, f"killed by {name}", "signal",
                           signal=name, peak_memory=peak)
        return Outcome("failed", start, end, f"exited with status {code}", "exit",
                       exit_code=code, peak_memory=peak)

    # the worker process, for callables and workloads
    def _ensure_worker(self) -> None:
        if self._worker is not None and self._worker.poll() is None:
            return
        self._stop_worker(kill=True)
        from multiprocessing.connection import Connection
        mine, theirs = socket.socketpair()
        self.logs.folder.mkdir(parents=True, exist_ok=True)
        log = self.logs.folder / f"worker-{file_name(self.placement.device)}.log"
        with open(log, "ab") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-c", "from allocator.executor.worker import main; "
                 f"main({theirs.fileno()})"],
                env={**os.environ, **self.placement.env,
                     "CUDA_VISIBLE_DEVICES": self.placement.visible,
                     "ALLOCATOR_DEVICE": self.placement.child_device,
                     "ALLOCATOR_DEVICE_NAME": self.placement.device},
                stdin=subprocess.DEVNULL, stdout=fh, stderr=fh, pass_fds=(theirs.fileno(),),
                preexec_fn=_command_child_setup)
        theirs.close()
        self._worker, self._conn = proc, Connection(mine.detach())
        self._pidfd = os.pidfd_open(proc.pid)
        self._conn.send(("path", [p for p in sys.path if p]))

    def _stop_worker(self, *, kill: bool) -> None:
        if self._worker is None:
            return
        try:
            if kill:
                self._worker.kill()
            else:
                self._conn.close()                 # the worker ends when its pipe closes
                try:
                    self._worker.wait(self.grace)
                except subprocess.TimeoutExpired:
                    self._worker.kill()
            self._worker.wait()
        finally:
            self._conn.close()
            os.close(self._pidfd)
            self._worker = self._conn = None

    def _run_in_worker(self, order: Order, out: Path, err: Path) -> Outcome:
        start = time.time()
        self._ensure_worker()
        worker, conn = self._worker, self._conn
        conn.send(("run", order, str(out), str(err)))
        how = self._watch(self._pidfd, (conn,), start, order.timeout)
        if how == "answer":
            try:
                reply = conn.recv()
            except (EOFError, OSError):
                how = "ended"                      # it died while answering
            else:
                if reply[1].get("fatal"):          # the device is suspect: start afresh
                    self._stop_worker(kill=False)
                return Outcome(**{k: v for k, v in reply[1].items() if k != "fatal"})
        if how != "ended":
            worker.terminate()
            try:
                worker.wait(self.grace)
            except subprocess.TimeoutExpired:
                worker.kill()
        code = worker.wait()
        self._stop_worker(kill=True)
        end = time.time()
        if how == "ended":
            with open(err, "a", encoding="utf-8") as fe:
                fe.write(f"[allocator] the worker process ended while running {order.task} "
                         f"(exit code {code})\n")
            if code >= 0:
                return Outcome("failed", start, end,
                               f"exited with status {code} (the task ended its process "
                               "without returning)", "exit", exit_code=code)
        return self._ended(how, code, start, end, order, None)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


__all__ = ["DeviceRunner", "Order", "Outcome", "Placement", "classify", "die_with_parent"]
