"""What a failure means: which devices a task is kept off, when a device is drained, and when
a task stops being retried. Pure functions of the problem and the run's state.

- A task that failed on a device is kept off that device; after running out of memory, off
  every device with no more memory than that one (the task needs more, wherever it runs).
- A device is drained (given no more work) only on evidence against the device, not against
  a task: a CUDA or driver error there, or a task that failed there and then completed
  elsewhere (out of memory aside: it completes on a bigger device, which says nothing about
  this one). ``drain_after`` pieces of evidence, from different tasks, drain it. One broken
  task that fails everywhere drains nothing.
- A task gets ``max_retries + 1`` attempts; an attempt that ended with the run (``kill -9``)
  counts, so a task that takes the run down with it cannot crash-loop its resumes.
"""

from __future__ import annotations

from ..domain.problem import Problem
from .state import RunState


def exclusions(problem: Problem, device: str, cause: str | None) -> list[str]:
    """The devices a task that failed on ``device`` with ``cause`` is kept off."""
    if cause != "out_of_memory":
        return [device]
    memory = problem.pool_of(device).memory
    return [d for pool in problem.pools if pool.memory <= memory for d in pool.device_names()]


def evidence(state: RunState, device: str) -> list[str]:
    """Tasks whose failures point at ``device`` itself."""
    found = []
    for task, cause in state.failures.get(device, {}).items():
        if cause == "device":
            found.append(task)
        elif (cause != "out_of_memory" and task in state.completed_on
              and state.completed_on[task] != device):
            found.append(task)
    return found


def to_drain(state: RunState, devices: list[str]) -> dict[str, str]:
    """Devices among ``devices`` to drain now, with the reason."""
    out = {}
    need = state.limits["drain_after"]
    for device in devices:
        if device in state.drained:
            continue
        tasks = evidence(state, device)
        if len(tasks) >= need:
            out[device] = (f"{len(tasks)} tasks failed here that point at the device "
                           f"({', '.join(sorted(tasks))})")
    return out


def out_of_attempts(state: RunState, task: str) -> bool:
    return state.spent[task] > state.limits["max_retries"]
