"""``python -m allocator.cli``: the command line."""

from . import entry

entry()
