"""The format and the version."""

from __future__ import annotations

import json

from .. import __version__
from .common import app


@app.command()
def schema() -> None:
    """Print the problem format as JSON Schema."""
    from ..io.schema import json_schema
    print(json.dumps(json_schema(), indent=2))


@app.command()
def version() -> None:
    """Print the version."""
    print(f"allocator {__version__}")
