"""Plan files: a :class:`~allocator.domain.plan.Plan` written as JSON or YAML, and read back
with errors that name the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..domain.plan import Plan
from ..errors import ProblemError
from .text import read_text
from .yaml_safe import parse


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write JSON (``.json``, and any other suffix) or YAML (``.yaml``/``.yml``)."""
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        path.write_text(yaml.safe_dump(plan.to_dict(), sort_keys=False), encoding="utf-8")
    else:
        path.write_text(json.dumps(plan.to_dict(), indent=2), encoding="utf-8")


def load_plan(path: str | Path) -> Plan:
    """Read a plan written by :func:`save_plan`; an unreadable file or one of the wrong shape
    raises :class:`~allocator.errors.ProblemError` naming the file and the field."""
    path = Path(path)
    text = read_text(path, "plan file", "JSON or YAML")
    if path.suffix in (".yaml", ".yml"):
        data = parse(text, str(path)).data
    else:
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise ProblemError(f"malformed JSON: {exc.msg}", line=exc.lineno,
                               source=str(path)) from None
        except (ValueError, RecursionError) as exc:
            raise ProblemError(f"malformed JSON: {exc}", source=str(path)) from None
    return Plan.from_dict(data, source=str(path))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a plan may hold")
