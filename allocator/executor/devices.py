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

import dataclasses

from ..errors import AllocatorError
from ..domain.problem import TORCH_DEVICE, Pool, Problem
from ..domain.units import format_quantity



def default_torch_device(pool: Pool) -> str | None:
    if pool.torch_device is not None:
        return pool.torch_device
    return {"cpu": "cpu", "gpu": "cuda"}.get(pool.kind)


def require_torch() -> None:
    """A clear error saying how to install torch when it is missing (without importing it:
    the planner never runs torch, its worker processes do)."""
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        raise AllocatorError("running workloads needs PyTorch: "
                             "pip install -e '.[torch]' (or torch==2.13.0)")


def cuda_count() -> int:
    """CUDA devices this process may use: torch's count, or without torch, nvidia-smi's
    (limited by CUDA_VISIBLE_DEVICES)."""
    try:
        import torch
    except ImportError:
        return _nvidia_smi_count()
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _nvidia_smi_count() -> int:
    import os
    import shutil
    import subprocess
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return 0
    count = sum(line.startswith("GPU ") for line in out.stdout.splitlines())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        count = min(count, len([x for x in visible.split(",") if x.strip()]))
    return count


def resolve_devices(problem: Problem, *, available: int | None = None) -> tuple[dict, dict]:
    """``(mapping, unavailable)``: device name -> torch device string for every pool this
    machine can serve, and pool name -> reason for the pools it cannot.

    Pools naming ``cuda:N`` claim their indices first; ``cuda`` and ``auto`` pools then take
    the lowest unclaimed ones, in file order. ``available`` is the number of CUDA devices
    (default: what torch sees).
    """
    wants_cuda = any((default_torch_device(p) or "").startswith(("cuda", "auto"))
                     for p in problem.pools)
    n_cuda = available if available is not None else (cuda_count() if wants_cuda else 0)
    mapping: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    claimed: dict[int, str] = {}
    specs = {}
    for pool in problem.pools:
        spec = default_torch_device(pool)
        if spec is None:
            unavailable[pool.name] = (f"pool {pool.name!r} (kind {pool.kind}) has no torch_device;"
                                      " set one of cpu, cuda, cuda:N, auto")
        elif not TORCH_DEVICE.match(spec):
            unavailable[pool.name] = (f"pool {pool.name!r} has torch_device {spec!r}; "
                                      "use cpu, cuda, cuda:N or auto")
        else:
            specs[pool.name] = spec

    def assign(pool: Pool, wanted: list[int]) -> None:
        if not wanted or wanted[-1] >= n_cuda:
            have = f"{n_cuda} CUDA device{'s' if n_cuda != 1 else ''}"
            first = wanted[0] if wanted else 0
            span = f"cuda:{first}" + (f"..cuda:{first + pool.count - 1}" if pool.count > 1 else "")
            unavailable[pool.name] = f"pool {pool.name!r} needs {span} but this machine has {have}"
            return
        for k in wanted:
            if k in claimed:
                unavailable[pool.name] = (f"pool {pool.name!r} wants cuda:{k}, which pool "
                                          f"{claimed[k]!r} already uses")
                return
        for k in wanted:
            claimed[k] = pool.name
        mapping.update({d: f"cuda:{k}" for d, k in zip(pool.device_names(), wanted)})

    for pool in problem.pools:                     # explicit indices first
        spec = specs.get(pool.name, "")
        if spec.startswith("cuda:"):
            start = int(spec.split(":")[1])
            assign(pool, list(range(start, start + pool.count)))
    for pool in problem.pools:
        spec = specs.get(pool.name)
        if spec == "cpu":
            mapping.update({d: "cpu" for d in pool.device_names()})
        elif spec in ("cuda", "auto"):
            free = [k for k in range(n_cuda) if k not in claimed][:pool.count]
            if spec == "auto" and len(free) < pool.count:
                mapping.update({d: "cpu" for d in pool.device_names()})
            else:
                assign(pool, free if len(free) == pool.count
                       else list(range(len(claimed), len(claimed) + pool.count)))
    return dict(sorted(mapping.items(), key=lambda kv: problem.device_index[kv[0]])), unavailable


def on_this_machine(problem: Problem, *, available: int | None = None
                    ) -> tuple[Problem, list[str]]:
    """The problem as this machine will run it, and notes saying what changed.

    A pool with ``torch_device: auto`` that finds no free CUDA device here runs on the CPU
    (:func:`resolve_devices`); planning it at its accelerator speed would promise a makespan
    the run cannot keep. Such a pool is planned at a CPU device's speed: the throughput of the
    problem's CPU pools per device (their count-weighted mean). Without a CPU pool to learn
    that speed from, the pool keeps its stated speed, and the note says so.
    """
    mapping, _ = resolve_devices(problem, available=available)
    fallen = [p for p in problem.pools if default_torch_device(p) == "auto"
              and any(mapping.get(d) == "cpu" for d in p.device_names())]
    if not fallen:
        return problem, []
    cpu_pools = [p for p in problem.pools if p not in fallen
                 and all(mapping.get(d) == "cpu" for d in p.device_names())]
    names = ", ".join(repr(p.name) for p in fallen)
    if not cpu_pools:
        return problem, [f"pool {names} (torch_device: auto) runs on the CPU here (no free "
                         f"CUDA device); with no CPU pool to learn the host's speed from, it "
                         f"is planned at its stated throughput"]
    speed = sum(p.count * p.throughput for p in cpu_pools) / sum(p.count for p in cpu_pools)
    pools = tuple(dataclasses.replace(p, throughput=speed, torch_device="cpu") if p in fallen
                  else p for p in problem.pools)
    note = (f"pool {names} (torch_device: auto) runs on the CPU here (no free CUDA device): "
            f"planned at a CPU device's speed, {format_quantity(speed, 'flop_rate')}, not its "
            f"stated {format_quantity(fallen[0].throughput, 'flop_rate')}")
    return dataclasses.replace(problem, pools=pools), [note]


def require(problem: Problem, devices, mapping: dict, unavailable: dict) -> None:
    """Raise a clear error when a device the plan uses cannot be mapped."""
    for d in devices:
        if d not in mapping:
            pool = problem.pool_of(d).name
            raise AllocatorError(f"cannot run on {d}: {unavailable.get(pool, 'no torch device')}")
