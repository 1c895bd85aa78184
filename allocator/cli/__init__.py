"""Command line: every command is a thin call into the library.

Exit status (docs/cli.md): 0 success; 1 a valid problem without a plan (proven infeasible, or a
time limit passed first) or a run with a failed task; 2 a usage error or bad input, with one
readable message on stderr naming the option, file, line or field; 130 interrupted; 3 an
internal error (a bug: please report it).

Results go to stdout; progress, notes and warnings to stderr, so ``allocator solve P --json | jq``
always works.
"""

from __future__ import annotations

import os
import sys

from ..errors import AllocatorError, ProblemError
# Commands are listed in the help in the order these modules register them.
from . import planning  # noqa: I001
from . import running
from . import simulating
from . import importing
from . import info
from .common import app, err

COMMANDS = (planning, running, simulating, importing, info)   # each registers its commands


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status instead of exiting.

    Usage errors are typer's (exit 2, naming the option); bad input raised by the library is
    one line on stderr and exit 2; an interrupt is 130; anything else is a bug: one line, exit 3
    (``ALLOCATOR_DEBUG=1`` shows the traceback).
    """
    try:
        app(args=argv, prog_name="allocator", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if code == 130:                     # typer turns Ctrl-C into exit 130
            err.print("interrupted", markup=False, highlight=False)
        if isinstance(code, int):
            return code
        err.print(str(code), markup=False, highlight=False)
        return 1
    except (ProblemError, AllocatorError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted", markup=False, highlight=False)
        return 130
    except Exception as exc:
        if os.environ.get("ALLOCATOR_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {exc} (run with ALLOCATOR_DEBUG=1 "
                  "for the traceback, and please report it)", markup=False, highlight=False)
        return 3
    return 0


def entry() -> None:
    sys.exit(main())
