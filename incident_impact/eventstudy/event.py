"""Single-event study: one stock, one benchmark, one event date.

This is the readable reference path. Conventions (MacKinlay 1997; Campbell, Lo & MacKinlay
1997, ch. 4):

* returns are simple returns; stock and benchmark returns are inner-joined on date and days
  where either is missing are dropped;
* relative day ``k`` is the ``k``-th joined session after day 0 (:mod:`.windows`);
* the normal-return model is fitted by OLS on the estimation window (default [-250, -11],
  inclusive), which needs at least ``min_estimation_obs`` returns (default 120);
* ``AR_t = R_t - E[R_t]``; ``CAR(t1, t2) = sum of AR_t`` over the window;
* ``Var(CAR) = sigma^2 (L + g' (X'X)^-1 g)``, ``g`` the sum of the window's design rows;
  ``t = CAR / SE`` with a two-sided p-value from Student's t with the model's degrees of freedom.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError, IncidentImpactError
from .models import NormalReturnModel, fit, get_model
from .results import EventStudyResult
from .windows import (DEFAULT_ESTIMATION, DEFAULT_WINDOWS, MIN_ESTIMATION_OBS, Window, datetime_indexed, event_session,
                      format_window, parse_window, relative_days)


def _check_series(series: pd.Series, what: str) -> pd.Series:
    if not isinstance(series, pd.Series):
        raise IncidentImpactError(f"{what} must be a pandas Series indexed by date")
    series = datetime_indexed(series, what)
    dup = series.index[series.index.duplicated()]
    if len(dup):
        raise IncidentImpactError(f"{what} has duplicate dates, first {dup[0].date()}; remove them before the study")
    try:
        return series.sort_index().astype(float)
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(f"{what} must be numbers: {exc}") from None


def joined_returns(returns: pd.Series, benchmark: pd.Series | None, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Inner join of stock and benchmark returns (and factor columns) on date, rows with a missing value dropped.

    Columns ``return`` and ``benchmark`` (the latter absent when ``benchmark`` is None), then
    the columns of ``factors`` when given.
    """
    parts = {"return": _check_series(returns, "returns")}
    if benchmark is not None:
        parts["benchmark"] = _check_series(benchmark, "benchmark returns")
    if factors is not None:
        for col in factors.columns:
            parts[col] = _check_series(factors[col], f"factor {col}")
    data = pd.concat(parts, axis=1, join="inner").replace([np.inf, -np.inf], np.nan).dropna()
    data.index.name = "date"
    return data


def event_study(
    returns: pd.Series,
    benchmark: pd.Series | None,
    event_date: pd.Timestamp | str,
    *,
    model: str | NormalReturnModel = "market",
    estimation: Window = DEFAULT_ESTIMATION,
    windows: Iterable[Window | str] = DEFAULT_WINDOWS,
    min_estimation_obs: int = MIN_ESTIMATION_OBS,
    event_id: str | None = None,
    factors: pd.DataFrame | None = None,
) -> EventStudyResult:
    """Abnormal returns, CARs and their t-tests for one event.

    Parameters
    ----------
    returns : simple daily returns of the stock, indexed by session date. Each must span one
        session: given returns (not prices), the library cannot see a return taken across a
        missing session; drop such returns first (``PriceHistory.returns()`` does, see
        :mod:`incident_impact.prices.integrity`).
    benchmark : simple daily returns of the benchmark (needed by ``market`` and
        ``market-adjusted``; ignored by ``mean``).
    event_date : the event's day-0 session (see :func:`incident_impact.calendar.day0`): an ISO
        ``YYYY-MM-DD`` string, Timestamp, datetime or date; a time and offset are ignored (the
        date as written, in its own zone, counts; :func:`.windows.event_session`); ``10/04/2017``
        is an error. When it has no joined return, day 0 is the next date that has one (noted).
    model : ``market`` (default), ``mean``, ``market-adjusted``, ``ff3``, ``carhart`` or ``ff5``.
    estimation : estimation window in relative days, inclusive; must end before every event window.
    windows : event windows ``(start, end)`` in relative days, inclusive.
    min_estimation_obs : fewest estimation returns accepted.
    event_id : a label carried into the result and its error messages.
    factors : daily factor returns in decimals (columns ``mkt_rf, smb, hml, rmw, cma, mom, rf``,
        see :func:`incident_impact.eventstudy.factors.read_french_factors`), needed by ``ff3``,
        ``carhart`` and ``ff5``; days without factors drop out of the join.

    Returns
    -------
    EventStudyResult

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_estimation_obs`` estimation returns, or no window with data.
    IncidentImpactError
        Bad input: duplicate dates, an unknown model, overlapping estimation and event windows.
    """
    model = get_model(model)
    label = event_id or "event"
    estimation = parse_window(estimation)
    windows = tuple(dict.fromkeys(parse_window(w) for w in windows))
    if not windows:
        raise IncidentImpactError("give at least one event window")
    first_event_day = min(w[0] for w in windows)
    last_event_day = max(w[1] for w in windows)
    if estimation[1] >= first_event_day:
        raise IncidentImpactError(
            f"the estimation window {format_window(estimation)} overlaps the event window starting at day "
            f"{first_event_day}; end it before day {first_event_day}"
        )
    needs_benchmark = model.needs_benchmark
    if needs_benchmark and benchmark is None:
        raise IncidentImpactError(f"the {model.name} model needs benchmark returns")
    factor_cols = model.factor_columns
    if factor_cols:
        if factors is None:
            raise IncidentImpactError(f"the {model.name} model needs a factor table (e.g. Kenneth French's daily factors)")
        missing = [c for c in factor_cols if c not in factors.columns]
        if missing:
            raise IncidentImpactError(f"the factor table lacks the column(s) {', '.join(missing)} needed by {model.name}")
    data = joined_returns(returns, benchmark if needs_benchmark else None,
                          factors[list(factor_cols)] if factor_cols else None)
    if data.empty:
        raise InsufficientDataError(f"{label}: the stock and benchmark returns share no dates")
    event_date = event_session(event_date, label)
    if event_date < data.index[0]:
        raise InsufficientDataError(
            f"{label}: the event session {event_date.date()} is before the first return ({data.index[0].date()})"
        )
    rel, day0 = relative_days(data.index, event_date)
    notes = []
    if day0 != event_date:
        notes.append(f"no return on {event_date.date()}; day 0 is the next date with data, {day0.date()}")

    est = (rel >= estimation[0]) & (rel <= estimation[1])
    n_est = int(est.sum())
    if n_est < min_estimation_obs:
        raise InsufficientDataError(
            f"{label}: the estimation window {format_window(estimation)} has {n_est} returns "
            f"(at least {min_estimation_obs} needed); the data start on {data.index[0].date()}"
        )
    if n_est < estimation[1] - estimation[0] + 1:
        notes.append(f"the estimation window has {n_est} of {estimation[1] - estimation[0] + 1} days")

    y, X = model.variables(data)
    fitted = fit(model, y[est], X[est])
    ar = y - X @ fitted.params if X.shape[1] else y
    span = (rel >= first_event_day) & (rel <= last_event_day)
    available = int(rel[span].max()) if span.any() else None
    usable = [w for w in windows if available is not None and w[1] <= available and w[0] >= rel[0]]
    for w in windows:
        if w not in usable:
            notes.append(f"window {format_window(w)} needs data up to day {w[1]}; the data end at day {available}")
    if not usable:
        raise InsufficientDataError(f"{label}: no event window has data (the data end on {data.index[-1].date()})")

    frame = pd.DataFrame(
        {
            "rel_day": rel,
            "return": data["return"].to_numpy(),
            "benchmark": data["benchmark"].to_numpy() if "benchmark" in data else np.nan,
            "ar": ar,
        },
        index=data.index,
    )
    frame["expected"] = frame["return"] - frame["ar"]
    # SE of each day's AR: sigma * sqrt(1 + x_t' (X'X)^-1 x_t)
    leverage = np.einsum("ij,jk,ik->i", X, fitted.xtx_inv, X) if X.shape[1] else np.zeros(len(X))
    frame["ar_se"] = np.sqrt(fitted.sigma2 * (1 + leverage))
    return EventStudyResult(
        event_id=event_id,
        event_date=event_date,
        day0=day0,
        fitted=fitted,
        estimation_window=estimation,
        windows=tuple(usable),
        estimation=frame.loc[est, ["rel_day", "return", "benchmark", "expected", "ar"]],
        event=frame.loc[span],
        event_design=X[span],
        notes=tuple(notes),
    )
