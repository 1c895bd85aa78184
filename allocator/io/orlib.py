"""Generalized-assignment benchmark instances (OR-Library and the Yagiura A–E set) as Problems.

A GAP instance has m agents with capacities ``b[k]`` and n jobs; job j uses ``a[k, j]`` of agent
k's capacity and costs ``c[k, j]`` there. Every job goes to exactly one agent, within capacity,
at least (or most) total cost. It maps onto the allocation model directly:

- agent k → a pool ``agent<k>`` of one device whose ``horizon`` is ``b[k]`` seconds,
- job j → a task ``job<j>`` whose ``time`` on pool k is ``a[k, j]`` seconds and whose ``cost``
  there is ``c[k, j]``,
- the objective is ``cost``, with ``sense`` ``min`` or ``max``.

The instance files are read from where they lie (``../shared/benchmarks`` beside the checkout,
or the folder named by ``ALLOCATOR_BENCHMARKS``); nothing is copied into the project.

>>> inst = GapInstance("toy", cost=[[1, 5], [4, 2]], use=[[3, 3], [3, 3]], capacity=[3, 3])
>>> problem = to_problem(inst, "min")
>>> [p.name for p in problem.pools], problem.pools[0].horizon
(['agent1', 'agent2'], 3.0)
"""

from __future__ import annotations

import csv
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ProblemError
from ..domain.problem import Pool, Problem, Task

__all__ = ["GapInstance", "KnownValue", "assignment_of", "benchmark_root", "instances",
           "known_values", "read_orlib", "read_yagiura", "to_problem"]


@dataclass(frozen=True)
class GapInstance:
    """One instance: ``cost`` and ``use`` are agents x jobs, ``capacity`` per agent."""

    name: str
    cost: np.ndarray
    use: np.ndarray
    capacity: np.ndarray

    def __post_init__(self) -> None:
        for key in ("cost", "use", "capacity"):
            object.__setattr__(self, key, np.asarray(getattr(self, key), dtype=float))
        m, n = self.cost.shape
        if self.use.shape != (m, n) or self.capacity.shape != (m,):
            raise ProblemError(f"GAP instance {self.name!r}: cost {self.cost.shape}, use "
                               f"{self.use.shape} and capacity {self.capacity.shape} disagree")

    @property
    def agents(self) -> int:
        return self.cost.shape[0]

    @property
    def jobs(self) -> int:
        return self.cost.shape[1]

    def value(self, assignment: np.ndarray) -> float:
        """Total cost of giving job j to agent ``assignment[j]``."""
        return float(self.cost[assignment, np.arange(self.jobs)].sum())

    def feasible(self, assignment: np.ndarray) -> bool:
        """Every agent's used capacity within its capacity."""
        used = np.bincount(assignment, weights=self.use[assignment, np.arange(self.jobs)],
                           minlength=self.agents)
        return bool(np.all(used <= self.capacity + 1e-9))


@dataclass(frozen=True)
class KnownValue:
    """A published value: ``optimal`` when proven, else the best known (``lower`` if any)."""

    name: str
    sense: str
    value: float
    optimal: bool
    lower: float | None = None


def benchmark_root() -> Path | None:
    """The shared benchmark folder, or ``None`` where it is absent."""
    env = os.environ.get("ALLOCATOR_BENCHMARKS")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parents[2]          # the repository
    candidates += [here.parent / "shared" / "benchmarks", here / "shared" / "benchmarks"]
    for c in candidates:
        if (c / "orlib-gap").is_dir() or (c / "yagiura-gap").is_dir():
            return c
    return None


def _instance(name: str, tokens: list[int], at: int) -> tuple[GapInstance, int]:
    m, n = tokens[at], tokens[at + 1]
    at += 2
    need = 2 * m * n + m
    if len(tokens) < at + need:
        raise ProblemError(f"GAP instance {name!r} is truncated: {m} agents x {n} jobs need "
                           f"{need} numbers after the sizes, found {len(tokens) - at}")
    body = np.array(tokens[at:at + need], dtype=float)
    cost = body[:m * n].reshape(m, n)
    use = body[m * n:2 * m * n].reshape(m, n)
    capacity = body[2 * m * n:]
    return GapInstance(name, cost, use, capacity), at + need


def _tokens(text: str | bytes, source: str) -> list[int]:
    try:
        return [int(t) for t in text.split()]
    except ValueError as exc:
        raise ProblemError(f"{source}: not a GAP file ({exc})") from None


def read_orlib(path: str | Path, names: list[str] | None = None) -> list[GapInstance]:
    """The problems of one OR-Library file (``gap1.txt``…``gapd.txt``): a count, then each
    problem as ``m n``, costs, resource use and capacities. Problems are named
    ``<file stem>-<k>`` (k from 1) unless ``names`` are given."""
    path = Path(path)
    tokens = _tokens(path.read_text(), str(path))
    count, at, out = tokens[0], 1, []
    for k in range(count):
        name = names[k] if names else f"{path.stem}-{k + 1}"
        inst, at = _instance(name, tokens, at)
        out.append(inst)
    return out


def read_yagiura(path: str | Path) -> GapInstance:
    """One instance from a Yagiura-set file (``d10400``), plain or inside its ``.zip``."""
    path = Path(path)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            text = z.read(z.namelist()[0])
    else:
        text = path.read_bytes()
    name = path.name.split(".")[0]
    return _instance(name, _tokens(text, str(path)), 0)[0]


def to_problem(inst: GapInstance, sense: str = "min") -> Problem:
    """The instance as a cost problem: agents are one-device pools with a horizon, jobs are
    tasks with a per-pool time (resource use) and cost."""
    pools = tuple(Pool(name=f"agent{k + 1}", kind="other", count=1, memory=1.0, throughput=1.0,
                       horizon=float(inst.capacity[k])) for k in range(inst.agents))
    tasks = tuple(Task(name=f"job{j + 1}", memory=0.0) for j in range(inst.jobs))
    pool_names = [p.name for p in pools]
    time = {t.name: dict(zip(pool_names, inst.use[:, j].tolist())) for j, t in enumerate(tasks)}
    cost = {t.name: dict(zip(pool_names, inst.cost[:, j].tolist())) for j, t in enumerate(tasks)}
    return Problem(name=inst.name, pools=pools, tasks=tasks, objective="cost", time=time,
                   cost=cost, sense=sense,
                   description=f"generalized assignment, {inst.agents} agents x {inst.jobs} jobs")


def assignment_of(problem: Problem, plan) -> np.ndarray:
    """Agent index (from 0) of each job in a plan of a :func:`to_problem` problem."""
    return np.array([problem.pool_index_of(plan.assignment[t.name]) for t in problem.tasks])


def known_values(root: Path | None = None) -> dict[tuple[str, str], KnownValue]:
    """Published values by (instance name, sense): OR-Library names are ``gap1-1`` …
    (file stem and problem number) and ``a05100`` … for gapa–gapd and the Yagiura set."""
    root = root or benchmark_root()
    out: dict[tuple[str, str], KnownValue] = {}
    if root is None:
        return out
    orlib = root / "orlib-gap" / "known_values.csv"
    if orlib.is_file():
        with orlib.open(newline="") as f:
            rows = list(csv.reader(f))[1:]
        for row in rows:
            file, k, name, _, _, sense, value = row[:7]
            status = ",".join(row[7:])
            stem = file.removesuffix(".txt")
            key = f"{stem}-{k}" if stem[3:].isdigit() else name
            out[(key, sense)] = KnownValue(key, sense, float(value),
                                           status.startswith("optimal"))
    yag = root / "yagiura-gap" / "known_values.csv"
    if yag.is_file():
        with yag.open(newline="") as f:
            for row in csv.DictReader(f):
                lower = row["best_lower_bound"]
                out[(row["name"], row["sense"])] = KnownValue(
                    row["name"], row["sense"], float(row["best_known_value"]),
                    row["status"].startswith("optimal"), float(lower) if lower else None)
    return out


ORLIB_TYPED = {"gapa": "a", "gapb": "b", "gapc": "c", "gapd": "d"}
TYPED_ORDER = ("05100", "05200", "10100", "10200", "20100", "20200")


def instances(group: str, root: Path | None = None) -> list[GapInstance]:
    """All instances of ``group``: ``gap1``…``gap12`` and ``gapa``…``gapd`` (OR-Library files),
    or ``yagiura-<t>`` for type t in a–e. Empty where the folder is absent."""
    root = root or benchmark_root()
    if root is None:
        return []
    if group.startswith("yagiura-"):
        t = group.removeprefix("yagiura-")
        return [read_yagiura(p) for p in sorted((root / "yagiura-gap").glob(f"{t}*.zip"),
                                                  key=lambda p: (len(p.stem), p.stem))]
    path = root / "orlib-gap" / f"{group}.txt"
    if not path.is_file():
        return []
    names = ([ORLIB_TYPED[group] + s for s in TYPED_ORDER] if group in ORLIB_TYPED else None)
    return read_orlib(path, names)
