"""Abnormal trading volume (Campbell & Wasley 1996 style): attention can spike when the price does not move.

Choice made here (documented in the README's Methods section):

* the volume measure is ``v_t = log(1 + volume_t)`` — Campbell & Wasley (1996) use the log of
  turnover (plus a small constant); our price files have share volume but not shares
  outstanding, and over a one-year window shares outstanding barely move, so log volume and log
  turnover differ by a near-constant that the model's intercept absorbs; the ``+1`` keeps
  zero-volume days finite;
* the normal-volume model is ``mean`` (mean-adjusted, the default) or ``market``: an OLS
  regression on the log volume of a market index (e.g. ``^GSPC``'s exchange volume);
* abnormal log volume, its cumulation and the estimation-error-corrected variance come from the
  same single-event path as returns (:func:`~incident_impact.eventstudy.event_study`), so a
  "CAR" of log volume over ``L`` days is the summed abnormal log volume and its t-test is the
  usual one. For several events pass ``log_volume(wide_volumes)`` to
  :func:`~incident_impact.eventstudy.run_study` (``cs_t``, ``bmp``, ``corrado``... then test
  abnormal volume across events), or :func:`volume_study`.

The command line's ``--outcome returns|volume|volatility`` (:data:`OUTCOMES`) reads a price file's
volume with :func:`volume_series` (one clear error naming the file when it has none), studies one
event with :func:`abnormal_volume` and many with :func:`volume_study`; abnormal volatility is
:func:`~incident_impact.eventstudy.volatility.abnormal_volatility` on the returns study.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError
from .event import event_study
from .results import EventStudyResult
from .spec import EventStudySpec
from .study_results import StudyResult
from .windows import Window

#: What an event study can measure: abnormal returns, abnormal (log) volume, abnormal volatility.
OUTCOMES = ("returns", "volume", "volatility")


def volume_series(history) -> pd.Series:
    """The share volume of a :class:`~incident_impact.prices.base.PriceHistory` (a Series by date,
    named after the ticker, rows without volume dropped). A file without volume (its ``volume``
    column all NaN) is one :class:`~incident_impact.errors.IncidentImpactError` line naming it."""
    data = history.data
    volume = data["volume"] if "volume" in data.columns else pd.Series(np.nan, index=data.index)
    volume = pd.to_numeric(volume, errors="coerce").dropna()
    if volume.empty:
        where = history.source_path or history.source
        raise IncidentImpactError(
            f"{where}: no trading volume for {history.ticker} (the file has no volume column "
            "or it is empty); --outcome volume needs a Volume column"
        )
    return volume.rename(history.ticker)


def log_volume(volume: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    """``log(1 + volume)``; negative volumes raise, missing ones stay missing."""
    if not isinstance(volume, (pd.Series, pd.DataFrame)):
        raise IncidentImpactError("volume must be a pandas Series (or a DataFrame of them) indexed by date")
    try:
        volume = volume.astype(float)
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(f"volume must be numbers: {exc}") from None
    if (volume < 0).to_numpy().any():
        raise IncidentImpactError("volume cannot be negative")
    return cast("pd.Series | pd.DataFrame", np.log1p(volume))


def abnormal_volume(
    volume: pd.Series,
    event_date: pd.Timestamp | str,
    *,
    market_volume: pd.Series | None = None,
    model: str | None = None,
    estimation: Window | str | None = None,
    windows: Iterable[Window | str] | None = None,
    min_estimation_obs: int | None = None,
    event_id: str | None = None,
    spec: EventStudySpec | None = None,
) -> EventStudyResult:
    """Abnormal log volume of one event (Campbell & Wasley 1996).

    ``AV_t = v_t - E[v_t]`` with ``v_t = log(1 + volume_t)`` and ``E[v_t]`` the estimation-window
    mean (``model="mean"``) or ``a + b m_t`` with ``m_t`` the market's log volume
    (``model="market"``, needs ``market_volume``). The result's ``car_table`` holds cumulative
    abnormal log volume with its t-test; ``sq_test`` gives the distribution-free check (volume is
    strongly skewed even in logs). ``spec`` (an :class:`~.spec.EventStudySpec`) may hold the options;
    those given as well override it; without either the model is ``mean``.
    """
    name = model if model is not None else (spec.model.name if spec is not None else "mean")
    if name not in ("mean", "market"):
        raise IncidentImpactError(f"abnormal volume supports the mean and market models, not {name!r}")
    if name == "market" and market_volume is None:
        raise IncidentImpactError("the market volume model needs market_volume (e.g. the index's volume)")
    spec = EventStudySpec.from_options(
        spec, model=name, estimation=estimation, windows=windows, min_estimation_obs=min_estimation_obs
    )
    if not isinstance(volume, pd.Series) or not (market_volume is None or isinstance(market_volume, pd.Series)):
        raise IncidentImpactError("volume and market_volume must be pandas Series indexed by date")
    y = cast(pd.Series, log_volume(volume.dropna()))
    m = cast(pd.Series, log_volume(market_volume.dropna())) if name == "market" and market_volume is not None else None
    return event_study(y, m, event_date, event_id=event_id, spec=spec)


def volume_study(
    volumes: pd.DataFrame,
    events: pd.DataFrame,
    *,
    market_volume: pd.Series | pd.DataFrame | None = None,
    model: str | None = None,
    estimation: Window | str | None = None,
    windows: Iterable[Window | str] | None = None,
    min_estimation_obs: int | None = None,
    engine: str = "batch",
    spec: EventStudySpec | None = None,
) -> StudyResult:
    """Abnormal log volume of many events (Campbell & Wasley 1996): :func:`~.study.run_study` on
    ``log(1 + volume)`` (``volumes``: date x ticker share volumes, or long ``date, ticker, volume``
    renamed to ``return``), with the ``mean`` model (default) or ``market`` on the market's log volume
    (``market_volume``, one Series or a frame with one column per benchmark name, like
    ``run_study``'s ``benchmark``). Every test of :meth:`StudyResult.tests` then tests abnormal
    volume across events; CARs are cumulative abnormal log volume."""
    from .study import run_study

    name = model if model is not None else (spec.model.name if spec is not None else "mean")
    if name not in ("mean", "market"):
        raise IncidentImpactError(f"abnormal volume supports the mean and market models, not {name!r}")
    if name == "market" and market_volume is None:
        raise IncidentImpactError("the market volume model needs market_volume (e.g. the index's volume)")
    if not isinstance(volumes, pd.DataFrame):
        raise IncidentImpactError("volumes must be a DataFrame (dates x tickers)")
    if {"date", "ticker", "volume"} <= set(volumes.columns):
        volumes = volumes.pivot_table(index="date", columns="ticker", values="volume", aggfunc="last")
        volumes.index = pd.DatetimeIndex(volumes.index)
    bench = log_volume(market_volume) if name == "market" and market_volume is not None else None
    spec = EventStudySpec.from_options(
        spec, model=name, estimation=estimation, windows=windows, min_estimation_obs=min_estimation_obs
    )
    return run_study(cast(pd.DataFrame, log_volume(volumes)), bench, events, engine=engine, spec=spec)
