"""Map a problem's devices to torch devices: ``pool[k]`` -> ``cpu`` or ``cuda:N``.

A pool's ``torch_device`` decides (default ``cpu`` for kind cpu, ``cuda`` for kind gpu):

- ``cpu``: every device of the pool runs on the host CPU (they share it);
- ``cuda``: device k takes the next unclaimed CUDA index, pools in file order;
- ``cuda:N``: device k runs on ``cuda:N+k``;
- ``auto``: like ``cuda`` when the machine has enough free CUDA devices for the whole pool,
  otherwise ``cpu`` — an explicit choice, recorded in the report.

Asking for CUDA devices the machine does not have is an error naming the pool, never a
silent fallback.
"""

from __future__ import annotations

import re

from ..errors import AllocatorError
from ..problem import Pool, Problem

TORCH_DEVICE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


def default_torch_device(pool: Pool) -> str | None:
    if pool.torch_device is not None:
        return pool.torch_device
    return {"cpu": "cpu", "gpu": "cuda"}.get(pool.kind)


def cuda_count() -> int:
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def resolve_devices(problem: Problem, *, available: int | None = None) -> tuple[dict, dict]:
    """``(mapping, unavailable)``: device name -> torch device string for every pool this
    machine can serve, and pool name -> reason for the pools it cannot.

    ``available`` is the number of CUDA devices (default: what torch sees).
    """
    n_cuda = cuda_count() if available is None else available
    mapping: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    claimed: dict[int, str] = {}
    next_free = 0

    def claim(pool: Pool, start: int) -> list[int] | None:
        wanted = list(range(start, start + pool.count))
        if wanted[-1] >= n_cuda:
            have = f"{n_cuda} CUDA device{'s' if n_cuda != 1 else ''}"
            unavailable[pool.name] = (f"pool {pool.name!r} needs cuda:{wanted[0]}"
                                      + (f"..cuda:{wanted[-1]}" if len(wanted) > 1 else "")
                                      + f" but this machine has {have}")
            return None
        for k in wanted:
            if k in claimed:
                unavailable[pool.name] = (f"pool {pool.name!r} wants cuda:{k}, which pool "
                                          f"{claimed[k]!r} already uses")
                return None
        for k in wanted:
            claimed[k] = pool.name
        return wanted

    for pool in problem.pools:
        spec = default_torch_device(pool)
        if spec is None:
            unavailable[pool.name] = (f"pool {pool.name!r} (kind {pool.kind}) has no torch_device;"
                                      " set one of cpu, cuda, cuda:N, auto")
            continue
        if not TORCH_DEVICE.match(spec):
            unavailable[pool.name] = (f"pool {pool.name!r} has torch_device {spec!r}; "
                                      "use cpu, cuda, cuda:N or auto")
            continue
        if spec == "cpu" or (spec == "auto" and next_free + pool.count > n_cuda):
            mapping.update({d: "cpu" for d in pool.device_names()})
            continue
        start = int(spec.split(":")[1]) if ":" in spec else next_free
        indices = claim(pool, start)
        if indices is None:
            continue
        next_free = max(next_free, indices[-1] + 1)
        mapping.update({d: f"cuda:{k}" for d, k in zip(pool.device_names(), indices)})
    return mapping, unavailable


def require(problem: Problem, devices, mapping: dict, unavailable: dict) -> None:
    """Raise a clear error when a device the plan uses cannot be mapped."""
    for d in devices:
        if d not in mapping:
            pool = problem.pool_of(d).name
            raise AllocatorError(f"cannot run on {d}: {unavailable.get(pool, 'no torch device')}")
