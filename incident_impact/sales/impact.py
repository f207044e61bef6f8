"""``sales_impact``: incident -> post-period -> counterfactual -> effect, placebos and verdict."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import cast

import numpy as np
import pandas as pd

from ..catalog import Catalog, Incident
from ..errors import SalesDataError
from .data import frequency_of, post_start, regular
from .design import counterfactual, minimum_pre
from .effect import Effect
from .persistence import resolve_boundaries
from .placebo import in_space, in_time
from .results import SalesImpact
from .spec import ModelSpec

_DATE = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?$")


def _resolve(incident: object, catalog: Catalog | None) -> tuple[str, Incident | None, object]:
    """``(label, incident or None, date or period number)`` of what the user named."""
    if isinstance(incident, Incident):
        return incident.id, incident, pd.Timestamp(incident.incident_date)
    if isinstance(incident, (int, np.integer)):
        return f"the incident at {incident}", None, int(incident)
    if isinstance(incident, (dt.date, pd.Timestamp)):
        return f"the incident on {pd.Timestamp(incident).date().isoformat()}", None, pd.Timestamp(incident)
    text = str(incident).strip()
    if _DATE.match(text):
        return f"the incident on {text}", None, pd.Timestamp(text)
    if text.lstrip("-").isdigit():
        return f"the incident at {text}", None, int(text)
    from ..catalog import load_catalog

    found = (catalog or load_catalog())[text]
    return found.id, found, pd.Timestamp(found.incident_date)


def _check_finite(frame: pd.DataFrame, what: str) -> None:
    bad = frame.isna()
    if bad.any().any():
        col = bad.any().idxmax()
        at = frame.index[int(np.flatnonzero(bad[col].to_numpy())[0])]
        label = at.date() if isinstance(at, pd.Timestamp) else at
        raise SalesDataError(
            f"{what} {col!r} has a missing value at {label}; fill or drop it (the analysis needs every period)"
        )


def sales_impact(
    data: pd.DataFrame | pd.Series,
    incident: object,
    *,
    column: str | None = None,
    controls: Sequence[str] | None = None,
    design: str = "structural",
    post_periods: int | None = None,
    log: bool | None = None,
    level_sd: float | None = None,
    trend: bool | None = None,
    seasonal: float | str | None = "auto",
    bound: float = 0.05,
    alpha: float = 0.05,
    repetitions: int = 1000,
    seed: int = 1,
    placebos: int = 10,
    segments: object = None,
    catalog: Catalog | None = None,
) -> SalesImpact:
    """Estimate what an incident did to a sales series.

    Parameters
    ----------
    data : sales (a Series) or a table of sales and control columns on a regular index (dates with a
        constant step, or period numbers; see :func:`~incident_impact.sales.read_sales_csv`).
    incident : a catalog incident id, an :class:`~incident_impact.catalog.Incident`, a date (the period
        containing it is the first post period) or a period number.
    column : the sales column (default: the first); controls : control/donor columns (default: every
        other column, none for ``its``).
    design : ``structural``, ``did``, ``synthetic`` or ``its`` (see :class:`~incident_impact.sales.spec.ModelSpec`).
    post_periods : length of the post-period (default: to the end of the data).
    log, level_sd, repetitions, seed : see :class:`~incident_impact.sales.spec.ModelSpec`; ``level_sd``
        None (default) estimates the level s.d. by maximum likelihood; ``log`` None (default): sales or log
        sales chosen from the pre-period data in the structural and synthetic designs (levels elsewhere).
    trend : True/False; None (default): chosen from the pre-period data (structural and synthetic designs,
        :mod:`~incident_impact.sales.select`; no pre-trend for ``did``).
    seasonal : the seasonal period or None; ``"auto"`` (default) uses the data's frequency -- 7 (daily),
        52.18 (weekly), 12 (monthly), 4 (quarterly), none (annual, numbered periods, and ``did``, whose
        controls carry the season) -- and, in the structural and synthetic designs, lets the pre-period
        data decide whether to include it.
    bound : materiality bound of the verdict, a fraction of sales (0.05 = 5 %); alpha : 1 - interval level.
    placebos : number of in-time placebo dates (0: none).
    segments : post-period segment boundaries for :meth:`SalesImpact.segments`: numbers of post periods
        (``[3]``: periods 1-3, then the rest) or dates (the period containing one starts a segment); None
        (default): the first quarter against the rest (13 weeks, 3 months, ...; see
        :mod:`~incident_impact.sales.persistence`).

    Raises :class:`~incident_impact.errors.SalesDataError` for unusable data and
    :class:`~incident_impact.errors.UnknownIncidentError` for an unknown incident id.
    """
    table = regular(data.to_frame(name=data.name or "sales") if isinstance(data, pd.Series) else data)
    table = table.set_axis(table.columns.map(str), axis=1)
    column = column if column is not None else table.columns[0]
    if column not in table.columns:
        raise SalesDataError(f"no column {column!r} in the sales data; columns are {list(table.columns)}")
    if controls is None:
        controls = [] if design == "its" else [c for c in table.columns if c != column]
    missing = [c for c in controls if c not in table.columns or c == column]
    if missing:
        raise SalesDataError(
            f"control {missing[0]!r} is not a column of the sales data besides the sales column; "
            f"columns are {list(table.columns)}"
        )
    freq = frequency_of(table.index)
    chosen_by_data = design in ("structural", "synthetic")
    auto = tuple(
        name
        for name, value in (("trend", trend), ("seasonal", seasonal), ("log", log))
        if chosen_by_data and (value == "auto" if name == "seasonal" else value is None)
    )
    if seasonal == "auto":
        seasonal = None if design == "did" else freq.seasonal_period
    if "seasonal" in auto and seasonal is None:
        auto = tuple(a for a in auto if a != "seasonal")
    _check_options(seed, level_sd, seasonal)
    spec = ModelSpec(
        design=design,
        log=bool(log),
        level_sd=level_sd,
        trend=bool(trend),
        seasonal=cast(float | None, seasonal),  # a number or None: "auto" was replaced, _check_options refused the rest
        repetitions=repetitions,
        seed=seed,
        auto=auto,
    )
    if not 0 < bound < 1 or not 0 < alpha < 0.5:
        raise SalesDataError(f"bound must be in (0, 1) and alpha in (0, 0.5), got {bound} and {alpha}")

    label, found, when = _resolve(incident, catalog)
    start = post_start(table.index, when)
    if start <= 0:
        raise SalesDataError(
            f"the incident ({_show(when)}) is not after the first sales period ({_show(table.index[0])})"
        )
    if start >= len(table):
        raise SalesDataError(f"the incident ({_show(when)}) is after the last sales period ({_show(table.index[-1])})")
    end = len(table) if post_periods is None else start + post_periods
    if post_periods is not None and not 1 <= post_periods <= len(table) - start:
        raise SalesDataError(f"post_periods must be between 1 and {len(table) - start}, got {post_periods}")
    window = table.iloc[:end]
    bounds = resolve_boundaries(segments, window.index, start)
    _check_finite(window[[column]], "the sales column")
    _check_finite(window[list(controls)], "control")
    needed = minimum_pre(spec, len(controls))
    if start < needed:
        season = f", seasonal period {seasonal:g}" if seasonal and "seasonal" not in auto else ""
        raise SalesDataError(
            f"the pre-period has {start} periods; the {design} design with {len(controls)} controls{season} needs at "
            f"least {needed} (use fewer controls, no seasonal term, or a longer history)"
        )

    y = window[column].to_numpy(dtype=float)
    x = window[list(controls)].to_numpy(dtype=float) if controls else None
    factor = _rescale_factor(y[:start] if x is None else np.column_stack([y[:start], x[:start]]))
    ys, xs = y / factor, None if x is None else x / factor
    with np.errstate(all="ignore"):
        cf = counterfactual(ys, xs, start, spec)
    fitted_spec = cf.spec if cf.spec is not None else spec
    notes = cf.notes
    if factor != 1:
        notes += (
            f"values divided by {factor:.0e} for the fit (they are too large or too small for floating-point "
            "sums of squares); results are in the original units",
        )
    cf = replace(
        cf,
        point=cf.point * factor,
        draws=cf.draws * factor,
        fitted=cf.fitted * factor,
        params=_named(cf.params, controls),
        notes=notes,
    )
    effect = Effect(y[start:], cf, alpha)
    _check_effect(effect)
    real = effect.relative
    with np.errstate(all="ignore"):
        timed = in_time(
            ys,
            xs,
            start,
            spec,
            labels=window.index,
            real_effect=real,
            max_runs=placebos,
            alpha=alpha,
            fitted=fitted_spec,
        )
        spaced = in_space(ys, xs, start, spec, names=tuple(controls), real_effect=real, alpha=alpha)
    frame = window[[column, *controls]].rename(columns={column: "sales"})
    return SalesImpact(
        label,
        found,
        when,
        frame,
        start,
        fitted_spec,
        tuple(controls),
        effect,
        timed,
        spaced,
        bound,
        cf.notes + _timeline_notes(found, window.index[start], window.index[-1]),
        choice=cf.choice,
        placebos_requested=placebos,
        segment_bounds=bounds,
    )


def _check_options(seed: object, level_sd: object, seasonal: object) -> None:
    """Clear errors for option values the model cannot use (ModelSpec repeats the checks for direct use)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SalesDataError(f"the seed must be a whole number >= 0, got {seed!r}")
    if level_sd is not None and not (isinstance(level_sd, (int, float, np.number)) and np.isfinite(level_sd)):
        raise SalesDataError(
            f"the level s.d. must be a positive finite number (or None for maximum likelihood), got {level_sd!r}"
        )
    if seasonal is not None and not (isinstance(seasonal, (int, float, np.number)) and np.isfinite(seasonal)):
        raise SalesDataError(f"the seasonal period must be a finite number, 'auto' or None, got {seasonal!r}")


def _rescale_factor(pre: np.ndarray) -> float:
    """A power of 10 bringing the largest pre-period |value| near 1 when it is beyond 1e100 or below 1e-100
    (sums of squares would overflow or underflow); else 1."""
    top = float(np.max(np.abs(pre)))
    if not np.isfinite(top):
        raise SalesDataError("the sales data hold an infinite value")
    if top == 0 or 1e-100 <= top <= 1e100:
        return 1.0
    return float(10.0 ** np.floor(np.log10(top)))


def _check_effect(effect: Effect) -> None:
    """Refuse a result computed from non-finite numbers (never a verdict from NaN)."""
    table = effect.table[["actual", "predicted", "effect", "effect_lower", "effect_upper"]].to_numpy()
    if not np.isfinite(table).all() or not np.isfinite(effect.counterfactual.draws).all():
        raise SalesDataError(
            "the model's forecast is not finite (values too large to add up in floating point, or "
            "a degenerate fit); divide the sales by a power of 10 or check the data"
        )


def _show(value: object) -> str:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


def _named(params: dict[str, float], controls: Sequence[str]) -> dict[str, float]:
    """``beta.2`` / ``weight.2`` renamed after the second control."""
    out = {}
    for key, value in params.items():
        stem, _, number = key.rpartition(".")
        out[f"{stem}.{controls[int(number) - 1]}" if stem in ("beta", "weight") and number.isdigit() else key] = value
    return out


def _timeline_notes(incident: Incident | None, first: object, last: object) -> tuple[str, ...]:
    """Other timeline events inside the post-period (they may move sales too)."""
    if incident is None or not isinstance(first, pd.Timestamp) or not isinstance(last, pd.Timestamp):
        return ()
    events = [e for e in incident.timeline if e.kind != "incident" and first <= pd.Timestamp(e.date) <= last]
    return tuple(
        f"timeline event inside the post-period: {e.date.isoformat()} {e.kind}: {e.description}" for e in events
    )
