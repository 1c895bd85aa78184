"""Jobs that misbehave, for the executor's fault tests (run as callables in worker processes)."""

from __future__ import annotations

import ctypes
import os
import sys
import time


def ok(note: str = "") -> None:
    print(f"ok {os.environ['ALLOCATOR_TASK']} {note}")


def raises() -> None:
    print("about to fail", file=sys.stderr)
    raise ValueError("the task's own bug")


def exits_hard(code: int = 7) -> None:
    print("leaving with os._exit", file=sys.stderr, flush=True)
    os._exit(code)


def segfaults() -> None:
    ctypes.string_at(0)


def calls_sys_exit(code: int = 3) -> None:
    sys.exit(code)


def hangs(seconds: float = 600) -> None:
    time.sleep(seconds)


def broken_on(device: str = "") -> None:
    """Fails on the device named ``device`` (a device at fault), works elsewhere."""
    if os.environ.get("ALLOCATOR_DEVICE_NAME") == device:
        raise RuntimeError(f"CUDA error: an illegal memory access on {device}")
