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
  abnormal volume across events).
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
from .windows import Window


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
    spec = EventStudySpec.from_options(spec, model=name, estimation=estimation, windows=windows,
                                       min_estimation_obs=min_estimation_obs)
    if not isinstance(volume, pd.Series) or not (market_volume is None or isinstance(market_volume, pd.Series)):
        raise IncidentImpactError("volume and market_volume must be pandas Series indexed by date")
    y = cast(pd.Series, log_volume(volume.dropna()))
    m = cast(pd.Series, log_volume(market_volume.dropna())) if name == "market" and market_volume is not None else None
    return event_study(y, m, event_date, event_id=event_id, spec=spec)
