"""The ``incident-impact`` command line: a thin layer over the library.

Data goes to stdout; messages, warnings and progress go to stderr. Exit status: 0 success,
1 the analysis failed (bad data, unknown incident, too little history), 2 usage error.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import click

from . import __version__
from .errors import IncidentImpactError

FORMATS = click.Choice(["table", "json", "csv"])


class _Group(click.Group):
    """Turns library errors into one line on stderr and exit status 1 (no traceback)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except IncidentImpactError as exc:
            raise click.ClickException(str(exc)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: still one line, with a way to see more
            if ctx.obj and ctx.obj.get("debug"):
                raise
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback and please report it)"
            ) from None


def _note(message: str) -> None:
    click.echo(message, err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="incident-impact")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Did a social-media disaster move the company's stock? Event studies on a catalog of real incidents."""
    ctx.obj = {"debug": debug}


def _load_catalog(incidents: str | None, timelines: str | None):
    from .catalog import load_catalog

    catalog = load_catalog()
    if incidents:
        catalog = catalog.merged(load_catalog(incidents, timelines))
    return catalog


def _emit_rows(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(buf.getvalue(), nl=False)
    else:
        click.echo(_table(rows))


def _table(rows: list[dict]) -> str:
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


@cli.command("list")
@click.option("--category", help="Only this category (e.g. boycott, 'advertising backlash').")
@click.option("--platform", help="Only incidents on this platform (e.g. Twitter).")
@click.option("--year", type=int, help="Only incidents of this year.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@incidents_option
@timelines_option
def list_cmd(category, platform, year, fmt, incidents, timelines) -> None:
    """List catalog incidents."""
    catalog = _load_catalog(incidents, timelines).filter(category=category, platform=platform, year=year)
    rows = [
        {"id": i.id, "date": i.incident_date.isoformat(), "ticker": i.ticker or "(private)",
         "category": i.category, "platforms": ";".join(i.platforms), "company": i.company}
        for i in catalog
    ]
    _emit_rows(rows, fmt)
    _note(f"{len(rows)} incident(s)")


@cli.command()
@click.argument("incident_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@incidents_option
@timelines_option
def show(incident_id, fmt, incidents, timelines) -> None:
    """Show one incident's facts and timeline."""
    inc = _load_catalog(incidents, timelines)[incident_id]
    if fmt == "json":
        click.echo(json.dumps(inc.to_dict(), indent=2))
        return
    facts = [
        ("id", inc.id), ("name", inc.name), ("company", inc.company),
        ("ticker", f"{inc.ticker} ({inc.exchange}, {inc.currency})" if inc.is_listed else "(private company)"),
        ("benchmark", inc.benchmark), ("peers", ", ".join(inc.peers)), ("category", inc.category),
        ("platforms", ", ".join(inc.platforms)), ("confidence", inc.confidence), ("listing", inc.listing_note),
        ("summary", inc.summary), ("press claim", inc.claimed_impact),
    ]
    width = max(len(k) for k, _ in facts)
    click.echo("\n".join(f"{k:<{width}}  {v}" for k, v in facts if v))
    click.echo("\nTimeline")
    for ev in inc.timeline:
        when = ev.date.isoformat() + (f" {ev.time.strftime('%H:%M')} {ev.timezone or ''}".rstrip() if ev.time else "")
        click.echo(f"  {when:<28} {ev.kind:<11} {ev.description}")
    click.echo("\nSources")
    click.echo("\n".join(f"  {s}" for s in inc.sources))


def _safe_stem(text: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-") or "incident"
    return stem[:120]


@cli.command()
@click.argument("incident_id", required=False)
@click.option("--ticker", help="Ad hoc incident: the stock's Yahoo ticker (with --date).")
@click.option("--date", "event_date", help="Ad hoc incident: the date the news broke (YYYY-MM-DD).")
@click.option("--time", "event_time", help="Local time the news broke (HH:MM); after the close moves day 0 to the next session.")
@click.option("--tz", help="IANA time zone of --time (default: the exchange's zone).")
@click.option("--exchange", default=None, help="Listing exchange MIC for an ad hoc incident (default XNYS).")
@click.option("--model", type=click.Choice(["market", "mean", "market-adjusted"]), default="market", show_default=True)
@click.option("--benchmark", help="Benchmark ticker (default: the incident's, usually ^GSPC).")
@estimation_option
@click.option("--window", "windows", multiple=True, help="Event window START,END (repeatable; default [0,0] [0,+1] [-1,+1] [0,+5] [-5,+5]).")
@min_estimation_option
@click.option("--bound", default=2.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Materiality bound in percent: the equivalence test asks whether |CAR| < bound.")
@data_dir_option
@offline_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Where to write the HTML report (default reports/<id>.html).")
@click.option("--no-report", is_flag=True, help="Do not write the HTML report.")
@incidents_option
@timelines_option
def analyze(incident_id, ticker, event_date, event_time, tz, exchange, model, benchmark, estimation, windows,
            min_estimation, bound, data_dir, offline, fmt, report_path, no_report, incidents, timelines) -> None:
    """Event study of one incident: a catalog ID, or an ad hoc --ticker/--date."""
    from .analysis import analyze as run_analysis
    from .catalog import adhoc_incident
    from .eventstudy import DEFAULT_WINDOWS
    from .prices import PriceResolver

    if incident_id and ticker:
        raise click.UsageError("give either an incident ID or --ticker/--date, not both")
    if incident_id:
        if event_date or event_time or tz:
            raise click.UsageError("--date/--time/--tz describe an ad hoc incident; drop them or the incident ID")
        incident = _load_catalog(incidents, timelines)[incident_id]
    elif ticker and event_date:
        incident = adhoc_incident(ticker, event_date, time=event_time, tz=tz, benchmark=benchmark or "^GSPC",
                                  exchange=exchange or "XNYS")
    else:
        raise click.UsageError("name an incident (see `incident-impact list`) or give --ticker and --date")
    source = PriceResolver(data_dir, download=not offline)
    result = run_analysis(incident, source=source, model=model, benchmark=benchmark, estimation=estimation,
                          windows=windows or DEFAULT_WINDOWS, min_estimation_obs=min_estimation, bound=bound / 100)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(result.summary())
    for note in result.notes:
        _note(f"warning: {note}")
    if not no_report:
        from .report import write_report

        path = Path(report_path) if report_path else Path("reports") / f"{_safe_stem(incident.id)}.html"
        written = write_report(result, path)
        _note(f"report written to {written}")


def _read_events_csv(path: str) -> list[dict]:
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str).fillna("")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise IncidentImpactError(f"cannot read the events file {path}: {exc}") from None
    missing = [c for c in ("event_id", "ticker", "event_date") if c not in frame.columns]
    if missing:
        raise IncidentImpactError(f"the events file {path} lacks the column(s) {', '.join(missing)}")
    dup = frame["event_id"][frame["event_id"].duplicated()]
    if len(dup):
        raise IncidentImpactError(f"duplicate event ids in {path}: {', '.join(dup.unique()[:5])}")
    return frame.to_dict("records")


def _num(value):
    import math

    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 10)
    return value


@cli.command()
@click.argument("incident_ids", nargs=-1)
@click.option("--category", help="Every listed incident of this category.")
@click.option("--all", "all_", is_flag=True, help="Every listed incident in the catalog.")
@click.option("--events", "events_file", type=click.Path(exists=True, dir_okay=False),
              help="Your own events CSV: event_id, ticker, event_date (day-0 session), optional benchmark.")
@click.option("--model", type=click.Choice(["market", "mean", "market-adjusted", "ff3", "carhart", "ff5"]),
              default="market", show_default=True)
@estimation_option
@click.option("--window", "windows", multiple=True, help="Event window START,END (repeatable; default [0,+1] [-1,+1] [0,+5]).")
@click.option("--factors", "factors_file", type=click.Path(exists=True, dir_okay=False),
              help="Daily factor CSV in percent (Kenneth French's: date, mkt_rf, smb, hml, rmw, cma, mom, rf).")
@min_estimation_option
@data_dir_option
@offline_option
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@incidents_option
@timelines_option
def study(incident_ids, category, all_, events_file, model, estimation, windows, factors_file, min_estimation,
          data_dir, offline, fmt, incidents, timelines) -> None:
    """Multi-event study: CARs per event and the nine tests (cs_t, time_series_t, patell, bmp, kp_bmp,
    corrado, generalized_sign, wilcoxon, sq) over catalog incidents and/or your events CSV.

    Events that cannot be analysed are listed with the reason (stderr; under "failures" in JSON).
    Exit status 1 when no event could be analysed.
    """
    import warnings

    import pandas as pd

    from .analysis import load_study_data
    from .eventstudy import format_window, parse_window, read_french_factors, run_study
    from .prices import PriceResolver

    if not (incident_ids or category or all_ or events_file):
        raise click.UsageError("name incidents, or give --category, --all or --events FILE.csv")
    windows = tuple(parse_window(w) for w in windows) or ((0, 1), (-1, 1), (0, 5))
    estimation = parse_window(estimation)
    chosen = []
    if incident_ids or category or all_:
        catalog = _load_catalog(incidents, timelines)
        if all_:
            chosen = list(catalog)
        else:
            chosen = [catalog[i] for i in incident_ids]
            if category:
                extra = list(catalog.filter(category=category))
                if not extra:
                    raise IncidentImpactError(f"no incident in category {category!r}; known: {', '.join(catalog.categories)}")
                chosen += [i for i in extra if i.id not in {c.id for c in chosen}]
    user_events = _read_events_csv(events_file) if events_file else []
    factors = read_french_factors(factors_file) if factors_file else None
    source = PriceResolver(data_dir, download=not offline)
    returns, benches, events, failures = load_study_data(chosen, user_events, source, estimation, windows)
    result = None
    if events:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run_study(pd.DataFrame(returns), pd.DataFrame(benches), pd.DataFrame(events), model=model,
                               estimation=estimation, windows=windows, factors=factors, min_estimation_obs=min_estimation)
        failures += [{**r, "event_date": str(pd.Timestamp(r["event_date"]).date())} for r in result.failures.to_dict("records")]
    per_event, tests = [], []
    if result is not None and result.n_events:
        for r in result.cars.to_dict("records"):
            per_event.append({
                "event_id": r["event_id"], "ticker": r["ticker"], "day0": r["day0"].date().isoformat(),
                "window": r["window"], "car_pct": round(100 * r["car"], 3), "se_pct": round(100 * r["se"], 3),
                "t_stat": round(r["t_stat"], 3), "p_value": round(r["p_value"], 4), "sq_p_value": round(r["sq_p_value"], 4),
            })
        for w in windows:
            for name, row in result.tests(w).iterrows():
                tests.append({"window": format_window(w), "test": name, "statistic": _num(row.statistic),
                              "p_value": _num(row.p_value), "df": _num(row.df), "n_events": int(row.n_events),
                              "distribution": row.distribution, "note": row.note})
    warn = list(result.warnings) if result is not None else []
    if fmt == "json":
        click.echo(json.dumps({"model": model, "estimation": format_window(estimation),
                               "windows": [format_window(w) for w in windows], "events": per_event, "tests": tests,
                               "failures": failures, "warnings": warn}, indent=2, default=str))
    elif fmt == "csv":
        _emit_rows(per_event, "csv")
        click.echo("")
        _emit_rows(tests, "csv")
    else:
        click.echo(f"Model {model}, estimation {format_window(estimation)}: {result.n_events if result is not None else 0} event(s) analysed")
        click.echo("")
        _emit_rows(per_event, "table")
        click.echo("")
        rows = [{**t, "statistic": "nan" if t["statistic"] is None else f"{t['statistic']:.4f}",
                 "p_value": "nan" if t["p_value"] is None else f"{t['p_value']:.4f}",
                 "df": "" if t["df"] is None else f"{t['df']:g}"} for t in tests]
        _emit_rows(rows, "table")
    if fmt != "json":
        for f in failures:
            reason = f["reason"] if str(f["reason"]).startswith(f"{f['event_id']}:") else f"{f['event_id']}: {f['reason']}"
            _note(f"not analysed: {reason}")
        for w in warn:
            _note(f"warning: {w}")
    if not per_event:
        raise click.ClickException("no event could be analysed")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="incident-impact")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
