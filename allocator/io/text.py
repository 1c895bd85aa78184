"""Reading a text file with one clear error for every way it can fail."""

from __future__ import annotations

from pathlib import Path

from ..errors import ProblemError


def read_text(path: Path, what: str = "problem file", written_in: str = "YAML") -> str:
    """The UTF-8 text of a file; anything else (missing, a folder, binary) is a
    :class:`ProblemError` naming the file (``what`` it should be, ``written_in`` what)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProblemError(f"no such {what}", source=str(path)) from None
    except IsADirectoryError:
        raise ProblemError(f"is a directory, not a {what}", source=str(path)) from None
    except OSError as exc:
        raise ProblemError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProblemError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                           f"{exc.start}); a {what} is {written_in}", source=str(path)) from None
