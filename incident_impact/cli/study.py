"""`study`: a multi-event study over catalog incidents and/or the user's own events."""

from __future__ import annotations

import json

import click

from ..errors import IncidentImpactError
from .common import (FORMATS, data_dir_option, emit_rows, estimation_option, factors_option, incidents_option, load_catalog,
                     min_estimation_option, model_option, note, num, offline_option, read_factors, timelines_option)
from .group import cli


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


@cli.command()
@click.argument("incident_ids", nargs=-1)
@click.option("--category", help="Every listed incident of this category.")
@click.option("--all", "all_", is_flag=True, help="Every listed incident in the catalog.")
@click.option("--events", "events_file", type=click.Path(exists=True, dir_okay=False),
              help="Your own events CSV: event_id, ticker, event_date (day-0 session), optional benchmark.")
@model_option
@estimation_option
@click.option("--window", "windows", multiple=True, help="Event window START,END (repeatable; default [0,+1] [-1,+1] [0,+5]).")
@factors_option
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

    from ..analysis import load_study_data
    from ..eventstudy import format_window, parse_window, run_study
    from ..prices import PriceResolver

    if not (incident_ids or category or all_ or events_file):
        raise click.UsageError("name incidents, or give --category, --all or --events FILE.csv")
    windows = tuple(parse_window(w) for w in windows) or ((0, 1), (-1, 1), (0, 5))
    estimation = parse_window(estimation)
    chosen = []
    if incident_ids or category or all_:
        catalog = load_catalog(incidents, timelines)
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
    factors = read_factors(factors_file)
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
                tests.append({"window": format_window(w), "test": name, "statistic": num(row.statistic),
                              "p_value": num(row.p_value), "df": num(row.df), "n_events": int(row.n_events),
                              "distribution": row.distribution, "note": row.note})
    warn = list(result.warnings) if result is not None else []
    if fmt == "json":
        click.echo(json.dumps({"model": model, "estimation": format_window(estimation),
                               "windows": [format_window(w) for w in windows], "events": per_event, "tests": tests,
                               "failures": failures, "warnings": warn}, indent=2, default=str))
    elif fmt == "csv":
        emit_rows(per_event, "csv")
        click.echo("")
        emit_rows(tests, "csv")
    else:
        click.echo(f"Model {model}, estimation {format_window(estimation)}: {result.n_events if result is not None else 0} event(s) analysed")
        click.echo("")
        emit_rows(per_event, "table")
        click.echo("")
        rows = [{**t, "statistic": "nan" if t["statistic"] is None else f"{t['statistic']:.4f}",
                 "p_value": "nan" if t["p_value"] is None else f"{t['p_value']:.4f}",
                 "df": "" if t["df"] is None else f"{t['df']:g}"} for t in tests]
        emit_rows(rows, "table")
    if fmt != "json":
        for f in failures:
            reason = f["reason"] if str(f["reason"]).startswith(f"{f['event_id']}:") else f"{f['event_id']}: {f['reason']}"
            note(f"not analysed: {reason}")
        for w in warn:
            note(f"warning: {w}")
    if not per_event:
        raise click.ClickException("no event could be analysed")
