"""Each task's output files: ``<logs>/<task>.out`` and ``<task>.err``, one header line per
attempt, and the last lines an attempt wrote to stderr (for the report)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

TAIL_LINES = 20
TAIL_BYTES = 4096


class Logs:
    """The folder of the tasks' output files."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def paths(self, task: str) -> tuple[Path, Path]:
        stem = file_name(task)
        return self.folder / f"{stem}.out", self.folder / f"{stem}.err"

    def begin(self, order, placement) -> tuple[Path, Path, int]:
        """Append the header of an attempt (an ``Order``, on a ``Placement``) to both files; ``(out, err, offset of the attempt's
        stderr)``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        out, err = self.paths(order.task)
        header = (f"=== {order.task}: attempt {order.attempt} on {placement.device} "
                  f"({placement.torch_device}) at {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n")
        for path in (out, err):
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(header)
        return out, err, err.stat().st_size


def file_name(task: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", task)[:100].lstrip(".") or "task"
    if safe != task:                 # two names that differ only in odd characters stay apart
        import hashlib
        safe += "-" + hashlib.sha256(task.encode()).hexdigest()[:8]
    return safe


def stderr_tail(path: Path, offset: int) -> str | None:
    """The last lines an attempt wrote to stderr (from ``offset``), bounded in size."""
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(offset, size - 16 * TAIL_BYTES))
            data = fh.read()
    except OSError:
        return None
    lines = data.decode("utf-8", "replace").splitlines()[-TAIL_LINES:]
    text = "\n".join(line[:500] for line in lines).strip()
    return text[-TAIL_BYTES:] or None
