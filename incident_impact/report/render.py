"""Render an :class:`~incident_impact.analysis.IncidentAnalysis` as one self-contained HTML file.

The page inlines plotly.js once and loads nothing from the network. Every piece of incident
text goes through Jinja2's autoescaping; only the plotly snippets and plotly.js are marked safe.

Many reports in one folder tree (a study and its incidents) can share one ``plotly.min.js``
instead (``plotlyjs=`` of :func:`write_report` / :func:`write_study_report`): the file is written
beside them atomically (never fetched) and each page loads it by a relative URL, still offline.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd
from markupsafe import Markup

from ..eventstudy import format_window
from ..manifest import script_tag
from ..money import MarketValue, format_money
from ..verdict import UNRELIABLE, VERDICT_TEXT
from . import figures, study_figures
from .aftermath import (
    drivers_context,
    incident_aftermath_context,
    longrun_context,
    plain_names,
    pooled_context,
    responses_context,
)
from .glossary import GLOSSARY, TEST_LABELS
from .page import environment, figure_html, num, pct, plotly_js, shared_plotlyjs, tool_version, write_html

if TYPE_CHECKING:
    from ..aftermath.drivers import CarDrivers
    from ..analysis import IncidentAnalysis
    from ..catalog_study import CatalogStudy
    from ..sales import SalesImpact

TEMPLATE = "incident.html.j2"
STUDY_TEMPLATE = "study.html.j2"
#: Parameter name -> (label, formatter kind) for the model table.
_PARAM_LABELS = {
    "alpha": ("alpha (intercept, % per day)", "pct"),
    "mu": ("mu (mean return, % per day)", "pct"),
    "beta": ("beta", "num"),
    "sigma": ("sigma (residual s.d., % per day)", "pct"),
    "r_squared": ("R²", "num"),
}


# ----------------------------------------------------------------- context
def _joined(values) -> str:
    return ", ".join(str(v) for v in values or ())


def _when(event) -> str:
    """``2017-04-09 18:00 America/Chicago`` (time and zone only when known)."""
    text = event.date.isoformat()
    if event.time is not None:
        text += " " + event.time.strftime("%H:%M") + (f" {event.timezone}" if event.timezone else "")
    return text


def _facts(analysis: IncidentAnalysis) -> list[tuple[str, str | None]]:
    inc, result = analysis.incident, analysis.result
    anchor = inc.day0_event
    session = f"{analysis.day0.date().isoformat()} ({inc.exchange or 'XNYS'} session)"
    if result.day0 != analysis.day0:
        session += f"; first date with data: {result.day0.date().isoformat()}"
    return [
        ("Company", inc.company),
        # an analysed incident always has a ticker (a private company cannot be analysed)
        ("Ticker", (inc.ticker or "") + (f" (formerly {_joined(inc.former_tickers)})" if inc.former_tickers else "")),
        ("Exchange", inc.exchange),
        ("Benchmark", analysis.benchmark_ticker),
        ("Peers", _joined(inc.peers)),
        ("Category", inc.category),
        ("Platforms", _joined(inc.platforms)),
        ("Incident date", inc.incident_date.isoformat() if inc.incident_date else ""),
        ("News reached the market", f"{_when(anchor)} ({anchor.kind})"),
        ("Day 0", session),
        ("Confidence", inc.confidence),
        ("Listing", inc.listing_note),
    ]


def _price_caption(analysis: IncidentAnalysis, prices, events) -> str:
    stock, bench = analysis.stock.ticker, analysis.benchmark.ticker
    base = prices.index[max(int(prices.index.searchsorted(analysis.result.day0)) - 1, 0)]
    n_conf = sum(e.is_confounder for e in events)
    result = analysis.result
    ar = result.abnormal_returns
    return (
        f"Adjusted closes of {stock} and {bench}, each indexed to 100 on {base.date()}, from "
        f"{prices.index[0].date()} to {prices.index[-1].date()}; on the last date {stock} stands at "
        f"{prices['stock'].iloc[-1]:.1f} and {bench} at {prices['benchmark'].iloc[-1]:.1f}. "
        f"{len(events)} timeline event{'s' if len(events) != 1 else ''} marked ({n_conf} possible "
        f"confounder{'s' if n_conf != 1 else ''}, dotted lines); shaded: the estimation window (up to "
        f"{result.estimation.index[-1].date()}) and the event period {ar.index[0].date()} to {ar.index[-1].date()}."
    )


def _car_caption(analysis: IncidentAnalysis) -> str:
    result = analysis.result
    path = result.car_path()
    last = path.iloc[-1]
    period = format_window((int(path["rel_day"].iloc[0]), int(last.rel_day)))
    return (
        f"Daily abnormal returns of {analysis.stock.ticker} (bars) over the event period {period} and the "
        f"cumulative abnormal return from day {int(path['rel_day'].iloc[0])} (line) with its 95 % band; "
        f"CAR{period} = {pct(last.car)} (95 %: {pct(last.lower)} to {pct(last.upper)}). "
        f"Verdict: {analysis.verdict()}."
    )


def _ar_rows(analysis: IncidentAnalysis) -> list[dict]:
    ar = analysis.result.abnormal_returns
    path = analysis.result.car_path()
    return [
        {
            "date": cast(pd.Timestamp, date).date().isoformat(),  # the index holds the sessions
            "rel_day": int(row.rel_day),
            "return": row["return"],
            "expected": row.expected,
            "ar": row.ar,
            "car": path.at[date, "car"],
            "lower": path.at[date, "lower"],
            "upper": path.at[date, "upper"],
        }
        for date, row in ar.iterrows()
    ]


def _windows(analysis: IncidentAnalysis) -> list[dict]:
    headline = format_window(analysis.headline_window)
    verdicts = analysis.verdicts()
    rows = []
    # car_table is indexed by the window labels
    for label, row in cast(dict[str, dict[str, Any]], analysis.result.car_table.to_dict("index")).items():
        v = cast(pd.Series, verdicts.loc[label])  # one row: the window labels are unique
        money = {}
        value = analysis.market_value
        if "value_change" in verdicts and isinstance(value, MarketValue):  # value_change: the value is known
            currency = value.currency
            money = {
                k: format_money(v[k], currency) for k in ("value_change", "value_change_lower", "value_change_upper")
            }
        rows.append(
            {
                "label": label,
                "headline": label == headline,
                **row,
                "tost_p_value": v["tost_p_value"],
                "mde": v["mde"],
                "verdict": v["text"],
                **money,
            }
        )
    return rows


def _money(analysis: IncidentAnalysis) -> dict:
    value = analysis.market_value
    if isinstance(value, MarketValue):
        return {"known": True, "text": value.describe()}
    return {"known": False, "text": value}


def _cells(table: pd.DataFrame, key: str, windows: list[str]) -> list[dict]:
    """Rows of a long (key, window) table as ``{key, cells}`` with one cell (or None) per window."""
    out = []
    for name, group in table.groupby(key, sort=False):
        by_window = group.set_index("window").to_dict("index")
        out.append({key: name, "cells": [by_window.get(w) for w in windows]})
    return out


def _robustness(analysis: IncidentAnalysis) -> dict | None:
    checks = analysis.robustness
    if checks is None:
        return None
    frame = checks.to_frame().reset_index()
    windows = list(dict.fromkeys(frame["window"]))
    return {
        "statement": checks.statement(),
        "windows": windows,
        "rows": _cells(frame, "specification", windows),
        "failures": list(checks.failures.items()),
    }


def _params(analysis: IncidentAnalysis) -> list[tuple[str, str]]:
    rows = []
    for name, value in analysis.result.params.items():
        key = cast(str, name)  # parameter names are strings
        label, kind = _PARAM_LABELS.get(key, (key, "num"))
        rows.append((label, pct(value, 3, signed=False) if kind == "pct" else num(value)))
    return rows


def _context(analysis: IncidentAnalysis, generated_at: dt.datetime) -> dict:
    result = analysis.result
    prices = figures.indexed_prices(analysis)
    events = figures.timeline_in_view(analysis, prices.index)
    return {
        "analysis": analysis,
        "incident": analysis.incident,
        "verdict": analysis.verdict(),
        "plain": analysis.plain(),
        "headline_label": format_window(analysis.headline_window),
        "glossary": GLOSSARY,
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        "version": tool_version(),
        "plotly_js": plotly_js(),
        "facts": _facts(analysis),
        "figures": {
            "prices": {
                "html": figure_html(figures.price_figure(analysis), "fig-prices"),
                "caption": _price_caption(analysis, prices, events),
            },
            "car": {
                "html": figure_html(figures.car_figure(analysis), "fig-car"),
                "caption": _car_caption(analysis),
            },
        },
        "ar_rows": _ar_rows(analysis),
        "windows": _windows(analysis),
        "bound": analysis.bound,
        "params": _params(analysis),
        "estimation": {"window": format_window(result.estimation_window), **result.estimation_info},
        "df": int(result.fitted.df),
        "timeline": sorted(analysis.incident.timeline, key=lambda e: (e.date, e.time or dt.time.min)),
        "when": _when,
        "notes": analysis.notes,
        "confounders": analysis.confounder_messages(),
        "money": _money(analysis),
        "robustness": _robustness(analysis),
        "peer_windows": list(result.car_table.index),
        "peers": _cells(analysis.peer_table(), "ticker", list(result.car_table.index)),
        "peer_failures": list(analysis.peer_failures.items()),
        "model_description": result.fitted.model.description,
        "aftermath": _safe_figures(incident_aftermath_context(analysis)),
    }


def _safe_figures(context: dict | None) -> dict | None:
    """``context`` with its plotly snippets (keys ``figure``, nested) marked safe for the template."""
    if context is None:
        return None
    out: dict[str, Any] = {}
    for key, value in context.items():
        if key == "figure" and value is not None:
            out[key] = Markup(value)
        elif isinstance(value, dict):
            out[key] = _safe_figures(value)
        else:
            out[key] = value
    return out


# ----------------------------------------------------------------- public API
def render_incident_report(
    analysis: IncidentAnalysis,
    *,
    generated_at: dt.datetime | None = None,
    sales: SalesImpact | None = None,
    plotly_src: str | None = None,
    manifest: Mapping | None = None,
) -> str:
    """The incident report as one HTML string (about 4.8 MB, plotly.js inlined).

    ``generated_at`` is the timestamp printed in the header (default: now, UTC); with ``sales``
    the report gains the sales section (``templates/sales.html.j2``); with ``plotly_src`` (a
    relative URL such as ``"../plotly.min.js"``) the page loads plotly.js from there instead of
    inlining it; ``manifest`` (``{"manifest": ..., "result": ...}``, see
    :func:`incident_impact.manifest.report_block`) is embedded for ``incident-impact verify``.
    """
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    context = _context(analysis, generated_at) | _plotly_context(plotly_src) | _manifest_context(manifest)
    if sales is not None:
        from .sales import sales_context  # report.sales imports this module

        context["sales"] = sales_context(sales)
    return environment().get_template(TEMPLATE).render(context)


def write_report(
    analysis: IncidentAnalysis,
    path: str | os.PathLike[str],
    *,
    generated_at: dt.datetime | None = None,
    sales: SalesImpact | None = None,
    plotlyjs: str | os.PathLike[str] = "inline",
    manifest: Mapping | None = None,
) -> Path:
    """Render the incident report (with the sales section when ``sales`` is given, the run's
    ``manifest`` block when given) and write it to ``path`` atomically; return the path.

    ``plotlyjs``: ``"inline"`` (default: one self-contained file), ``"directory"`` (share
    ``plotly.min.js`` in the report's folder) or the path of the shared ``plotly.min.js`` (see
    :func:`shared_plotlyjs`).
    """
    src = shared_plotlyjs(path, plotlyjs)
    return write_html(
        render_incident_report(analysis, generated_at=generated_at, sales=sales, plotly_src=src, manifest=manifest),
        path,
    )


def render_study_report(
    study: CatalogStudy,
    *,
    links: Mapping[str, str] | None = None,
    generated_at: dt.datetime | None = None,
    drivers: CarDrivers | None = None,
    plotly_src: str | None = None,
    manifest: Mapping | None = None,
) -> str:
    """The study report as one HTML string: the answer, verdict counts, forest plot, CAAR path,
    the sortable verdict table (with ``links``: event id -> relative URL of its incident report),
    the press's claims beside the measured effect, the tests, the pooled estimate and the
    literature, recovery and responses across incidents, what makes an incident matter (with
    ``drivers``, the result of ``study.drivers(...)``), and what was left out. ``plotly_src``: see
    :func:`render_incident_report`."""
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    context = (
        _study_context(study, links or {}, generated_at, drivers)
        | _plotly_context(plotly_src)
        | _manifest_context(manifest)
    )
    return environment().get_template(STUDY_TEMPLATE).render(context)


def write_study_report(
    study: CatalogStudy,
    path: str | os.PathLike[str],
    *,
    links: Mapping[str, str] | None = None,
    generated_at: dt.datetime | None = None,
    drivers: CarDrivers | None = None,
    plotlyjs: str | os.PathLike[str] = "inline",
    manifest: Mapping | None = None,
) -> Path:
    """Render the study report (with the run's ``manifest`` block when given) and write it to ``path``
    atomically; return the path. ``plotlyjs``:
    see :func:`write_report` (a study writes one ``plotly.min.js`` beside its report and passes its
    path to each incident report)."""
    src = shared_plotlyjs(path, plotlyjs)
    return write_html(
        render_study_report(
            study, links=links, generated_at=generated_at, drivers=drivers, plotly_src=src, manifest=manifest
        ),
        path,
    )


def _manifest_context(block: Mapping | None) -> dict:
    """The ``<script type="application/json" id="manifest">`` element of ``block`` (JSON escaped so
    no text can close it), or nothing."""
    return {"manifest_tag": Markup(script_tag(block)) if block else Markup("")}


def _plotly_context(src: str | None) -> dict:
    return {"plotly_js": Markup("") if src else plotly_js(), "plotly_src": src}


def _study_context(
    study: CatalogStudy, links: Mapping[str, str], generated_at: dt.datetime, drivers: CarDrivers | None = None
) -> dict:
    windows: list[dict[str, Any]] = []
    for w in study.windows:
        table = study.verdict_table(w)
        rows = []
        for eid, r in table.iterrows():
            rows.append(
                {
                    "event_id": eid,
                    "name": r["name"],
                    "ticker": r["ticker"],
                    "category": r["category"],
                    "day0": r["day0"].isoformat(),
                    "car": r["car"],
                    "se": r["se"],
                    "p_value": r["p_value"],
                    "p_bh": r["p_bh"],
                    "tost_p_value": r["tost_p_value"],
                    "mde": r["mde"],
                    "verdict": r["verdict"],
                    "value_change": format_money(r["value_change"]) if r["value_change"] == r["value_change"] else "",
                    "value_sort": r["value_change"] if r["value_change"] == r["value_change"] else "",
                    "claimed_impact": r["claimed_impact"],
                    "confounders": r["confounders"],
                    "link": links.get(cast(str, eid)),  # event ids are strings
                    "confounded": bool(r["confounded"]),
                    "robust": {True: "depends on the model", False: "same under every model", None: "—"}[
                        r["depends_on_model"]
                    ],
                }
            )
        tests = study.tests(w).reset_index(names="test")
        tests.insert(1, "name", tests["test"].map(TEST_LABELS).fillna(tests["test"]))
        tests["note"] = tests["note"].fillna("").astype(str).map(plain_names)
        test_rows = tests.to_dict("records")
        windows.append(
            {
                "label": format_window(w),
                "answer": study.answer(w),
                "plain": study.plain(w),
                "counts": study.counts(w).to_dict(),
                "rows": rows,
                "tests": test_rows,
                "forest": figure_html(study_figures.forest_figure(study, w), f"fig-forest-{len(windows)}"),
            }
        )
    return {
        "study": study,
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
        "version": tool_version(),
        "plotly_js": plotly_js(),
        "headline": windows[0] if windows else None,
        "windows": windows,
        "caar": figure_html(study_figures.caar_figure(study), "fig-caar") if study.study is not None else None,
        "verdict_text": {k: v for k, v in VERDICT_TEXT.items() if k != UNRELIABLE},  # sales only
        "failures": study.failures.to_dict("records"),
        "include_confounded": study.include_confounded,
        "glossary": GLOSSARY,
        "warnings": list(study.study.warnings) if study.study is not None else [],
        "model": study.study.model if study.study is not None else "",
        "estimation": format_window(study.study.estimation_window) if study.study is not None else "",
        "pooled": _safe_figures(pooled_context(study)) if study.study is not None else None,
        "longrun": _safe_figures(longrun_context(study)) if study.study is not None else None,
        "responses": responses_context(study) if study.study is not None else None,
        "drivers": drivers_context(drivers),
    }
