"""`study`: the catalog-wide study (per-incident verdicts, BH, counts, the answer, the study report)
over catalog incidents and/or the user's own events."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import cast

import click

from ..errors import IncidentImpactError
from .common import (
    Progress,
    attempt,
    bound_option,
    call_with_manifest,
    check_headline,
    data_dir_option,
    echo,
    emit_json,
    emit_rows,
    estimation_option,
    export_option,
    factors_option,
    fail_on,
    failure_line,
    format_option,
    headline_option,
    incidents_option,
    load_catalog,
    min_estimation_option,
    model_option,
    no_peers_option,
    no_robustness_option,
    note,
    num,
    offline_option,
    outcome_option,
    read_factors,
    report_download_errors,
    report_stems,
    start_run,
    timelines_option,
    verbose_option,
    with_headline,
    with_manifest,
)
from .group import PARTIAL_FAILURE, cli


def _select(catalog, incident_ids, category, platform, year, all_):
    """The incidents named by id plus those matching the filters (``--all``: every one)."""
    chosen = [catalog[i] for i in incident_ids]
    if all_ or category or platform or year:
        picked = list(catalog.filter(category=category, platform=platform, year=year))
        if not picked:
            filters = ", ".join(
                f"{k} {v!r}" for k, v in (("category", category), ("platform", platform), ("year", year)) if v
            )
            raise IncidentImpactError(f"no incident matches {filters}; see `incident-impact list`")
        chosen += [i for i in picked if i.id not in {c.id for c in chosen}]
    return chosen


@cli.command()
@click.argument("incident_ids", nargs=-1)
@click.option(
    "--all", "all_", is_flag=True, help="Every incident in the catalog (private ones are listed as not studied)."
)
@click.option("--category", help="Incidents of this category (see `incident-impact list`).")
@click.option("--platform", help="Incidents on this platform (e.g. Twitter).")
@click.option("--year", type=int, help="Incidents of this year.")
@click.option(
    "--events",
    "events_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Your own events CSV: event_id, ticker, event_date (day-0 session), optional benchmark.",
)
@model_option
@estimation_option
@click.option(
    "--window", "windows", multiple=True, help="Event window START,END (repeatable; default [0,+1] [-1,+1] [0,+5])."
)
@headline_option
@factors_option
@min_estimation_option
@bound_option
@click.option(
    "--include-confounded",
    is_flag=True,
    help="Count incidents with other news (earnings, ...) inside a window with the others in the answer, "
    "counts and tests (by default they are counted apart as confounded).",
)
@no_peers_option
@no_robustness_option
@data_dir_option
@offline_option
@format_option("table", "json", "csv")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False),
    default="reports/study.html",
    show_default=True,
    help="Where to write the study report; each incident's report goes to the same folder.",
)
@click.option("--no-report", is_flag=True, help="Write no HTML report.")
@click.option("--no-incident-reports", is_flag=True, help="Write the study report only, not one report per incident.")
@incidents_option
@timelines_option
@click.option(
    "--placebo",
    "placebo",
    type=click.IntRange(min=1),
    metavar="N",
    help="Also draw N random pseudo-event dates per event (own stock, event periods not overlapping) and "
    "report the share of placebo CARs at least as large in absolute value as the real one.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Also regress the incidents' headline CARs on their characteristics (category, platform, response "
    "kind and delay, market value, volatility, region, year): HC3 errors and permutation p-values.",
)
@click.option(
    "--permutations",
    type=click.IntRange(min=99),
    default=9999,
    show_default=True,
    help="With --explain: permutations of the Freedman-Lane test.",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(min=99),
    metavar="N",
    help="Also give bootstrap p-values of the cross-sectional tests from N resamples that keep the "
    "dependence between events (--bootstrap-kind date: whole days drawn jointly; wild: shared signs).",
)
@click.option(
    "--bootstrap-kind",
    type=click.Choice(["date", "wild"]),
    default="date",
    show_default=True,
    help="With --bootstrap: the resampling scheme.",
)
@outcome_option
@export_option
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Seed of the --placebo draw and the --explain permutations, a whole number >= 0 (same seed, same result).",
)
@verbose_option
def study(
    incident_ids,
    all_,
    category,
    platform,
    year,
    events_file,
    model,
    estimation,
    windows,
    headline,
    factors_file,
    min_estimation,
    bound,
    include_confounded,
    no_peers,
    no_robustness,
    data_dir,
    offline,
    fmt,
    report_path,
    no_report,
    no_incident_reports,
    incidents,
    timelines,
    placebo,
    explain,
    permutations,
    bootstrap,
    bootstrap_kind,
    outcome,
    export_path,
    seed,
    verbose,
) -> None:
    """Did the incidents move their stocks? Per-incident verdicts (Benjamini-Hochberg across incidents),
    verdict counts, the cross-sectional tests (cs_t, time_series_t, patell, bmp, kp_bmp, corrado,
    corrado_zivney, grank, generalized_sign, wilcoxon) and a plain-language answer, plus an HTML study report.

    Events that cannot be studied are listed with the reason (stderr; "failures" in JSON); incidents that
    cannot be studied by nature (a private company, a company listed after the incident) are listed as
    not applicable ("not_applicable" in JSON). Exit status 0 when every event was studied or is not
    applicable, 3 when some could not be studied (missing data, failed downloads), 1 when none was.
    """
    from ..catalog_study import STUDY_WINDOWS, read_events_csv, study_incidents
    from ..eventstudy import format_window, parse_window
    from ..prices import PriceResolver

    check_headline(headline, estimation)
    start_run()

    if not (incident_ids or all_ or category or platform or year or events_file):
        raise click.UsageError("name incidents, or give --all, --category, --platform, --year or --events FILE.csv")
    chosen = []
    if incident_ids or all_ or category or platform or year:
        chosen = _select(load_catalog(incidents, timelines), incident_ids, category, platform, year, all_)
    user_events = read_events_csv(events_file) if events_file else []
    source = PriceResolver(data_dir, download=not offline)
    factors = read_factors(factors_file)
    with Progress(len(chosen), "studying", fmt) as bar:
        result = study_incidents(
            chosen,
            user_events=user_events,
            source=source,
            model=model,
            estimation=estimation,
            windows=with_headline(headline, tuple(parse_window(w) for w in windows) or STUDY_WINDOWS),
            factors=factors,
            min_estimation_obs=min_estimation,
            bound=bound / 100,
            include_confounded=include_confounded,
            peers=not no_peers,
            robustness=not no_robustness,
            progress=bar.step,
        )
    if bootstrap:
        result = dataclasses.replace(result, bootstrap=(bootstrap, seed, bootstrap_kind))
    extra = result.outcome(outcome) if outcome != "returns" and result.study is not None else None
    placebo_rows = _placebo_rows(result, placebo, seed, min_estimation, factors, source, fmt) if placebo else None
    drivers = None
    if explain and result.windows:
        drivers = result.drivers(permutations=permutations, **({} if seed is None else {"seed": seed}))
    body = block = None
    writes_report = result.study is not None and not no_report
    if fmt == "json" or writes_report:
        from ..manifest import report_block

        body = result.to_dict() | {"drivers": None if drivers is None else drivers.to_dict()}
        body |= {"outcome": {extra["outcome"]: extra["data"]}} if extra else {}
        body = with_manifest(
            {**body, **({"placebo": placebo_rows} if placebo else {})},
            seeds={
                "placebo": seed if placebo else None,
                "bootstrap": seed if bootstrap else None,
                "explain_permutations": None if drivers is None else drivers.to_dict().get("seed"),
            },
        )
        block = report_block(body["manifest"], body)
    # the reports are written first, so a failure can go into the one JSON document
    errors: list[Exception] = []
    written: list[str] = []  # one message per report
    if writes_report:
        written = (
            attempt(
                errors, _write_reports, result, Path(report_path), not no_incident_reports, drivers=drivers, block=block
            )
            or []
        )
    if export_path and result.study is not None:
        from ..export import export_tables

        tables = {f"verdicts {format_window(w)}": result.verdict_table(w) for w in result.windows}
        tables |= {f"tests {format_window(w)}": result.tests(w) for w in result.windows}
        attempt(errors, export_tables, tables | ({extra["outcome"]: extra["table"]} if extra else {}), export_path)
    if fmt == "json":
        emit_json(body, errors)
    elif fmt == "csv":
        rows = []
        for w in result.windows:
            table = result.verdict_table(w).reset_index()
            rows += [
                {"window": format_window(w), **{k: num(v) for k, v in r.items()}} for r in table.to_dict("records")
            ]
        emit_rows(rows, "csv")
    else:
        echo(result.summary())
        if drivers is not None:
            echo("\nWhat makes an incident matter?\n" + drivers.summary())
        if extra is not None:
            echo("\n" + extra["text"])
    if placebo_rows and fmt != "json":
        echo("")
        if fmt == "table":
            echo(
                f"Placebo: {placebo} random pseudo-event dates per event; "
                "share_beyond = share of |placebo CAR| >= |CAR|"
            )
        emit_rows(placebo_rows, fmt)
    if fmt != "json":
        for f in result.not_applicable.to_dict("records"):
            note(f"not applicable: {failure_line(f, False)}")
        for f in result.failures.to_dict("records"):
            note(f"not studied: {failure_line(f, verbose)}")
    report_download_errors(verbose, skip=set(result.failures["ticker"]) | set(result.not_applicable["ticker"]))
    for message in written:
        note(message)
    fail_on(errors)  # a report that could not be written: exit status 1
    if result.n_events == 0:
        raise click.ClickException("no event could be studied")
    if len(result.failures):
        also = f" ({len(result.not_applicable)} more not applicable)" if len(result.not_applicable) else ""
        note(f"{len(result.failures)} event(s) not studied{also}; exit status {PARTIAL_FAILURE} (partial failure)")
        raise click.exceptions.Exit(PARTIAL_FAILURE)


def _placebo_rows(result, n: int, seed: int | None, min_estimation: int, factors, source, fmt) -> list[dict]:
    """``--placebo N``: per event and window, the real CAR against N placebo CARs (:func:`placebo_test`),
    drawn from each stock's whole history in ``source`` (not only the range the study loaded). Each event
    gets its own draw, seeded from ``(seed, its position)``; the rows carry ``n_requested``."""
    import numpy as np
    import pandas as pd

    from ..catalog import DEFAULT_EXCHANGE
    from ..eventstudy import run_study
    from ..eventstudy.placebo import placebo_test
    from ..loading import load_whole_returns

    if result.study is None or not result.n_events:
        return []
    study = result.study
    events = study.events[study.events["event_id"].isin(study.event_ids)].reset_index(drop=True)
    exchange = {eid: (a.incident.exchange or DEFAULT_EXCHANGE) for eid, a in result.analyses.items()}
    whole: dict[str, pd.Series | None] = {}

    def returns_of(ticker: str, eid: str, fallback: pd.Series | None) -> pd.Series | None:
        if ticker not in whole:
            try:
                whole[ticker] = load_whole_returns(source, ticker, exchange.get(eid, DEFAULT_EXCHANGE))
            except IncidentImpactError:
                whole[ticker] = fallback
        return whole[ticker]

    tables = []
    with Progress(len(events), "placebo", fmt) as bar:
        for i, ev in enumerate(events.to_dict("records")):
            eid, ticker, bench_ticker = ev["event_id"], ev["ticker"], ev.get("benchmark")
            loaded = study.returns[ticker] if study.returns is not None and ticker in study.returns else None
            stock = returns_of(ticker, eid, loaded)
            bench = returns_of(bench_ticker, eid, study.benchmarks.get(eid)) if bench_ticker else None
            event_seed = None if seed is None else int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            try:
                one = run_study(
                    pd.DataFrame({ticker: stock}),
                    pd.DataFrame({bench_ticker: bench}) if bench is not None else None,
                    pd.DataFrame([ev]),
                    spec=study.spec,
                    min_estimation_obs=min_estimation,
                )
                tables.append(placebo_test(one, n, seed=event_seed, min_estimation_obs=min_estimation))
            except IncidentImpactError as exc:
                note(f"placebo: {eid}: {exc}")
            bar.step(eid)
    if not tables:
        return []
    table = pd.concat(tables, ignore_index=True)
    table.insert(cast(int, table.columns.get_loc("n_placebo")), "n_requested", n)  # a unique column: its position
    for r in table[table["n_placebo"] < n].drop_duplicates("event_id").itertuples():
        note(
            f"placebo: {r.event_id} has {r.n_placebo} eligible pseudo-event dates in {r.ticker}'s whole history "
            f"(asked for {n})"
        )
    return [{k: num(v) for k, v in r.items()} for r in table.to_dict("records")]


def _write_reports(result, path: Path, incident_reports: bool, drivers=None, block=None) -> list[str]:
    """The study report at ``path`` (with the ``drivers`` section when given) and, optionally, each
    analysed incident's report in the folder ``<stem>-incidents/`` beside it (so a study never
    overwrites what ``analyze`` wrote); all of them load one ``plotly.min.js`` written beside the
    study report (a study report without incident reports stays one self-contained file). Returns the
    messages saying where they went. Two ids never share a file (:func:`report_stems`)."""
    from ..report import write_report, write_study_report
    from ..report.page import PLOTLY_FILE

    shared = path.parent / PLOTLY_FILE
    links, messages = {}, []
    if incident_reports:
        folder = path.parent / f"{path.stem}-incidents"
        for eid, stem in report_stems(result.analyses).items():
            write_report(result.analyses[eid], folder / f"{stem}.html", plotlyjs=shared)
            links[eid] = f"{folder.name}/{stem}.html"
        messages.append(f"{len(links)} incident report(s) written to {folder}")
    # block: the run's manifest and JSON result, embedded as <script type="application/json" id="manifest">
    written = call_with_manifest(
        write_study_report,
        result,
        path,
        block=block,
        links=links,
        drivers=drivers,
        plotlyjs=shared if links else "inline",
    )
    messages.append(f"study report written to {written}")
    return messages
