"""The worker process of one device: it runs callables and torch workloads it is sent.

A worker is a fresh interpreter (``python -c``), not a fork of the planner: a fork would copy
the planner's threads and its OpenMP pool half alive, and a child using that pool hangs; a
fork server would import the user's main script again. The worker sees only its own device
(``CUDA_VISIBLE_DEVICES`` is set before CUDA starts), ignores Ctrl-C (the run stops it), dies
with the run, and sends back one :class:`~allocator.executor.processes.Outcome` per task.
A task that ends the process (``os._exit``, a segfault) is seen by the runner as the
worker's death; after a CUDA error the worker answers and exits, since the CUDA context may
be broken for whatever comes next.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import os
import signal
import sys
import time
import traceback
from typing import Any

def main(fd: int) -> None:
    """The worker's loop, on the socket ``fd``: ``("path", sys.path)``, then
    ``("warm", torch)`` and ``("run", order, out, err)`` until the socket closes."""
    from multiprocessing.connection import Connection

    from .processes import die_with_parent
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(fd)
    child_device = os.environ.get("ALLOCATOR_DEVICE", "cpu")
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "path":                  # where the run's callables can be imported
            sys.path[:] = list(dict.fromkeys(message[1] + sys.path))
            continue
        if message[0] == "warm":
            if message[1]:
                from .workloads import warm_up
                warm_up([child_device])
            conn.send(("ok",))
            continue
        _, order, out, err = message
        reply = _attempt(order, out, err, child_device)
        conn.send(("done", reply))
        if reply.get("fatal"):
            return


def _attempt(order, out: str, err: str, child_device: str) -> dict[str, Any]:
    os.environ["ALLOCATOR_TASK"] = order.task
    os.environ["ALLOCATOR_ATTEMPT"] = str(order.attempt)
    with _Redirected(out, err), _InFolder(order.cwd):
        start = time.time()
        try:
            function, kwargs = _resolve(order, child_device)
            meter = _meter(order, child_device)
            if meter is None:
                start = time.time()
                function(**kwargs)
                peak = None
            else:
                with meter:
                    start = time.time()
                    function(**kwargs)
                peak = meter.peak
            return {"status": "completed", "start": start, "end": time.time(),
                    "peak_memory": peak}
        except SystemExit as exc:                      # sys.exit in the task: its exit status
            end = time.time()
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if code == 0:
                return {"status": "completed", "start": start, "end": end}
            print(f"[allocator] the task called sys.exit({exc.code!r})", file=sys.stderr)
            return {"status": "failed", "start": start, "end": end,
                    "error": f"exited with status {code}", "cause": "exit", "exit_code": code}
        except BaseException as exc:                   # the task's own failure
            end = time.time()
            traceback.print_exc()
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            cause = _cause(exc)
            del exc
            _release(child_device)
            return {"status": "failed", "start": start, "end": end, "error": error,
                    "cause": cause, "fatal": cause == "device"}


def _resolve(order, child_device: str):
    """The function to call and its keyword arguments."""
    if order.kind == "workload":
        import torch
        from .workloads import runner_of
        run = runner_of(order.target)
        device = torch.device(child_device)
        return (lambda: run(device, dict(order.params), order.seed)), {}
    module_name, _, qualname = order.target.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    kwargs = dict(order.params)
    try:
        takes_device = "device" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        takes_device = False
    if takes_device and "device" not in kwargs:
        kwargs["device"] = child_device
    return target, kwargs


def _meter(order, child_device: str):
    """A peak-memory meter when torch is here (holding CPU work to ``memory_cap``)."""
    try:
        import torch
    except ImportError:                  # a callable without torch here: no meter
        return None
    from .memory import PeakMemory
    return PeakMemory(torch.device(child_device), cap=order.memory_cap, label=order.task)


def _cause(exc: BaseException) -> str:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(exc, torch.OutOfMemoryError):
        return "out_of_memory"
    from .processes import classify
    return classify(f"{type(exc).__name__}: {exc}", None, "exception")


def _release(child_device: str) -> None:
    gc.collect()                                   # drop the frames that hold the task's tensors
    torch = sys.modules.get("torch")
    if torch is not None and child_device.startswith("cuda") and torch.cuda.is_initialized():
        try:
            torch.cuda.empty_cache()
        except Exception:                          # a broken context: the worker restarts
            pass


class _InFolder:
    """For the block: in ``folder`` (the callable's cwd), with it first on ``sys.path``."""

    def __init__(self, folder: str | None):
        self.folder = folder
        self.saved = ""

    def __enter__(self):
        if self.folder is not None:
            self.saved = os.getcwd()
            os.chdir(self.folder)
            sys.path.insert(0, self.folder)
        return self

    def __exit__(self, *exc) -> None:
        if self.folder is not None:
            os.chdir(self.saved)
            if self.folder in sys.path:
                sys.path.remove(self.folder)


class _Redirected:
    """fd 1 and 2 (and Python's streams) into the task's log files for the block."""

    def __init__(self, out: str, err: str):
        self.paths = (out, err)
        self.saved: list[int] = []

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, path in zip((1, 2), self.paths):
            self.saved.append(os.dup(fd))
            target = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(target, fd)
            os.close(target)
        return self

    def __exit__(self, *exc) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)
