"""Domain types: device pools, tasks and the problem that joins them.

Everything here is immutable after construction and holds SI floats (bytes, FLOP, FLOP/s,
seconds). Build problems with :func:`allocator.load` (YAML file or dict), which validates the
input and parses the units; the constructors below trust their arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Mapping, NamedTuple

import numpy as np

from .jobs import Job

KINDS = ("cpu", "gpu", "tpu", "other")
# The objectives themselves are allocator.objectives (a registry); the domain knows only
# the name a problem asks for.
MEASURES = ("max_load", "inverse_sum")
SENSES = ("min", "max")
# What a pool's torch_device may say: cpu, cuda, cuda:N, or auto (a free GPU, else the CPU).
TORCH_DEVICE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


@dataclass(frozen=True)
class Pool:
    """A set of ``count`` identical devices. Device ``k`` of pool ``name`` is ``name[k]``."""

    name: str
    kind: str
    count: int
    memory: float          # bytes per device
    throughput: float      # sustained FLOP/s per device
    cost_per_hour: float | None = None
    torch_device: str | None = None
    horizon: float | None = None       # seconds each device of this pool is available
    resources: Mapping[str, float] = field(default_factory=dict)   # more, by name, per device
    # A pool of cluster nodes (``nodes:`` in a problem file): each device is a node with
    # ``memory`` bytes of host memory, ``cpu`` cores and ``gpus`` GPUs of one model.
    cpu: float | None = None           # cores per node
    gpus: int = 0                      # GPUs per node
    gpu_model: str | None = None
    gpu_memory: float | None = None    # bytes per GPU
    node_names: tuple[str, ...] | None = None     # one per node; default name[k]

    def device_names(self) -> list[str]:
        if self.node_names is not None:
            return list(self.node_names)
        return [f"{self.name}[{k}]" for k in range(self.count)]

    @property
    def capacity(self) -> dict[str, float]:
        """What one device offers, as a resource vector: memory and throughput are two of its
        entries; a node's cores and GPUs two more; ``resources`` the others, by name."""
        node = {} if self.cpu is None else {"cpu": self.cpu, "gpus": float(self.gpus)}
        return {"memory": self.memory, "throughput": self.throughput, **node, **self.resources}


@dataclass(frozen=True)
class Task:
    """One unit of work. ``compute`` in FLOP, ``memory`` in peak bytes on one device."""

    name: str
    compute: float | None = None
    memory: float | None = None
    weight: float = 1.0
    priority: int = 0
    deadline: float | None = None                  # seconds from time 0
    allowed_kinds: tuple[str, ...] | None = None
    allowed_pools: tuple[str, ...] | None = None
    demand: Mapping[str, float] = field(default_factory=dict)  # kind -> device-seconds
    workload: Mapping | None = None     # what the executor runs: {name: matmul, n: 1024, ...}
    model: Mapping | None = None        # model description the memory was estimated from
    job: Job | None = None              # a user's command or callable (allocator.domain.jobs)
    timeout: float | None = None        # seconds one attempt may run
    # What the next models need; today every task asks for one device, from time 0, and
    # nothing beyond compute and memory (the solver refuses anything else: domain.checks).
    requests: Mapping[str, float] = field(default_factory=dict)   # more, by name, per device
    devices: int = 1                    # devices it holds at once (a gang when more than 1)
    release: float = 0.0                # seconds from time 0 before which it may not start
    # On a cluster of nodes: cores, and either whole GPUs of its node (a gang on one node when
    # more than one) or a share of one GPU; the GPU models it accepts; its QoS class.
    cpu: float | None = None
    gpus: int = 0
    gpu_share: float | None = None      # fraction of one GPU, 0 < share < 1
    gpu_models: tuple[str, ...] | None = None
    qos: str | None = None

    @property
    def needs(self) -> dict[str, float]:
        """What it asks of each device it runs on, as a resource vector: compute and memory
        are two of its entries (where known), a node's cores and GPUs two more (a share of
        one GPU counts as that fraction), ``requests`` the others."""
        known = {"compute": self.compute, "memory": self.memory, "cpu": self.cpu,
                 "gpus": self.gpu_demand or None}
        return {**{k: v for k, v in known.items() if v is not None}, **self.requests}

    @property
    def gpu_demand(self) -> float:
        """GPUs it takes: its whole GPUs, or its share of one."""
        return self.gpu_share if self.gpu_share is not None else float(self.gpus)


class NodeRequests(NamedTuple):
    """Resource ``names``; ``need[i, r]`` of task i and ``offer[p, r]`` of one node of pool p."""

    names: tuple[str, ...]
    need: np.ndarray
    offer: np.ndarray


@dataclass(frozen=True)
class SharedPair:
    """Two tasks that may share the same devices of ``pool`` (space sharing, for the online
    runs): while they do, each runs at its own throughput per device, ``throughput[0]`` the
    first task's. Both hold the same number of devices."""

    tasks: tuple[str, str]
    pool: str
    throughput: tuple[float, float]


@dataclass(frozen=True)
class Problem:
    """A validated allocation problem.

    ``throughput`` holds per-task, per-pool overrides of the pool's throughput
    (``{task: {pool: FLOP/s or None}}``; ``None`` forbids the pair). ``time`` overrides the
    processing time itself (``{task: {pool: seconds or None}}``) and ``cost`` the price of
    running a task on one device of a pool (``{task: {pool: price}}``, instead of
    ``cost_per_hour`` x hours). ``sense`` is ``max`` to maximise the ``cost`` objective (a table
    of profits, as in the maximisation form of generalized assignment).
    """

    name: str
    pools: tuple[Pool, ...]
    tasks: tuple[Task, ...]
    objective: str = "makespan"
    horizon: float | None = None                   # seconds each device is available
    throughput: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    description: str | None = None
    measure: str = "max_load"                      # load_balance: max_load | inverse_sum
    time: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    cost: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    sense: str = "min"                             # cost objective: min | max
    sharing: tuple[SharedPair, ...] = ()           # space sharing (online runs only)

    def restricted(self, name: str, tasks: tuple[Task, ...], pools: tuple[Pool, ...],
                   origin: Mapping[str, str], horizon: float | None) -> "Problem":
        """This problem over ``tasks`` and ``pools``, where pool ``q`` stands for pool
        ``origin[q]`` of this one: the throughput, time and cost tables follow the pools (a
        sub-problem of a decomposition, or of a re-plan)."""
        usable = {t.name: [q.name for q in pools
                           if t.allowed_pools is None or q.name in t.allowed_pools]
                  for t in tasks}                       # a task's entries for its pools only

        def table(source: Mapping[str, Mapping[str, float | None]]) -> dict:
            out = {t: {q: row[origin[q]] for q in usable[t] if origin[q] in row}
                   for t, row in source.items() if t in usable}
            return {t: row for t, row in out.items() if row}
        # space sharing is for online runs, which plan the whole problem: not carried over
        return replace(self, name=name, pools=pools, tasks=tasks, horizon=horizon, sharing=(),
                       throughput=table(self.throughput), time=table(self.time),
                       cost=table(self.cost))

    @property
    def on_nodes(self) -> bool:
        """A cluster of nodes (``nodes:`` in its file): its pools state cores."""
        return any(p.cpu is not None for p in self.pools)

    # -- names and indices -------------------------------------------------------------
    @cached_property
    def task_index(self) -> dict[str, int]:
        return {t.name: i for i, t in enumerate(self.tasks)}

    @cached_property
    def pool_index(self) -> dict[str, int]:
        return {p.name: j for j, p in enumerate(self.pools)}

    @cached_property
    def devices(self) -> tuple[str, ...]:
        """All device names, pool by pool: ``('h100[0]', 'h100[1]', 'a100[0]', ...)``."""
        return tuple(d for p in self.pools for d in p.device_names())

    @cached_property
    def device_pool(self) -> np.ndarray:
        """Pool index of each device."""
        return np.repeat(np.arange(len(self.pools)), [p.count for p in self.pools])

    @cached_property
    def device_index(self) -> dict[str, int]:
        return {d: k for k, d in enumerate(self.devices)}

    def pool_index_of(self, device: str) -> int:
        """Index in ``pools`` (and column of ``rate``, ``eligible``, ``ptime``) of a device."""
        return int(self.device_pool[self.device_index[device]])

    def pool_of(self, device: str) -> Pool:
        """The pool of a device: ``pool_of('h100[3]')`` is the pool named ``h100``."""
        return self.pools[self.pool_index_of(device)]

    # -- speeds and eligibility (task x pool) -------------------------------------------
    @cached_property
    def rate(self) -> np.ndarray:
        """Throughput (FLOP/s) of task i on one device of pool p; 0 where forbidden."""
        r = np.tile(np.array([p.throughput for p in self.pools], dtype=float), (len(self.tasks), 1))
        for task_name, row in self.throughput.items():
            i = self.task_index[task_name]
            for pool_name, value in row.items():
                r[i, self.pool_index[pool_name]] = 0.0 if value is None else value
        return r

    @cached_property
    def allowed(self) -> np.ndarray:
        """``allowed[i, p]``: the task's memory fits pool p and its kinds and pools allow it."""
        mem = np.array([t.memory or 0.0 for t in self.tasks])[:, None]
        cap = np.array([p.memory for p in self.pools])[None, :]
        ok = mem <= cap
        kinds = np.array([p.kind for p in self.pools])
        names = np.array([p.name for p in self.pools])
        masks: dict[tuple[str, ...], np.ndarray] = {}    # tasks share a handful of lists
        for i, t in enumerate(self.tasks):
            if t.allowed_kinds is not None:
                if t.allowed_kinds not in masks:
                    masks[t.allowed_kinds] = np.isin(kinds, t.allowed_kinds)
                ok[i] &= masks[t.allowed_kinds]
            if t.allowed_pools is not None:
                ok[i] &= np.isin(names, t.allowed_pools)
        if any(p.cpu is not None or p.resources for p in self.pools) or \
                any(t.cpu is not None or t.requests or t.gpu_demand for t in self.tasks):
            ok &= self._node_fits()
        return ok

    @cached_property
    def node_requests(self) -> NodeRequests:
        """The resources a node offers and a task asks of it, as matrices: cores, host memory,
        then each named request (a resource not stated counts as 0)."""
        names = ("cpu", "memory") + tuple(sorted({r for t in self.tasks for r in t.requests}))
        need = np.array([[t.cpu or 0.0, t.memory or 0.0] + [t.requests.get(r, 0.0)
                                                             for r in names[2:]]
                         for t in self.tasks]).reshape(len(self.tasks), len(names))
        offer = np.array([[p.cpu or 0.0, p.memory] + [p.resources.get(r, 0.0)
                                                      for r in names[2:]]
                          for p in self.pools]).reshape(len(self.pools), len(names))
        return NodeRequests(names, need, offer)

    @property
    def gpu_count(self) -> int:
        """GPUs in the whole cluster (0 for pools of devices)."""
        return sum(p.count * p.gpus for p in self.pools)

    def _node_fits(self) -> np.ndarray:
        """``[i, p]``: one node of pool p holds task i on its own: cores, memory, named
        resources, whole GPUs or a GPU to share, of a model the task accepts. (A pool that
        does not state a resource offers none of it.)"""
        r = self.node_requests
        ok = np.all(r.need[:, None, :] <= r.offer[None, :, :], axis=2)
        gpus = np.array([p.gpus for p in self.pools])
        models = np.array([p.gpu_model or "" for p in self.pools])
        for i, t in enumerate(self.tasks):
            if t.gpu_demand:
                ok[i] &= gpus >= max(t.gpus, 1)
                if t.gpu_models is not None:
                    ok[i] &= np.isin(models, t.gpu_models)
        return ok

    @cached_property
    def raw_ptime(self) -> np.ndarray:
        """compute / rate, replaced by the ``time`` overrides; inf where forbidden, NaN where
        the task has neither a compute nor a time for the pool."""
        compute = np.array([t.compute if t.compute is not None else np.nan for t in self.tasks])
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(self.rate > 0, compute[:, None] / self.rate, np.inf)
        for task_name, row in self.time.items():
            i = self.task_index[task_name]
            for pool_name, value in row.items():
                p[i, self.pool_index[pool_name]] = np.inf if value is None else value
        return p

    @cached_property
    def eligible(self) -> np.ndarray:
        """``eligible[i, p]``: task i may run on a device of pool p (memory, kind, pool, speed)."""
        return self.allowed & np.isfinite(self.raw_ptime)

    @cached_property
    def ptime(self) -> np.ndarray:
        """Processing time (s) of task i on one device of pool p; ``inf`` where ineligible."""
        return np.where(self.eligible, self.raw_ptime, np.inf)

    @cached_property
    def price(self) -> np.ndarray:
        """Price of task i on one device of pool p: the ``cost`` override, else
        ``cost_per_hour`` x hours; NaN where neither is known, inf where ineligible."""
        hourly = np.array([p.cost_per_hour if p.cost_per_hour is not None else np.nan
                           for p in self.pools])
        with np.errstate(invalid="ignore"):
            c = np.where(self.eligible, hourly[None, :] * self.ptime / 3600.0, np.inf)
        for task_name, row in self.cost.items():
            i = self.task_index[task_name]
            for pool_name, value in row.items():
                j = self.pool_index[pool_name]
                if self.eligible[i, j]:
                    c[i, j] = value
        return c

    @cached_property
    def pool_horizon(self) -> np.ndarray:
        """Seconds each device of pool p is available: the pool's horizon, else the problem's,
        else inf."""
        default = self.horizon if self.horizon is not None else np.inf
        return np.array([p.horizon if p.horizon is not None else default for p in self.pools],
                        dtype=float)

    @cached_property
    def device_horizon(self) -> np.ndarray:
        """:attr:`pool_horizon` per device."""
        return self.pool_horizon[self.device_pool]

    # -- capacities over the horizons (the amount-based objectives) ----------------------
    @cached_property
    def fleet_flop(self) -> float:
        """FLOP the whole fleet performs, each pool over its own horizon (inf without one)."""
        return float(sum(p.count * p.throughput * h for p, h in zip(self.pools, self.pool_horizon)))

    @cached_property
    def fleet_memory(self) -> float:
        """Bytes of device memory in the whole fleet."""
        return float(sum(p.count * p.memory for p in self.pools))

    def kind_device_seconds(self, kind: str) -> float:
        """Device-seconds the devices of ``kind`` offer, each pool over its own horizon."""
        return float(sum(p.count * h for p, h in zip(self.pools, self.pool_horizon)
                         if p.kind == kind))

    @property
    def has_horizon(self) -> bool:
        """Some device has a finite horizon."""
        return bool(np.isfinite(self.pool_horizon).any())
