"""Shared pieces of the command line: error handling, output formats and options used by several commands."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re

import click

#: Key of ``ctx.meta`` holding the output format, so errors can be reported as JSON too.
FORMAT_KEY = "incident_impact.format"


def format_option(*choices: str, help: str | None = None):
    """``--format`` with these choices (default ``table``); the choice is remembered for error output."""

    def remember(ctx: click.Context, param: click.Parameter, value: str) -> str:
        ctx.meta[FORMAT_KEY] = value
        return value

    return click.option("--format", "fmt", type=click.Choice(choices), default="table", show_default=True,
                        callback=remember, help=help)


def note(message: str) -> None:
    """A message for the user on stderr (stdout carries only data)."""
    click.echo(message, err=True)


def load_catalog(incidents: str | None, timelines: str | None):
    """The bundled catalog, merged with the user's incident file when given."""
    from ..catalog import load_catalog as read_catalog

    catalog = read_catalog()
    if incidents:
        catalog = catalog.merged(read_catalog(incidents, timelines))
    return catalog


def emit_rows(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)
    else:
        click.echo(table(rows))


def table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    text = [[("" if r[c] is None else str(r[c])) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in text)) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(v.ljust(w) for v, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths])] + [line(t) for t in text])


incidents_option = click.option(
    "--incidents", type=click.Path(exists=True, dir_okay=False), envvar="INCIDENT_IMPACT_INCIDENTS",
    help="A CSV of your own incidents (schema in datasets/README.md), added to the catalog.",
)
timelines_option = click.option(
    "--timelines", type=click.Path(exists=True, dir_okay=False), help="Timeline CSV for --incidents."
)


estimation_option = click.option(
    "--estimation", default="-250,-11", show_default=True, help="Estimation window in relative sessions."
)
min_estimation_option = click.option(
    "--min-estimation", default=120, show_default=True, help="Fewest estimation returns accepted."
)
data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False), envvar="INCIDENT_IMPACT_DATA_DIR", show_envvar=True,
    help="Folder of TICKER.csv price files, used before the cache, the bundled sample and Yahoo.",
)
offline_option = click.option(
    "--offline", is_flag=True, envvar="INCIDENT_IMPACT_OFFLINE", help="Never download; use local data only."
)


def safe_stem(text: str, reserved: frozenset[str] | set[str] = frozenset()) -> str:
    """A file name stem for an id that cannot leave its folder (``[A-Za-z0-9._-]``, no leading dot,
    at most 120 characters). An id that had to change, or whose stem is ``reserved``, gets 8 hex
    digits of its sha256, so two ids never share a file."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")[:120] or "incident"
    if stem != text or stem in reserved:
        stem = f"{stem[:111]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return stem


def num(value):
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 10)
    return value


model_option = click.option(
    "--model", type=click.Choice(["market", "mean", "market-adjusted", "ff3", "carhart", "ff5"]), default="market",
    show_default=True, help="Normal-return model; ff3, carhart and ff5 need --factors.",
)
factors_option = click.option(
    "--factors", "factors_file", type=click.Path(exists=True, dir_okay=False), envvar="INCIDENT_IMPACT_FACTORS",
    help="Daily factor CSV in percent (Kenneth French's: date, mkt_rf, smb, hml, rmw, cma, mom, rf).",
)
bound_option = click.option(
    "--bound", default=2.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
    help="Materiality bound in percent: the equivalence test asks whether |CAR| < bound.",
)


def read_factors(path: str | None):
    """The factor table of ``--factors``, or None."""
    if not path:
        return None
    from ..eventstudy import read_french_factors

    return read_french_factors(path)
no_peers_option = click.option("--no-peers", is_flag=True, help="Skip the peers' event studies (spillover).")
no_robustness_option = click.option("--no-robustness", is_flag=True, help="Skip the robustness table across models.")
