"""Identical tasks as one type with a count (apply), and a type's count on a node turned back
into that many of its tasks (invert): the reduction that lets a cluster of thousands of pods
be planned over a few hundred types. Tasks are identical when every field a placement reads
is: cores, memory, GPUs or share, accepted models, named requests, weight, allowed pools and
kinds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain.problem import Problem, Task


def _key(task: Task) -> tuple:
    return (task.cpu, task.memory, task.gpus, task.gpu_share, task.gpu_models,
            tuple(sorted(task.requests.items())), task.weight, task.allowed_pools,
            task.allowed_kinds)


@dataclass(frozen=True)
class TaskTypes:
    """``type_of[i]``: task i's type; ``members[t]``: its tasks, in the problem's order."""

    type_of: np.ndarray
    members: tuple[np.ndarray, ...]
    name = "task types"

    @classmethod
    def apply(cls, problem: Problem) -> "TaskTypes":
        index: dict[tuple, int] = {}
        type_of = np.array([index.setdefault(_key(t), len(index)) for t in problem.tasks],
                           dtype=np.int64)
        order = np.argsort(type_of, kind="stable")
        cuts = np.flatnonzero(np.diff(type_of[order])) + 1
        return cls(type_of, tuple(np.split(order, cuts)))

    @property
    def count(self) -> np.ndarray:
        return np.array([m.size for m in self.members])

    @property
    def first(self) -> np.ndarray:
        """One task of each type (its first)."""
        return np.array([m[0] for m in self.members])

    def invert(self, slots: np.ndarray) -> np.ndarray:
        """The tasks that fill ``slots`` (a type per slot): the k-th slot of type t gets the
        k-th task of t, so no task fills two slots."""
        slots = np.asarray(slots, dtype=np.int64)
        rank = np.zeros(slots.size, dtype=np.int64)
        order = np.argsort(slots, kind="stable")
        sorted_slots = slots[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_slots)) + 1]
        rank[order] = np.arange(slots.size) - np.repeat(starts, np.diff(np.r_[starts,
                                                                            slots.size]))
        if np.any(rank >= self.count[slots]):
            raise ValueError("more slots of a type than it has tasks")
        return np.array([self.members[t][k] for t, k in zip(slots, rank)], dtype=np.int64)
