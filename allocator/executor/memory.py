"""Memory measured on a device: the live tensor bytes of CPU work (a dispatch-mode tracker),
CUDA's own peak counters, and a command's peak resident memory from the kernel. The estimate these are compared with is
:mod:`allocator.domain.memory`.
"""

from __future__ import annotations

import os
import threading
import weakref

from typing import Any


# -- measuring on CPU ------------------------------------------------------------------------

def _dispatch_mode():
    from torch.utils._python_dispatch import TorchDispatchMode
    return TorchDispatchMode


class MemoryTracker:
    """Counts the bytes of live tensor storages created on this thread, and their peak.

    Used on CPU, where torch keeps no allocator statistics: every operator's outputs are seen
    through a ``TorchDispatchMode``; a storage counts from its creation until it is freed
    (a weak reference). With ``cap`` (bytes), an allocation that takes the live total past it
    raises ``torch.OutOfMemoryError``, as a device of that size would. The mode is
    thread-local, so each executor worker measures only its own task.
    """

    def __init__(self, cap: float | None = None, label: str = "cpu"):
        self.cap = cap
        self.label = label
        self.live = 0
        self.peak = 0
        self._seen: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._mode = None

    def _freed(self, key: int, nbytes: int) -> None:
        with self._lock:
            if self._seen.pop(key, None) is not None:
                self.live -= nbytes

    def _count(self, out) -> None:
        import torch
        from torch.utils._pytree import tree_flatten
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor) or t.device.type != "cpu":
                continue
            storage = t.untyped_storage()
            key, nbytes = storage.data_ptr(), storage.nbytes()
            if nbytes == 0 or key in self._seen:
                continue
            with self._lock:
                self._seen[key] = weakref.ref(
                    storage, lambda _ref, key=key, nbytes=nbytes: self._freed(key, nbytes))
                self.live += nbytes
                self.peak = max(self.peak, self.live)
            if self.cap is not None and self.live > self.cap:
                live = self.live
                raise torch.OutOfMemoryError(
                    f"{self.label}: {live / 2**20:.1f} MiB live exceeds the device's "
                    f"{self.cap / 2**20:.1f} MiB")

    def __enter__(self) -> MemoryTracker:
        tracker = self

        class _Mode(_dispatch_mode()):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                tracker._count(out)
                return out

        self._mode = _Mode()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._mode.__exit__(*exc)
        self._mode = None


class PeakMemory:
    """Peak bytes a block allocates on ``device``, whichever kind it is; ``.peak`` after exit.

    On CUDA: ``torch.cuda.max_memory_allocated`` above what was allocated on entry, the device
    synchronised on both sides (so a timer started inside and stopped after exit times the
    work, not its launch). On CPU: a :class:`MemoryTracker`, holding the block to ``cap``.
    The peak is set even when the block raises.
    """

    def __init__(self, device, cap: float | None = None, label: str = "cpu"):
        self.device = device
        self.cap = cap
        self.label = label
        self.peak: float | None = None
        self._tracker: MemoryTracker | None = None
        self._base = 0

    def __enter__(self) -> "PeakMemory":
        import torch
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._tracker = MemoryTracker(cap=self.cap, label=self.label).__enter__()
        return self

    def __exit__(self, *exc) -> None:
        import torch
        if self._tracker is None:
            torch.cuda.synchronize(self.device)
            self.peak = float(torch.cuda.max_memory_allocated(self.device) - self._base)
        else:
            self._tracker.__exit__(*exc)
            self.peak = float(self._tracker.peak)


# -- a command's peak, from the kernel ------------------------------------------------------

class CommandMemory:
    """The peak resident memory of a command.

    The kernel's ``ru_maxrss`` of a child also counts what its parent had resident when it
    forked (Linux keeps the larger of the pre-exec and post-exec peaks), so it is the
    command's own peak only when it exceeds the spawner's resident size. Otherwise the
    command's peak is the largest ``VmHWM`` sampled from ``/proc`` while it ran (a peak in
    its last moments may then be missed); ``None`` when neither tells.
    """

    def __init__(self, pid: int, spawner: float | None):
        self.pid, self.spawner, self.sampled = pid, spawner, None

    def sample(self) -> None:
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        value = float(line.split()[1]) * 1024
                        self.sampled = max(self.sampled or 0.0, value)
                        return
        except (OSError, ValueError, IndexError):
            pass

    def peak(self, rusage) -> float | None:
        maxrss = float(rusage.ru_maxrss) * 1024 if rusage is not None else None
        if maxrss is not None and self.spawner is not None and maxrss > 1.05 * self.spawner:
            return maxrss
        return self.sampled


def resident_bytes() -> float | None:
    """This process's resident memory now (from ``/proc/self/statm``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return float(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
