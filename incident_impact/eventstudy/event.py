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

from ..errors import IncidentImpactError, InsufficientDataError
from .fitting import fit
from .inputs import joined_returns
from .models import NormalReturnModel
from .results import EventStudyResult
from .spec import EventStudySpec
from .windows import Window, event_session, format_window, relative_days

__all__ = ["event_study", "joined_returns"]


def event_study(
    returns: pd.Series,
    benchmark: pd.Series | None,
    event_date: pd.Timestamp | str,
    *,
    model: str | NormalReturnModel | None = None,
    estimation: Window | str | None = None,
    windows: Iterable[Window | str] | None = None,
    min_estimation_obs: int | None = None,
    event_id: str | None = None,
    factors: pd.DataFrame | None = None,
    spec: EventStudySpec | None = None,
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
    estimation : estimation window in relative days, inclusive, default ``(-250, -11)``; must end
        before every event window.
    windows : event windows ``(start, end)`` in relative days, inclusive (duplicates dropped),
        default ``DEFAULT_WINDOWS``.
    min_estimation_obs : fewest estimation returns accepted, default 120.
    event_id : a label carried into the result and its error messages.
    factors : daily factor returns in decimals (columns ``mkt_rf, smb, hml, rmw, cma, mom, rf``,
        see :func:`incident_impact.eventstudy.factors.read_french_factors`), needed by ``ff3``,
        ``carhart`` and ``ff5``; days without factors drop out of the join.
    spec : an :class:`~.spec.EventStudySpec` holding the options above; an option given as well
        overrides the spec's (None: the spec's, else the default). The result keeps the spec used
        as ``result.spec``.

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
    spec = EventStudySpec.from_options(
        spec,
        model=model,
        estimation=estimation,
        windows=windows,
        min_estimation_obs=min_estimation_obs,
        factors=factors,
    )
    return study_event(returns, benchmark, event_date, spec, event_id)


def study_event(
    returns: pd.Series,
    benchmark: pd.Series | None,
    event_date: object,
    spec: EventStudySpec,
    event_id: str | None = None,
) -> EventStudyResult:
    """:func:`event_study` with its options already in ``spec`` (the loop engine's per-event call)."""
    model, estimation, windows, factors = spec.model, spec.estimation, spec.windows, spec.factors
    min_estimation_obs = spec.min_estimation_obs
    label = event_id or "event"
    first_event_day, last_event_day = spec.event_period
    needs_benchmark = model.needs_benchmark
    if needs_benchmark and benchmark is None:
        raise IncidentImpactError(f"the {model.name} model needs benchmark returns")
    factor_cols = model.factor_columns
    if factor_cols:
        if factors is None:
            raise IncidentImpactError(
                f"the {model.name} model needs a factor table (e.g. Kenneth French's daily factors)"
            )
        missing = [c for c in factor_cols if c not in factors.columns]
        if missing:
            raise IncidentImpactError(
                f"the factor table lacks the column(s) {', '.join(missing)} needed by {model.name}"
            )
    data = joined_returns(
        returns,
        benchmark if needs_benchmark else None,
        factors[list(factor_cols)] if factor_cols and factors is not None else None,
    )
    if data.empty:
        raise InsufficientDataError(f"{label}: the stock and benchmark returns share no dates")
    day = event_session(event_date, label)
    if day < data.index[0]:
        raise InsufficientDataError(
            f"{label}: the event session {day.date()} is before the first return ({data.index[0].date()})"
        )
    rel, day0 = relative_days(pd.DatetimeIndex(data.index), day)
    notes = []
    if day0 != day:
        notes.append(f"no return on {day.date()}; day 0 is the next date with data, {day0.date()}")

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
    est_end = int(rel[est].max()) if n_est else estimation[1]
    fitted = fit(model, y[est], X[est], horizon=last_event_day - est_end)
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
    # SE of each day's AR: sigma * sqrt(1 + x_t' (X'X)^-1 x_t) (GARCH: the variance forecast, FittedModel.ar_variance)
    frame["ar_se"] = np.sqrt(fitted.ar_variance(X, rel - est_end))
    return EventStudyResult(
        event_id=event_id,
        event_date=day,
        day0=day0,
        fitted=fitted,
        spec=spec,
        estimation_window=estimation,
        windows=tuple(usable),
        estimation=frame.loc[est, ["rel_day", "return", "benchmark", "expected", "ar"]],
        event=frame.loc[span],
        event_design=X[span],
        notes=tuple(notes),
    )
