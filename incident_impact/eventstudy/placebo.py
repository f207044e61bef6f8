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

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError
from .batch import BatchUnsupported, fit_table
from .event import joined_returns
from .models import get_model
from .study import StudyResult, wide_returns
from .windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, MIN_ESTIMATION_OBS, Window, format_window, parse_window


def _joined_dates(returns: pd.Series, benchmark: pd.Series | None, model, factors: pd.DataFrame | None) -> pd.DatetimeIndex:
    """The sessions of the joined series the model uses (stock, benchmark and/or factors)."""
    model = get_model(model)
    cols = list(model.factor_columns)
    if cols and factors is None:
        raise IncidentImpactError(f"the {model.name} model needs a factor table")
    return joined_returns(returns.dropna(), benchmark if model.needs_benchmark else None,
                          factors[cols] if cols else None).index


def placebo_cars(
    returns: pd.Series,
    benchmark: pd.Series | None,
    *,
    dates=None,
    model: str = "market",
    estimation: Window | str = DEFAULT_ESTIMATION,
    windows=DEFAULT_WINDOWS,
    min_estimation_obs: int = MIN_ESTIMATION_OBS,
    factors: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """CARs of one stock at pseudo day 0 ``dates`` (default: every joined session of its history).

    Returns one row per pseudo day 0 that can be studied (enough estimation returns, the window's
    data) and window: ``day0, window, car, se, t_stat`` — the numbers :func:`~.event.event_study`
    gives for that date.
    """
    estimation = parse_window(estimation)
    windows = tuple(dict.fromkeys(parse_window(w) for w in windows))
    if get_model(model).needs_benchmark and benchmark is None:
        raise IncidentImpactError(f"the {get_model(model).name} model needs benchmark returns")
    if dates is None:
        dates = _joined_dates(returns, benchmark, model, factors)
    dates = pd.DatetimeIndex(dates)
    columns = ["day0", "window", "car", "se", "t_stat"]
    if not len(dates):
        return pd.DataFrame(columns=columns)
    wide = wide_returns(returns.rename("x").to_frame())
    table = pd.DataFrame({"ticker": "x", "event_date": dates.normalize()})
    try:
        fit, _, _ = fit_table(table, wide, {"": benchmark} if benchmark is not None else {}, [""] * len(table),
                              [None] * len(table), model=get_model(model), estimation=estimation, windows=windows,
                              min_estimation_obs=min_estimation_obs, factors=factors)
    except BatchUnsupported as exc:
        raise IncidentImpactError(f"cannot compute placebo CARs: {exc}") from None
    day0 = pd.DatetimeIndex(fit.arrays.grid[fit.arrays.day0[fit.rows]])
    parts = []
    for w in windows:
        has = fit.has(w)
        car, var = (v[has] for v in fit.car(w))
        se = np.sqrt(var)
        parts.append(pd.DataFrame({"day0": day0[has], "window": format_window(w), "car": car, "se": se, "t_stat": car / se}))
    return pd.concat(parts, ignore_index=True).sort_values(["day0", "window"], kind="stable", ignore_index=True)


def placebo_test(
    study: StudyResult,
    n: int,
    *,
    returns: pd.DataFrame | None = None,
    seed: int | None = None,
    min_estimation_obs: int = MIN_ESTIMATION_OBS,
    factors: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``n`` random pseudo-events per event of ``study``, against its real CAR.

    For each studied event, ``n`` pseudo day 0s are drawn without replacement (``seed`` makes the
    draw reproducible) among the firm's joined sessions with a full estimation window and every
    window's data, excluding those whose event period overlaps the real event's. Per event and
    window: ``event_id, ticker, window, car, n_placebo, share_beyond`` with
    ``share_beyond = #{|CAR_p| >= |CAR|} / n_placebo`` (the empirical two-sided p-value), plus the
    placebo CARs' ``placebo_mean`` and ``placebo_sd``. ``returns`` (wide or long) default to the
    study's own; the benchmark of each event is the one the study used; factor models need ``factors``.
    """
    if n < 1:
        raise IncidentImpactError("the number of placebo dates must be at least 1")
    if returns is None and study.returns is None:
        raise IncidentImpactError("the study keeps no returns; pass returns=")
    wide = wide_returns(returns) if returns is not None else study.returns
    rng = np.random.default_rng(seed)
    estimation, windows = study.estimation_window, study.windows
    first, last = min(w[0] for w in windows), max(w[1] for w in windows)
    tickers = dict(zip(study.events["event_id"], study.events["ticker"]))
    rows = []
    for eid, res in study.results.items():
        ticker = tickers[eid]
        bench = study.benchmarks.get(eid)
        joined = _joined_dates(wide[ticker], bench, study.model, factors)
        k = np.arange(len(joined))
        real = joined.searchsorted(res.day0)
        ok = (k + estimation[0] >= 0) & (k + last < len(joined)) & (np.abs(k - real) > last - first)
        pool = joined[ok]
        draw = pool[np.sort(rng.choice(len(pool), size=min(n, len(pool)), replace=False))] if len(pool) else pool
        cars = placebo_cars(wide[ticker], bench, dates=draw, model=study.model, estimation=estimation, windows=windows,
                            min_estimation_obs=min_estimation_obs, factors=factors)
        for w in res.windows:
            car, _ = res.car(w)
            pseudo = cars.loc[cars["window"] == format_window(w), "car"].to_numpy()
            rows.append({"event_id": eid, "ticker": ticker, "window": format_window(w), "car": car,
                         "n_placebo": len(pseudo),
                         "share_beyond": float((np.abs(pseudo) >= abs(car)).mean()) if len(pseudo) else np.nan,
                         "placebo_mean": float(pseudo.mean()) if len(pseudo) else np.nan,
                         "placebo_sd": float(pseudo.std(ddof=1)) if len(pseudo) > 1 else np.nan})
    return pd.DataFrame(rows, columns=["event_id", "ticker", "window", "car", "n_placebo", "share_beyond",
                                       "placebo_mean", "placebo_sd"])
