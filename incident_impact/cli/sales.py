"""`sales`: what an incident did to a sales series (counterfactual, placebos, verdict, HTML report).

The sales-model options are one decorator, :data:`sales_model_options`, shared with
``analyze --sales`` so both commands read them the same way.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from .common import format_option, incidents_option, load_catalog, note, safe_stem, timelines_option
from .group import cli

DESIGN_CHOICES = (
    "structural",
    "did",
    "synthetic",
    "its",
)  # = sales.spec.DESIGNS; not imported, to keep the CLI start fast


def _level_sd(value: str) -> float | None:
    if value.strip().lower() == "mle":
        return None
    try:
        number = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a number nor 'mle'", param_hint="--level-sd") from None
    if not (math.isfinite(number) and 0 < number <= 10):
        raise click.BadParameter(
            f"{value!r}: must be a number above 0 and at most 10 (standardised units), or 'mle'",
            param_hint="--level-sd",
        )
    return number


def _seasonal(value: str) -> float | str | None:
    text = value.strip().lower()
    if text in ("auto", "none"):
        return None if text == "none" else "auto"
    try:
        number = float(text)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use auto, none or a period such as 12", param_hint="--seasonal") from None
    if not (math.isfinite(number) and number >= 2):
        raise click.BadParameter(
            f"{value!r}: the period must be a finite number of at least 2 (or auto, none)", param_hint="--seasonal"
        )
    return number


def _segments(value: str | None) -> list | None:
    if value is None:
        return None
    items = [item.strip() for item in value.split(",")]
    if not all(items):
        raise click.BadParameter(
            f"{value!r}: use N[,M...] (numbers of post periods) or dates, comma-separated", param_hint="--segments"
        )
    return [int(item) if item.isdigit() else item for item in items]


_OPTIONS = (
    click.option("--column", help="The sales column of the file (default: the first value column)."),
    click.option(
        "--control",
        "controls",
        multiple=True,
        help="A control/donor column (repeatable; default: every other column, none for --design its).",
    ),
    click.option(
        "--frequency",
        type=click.Choice(["D", "W", "M", "Q", "Y"], case_sensitive=False),
        help="Expected spacing of the sales dates (checked against the file).",
    ),
    click.option(
        "--design",
        type=click.Choice(DESIGN_CHOICES),
        default="structural",
        show_default=True,
        help="structural (state-space model, controls as regressors), did (difference-in-differences), "
        "synthetic (synthetic control from donors), its (one series; weaker).",
    ),
    click.option(
        "--log/--no-log",
        "log",
        default=None,
        help="Model log sales (multiplicative effects) or sales. Default: chosen from the pre-period data "
        "(structural, synthetic); sales (did, its).",
    ),
    click.option(
        "--level-sd",
        default="mle",
        show_default=True,
        help="Level s.d. of the structural model in standardised units (e.g. 0.01, R CausalImpact's prior), "
        "or 'mle' to estimate it.",
    ),
    click.option(
        "--trend/--no-trend",
        default=None,
        help="Add (or leave out) a slope: local linear trend (structural), linear pre-trend (did). Default: "
        "chosen from the pre-period data (structural, synthetic); none (did).",
    ),
    click.option(
        "--seasonal",
        default="auto",
        show_default=True,
        help="Seasonal period: auto (the data's frequency: 7 daily, 52.18 weekly, 12 monthly, 4 quarterly; "
        "kept only if the pre-period data support it), none, or a number.",
    ),
    click.option("--post-periods", type=click.IntRange(min=1), help="Length of the post-period (default: to the end)."),
    click.option(
        "--segments",
        callback=lambda ctx, param, value: _segments(value),
        help="Post-period segment boundaries for the effect by segment: numbers of post periods or dates, "
        "comma-separated (3,6: periods 1-3, 4-6 and the rest). Default: the first quarter (13 weeks, "
        "3 months, 1 quarter) against the rest.",
    ),
    click.option(
        "--placebos", default=10, show_default=True, type=click.IntRange(min=0), help="In-time placebo dates."
    ),
    click.option(
        "--repetitions", default=1000, show_default=True, type=click.IntRange(min=100), help="Simulated paths."
    ),
    click.option(
        "--seed",
        default=1,
        show_default=True,
        type=click.IntRange(min=0),
        help="Seed of the simulated paths (a whole number >= 0).",
    ),
)


def sales_model_options(func):
    """The options of the sales model (see :func:`incident_impact.sales.sales_impact`)."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def run_sales(
    sales_file: str,
    incident,
    *,
    bound: float,
    column,
    controls,
    frequency,
    design,
    log,
    level_sd,
    trend,
    seasonal,
    post_periods,
    placebos,
    repetitions,
    seed,
    segments=None,
    catalog=None,
):
    """Read ``sales_file`` and analyse ``incident`` (an Incident, a date or a period number); ``bound`` in percent."""
    from ..sales import read_sales_csv, sales_impact

    table = read_sales_csv(sales_file, frequency=frequency)
    return sales_impact(
        table,
        incident,
        column=column,
        controls=list(controls) or None,
        design=design,
        post_periods=post_periods,
        log=log,
        level_sd=_level_sd(level_sd),
        trend=trend,
        seasonal=_seasonal(seasonal),
        bound=bound / 100,
        repetitions=repetitions,
        seed=seed,
        placebos=placebos,
        segments=segments,
        catalog=catalog,
    )


@cli.command()
@click.argument("incident_id", required=False)
@click.option(
    "--sales",
    "sales_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="CSV of sales: a time column (date, year [+ month/quarter], time or t) and numeric value columns.",
)
@click.option("--date", "event_date", help="Without an incident ID: the incident date (YYYY-MM-DD) or period number.")
@sales_model_options
@click.option(
    "--bound",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True, max=100, max_open=True),
    help="Materiality bound in percent of sales: the equivalence test asks whether |effect| < bound.",
)
@format_option("table", "json", "csv", help="table: the summary; json: everything; csv: one row per period.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="Where to write the HTML report (default reports/<id>-sales.html).",
)
@click.option("--no-report", is_flag=True, help="Do not write the HTML report.")
@incidents_option
@timelines_option
def sales(
    incident_id, sales_file, event_date, bound, fmt, report_path, no_report, incidents, timelines, **model
) -> None:
    """Effect of an incident on sales: a catalog ID (its incident date) or --date, and --sales FILE.csv."""
    if bool(incident_id) == bool(event_date):
        raise click.UsageError("name an incident (see `incident-impact list`) or give --date, not both")
    incident = load_catalog(incidents, timelines)[incident_id] if incident_id else event_date
    result = run_sales(sales_file, incident, bound=bound, **model)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    elif fmt == "csv":
        click.echo(result.to_frame().to_csv(index_label="date"), nl=False)
    else:
        click.echo(result.summary())
    for message in result.notes:
        note(f"warning: {message}")
    if not no_report:
        from ..report.sales import write_sales_report

        stem = safe_stem(incident_id or f"sales-{event_date}")
        path = Path(report_path) if report_path else Path("reports") / f"{stem}-sales.html"
        note(f"report written to {write_sales_report(result, path)}")
