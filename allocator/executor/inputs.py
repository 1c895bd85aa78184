"""What can be refused before a run solves anything: bad limits, tasks with nothing to run,
a program, folder or module this machine lacks, a journal folder that cannot be written."""

from __future__ import annotations

import importlib.util
import os
import pickle
import shutil
import sys
from pathlib import Path

from ..domain.problem import Problem, Task
from ..errors import AllocatorError
from .devices import require_torch


def refuse_nodes(problem: Problem, what: str = "runs") -> None:
    """A cluster of nodes runs node by node, each node its share of one plan."""
    if problem.on_nodes:
        raise AllocatorError(f"{problem.name!r} describes a cluster of nodes; the executor {what} "
                             "on this machine's devices (pools:). A cluster runs node by node: "
                             "solve it once (allocator solve P --out plan.json), then on each "
                             "node: allocator run P --plan plan.json --node NAME")


def check_inputs(problem: Problem, *, resume: bool = False, journal=None,
                 max_retries: int | None = None, drain_after: int | None = None,
                 task_timeout: float | None = None,
                 node_tasks: list[str] | None = None) -> None:
    """Refuse, before any solve, what cannot run: tasks with nothing to run, a program or
    module this machine lacks, a journal folder that cannot be written, bad limits.
    On a cluster of nodes, ``node_tasks`` are the tasks of this node's share (the others
    run elsewhere and are not checked here)."""
    if node_tasks is None:
        refuse_nodes(problem)
    tasks = (problem.tasks if node_tasks is None
             else [problem.tasks[problem.task_index[t]] for t in node_tasks])
    if resume and journal is None:
        raise AllocatorError("resume needs the journal of the run to continue")
    for name, value, least in (("max_retries", max_retries, 0), ("drain_after", drain_after, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < least):
            raise AllocatorError(f"{name} must be a whole number >= {least}, got {value!r}")
    if task_timeout is not None and not task_timeout > 0:
        raise AllocatorError(f"task_timeout must be > 0 seconds, got {task_timeout!r}")
    missing = [t.name for t in tasks if t.job is None and t.workload is None]
    if missing:
        raise AllocatorError(f"task{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                             "ha" + ("ve" if len(missing) > 1 else "s")
                             + " nothing to run: give each a command:, a callable: or a "
                             "workload: (docs/executor.md)")
    if any(t.workload is not None for t in tasks):
        require_torch()
    for task in tasks:
        check_runnable(task)
    if journal is not None:
        folder = Path(journal).resolve().parent
        if not folder.is_dir():
            raise AllocatorError(f"the journal's folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise AllocatorError(f"the journal's folder {folder} is not writable")


def check_runnable(task: Task) -> None:
    """What can be checked on this machine before anything runs: the command's folder and
    program, the callable's module, that a workload's function can reach a worker."""
    what = f"task {task.name!r}"
    job = task.job
    if job is not None and job.command is not None:
        if not Path(job.cwd).is_dir():
            raise AllocatorError(f"{what}: its cwd {job.cwd} is not a folder on this machine")
        program = job.command[0]
        path = job.env.get("PATH", os.environ.get("PATH", os.defpath))
        found = (Path(job.cwd, program).is_file() if os.sep in program
                 else shutil.which(program, path=path) is not None)
        if not found:
            raise AllocatorError(f"{what}: cannot find the program {program!r} "
                                 + ("in its cwd" if os.sep in program else "on the PATH"))
    elif job is not None:
        module = job.callable.partition(":")[0]
        sys.path.insert(0, job.cwd)                   # where the worker imports it from
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError) as exc:
            spec, why = None, f" ({exc})"
        else:
            why = ""
        finally:
            sys.path.remove(job.cwd)
        if spec is None:
            raise AllocatorError(f"{what}: cannot import {module!r} for its callable "
                                 f"{job.callable!r}{why}")
    elif task.workload is not None:
        from ..domain.workloads import split
        workload = split(task.workload)[0]
        try:
            pickle.dumps(workload.run)
        except Exception:
            raise AllocatorError(
                f"{what}: the function of workload {workload.name!r} cannot be sent to a "
                "worker process (it is defined inside a function or interactively); define "
                "it at the top level of an importable module") from None
