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
