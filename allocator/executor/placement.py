"""What a task's process sees of the machine's devices: its device's name, the torch device
this process maps it to, the ``CUDA_VISIBLE_DEVICES`` its child gets (mapped through this
process's own), and the device as the child sees it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Placement:
    """A device as a child sees it."""

    device: str                            # the problem's name: gpu[0]
    torch_device: str                      # as this process maps it: cuda:3, cpu
    visible: str                           # CUDA_VISIBLE_DEVICES for the child
    child_device: str                      # cuda:0 or cpu
    env: Mapping[str, str] = field(default_factory=dict)   # more for the child (a node's lane)

    @classmethod
    def of(cls, device: str, torch_device: str) -> "Placement":
        if not torch_device.startswith("cuda"):
            return cls(device, torch_device, "", "cpu")
        index = int(torch_device.split(":")[1]) if ":" in torch_device else 0
        return cls(device, torch_device, _visible([index]), "cuda:0")

    @classmethod
    def of_gpus(cls, lane: str, indices: tuple[int, ...], env: Mapping[str, str]
                ) -> "Placement":
        """A lane of a node that sees this process's CUDA devices ``indices`` (a gang's
        GPUs, or the one GPU it shares; none: the CPU), with ``env`` for its child."""
        if not indices:
            return cls(lane, "cpu", "", "cpu", dict(env))
        return cls(lane, "cuda:" + ",".join(map(str, indices)), _visible(indices), "cuda:0",
                   dict(env))


def _visible(indices) -> str:
    """CUDA_VISIBLE_DEVICES for a child that is to see this process's CUDA devices
    ``indices``: mapped through this process's own visible list, when it has one."""
    mine = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [x.strip() for x in mine.split(",")] if mine else []
    return ",".join(ids[k] if k < len(ids) else str(k) for k in indices)


__all__ = ["Placement"]
