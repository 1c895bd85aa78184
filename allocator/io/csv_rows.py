"""Rows of a CSV file with a header, each with its line number; a missing column, a short row
or bytes that are not text are refused naming the file and line."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from ..errors import ProblemError


def rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row, after checking the header."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ProblemError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ProblemError(f"{path}: not a CSV file ({exc})") from None
        missing = [c for c in columns if c not in header]
        if missing:
            raise ProblemError(f"{path}: missing column{'s' * (len(missing) > 1)} "
                               f"{', '.join(missing)} (found: {', '.join(header) or 'none'})")
        try:
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    raise ProblemError(f"{path}, line {reader.line_num}: expected "
                                       f"{len(header)} fields")
                yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ProblemError(f"{path}, line {reader.line_num}: {exc}") from None


def whole(row: dict[str, str], column: str, where: str, *, low: int = 0,
           high: int | None = None) -> int:
    text = row[column].strip()
    try:
        value = int(text)
    except ValueError:
        raise ProblemError(f"{where}: {column} must be a whole number, got {text!r}") from None
    if value < low or (high is not None and value > high):
        span = f"from {low} to {high:,}" if high is not None else f"at least {low}"
        raise ProblemError(f"{where}: {column} must be {span}, got {value}")
    return value
