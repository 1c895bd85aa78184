"""A rich progress bar per device, on stderr: tasks done out of tasks given to it so far."""

from __future__ import annotations

import threading
from collections.abc import Iterable


class DeviceProgress:
    """A rich progress bar per device: tasks done out of tasks given to it so far."""

    def __init__(self, mapping: dict[str, str]):
        """``mapping``: device (or a node's lane) -> the torch device it runs on."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.console import Console
        # Progress is not a result: it goes to stderr, so stdout stays clean for the report.
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=Console(stderr=True))
        self.mapping = mapping
        self.ids: dict[str, int] = {}
        self.running: dict[str, int] = {d: 0 for d in mapping}
        self.lock = threading.Lock()

    def start(self, queues: dict[str, Iterable[str]]) -> None:
        for d in self.mapping:
            self.ids[d] = self.bar.add_task(f"{d} ({self.mapping[d]})",
                                            total=len(list(queues.get(d, ()))))
        self.bar.start()

    def update(self, event: dict) -> None:
        with self.lock:
            kind, d = event["event"], event.get("device")
            if kind == "task_start":
                self.running[d] = 1
            elif kind == "task_end":
                self.running[d] = 0
                if event["status"] == "completed":
                    self.bar.advance(self.ids[d])
            elif kind in ("replan", "resume"):
                queues = event.get("queues", {})
                for dev, tid in self.ids.items():
                    done = self.bar.tasks[tid].completed
                    self.bar.update(tid, total=done + self.running[dev]
                                    + len(queues.get(dev, ())))

    def stop(self) -> None:
        self.bar.stop()
