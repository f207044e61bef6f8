"""Placebo (pseudo-event) studies: how unusual is an event's CAR for its own stock?

Every joined session ``d`` of a firm's history with a full estimation window and the event
windows' data is a possible pseudo day 0. :func:`placebo_cars` computes the CAR of each such date
exactly as for a real event — the normal-return model refitted on ``d``'s own (rolling)
estimation window, ``CAR_d = sum of AR`` over the window, ``SE_d`` from the CLM variance — all
dates at once with the batch engine (:mod:`.batch`). :func:`placebo_test` draws ``N`` of them at
random for each event of a study, leaving out pseudo-events whose event period overlaps the real
one, and reports the share of placebo CARs at least as large in absolute value as the real CAR:
an empirical two-sided p-value that assumes nothing about the distribution of returns (the
idea behind the SQ test of Gelbach, Helland & Klick 2013, which uses the CARs inside the
estimation window of the event's own fit instead of refitted pseudo-events).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError, InsufficientDataError
from .batch import BatchUnsupported, fit_table
from .event import event_study
from .inputs import column, model_dates, wide_returns
from .models import ModelFitError, NormalReturnModel
from .spec import EventStudySpec
from .study_results import StudyResult
from .windows import Window, format_window

__all__ = ["placebo_cars", "placebo_test"]


def placebo_cars(
    returns: pd.Series,
    benchmark: pd.Series | None,
    *,
    dates: Iterable | None = None,
    model: str | NormalReturnModel | None = None,
    estimation: Window | str | None = None,
    windows: Iterable[Window | str] | None = None,
    min_estimation_obs: int | None = None,
    factors: pd.DataFrame | None = None,
    spec: EventStudySpec | None = None,
) -> pd.DataFrame:
    """CARs of one stock at pseudo day 0 ``dates`` (default: every joined session of its history).

    Returns one row per pseudo day 0 that can be studied (enough estimation returns, the window's
    data) and window: ``day0, window, car, se, t_stat`` — the numbers :func:`~.event.event_study`
    gives for that date. The options (defaults as in ``event_study``) may come in ``spec``; those
    given as well override it. The models fitted event by event (``garch``, ``egarch``,
    ``scholes-williams``, ``dimson``) run ``event_study`` at each date (slow on a whole history:
    pass ``dates``); dates whose fit fails are left out.
    """
    spec = EventStudySpec.from_options(
        spec,
        model=model,
        estimation=estimation,
        windows=windows,
        min_estimation_obs=min_estimation_obs,
        factors=factors,
    )
    if not isinstance(returns, pd.Series):
        raise IncidentImpactError("returns must be a pandas Series indexed by date")
    if spec.model.needs_benchmark and benchmark is None:
        raise IncidentImpactError(f"the {spec.model.name} model needs benchmark returns")
    if dates is None:
        dates = model_dates(returns, benchmark, spec.model, spec.factors)
    try:
        days = pd.DatetimeIndex(cast(Any, dates))
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(f"cannot read the placebo dates: {exc}") from None
    columns = ["day0", "window", "car", "se", "t_stat"]
    if not len(days):
        return pd.DataFrame(columns=columns)
    wide = wide_returns(returns.rename("x").to_frame())
    table = pd.DataFrame({"ticker": "x", "event_date": days.normalize()})
    try:
        fit, _, _ = fit_table(
            table, wide, {"": benchmark} if benchmark is not None else {}, [""] * len(table), [None] * len(table), spec
        )
    except BatchUnsupported as exc:
        if spec.model.estimator == "ols":
            raise IncidentImpactError(f"cannot compute placebo CARs: {exc}") from None
        return _loop_cars(returns, benchmark, days, spec, columns)
    day0 = pd.DatetimeIndex(fit.arrays.grid[fit.arrays.day0[fit.rows]])
    parts = []
    for w in spec.windows:
        has = fit.has(w)
        car, var = (v[has] for v in fit.car(w))
        se = np.sqrt(var)
        parts.append(
            pd.DataFrame({"day0": day0[has], "window": format_window(w), "car": car, "se": se, "t_stat": car / se})
        )
    return pd.concat(parts, ignore_index=True).sort_values(["day0", "window"], kind="stable", ignore_index=True)


def _loop_cars(
    returns: pd.Series, benchmark: pd.Series | None, days: pd.DatetimeIndex, spec: EventStudySpec, columns: list[str]
) -> pd.DataFrame:
    """:func:`placebo_cars` for the models fitted event by event (GARCH, thin trading): ``event_study``
    at each date. Dates without the data or whose fit fails (:class:`~.models.ModelFitError`, e.g. a
    GARCH likelihood that did not converge) are left out, as the batch engine leaves out dates
    without the data."""
    rows = []
    for day in days:
        try:
            res = event_study(returns, benchmark, day, spec=spec)
        except (InsufficientDataError, ModelFitError):
            continue
        for w in spec.windows:
            if w in res.windows:
                car, se = res.car(w)
                rows.append((res.day0, format_window(w), car, se, car / se))
    return pd.DataFrame(rows, columns=columns).sort_values(["day0", "window"], kind="stable", ignore_index=True)


def placebo_test(
    study: StudyResult,
    n: int,
    *,
    returns: pd.DataFrame | None = None,
    seed: int | None = None,
    min_estimation_obs: int | None = None,
    factors: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``n`` random pseudo-events per event of ``study``, against its real CAR.

    For each studied event, ``n`` pseudo day 0s are drawn without replacement (``seed`` makes the
    draw reproducible) among the firm's joined sessions with a full estimation window and every
    window's data, excluding those whose event period overlaps the real event's. Per event and
    window: ``event_id, ticker, window, car, n_placebo, share_beyond`` with
    ``share_beyond = #{|CAR_p| >= |CAR|} / n_placebo`` (the empirical two-sided p-value), plus the
    placebo CARs' ``placebo_mean`` and ``placebo_sd``. The model, windows, ``min_estimation_obs`` and
    factor table are the study's (``study.spec``); ``min_estimation_obs`` and ``factors`` given here
    override them. ``returns`` (wide or long) default to the study's own; the benchmark of each event
    is the one the study used.
    """
    if not isinstance(study, StudyResult):
        raise IncidentImpactError("placebo_test needs a StudyResult (from run_study)")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise IncidentImpactError(f"the number of placebo dates must be a whole number, at least 1 (not {n!r})")
    if returns is None and study.returns is None:
        raise IncidentImpactError("the study keeps no returns; pass returns=")
    wide = wide_returns(returns) if returns is not None else study.returns
    assert wide is not None
    spec = EventStudySpec.from_options(study.spec, min_estimation_obs=min_estimation_obs, factors=factors)
    rng = np.random.default_rng(seed)
    estimation = spec.estimation
    first, last = spec.event_period
    tickers = dict(zip(study.events["event_id"], study.events["ticker"], strict=True))
    rows = []
    for eid, res in study.results.items():
        ticker = tickers[eid]
        bench = study.benchmarks.get(eid)
        stock = column(wide, ticker)
        joined = model_dates(stock, bench, spec.model, spec.factors)
        k = np.arange(len(joined))
        real = joined.searchsorted(res.day0)
        ok = (k + estimation[0] >= 0) & (k + last < len(joined)) & (np.abs(k - real) > last - first)
        pool = joined[ok]
        draw = pool[np.sort(rng.choice(len(pool), size=min(n, len(pool)), replace=False))] if len(pool) else pool
        cars = placebo_cars(stock, bench, dates=draw, spec=spec)
        for w in res.windows:
            car, _ = res.car(w)
            pseudo = cars.loc[cars["window"] == format_window(w), "car"].to_numpy()
            rows.append(
                {
                    "event_id": eid,
                    "ticker": ticker,
                    "window": format_window(w),
                    "car": car,
                    "n_placebo": len(pseudo),
                    "share_beyond": float((np.abs(pseudo) >= abs(car)).mean()) if len(pseudo) else np.nan,
                    "placebo_mean": float(pseudo.mean()) if len(pseudo) else np.nan,
                    "placebo_sd": float(pseudo.std(ddof=1)) if len(pseudo) > 1 else np.nan,
                }
            )
    return pd.DataFrame(
        rows, columns=["event_id", "ticker", "window", "car", "n_placebo", "share_beyond", "placebo_mean", "placebo_sd"]
    )
