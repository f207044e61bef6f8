"""The ``incident-impact`` command line: a thin layer over the library.

Data goes to stdout; messages, warnings and progress go to stderr. Exit status: 0 success,
1 the analysis failed (bad data, unknown incident, too little history), 2 usage error.
One module per command family; each registers itself on the group in ``group.py``.
"""

from __future__ import annotations

from . import analyze, catalog, sales, study, verify  # noqa: F401  (registers the commands)
from .group import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="incident-impact")
