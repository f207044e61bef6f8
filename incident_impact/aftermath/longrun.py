"""Across incidents, long horizons: BHARs with the skewness-adjusted t, calendar-time portfolios, recovery shares.

Over ``[0, h]`` with ``h`` = 20, 60 or 120 sessions three things go wrong with the short-window tests:
buy-and-hold returns are right-skewed, event windows of different incidents overlap in calendar
time, and single-firm iid bands are too narrow. This module offers the standard answers.

**BHAR and the skewness-adjusted t** (Lyon, Barber & Tsai 1999, "Improved methods for tests of
long-run abnormal stock returns", J. Finance 54, eqs. 4-5). ``BHAR_i = prod_{t=0..h}(1 + R_it) -
prod_{t=0..h}(1 + R_mt)`` against the event's benchmark. With ``n`` events, ``S = mean(BHAR) /
sigma(BHAR)`` (``sigma`` the cross-sectional sample standard deviation, ``ddof = 1``) and

    gamma_hat = sum_i (BHAR_i - mean(BHAR))^3 / (n sigma(BHAR)^3),

    t_sa = sqrt(n) (S + gamma_hat S^2 / 3 + gamma_hat / (6 n)).

(``gamma_hat`` is ``scipy.stats.skew(x) * ((n - 1) / n)^(3/2)``: LBT divide the third central moment
by the ``ddof = 1`` standard deviation cubed. Hall's 1992 version adds ``gamma_hat^2 S^3 / 27``;
LBT drop it.) ``t_sa`` is compared with Student's t(n - 1), as the conventional t
(:mod:`incident_impact.eventstudy.skewness`, shared with the abnormal-volatility test).

**Bootstrapped skewness-adjusted t** (LBT 1999, section III.B; Sutton 1993). ``B`` resamples
(default 1,000, ``seed`` fixed so the numbers reproduce) of size ``n_b = floor(n / 4)`` drawn with
replacement from the BHARs; in each, ``t_sa^b`` is computed with ``S_b = (mean_b - mean) / sigma_b``
(centred on the full sample's mean, so the resamples obey the null) and ``n_b`` in place of ``n``.
The two-sided p-value is equal-tailed, ``min(1, 2 min(#{t_sa^b <= t_sa}, #{t_sa^b >= t_sa}) / B)``,
matching LBT's rejection rule (reject when ``t_sa`` is below the lower or above the upper critical
value of the bootstrap distribution). Resamples with ``sigma_b = 0`` are dropped (counted in the
note). Needs ``n >= 12`` (``n_b >= 3``).

**Calendar-time portfolio** (Jaffe 1974; Mitchell & Stafford 2000). For each calendar day ``t`` the
equal-weighted portfolio of the firms in their ``[0, h]`` window on that day (a firm with two
overlapping windows counts once; an event whose data end early contributes the days it has):
``R_pt = mean_i R_it``. With a factor table (``rf`` present: ``ff_daily.csv`` has it) the regression is
``R_pt - rf_t = alpha + b MKT_t (+ s SMB_t + h HML_t for "ff3") + e_t``; without one, the market model
on the matched benchmark, ``R_pt = alpha + beta Rbar_mt + e_t`` with ``Rbar_mt`` the mean of the active
events' benchmark returns (the benchmark itself when all share one). ``alpha`` is the mean daily
abnormal return of an incident firm in its window; ``alpha (h + 1)`` its size over the window. The
t of ``alpha`` uses the OLS variance ``s^2 (X'X)^-1`` and the Newey-West (1987) HAC variance
``(X'X)^-1 [sum_t e_t^2 x_t x_t' + sum_{l=1..L} (1 - l/(L+1)) sum_t e_t e_{t-l} (x_t x_{t-l}' + x_{t-l} x_t')]
(X'X)^-1`` (Bartlett weights, ``L = floor(4 (T/100)^(2/9))`` by default, no small-sample factor: statsmodels'
``cov_type="HAC"`` default); both against t(T - k). The portfolio's changing size makes its variance
change over time: the HAC t allows for it.

**Recovery shares**: from per-incident :class:`~incident_impact.aftermath.recovery.Recovery` results,
per horizon, how many incidents could be observed, how many were hurt (CAR at or below -MDE at some
session in ``[0, h]``) and how many of those were back above -MDE by ``h`` (and stayed there).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from ..display import html_block, short_repr
from ..distributions import t_sf
from ..errors import IncidentImpactError, InsufficientDataError
from ..eventstudy import TestResult, format_window, joined_returns, parse_window, wide_returns
from ..eventstudy import statistics as st
from ..eventstudy.skewness import lbt_skewness, skewness_adjusted_t, t_sa
from .recovery import HORIZONS, Recovery, _p, jsonable

DEFAULT_BOOT = 1000
REGRESSIONS = ("market", "capm", "ff3")
HORIZON_WINDOWS: tuple[tuple[int, int], ...] = tuple((0, h) for h in HORIZONS)  # [0,+h] for the default horizons


# ------------------------------------------------------------------ bootstrapped skewness-adjusted t
def bootstrap_skewness_adjusted_t(
    values, *, n_boot: int = DEFAULT_BOOT, seed: int | None = 0, fraction: float = 0.25, name: str = "bhar_skew_boot"
) -> TestResult:
    """LBT's bootstrapped skewness-adjusted t: ``t_sa`` against its bootstrap distribution.

    ``n_boot`` resamples of ``n_b = floor(fraction n)`` values drawn with replacement (``seed``);
    ``t_sa^b`` with ``S_b = (mean_b - mean) / s_b``; p = ``min(1, 2 min(#{t^b <= t_sa}, #{t^b >= t_sa}) / B)``
    with ``B`` the resamples with ``s_b > 0``. The statistic reported is the full sample's ``t_sa``.
    """
    x = np.asarray(values, dtype=float).ravel()
    n = len(x)
    n_b = int(math.floor(fraction * n))
    if n_b < 3:
        return TestResult(
            name,
            np.nan,
            np.nan,
            "bootstrap",
            None,
            n,
            f"the bootstrap needs n_b = floor({fraction:g} n) >= 3 (N = {n})",
        )
    if not x.std(ddof=1) > 1e-10 * np.abs(x).max():
        return TestResult(name, np.nan, np.nan, "bootstrap", None, n, "the values do not vary across events")
    t = float(t_sa(x, 0.0)[0])
    rng = np.random.default_rng(seed)
    draws = x[rng.integers(0, n, size=(int(n_boot), n_b))]
    tb = t_sa(draws, x.mean())
    tb = tb[np.isfinite(tb)]
    if not len(tb):
        return TestResult(name, t, np.nan, "bootstrap", None, n, "every resample was constant")
    p = min(1.0, 2 * min(float((tb <= t).mean()), float((tb >= t).mean())))
    return TestResult(
        name, t, p, "bootstrap", None, n, None, f"{len(tb)} of {n_boot} resamples of n_b = {n_b} (seed {seed})"
    )


# ------------------------------------------------------------------ inputs
def _events(events: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise IncidentImpactError("events must be a DataFrame with columns event_id, ticker, day0 (or event_date)")
    table = events.reset_index(drop=True).copy()
    if "day0" not in table.columns and "event_date" in table.columns:
        table["day0"] = table["event_date"]
    missing = [c for c in ("event_id", "ticker", "day0") if c not in table.columns]
    if missing:
        raise IncidentImpactError(f"the events table lacks the column(s) {', '.join(missing)}")
    if table.empty:
        raise IncidentImpactError("the events table is empty")
    table["event_id"] = table["event_id"].astype(str)
    table["ticker"] = table["ticker"].astype(str)
    dup = table["event_id"][table["event_id"].duplicated()].unique()
    if len(dup):
        raise IncidentImpactError(f"duplicate event ids: {', '.join(dup[:5])}")
    try:
        day0 = pd.to_datetime(table["day0"])
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(f"cannot read the events' day 0: {exc}; use YYYY-MM-DD") from None
    if getattr(day0.dt, "tz", None) is not None:
        day0 = day0.dt.tz_localize(None)
    table["day0"] = day0.dt.normalize()
    return table


def _benchmark_for(benchmark, row) -> pd.Series:
    if isinstance(benchmark, pd.Series):
        return benchmark
    if isinstance(benchmark, (pd.DataFrame, Mapping)):
        keys = list(benchmark.columns if isinstance(benchmark, pd.DataFrame) else benchmark.keys())
        wanted = row.get("benchmark") if hasattr(row, "get") else None
        if isinstance(wanted, str) and wanted.strip():
            if wanted not in keys:
                raise IncidentImpactError(f"unknown benchmark {wanted!r}; known: {', '.join(map(str, keys))}")
            return benchmark[wanted].dropna()
        if len(keys) == 1:
            return benchmark[keys[0]].dropna()
        raise IncidentImpactError("several benchmarks were given; name one in the events' benchmark column")
    raise IncidentImpactError("benchmark must be a Series, a DataFrame (one column per benchmark) or a mapping")


def _event_windows(
    returns: pd.DataFrame, benchmark, events: pd.DataFrame, window: tuple[int, int]
) -> list[tuple[pd.Series, pd.DataFrame | None, str | None]]:
    """Per event: (row, joined frame of the window's sessions — columns return, benchmark —, reason)."""
    wide = wide_returns(returns)
    table = _events(events)
    out: list[tuple[pd.Series, pd.DataFrame | None, str | None]] = []
    for _, row in table.iterrows():
        if row["ticker"] not in wide.columns or not wide[row["ticker"]].notna().any():
            out.append((row, None, f"unknown ticker {row['ticker']!r}: no returns"))
            continue
        try:
            bench = _benchmark_for(benchmark, row)
            data = joined_returns(wide[row["ticker"]].dropna(), bench)
        except IncidentImpactError as exc:
            out.append((row, None, str(exc)))
            continue
        pos0 = int(data.index.searchsorted(row["day0"]))
        if pos0 >= len(data):
            out.append((row, None, f"no return on or after day 0 ({row['day0'].date()})"))
            continue
        lo, hi = pos0 + window[0], pos0 + window[1]
        if lo < 0:
            out.append((row, None, f"the data start after day {window[0]}"))
            continue
        out.append(
            (
                row,
                data.iloc[lo : hi + 1],
                None
                if hi < len(data)
                else f"not yet observable: {format_window(window)} needs data to day {window[1]:+d}; the data end on "
                f"{data.index[-1].date()} (day {len(data) - 1 - pos0:+d})",
            )
        )
    return out


# ------------------------------------------------------------------ BHAR
def bhar_table(
    returns: pd.DataFrame,
    benchmark,
    events: pd.DataFrame,
    windows: Iterable[tuple[int, int] | str] = HORIZON_WINDOWS,
) -> pd.DataFrame:
    """BHARs per event and window: ``event_id, ticker, window, n_days, bhar, observable, reason``.

    ``BHAR = prod(1 + R_it) - prod(1 + R_mt)`` over the window's sessions of the stock-benchmark join
    (day 0 the first joined session on or after ``day0``): the number
    :meth:`~incident_impact.eventstudy.StudyResult.bhar` gives. A window past the data end is NaN,
    "not yet observable".
    """
    rows = []
    for w in windows:
        w = parse_window(w)
        for row, data, reason in _event_windows(returns, benchmark, events, w):
            ok = reason is None
            rows.append(
                {
                    "event_id": row["event_id"],
                    "ticker": row["ticker"],
                    "window": format_window(w),
                    "n_days": len(data) if data is not None else 0,
                    "bhar": (
                        float(np.prod(1 + data["return"]) - np.prod(1 + data["benchmark"]))
                        if ok and data is not None  # an observable window always has its data
                        else np.nan
                    ),
                    "observable": ok,
                    "reason": reason,
                }
            )
    return pd.DataFrame(rows, columns=["event_id", "ticker", "window", "n_days", "bhar", "observable", "reason"])


def bhar_tests(bhars, *, n_boot: int = DEFAULT_BOOT, seed: int | None = 0) -> list[TestResult]:
    """The conventional t (``bhar_t``), the skewness-adjusted t (``bhar_skew_t``) and its bootstrap
    (``bhar_skew_boot``) of the mean BHAR."""
    x = np.asarray(bhars, dtype=float)
    x = x[np.isfinite(x)]
    return [
        st.cs_t_named("bhar_t", x),
        skewness_adjusted_t(x),
        bootstrap_skewness_adjusted_t(x, n_boot=n_boot, seed=seed),
    ]


# ------------------------------------------------------------------ calendar time
def ols_hac(y: np.ndarray, X: np.ndarray, lags: int | None = None) -> dict:
    """OLS of ``y`` on ``X`` with classical and Newey-West standard errors (module docstring).

    Returns ``params, se_ols, se_hac, lags, df, resid``.
    """
    y, X = np.asarray(y, float), np.asarray(X, float)
    T, k = X.shape
    xtx_inv = np.linalg.inv(X.T @ X)
    params = xtx_inv @ X.T @ y
    e = y - X @ params
    s2 = e @ e / (T - k)
    if lags is None:
        lags = int(math.floor(4 * (T / 100) ** (2 / 9)))
    xe = X * e[:, None]
    S = xe.T @ xe
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        G = xe[lag:].T @ xe[:-lag]
        S += w * (G + G.T)
    cov_hac = xtx_inv @ S @ xtx_inv
    return {
        "params": params,
        "se_ols": np.sqrt(np.diag(s2 * xtx_inv)),
        "se_hac": np.sqrt(np.diag(cov_hac)),
        "lags": lags,
        "df": T - k,
        "resid": e,
    }


@dataclass(frozen=True)
class CalendarTimeResult:
    """Calendar-time portfolio regression of one window (see the module docstring).

    ``alpha`` (daily), ``alpha_window = alpha (h + 1)``, ``se_ols, t_ols, p_ols, se_hac, t_hac, p_hac,
    hac_lags``, ``betas`` (slope name -> value), ``n_days`` (portfolio days), ``mean_firms`` (average
    firms per day), ``n_events`` (events in the portfolio), ``regression`` (what was regressed), ``reason``
    (why the alpha is NaN), ``portfolio`` (date, return, market, n_firms).
    """

    window: str
    regression: str
    alpha: float
    alpha_window: float
    se_ols: float
    t_ols: float
    p_ols: float
    se_hac: float
    t_hac: float
    p_hac: float
    hac_lags: int | None
    betas: dict = field(default_factory=dict)
    n_days: int = 0
    mean_firms: float = float("nan")
    n_events: int = 0
    reason: str | None = None
    portfolio: pd.DataFrame | None = field(default=None, repr=False)

    def row(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "regression",
                "alpha",
                "alpha_window",
                "se_ols",
                "t_ols",
                "p_ols",
                "se_hac",
                "t_hac",
                "p_hac",
                "hac_lags",
                "n_days",
                "mean_firms",
                "n_events",
                "reason",
            )
        }

    def to_dict(self) -> dict:
        return jsonable({"window": self.window, **self.row(), "betas": self.betas})


def calendar_time_alpha(
    returns: pd.DataFrame,
    benchmark,
    events: pd.DataFrame,
    window: tuple[int, int] | str,
    *,
    factors: pd.DataFrame | None = None,
    regression: str | None = None,
    hac_lags: int | None = None,
    min_firms: int = 1,
) -> CalendarTimeResult:
    """Alpha of the calendar-time portfolio of events in their ``window`` (Jaffe 1974; Mitchell & Stafford 2000).

    ``regression``: ``"market"`` (``R_p`` on the matched benchmark return; default without factors),
    ``"capm"`` (``R_p - rf`` on ``mkt_rf``; default with factors) or ``"ff3"`` (adds ``smb, hml``).
    Days with fewer than ``min_firms`` firms, or without factors, are left out. Formulas: module docstring.
    """
    window = parse_window(window)
    regression = regression or ("capm" if factors is not None else "market")
    if regression not in REGRESSIONS:
        raise IncidentImpactError(f"unknown regression {regression!r}; choose one of {', '.join(REGRESSIONS)}")
    needed = {"capm": ["mkt_rf", "rf"], "ff3": ["mkt_rf", "smb", "hml", "rf"]}.get(regression, [])
    if needed:
        if factors is None:
            raise IncidentImpactError(f"the {regression} calendar-time regression needs a factor table with rf")
        lacking = [c for c in needed if c not in factors.columns]
        if lacking:
            raise IncidentImpactError(
                f"the factor table lacks {', '.join(lacking)} needed by the {regression} regression"
            )
    parts, n_events = [], 0
    for row, data, _reason in _event_windows(returns, benchmark, events, window):
        if data is None or data.empty:
            continue
        n_events += 1
        parts.append(
            pd.DataFrame(
                {
                    "date": data.index,
                    "ticker": row["ticker"],
                    "ret": data["return"].to_numpy(),
                    "bench": data["benchmark"].to_numpy(),
                }
            )
        )
    label = format_window(window)
    described = {
        "market": "R_p on the matched benchmark return (market model)",
        "capm": "R_p - rf on mkt_rf",
        "ff3": "R_p - rf on mkt_rf, smb, hml",
    }[regression]
    nan: dict[str, Any] = dict(
        alpha=np.nan,
        alpha_window=np.nan,
        se_ols=np.nan,
        t_ols=np.nan,
        p_ols=np.nan,
        se_hac=np.nan,
        t_hac=np.nan,
        p_hac=np.nan,
        hac_lags=None,
    )
    if not parts:
        return CalendarTimeResult(label, described, **nan, n_events=0, reason="no event has data in the window")
    long = pd.concat(parts, ignore_index=True).drop_duplicates(["date", "ticker"])
    port = long.groupby("date").agg(ret=("ret", "mean"), market=("bench", "mean"), n_firms=("ticker", "size"))
    port = port[port["n_firms"] >= min_firms]
    if needed:
        assert factors is not None  # checked above: a regression with factors needs the table
        f = factors[needed].copy()
        f.index = pd.DatetimeIndex(pd.to_datetime(f.index)).normalize()
        port = port.join(f, how="inner").dropna()
        y = (port["ret"] - port["rf"]).to_numpy()
        names = needed[:-1]
        X = np.column_stack([np.ones(len(port))] + [port[c].to_numpy() for c in names])
    else:
        y = port["ret"].to_numpy()
        names = ["market"]
        X = np.column_stack([np.ones(len(port)), port["market"].to_numpy()])
    portfolio = port.reset_index().rename(columns={"ret": "return"})
    if len(port) < X.shape[1] + 3 or np.linalg.matrix_rank(X) < X.shape[1]:
        return CalendarTimeResult(
            label,
            described,
            **nan,
            n_days=len(port),
            n_events=n_events,
            mean_firms=float(port["n_firms"].mean()) if len(port) else np.nan,
            reason=f"too few portfolio days ({len(port)}) or no variation in the regressors",
            portfolio=portfolio,
        )
    fit = ols_hac(y, X, hac_lags)
    a, df = float(fit["params"][0]), fit["df"]
    t_ols, t_hac = a / fit["se_ols"][0], a / fit["se_hac"][0]
    return CalendarTimeResult(
        label,
        described,
        a,
        a * (window[1] - window[0] + 1),
        float(fit["se_ols"][0]),
        float(t_ols),
        float(2 * t_sf(abs(t_ols), df)),
        float(fit["se_hac"][0]),
        float(t_hac),
        float(2 * t_sf(abs(t_hac), df)),
        int(fit["lags"]),
        {n: float(b) for n, b in zip(names, fit["params"][1:], strict=True)},
        len(port),
        float(port["n_firms"].mean()),
        n_events,
        None,
        portfolio,
    )


# ------------------------------------------------------------------ recovery shares
def recovery_shares(recoveries: Mapping[str, Recovery], horizons: Iterable[int] = HORIZONS) -> pd.DataFrame:
    """Per horizon ``h``: ``n_incidents, n_observable, n_hurt`` (CAR <= -MDE at some session of ``[0, h]``),
    ``n_recovered`` (hurt, and above -MDE from some session <= ``h`` through ``h``), ``share_recovered =
    n_recovered / n_hurt``, ``n_never_hurt``, ``n_unknown`` (observable, MDE unknown), ``not_observable``
    (the event ids)."""
    rows = []
    for h in horizons:
        label = format_window((0, int(h)))
        obs = hurt = rec = never = unknown = 0
        missing = []
        for eid, r in recoveries.items():
            if label not in r.horizons.index or not bool(r.horizons.at[label, "observable"]):
                missing.append(eid)
                continue
            obs += 1
            was_hurt = r.horizons.at[label, "hurt"]
            if was_hurt is None or (isinstance(was_hurt, float) and np.isnan(was_hurt)):
                unknown += 1
            elif was_hurt:
                hurt += 1
                recovered_by: Any = r.horizons.at[label, "recovered_by"]  # an int or None/NaN
                rec += int(not pd.isna(recovered_by))
            else:
                never += 1
        rows.append(
            {
                "window": label,
                "horizon": int(h),
                "n_incidents": len(recoveries),
                "n_observable": obs,
                "n_hurt": hurt,
                "n_recovered": rec,
                "share_recovered": rec / hurt if hurt else np.nan,
                "n_never_hurt": never,
                "n_unknown": unknown,
                "not_observable": ", ".join(missing),
            }
        )
    return pd.DataFrame(rows).set_index("window")


# ------------------------------------------------------------------ the study
@dataclass(frozen=True, eq=False)
class LongRunStudy:
    """Long-horizon results across incidents (see :func:`longrun_study`).

    ``bhar``: per event and window (:func:`bhar_table`); ``tests``: per window and test
    (``bhar_t, bhar_skew_t, bhar_skew_boot``): ``window, test, statistic, p_value, n_events, note`` plus
    per window ``mean_bhar, median_bhar, skewness``; ``calendar``: per window the calendar-time alpha
    (:class:`CalendarTimeResult`); ``recovery``: :func:`recovery_shares` (None without recoveries).
    """

    windows: tuple[tuple[int, int], ...]
    bhar: pd.DataFrame
    tests: pd.DataFrame
    calendar: dict
    recovery: pd.DataFrame | None
    notes: tuple[str, ...] = ()

    def calendar_frame(self) -> pd.DataFrame:
        return pd.DataFrame({w: r.row() for w, r in self.calendar.items()}).T.rename_axis("window")

    def to_frame(self) -> pd.DataFrame:
        """One row per window: mean and median BHAR, the three BHAR p-values, the calendar-time alpha
        and its p-values, and the recovery share."""
        rows = []
        for w in self.windows:
            label = format_window(w)
            t = self.tests[self.tests["window"] == label].set_index("test")
            cal = self.calendar[label]
            row = {
                "window": label,
                "n_events": int(cast(int, t.at["bhar_t", "n_events"])) if "bhar_t" in t.index else 0,
                "mean_bhar": t["mean_bhar"].iloc[0] if len(t) else np.nan,
                "median_bhar": t["median_bhar"].iloc[0] if len(t) else np.nan,
                "skewness": t["skewness"].iloc[0] if len(t) else np.nan,
                **{
                    f"p_{name}": t.at[name, "p_value"] if name in t.index else np.nan
                    for name in ("bhar_t", "bhar_skew_t", "bhar_skew_boot")
                },
                "ct_alpha_window": cal.alpha_window,
                "ct_t_hac": cal.t_hac,
                "ct_p_hac": cal.p_hac,
                "ct_mean_firms": cal.mean_firms,
            }
            if self.recovery is not None and w[0] == 0 and label in self.recovery.index:
                row["share_recovered"] = self.recovery.at[label, "share_recovered"]
            rows.append(row)
        return pd.DataFrame(rows).set_index("window")

    def to_dict(self) -> dict:
        """JSON-ready: ``windows`` (one dict per window: ``window, bhar`` — mean, median, skewness and the three
        tests —, ``calendar_time``, ``recovery``), ``events`` (per-event BHARs) and ``notes``."""
        out = []
        for w in self.windows:
            label = format_window(w)
            t = self.tests[self.tests["window"] == label]
            item = {
                "window": label,
                "bhar": {
                    "mean": t["mean_bhar"].iloc[0] if len(t) else None,
                    "median": t["median_bhar"].iloc[0] if len(t) else None,
                    "skewness": t["skewness"].iloc[0] if len(t) else None,
                    "tests": t.drop(columns=["window", "mean_bhar", "median_bhar", "skewness"]).to_dict("records"),
                },
                "calendar_time": self.calendar[label].to_dict(),
            }
            if self.recovery is not None and label in self.recovery.index:
                item["recovery"] = self.recovery.loc[label].to_dict()
            out.append(item)
        return jsonable({"windows": out, "events": self.bhar.to_dict("records"), "notes": list(self.notes)})

    def summary(self) -> str:
        lines = [
            "Long-horizon abnormal returns across incidents",
            "",
            f"{'window':<10} {'N':>3} {'mean BHAR %':>12} {'t p':>6} {'skew-t p':>8} {'boot p':>7} "
            f"{'CT alpha·L %':>13} {'CT HAC p':>8} {'firms/day':>9} {'recovered':>10}",
        ]
        frame = self.to_frame()
        for label, r in frame.iterrows():
            rec = r.get("share_recovered", np.nan)
            lines.append(
                f"{label:<10} {int(r.n_events):>3} {100 * r.mean_bhar:>12.2f} {_p(r.p_bhar_t):>6} "
                f"{_p(r.p_bhar_skew_t):>8} {_p(r.p_bhar_skew_boot):>7} {100 * r.ct_alpha_window:>13.2f} "
                f"{_p(r.ct_p_hac):>8} {r.ct_mean_firms:>9.1f} "
                f"{'n/a' if pd.isna(rec) else f'{100 * rec:.0f} %':>10}"
            )
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        frame = self.to_frame()
        return short_repr(
            "LongRunStudy",
            [f"{len(self.windows)} window(s), {self.bhar['event_id'].nunique()} event(s)"]
            + [
                f"{w}: mean BHAR {100 * r.mean_bhar:+.1f} % (skew-adjusted p {_p(r.p_bhar_skew_t)}), "
                f"calendar-time p {_p(r.ct_p_hac)}"
                for w, r in frame.iterrows()
            ],
        )

    def _repr_html_(self) -> str:
        return html_block("Long-horizon abnormal returns", list(self.notes[:1]), self.to_frame())


def longrun_study(
    returns: pd.DataFrame,
    benchmark,
    events: pd.DataFrame,
    *,
    horizons: Iterable[int] = HORIZONS,
    factors: pd.DataFrame | None = None,
    regression: str | None = None,
    n_boot: int = DEFAULT_BOOT,
    seed: int | None = 0,
    hac_lags: int | None = None,
    recoveries: Mapping[str, Recovery] | None = None,
) -> LongRunStudy:
    """BHAR tests, calendar-time alphas and recovery shares over ``[0, h]`` for each horizon.

    Parameters
    ----------
    returns : wide (date x ticker) or long (``date, ticker, return``) simple daily returns.
    benchmark : one Series, or a frame / mapping of benchmarks chosen by the events' ``benchmark`` column.
    events : ``event_id, ticker, day0`` (or ``event_date``: the day-0 session), optional ``benchmark``.
    factors : daily factors in decimals with ``rf`` (``read_french_factors``): the calendar-time
        regression becomes ``R_p - rf`` on ``mkt_rf`` (``regression="ff3"`` adds SMB and HML).
    n_boot, seed : the bootstrap of the skewness-adjusted t.
    recoveries : per-incident :class:`~incident_impact.aftermath.recovery.Recovery` results, keyed by
        event id, for the share recovered by each horizon.
    """
    hs = sorted({int(h) for h in horizons})
    if not hs or hs[0] < 1:
        raise IncidentImpactError("every horizon must be at least 1 session after day 0")
    windows = tuple((0, h) for h in hs)
    bh = bhar_table(returns, benchmark, events, windows)
    if not bh["observable"].any():
        raise InsufficientDataError("no event has the data of any long window")
    rows, calendar = [], {}
    for w in windows:
        label = format_window(w)
        x = bh.loc[(bh["window"] == label) & bh["observable"], "bhar"].to_numpy()
        extra = {
            "mean_bhar": float(x.mean()) if len(x) else np.nan,
            "median_bhar": float(np.median(x)) if len(x) else np.nan,
            "skewness": lbt_skewness(x),
        }
        for res in bhar_tests(x, n_boot=n_boot, seed=seed):
            rows.append(
                {
                    "window": label,
                    "test": res.name,
                    "statistic": res.statistic,
                    "p_value": res.p_value,
                    "n_events": res.n_events,
                    "note": res.reason or res.note or "",
                    **extra,
                }
            )
        calendar[label] = calendar_time_alpha(
            returns, benchmark, events, w, factors=factors, regression=regression, hac_lags=hac_lags
        )
    notes = [
        f"{int((~g['observable']).sum())} event(s) not yet observable over {w}"
        for w, g in bh.groupby("window", sort=False)
        if (~g["observable"]).any()
    ]
    notes.append(
        "BHAR against each event's benchmark; skew-adjusted t of Lyon, Barber & Tsai (1999) and its "
        f"bootstrap (n_b = n/4, {n_boot} resamples, seed {seed}); calendar-time alpha with OLS and "
        "Newey-West t (Jaffe 1974; Mitchell & Stafford 2000)"
    )
    return LongRunStudy(
        windows, bh, pd.DataFrame(rows), calendar, recovery_shares(recoveries, hs) if recoveries else None, tuple(notes)
    )
