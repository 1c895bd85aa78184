"""Write a benchmark's results into its own section of a page in docs/, between markers
(``<!-- NAME:start -->`` ... ``<!-- NAME:end -->``), leaving the rest of the page as it is."""

from __future__ import annotations

from pathlib import Path


def write_section(page: Path, name: str, lines: list[str]) -> None:
    """Replace the section ``name`` of ``page`` with ``lines`` (appended if it is not there)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = "\n".join([start, *lines, end])
    text = page.read_text(encoding="utf-8")
    if start in text and end in text:
        text = text.split(start)[0] + section + text.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    page.write_text(text, encoding="utf-8")


def machine() -> str:
    """This machine in a few words: its CPU model, cores and Python version."""
    import os
    import platform
    model = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"
