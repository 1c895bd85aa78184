"""The torch code of the built-in workloads (described in :mod:`allocator.domain.workloads`),
and running any registered workload on a device. Torch is imported only when one runs.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..domain.workloads import split


def runner_of(run: Callable[..., Any] | str) -> Callable[..., Any]:
    """The function behind a workload's ``run``: itself, or imported when it is a reference
    (``"package.module:function"``)."""
    if callable(run):
        return run
    module, _, name = run.partition(":")
    return getattr(importlib.import_module(module), name)


def run_workload(block: Mapping[str, Any], device, *, steps: int | None = None) -> None:
    """Run a normalised block on ``device``; ``steps`` overrides its repetition count."""
    w, params, seed = split(block)
    if steps is not None and w.steps is not None:
        params[w.steps] = steps
    runner_of(w.run)(device, params, seed)


def warm_up(devices) -> float:
    """Pay torch's one-off start-up costs (the optimizer module's first import takes about a
    second, CUDA its context) before the clock starts; returns the seconds spent."""
    import torch
    t0 = time.perf_counter()
    for name in sorted(devices):
        device = torch.device(name)
        w = torch.nn.Parameter(torch.ones(8, 8, device=device))
        opt = torch.optim.Adam([w])
        (w @ w).sum().backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return time.perf_counter() - t0




# -- the built-in workloads -----------------------------------------------------------------

def _torch():
    import torch
    return torch


def _dtype(name: str):
    torch = _torch()
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def _generator(device, seed: int):
    torch = _torch()
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g


def _init(module, g) -> None:
    """Re-initialise parameters from the seeded generator (module init uses the global RNG)."""
    torch = _torch()
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.02, generator=g)


def _optimizer(name: str, params):
    torch = _torch()
    if name == "sgd":
        return torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    return torch.optim.Adam(params, lr=1e-4)


def _train(model, opt, inputs, loss_fn, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs))
        loss.backward()
        opt.step()


def matmul(device, p, seed):
    torch = _torch()
    g, dt, n = _generator(device, seed), _dtype(p["dtype"]), p["n"]
    a = torch.randn(n, n, generator=g, device=device, dtype=dt)
    b = torch.randn(n, n, generator=g, device=device, dtype=dt)
    c = torch.empty(n, n, device=device, dtype=dt)
    for _ in range(p["iterations"]):
        torch.matmul(a, b, out=c)


def mlp_train(device, p, seed):
    torch = _torch()
    nn = torch.nn
    g, w = _generator(device, seed), p["width"]
    layers = []
    for _ in range(p["depth"]):
        layers += [nn.Linear(w, w, device=device), nn.ReLU()]
    model = nn.Sequential(*layers)
    _init(model, g)
    x = torch.randn(p["batch"], w, generator=g, device=device)
    y = torch.randn(p["batch"], w, generator=g, device=device)
    _train(model, _optimizer(p["optimizer"], model.parameters()), x,
           lambda out: nn.functional.mse_loss(out, y), p["steps"])


def conv_train(device, p, seed):
    torch = _torch()
    nn = torch.nn
    g, c, s = _generator(device, seed), p["channels"], p["image"]
    layers, cin = [], 3
    for _ in range(p["layers"]):
        layers += [nn.Conv2d(cin, c, 3, padding=1, device=device), nn.ReLU()]
        cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10, device=device)]
    model = nn.Sequential(*layers)
    _init(model, g)
    x = torch.randn(p["batch"], 3, s, s, generator=g, device=device)
    y = torch.randint(0, 10, (p["batch"],), generator=g, device=device)
    _train(model, _optimizer(p["optimizer"], model.parameters()), x,
           lambda out: nn.functional.cross_entropy(out, y), p["steps"])


def _encoder(device, p, dtype=None):
    torch = _torch()
    nn = torch.nn
    d = p["d_model"]
    layer = nn.TransformerEncoderLayer(d, p["heads"], dim_feedforward=4 * d, dropout=0.0,
                                       batch_first=True, device=device, dtype=dtype)
    return nn.TransformerEncoder(layer, p["layers"], enable_nested_tensor=False)


def transformer_train(device, p, seed):
    torch = _torch()
    g = _generator(device, seed)
    model = _encoder(device, p)
    _init(model, g)
    x = torch.randn(p["batch"], p["sequence"], p["d_model"], generator=g, device=device)
    _train(model, _optimizer(p["optimizer"], model.parameters()), x,
           lambda out: out.pow(2).mean(), p["steps"])


def transformer_infer(device, p, seed):
    torch = _torch()
    g, dt = _generator(device, seed), _dtype(p["dtype"])
    model = _encoder(device, p, dtype=dt).eval()
    _init(model, g)
    x = torch.randn(p["batch"], p["sequence"], p["d_model"], generator=g, device=device,
                    dtype=dt)
    with torch.inference_mode():
        for _ in range(p["steps"]):
            model(x)


def _bytes(dtype: str) -> int:
    return {"fp32": 4, "bf16": 2, "fp16": 2}[dtype]
