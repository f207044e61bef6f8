"""`analyze`: the event study of one incident, its verdict and its HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    FiniteFloatRange,
    attempt,
    bound_option,
    call_with_manifest,
    check_headline,
    data_dir_option,
    echo,
    emit_json,
    estimation_option,
    export_option,
    factors_option,
    fail_on,
    format_option,
    headline_option,
    incidents_option,
    load_catalog,
    min_estimation_option,
    model_option,
    no_peers_option,
    no_robustness_option,
    note,
    offline_option,
    outcome_option,
    read_factors,
    report_download_errors,
    safe_stem,
    start_run,
    timelines_option,
    verbose_option,
    with_manifest,
)
from .group import cli
from .sales import run_sales, sales_model_options


@cli.command()
@click.argument("incident_id", required=False)
@click.option("--ticker", help="Ad hoc incident: the stock's Yahoo ticker (with --date).")
@click.option("--date", "event_date", help="Ad hoc incident: the date the news broke (YYYY-MM-DD).")
@click.option(
    "--time", "event_time", help="Local time the news broke (HH:MM); after the close moves day 0 to the next session."
)
@click.option("--tz", help="IANA time zone of --time (default: the exchange's zone).")
@click.option("--exchange", default=None, help="Listing exchange MIC for an ad hoc incident (default XNYS).")
@model_option
@click.option("--benchmark", help="Benchmark ticker (default: the incident's, usually ^GSPC).")
@estimation_option
@click.option(
    "--window",
    "windows",
    multiple=True,
    help="Event window START,END (repeatable; default [0,0] [0,+1] [-1,+1] [0,+5] [-5,+5]).",
)
@headline_option
@min_estimation_option
@bound_option
@click.option(
    "--shares",
    type=FiniteFloatRange(min=0, min_open=True),
    help="Shares outstanding before the incident, for the effect in money (default: the catalog's, else Yahoo's).",
)
@factors_option
@no_peers_option
@no_robustness_option
@data_dir_option
@offline_option
@format_option("table", "json")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    help="Where to write the HTML report (default reports/<id>.html).",
)
@click.option("--no-report", is_flag=True, help="Do not write the HTML report.")
@click.option(
    "--no-aftermath",
    is_flag=True,
    help="Skip the months after the incident (recovery to +120 sessions, responses, market learning): "
    "faster; the event study's numbers are unchanged.",
)
@verbose_option
@incidents_option
@timelines_option
@click.option(
    "--sales",
    "sales_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also analyse this sales CSV (see `incident-impact sales`); both results go in one report.",
)
@click.option(
    "--sales-bound",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True, max=100, max_open=True),
    help="With --sales: materiality bound in percent of sales.",
)
@outcome_option
@export_option
@sales_model_options
def analyze(
    incident_id,
    ticker,
    event_date,
    event_time,
    tz,
    exchange,
    model,
    benchmark,
    estimation,
    windows,
    headline,
    min_estimation,
    bound,
    shares,
    factors_file,
    no_peers,
    no_robustness,
    data_dir,
    offline,
    fmt,
    report_path,
    no_report,
    no_aftermath,
    verbose,
    incidents,
    timelines,
    sales_file,
    sales_bound,
    outcome,
    export_path,
    **sales_model,
) -> None:
    """Event study of one incident: a catalog ID, or an ad hoc --ticker/--date."""
    from ..analysis import analyze as run_analysis
    from ..catalog import adhoc_incident
    from ..eventstudy import DEFAULT_WINDOWS
    from ..prices import PriceResolver

    check_headline(headline, estimation)
    start_run()
    if incident_id and ticker:
        raise click.UsageError("give either an incident ID or --ticker/--date, not both")
    if incident_id:
        if event_date or event_time or tz:
            raise click.UsageError("--date/--time/--tz describe an ad hoc incident; drop them or the incident ID")
        incident = load_catalog(incidents, timelines)[incident_id]
    elif ticker and event_date:
        incident = adhoc_incident(
            ticker, event_date, time=event_time, tz=tz, benchmark=benchmark or "^GSPC", exchange=exchange or "XNYS"
        )
    else:
        raise click.UsageError("name an incident (see `incident-impact list`) or give --ticker and --date")
    source = PriceResolver(data_dir, download=not offline)
    result = run_analysis(
        incident,
        source=source,
        model=model,
        benchmark=benchmark,
        estimation=estimation,
        windows=windows or DEFAULT_WINDOWS,
        headline=headline,
        min_estimation_obs=min_estimation,
        bound=bound / 100,
        factors=read_factors(factors_file),
        shares=shares,
        peers=not no_peers,
        robustness=not no_robustness,
        aftermath=not no_aftermath,
    )
    sales = run_sales(sales_file, incident, bound=sales_bound, **sales_model) if sales_file else None
    extra = result.outcome(outcome) if outcome != "returns" else None
    # the report is written first, so a failure can go into the one JSON document
    errors: list[Exception] = []
    written: Path | None = None
    body: dict | None = None
    if fmt == "json" or not no_report:
        seeds = {"sales": sales_model.get("seed")} if sales else {}
        body = result.to_dict() | ({"sales": sales.to_dict()} if sales else {})
        body = with_manifest(body | ({"outcome": {extra["outcome"]: extra["data"]}} if extra else {}), seeds=seeds)
    if not no_report:
        from ..manifest import report_block
        from ..report import write_report

        path = Path(report_path) if report_path else Path("reports") / f"{safe_stem(incident.id)}.html"
        written = attempt(
            errors,
            call_with_manifest,
            write_report,
            result,
            path,
            sales=sales,
            block=report_block(body["manifest"], body) if body is not None else None,  # set above: not no_report
        )
    if export_path:  # written before the output, so a failure goes into the one JSON document
        from ..export import export_tables

        tables = {"windows": result.to_frame()} | ({extra["outcome"]: extra["table"]} if extra else {})
        attempt(errors, export_tables, tables, export_path)
    if fmt == "json":
        emit_json(body, errors)
    else:
        echo(result.summary() + (f"\n\n{sales.summary()}" if sales else "") + (f"\n\n{extra['text']}" if extra else ""))
    report_download_errors(verbose)
    for message in (*result.notes, *(sales.notes if sales else ())):
        note(f"warning: {message}")
    if written:
        note(f"report written to {written}")
    fail_on(errors)
