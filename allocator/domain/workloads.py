"""Workloads: real torch work that a task may run, each knowing its FLOP and memory analytically.

A task chooses one with a ``workload:`` block in YAML (``{name: mlp_train, width: 512}``);
parameters left out take the defaults below. Nothing is downloaded: data and weights are
random, from a generator seeded by the block's ``seed`` (default 0).

==================== ==================================================================
``matmul``            ``n`` × ``n`` matrix product, ``iterations`` times, in ``dtype``
``mlp_train``         ``depth`` Linear+ReLU layers of ``width``; MSE; ``steps`` of sgd/adam
``conv_train``        ``layers`` 3×3 convolutions of ``channels`` on ``image``² RGB inputs
``transformer_train`` ``layers`` encoder layers (``d_model``, ``heads``, FFN 4·d_model)
``transformer_infer`` the same encoder, forward only, without gradients
==================== ==================================================================

FLOP counts are those of the matrix products (and convolutions), forward and backward,
exactly; element-wise work, normalisation and the optimizer step are left out. Register
your own with :func:`register_workload`.

This module only describes them: their parameters, FLOP and memory model. The torch code
that runs them is :mod:`allocator.executor.workloads`, named here by reference
(``run='allocator.executor.workloads:matmul'``), so planning never imports torch.
"""


from __future__ import annotations


from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProblemError

DTYPES = ("fp32", "bf16", "fp16")
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Workload:
    """A registered workload.

    ``run(device, params, seed)`` does the work on a ``torch.device`` (a function, or where
    to import it from: ``"package.module:function"``); ``flop(params)`` and
    ``model(params)`` (keyword arguments of :func:`~allocator.estimate_memory`) describe it
    and may be ``None`` for user workloads; ``steps`` names the parameter that counts
    repetitions, which the profiler shortens.
    """

    name: str
    run: Callable[[Any, dict, int], None] | str
    params: Mapping[str, Any] = field(default_factory=dict)     # name -> default
    flop: Callable[[Mapping[str, Any]], float] | None = None
    model: Callable[[Mapping[str, Any]], dict] | None = None
    steps: str | None = None
    doc: str = ""
    strict: bool = True              # unknown parameters are errors

    def defaults(self, params: Mapping[str, Any]) -> dict:
        return {**self.params, **params}


WORKLOADS: dict[str, Workload] = {}
BUILTIN = ("matmul", "mlp_train", "conv_train", "transformer_train", "transformer_infer")


def register_workload(name: str, fn: Callable[..., Any], *, params: Mapping[str, Any] | None = None,
                      flop: float | Callable[[Mapping[str, Any]], float] | None = None,
                      memory: float | None = None, steps: str | None = None,
                      replace: bool = False) -> Workload:
    """Register ``fn(device, **params)`` as workload ``name``.

    ``params`` gives the accepted parameters with their defaults (others are errors; leave it
    out to accept any); ``flop`` the work done, a number or a function of the parameters, so
    runs yield a measured throughput; ``memory`` its peak bytes, used when a task gives none.

    >>> w = register_workload("noop", lambda device, **p: None, flop=1e6, replace=True)
    >>> w.flop({})
    1000000.0
    """
    if not isinstance(name, str) or not name:
        raise ValueError("a workload needs a non-empty name")
    if name in BUILTIN:
        raise ValueError(f"{name!r} is a built-in workload; choose another name")
    if name in WORKLOADS and not replace:
        raise ValueError(f"workload {name!r} is already registered; pass replace=True")
    flop_fn = flop if callable(flop) or flop is None else (lambda _p, v=float(flop): v)
    model_fn = None if memory is None else (lambda _p, m=float(memory): {"parameters": 0,
                                                                        "workspace": m})
    w = Workload(name=name, run=_KeywordCall(fn),
                 params=dict(params or {}), flop=flop_fn, model=model_fn, steps=steps,
                 doc=(fn.__doc__ or "").strip(), strict=params is not None)
    WORKLOADS[name] = w
    return w


class _KeywordCall:
    """``fn(device, **params)`` as a workload's ``run``; a class, not a lambda, so that it
    reaches a worker process whenever ``fn`` itself can (a top-level function)."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn

    def __call__(self, device, params: Mapping[str, Any], seed: int) -> None:
        self.fn(device, **params)


def normalise(doc: Any, path: str) -> dict:
    """Check a task's ``workload:`` block and fill in defaults; errors name the key."""
    if isinstance(doc, str):
        doc = {"name": doc}
    if not isinstance(doc, Mapping):
        raise ProblemError(f"must be a mapping such as {{name: matmul, n: 1024}}, got {doc!r}",
                           path)
    name = doc.get("name")
    if name not in WORKLOADS:
        import difflib
        close = difflib.get_close_matches(str(name), list(WORKLOADS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ProblemError(f"unknown workload {name!r}{hint} (known: {', '.join(WORKLOADS)})",
                           f"{path}.name")
    w = WORKLOADS[name]
    out = {"name": name, "seed": 0}
    for key, value in doc.items():
        if key == "name":
            continue
        sub = f"{path}.{key}"
        if key == "seed":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ProblemError(f"must be a non-negative whole number, got {value!r}", sub)
            out["seed"] = value
            continue
        if w.strict and key not in w.params:
            raise ProblemError(f"workload {name!r} has no parameter {key!r} "
                               f"(parameters: {', '.join(['seed', *w.params])})", sub)
        default = w.params.get(key)
        if key == "dtype":
            if value not in DTYPES:
                raise ProblemError(f"dtype {value!r} is not one of {', '.join(DTYPES)}", sub)
        elif key == "optimizer":
            if value not in OPTIMIZERS:
                raise ProblemError(f"optimizer {value!r} is not one of {', '.join(OPTIMIZERS)}",
                                   sub)
        elif w.name in BUILTIN and isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ProblemError(f"must be a whole number ≥ 1, got {value!r}", sub)
        elif not isinstance(value, (str, int, float, bool)):
            raise ProblemError(f"must be a number or a string, got {value!r}", sub)
        out[key] = value
    if name == "transformer_train" or name == "transformer_infer":
        d, h = out.get("d_model", w.params["d_model"]), out.get("heads", w.params["heads"])
        if d % h:
            raise ProblemError(f"d_model {d} is not divisible by heads {h}", f"{path}.heads")
    return out


def split(block: Mapping[str, Any]) -> tuple[Workload, dict, int]:
    """``(workload, parameters with defaults, seed)`` of a normalised block."""
    w = WORKLOADS[block["name"]]
    params = w.defaults({k: v for k, v in block.items() if k not in ("name", "seed")})
    return w, params, int(block.get("seed", 0))


def workload_flop(block: Mapping[str, Any]) -> float | None:
    w, params, _ = split(block)
    return None if w.flop is None else float(w.flop(params))


def workload_model(block: Mapping[str, Any]) -> dict | None:
    w, params, _ = split(block)
    return None if w.model is None else w.model(params)


# FLOP: forward 2·m·n·k per product; backward twice that, except the input gradient of the
# first layer, which nobody needs (inputs do not require grad).
def _mlp_flop(p):
    return 2.0 * p["batch"] * p["width"] ** 2 * (3 * p["depth"] - 1) * p["steps"]


def _mlp_params(p):
    return p["depth"] * (p["width"] ** 2 + p["width"])


def _conv_flop(p):
    hw, c, L = p["image"] ** 2, p["channels"], p["layers"]
    first = 2.0 * 3 * c * 9 * hw
    rest = 2.0 * c * c * 9 * hw * (L - 1)
    head = 2.0 * c * 10
    return p["batch"] * p["steps"] * (2 * first + 3 * rest + 3 * head)


def _conv_params(p):
    c, L = p["channels"], p["layers"]
    return 3 * c * 9 + c + (L - 1) * (c * c * 9 + c) + 10 * c + 10


def _encoder_flop_forward(p):           # per token
    d, s = p["d_model"], p["sequence"]
    return p["layers"] * (24.0 * d * d + 4.0 * s * d)


def _encoder_params(p):
    d = p["d_model"]
    return p["layers"] * (12 * d * d + 13 * d)


def _backward_workspace(values: int) -> int:
    """Backward holds two activation gradients of the widest layer at once: the one coming in
    and the one going out (fp32)."""
    return 2 * 4 * values


_RUN = "allocator.executor.workloads:"        # where the torch code of the built-ins lives


def _builtin(name, run, params, flop, model, steps, doc):
    WORKLOADS[name] = Workload(name=name, run=run, params=params, flop=flop, model=model,
                               steps=steps, doc=doc)


_builtin("matmul", _RUN + "matmul", {"n": 1024, "dtype": "fp32", "iterations": 10},
         lambda p: 2.0 * p["n"] ** 3 * p["iterations"],
         lambda p: {"parameters": 2 * p["n"] ** 2, "precision": p["dtype"],
                    "activations_per_sample": p["n"] ** 2},
         "iterations", "n×n matrix product, repeated")
_builtin("mlp_train", _RUN + "mlp_train",
         {"width": 512, "depth": 4, "batch": 64, "steps": 10, "optimizer": "adam"},
         _mlp_flop,
         # saved per sample: each Linear's input and each ReLU's output, plus input and target
         lambda p: {"parameters": _mlp_params(p), "optimizer": p["optimizer"],
                    "batch": p["batch"],
                    "activations_per_sample": (2 * p["depth"] + 2) * p["width"],
                    "workspace": _backward_workspace(p["batch"] * p["width"])},
         "steps", "MLP training")
_builtin("conv_train", _RUN + "conv_train",
         {"channels": 32, "image": 64, "layers": 3, "batch": 16, "steps": 5,
          "optimizer": "adam"},
         _conv_flop,
         # saved per sample: the input and each ReLU output (the next convolution's input)
         lambda p: {"parameters": _conv_params(p), "optimizer": p["optimizer"],
                    "batch": p["batch"],
                    "activations_per_sample": (3 + p["layers"] * p["channels"]) * p["image"] ** 2,
                    "workspace": _backward_workspace(p["batch"] * p["channels"] * p["image"] ** 2)},
         "steps", "CNN training")
_builtin("transformer_train", _RUN + "transformer_train",
         {"d_model": 256, "layers": 2, "heads": 4, "sequence": 128, "batch": 8, "steps": 5,
          "optimizer": "adam"},
         lambda p: p["steps"] * p["batch"] * p["sequence"]
         * (3 * _encoder_flop_forward(p) - 6.0 * p["d_model"] ** 2),
         # saved per token and layer: x, q, k, v, attention output, two norm inputs and an
         # output (8·d), the FFN hidden (4·d) and a row of attention weights per head
         lambda p: {"parameters": _encoder_params(p), "optimizer": p["optimizer"],
                    "batch": p["batch"], "sequence": p["sequence"],
                    "activations_per_sample": p["layers"] * (12 * p["d_model"]
                                                             + p["heads"] * p["sequence"])
                    + p["d_model"],
                    "workspace": _backward_workspace(4 * p["batch"] * p["sequence"] * p["d_model"])},
         "steps", "Transformer encoder training")
_builtin("transformer_infer", _RUN + "transformer_infer",
         {"d_model": 256, "layers": 2, "heads": 4, "sequence": 128, "batch": 8, "steps": 5,
          "dtype": "fp32"},
         lambda p: p["steps"] * p["batch"] * p["sequence"] * _encoder_flop_forward(p),
         # nothing is kept between layers: the peak is one layer's working set per token,
         # input and output (2·d), q, k, v (3·d) and FFN hidden (4·d); fused attention does
         # not materialise the attention weights
         lambda p: {"parameters": _encoder_params(p), "precision": p["dtype"],
                    "batch": p["batch"], "sequence": p["sequence"],
                    "activations_per_sample": 9 * p["d_model"]},
         "steps", "Transformer encoder inference")
