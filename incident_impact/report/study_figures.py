"""Plotly figures of a :class:`~incident_impact.catalog_study.CatalogStudy`: the forest plot of
per-incident CARs with the materiality band, and the CAAR path with its band.

Incident names are HTML-escaped, as in :mod:`.figures`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from ..distributions import t_ppf
from ..eventstudy import format_window
from ..verdict import CONFOUNDED, GAIN, HARM, INCONCLUSIVE, NO_EFFECT
from .figures import _LAYOUT, BAND_COLOUR, CAR_COLOUR, SAFE, SHADE, _text

if TYPE_CHECKING:
    from ..catalog_study import CatalogStudy

#: Marker colour and symbol per verdict (colour-blind safe, and distinct by shape).
VERDICT_STYLE = {
    HARM: (SAFE[8], "triangle-down"),
    GAIN: (SAFE[3], "triangle-up"),
    NO_EFFECT: (SAFE[4], "circle"),
    INCONCLUSIVE: (SAFE[10], "square"),
    CONFOUNDED: ("#777777", "diamond-open"),
}


def forest_figure(study: CatalogStudy, window=None) -> go.Figure:
    """CAR and 95 % interval of each event over ``window``, sorted by CAR, with the band
    ``|CAR| < bound`` shaded and one marker style per verdict; incidents counted apart for other
    news in the window get their own (open, grey) marker."""
    window = study._window(window)
    label = format_window(window)
    table = study.verdict_table(window).sort_values("car", ascending=False)
    half = t_ppf(0.975, table["df"]) * table["se"]
    names = [_text(n) for n in table["name"]]
    fig = go.Figure()
    bound = 100 * study.bound
    fig.add_vrect(x0=-bound, x1=bound, fillcolor=SHADE, line_width=0, layer="below",
                  annotation_text=f"|CAR| < {bound:g} %", annotation_position="top left")
    fig.add_vline(x=0, line=dict(color="#555", width=1))
    shown = table["verdict"].where(~table["confounded"] | study.include_confounded, CONFOUNDED)
    for verdict, (colour, symbol) in VERDICT_STYLE.items():
        pick = (shown == verdict).to_numpy()
        if not pick.any():
            continue
        fig.add_trace(go.Scatter(
            x=100 * table["car"][pick], y=[n for n, p in zip(names, pick) if p], mode="markers",
            name="confounded (counted apart)" if verdict == CONFOUNDED else verdict,
            marker=dict(color=colour, symbol=symbol, size=10),
            error_x=dict(type="data", array=100 * half[pick], color=colour, thickness=1.5),
            customdata=table[["p_value", "p_bh"]][pick].to_numpy(),
            hovertemplate="%{y}<br>CAR %{x:.2f} %<br>p %{customdata[0]:.3f}, BH p %{customdata[1]:.3f}<extra></extra>",
        ))
    fig.update_layout(**_LAYOUT)
    fig.update_layout(height=max(360, 26 * len(table) + 120), margin=dict(l=320, r=20, t=60, b=50))
    fig.update_xaxes(title_text=f"CAR{label} (%), 95 % interval", zeroline=False)
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=names)
    return fig


def caar_figure(study: CatalogStudy) -> go.Figure:
    """Mean CAR cumulated from the first event day, by relative day, with its 95 % band."""
    path = study.caar_path
    x = path.index.to_numpy()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(x) + list(x[::-1]), y=list(100 * path["upper"]) + list(100 * path["lower"][::-1]),
                             fill="toself", fillcolor=BAND_COLOUR, line=dict(width=0), mode="lines", name="95 % band",
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=100 * path["caar"], mode="lines+markers", name="CAAR",
                             line=dict(color=CAR_COLOUR, width=2.5), customdata=path["n_events"],
                             hovertemplate="day %{x}<br>CAAR %{y:.2f} %<br>%{customdata} events<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#555", width=1))
    fig.add_vline(x=0, line=dict(color="#555", width=1, dash="dot"))
    fig.update_layout(**_LAYOUT)
    fig.update_xaxes(title_text="trading days relative to day 0", dtick=1)
    fig.update_yaxes(title_text="CAAR (%)")
    return fig
