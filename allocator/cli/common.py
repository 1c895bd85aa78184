"""The command line's shared parts: the app, its two consoles (results on stdout; notes,
progress and errors on stderr), option checks and helpers. Exit statuses: the package."""

from __future__ import annotations

import difflib
import importlib.util
import math
import os
import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Callable, Iterable, Optional

import typer
from rich.console import Console

from .. import __version__
from ..domain.problem import MEASURES
from ..objectives import NAMES as OBJECTIVES

app = typer.Typer(
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,                 # plain usage errors: one message, never boxed
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Decide which device runs which ML task, and prove how good it is.",
)
# Tables are wide: when output goes to a file or pipe, do not squeeze them into 80 columns.
# Names and messages come from users' files: never read them as markup ("[red]") or emoji
# codes (":b:").
out = Console(markup=False, emoji=False, **({} if sys.stdout.isatty() else {"width": 120}))
# Messages on stderr are never hard-wrapped when stderr is not a terminal (logs, pipes, CI).
err = Console(stderr=True, soft_wrap=not sys.stderr.isatty(), markup=False, emoji=False)

Objective = Enum("Objective", {o: o for o in OBJECTIVES}, type=str)
Measure = Enum("Measure", {m: m for m in MEASURES}, type=str)

INPUT_FILE = {"exists": True, "dir_okay": False, "readable": True}
PROBLEM_FILE = {"metavar": "FILE", **INPUT_FILE}
TORCH_INSTALL = ("pip install -e \".[torch]\" in a checkout, "
                 "pip install \"allocator[torch]\" otherwise")


def _fail(message: str, code: int = 2) -> None:
    err.print(f"error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


@contextmanager
def _located_in(file: Path):
    """An error about a field of the problem (one with a path, as ``sharing[0].pool``) found
    after loading, by the simulator or the executor, names the file it is in."""
    from ..errors import ProblemError
    try:
        yield
    except ProblemError as error:
        if error.path is None or error.source is not None:
            raise
        raise error.located(None, str(file)) from None


def _note(message: str) -> None:
    """A note for the person at the terminal (files written and the like): stderr."""
    err.print(message, markup=False, highlight=False)


# -- option checks: out-of-range values are usage errors naming the option ------------------

def _seconds(value: Optional[float]) -> Optional[float]:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"must be a positive number of seconds, got {value}")
    return value


def _duration(text: str, option: str = "--round") -> float:
    """A time option given with its unit (``360s``, ``6m``), in seconds."""
    from ..domain.units import parse_quantity
    from ..errors import ProblemError
    try:
        return parse_quantity(text, "time", option)
    except ProblemError as exc:
        raise typer.BadParameter(str(exc)) from None


def _gap(value: float) -> float:
    if not (math.isfinite(value) and 0 <= value < 1):
        raise typer.BadParameter(f"must be a relative gap with 0 <= gap < 1, got {value}")
    return value


def _at_least(low: int) -> Callable[[Optional[int]], Optional[int]]:
    def check(value: Optional[int]) -> Optional[int]:
        if value is not None and value < low:
            raise typer.BadParameter(f"must be at least {low}, got {value}")
        return value
    return check


def _writable(path: Optional[Path]) -> Optional[Path]:
    """An output file whose folder exists and may be written, checked before any work."""
    if path is None:
        return path
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a directory, not a file")
    if not folder.is_dir():
        raise typer.BadParameter(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise typer.BadParameter(f"cannot write {path}: folder {folder} is not writable")
    return path


def _writable_folder(path: Optional[Path]) -> Optional[Path]:
    """A folder that exists and is writable, or can be made in a writable folder."""
    if path is None:
        return path
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{path} is not a folder")
    probe = path if path.exists() else path.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise typer.BadParameter(f"cannot write in {probe}")
    return path


def _one_of(names: Callable[[], Iterable[str]],
            default: Optional[str] = None) -> Callable[[Optional[str]], Optional[str]]:
    """A check that ``value`` is one of ``names()``; the default passes without asking, so
    that the names (which may import the solvers) are only listed for a value given."""
    def check(value: Optional[str]) -> Optional[str]:
        if value is None or value == default:
            return value
        allowed = list(names())
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(allowed)}{hint}")
        return value
    return check


def _methods() -> list[str]:
    from ..heuristics import HEURISTICS, PLACEMENT_HEURISTICS, TIMED_HEURISTICS
    return ["optimal", *dict.fromkeys([*HEURISTICS, *PLACEMENT_HEURISTICS, *TIMED_HEURISTICS])]


def _policies() -> tuple[str, ...]:
    from ..online import POLICIES
    return POLICIES


def _strategies() -> tuple[str, ...]:
    from ..solver.strategy import STRATEGIES
    return STRATEGIES


def _write(path: Path, save: Callable[[Path], None], what: str) -> None:
    """Write a result file; a folder that is missing or read-only is bad input, not a crash."""
    try:
        save(path)
    except OSError as exc:
        _fail(f"cannot write {what} {path}: {exc.strerror or exc}")
    _note(f"{what} written to {path}")


def _load_checked(path: Path, objective: str | None):
    from ..io.problem_files import load
    return load(path, objective=objective)


def _load_plan(path: Path):
    from ..io.plan_files import load_plan
    return load_plan(path)


def _need_torch(command: str) -> None:
    if importlib.util.find_spec("torch") is None:
        _fail(f"`allocator {command}` runs torch, which is not installed; install it with "
              f"{TORCH_INSTALL} (planning commands need no torch)")


class SolveProgress:
    """A live line (elapsed, incumbent, bound, gap) on stderr for solves longer than
    ``after`` seconds; nothing for quick ones, so scripts and short runs stay quiet."""

    def __init__(self, console, after: float = 2.0):
        self.console, self.after, self.status = console, after, None

    def __enter__(self):
        return self

    def __call__(self, seconds: float, incumbent, bound) -> None:
        if seconds < self.after or not self.console.is_terminal:
            return
        parts = [f"solving: {seconds:.1f}s"]
        if incumbent is not None:
            parts.append(f"incumbent {incumbent:.6g}")
        if bound is not None:
            parts.append(f"bound {bound:.6g}")
        if incumbent is not None and bound is not None and incumbent != 0:
            parts.append(f"gap {abs(incumbent - bound) / abs(incumbent):.2%}")
        text = " · ".join(parts)
        if self.status is None:
            self.status = self.console.status(text)
            self.status.start()
        else:
            self.status.update(text)

    def __exit__(self, *exc) -> None:
        if self.status is not None:
            self.status.stop()


def _print_version(value: bool) -> None:
    if value:
        print(f"allocator {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Decide which device runs which ML task, and prove how good it is."""


