"""What a task runs, when it is a user's own job: a command or a Python callable.

A task says it in YAML with ``command:`` (a list of arguments, or one string split the way a
shell would split it, but never run through a shell) and optional ``env:``, or with
``callable: "package.module:function"`` and optional ``params:``; either with an optional
``cwd:``, the folder it runs in (relative to the problem file's folder, which is the
default; a callable's module is imported from there first). ``timeout:`` bounds
one attempt. Built-in and registered torch workloads (``workload:``) stay as they were
(:mod:`allocator.domain.workloads`).

This module only describes and validates; :mod:`allocator.executor.processes` runs jobs.
Whether a command's program exists, its folder is there, or a callable's module can be
imported is checked when a run starts, on the machine that runs it, not when the problem is
loaded (planning may happen elsewhere).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ProblemError

# Variables the executor sets for every job; a task may not set them itself.
RESERVED_ENV = ("CUDA_VISIBLE_DEVICES", "ALLOCATOR_DEVICE", "ALLOCATOR_DEVICE_NAME",
                "ALLOCATOR_TASK", "ALLOCATOR_ATTEMPT")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TARGET = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
MAX_ARGUMENTS = 10_000


@dataclass(frozen=True)
class Job:
    """A user's job: ``command`` (with ``env`` and ``cwd``) or ``callable`` (with ``params``)."""

    command: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None       # absolute; default: the problem file's folder. A callable
                                 # runs there, and its module is imported from there first
    callable: str | None = None            # "package.module:function"
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "command" if self.command is not None else "callable"

    def describe(self) -> str:
        if self.command is not None:
            return shlex.join(self.command)
        return self.callable or ""

    def to_dict(self) -> dict[str, Any]:
        if self.command is not None:
            doc: dict[str, Any] = {"command": list(self.command)}
            if self.env:
                doc["env"] = dict(self.env)
            if self.cwd is not None:
                doc["cwd"] = self.cwd
            return doc
        doc = {"callable": self.callable}
        if self.params:
            doc["params"] = dict(self.params)
        if self.cwd is not None:
            doc["cwd"] = self.cwd
        return doc


def read_job(doc: Mapping[str, Any], path: str, what: str, base: Path | None) -> Job | None:
    """The job of a task document (``None`` when it has neither ``command`` nor ``callable``);
    ``base`` is the folder a relative ``cwd`` is relative to (the problem file's)."""
    given = [k for k in ("workload", "command", "callable") if doc.get(k) is not None]
    if len(given) > 1:
        raise ProblemError(f"{what} gives {' and '.join(given)}; a task runs one thing",
                           f"{path}.{given[1]}")
    for key, needs in (("env", "command"), ("params", "callable")):
        if doc.get(key) is not None and doc.get(needs) is None:
            raise ProblemError(f"{what} gives {key} without {needs}; {key} belongs to a "
                               f"{needs}", f"{path}.{key}")
    base = (base or Path.cwd()).resolve()
    if doc.get("command") is not None:
        return Job(command=_command(doc["command"], f"{path}.command"),
                   env=_env(doc.get("env"), f"{path}.env"),
                   cwd=_cwd(doc.get("cwd"), f"{path}.cwd", base))
    if doc.get("callable") is not None:
        return Job(callable=_target(doc["callable"], f"{path}.callable"),
                   params=_params(doc.get("params"), f"{path}.params"),
                   cwd=_cwd(doc.get("cwd"), f"{path}.cwd", base))
    return None


def _command(value: Any, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ProblemError(f"cannot be split into arguments ({exc}); write it as a list",
                               path) from None
    elif isinstance(value, list):
        argv = []
        for k, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise ProblemError(f"each argument must be a string or a number, got "
                                   f"{item!r}", f"{path}[{k}]")
            argv.append(str(item))
    else:
        raise ProblemError(f"must be a list of arguments or a string, got {value!r}", path)
    if not argv or not argv[0]:
        raise ProblemError("is empty; it needs at least the program to run", path)
    if len(argv) > MAX_ARGUMENTS:
        raise ProblemError(f"has {len(argv):,} arguments, more than {MAX_ARGUMENTS:,}", path)
    for k, arg in enumerate(argv):
        if "\0" in arg:
            raise ProblemError("an argument holds a NUL character", f"{path}[{k}]")
    return tuple(argv)


def _env(value: Any, path: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ProblemError(f"must be a mapping of variable names to values, got {value!r}",
                           path)
    env = {}
    for name, item in value.items():
        sub = f"{path}.{name}"
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ProblemError(f"{name!r} is not a variable name (letters, digits and _, "
                               "not starting with a digit)", sub)
        if name in RESERVED_ENV:
            raise ProblemError(f"{name} is set by the executor for every job (the device it "
                               "runs on); a task cannot set it", sub)
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ProblemError(f"must be a string or a number, got {item!r}", sub)
        if "\0" in str(item):
            raise ProblemError("holds a NUL character", sub)
        env[name] = str(item)
    return env


def _cwd(value: Any, path: str, base: Path) -> str:
    if value is None:
        return str(base)
    if not isinstance(value, str) or not value or "\0" in value:
        raise ProblemError(f"must be a folder path, got {value!r}", path)
    return str((base / Path(value).expanduser()).resolve())


def _target(value: Any, path: str) -> str:
    if not isinstance(value, str) or not _TARGET.match(value):
        raise ProblemError(f"must be 'package.module:function', got {value!r}", path)
    return value


def _params(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ProblemError(f"must be a mapping of keyword arguments, got {value!r}", path)
    for name in value:
        if not isinstance(name, str) or not name.isidentifier():
            raise ProblemError(f"{name!r} is not a keyword argument name", f"{path}.{name}")
    return dict(value)
