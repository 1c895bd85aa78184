r"""Placement on cluster nodes, modelled node by node and GPU by GPU.

Task i may go to node n when one node of n's group holds it on its own (``Problem.allowed``).
Columns:

- x[i,n] in {0,1}: task i (no GPU, or whole GPUs) on node n;
- y[i,n,g] in {0,1}: task i, which shares a GPU, on GPU g of node n;
- z[n,g] in {0,1}: GPU g of node n is held whole.

Rows:

    sum_n x[i,n] + sum_{n,g} y[i,n,g] <= 1                     every task (partial placement)
    sum_i r[i] (x[i,n] + sum_g y[i,n,g]) <= R[n]              every node, cores, host memory
                                                              and named resource
    sum_i k[i] x[i,n] - sum_g z[n,g] = 0                      every node: its gangs' GPUs
    sum_i s[i] y[i,n,g] + z[n,g] <= 1                         every GPU: shares of one GPU
                                                              add up to at most 1, and none
                                                              on a GPU held whole
    z[n,g] >= z[n,g+1]                                        whole GPUs first (symmetry)

Any placement of the tasks becomes a solution (number the whole GPUs first), and every
solution is a placement: the gangs of node n take its GPUs with z = 1, in turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..domain.plan import Placement
from ..domain.problem import Problem
from .sparse import RowBuilder


@dataclass(frozen=True)
class NodeColumns:
    """What each column is: task ``task[j]`` on node ``node[j]`` (GPU ``gpu[j]`` for a share
    column, -1 otherwise) for the placement columns; then one column per (node, GPU) for z."""

    task: np.ndarray
    node: np.ndarray
    gpu: np.ndarray
    z_node: np.ndarray
    z_gpu: np.ndarray

    @property
    def n_place(self) -> int:
        return self.task.size

    @property
    def n(self) -> int:
        return self.task.size + self.z_node.size


def node_columns(problem: Problem) -> NodeColumns:
    pool_gpus = np.array([p.gpus for p in problem.pools])
    node_gpus = pool_gpus[problem.device_pool]
    allowed = problem.allowed[:, problem.device_pool]             # task x node
    shares = np.array([t.gpu_share is not None for t in problem.tasks])
    ti, ni = np.nonzero(allowed & ~shares[:, None])
    si, sn = np.nonzero(allowed & shares[:, None])
    reps = node_gpus[sn]                                          # one column per GPU
    task = np.r_[ti, np.repeat(si, reps)]
    node = np.r_[ni, np.repeat(sn, reps)]
    gpu = np.r_[np.full(ti.size, -1), _ranges(reps)]
    whole = np.array([t.gpus > 0 and t.gpu_share is None for t in problem.tasks])
    gang_nodes = np.unique(ni[whole[ti]])
    z_node = np.repeat(gang_nodes, node_gpus[gang_nodes])
    return NodeColumns(task, node, gpu, z_node, _ranges(node_gpus[gang_nodes]))


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """0..l-1 for each l in ``lengths``, concatenated."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(lengths.sum()) - starts


def build_rows(problem: Problem, C: NodeColumns) -> RowBuilder:
    n_tasks, n_nodes = len(problem.tasks), len(problem.devices)
    rows = RowBuilder(C.n)
    place = np.arange(C.n_place)
    rows.add(sp.csr_array((np.ones(C.n_place), (C.task, place)), shape=(n_tasks, C.n)),
             -np.inf, 1.0, lambda: [f"once[{t.name}]" for t in problem.tasks])
    names, need, cap = problem.node_requests
    for r, name in enumerate(names):
        used = need[C.task, r] > 0
        if not used.any():
            continue
        nodes = np.unique(C.node[used])
        row_of = np.full(n_nodes, -1)
        row_of[nodes] = np.arange(nodes.size)
        block = sp.csr_array((need[C.task[used], r], (row_of[C.node[used]], place[used])),
                             shape=(nodes.size, C.n))
        rows.add(block, -np.inf, cap[problem.device_pool[nodes], r],
                 lambda nodes=nodes, name=name: [f"{name}[{problem.devices[d]}]"
                                                 for d in nodes])
    _gpu_rows(problem, C, rows)
    return rows


def _gpu_rows(problem: Problem, C: NodeColumns, rows: RowBuilder) -> None:
    gangs = np.array([t.gpus if t.gpu_share is None else 0 for t in problem.tasks], float)
    shares = np.array([t.gpu_share or 0.0 for t in problem.tasks])
    z = C.n_place + np.arange(C.z_node.size)
    gang_nodes = np.unique(C.z_node)
    if gang_nodes.size:
        row_of = np.full(len(problem.devices), -1)
        row_of[gang_nodes] = np.arange(gang_nodes.size)
        held = np.flatnonzero((C.gpu < 0) & (gangs[C.task] > 0))
        block = sp.csr_array((np.r_[gangs[C.task[held]], -np.ones(z.size)],
                              (np.r_[row_of[C.node[held]], row_of[C.z_node]], np.r_[held, z])),
                             shape=(gang_nodes.size, C.n))
        rows.add(block, 0.0, 0.0, lambda: [f"gang_gpus[{problem.devices[d]}]"
                                           for d in gang_nodes])
        later = np.flatnonzero(C.z_gpu > 0)                       # z[n,g] - z[n,g-1] <= 0
        rows.add(sp.csr_array((np.r_[np.ones(later.size), -np.ones(later.size)],
                               (np.r_[np.arange(later.size), np.arange(later.size)],
                                np.r_[z[later], z[later - 1]])), shape=(later.size, C.n)),
                 -np.inf, 0.0, lambda: [f"whole_first[{problem.devices[C.z_node[k]]},"
                                        f"{C.z_gpu[k]}]" for k in later])
    shared = np.flatnonzero(C.gpu >= 0)
    if shared.size == 0:
        return
    keys = np.unique(np.c_[C.node[shared], C.gpu[shared]], axis=0)      # the GPUs shared
    index = {(int(n), int(g)): k for k, (n, g) in enumerate(keys)}
    r_share = np.array([index[(int(n), int(g))] for n, g in zip(C.node[shared], C.gpu[shared])])
    z_index = {(int(n), int(g)): z[k] for k, (n, g) in enumerate(zip(C.z_node, C.z_gpu))}
    zk = [(k, z_index[(int(n), int(g))]) for k, (n, g) in enumerate(keys)
          if (int(n), int(g)) in z_index]
    zr = np.array([k for k, _ in zk], dtype=np.int64)
    zc = np.array([c for _, c in zk], dtype=np.int64)
    block = sp.csr_array((np.r_[shares[C.task[shared]], np.ones(zr.size)],
                          (np.r_[r_share, zr], np.r_[shared, zc])), shape=(len(keys), C.n))
    rows.add(block, -np.inf, 1.0, lambda: [f"gpu_share[{problem.devices[n]},{g}]"
                                           for n, g in keys])


def placements(problem: Problem, C: NodeColumns, x: np.ndarray) -> dict[str, Placement]:
    """The placement of each task the solution ``x`` places: node, GPU indices, share."""
    on = np.flatnonzero(x[:C.n_place] > 0.5)
    z_on = x[C.n_place:] > 0.5
    free_whole: dict[int, list[int]] = {}                 # node -> its GPUs held whole
    for n, g in zip(C.z_node[z_on], C.z_gpu[z_on]):
        free_whole.setdefault(int(n), []).append(int(g))
    out = {}
    for j in sorted(on, key=lambda j: problem.tasks[C.task[j]].name):
        task, node = problem.tasks[C.task[j]], int(C.node[j])
        if C.gpu[j] >= 0:
            out[task.name] = Placement(problem.devices[node], (int(C.gpu[j]),), task.gpu_share)
        elif task.gpus:
            held = free_whole.setdefault(node, [])
            out[task.name] = Placement(problem.devices[node], tuple(held[:task.gpus]), 1.0)
            del held[:task.gpus]
        else:
            out[task.name] = Placement(problem.devices[node])
    return out
