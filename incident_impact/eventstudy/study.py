"""Multi-event studies: many events (possibly several per firm), one model, the full test battery.

:func:`run_study` runs the single-event reference path (:func:`.event.event_study`) once per
event and aggregates; every statistic comes from :mod:`.statistics`. Results are keyed by
``event_id`` (never by firm: one firm may have several events).

>>> result = run_study(returns, index_returns, events, windows=[(0, 1)])   # doctest: +SKIP
>>> result.tests((0, 1))                                                  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError, InsufficientDataError
from . import statistics as st
from .event import event_study
from .models import NormalReturnModel, get_model
from .results import EventStudyResult
from .windows import (DEFAULT_ESTIMATION, DEFAULT_WINDOWS, MIN_ESTIMATION_OBS, Window, datetime_indexed, event_sessions,
                      format_window, parse_window)


class OverlappingEventsWarning(UserWarning):
    """Two events of the same firm have overlapping event periods."""


def wide_returns(returns: pd.DataFrame) -> pd.DataFrame:
    """Returns as a (date x ticker) frame: a long table ``date, ticker, return`` is pivoted,
    a wide one is checked (dates on the index, one column per ticker)."""
    if not isinstance(returns, pd.DataFrame):
        raise IncidentImpactError("returns must be a DataFrame: wide (date x ticker) or long (date, ticker, return)")
    if {"date", "ticker", "return"} <= set(returns.columns):
        long = returns[["date", "ticker", "return"]].copy()
        long["date"] = pd.to_datetime(long["date"])
        long["ticker"] = long["ticker"].astype(str)
        dup = long.duplicated(["date", "ticker"])
        if dup.any():
            row = long[dup].iloc[0]
            raise IncidentImpactError(f"returns have two rows for {row['ticker']} on {row['date'].date()}")
        returns = long.pivot(index="date", columns="ticker", values="return")
    if isinstance(returns.columns, pd.MultiIndex):
        raise IncidentImpactError("the returns have several column levels; give one column per ticker "
                                  "(e.g. returns.droplevel(0, axis=1)) or a long table date, ticker, return")
    if returns.empty:
        raise InsufficientDataError("the returns table is empty: give simple daily returns, one column per ticker")
    wide = datetime_indexed(returns, "wide returns")
    wide.columns = wide.columns.astype(str)
    try:
        return wide.sort_index().astype(float)
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(f"the returns must be numbers (decimal returns; NaN for a missing day): {exc}") from None


def _events_table(events: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise IncidentImpactError("events must be a DataFrame with columns event_id, ticker, event_date")
    missing = [c for c in ("event_id", "ticker", "event_date") if c not in events.columns]
    if missing:
        raise IncidentImpactError(f"the events table lacks the column(s) {', '.join(missing)}")
    table = events.reset_index(drop=True).copy()
    table["event_id"] = table["event_id"].astype(str)
    table["ticker"] = table["ticker"].astype(str)
    dup = table["event_id"][table["event_id"].duplicated()].unique()
    if len(dup):
        raise IncidentImpactError(f"duplicate event ids: {', '.join(map(str, dup[:5]))}; every event needs its own id")
    if table.empty:
        raise IncidentImpactError("the events table is empty")
    table["event_date"] = event_sessions(table["event_date"], [f"event {e}" for e in table["event_id"]])
    return table


def _benchmarks(benchmark) -> dict[str, pd.Series]:
    if benchmark is None:
        return {}
    if isinstance(benchmark, pd.Series):
        return {"": benchmark}
    if isinstance(benchmark, pd.DataFrame):
        frame = datetime_indexed(benchmark, "benchmark returns")
        return {str(c): frame[c].dropna() for c in frame.columns}
    if isinstance(benchmark, Mapping):
        return {str(k): v for k, v in benchmark.items()}
    raise IncidentImpactError("benchmark must be a Series, a DataFrame with one column per benchmark, or None")


def _pick_benchmark(benchmarks: dict[str, pd.Series], row: pd.Series) -> tuple[str | None, pd.Series | None, str | None]:
    """(name, series, failure reason)."""
    wanted = row.get("benchmark")
    if isinstance(wanted, str) and wanted.strip():
        if wanted in benchmarks:
            return wanted, benchmarks[wanted], None
        if "" in benchmarks and len(benchmarks) == 1:
            return None, None, f"unknown benchmark {wanted!r} (one unnamed benchmark series was given)"
        return None, None, f"unknown benchmark {wanted!r}; known: {', '.join(sorted(benchmarks)) or 'none'}"
    if len(benchmarks) == 1:
        name, series = next(iter(benchmarks.items()))
        return name or None, series, None
    if not benchmarks:
        return None, None, None
    return None, None, "several benchmark columns were given; name one in the events' benchmark column"


@dataclass(frozen=True)
class TestInputs:
    """Per-event quantities behind the nine tests of one window (one entry per event that has it).

    ``car, se, df``: CARs, their standard errors and residual degrees of freedom; ``rbar``: the
    Kolari-Pynnönen mean residual correlation; ``ar_panel`` (events x days) and ``window_mask``:
    estimation and window ARs aligned by relative day for the rank test (None when the engine ranks
    them itself, see ``_rank_test``); ``share_positive``: share of positive estimation ARs;
    ``sq``: the event's SQ test when there is exactly one event.
    """

    __test__ = False

    car: np.ndarray
    se: np.ndarray
    df: np.ndarray
    rbar: float
    ar_panel: np.ndarray | None
    window_mask: np.ndarray | None
    share_positive: np.ndarray
    sq: st.TestResult | None


@dataclass(frozen=True, eq=False)
class StudyResult:
    """A multi-event study.

    Attributes
    ----------
    model : name of the normal-return model.
    estimation_window, windows : relative-day windows requested.
    results : per-event :class:`~incident_impact.eventstudy.EventStudyResult`, keyed by ``event_id``
        in the order of the events table.
    events : the events table (``event_id, ticker, event_date`` and any other columns given).
    failures : events that could not be studied: ``event_id, ticker, event_date, reason``.
    warnings : data remarks, e.g. overlapping event periods of one firm.
    benchmarks : the benchmark returns each event used; returns : the (date x ticker) returns of the
        study (both for BHARs and placebo dates, :mod:`.placebo`).
    """

    model: str
    estimation_window: Window
    windows: tuple[Window, ...]
    results: dict[str, EventStudyResult]
    events: pd.DataFrame
    failures: pd.DataFrame
    warnings: tuple[str, ...] = ()
    benchmarks: dict[str, pd.Series | None] = field(default_factory=dict, repr=False)
    returns: pd.DataFrame | None = field(default=None, repr=False)

    # ----------------------------------------------------------- basics
    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(self.results)

    @property
    def n_events(self) -> int:
        return len(self.results)

    def __getitem__(self, event_id: str) -> EventStudyResult:
        return self.results[event_id]

    @cached_property
    def _tickers(self) -> dict[str, str]:
        return dict(zip(self.events["event_id"], self.events["ticker"]))

    def _ticker(self, event_id: str) -> str:
        return self._tickers[event_id]

    # ----------------------------------------------------------- tidy tables
    @cached_property
    def abnormal_returns(self) -> pd.DataFrame:
        """Daily event-period rows, tidy: ``date, event_id, ticker, rel_day, return, benchmark,
        expected, ar, ar_se, sar`` (``sar = ar / ar_se``, the standardized AR of Patell 1976)."""
        frames = []
        for eid, res in self.results.items():
            frame = res.event[["rel_day", "return", "benchmark", "expected", "ar", "ar_se"]].copy()
            frame["sar"] = frame["ar"] / frame["ar_se"]
            frame.insert(0, "ticker", self._ticker(eid))
            frame.insert(0, "event_id", eid)
            frames.append(frame.reset_index())
        cols = ["date", "event_id", "ticker", "rel_day", "return", "benchmark", "expected", "ar", "ar_se", "sar"]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)

    @cached_property
    def cars(self) -> pd.DataFrame:
        """One row per event and window, tidy (for second-stage regressions):
        ``event_id, ticker, event_date, day0, window, start, end, n_days, car, se, scar, t_stat,
        df, p_value, sq_p_value, sigma`` plus the events table's extra columns.
        ``scar = car / se`` is the standardized CAR used by Patell and BMP."""
        extra = [c for c in self.events.columns if c not in ("event_id", "ticker", "event_date")]
        info = self.events.set_index("event_id")
        rows = []
        for eid, res in self.results.items():
            for window in res.windows:
                row = res.car_table.loc[format_window(window)]
                rows.append({
                    "event_id": eid, "ticker": self._ticker(eid), "event_date": res.event_date, "day0": res.day0,
                    "window": format_window(window), "start": window[0], "end": window[1], "n_days": int(row.n_days),
                    "car": row.car, "se": row.se, "scar": row.car / row.se, "t_stat": row.t_stat, "df": int(row.df),
                    "p_value": row.p_value, "sq_p_value": res.sq_test(window).p_value,
                    "sigma": float(np.sqrt(res.fitted.sigma2)),
                    **{c: info.at[eid, c] for c in extra},
                })
        return pd.DataFrame(rows)

    def car_frame(self, window: Window | str) -> pd.DataFrame:
        """Per-event CARs over one window, indexed by ``event_id`` (events lacking it are left out)."""
        window = parse_window(window)
        cars = self.cars
        if cars.empty:
            return cars
        return cars[(cars["start"] == window[0]) & (cars["end"] == window[1])].set_index("event_id")

    @cached_property
    def aar(self) -> pd.DataFrame:
        """By relative day: ``n_events, aar, caar, mean_sar`` (``caar`` cumulates AARs from the
        first event-period day)."""
        ar = self.abnormal_returns
        if ar.empty:
            return pd.DataFrame(columns=["n_events", "aar", "caar", "mean_sar"])
        table = ar.groupby("rel_day").agg(n_events=("ar", "size"), aar=("ar", "mean"), mean_sar=("sar", "mean"))
        table["caar"] = table["aar"].cumsum()
        return table[["n_events", "aar", "caar", "mean_sar"]]

    @cached_property
    def caar(self) -> pd.DataFrame:
        """By window: ``start, end, n_events, caar, se, median_car, share_positive`` with
        ``se = sqrt(sum SE_i^2) / N`` (the J1 denominator)."""
        rows = []
        for window in self.windows:
            frame = self.car_frame(window)
            n = len(frame)
            rows.append({
                "start": window[0], "end": window[1], "n_events": n,
                "caar": frame["car"].mean() if n else np.nan,
                "se": float(np.sqrt((frame["se"] ** 2).sum()) / n) if n else np.nan,
                "median_car": frame["car"].median() if n else np.nan,
                "share_positive": float((frame["car"] > 0).mean()) if n else np.nan,
            })
        return pd.DataFrame(rows, index=pd.Index([format_window(w) for w in self.windows], name="window"))

    # ----------------------------------------------------------- tests
    def _test_inputs(self, window: Window) -> TestInputs | None:
        """What the nine tests need over ``window`` (None when no event has it), from the per-event results."""
        inputs = []
        for res in self.results.values():
            try:
                inputs.append((res, *res.car(window)))
            except ValueError:
                continue
        if not inputs:
            return None
        car = np.array([c for _, c, _ in inputs])
        se = np.array([s for _, _, s in inputs])
        resid = pd.concat({i: r.estimation["ar"] for i, (r, _, _) in enumerate(inputs)}, axis=1, sort=True)
        # KP: a pair's residual correlation counts by the share of event-window dates it shares
        win_dates = [set(r.event.index[(r.event["rel_day"] >= window[0]) & (r.event["rel_day"] <= window[1])])
                     for r, _, _ in inputs]
        L = window[1] - window[0] + 1
        weights = np.array([[len(a & b) / L for b in win_dates] for a in win_dates])
        rbar, _ = st.mean_pairwise_correlation(resid, pair_weights=weights)
        # Corrado: ARs of the estimation window and the CAR window, aligned by relative day
        panel = pd.concat(
            {i: pd.concat([r.estimation.set_index("rel_day")["ar"], r.event.set_index("rel_day")["ar"].loc[window[0]:window[1]]])
             for i, (r, _, _) in enumerate(inputs)},
            axis=1,
        ).sort_index()
        return TestInputs(
            car=car, se=se, df=np.array([r.fitted.df for r, _, _ in inputs], dtype=float), rbar=rbar,
            ar_panel=panel.to_numpy().T, window_mask=(panel.index >= window[0]) & (panel.index <= window[1]),
            share_positive=np.array([(r.estimation["ar"] > 0).mean() for r, _, _ in inputs]),
            sq=inputs[0][0].sq_test(window) if len(inputs) == 1 else None,
        )

    def test_results(self, window: Window | str | None = None) -> list[st.TestResult]:
        """The nine tests (:data:`~incident_impact.eventstudy.statistics.TEST_NAMES`) over
        ``window`` (default: the first window) as :class:`~.statistics.TestResult` records."""
        window = parse_window(window) if window is not None else self.windows[0]
        x = self._test_inputs(window)
        if x is None:
            return [st.TestResult(name, np.nan, np.nan, "", None, 0, f"no event has data for window {format_window(window)}")
                    for name in st.TEST_NAMES]
        n = len(x.car)
        scar = x.car / x.se
        sq = x.sq or st.TestResult("sq", np.nan, np.nan, "empirical", None, n,
                                   "the SQ test is a single-event test (N = 1); see each event's sq_p_value in .cars")
        return [
            st.cs_t(x.car), st.time_series_t(x.car, x.se**2), st.patell(scar, x.df), st.bmp(scar), st.kp_bmp(scar, x.rbar),
            self._rank_test(window, x), st.generalized_sign(x.car, x.share_positive), st.wilcoxon(x.car), sq,
        ]

    def _rank_test(self, window: Window, x: TestInputs) -> st.TestResult:
        return st.corrado(x.ar_panel, x.window_mask)

    def tests(self, window: Window | str | None = None) -> pd.DataFrame:
        """The nine tests over ``window`` as a frame indexed by test name (``cs_t, time_series_t,
        patell, bmp, kp_bmp, corrado, generalized_sign, wilcoxon, sq``) with columns
        ``statistic, p_value, df, n_events, distribution, note``; a test that cannot be computed has
        NaN and its reason in ``note``."""
        return st.results_frame(self.test_results(window))

    # ----------------------------------------------------------- BHAR
    def bhar(self, window: Window | str) -> pd.DataFrame:
        """Buy-and-hold abnormal returns over ``window``, indexed by ``event_id``:
        ``BHAR_i = prod(1 + R_it) - prod(1 + R_mt)`` against the event's benchmark, with
        ``ticker, n_days, bhar`` (events without a benchmark or the window's data are left out)."""
        window = parse_window(window)
        rows = []
        for eid, res in self.results.items():
            bench = self.benchmarks.get(eid)
            ev = res.event[(res.event["rel_day"] >= window[0]) & (res.event["rel_day"] <= window[1])]
            if bench is None or len(ev) != window[1] - window[0] + 1:
                continue
            bret = bench.reindex(ev.index)
            if bret.isna().any():
                continue
            rows.append({"event_id": eid, "ticker": self._ticker(eid), "n_days": len(ev),
                         "bhar": float(np.prod(1 + ev["return"]) - np.prod(1 + bret))})
        return pd.DataFrame(rows, columns=["event_id", "ticker", "n_days", "bhar"]).set_index("event_id")

    def bhar_test(self, window: Window | str) -> st.TestResult:
        """Cross-sectional t test of the mean BHAR, ``t = mean / (s / sqrt(N)) ~ t(N - 1)``
        (Lyon, Barber & Tsai 1999 without the skewness adjustment), named ``bhar_t``."""
        return st.cs_t_named("bhar_t", self.bhar(window)["bhar"].to_numpy())

    # ----------------------------------------------------------- outputs
    def summary(self, window: Window | str | None = None) -> str:
        """Plain text: the per-event CARs of ``window`` (default: the first), the test table and failures."""
        window = parse_window(window) if window is not None else self.windows[0]
        lines = [f"Event study of {self.n_events} event(s), model {self.model}, estimation "
                 f"{format_window(self.estimation_window)}, window {format_window(window)}", ""]
        frame = self.car_frame(window)
        lines.append(f"{'event_id':<36} {'ticker':<8} {'day0':<10} {'CAR %':>8} {'t':>7} {'p':>7} {'SQ p':>6}")
        for eid, row in frame.iterrows():
            lines.append(f"{eid[:36]:<36} {row.ticker:<8} {row.day0.date()!s:<10} {100 * row.car:>8.2f} "
                         f"{row.t_stat:>7.2f} {row.p_value:>7.3f} {row.sq_p_value:>6.3f}")
        lines += ["", f"{'test':<17} {'statistic':>10} {'p':>7} {'N':>4}  note"]
        for name, row in self.tests(window).iterrows():
            lines.append(f"{name:<17} {row.statistic:>10.4f} {row.p_value:>7.4f} {row.n_events:>4}  {row.note}")
        if len(self.failures):
            lines += ["", "Not analysed:"] + [
                f"  {r.reason if str(r.reason).startswith(f'{r.event_id}:') else f'{r.event_id}: {r.reason}'}"
                for r in self.failures.itertuples()]
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()



def no_returns_reason(ticker: str) -> str:
    return f"unknown ticker {ticker!r}: no returns"


def has_returns(wide: pd.DataFrame, ticker: str) -> bool:
    """Whether ``wide`` has a column ``ticker`` with at least one return."""
    return ticker in wide.columns and bool(wide[ticker].notna().any())


def screen_events(table: pd.DataFrame, wide: pd.DataFrame, benches: dict[str, pd.Series], model: NormalReturnModel,
                  verify: bool = True) -> tuple[list[str | None], list[str | None]]:
    """Per event of ``table``: the key of its benchmark in ``benches`` (None: no benchmark) and why it
    cannot be studied at all (None: it can). Benchmark names are resolved once each; a ticker's
    returns are looked at for every event when ``verify``, else only for events with a reason
    (the batch engine checks the others' data itself)."""
    wanted = [v if isinstance(v, str) and v.strip() else None
              for v in (table["benchmark"].tolist() if "benchmark" in table.columns else [None] * len(table))]
    picks = {v: _pick_benchmark(benches, {"benchmark": v}) for v in set(wanted)}
    columns = set(wide.columns)
    keys, reasons = [], []
    for ticker, want in zip(table["ticker"].tolist(), wanted):
        name, bench, reason = picks[want]
        if reason is None and model.needs_benchmark and bench is None:
            reason = f"the {model.name} model needs benchmark returns"
        if ticker not in columns or ((verify or reason) and not has_returns(wide, ticker)):
            reason = no_returns_reason(ticker)
        keys.append(None if bench is None else (name or ""))
        reasons.append(reason)
    return keys, reasons


def overlap_warnings(event_ids, tickers, starts, ends) -> list[str]:
    """Messages for consecutive events of one firm (sorted by event period) whose event periods
    overlap; firms in order of first appearance. Each message is also issued as an
    :class:`OverlappingEventsWarning`."""
    frame = pd.DataFrame({"eid": event_ids, "ticker": tickers, "start": starts, "end": ends})
    frame["firm"] = pd.factorize(frame["ticker"])[0]
    frame = frame.sort_values(["firm", "start", "end", "eid"], kind="stable")
    prev = frame.shift(1)
    hits = (frame["firm"] == prev["firm"]) & (frame["start"] <= prev["end"])
    found = []
    for (_, a), (_, b) in zip(prev[hits].iterrows(), frame[hits].iterrows()):
        msg = (f"events {a.eid} and {b.eid} of {b.ticker} have overlapping event periods ({a.start.date()}..{a.end.date()} "
               f"and {b.start.date()}..{b.end.date()}); their CARs are not independent")
        warnings.warn(msg, OverlappingEventsWarning, stacklevel=3)
        found.append(msg)
    return found


def study_one(row, wide: pd.DataFrame, bench: pd.Series | None, model: NormalReturnModel, estimation: Window,
              windows: tuple[Window, ...], min_estimation_obs: int, factors: pd.DataFrame | None) -> EventStudyResult:
    """:func:`~incident_impact.eventstudy.event_study` of one row of the events table."""
    return event_study(wide[row.ticker].dropna(), bench, row.event_date, model=model, estimation=estimation,
                       windows=windows, min_estimation_obs=min_estimation_obs, event_id=row.event_id, factors=factors)


ENGINES = ("batch", "loop")


def run_study(
    returns: pd.DataFrame,
    benchmark: pd.Series | pd.DataFrame | Mapping[str, pd.Series] | None,
    events: pd.DataFrame,
    *,
    model: str = "market",
    estimation: Window | str = DEFAULT_ESTIMATION,
    windows: Iterable[Window | str] = DEFAULT_WINDOWS,
    factors: pd.DataFrame | None = None,
    min_estimation_obs: int = MIN_ESTIMATION_OBS,
    engine: str = "batch",
) -> StudyResult:
    """Event study of many events with the full test battery.

    Parameters
    ----------
    returns : simple daily returns, wide (date index x one column per ticker) or long
        (columns ``date, ticker, return``). Each must span one session (the library cannot tell
        a return taken across a missing session from given returns; ``PriceHistory.returns()``
        drops them).
    benchmark : one Series for every event, or a frame (or mapping) with one column per
        benchmark name chosen by the events' ``benchmark`` column; None for models without one.
    events : columns ``event_id, ticker, event_date`` (day-0 session, read by the rule of
        :func:`~incident_impact.eventstudy.event_study`: ISO dates, Timestamps or dates, the date as
        written in its own zone; ``10/04/2017`` is an error), optional ``benchmark``; other
        columns are carried into :attr:`StudyResult.cars` (event characteristics).
    model, estimation, windows, factors, min_estimation_obs : as in
        :func:`~incident_impact.eventstudy.event_study`, applied to every event.
    engine : ``"batch"`` (default): all events at once with array operations
        (:mod:`.batch`), for every model; it falls back to ``"loop"`` when the returns have
        duplicate dates or a benchmark series or the factor table is malformed (then every
        event fails with the reference path's reason). ``"loop"``: the single-event reference
        path once per event. Both give the same numbers (to floating-point rounding) and the same
        failures.

    Returns
    -------
    StudyResult
        Events that cannot be studied (unknown ticker or benchmark, too little estimation data,
        no window with data) are listed in ``failures`` with the reason; overlapping event
        periods of one firm raise an :class:`OverlappingEventsWarning` and are kept.

    Raises
    ------
    IncidentImpactError
        Duplicate event ids, a malformed events table or returns, an unknown model or engine.
    """
    if engine not in ENGINES:
        raise IncidentImpactError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    model_obj = get_model(model)
    estimation = parse_window(estimation)
    windows = tuple(dict.fromkeys(parse_window(w) for w in windows))
    if not windows:
        raise IncidentImpactError("give at least one event window")
    table = _events_table(events)
    wide = wide_returns(returns)
    benches = _benchmarks(benchmark)
    spec = dict(model=model_obj, estimation=estimation, windows=windows, min_estimation_obs=min_estimation_obs,
                factors=factors)
    if engine == "batch":
        from .batch import BatchUnsupported, run_batch

        try:
            return run_batch(table, wide, benches, *screen_events(table, wide, benches, model_obj, verify=False), **spec)
        except BatchUnsupported:
            pass
    keys, reasons = screen_events(table, wide, benches, model_obj)
    results: dict[str, EventStudyResult] = {}
    used_bench: dict[str, pd.Series | None] = {}
    failures = []
    for row, key, reason in zip(table.itertuples(), keys, reasons):
        bench = None if key is None else benches[key]
        if reason is None:
            try:
                results[row.event_id] = study_one(row, wide, bench, **spec)
                used_bench[row.event_id] = bench
                continue
            except IncidentImpactError as exc:
                reason = str(exc)
        failures.append({"event_id": row.event_id, "ticker": row.ticker, "event_date": row.event_date, "reason": reason})
    tickers = dict(zip(table["event_id"], table["ticker"]))
    found = overlap_warnings(list(results), [tickers[e] for e in results],
                             [r.event.index[0] for r in results.values()], [r.event.index[-1] for r in results.values()])
    failure_frame = pd.DataFrame(failures, columns=["event_id", "ticker", "event_date", "reason"])
    return StudyResult(model_obj.name, estimation, windows, results, table, failure_frame, tuple(found), used_bench, wide)
