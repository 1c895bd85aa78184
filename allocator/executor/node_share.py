"""One node's share of a cluster plan: the tasks a plan on nodes places on one node, each in
a lane of its own that sees the GPUs the plan gave it, all started at once.

A plan on nodes (objectives ``packing`` and ``fragmentation``) says where each task runs:
its node, the 0-based indices of its GPUs there and the fraction of each it takes. Each node
runs its own share, ``allocator run P --plan plan.json --node NAME`` on that node, so every
node must run the *same* plan: a node run never solves one itself (two nodes solving
separately could place a task twice, or nowhere).

GPU ``j`` of the node is this machine's CUDA device ``j`` (mapped through this process's own
``CUDA_VISIBLE_DEVICES`` when it has one). A task's child sees ``CUDA_VISIBLE_DEVICES`` set
to all its GPUs (``2,3`` for a gang of two, ``1`` for a share of GPU 1, empty for none), and
``ALLOCATOR_NODE``, ``ALLOCATOR_GPUS`` (its GPUs' indices on the node) and
``ALLOCATOR_GPU_SHARE`` (the fraction of each it was planned to take: 1 for whole GPUs) to
limit itself by, as GPU sharing on a cluster leaves that to the job. A placement (packing,
fragmentation) put every task of the node there together, so they all start at once; in a
plan over time (node_makespan) a task waits until the node's tasks planned to end by its
start have ended. A failed attempt is tried again in its own lane (the node's other GPUs
belong to other tasks), never re-planned.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..domain.plan import Plan
from ..domain.problem import Problem
from ..errors import AllocatorError
from .processes import Placement


@dataclass(frozen=True)
class NodeShare:
    """The tasks a plan runs on one node and the lane each runs in."""

    node: str
    lanes: dict[str, str]                  # task -> its lane, in the problem's order
    placements: dict[str, Placement]       # lane -> what its child sees
    after: dict[str, tuple[str, ...]]      # task -> the tasks it waits for (a plan over time)

    @property
    def tasks(self) -> list[str]:
        return list(self.lanes)

    def describe(self) -> dict:
        """What a journal records of the share, and what its fingerprint covers."""
        return {"node": self.node,
                "lanes": {t: {"lane": lane, "gpus": self.placements[lane].env["ALLOCATOR_GPUS"],
                              "gpu_share": self.placements[lane].env["ALLOCATOR_GPU_SHARE"],
                              **({"after": list(self.after[t])} if t in self.after else {})}
                          for t, lane in self.lanes.items()}}


def lane_name(node: str, task: str) -> str:
    return f"{node}/{task}"


def require_cluster(problem: Problem) -> None:
    """A node's share needs a cluster of nodes."""
    if not problem.on_nodes:
        raise AllocatorError(f"--node runs one node's share of a plan on a cluster of nodes; "
                             f"{problem.name!r} has device pools (run it without --node)")


def _suggestion(problem: Problem, node: str) -> str:
    group = next((p for p in problem.pools if p.name == node), None)
    if group is not None:
        names = group.device_names()
        return (f"; {node!r} is a group of nodes: name one of them ("
                + ", ".join(names[:3]) + (", ..." if len(names) > 3 else "") + ")")
    close = difflib.get_close_matches(node, problem.devices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def node_share(problem: Problem, plan: Plan | None, node: str, *, cuda_devices: int) -> NodeShare:
    """The share of ``plan`` that runs on ``node``, on a machine with ``cuda_devices`` CUDA
    devices; a clear error when the problem, the plan or the node does not allow it."""
    require_cluster(problem)
    if plan is None:
        raise AllocatorError("a node runs its share of one plan for the whole cluster: solve it "
                             "once (allocator solve P --out plan.json) and give every node the "
                             "same plan (--plan plan.json)")
    if plan.problem != problem.name:
        raise AllocatorError(f"the plan is for problem {plan.problem!r}, not {problem.name!r}")
    if node not in problem.device_index:
        raise AllocatorError(f"the cluster has no node {node!r}{_suggestion(problem, node)}")
    if not plan.placements and plan.assignment:
        raise AllocatorError("the plan has no placements (node and GPUs per task); solve the "
                             "cluster with objective packing or fragmentation")
    gpus_here = problem.pool_of(node).gpus
    lanes: dict[str, str] = {}
    placements: dict[str, Placement] = {}
    for task in problem.tasks:
        where = plan.placements.get(task.name)
        if where is None or where.node != node:
            continue
        wrong = [g for g in where.gpus if not 0 <= g < gpus_here]
        if wrong:
            raise AllocatorError(f"the plan gives {task.name!r} GPU {wrong[0]} of {node}, "
                                 f"which has {gpus_here} GPU{'s' if gpus_here != 1 else ''}")
        lane = lanes[task.name] = lane_name(node, task.name)
        env = {"ALLOCATOR_NODE": node, "ALLOCATOR_GPUS": ",".join(map(str, where.gpus)),
               "ALLOCATOR_GPU_SHARE": f"{where.gpu_share:g}"}
        placements[lane] = Placement.of_gpus(lane, tuple(where.gpus), env)
    used = sorted({g for t in lanes for g in plan.placements[t].gpus})
    if used and used[-1] >= cuda_devices:
        raise AllocatorError(f"the plan runs tasks on GPU {used[-1]} of {node} (GPU j is "
                             f"cuda:j here), but this machine has {cuda_devices} CUDA "
                             f"device{'s' if cuda_devices != 1 else ''}")
    return NodeShare(node, lanes, placements, _order(plan, lanes))


def _order(plan: Plan, lanes: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """For a plan over time: each task waits for the node's tasks planned to end by its
    planned start. Then the tasks that run together also overlapped in the plan, pairwise,
    so all at one moment of it: what runs at once fits, however long each really takes."""
    if not plan.schedule:
        return {}
    slot = {s.task: s for s in plan.schedule}
    missing = [t for t in lanes if t not in slot]
    if missing:
        raise AllocatorError(f"the plan schedules its tasks over time but gives "
                             f"{missing[0]!r} no slot")
    return {t: tuple(u for u in lanes if u != t and slot[u].end <= slot[t].start + 1e-9)
            for t in lanes}


__all__ = ["NodeShare", "lane_name", "node_share", "require_cluster"]
