"""Import a Gavel job list (the CSV files in ``benchmarks/traces/gavel/joblists``) as a problem
of the project's own format, for ``allocator simulate``.

Columns: ``job_id`` (whole, unique), ``job_type``, ``scale_factor`` (GPUs the job holds at once,
all of one type), ``total_steps`` (its work, in training steps), ``arrival_time_s``,
``priority_weight`` (> 0), and for each GPU type ``T`` of the cluster ``T_steps_per_s``: the
whole job's throughput on ``scale_factor`` GPUs of type T (0 where it cannot run there).

Each job becomes a task: ``compute`` is its steps, ``devices`` its scale factor, ``release`` its
arrival, ``weight`` its priority weight; the ``throughput`` table holds its rate per device
(the job's rate / scale factor), so that a gang's rate is ``devices`` x the table. Work is in
steps and rates in steps/s; the online model needs only that they agree.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

from ..errors import ProblemError
from .csv_rows import rows, whole

COLUMNS = ("job_id", "job_type", "scale_factor", "total_steps", "arrival_time_s",
           "priority_weight")
MAX_GANG = 4096
# Per-GPU memory of Gavel's three types (GB as sold), for the pools' required memory field;
# the job lists state none, and the online model does not use it.
MEMORY = {"v100": "16GiB", "p100": "16GiB", "k80": "12GiB"}


def parse_cluster(text: str) -> dict[str, int]:
    """``v100=36,p100=36,k80=36`` as {type: count}; a malformed entry is refused naming it."""
    out: dict[str, int] = {}
    for part in text.split(","):
        name, sep, count = part.strip().partition("=")
        name = name.strip()
        try:
            value = int(count)
        except ValueError:
            value = -1
        if not sep or not name or value < 1:
            raise ProblemError(f"expected TYPE=COUNT with a whole count ≥ 1 (v100=36), "
                               f"got {part.strip()!r}")
        if name in out:
            raise ProblemError(f"GPU type {name!r} is given twice")
        out[name] = value
    return out


def _number(row: Mapping[str, str], column: str, where: str, *, positive: bool = False) -> float:
    text = row[column].strip()
    try:
        value = float(text)
    except ValueError:
        raise ProblemError(f"{where}: {column} must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ProblemError(f"{where}: {column} must be a finite number "
                           f"{'> 0' if positive else '≥ 0'}, got {text!r}")
    return value


def read_jobs(path: str | Path, cluster: Mapping[str, int]) -> list[dict[str, Any]]:
    """One task document per row, with its per-GPU rates on the cluster's types (``rates``,
    None where it cannot run)."""
    path = Path(path)
    rate_columns = tuple(f"{t}_steps_per_s" for t in cluster)
    tasks: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for line, row in rows(path, COLUMNS + rate_columns):
        where = f"{path}, line {line}"
        job = whole(row, "job_id", where)
        if job in seen:
            raise ProblemError(f"{where}: job_id {job} also appears on line {seen[job]}")
        seen[job] = line
        gang = whole(row, "scale_factor", where, low=1, high=MAX_GANG)
        rates = {t: _number(row, c, where) for t, c in zip(cluster, rate_columns)}
        if not any(rates.values()):
            raise ProblemError(f"{where}: job {job} has a throughput of 0 on every GPU type of "
                               f"the cluster ({', '.join(cluster)}); it can run nowhere")
        tasks.append({
            "name": str(job), "compute": _number(row, "total_steps", where, positive=True),
            "devices": gang, "release": _number(row, "arrival_time_s", where),
            "weight": _number(row, "priority_weight", where, positive=True),
            "rates": {t: (r / gang if r > 0 else None) for t, r in rates.items()}})
    if not tasks:
        raise ProblemError(f"{path}: no jobs")
    return tasks


def import_gavel(path: str | Path, cluster: Mapping[str, int], name: str | None = None) -> dict:
    """A problem document for ``allocator simulate`` from a Gavel job list and a cluster
    ({GPU type: count})."""
    path = Path(path)
    tasks = read_jobs(path, cluster)
    throughput = {t["name"]: t.pop("rates") for t in tasks}
    pools = [{"name": gpu, "kind": "gpu", "count": count, "memory": MEMORY.get(gpu, "16GiB"),
              "throughput": 1.0} for gpu, count in cluster.items()]
    return {"name": name or path.stem,
            "description": f"Gavel job list {path.name} on "
                           + ", ".join(f"{c} {t}" for t, c in cluster.items()),
            "pools": pools, "tasks": tasks, "throughput": throughput}


def job_types(path: str | Path) -> dict[str, str]:
    """{task name: Gavel job type} for the rows of a job list (for the pair throughputs of
    space sharing)."""
    return {str(row["job_id"]).strip(): row["job_type"].strip()
            for _, row in rows(Path(path), ("job_id", "job_type"))}


def pair_rates(throughputs: str | Path, job_list: str | Path, names: tuple[str, ...],
               gangs, pools: tuple[str, ...]):
    """Space sharing from Gavel's ``simulation_throughputs.json``: each job's class (its
    job type and scale factor) and ``rates[pool, class, other class] = (this job's rate, the
    other's)`` when the two share the same devices (0 where they may not: different scale
    factors, or a pair the file does not list). ``names``: the jobs' task names (job ids) in
    the simulation's order; ``gangs`` their scale factors."""
    import json

    import numpy as np
    path = Path(throughputs)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProblemError(f"cannot read the pair throughputs {path}: {exc}") from None
    missing = [p for p in pools if p not in table]
    if missing:
        raise ProblemError(f"{path} has no throughputs for GPU type "
                           f"{', '.join(map(repr, missing))} (it has {', '.join(table)})")
    types = job_types(job_list)
    keys = [f"({types[n]!r}, {int(g)})" for n, g in zip(names, gangs)]
    classes = sorted(set(keys))
    kind = np.searchsorted(np.array(classes), np.array(keys))
    rates = np.zeros((len(pools), len(classes), len(classes), 2))
    for t, pool in enumerate(pools):
        for a, key in enumerate(classes):
            row = table[pool].get(key, {})
            for b, other in enumerate(classes):
                pair = row.get(other)
                if isinstance(pair, list) and len(pair) == 2 and min(pair) > 0:
                    rates[t, a, b] = pair
    return kind, rates
