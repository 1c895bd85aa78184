"""Profile: run each distinct workload briefly on each pool's torch device and measure it.

The result is a copy of the problem whose throughput matrix holds the measured FLOP/s of
every (task, pool) pair and whose task memory is the measured peak, so that solving it plans
with real speeds — the loop Gavel closes with its throughput estimates, done by measurement.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from dataclasses import dataclass

from ..problem import Problem
from .devices import resolve_devices
from .memory import PeakMemory, estimate_memory
from .workloads import warm_up
from .workloads import run_workload, split, workload_flop, workload_model


@dataclass(frozen=True)
class Measurement:
    workload: str                 # the workload block, e.g. "mlp_train width=256 steps=5"
    torch_device: str
    seconds: float
    flop: float | None
    throughput: float | None      # FLOP/s
    peak_memory: float
    estimated_memory: float | None

    @property
    def memory_error(self) -> float | None:
        """Estimate / measured - 1 (positive: the estimate is on the safe side)."""
        if self.estimated_memory is None or not self.peak_memory:
            return None
        return self.estimated_memory / self.peak_memory - 1.0


@dataclass(frozen=True)
class Profile:
    problem: Problem                          # the profiled copy
    measurements: tuple[Measurement, ...]
    skipped: dict                             # pool -> why it was not measured


def _key(block) -> str:
    return json.dumps({k: v for k, v in block.items() if k != "seed"}, sort_keys=True)


def label(block) -> str:
    """``mlp_train width=256 steps=5``: a workload block in a table."""
    return " ".join([block["name"], *(f"{k}={v}" for k, v in block.items()
                                      if k not in ("name", "seed"))])


def measure(block, device_name: str, *, steps: int | None = 3, warmup: int = 1,
            concurrency: int = 1) -> Measurement:
    """Run ``block`` once shortened to ``warmup`` steps, then time it at ``steps`` steps
    (on CPU, ``concurrency`` copies at once)."""
    import torch
    w, params, _ = split(block)
    timed = dict(block)
    if w.steps is not None and steps is not None:
        timed[w.steps] = steps
    device = torch.device(device_name)
    run_workload(block, device, steps=warmup if w.steps else None)
    if device.type == "cuda":
        with PeakMemory(device) as meter:
            t0 = time.perf_counter()
            run_workload(timed, device)
        seconds = time.perf_counter() - t0
    else:
        # CPU "devices" share the host's cores: time `concurrency` copies at once, as the
        # executor will run them. The tracker's bookkeeping would slow the timed run, so
        # memory is counted apart, over two steps (the optimizer's state appears in the first).
        def timed_run(out: list, k: int) -> None:
            t = time.perf_counter()
            run_workload(timed, device)
            out[k] = time.perf_counter() - t

        spans = [0.0] * concurrency
        threads = [threading.Thread(target=timed_run, args=(spans, k))
                   for k in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = max(spans)
        with PeakMemory(device) as meter:
            run_workload(block, device, steps=2 if w.steps else None)
    peak = meter.peak
    flop = workload_flop(timed)
    model = workload_model(block)
    return Measurement(workload=label(block), torch_device=device_name, seconds=seconds,
                       flop=flop, throughput=None if flop is None else flop / seconds,
                       peak_memory=peak,
                       estimated_memory=None if model is None else estimate_memory(**model).total)


def profile(problem: Problem, *, steps: int = 3, warmup: int = 1, progress: bool = False,
            cuda_devices: int | None = None) -> Profile:
    """Measure every distinct workload on every pool this machine can map, once per torch
    device, and return the problem with measured throughput overrides and memory."""
    mapping, unavailable = resolve_devices(problem, available=cuda_devices)
    pool_device = {p.name: mapping[p.device_names()[0]] for p in problem.pools
                   if p.device_names()[0] in mapping}
    blocks = {}
    for t in problem.tasks:
        if t.workload is not None:
            blocks.setdefault(_key(t.workload), t.workload)
    n_cpu = max(1, sum(v == "cpu" for v in mapping.values()))
    jobs = [(k, dev) for k in blocks for dev in sorted(set(pool_device.values()))]
    warm_up(set(pool_device.values()))
    results: dict[tuple[str, str], Measurement] = {}
    bar = None
    if progress:
        from rich.console import Console
        from rich.progress import Progress
        bar = Progress(console=Console(stderr=True))     # progress on stderr, results on stdout
        bar.start()
        tid = bar.add_task("profiling", total=len(jobs))
    try:
        for key, dev in jobs:
            results[(key, dev)] = measure(blocks[key], dev, steps=steps, warmup=warmup,
                                          concurrency=n_cpu if dev == "cpu" else 1)
            if bar is not None:
                bar.advance(tid)
    finally:
        if bar is not None:
            bar.stop()

    overrides = {name: dict(row) for name, row in problem.throughput.items()}
    tasks = []
    for t in problem.tasks:
        if t.workload is None:
            tasks.append(t)
            continue
        key = _key(t.workload)
        row = overrides.setdefault(t.name, {})
        peaks = []
        for pool, dev in pool_device.items():
            m = results[(key, dev)]
            if m.throughput is not None and row.get(pool, 0.0) is not None:
                row[pool] = m.throughput
            peaks.append(m.peak_memory)
        memory = max(peaks) if peaks and max(peaks) > 0 else t.memory
        tasks.append(dataclasses.replace(t, memory=memory, model=None))
    profiled = dataclasses.replace(problem, tasks=tuple(tasks), throughput=overrides)
    return Profile(problem=profiled, measurements=tuple(results.values()),
                   skipped=dict(unavailable))
