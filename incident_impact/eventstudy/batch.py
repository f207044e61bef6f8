"""Vectorized multi-event engine behind :func:`~incident_impact.eventstudy.run_study` (``engine="batch"``).

The work is split by job:

* :mod:`.batch_panel` places every event on one relative-day axis (events x days arrays);
* :mod:`.batch_fit` fits all events at once (batched OLS), with abnormal returns, CAR variances,
  SQ p-values and estimation-AR ranks;
* :mod:`.batch_pairs` computes Kolari & Pynnönen's ``rbar`` only for pairs of events whose windows
  meet in calendar time;
* :mod:`.batch_rank` runs Corrado's rank test from one sort of the estimation ARs;
* this module turns the arrays into a :class:`~.study_results.StudyResult` through
  :class:`BatchEngine`, building each event's :class:`~.results.EventStudyResult` only when asked for.

The numbers are the single-event reference path's (:func:`.event.event_study`) up to
floating-point rounding (``tests/eventstudy/test_batch.py`` checks them to 1e-10). Events the engine cannot
study are re-run through the reference path, whose error message becomes the failure reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from ..distributions import t_sf
from ..errors import IncidentImpactError
from . import batch_grank
from . import statistics as st
from .batch_fit import BatchFit, fit_events
from .batch_pairs import ResidualPairs, kp_rbar
from .batch_panel import BatchUnsupported, locate, panel_aux
from .batch_rank import rank_test
from .event import study_event
from .inputs import benchmark_of, has_returns, no_returns_reason
from .models import FittedModel
from .overlaps import find_overlaps, overlap_message
from .results import EventStudyResult
from .spec import EventStudySpec
from .study_results import FAILURE_COLUMNS, StudyResult, TestInputs
from .windows import Window, format_window

__all__ = ["BatchEngine", "BatchUnsupported", "LazyResults", "event_result", "fit_table", "run_batch"]


class LazyResults(Mapping[str, EventStudyResult]):
    """``event_id -> EventStudyResult``, each built from the batch arrays when first asked for."""

    def __init__(self, fit: BatchFit, spec: EventStudySpec, event_ids: list[str], event_dates: np.ndarray):
        self._fit, self._spec, self._ids, self._dates = fit, spec, event_ids, event_dates
        self._built: dict[str, EventStudyResult] = {}

    @cached_property
    def _index(self) -> dict[str, int]:
        """Position of each event id (built on the first lookup: a study may never look one up)."""
        return dict(zip(self._ids, range(len(self._ids)), strict=True))

    def __getitem__(self, event_id: str) -> EventStudyResult:
        if event_id not in self._built:
            i = self._index[event_id]
            self._built[event_id] = event_result(self._fit, self._spec, i, event_id, pd.Timestamp(self._dates[i]))
        return self._built[event_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._index


def event_result(
    fit: BatchFit, spec: EventStudySpec, i: int, event_id: str, event_date: pd.Timestamp
) -> EventStudyResult:
    """The :class:`~.results.EventStudyResult` of event ``i``, as the reference path builds it."""
    A, row = fit.arrays, fit.rows[i]
    rel = np.arange(A.lo, A.hi + 1)

    def frame(cols: slice) -> pd.DataFrame:
        keep = A.valid[row, cols]
        bench = A.columns["benchmark"][row, cols][keep] if "benchmark" in A.columns else np.nan
        out = pd.DataFrame(
            {
                "rel_day": rel[cols][keep],
                "return": A.columns["return"][row, cols][keep],
                "benchmark": bench,
                "ar": fit.ar[i, cols][keep],
            },
            index=fit.dates(i, cols),
        )
        out["expected"] = out["return"] - out["ar"]
        return out

    est, event = frame(fit.est), frame(fit.span)
    event["ar_se"] = fit.ar_se[i][A.valid[row, fit.span]]
    day0 = pd.Timestamp(A.grid[A.day0[row]])
    n_days = fit.estimation[1] - fit.estimation[0] + 1
    available = int(event["rel_day"].iloc[-1])
    usable = tuple(w for w, ok in zip(fit.windows, fit.usable[i], strict=True) if ok)
    notes = (
        [f"no return on {event_date.date()}; day 0 is the next date with data, {day0.date()}"]
        if day0 != event_date
        else []
    )
    if fit.n_obs[i] < n_days:
        notes.append(f"the estimation window has {fit.n_obs[i]} of {n_days} days")
    notes += [
        f"window {format_window(w)} needs data up to day {w[1]}; the data end at day {available}"
        for w in fit.windows
        if w not in usable
    ]
    fitted = FittedModel(
        fit.model,
        fit.params[i].copy(),
        float(fit.sigma2[i]),
        int(fit.df[i]),
        fit.xtx_inv[i].copy(),
        int(fit.n_obs[i]),
        None if fit.r_squared is None else float(fit.r_squared[i]),
    )
    return EventStudyResult(
        event_id=event_id,
        event_date=event_date,
        day0=day0,
        fitted=fitted,
        spec=spec,
        estimation_window=fit.estimation,
        windows=usable,
        estimation=est[["rel_day", "return", "benchmark", "expected", "ar"]],
        event=event[["rel_day", "return", "benchmark", "ar", "expected", "ar_se"]],
        event_design=fit.design(np.s_[i, fit.span])[A.valid[row, fit.span]],
        notes=tuple(notes),
    )


class BatchEngine:
    """:class:`~.study_results.StudyEngine` whose tables and tests come straight from the batch arrays
    (``fit``); ``info`` is the events table indexed by ``event_id``, rows in the fit's order."""

    name = "batch"

    def __init__(self, fit: BatchFit, spec: EventStudySpec, info: pd.DataFrame, event_dates: np.ndarray):
        self.fit = fit
        self.spec = spec
        self._info = info
        self._results = LazyResults(fit, spec, info.index.tolist(), event_dates)

    @property
    def results(self) -> Mapping[str, EventStudyResult]:
        return self._results

    @cached_property
    def pairs(self) -> ResidualPairs:
        """Residual correlations of pairs of events, computed once across windows."""
        return ResidualPairs.from_fit(self.fit)

    def abnormal_returns(self) -> pd.DataFrame:
        fit = self.fit
        keep = fit.panel(fit.arrays.valid)[:, fit.span]
        e, c = np.nonzero(keep)
        cols = {name: fit.panel(values)[:, fit.span][e, c] for name, values in fit.arrays.columns.items()}
        ar, se = fit.ar[:, fit.span][e, c], fit.ar_se[e, c]
        info = self._info
        return pd.DataFrame(
            {
                "date": pd.DatetimeIndex(fit.arrays.grid[fit.panel(fit.arrays.pos)[:, fit.span][e, c]]),
                "event_id": info.index.to_numpy()[e],
                "ticker": info["ticker"].to_numpy()[e],
                "rel_day": np.arange(fit.arrays.lo, fit.arrays.hi + 1)[fit.span][c],
                "return": cols["return"],
                "benchmark": cols.get("benchmark", np.full(len(e), np.nan)),
                "expected": cols["return"] - ar,
                "ar": ar,
                "ar_se": se,
                "sar": ar / se,
            }
        )

    def cars(self) -> pd.DataFrame:
        fit, info, windows = self.fit, self._info, self.spec.windows
        parts = []
        for w in windows:
            e = np.flatnonzero(fit.has(w))
            car, var = (v[e] for v in fit.car(w))
            se = np.sqrt(var)
            t = car / se
            df = fit.df[e]
            part = pd.DataFrame(
                {
                    "event_id": info.index.to_numpy()[e],
                    "ticker": info["ticker"].to_numpy()[e],
                    "event_date": info["event_date"].to_numpy()[e],
                    "day0": fit.arrays.grid[fit.arrays.day0[fit.rows[e]]],
                    "window": format_window(w),
                    "start": w[0],
                    "end": w[1],
                    "n_days": w[1] - w[0] + 1,
                    "car": car,
                    "se": se,
                    "scar": car / se,
                    "t_stat": t,
                    "df": df,
                    "p_value": 2 * t_sf(np.abs(t), df),
                    "sq_p_value": fit.sq_p_values(w, e, car),
                    "sigma": np.sqrt(fit.sigma2[e]),
                    **{c: info[c].to_numpy()[e] for c in info.columns if c not in ("ticker", "event_date")},
                },
                index=e * len(windows) + windows.index(w),
            )
            parts.append(part)
        cars = pd.concat(parts).sort_index().reset_index(drop=True)
        return cars if len(cars) else pd.DataFrame()

    def window_cars(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        idx = np.flatnonzero(self.fit.has(window))
        car, var = (self.fit.take(v, idx) for v in self.fit.car(window))
        return car, np.sqrt(var)

    def test_inputs(self, window: Window) -> TestInputs | None:
        fit = self.fit
        idx = np.flatnonzero(fit.has(window))
        if not len(idx):
            return None
        car, var = (fit.take(v, idx) for v in fit.car(window))
        first = fit.est_ar[idx[0]]
        sq = st.sq(car, first[np.isfinite(first)], window[1] - window[0] + 1) if len(idx) == 1 else None
        return TestInputs(
            car=car,
            se=np.sqrt(var),
            df=fit.take(fit.df, idx).astype(float),
            rbar=kp_rbar(fit, self.pairs, idx, window),
            ar_panel=None,
            window_mask=None,
            share_positive=fit.take(fit.share_positive, idx),
            sq=sq,
        )

    def rank_test(self, window: Window, inputs: TestInputs) -> st.TestResult:
        return rank_test(self.fit, np.flatnonzero(self.fit.has(window)), window)

    def standardized_rank_tests(self, window: Window, inputs: TestInputs) -> tuple[st.TestResult, st.TestResult]:
        """``(corrado_zivney, grank)`` from the fit's arrays (:mod:`.batch_grank`)."""
        return batch_grank.standardized_rank_tests(
            self.fit, np.flatnonzero(self.fit.has(window)), window, inputs.car / inputs.se
        )

    def estimation_panel(self, window: Window) -> np.ndarray:
        """Estimation ARs (events with ``window`` x estimation days), the bootstrap's resampling pool."""
        return self.fit.take(self.fit.est_ar, np.flatnonzero(self.fit.has(window)))


def fit_table(
    table: pd.DataFrame,
    wide: pd.DataFrame,
    benches: Mapping[str, pd.Series],
    keys: Sequence[str | None],
    reasons: Sequence[str | None],
    spec: EventStudySpec,
) -> tuple[BatchFit, np.ndarray, np.ndarray]:
    """Fit every event of ``table`` whose reason is None (columns ``ticker, event_date``; ``keys``
    and ``reasons`` as from :func:`~.inputs.screen_events`). Returns the fit, the table positions
    of the studied events (the fit's rows, in order) and those of all events tried.
    :class:`~.batch_panel.BatchUnsupported` when the returns have duplicate dates or a benchmark
    or factor series is malformed (the loop engine then gives each event its reason), or the model is
    not fitted by OLS (GARCH, thin-trading betas: the loop engine fits them event by event)."""
    if not spec.model.batchable:
        raise BatchUnsupported(f"the {spec.model.name} model is fitted event by event (loop engine)")
    if not wide.index.is_unique:
        raise BatchUnsupported("duplicate dates")
    aux, aux_key = panel_aux(spec.model, pd.DatetimeIndex(wide.index), dict(benches), list(keys), spec.factors)
    candidates = np.flatnonzero([r is None for r in reasons])
    event_dates = table["event_date"].to_numpy().astype(wide.index.to_numpy().dtype)
    lo, hi = spec.estimation[0], spec.event_period[1]
    arrays, unplaced = locate(
        wide, aux, aux_key[candidates], table["ticker"].to_numpy()[candidates], event_dates[candidates], lo, hi
    )
    fit = fit_events(
        spec.model, arrays, spec.estimation, spec.windows, spec.min_estimation_obs, np.flatnonzero(~unplaced)
    )
    return fit, candidates[fit.rows], candidates


def run_batch(
    table: pd.DataFrame,
    wide: pd.DataFrame,
    benches: Mapping[str, pd.Series],
    keys: Sequence[str | None],
    reasons: Sequence[str | None],
    spec: EventStudySpec,
) -> StudyResult:
    """The study of :func:`~.study.run_study` with the batch engine (inputs already checked, ``keys``
    and ``reasons`` from :func:`~.inputs.screen_events` with ``verify=False``). Overlapping event
    periods are listed, not warned about (the caller warns once)."""
    fit, studied, candidates = fit_table(table, wide, benches, keys, reasons, spec)
    arrays, reasons = fit.arrays, list(reasons)
    event_dates = table["event_date"].to_numpy().astype(wide.index.to_numpy().dtype)
    # events the engine could not study: the reference path gives the reason (or, if it studies them, a bug)
    for i in np.setdiff1d(candidates, studied) if len(studied) < len(candidates) else ():
        row = next(table.iloc[[i]].itertuples())
        if not has_returns(wide, str(row.ticker)):
            reasons[i] = no_returns_reason(str(row.ticker))
            continue
        try:
            study_event(
                wide[row.ticker].dropna(), benchmark_of(benches, keys[i]), row.event_date, spec, str(row.event_id)
            )
        except IncidentImpactError as exc:
            reasons[i] = str(exc)
        else:
            raise AssertionError(f"batch engine: event {row.event_id} was left out but the reference path studies it")
    failed = [i for i, r in enumerate(reasons) if r is not None]
    failures = pd.DataFrame(
        [{**table.iloc[i][["event_id", "ticker", "event_date"]].to_dict(), "reason": reasons[i]} for i in failed],
        columns=list(FAILURE_COLUMNS),
    )
    ids = table["event_id"].to_numpy()[studied].tolist()
    span_pos = fit.panel(arrays.pos)[:, fit.span]
    present = span_pos >= 0
    first = span_pos[np.arange(fit.n), present.argmax(axis=1)]
    last = span_pos[np.arange(fit.n), present.shape[1] - 1 - present[:, ::-1].argmax(axis=1)]
    overlaps = find_overlaps(
        ids,
        table["ticker"].to_numpy()[studied],
        pd.DatetimeIndex(arrays.grid[first]),
        pd.DatetimeIndex(arrays.grid[last]),
    )
    message = overlap_message(overlaps)
    series = {key: benchmark_of(benches, key) for key in set(keys)}  # a few benchmarks for many events
    used = dict(zip(ids, [series[keys[i]] for i in studied], strict=True))
    info = table.set_index("event_id").iloc[studied]
    engine = BatchEngine(fit, spec, info, event_dates[studied])
    return StudyResult(spec, table, failures, engine, overlaps, (message,) if message else (), used, wide)
