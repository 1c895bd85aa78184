"""Profile: run each distinct workload briefly, and each distinct user's job once, on each
pool's torch device, and measure it.

The result is a copy of the problem that plans with real speeds — the loop Gavel closes with
its throughput estimates, done by measurement:

- a **workload** is timed over a few steps; its (task, pool) throughput becomes the measured
  FLOP/s and its memory the measured peak;
- a **command or callable** runs once, whole, in a process of its own exactly as ``run``
  runs it (same environment, same isolation), bounded by its ``timeout:`` or the profile's
  ``limit``; its (task, pool) ``time`` becomes the measured seconds. A job cannot be cut
  short and scaled up without knowing its steps, so profile a short version of it (fewer
  epochs) and scale the table, or write ``time:`` by hand. Its memory stays as written: the
  peak resident memory of the process is reported, but it is host memory, not the memory of
  the device the task is planned on. A job that fails or runs past its limit is not
  measured; the note says why, and its entries stay as they were.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import threading
import time
from dataclasses import dataclass

from ..domain.problem import Problem, Task
from .devices import resolve_devices
from .inputs import refuse_nodes
from ..domain.memory import estimate_memory
from .memory import PeakMemory
from .logs import Logs
from .processes import DeviceRunner, Order, Placement
from ..domain.workloads import split, workload_flop, workload_model
from .workloads import run_workload, warm_up

JOB_LIMIT_SECONDS = 600.0      # a job without a timeout: how long one profiling run may take


@dataclass(frozen=True)
class Measurement:
    workload: str                 # the workload block ("mlp_train width=256 steps=5") or job
    torch_device: str
    seconds: float
    flop: float | None
    throughput: float | None      # FLOP/s
    peak_memory: float | None     # bytes; a job's is its host process's resident peak
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
            cuda_devices: int | None = None, limit: float = JOB_LIMIT_SECONDS,
            logs: str | None = None) -> Profile:
    """Measure every distinct workload and job on every pool this machine can map, once per
    torch device, and return the problem with the measured throughput, time and memory.

    A job runs only on the pools it may run on; ``limit`` bounds a run of a job without a
    ``timeout:``; its output goes to ``logs`` (default: a new temporary folder, kept)."""
    refuse_nodes(problem, "profiles")
    mapping, unavailable = resolve_devices(problem, available=cuda_devices)
    pool_device = {p.name: mapping[p.device_names()[0]] for p in problem.pools
                   if p.device_names()[0] in mapping}
    skipped = dict(unavailable)
    blocks = {}
    for t in problem.tasks:
        if t.workload is not None:
            blocks.setdefault(_key(t.workload), t.workload)
    n_cpu = max(1, sum(v == "cpu" for v in mapping.values()))
    work = [(k, dev) for k in blocks for dev in sorted(set(pool_device.values()))]
    jobs = _job_runs(problem, pool_device)
    if work:
        warm_up(set(pool_device.values()))
    results: dict[tuple[str, str], Measurement] = {}
    with _Bar(progress, len(work) + len(jobs)) as bar:
        for key, dev in work:
            results[(key, dev)] = measure(blocks[key], dev, steps=steps, warmup=warmup,
                                          concurrency=n_cpu if dev == "cpu" else 1)
            bar.advance()
        folder = Logs(logs or (tempfile.mkdtemp(prefix="allocator-profile-") if jobs else "."))
        runners: dict[str, DeviceRunner] = {}          # one per torch device, for every job
        try:
            for (key, dev), task in jobs.items():
                if dev not in runners:
                    runners[dev] = DeviceRunner(Placement.of(f"profile:{dev}", dev), folder)
                timeout = task.timeout if task.timeout is not None else limit
                found = measure_job(task, runners[dev], timeout=timeout)
                if isinstance(found, Measurement):
                    results[(key, dev)] = found
                else:
                    skipped[f"{task.name}@{dev}"] = f"task {task.name!r} on {dev}: {found}"
                bar.advance()
        finally:
            for runner in runners.values():
                runner.close()

    throughput = {name: dict(row) for name, row in problem.throughput.items()}
    times = {name: dict(row) for name, row in problem.time.items()}
    tasks = []
    for t in problem.tasks:
        if t.workload is not None:
            tasks.append(_with_workload(t, throughput, results, pool_device))
            continue
        if t.job is not None:
            row = times.setdefault(t.name, {})
            for pool, dev in pool_device.items():
                m = results.get((_job_key(t), dev))
                if m is not None and row.get(pool, 0.0) is not None \
                        and problem.allowed[problem.task_index[t.name], problem.pool_index[pool]]:
                    row[pool] = m.seconds
            if not row:
                del times[t.name]
        tasks.append(t)
    profiled = dataclasses.replace(problem, tasks=tuple(tasks), throughput=throughput,
                                   time=times)
    return Profile(problem=profiled, measurements=tuple(results.values()), skipped=skipped)


def _with_workload(t: Task, overrides: dict, results: dict, pool_device: dict) -> Task:
    """A workload task with its measured throughput (into ``overrides``) and memory."""
    key = _key(t.workload)
    row = overrides.setdefault(t.name, {})
    peaks = []
    for pool, dev in pool_device.items():
        m = results[(key, dev)]
        if m.throughput is not None and row.get(pool, 0.0) is not None:
            row[pool] = m.throughput
        peaks.append(m.peak_memory)
    memory = max(peaks) if peaks and max(peaks) > 0 else t.memory
    return dataclasses.replace(t, memory=memory, model=None)


def _job_key(task: Task) -> str:
    return json.dumps(task.job.to_dict(), sort_keys=True, default=str)


def _job_runs(problem: Problem, pool_device: dict) -> dict[tuple[str, str], Task]:
    """``(job, torch device) -> a task that runs it``, for the pools each job may run on
    (its time there is not forbidden), each distinct job once per torch device."""
    runs: dict[tuple[str, str], Task] = {}
    for i, t in enumerate(problem.tasks):
        if t.job is None:
            continue
        forbidden = problem.time.get(t.name, {})
        for pool, dev in pool_device.items():
            j = problem.pool_index[pool]
            if problem.allowed[i, j] and not (pool in forbidden and forbidden[pool] is None) \
                    and problem.rate[i, j] > 0:
                runs.setdefault((_job_key(t), dev), t)
    return runs


def measure_job(task: Task, runner: DeviceRunner, *, timeout: float) -> Measurement | str:
    """Run ``task``'s job once on ``runner``'s device as ``run`` would; its measurement, or
    why there is none."""
    outcome = runner.run(Order.of(task, 1, timeout=timeout))
    if outcome.status != "completed":
        tail = (outcome.stderr_tail or "").strip().splitlines()
        return (f"{outcome.error}"
                + (f" ({tail[-1]})" if tail else "")
                + f"; its output is in {runner.logs.folder}")
    seconds = outcome.end - outcome.start
    flop = task.compute
    return Measurement(workload=task.job.describe(), torch_device=runner.placement.torch_device,
                       seconds=seconds, flop=flop,
                       throughput=None if not flop else flop / seconds,
                       peak_memory=outcome.peak_memory, estimated_memory=None)


class _Bar:
    """A progress bar on stderr (results go to stdout), or nothing."""

    def __init__(self, show: bool, total: int):
        self.bar = None
        if show and total:
            from rich.console import Console
            from rich.progress import Progress
            self.bar = Progress(console=Console(stderr=True))
            self.task = self.bar.add_task("profiling", total=total)

    def __enter__(self) -> "_Bar":
        if self.bar is not None:
            self.bar.start()
        return self

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
