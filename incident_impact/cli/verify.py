"""`verify`: re-run a saved result or report from its manifest and say whether every number matches."""

from __future__ import annotations

import click

from .common import echo, emit_json, format_option, note
from .group import cli


@cli.command()
@click.argument("saved", type=click.Path(exists=True, dir_okay=False))
@click.option("--online", is_flag=True, help="Let the rerun download (default: offline, local data only).")
@format_option("table", "json")
def verify(saved, online, fmt) -> None:
    """Re-run the command recorded in SAVED (a JSON result or an HTML report of analyze, study or sales) with
    the same options and compare: exit status 0 when every data file has its recorded sha256 and every
    number matches within a relative 1e-9, else 1, naming the first changed file or number."""
    from ..manifest import verify as run_verify

    outcome = run_verify(saved, offline=not online)
    if fmt == "json":
        emit_json(outcome)
    elif outcome["ok"]:
        echo(f"verified: {outcome['compared']} number(s) of {saved} reproduce ({' '.join(outcome['argv'])})")
        if outcome["text_differences"]:
            echo(
                f"{len(outcome['text_differences'])} message(s) differ (e.g. a download that fails offline): "
                f"{outcome['text_differences'][0]}"
            )
    else:
        echo(f"NOT reproduced: {outcome['reason']}")
        for line in outcome["differences"][1:10]:
            echo(f"  {line}")
    if not outcome["ok"]:
        if fmt == "json":
            note(f"NOT reproduced: {outcome['reason']}")
        raise click.exceptions.Exit(1)
