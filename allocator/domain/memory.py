"""Memory: estimate a task's peak bytes from a model description.

The estimate is the seeds' GPU-memory model made explicit (see ``docs/memory.md``)::

    weights     = P * b
    gradients   = P * b                         (training: optimizer is not none)
    optimizer   = P * 4 * s  (+ P * 4 master copy when b < 4)
    activations = batch * sequence * a * b      (sequence = 1 when not given)
    total       = weights + gradients + optimizer + activations + workspace

with P parameters, b bytes per value of the precision, s optimizer states per parameter
(sgd with momentum 1, adam 2, kept in fp32) and a the activation values held per sample
(per token when a sequence is given) at the peak.

>>> e = estimate_memory(1e9, precision="bf16", optimizer="adam")
>>> e.total / 1e9          # 2 + 2 + 8 + 4 bytes per parameter: mixed-precision Adam
16.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import ProblemError
from .units import parse_quantity

PRECISION_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2, "int8": 1}
OPTIMIZER_STATES = {"none": 0, "sgd": 1, "adam": 2}
MODEL_KEYS = ("parameters", "precision", "optimizer", "batch", "sequence",
              "activations_per_sample", "workspace")


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak bytes on one device, by part."""

    weights: float
    gradients: float
    optimizer_state: float
    activations: float
    workspace: float = 0.0

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer_state + self.activations \
            + self.workspace

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "total": self.total}


def _number(value: Any, name: str, path: str | None, *, integer: bool = False,
            minimum: float = 0.0) -> float:
    where = f"{path}.{name}" if path else name
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProblemError(f"must be a finite number, got {value!r}", where)
    if integer and int(value) != value:
        raise ProblemError(f"must be a whole number, got {value!r}", where)
    if value < minimum:
        raise ProblemError(f"must be at least {minimum:g}, got {value!r}", where)
    return float(value)


def estimate_memory(parameters: float, *, precision: str = "fp32", optimizer: str = "none",
                    batch: int = 1, sequence: int | None = None,
                    activations_per_sample: float = 0.0, workspace: float = 0.0,
                    path: str | None = None) -> MemoryEstimate:
    """Peak bytes of a model on one device; see the module docstring for the formula.

    Bad arguments raise :class:`~allocator.errors.ProblemError` naming the argument.

    >>> estimate_memory(1000, optimizer="adam", batch=8, activations_per_sample=10).as_dict()
    {'weights': 4000.0, 'gradients': 4000.0, 'optimizer_state': 8000.0, 'activations': 320.0, 'workspace': 0.0, 'total': 16320.0}
    """
    P = _number(parameters, "parameters", path)
    if precision not in PRECISION_BYTES:
        raise ProblemError(f"precision {precision!r} is not one of "
                           f"{', '.join(PRECISION_BYTES)}", f"{path}.precision" if path else "precision")
    if optimizer not in OPTIMIZER_STATES:
        raise ProblemError(f"optimizer {optimizer!r} is not one of "
                           f"{', '.join(OPTIMIZER_STATES)}", f"{path}.optimizer" if path else "optimizer")
    if precision == "int8" and optimizer != "none":
        raise ProblemError("int8 is an inference precision: training (optimizer "
                           f"{optimizer!r}) needs fp32, bf16 or fp16",
                           f"{path}.precision" if path else "precision")
    B = _number(batch, "batch", path, integer=True, minimum=1)
    S = 1.0 if sequence is None else _number(sequence, "sequence", path, integer=True, minimum=1)
    A = _number(activations_per_sample, "activations_per_sample", path)
    W = _number(workspace, "workspace", path)
    b = PRECISION_BYTES[precision]
    training = optimizer != "none"
    master = 4.0 * P if training and b < 4 else 0.0
    return MemoryEstimate(weights=P * b, gradients=P * b if training else 0.0,
                          optimizer_state=P * 4.0 * OPTIMIZER_STATES[optimizer] + master,
                          activations=B * S * A * b, workspace=W)


def estimate_from_dict(doc: Mapping[str, Any], path: str | None = None) -> MemoryEstimate:
    """``estimate_memory`` from a task's ``model:`` block; unknown keys are errors."""
    if not isinstance(doc, Mapping):
        raise ProblemError(f"must be a mapping with keys {', '.join(MODEL_KEYS)}, got {doc!r}",
                           path)
    for key in doc:
        if key not in MODEL_KEYS:
            raise ProblemError(f"unknown key {key!r} in the model description "
                               f"(allowed: {', '.join(MODEL_KEYS)})",
                               f"{path}.{key}" if path else str(key))
    if doc.get("parameters") is None:
        raise ProblemError("missing required key 'parameters' in the model description", path)
    kwargs = {k: v for k, v in doc.items() if v is not None}
    if "workspace" in kwargs:
        kwargs["workspace"] = parse_quantity(kwargs["workspace"], "bytes",
                                             f"{path}.workspace" if path else "workspace",
                                             allow_zero=True)
    return estimate_memory(path=path, **kwargs)
