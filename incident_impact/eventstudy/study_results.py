"""The result of a multi-event study, whichever engine computed it.

A :class:`StudyResult` holds the study's :class:`~.spec.EventStudySpec`, the events table, the
failures, the overlapping pairs and a small *engine* object (:class:`StudyEngine`) that supplies
the per-event numbers: the loop engine (:mod:`.loop`) from per-event
:class:`~.results.EventStudyResult` objects, the batch engine (:mod:`.batch`) from its arrays.
Everything else (AAR/CAAR, the tests, BHARs, text, HTML, JSON) is computed here, once, from
what the engine gives, so both engines answer through the same code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..display import html_block, short_repr
from ..errors import IncidentImpactError
from . import statistics as st
from .overlaps import empty_overlaps
from .results import EventStudyResult
from .spec import EventStudySpec
from .windows import Window, format_window, parse_window

#: Columns of ``StudyResult.failures``.
FAILURE_COLUMNS = ("event_id", "ticker", "event_date", "reason")


class UnknownEventError(IncidentImpactError, KeyError):
    """An event id that is not among a study's studied events."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class TestInputs:
    """Per-event quantities behind the tests of one window (one entry per event that has it).

    ``car, se, df``: CARs, their standard errors and residual degrees of freedom; ``rbar``: the
    Kolari-Pynnönen mean residual correlation; ``ar_panel`` (events x days) and ``window_mask``:
    estimation and window ARs aligned by relative day for the rank test (None when the engine ranks
    them itself, see :meth:`StudyEngine.rank_test`); ``share_positive``: share of positive estimation
    ARs; ``sq``: the event's SQ test when there is exactly one event.
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


def battery(
    x: TestInputs, rank: st.TestResult, standardized: tuple[st.TestResult, st.TestResult]
) -> list[st.TestResult]:
    """The tests of :data:`~.statistics.TEST_NAMES` in that order from one window's inputs, with the
    engine's Corrado test ``rank`` and its ``(corrado_zivney, grank)`` pair."""
    scar = x.car / x.se
    sq = x.sq or st.TestResult(
        "sq",
        np.nan,
        np.nan,
        "empirical",
        None,
        len(x.car),
        "the SQ test is a single-event test (N = 1); see each event's sq_p_value in .cars",
    )
    return [
        st.cs_t(x.car),
        st.time_series_t(x.car, x.se**2),
        st.patell(scar, x.df),
        st.bmp(scar),
        st.kp_bmp(scar, x.rbar),
        rank,
        *standardized,
        st.generalized_sign(x.car, x.share_positive),
        st.wilcoxon(x.car),
        sq,
    ]


class StudyEngine(Protocol):
    """What a :class:`StudyResult` asks of the engine that computed it."""

    #: ``"batch"`` or ``"loop"``.
    name: str

    @property
    def results(self) -> Mapping[str, EventStudyResult]:
        """Per-event results keyed by ``event_id`` in the events' order (may be built on access)."""
        ...

    def abnormal_returns(self) -> pd.DataFrame:
        """The tidy daily table of :attr:`StudyResult.abnormal_returns`."""
        ...

    def cars(self) -> pd.DataFrame:
        """The tidy per-event, per-window table of :attr:`StudyResult.cars`."""
        ...

    def window_cars(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """``(CAR, SE)`` of the events that have every day of ``window``, in event order."""
        ...

    def test_inputs(self, window: Window) -> TestInputs | None:
        """What the tests need over ``window`` (None when no event has it)."""
        ...

    def rank_test(self, window: Window, inputs: TestInputs) -> st.TestResult:
        """Corrado's rank test over ``window`` (the engine may rank without ``inputs.ar_panel``)."""
        ...


def _json_value(value: Any) -> Any:
    """``value`` as JSON: NaN/NaT/None -> None, numpy scalars -> Python, dates -> ISO strings."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.datetime64):
        return _json_value(pd.Timestamp(value))
    return value if isinstance(value, str) else str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame``'s rows as JSON-ready dictionaries (NaN -> None, dates -> ISO)."""
    return [_json_value(r) for r in frame.to_dict("records")]


def standardized_panels(
    results: list[EventStudyResult], estimation: Window, window: Window, standardize: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The reference inputs of the standardized rank tests (and of the bootstrap) from per-event results.

    Returns ``(est, win)``: ``est`` (events x the estimation window's relative days, NaN where an
    event has no return) holds ``AR_it / sigma_i`` (``AR_it`` with ``standardize=False``); ``win``
    (events x the window's days) holds ``AR_it / S(AR_it)`` with ``S(AR_it)`` the prediction-error
    standard deviation ``ar_se`` (``AR_it`` with ``standardize=False``)."""
    days = np.arange(estimation[0], estimation[1] + 1)
    est = np.full((len(results), len(days)), np.nan)
    win = np.full((len(results), window[1] - window[0] + 1), np.nan)
    for i, res in enumerate(results):
        e = res.estimation
        scale = np.sqrt(res.fitted.sigma2) if standardize else 1.0
        est[i, e["rel_day"].to_numpy() - estimation[0]] = e["ar"].to_numpy() / scale
        ev = res.event[(res.event["rel_day"] >= window[0]) & (res.event["rel_day"] <= window[1])]
        denom = ev["ar_se"].to_numpy() if standardize else 1.0
        win[i, ev["rel_day"].to_numpy() - window[0]] = ev["ar"].to_numpy() / denom
    return est, win


@dataclass(frozen=True, eq=False, repr=False)
class StudyResult:
    """A multi-event study.

    Attributes
    ----------
    spec : the :class:`~.spec.EventStudySpec` (model, estimation, windows, min_estimation_obs, factors).
    events : the events table (``event_id, ticker, event_date`` and any other columns given).
    failures : events that could not be studied: ``event_id, ticker, event_date, reason``.
    engine : the engine behind the per-event numbers (:class:`StudyEngine`; ``engine.name`` is
        ``"batch"`` or ``"loop"``).
    overlaps : pairs of events of one firm with overlapping event periods (:func:`.overlaps.find_overlaps`:
        ``event_id_1, event_id_2, ticker, start_1, end_1, start_2, end_2, overlap_start, overlap_end``).
    warnings : data remarks: at most one line about overlaps (the text of the study's single
        :class:`~.overlaps.OverlappingEventsWarning`).
    benchmarks : the benchmark returns each event used; returns : the (date x ticker) returns of the
        study (both for BHARs and placebo dates, :mod:`.placebo`).

    ``model``, ``estimation_window`` and ``windows`` are the spec's (the model by name);
    ``results`` maps ``event_id`` to each studied event's :class:`~.results.EventStudyResult`.
    """

    spec: EventStudySpec
    events: pd.DataFrame
    failures: pd.DataFrame
    engine: StudyEngine
    overlaps: pd.DataFrame = field(default_factory=empty_overlaps)
    warnings: tuple[str, ...] = ()
    benchmarks: Mapping[str, pd.Series | None] = field(default_factory=dict)
    returns: pd.DataFrame | None = None

    # ----------------------------------------------------------- basics
    @property
    def model(self) -> str:
        return self.spec.model.name

    @property
    def estimation_window(self) -> Window:
        return self.spec.estimation

    @property
    def windows(self) -> tuple[Window, ...]:
        return self.spec.windows

    @property
    def results(self) -> Mapping[str, EventStudyResult]:
        return self.engine.results

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(self.results)

    @property
    def n_events(self) -> int:
        return len(self.results)

    def __getitem__(self, event_id: str) -> EventStudyResult:
        try:
            return self.results[event_id]
        except KeyError:
            failed = self.failures["event_id"].tolist() if len(self.failures) else []
            why = " (it failed: see .failures)" if event_id in failed else ""
            raise UnknownEventError(f"no studied event {event_id!r}{why}") from None

    def __contains__(self, event_id: object) -> bool:
        return event_id in self.results

    @cached_property
    def _tickers(self) -> dict[str, str]:
        return dict(zip(self.events["event_id"], self.events["ticker"], strict=True))

    def _window(self, window: Window | str | None) -> Window:
        return parse_window(window) if window is not None else self.windows[0]

    # ----------------------------------------------------------- tidy tables
    @cached_property
    def abnormal_returns(self) -> pd.DataFrame:
        """Daily event-period rows, tidy: ``date, event_id, ticker, rel_day, return, benchmark,
        expected, ar, ar_se, sar`` (``sar = ar / ar_se``, the standardized AR of Patell 1976)."""
        return self.engine.abnormal_returns()

    @cached_property
    def cars(self) -> pd.DataFrame:
        """One row per event and window, tidy (for second-stage regressions):
        ``event_id, ticker, event_date, day0, window, start, end, n_days, car, se, scar, t_stat,
        df, p_value, sq_p_value, sigma`` plus the events table's extra columns.
        ``scar = car / se`` is the standardized CAR used by Patell and BMP."""
        return self.engine.cars()

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
        ``se = sqrt(sum SE_i^2) / N`` (the J1 denominator). Cheap: no test is run."""
        rows = []
        for window in self.windows:
            car, se = self.engine.window_cars(window)
            n = len(car)
            rows.append(
                {
                    "start": window[0],
                    "end": window[1],
                    "n_events": n,
                    "caar": float(car.mean()) if n else np.nan,
                    "se": float(np.sqrt((se**2).sum()) / n) if n else np.nan,
                    "median_car": float(np.median(car)) if n else np.nan,
                    "share_positive": float((car > 0).mean()) if n else np.nan,
                }
            )
        return pd.DataFrame(rows, index=pd.Index([format_window(w) for w in self.windows], name="window"))

    # ----------------------------------------------------------- tests
    def test_results(self, window: Window | str | None = None) -> list[st.TestResult]:
        """The tests (:data:`~incident_impact.eventstudy.statistics.TEST_NAMES`) over
        ``window`` (default: the first window) as :class:`~.statistics.TestResult` records."""
        window = self._window(window)
        x = self.engine.test_inputs(window)
        if x is None:
            reason = f"no event has data for window {format_window(window)}"
            return [st.TestResult(name, np.nan, np.nan, "", None, 0, reason) for name in st.TEST_NAMES]
        return battery(x, self.engine.rank_test(window, x), self._standardized_rank_tests(window, x))

    def _standardized_rank_tests(self, window: Window, x: TestInputs) -> tuple[st.TestResult, st.TestResult]:
        """``(corrado_zivney, grank)``: from the engine when it has a fast path
        (``engine.standardized_rank_tests(window, inputs)``, the batch engine's
        :mod:`.batch_grank`), else from the per-event results (:func:`standardized_panels`)."""
        fast = getattr(self.engine, "standardized_rank_tests", None)
        if fast is not None:
            return fast(window, x)
        est_sar, win_sar = standardized_panels(self._having(window), self.estimation_window, window)
        return st.corrado_zivney(est_sar, win_sar), st.grank(est_sar, x.car / x.se)

    def _having(self, window: Window) -> list[EventStudyResult]:
        """The studied events that have every day of ``window``, in event order (those of ``test_inputs``)."""
        out = []
        for res in self.results.values():
            try:
                res.car(window)
            except IncidentImpactError:
                continue
            out.append(res)
        return out

    def estimation_panel(self, window: Window | str | None = None) -> np.ndarray:
        """Estimation-window abnormal returns of the events that have ``window`` (events x relative
        days of the estimation window, NaN where an event has no return): the resampling pool of
        :meth:`bootstrap_tests`. From the engine when it has them (``engine.estimation_panel``)."""
        window = self._window(window)
        fast = getattr(self.engine, "estimation_panel", None)
        if fast is not None:
            return fast(window)
        est, _ = standardized_panels(self._having(window), self.estimation_window, window, standardize=False)
        return est

    def tests(
        self,
        window: Window | str | None = None,
        *,
        bootstrap: int | None = None,
        seed: int | None = None,
        kind: str = "date",
    ) -> pd.DataFrame:
        """The tests over ``window`` as a frame indexed by test name (``cs_t, time_series_t,
        patell, bmp, kp_bmp, corrado, corrado_zivney, grank, generalized_sign, wilcoxon, sq``) with
        columns ``statistic, p_value, df, n_events, distribution, note``; a test that cannot be
        computed has NaN and its reason in ``note``.

        ``bootstrap=B`` adds the column ``bootstrap_p_value``: each CAR-based test's p-value from
        ``B`` resamples of the estimation period that keep the cross-sectional dependence
        (``kind="date"``: whole relative days drawn jointly for all events; ``"wild"``: Rademacher
        weights shared by all events on a day; :mod:`.bootstrap`), NaN for the rank tests, the
        Wilcoxon test and ``sq``. The same ``seed`` gives the same p-values."""
        frame = st.results_frame(self.test_results(window))
        if bootstrap is not None:
            boot = self.bootstrap_tests(window, bootstrap, seed=seed, kind=kind)
            frame["bootstrap_p_value"] = boot["bootstrap_p_value"].reindex(frame.index)
        return frame

    def bootstrap_tests(
        self, window: Window | str | None = None, n: int = 999, *, seed: int | None = None, kind: str = "date"
    ) -> pd.DataFrame:
        """Bootstrap p-values of the CAR-based tests over ``window`` (default: the first window):
        a frame indexed by test name with ``statistic, p_value, bootstrap_p_value, n_boot, kind``
        (see :func:`.bootstrap.bootstrap_pvalues` for the resampling and its references)."""
        from .bootstrap import bootstrap_pvalues

        window = self._window(window)
        x = self.engine.test_inputs(window)
        if x is None:
            raise IncidentImpactError(f"no event has data for window {format_window(window)}")
        results = {r.name: r for r in self.test_results(window)}
        return bootstrap_pvalues(
            results, x, self.estimation_panel(window), window[1] - window[0] + 1, n, seed=seed, kind=kind
        )

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
            rows.append(
                {
                    "event_id": eid,
                    "ticker": self._tickers[eid],
                    "n_days": len(ev),
                    "bhar": float(np.prod(1 + ev["return"]) - np.prod(1 + bret)),
                }
            )
        return pd.DataFrame(rows, columns=["event_id", "ticker", "n_days", "bhar"]).set_index("event_id")

    def bhar_test(self, window: Window | str) -> st.TestResult:
        """Cross-sectional t test of the mean BHAR, ``t = mean / (s / sqrt(N))`` ~ ``t(N - 1)``
        (Lyon, Barber & Tsai 1999 without the skewness adjustment), named ``bhar_t``."""
        return st.cs_t_named("bhar_t", self.bhar(window)["bhar"].to_numpy())

    # ----------------------------------------------------------- outputs
    def summary(self, window: Window | str | None = None) -> str:
        """Plain text: the per-event CARs of ``window`` (default: the first), the test table and failures."""
        window = self._window(window)
        lines = [
            f"Event study of {self.n_events} event(s), model {self.model}, estimation "
            f"{format_window(self.estimation_window)}, window {format_window(window)}",
            "",
        ]
        frame = self.car_frame(window)
        lines.append(f"{'event_id':<36} {'ticker':<8} {'day0':<10} {'CAR %':>8} {'t':>7} {'p':>7} {'SQ p':>6}")
        for eid, row in frame.iterrows():
            lines.append(
                f"{str(eid)[:36]:<36} {row.ticker:<8} {row.day0.date()!s:<10} {100 * row.car:>8.2f} "
                f"{row.t_stat:>7.2f} {row.p_value:>7.3f} {row.sq_p_value:>6.3f}"
            )
        lines += ["", f"{'test':<17} {'statistic':>10} {'p':>7} {'N':>4}  note"]
        for name, row in self.tests(window).iterrows():
            lines.append(f"{name:<17} {row.statistic:>10.4f} {row.p_value:>7.4f} {row.n_events:>4}  {row.note}")
        if len(self.failures):
            lines += ["", "Not analysed:"]
            for r in self.failures.to_dict("records"):
                eid, reason = str(r["event_id"]), str(r["reason"])
                lines.append(f"  {reason if reason.startswith(f'{eid}:') else f'{eid}: {reason}'}")
        lines += [f"Warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The per-event CAR table (a copy of :attr:`cars`: one row per event and window)."""
        return self.cars.copy()

    def to_dict(self, tests: bool = True) -> dict[str, Any]:
        """JSON-ready (NaN -> None, dates -> ISO): ``spec``, ``engine``, ``n_events``, ``caar`` (per
        window), ``tests`` (per window label, each test's record; skipped with ``tests=False``, the
        costly part for many events), ``cars``, ``failures``, ``overlaps``, ``warnings``."""
        caar = self.caar.reset_index()
        out: dict[str, Any] = {
            "spec": self.spec.to_dict(),
            "engine": self.engine.name,
            "n_events": self.n_events,
            "n_failures": len(self.failures),
            "caar": records(caar),
        }
        if tests:
            out["tests"] = {format_window(w): records(self.tests(w).reset_index()) for w in self.windows}
        out |= {
            "cars": records(self.cars),
            "failures": records(self.failures),
            "overlaps": records(self.overlaps),
            "warnings": list(self.warnings),
        }
        return out

    def _headline(self) -> str:
        overl = f", {len(self.overlaps):,} overlapping pair(s)" if len(self.overlaps) else ""
        return f"{self.n_events:,} event(s) studied, {len(self.failures):,} not{overl}; {self.model} model"

    def __repr__(self) -> str:
        return short_repr(
            "StudyResult",
            [
                self._headline(),
                f"estimation {format_window(self.estimation_window)}; windows "
                + " ".join(format_window(w) for w in self.windows)
                + f" ({self.engine.name} engine)",
                "CAAR per window: .caar; tests: .tests(window)",
            ],
        )

    def _repr_html_(self) -> str:
        """The CAAR and number of events per window (no test is run: cheap for any number of events)."""
        return html_block(
            f"StudyResult: {self._headline()}",
            [
                f"Estimation {format_window(self.estimation_window)}, at least {self.spec.min_estimation_obs} returns. "
                "CAAR in decimals; se = sqrt(sum SE_i^2) / N. Tests: .tests(window).",
                *self.warnings,
            ],
            self.caar[["n_events", "caar", "se", "median_car", "share_positive"]],
        )
