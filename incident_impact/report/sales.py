"""The sales section of a report: figures and template context of a :class:`~incident_impact.sales.SalesImpact`.

The section (``templates/sales.html.j2``) is included in the incident report when a sales result
is given, or rendered as a page of its own by :func:`write_sales_report`. Figures, as in R
CausalImpact's ``plot``: observed sales against the counterfactual and its band, the pointwise
effect and the cumulative effect (sales are a flow, so the cumulative panel is meaningful); then a
strip of the placebo effects with the real one. A small table gives the effect by post-period segment
and a sentence the recovery (:mod:`~incident_impact.sales.persistence`).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from markupsafe import Markup

from ..manifest import script_tag
from .figures import CAR_COLOUR, EVENT_COLOUR, SAFE, STOCK_COLOUR, Figure, band_trace, template
from .page import environment, figure_html, plotly_js, tool_version, write_html

if TYPE_CHECKING:
    from ..sales import SalesImpact

TEMPLATE = "sales.html.j2"
PLACEBO_COLOURS = {"in-time": SAFE[1], "in-space": SAFE[2]}
#: Gap between the three panels of :func:`sales_figure` (a share of the plot's height).
PANEL_GAP = 0.06


def _x(index) -> list:
    return list(index.to_pydatetime()) if hasattr(index, "to_pydatetime") else list(index)


def _axes(row: int) -> tuple[str, str]:
    """The x and y axes of panel ``row`` (1 at the top) as traces and shapes name them: ``x``/``y``, ``x2``/``y2``."""
    suffix = "" if row == 1 else str(row)
    return f"x{suffix}", f"y{suffix}"


def _panels(titles: tuple[str, ...]) -> dict:
    """Layout of ``len(titles)`` stacked panels sharing the bottom panel's x axis, each titled above (the
    layout ``plotly.subplots.make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=PANEL_GAP)``
    builds, written out so that ``plotly.graph_objects`` is not imported)."""
    n = len(titles)
    height = (1 - (n - 1) * PANEL_GAP) / n
    layout: dict = {"annotations": []}
    for row, text in enumerate(titles, 1):
        x, y = _axes(row)
        bottom = (n - row) * (height + PANEL_GAP)
        shared = {"matches": _axes(n)[0], "showticklabels": False} if row < n else {}
        layout[f"xaxis{x[1:]}"] = {"anchor": y, "domain": [0.0, 1.0], **shared}
        layout[f"yaxis{y[1:]}"] = {"anchor": x, "domain": [bottom, bottom + height]}
        layout["annotations"].append(
            dict(
                font=dict(size=16),
                showarrow=False,
                text=text,
                x=0.5,
                xanchor="center",
                xref="paper",
                y=bottom + height,
                yanchor="bottom",
                yref="paper",
            )
        )
    return layout


def _in_panel(trace: dict, row: int) -> dict:
    x, y = _axes(row)
    return trace | {"xaxis": x, "yaxis": y}


def _line(x, y, name: str, **extra) -> dict:
    return dict(type="scatter", x=x, y=list(y), name=name, **extra)


def sales_figure(result: SalesImpact) -> Figure:
    """Three panels: observed vs counterfactual (with its band), pointwise effect, cumulative effect.

    The incident is a dashed vertical line at the first post period; the pre-period line is the
    model's in-sample fit. A plain plotly figure dict, as the other report figures (:mod:`.figures`).
    """
    series = result.series
    level = f"{100 * (1 - result.effect.alpha):g} %"
    post = series[series["period"] == "post"]
    x_all, x_post = _x(series.index), _x(post.index)

    def band(lower: str, upper: str, name: str, row: int) -> dict:
        return _in_panel(band_trace(x_post, post[lower], post[upper], name, showlegend=row == 1), row)

    data = [
        band("predicted_lower", "predicted_upper", f"counterfactual {level} band", 1),
        _in_panel(
            _line(
                x_all,
                series["observed"],
                "observed sales",
                mode="lines+markers",
                line=dict(color=STOCK_COLOUR),
                marker=dict(size=4),
            ),
            1,
        ),
        _in_panel(
            _line(
                x_all,
                series["predicted"],
                "counterfactual (in-sample fit before)",
                line=dict(color=CAR_COLOUR, dash="dash"),
            ),
            1,
        ),
        band("effect_lower", "effect_upper", "effect band", 2),
        _in_panel(
            _line(x_post, post["effect"], "pointwise effect", line=dict(color=STOCK_COLOUR), showlegend=False), 2
        ),
        band("cumulative_lower", "cumulative_upper", "cumulative band", 3),
        _in_panel(
            _line(x_post, post["cumulative"], "cumulative effect", line=dict(color=STOCK_COLOUR), showlegend=False), 3
        ),
    ]
    incident = [
        dict(
            type="line",
            x0=x_post[0],
            x1=x_post[0],
            xref=_axes(row)[0],
            y0=0,
            y1=1,
            yref=f"{_axes(row)[1]} domain",
            line=dict(color=EVENT_COLOUR, dash="dash"),
        )
        for row in (1, 2, 3)
    ]
    zero = [
        dict(
            type="line",
            x0=0,
            x1=1,
            xref=f"{_axes(row)[0]} domain",
            y0=0,
            y1=0,
            yref=_axes(row)[1],
            line=dict(color="#888", width=1),
        )
        for row in (2, 3)
    ]
    layout = _panels(("Sales and counterfactual", "Pointwise effect", "Cumulative effect")) | dict(
        shapes=incident + zero,
        template=copy.deepcopy(template()),
        height=720,
        margin=dict(l=60, r=20, t=60, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.04, xanchor="left", x=0),
        hoverlabel=dict(namelength=-1),
    )
    return {"data": data, "layout": layout}


def placebo_figure(result: SalesImpact) -> Figure:
    """Relative effects of the placebo runs (one row per kind) and the real effect (diamond)."""
    data: list[dict] = []
    for placebos in (result.in_time, result.in_space):
        if placebos is None or not placebos.n:
            continue
        ok = np.isfinite(placebos.effects)
        data.append(
            dict(
                type="scatter",
                x=list(100 * placebos.effects[ok]),
                y=[placebos.kind] * int(ok.sum()),
                mode="markers",
                name=f"{placebos.kind} placebos",
                marker=dict(color=PLACEBO_COLOURS[placebos.kind], size=9, symbol="circle"),
                text=[html.escape(str(label)) for label, keep in zip(placebos.labels, ok, strict=True) if keep],
                hovertemplate="%{text}: %{x:.1f} %<extra></extra>",
            )
        )
        data.append(
            dict(
                type="scatter",
                x=[100 * result.relative_effect],
                y=[placebos.kind],
                mode="markers",
                name="real effect",
                showlegend=placebos is result.in_time,
                marker=dict(color=EVENT_COLOUR, size=14, symbol="diamond"),
            )
        )
    layout = dict(
        shapes=[dict(type="line", x0=0, x1=0, xref="x", y0=0, y1=1, yref="y domain", line=dict(color="#888", width=1))],
        template=copy.deepcopy(template()),
        height=240,
        margin=dict(l=90, r=20, t=30, b=50),
        xaxis=dict(title=dict(text="relative effect (%)")),
        legend=dict(orientation="h", y=1.15),
    )
    return {"data": data, "layout": layout}


_PARAM_NAMES = {
    "sigma2.irregular": "noise variance (standardised units)",
    "sigma2.level": "level variance (standardised units)",
    "sigma2.trend": "slope variance (standardised units)",
    "sigma2.seasonal": "seasonal variance (standardised units)",
    "level_sd": "level standard deviation (standardised units)",
    "pre_rmspe": "pre-period fit error of the synthetic control (root mean squared)",
    "pre_gap_slope": "slope of the pre-period gap to the controls",
    "pre_gap_slope_p": "p-value of that slope (pre-trend check)",
    "hac_lags": "lags of the Newey-West errors",
    "level_change": "level change at the incident",
    "level_change_p": "p-value of the level change",
    "slope_change": "slope change at the incident",
    "slope_change_p": "p-value of the slope change",
    "pre_slope": "pre-incident slope per period",
}
_DESIGN_LABELS = {
    "structural": "structural time-series",
    "did": "difference-in-differences",
    "synthetic": "synthetic-control",
    "its": "interrupted-time-series",
}


def parameter_label(name: str) -> str:
    """A reader's name for a model parameter (no attribute names such as ``sigma2.level`` in the report)."""
    if name in _PARAM_NAMES:
        return _PARAM_NAMES[name]
    stem, _, rest = name.partition(".")
    if stem == "beta":
        return (
            f"coefficient of {rest} (standardised units)"
            if rest != "synthetic"
            else "coefficient of the synthetic control (standardised units)"
        )
    if stem == "weight":
        return f"synthetic-control weight of {rest}"
    if stem == "post":
        return f"post-period term {int(rest) + 1}" if rest.isdigit() else "post-period term"
    if name.startswith("sigma2.freq_seasonal"):
        return "seasonal variance (standardised units)"
    return name.replace("sigma2.", "variance of ").replace("_", " ").replace(".", " ")


def sales_context(result: SalesImpact) -> dict:
    """Everything ``sales.html.j2`` shows, under the name ``sales``."""
    series = result.series
    post = series[series["period"] == "post"]
    (pre0, pre1), (post0, post1) = result.pre_period, result.post_period

    def label(value) -> str:
        return value.date().isoformat() if hasattr(value, "date") else str(value)

    placebos = [p for p in (result.in_time, result.in_space) if p is not None]
    return {
        "result": result,
        "design": _DESIGN_LABELS[result.design],
        "plain": result.plain_sentence(),
        "verdict": result.verdict_text(),
        "choice": None if result.choice is None else result.choice.reason,
        "report": result.report(),
        "level": f"{100 * (1 - result.effect.alpha):g} %",
        "periods": {
            "pre": f"{label(pre0)} to {label(pre1)}",
            "post": f"{label(post0)} to {label(post1)}",
            "n_pre": result.n_pre,
            "n_post": len(post),
        },
        "table": result.table.to_dict("index"),
        "p_value": result.p_value,
        "relative_shown": bool(np.isfinite(result.relative_effect)),
        "model": result.counterfactual.description,
        "band": result.counterfactual.band,
        "params": sorted((parameter_label(k), v) for k, v in result.counterfactual.params.items()),
        "controls": ", ".join(result.controls) or "none",
        "placebos": [
            {
                "summary": p.summary(),
                "kind": p.kind,
                "rows": [
                    {"label": lab, "effect": e, "p": q}
                    for lab, e, q in zip(p.labels, p.effects, p.p_values, strict=True)
                ],
            }
            for p in placebos
        ],
        "notes": list(result.notes),
        "segments": [
            {
                **row,
                "verdict": row["verdict"]
                if isinstance(row["verdict"], str)
                else ("withheld" if result.persistence_withheld else "—"),
            }
            for row in result.segments().to_dict("records")
        ],
        "recovery": result.recovery(),
        "persistence": result.persistence_sentence(),
        "rows": [{"date": label(idx), **row} for idx, row in post.to_dict("index").items()],
        "figures": {
            "sales": figure_html(sales_figure(result), "fig-sales"),
            "placebos": figure_html(placebo_figure(result), "fig-sales-placebos")
            if any(p.n for p in placebos)
            else None,
        },
    }


def render_sales_report(
    result: SalesImpact, *, generated_at: dt.datetime | None = None, manifest: Mapping | None = None
) -> str:
    """The sales analysis as a page of its own (one HTML string, plotly.js inlined; the run's
    ``manifest`` block embedded when given)."""
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    return (
        environment()
        .get_template(TEMPLATE)
        .render(
            sales_page=True,
            sales=sales_context(result),
            version=tool_version(),
            plotly_js=plotly_js(),
            generated_at=generated_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip(),
            manifest_tag=Markup(script_tag(manifest)) if manifest else Markup(""),
        )
    )


def write_sales_report(
    result: SalesImpact,
    path: str | os.PathLike[str],
    *,
    generated_at: dt.datetime | None = None,
    manifest: Mapping | None = None,
) -> Path:
    """Render the sales page and write it to ``path`` atomically; return the path."""
    return write_html(render_sales_report(result, generated_at=generated_at, manifest=manifest), path)
