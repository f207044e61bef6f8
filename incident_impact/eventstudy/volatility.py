"""Abnormal volatility: did the news make the stock's abnormal returns more variable?

The event-window variance of the abnormal returns is set against the variance the normal-return
model predicts from the estimation window (the variance-ratio logic of Beaver 1968 and of the
event-induced variance literature, e.g. Boehmer, Musumeci & Poulsen 1991; EventStudyTools' AVyC
instead adds an event-day dummy to a GARCH variance equation). With ``AR_it`` the abnormal return of event
``i`` on day ``t`` of the window ``[t1, t2]`` (``L`` days) and ``S(AR_it)`` its prediction-error
standard deviation (``sigma_i sqrt(1 + x_t'(X'X)^-1 x_t)``, the ``ar_se`` of the event study):

* standardized abnormal return ``SAR_it = AR_it / S(AR_it)`` (``t(df_i)`` under normal H0);
* per event, the **variance ratio** ``VR_i = (1/L) sum_t SAR_it^2`` — the window's mean squared
  abnormal return over the model's variance. Under H0 (no abnormal mean or variance, normal
  returns) ``VR_i`` is approximately ``F(L, df_i)`` (numerator ``chi^2_L / L``, denominator the
  estimation variance's ``chi^2_df / df``), with exact mean ``df_i / (df_i - 2)``; its two-sided
  p-value is ``2 min(F_cdf, F_sf)``;
* per event, the **abnormal volatility** ``AV_i = VR_i - df_i / (df_i - 2)`` (centring at
  the large-sample value 1 leaves a bias of ``2 / (df_i - 2)`` that matters for thousands of events);
* across events, ``av_t = mean(AV_i) / (s_AV / sqrt(N)) ~ t(N - 1)`` (cross-sectional t, robust
  to heterogeneous volatility across firms); ``AV_i`` is right-skewed (with a one-day window a
  squared t value, skewness about 2.8), so this t over-rejects with short windows (about 8 % at
  5 % for N = 50 and L = 1), and ``av_skew_t``, the same mean with the skewness-adjusted t of
  :mod:`.skewness` (Johnson 1978; Lyon, Barber & Tsai 1999), keeps its size; and, assuming
  independent events,
  ``av_chi2 = sum_i L VR_i ~ chi^2(N L)`` (the pooled variance-ratio test), two-sided.

A positive mean ``AV`` is a volatility increase. Abnormal means also raise ``VR`` (an abnormal
return of ``k`` standard deviations adds ``k^2 / L``): test the mean with the CAR tests first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ..errors import IncidentImpactError
from . import statistics as st
from .results import EventStudyResult
from .skewness import skewness_adjusted_t
from .study_results import StudyResult
from .windows import Window, format_window, parse_window

#: Columns of :attr:`AbnormalVolatility.events`.
EVENT_COLUMNS = ("event_id", "n_days", "variance_ratio", "abnormal_volatility", "df", "f_p_value")


def _two_sided(cdf: np.ndarray, sf: np.ndarray) -> np.ndarray:
    return np.minimum(1.0, 2 * np.minimum(cdf, sf))


@dataclass(frozen=True, eq=False)
class AbnormalVolatility:
    """Abnormal volatility over one window.

    Attributes
    ----------
    window : the window.
    events : one row per event with the window's data: ``event_id, n_days, variance_ratio,
        abnormal_volatility, df, f_p_value`` (the per-event F test).
    daily : by relative day: ``n_events, mean_sar2`` (mean ``SAR^2``), ``av`` (``mean_sar2`` minus
        the mean null expectation ``df / (df - 2)``).
    results : the cross-sectional tests ``av_t``, ``av_skew_t`` and ``av_chi2``
        (:class:`~.statistics.TestResult`).
    """

    window: Window
    events: pd.DataFrame
    daily: pd.DataFrame
    results: tuple[st.TestResult, ...]

    def tests(self) -> pd.DataFrame:
        """The cross-sectional tests as a frame indexed by test name (``statistic, p_value, df,
        n_events, distribution, note``), like :meth:`StudyResult.tests`."""
        return st.results_frame(list(self.results))

    @property
    def mean_variance_ratio(self) -> float:
        return float(self.events["variance_ratio"].mean()) if len(self.events) else float("nan")

    def to_dict(self) -> dict:
        from .study_results import records

        return {
            "window": format_window(self.window),
            "mean_variance_ratio": self.mean_variance_ratio,
            "events": records(self.events),
            "daily": records(self.daily.reset_index()),
            "tests": records(self.tests().reset_index()),
        }

    def summary(self) -> str:
        lines = [
            f"Abnormal volatility over {format_window(self.window)}: {len(self.events)} event(s), "
            f"mean variance ratio {self.mean_variance_ratio:.3f}"
        ]
        for r in self.results:
            lines.append(f"  {r}")
        return "\n".join(lines)


def _daily_rows(result: StudyResult | EventStudyResult) -> tuple[pd.DataFrame, dict[str, float]]:
    """``event_id, rel_day, ar, ar_se`` of the event period, and each event's residual df."""
    if isinstance(result, StudyResult):
        ar = result.abnormal_returns[["event_id", "rel_day", "ar", "ar_se"]]
        dfs = {eid: float(res.fitted.df) for eid, res in result.results.items()}
        return ar, dfs
    if isinstance(result, EventStudyResult):
        eid = str(result.event_id) if result.event_id is not None else "event"
        ev = result.event[["rel_day", "ar", "ar_se"]].reset_index(drop=True)
        ev.insert(0, "event_id", eid)
        return ev, {eid: float(result.fitted.df)}
    raise IncidentImpactError(
        "abnormal_volatility needs a StudyResult (run_study) or an EventStudyResult (event_study)"
    )


def abnormal_volatility(
    result: StudyResult | EventStudyResult, window: Window | str | None = None
) -> AbnormalVolatility:
    """Abnormal volatility of the events of ``result`` over ``window`` (default: the first window).

    Statistics and references in the module docstring: per event the variance ratio
    ``VR_i = mean_t (AR_it / S(AR_it))^2`` with its ``F(L, df_i)`` test; across events the
    cross-sectional t of ``AV_i = VR_i - df_i/(df_i - 2)`` (``av_t``, t(N - 1)), its
    skewness-adjusted version (``av_skew_t``) and the pooled
    ``sum_i L VR_i ~ chi^2(N L)`` (``av_chi2``). Events without every day of the window are left out.
    """
    rows, dfs = _daily_rows(result)
    window = parse_window(window) if window is not None else result.windows[0]
    L = window[1] - window[0] + 1
    sub = rows[(rows["rel_day"] >= window[0]) & (rows["rel_day"] <= window[1])].copy()
    sub["sar2"] = (sub["ar"] / sub["ar_se"]) ** 2
    per = sub.groupby("event_id", sort=False).agg(n_days=("sar2", "size"), variance_ratio=("sar2", "mean"))
    per = per[per["n_days"] == L]
    df = per.index.map(dfs).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        null_mean = np.where(df > 2, df / (df - 2), np.nan)
        vr = per["variance_ratio"].to_numpy(dtype=float)
        p_f = _two_sided(special.fdtr(L, df, vr), special.fdtrc(L, df, vr))
    events = pd.DataFrame(
        {
            "event_id": per.index.astype(str),
            "n_days": per["n_days"].to_numpy(),
            "variance_ratio": vr,
            "abnormal_volatility": vr - null_mean,
            "df": df,
            "f_p_value": p_f,
        },
        columns=list(EVENT_COLUMNS),
    ).reset_index(drop=True)
    kept = sub[sub["event_id"].isin(per.index)]
    daily = kept.groupby("rel_day").agg(n_events=("sar2", "size"), mean_sar2=("sar2", "mean"))
    daily["av"] = daily["mean_sar2"] - (float(np.nanmean(null_mean)) if len(null_mean) else np.nan)
    n = len(events)
    av = events["abnormal_volatility"].to_numpy()
    av_t, av_skew_t = st.cs_t_named("av_t", av), skewness_adjusted_t(av, "av_skew_t")
    if n < 1 or not np.isfinite(vr).all():
        chi = st.TestResult("av_chi2", np.nan, np.nan, "chi2", None, n, "no event has every day of the window")
    else:
        stat, dof = float(L * vr.sum()), n * L
        p = float(_two_sided(special.chdtr(dof, stat), special.chdtrc(dof, stat)))
        chi = st.TestResult(
            "av_chi2",
            stat,
            p,
            "chi2",
            float(dof),
            n,
            None,
            f"sum of L x variance ratio over {n} event(s); assumes independent events",
        )
    return AbnormalVolatility(window, events, daily, (av_t, av_skew_t, chi))
