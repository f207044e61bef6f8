"""Plotly figures of a :class:`~incident_impact.catalog_study.CatalogStudy`: the forest plot of
per-incident CARs with the materiality band, the CAAR path with its band, the pooled estimates
(diamonds) with their prediction intervals, and the mean CAR path to +120 sessions.

Incident names are HTML-escaped, and every figure is a plain figure dict, as in :mod:`.figures`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..distributions import t_ppf
from ..eventstudy import format_window
from ..verdict import CONFOUNDED, GAIN, HARM, INCONCLUSIVE, NO_EFFECT
from .figures import CAR_COLOUR, SAFE, Figure, _label, _text, _vline, _vrect, band_trace, figure, title

if TYPE_CHECKING:
    from ..aftermath.pooled import PooledEffect
    from ..catalog_study import CatalogStudy


def _xline(x, line: dict) -> dict:
    """A vertical line at ``x`` over the plot's height."""
    return dict(type="line", xref="x", yref="y domain", x0=x, x1=x, y0=0, y1=1, line=line)


#: Marker colour and symbol per verdict (colour-blind safe, and distinct by shape).
VERDICT_STYLE = {
    HARM: (SAFE[8], "triangle-down"),
    GAIN: (SAFE[3], "triangle-up"),
    NO_EFFECT: (SAFE[4], "circle"),
    INCONCLUSIVE: (SAFE[10], "square"),
    CONFOUNDED: ("#777777", "diamond-open"),
}


def forest_figure(study: CatalogStudy, window=None) -> Figure:
    """CAR and 95 % interval of each event over ``window``, sorted by CAR, with the band
    ``|CAR| < bound`` shaded and one marker style per verdict; incidents counted apart for other
    news in the window get their own (open, grey) marker."""
    window = study._window(window)
    label = format_window(window)
    table = study.verdict_table(window).sort_values("car", ascending=False)
    half = t_ppf(0.975, table["df"]) * table["se"]
    names = [_text(n) for n in table["name"]]
    bound = 100 * study.bound
    note = dict(
        x=-bound,
        xref="x",
        y=1,
        yref="y domain",
        text=f"|CAR| < {bound:g} %",
        showarrow=False,
        xanchor="left",
        yanchor="top",
    )
    data = []
    shown = table["verdict"].where(~table["confounded"] | study.include_confounded, CONFOUNDED)
    for verdict, (colour, symbol) in VERDICT_STYLE.items():
        pick = (shown == verdict).to_numpy()
        if not pick.any():
            continue
        data.append(
            dict(
                type="scatter",
                x=(100 * table["car"][pick]).to_numpy(),
                y=[n for n, p in zip(names, pick, strict=True) if p],
                mode="markers",
                name="confounded (counted apart)" if verdict == CONFOUNDED else verdict,
                marker=dict(color=colour, symbol=symbol, size=10),
                error_x=dict(type="data", array=100 * np.asarray(half)[pick], color=colour, thickness=1.5),
                customdata=table[["p_value", "p_bh"]][pick].to_numpy(),
                hovertemplate=(
                    "%{y}<br>CAR %{x:.2f} %<br>p %{customdata[0]:.3f}, BH p %{customdata[1]:.3f}<extra></extra>"
                ),
            )
        )
    return figure(
        data,
        height=max(360, 26 * len(table) + 120),
        margin=dict(l=320, r=20, t=60, b=50),
        shapes=[_vrect(-bound, bound, "y domain"), _xline(0, dict(color="#555", width=1))],
        annotations=[note],
        xaxis=dict(title=title(f"CAR{label} (%), 95 % interval"), zeroline=False),
        yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=names),
    )


def caar_figure(study: CatalogStudy) -> Figure:
    """Mean CAR cumulated from the first event day, by relative day, with its 95 % band."""
    path = study.caar_path
    x = path.index.to_numpy()
    data = [
        band_trace(x, 100 * path["lower"], 100 * path["upper"], "95 % band"),
        dict(
            type="scatter",
            x=x,
            y=(100 * path["caar"]).to_numpy(),
            mode="lines+markers",
            name="CAAR",
            line=dict(color=CAR_COLOUR, width=2.5),
            customdata=path["n_events"].to_numpy(),
            hovertemplate="day %{x}<br>CAAR %{y:.2f} %<br>%{customdata} events<extra></extra>",
        ),
    ]
    zero = dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=0, y1=0, line=dict(color="#555", width=1))
    return figure(
        data,
        shapes=[zero, _xline(0, dict(color="#555", width=1, dash="dot"))],
        xaxis=dict(title=title("trading days relative to day 0"), dtick=1),
        yaxis=dict(title=title("CAAR (%)")),
    )


PI_COLOUR = "rgba(136, 204, 238, 0.55)"


def pooled_rows(pooled: PooledEffect) -> list[tuple[str, PooledEffect]]:
    """``(label, result)`` of the overall estimate and of each group that could be pooled."""
    rows = [("all incidents", pooled)]
    rows += [(name, g) for name, g in pooled.groups if not g.reason]
    return rows


def pooled_figure(pooled: PooledEffect) -> Figure:
    """The pooled average CAR (a diamond with its confidence interval) and the prediction interval of a
    new incident's effect (a wide pale bar), for all incidents and each category with at least three;
    the materiality band shaded. Traces: prediction interval, pooled estimate."""
    rows = pooled_rows(pooled)
    names = [_text(f"{label} (n = {g.n})") for label, g in rows]
    bound = 100 * pooled.bound
    ok = [(n, g) for n, (_, g) in zip(names, rows, strict=True) if np.isfinite(g.estimate)]
    level = f"{100 * pooled.level:g} %"
    bar = dict(
        type="bar",
        base=[100 * g.prediction_lower for _, g in ok],
        x=[100 * (g.prediction_upper - g.prediction_lower) for _, g in ok],
        y=[n for n, _ in ok],
        orientation="h",
        name=f"{level} prediction interval (a new incident)",
        marker=dict(color=PI_COLOUR, line=dict(width=0)),
        width=0.35,
        customdata=[(100 * g.prediction_lower, 100 * g.prediction_upper) for _, g in ok],
        hovertemplate="%{y}<br>prediction interval %{customdata[0]:.2f} % to %{customdata[1]:.2f} %<extra></extra>",
    )
    diamonds = dict(
        type="scatter",
        x=[100 * g.estimate for _, g in ok],
        y=[n for n, _ in ok],
        mode="markers",
        name=f"average CAR{pooled.window or ''} ({level} CI)",
        marker=dict(symbol="diamond", size=16, color=CAR_COLOUR, line=dict(width=1, color="white")),
        error_x=dict(
            type="data",
            symmetric=False,
            array=[100 * (g.ci_upper - g.estimate) for _, g in ok],
            arrayminus=[100 * (g.estimate - g.ci_lower) for _, g in ok],
            color=CAR_COLOUR,
            thickness=2,
        ),
        customdata=[(100 * g.ci_lower, 100 * g.ci_upper, 100 * g.i2) for _, g in ok],
        hovertemplate="%{y}<br>average %{x:.2f} % (CI %{customdata[0]:.2f} to %{customdata[1]:.2f} %)"
        "<br>I² %{customdata[2]:.0f} %<extra></extra>",
    )
    # the axis spans every confidence interval and the overall prediction interval; a small category's
    # prediction interval can be ten times wider and then runs off the edge (the table gives its numbers)
    ends = [100 * x for _, g in ok for x in (g.ci_lower, g.ci_upper)]
    ends += [100 * pooled.prediction_lower, 100 * pooled.prediction_upper, -2 * bound, 2 * bound]
    ends = [x for x in ends if np.isfinite(x)]
    pad = 0.08 * (max(ends) - min(ends))
    return figure(
        [bar, diamonds],
        height=max(240, 42 * len(ok) + 140),
        barmode="overlay",
        margin=dict(l=20, r=20, t=60, b=50),
        shapes=[_vrect(-bound, bound, "y domain"), _xline(0, dict(color="#555", width=1))],
        xaxis=dict(
            title=title(f"CAR{pooled.window or ''} (%)"), zeroline=False, range=[min(ends) - pad, max(ends) + pad]
        ),
        yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=[n for n, _ in ok]),
    )


def mean_recovery_path(study: CatalogStudy, clean: bool | None = None) -> pd.DataFrame:
    """The mean CAR from day 0 by relative day across the incidents' recovery paths
    (``analysis.aftermath.recovery.path``) of the headline sample (clean unless the study includes
    confounded incidents): ``rel_day, mean, sd, n, lower, upper`` with the 95 % band
    ``mean -+ t(n - 1) sd / sqrt(n)`` from the cross-section (NaN with fewer than 2 incidents)."""
    table = study.verdict_table(study.headline_window)
    clean = (not study.include_confounded) if clean is None else clean
    ids = table.index[~table["confounded"]] if clean else table.index
    paths = []
    for eid in ids:
        analysis = study.analyses.get(eid)
        after = getattr(analysis, "aftermath", None)
        if after is None or after.recovery is None or after.recovery.path.empty:
            continue
        paths.append(after.recovery.path.set_index("rel_day")["car"].rename(eid))
    if not paths:
        return pd.DataFrame(columns=["rel_day", "mean", "sd", "n", "lower", "upper"])
    wide = pd.concat(paths, axis=1).sort_index()
    n = wide.notna().sum(axis=1)
    mean, sd = wide.mean(axis=1), wide.std(axis=1, ddof=1)
    df = (n - 1).where(n >= 2)
    half = pd.Series([t_ppf(0.975, d) if d == d else np.nan for d in df], index=wide.index) * sd / np.sqrt(n)
    out = pd.DataFrame({"mean": mean, "sd": sd, "n": n, "lower": mean - half, "upper": mean + half})
    return out.rename_axis("rel_day").reset_index()


def recovery_path_figure(path: pd.DataFrame, horizons=(20, 60, 120)) -> Figure:
    """The mean CAR from day 0 across incidents (:func:`mean_recovery_path`) with its 95 % band.
    Traces: 95 % band, mean CAR."""
    x = [int(d) for d in path["rel_day"]]
    band = path["lower"].notna()
    xb = [d for d, b in zip(x, band, strict=True) if b]
    data = [
        band_trace(xb, 100 * path.loc[band, "lower"], 100 * path.loc[band, "upper"], "95 % band (across incidents)"),
        dict(
            type="scatter",
            x=x,
            y=(100 * path["mean"]).to_numpy(),
            mode="lines",
            name="mean CAR from day 0",
            line=dict(color=CAR_COLOUR, width=2.5),
            customdata=path["n"].to_numpy(),
            hovertemplate="day %{x}: mean CAR %{y:.2f} % (%{customdata} incidents)<extra></extra>",
        ),
    ]
    last = x[-1] if x else 0
    shapes = [dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=0, y1=0, line=dict(color="#555", width=1))]
    shapes += [_vline(h, dict(color="#999", width=1, dash="dot")) for h in horizons if h <= last]
    return figure(
        data,
        shapes=shapes,
        annotations=[_label(h, f"[0,+{h}]", top=False) for h in horizons if h <= last],
        xaxis=dict(title=title("trading days after day 0")),
        yaxis=dict(title=title("mean CAR (%)"), ticksuffix=" %"),
    )
