"""Plotly figures of one :class:`~incident_impact.analysis.IncidentAnalysis`.

The figures only draw what the analysis already holds. Text taken from the incident
(tickers, timeline descriptions) is HTML-escaped, because plotly.js reads a subset of HTML
(``<b>``, ``<a href>``, ...) in trace names and hover text.

Every figure is a plain plotly figure dict (``{"data": [trace dicts with "type"], "layout": {...}}``)
rendered by :func:`plotly.io.to_html` with ``validate=False``: building ``plotly.graph_objects``
figures imports about 115 modules and plotly's validators (0.3-0.45 s per run, the largest share of
a report's start-up, issue 15). Property names are therefore not checked here but in the tests, which
build ``plotly.graph_objects.Figure(fig)`` from every figure. Titles are written out as
``title=dict(text=...)`` (plotly.js 3 reads no string titles; graph objects used to convert them).
"""

from __future__ import annotations

import copy
import html
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly
import plotly.io as pio
from plotly.colors import qualitative

from ..eventstudy import format_window

if TYPE_CHECKING:
    from ..analysis import IncidentAnalysis

#: Colour-blind-safe palette; every series also differs by dash or marker symbol.
SAFE = qualitative.Safe
STOCK_COLOUR, BENCH_COLOUR, EVENT_COLOUR, CONFOUNDER_COLOUR = SAFE[4], SAFE[1], SAFE[3], SAFE[8]
AR_COLOUR, CAR_COLOUR, BAND_COLOUR = SAFE[0], SAFE[4], "rgba(51, 34, 136, 0.15)"
SHADE = "rgba(136, 136, 136, 0.15)"

#: Sessions shown before day 0 in the price figure.
SESSIONS_BEFORE = 60

_AXIS = dict(gridcolor="#EBF0F8", linecolor="#EBF0F8", zerolinecolor="#EBF0F8", ticks="", automargin=True)
#: A white theme written out (the same look as plotly's ``plotly_white``, without loading and
#: deep-copying that template, which cost a fifth of a second per report).
THEME = dict(
    layout=dict(
        plot_bgcolor="white",
        paper_bgcolor="white",
        font=dict(color="#2a3f5f"),
        xaxis=_AXIS,
        yaxis=_AXIS,
        hovermode="closest",
    )
)

_LAYOUT = dict(
    template=THEME,
    height=440,
    margin=dict(l=60, r=20, t=40, b=50),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    hoverlabel=dict(namelength=-1),
)

#: A plotly figure as a plain dict: ``{"data": [trace dicts, each with its "type"], "layout": {...}}``.
Figure = dict[str, Any]


def _merge(base: dict, over: dict) -> dict:
    """``base`` updated by ``over``, nested dicts merged key by key (as graph objects update a layout)."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@lru_cache(maxsize=1)
def template() -> dict:
    """The template of every report figure: :data:`THEME` over plotly's default template ``"plotly"``,
    read from plotly's package data. A graph-objects figure starts from that default and merges the
    template it is given into it, so this is the template the reports have always carried (the same
    zero lines, axis-title spacing, hover labels and trace defaults; a test pins it)."""
    path = Path(plotly.__file__).parent / "package_data" / "templates" / "plotly.json"
    return _merge(json.loads(path.read_text(encoding="utf-8")), THEME)


def figure(data: list[dict], **layout) -> Figure:
    """A figure dict of ``data`` with the reports' common layout (:data:`_LAYOUT` with :func:`template`,
    copied) updated by ``layout`` (top-level keys replace those of :data:`_LAYOUT`)."""
    common = copy.deepcopy(_LAYOUT) | {"template": copy.deepcopy(template())}
    return {"data": data, "layout": common | layout}


def title(text: str) -> dict:
    """An axis or figure title (plotly.js 3 takes no bare strings)."""
    return {"text": text}


def _text(value: object) -> str:
    """Incident text made inert for plotly.js' HTML-like labels: ``&``, ``<`` and ``>`` as entities, so no
    tag can form. Quotes stay as they are: plotly.js decodes only a few named entities (``&amp;``,
    ``&lt;``, ``&gt;``, ...), so ``&quot;`` would be shown literally, and outside a tag a quote is plain text."""
    return html.escape(str(value), quote=False)


def indexed_prices(analysis: IncidentAnalysis) -> pd.DataFrame:
    """Adjusted closes of stock and benchmark (inner join), each = 100 on the session before day 0.

    Rows run from :data:`SESSIONS_BEFORE` sessions before day 0 to the end of the loaded data;
    columns ``stock`` and ``benchmark``.
    """
    prices = pd.concat(
        {"stock": analysis.stock.data["adj_close"], "benchmark": analysis.benchmark.data["adj_close"]},
        axis=1,
        join="inner",
    ).dropna()
    pos = int(prices.index.searchsorted(analysis.result.day0))
    base = max(pos - 1, 0)
    return (100 * prices / prices.iloc[base]).iloc[max(pos - SESSIONS_BEFORE, 0) :]


def timeline_in_view(analysis: IncidentAnalysis, index: pd.Index) -> list:
    """Timeline events dated within the span of ``index``."""
    first, last = index[0], index[-1]
    return [e for e in analysis.incident.timeline if first <= pd.Timestamp(e.date) <= last]


def _event_label(event) -> str:
    when = event.date.isoformat()
    if event.time is not None:
        when += f" {event.time.strftime('%H:%M')}" + (f" {event.timezone}" if event.timezone else "")
    kind = event.kind + (" (possible confounder)" if event.is_confounder else "")
    return _text(f"{when} · {kind}: {event.description}")


def _vline(x, line: dict) -> dict:
    """A vertical line across the plot at ``x`` (layout shapes are set once: plotly's
    ``add_vline``/``add_vrect`` re-validate the whole layout on every call)."""
    return dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, line=line)


def _vrect(x0, x1, yref: str = "paper") -> dict:
    """A shaded band across the plot from ``x0`` to ``x1``, behind the traces (``yref="y domain"``: the
    plot's height, as plotly's ``add_vrect``)."""
    return dict(
        type="rect",
        xref="x",
        yref=yref,
        x0=x0,
        x1=x1,
        y0=0,
        y1=1,
        fillcolor=SHADE,
        line=dict(width=0),
        layer="below",
    )


def _label(x, text: str, top: bool = True) -> dict:
    """A label at ``x``, inside the top left (or bottom right of ``x``) of the plot."""
    return dict(
        x=x,
        xref="x",
        y=1 if top else 0,
        yref="paper",
        text=text,
        showarrow=False,
        xanchor="left",
        yanchor="top" if top else "bottom",
    )


def band_trace(x, lower, upper, name: str, **extra) -> dict:
    """A shaded band between ``lower`` and ``upper`` over ``x`` (one closed polygon, no line, no hover):
    the 95 % band of every CAR path in the reports. A scatter trace dict (``fig.add_trace`` of a
    graph-objects figure takes it as it is)."""
    x = list(x)
    return dict(
        type="scatter",
        x=x + x[::-1],
        y=list(upper) + list(lower)[::-1],
        name=name,
        fill="toself",
        fillcolor=BAND_COLOUR,
        mode="lines",
        line=dict(width=0),
        hoverinfo="skip",
        **extra,
    )


def price_figure(analysis: IncidentAnalysis) -> Figure:
    """Stock vs benchmark indexed to 100, with timeline events, the estimation end and the event period.

    Traces: stock, benchmark, then "timeline events" and "possible confounders" when the
    shown period holds any (one marker per date, its hover text listing that date's events).
    Event lines are solid, confounder lines dotted, day 0 dashed.
    """
    prices = indexed_prices(analysis)
    stock, bench = _text(analysis.stock.ticker), _text(analysis.benchmark.ticker)
    data = [
        dict(
            type="scatter",
            x=prices.index,
            y=prices["stock"].to_numpy(),
            name=stock,
            mode="lines",
            line=dict(color=STOCK_COLOUR, width=2.5),
            hovertemplate=f"{stock}: %{{y:.1f}}<extra></extra>",
        ),
        dict(
            type="scatter",
            x=prices.index,
            y=prices["benchmark"].to_numpy(),
            name=bench,
            mode="lines",
            line=dict(color=BENCH_COLOUR, width=2, dash="dash"),
            hovertemplate=f"{bench}: %{{y:.1f}}<extra></extra>",
        ),
    ]

    events = timeline_in_view(analysis, prices.index)
    shapes, notes = [], []
    for confounder, (name, colour, symbol, dash) in {
        False: ("timeline events", EVENT_COLOUR, "triangle-down", "solid"),
        True: ("possible confounders", CONFOUNDER_COLOUR, "x", "dot"),
    }.items():
        by_date: dict[pd.Timestamp, list[str]] = {}
        for event in events:
            if event.is_confounder == confounder:
                by_date.setdefault(pd.Timestamp(event.date), []).append(_event_label(event))
        if not by_date:
            continue
        dates = list(by_date)
        level = prices["stock"].reindex(prices.index.union(dates)).ffill().loc[dates]
        data.append(
            dict(
                type="scatter",
                x=dates,
                y=level.to_numpy(),
                name=name,
                mode="markers",
                marker=dict(color=colour, symbol=symbol, size=13, line=dict(width=1, color="white")),
                hovertext=["<br>".join(labels) for labels in by_date.values()],
                hoverinfo="text",
            )
        )
        shapes += [_vline(date, dict(color=colour, width=1, dash=dash)) for date in dates]

    result = analysis.result
    est_end = result.estimation.index[-1]
    if est_end >= prices.index[0]:
        shapes.append(_vrect(prices.index[0], est_end))
        notes.append(_label(prices.index[0], "estimation window"))
    event_dates = result.abnormal_returns.index
    half_day = pd.Timedelta(hours=12)
    first, last = result.abnormal_returns["rel_day"].iloc[[0, -1]]
    shapes.append(_vrect(event_dates[0] - half_day, event_dates[-1] + half_day))
    notes.append(_label(event_dates[0] - half_day, f"event period {format_window((int(first), int(last)))}"))
    shapes.append(_vline(result.day0, dict(color="#222", width=1.5, dash="dash")))
    notes.append(_label(result.day0, "day 0", top=False))
    return figure(
        data,
        shapes=shapes,
        annotations=notes,
        hovermode="x unified",
        xaxis=dict(title=title("date")),
        yaxis=dict(title=title("adjusted close, session before day 0 = 100")),
    )


def car_figure(analysis: IncidentAnalysis) -> Figure:
    """Daily abnormal returns (bars, %) with the CAR from the first event day and its 95 % band.

    Traces: abnormal returns, 95 % band (one filled polygon), CAR.
    """
    result = analysis.result
    ar = result.abnormal_returns
    path = result.car_path()
    dates = [d.date().isoformat() for d in ar.index]
    bars = dict(
        type="bar",
        x=ar["rel_day"].to_numpy(),
        y=(100 * ar["ar"]).to_numpy(),
        name="daily abnormal return",
        customdata=dates,
        marker=dict(color=AR_COLOUR, line=dict(color=CAR_COLOUR, width=1)),
        hovertemplate="day %{x} (%{customdata}): AR %{y:.2f} %<extra></extra>",
    )
    band = band_trace(path["rel_day"], 100 * path["lower"], 100 * path["upper"], "95 % band of the CAR")
    car = dict(
        type="scatter",
        x=path["rel_day"].to_numpy(),
        y=(100 * path["car"]).to_numpy(),
        name="cumulative abnormal return (CAR)",
        mode="lines+markers",
        line=dict(color=CAR_COLOUR, width=2.5, dash="dashdot"),
        marker=dict(size=6, symbol="circle"),
        customdata=list(zip(100 * path["lower"], 100 * path["upper"], strict=True)),
        hovertemplate="day %{x}: CAR %{y:.2f} % (95 %: %{customdata[0]:.2f} to %{customdata[1]:.2f})<extra></extra>",
    )
    start, end = analysis.headline_window
    zero = dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=0, y1=0, line=dict(color="#444", width=1))
    return figure(
        [bars, band, car],
        shapes=[_vrect(start - 0.5, end + 0.5), zero],
        annotations=[_label(start - 0.5, f"headline window {format_window((start, end))}")],
        hovermode="closest",
        xaxis=dict(title=title("relative trading day (0 = day 0)"), dtick=1),
        yaxis=dict(title=title("abnormal return, %"), ticksuffix=" %"),
        bargap=0.3,
    )


def figure_html(fig: Figure | Any, div_id: str, config: dict | None = None) -> str:
    """The plotly snippet of ``fig`` (a ``<div>`` and its ``<script>``), without plotly.js.

    ``fig`` is a figure dict (serialised as it is, without importing ``plotly.graph_objects``; every report
    figure is one) or a graph-objects figure."""
    return pio.to_html(
        fig,
        validate=False,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=config or {"displaylogo": False, "responsive": True},
    )


RESPONSE_COLOUR, MDE_COLOUR = SAFE[3], SAFE[8]


def recovery_figure(recovery, responses: pd.DataFrame | None = None, ticker: str = "") -> Figure:
    """The CAR path from day 0 to the longest observable horizon with its 95 % band, the line at
    -MDE (the threshold of "recovered"), the horizons, the trough and the company's responses.

    Traces: 95 % band, CAR, trough, and "company responses" when a response falls on the path
    (a star on the path labelled by its kind; its hover text gives the date and description).
    """
    path = recovery.path
    days = [int(d) for d in path["rel_day"]]
    dates = [pd.Timestamp(d).date().isoformat() for d in path["date"]]
    name = _text(ticker) if ticker else "the stock"
    data = [
        band_trace(days, 100 * path["lower"], 100 * path["upper"], "95 % band of the CAR"),
        dict(
            type="scatter",
            x=days,
            y=(100 * path["car"]).to_numpy(),
            name=f"CAR of {name} from day 0",
            mode="lines",
            line=dict(color=CAR_COLOUR, width=2.5),
            customdata=list(zip(dates, 100 * path["lower"], 100 * path["upper"], strict=True)),
            hovertemplate="day %{x} (%{customdata[0]}): CAR %{y:.2f} % (95 %: %{customdata[1]:.2f} to "
            "%{customdata[2]:.2f})<extra></extra>",
        ),
    ]
    if recovery.trough_day is not None:
        data.append(
            dict(
                type="scatter",
                x=[recovery.trough_day],
                y=[100 * recovery.trough_car],
                name="trough",
                mode="markers",
                marker=dict(
                    color=CONFOUNDER_COLOUR, symbol="triangle-down", size=12, line=dict(width=1, color="white")
                ),
                hovertemplate="trough: day %{x}, CAR %{y:.2f} %<extra></extra>",
            )
        )
    shapes = [dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=0, y1=0, line=dict(color="#444", width=1))]
    notes = []
    mde = recovery.mde
    if mde == mde and mde > 0:
        shapes.append(
            dict(
                type="line",
                xref="paper",
                x0=0,
                x1=1,
                yref="y",
                y0=-100 * mde,
                y1=-100 * mde,
                line=dict(color=MDE_COLOUR, width=1.5, dash="dot"),
            )
        )
        notes.append(
            dict(
                x=1,
                xref="paper",
                y=-100 * mde,
                yref="y",
                text="−MDE: recovered above this line",
                showarrow=False,
                xanchor="right",
                yanchor="top",
                font=dict(size=11, color=MDE_COLOUR),
            )
        )
    last = days[-1] if days else 0
    for label, row in recovery.horizons.iterrows():
        h = int(row["horizon"])
        if h <= last:
            shapes.append(_vline(h, dict(color="#999", width=1, dash="dot")))
            notes.append(_label(h, _text(label), top=False))
    if responses is not None and len(responses):
        on_path = responses[responses["rel_day"].notna()]
        on_path = on_path[on_path["rel_day"].astype(float).between(days[0] if days else 0, last)]
        if len(on_path):
            by_day = path.set_index("rel_day")["car"]
            xs = [int(r) for r in on_path["rel_day"]]
            data.append(
                dict(
                    type="scatter",
                    x=xs,
                    y=[100 * by_day.loc[x] for x in xs],
                    name="company responses",
                    mode="markers+text",
                    text=[_text(k) for k in on_path["kind"]],
                    textposition="top center",
                    marker=dict(color=RESPONSE_COLOUR, symbol="star", size=14, line=dict(width=1, color="#222")),
                    hovertext=[
                        _text(f"{d} · day {x:+d} · {k}: {desc}")
                        for d, x, k, desc in zip(
                            on_path["date"], xs, on_path["kind"], on_path["description"], strict=True
                        )
                    ],
                    hoverinfo="text",
                )
            )
            shapes += [_vline(x, dict(color=RESPONSE_COLOUR, width=1)) for x in sorted(set(xs))]
    return figure(
        data,
        shapes=shapes,
        annotations=notes,
        xaxis=dict(title=title("trading days after day 0")),
        yaxis=dict(title=title("cumulative abnormal return, %"), ticksuffix=" %"),
    )
