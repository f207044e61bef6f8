"""Vectorized multi-event engine behind :func:`~incident_impact.eventstudy.run_study` (``engine="batch"``).

Every event becomes one row of (events x relative days) arrays over ``k = lo..hi`` (``lo`` the
estimation start, ``hi`` the last event-window day) with a mask of the days its joined series
has (relative day ``k`` is the ``k``-th joined session after day 0, :mod:`.windows`). Then,
for all events at once, with ``X_i`` the estimation design and ``y_i`` the returns of event ``i``
(MacKinlay 1997; Campbell, Lo & MacKinlay 1997, ch. 4):

* ``theta_i = (X_i'X_i)^-1 X_i'y_i`` (one batched k x k inversion);
* ``AR_it = y_it - x_it' theta_i``, ``sigma_i^2 = SSR_i / (n_i - k)`` (market-adjusted: the
  sample variance of the estimation ARs, ``n_i - 1``);
* ``Var(AR_it) = sigma_i^2 (1 + x_it' (X_i'X_i)^-1 x_it)``;
* ``Var(CAR_i) = sigma_i^2 (L + g_i' (X_i'X_i)^-1 g_i)``, ``g_i`` the column sums of the
  window's design rows (CLM eq. 4.4.14);
* the nine tests of :mod:`.statistics` on the stacked per-event quantities. Kolari & Pynnönen's
  ``rbar`` weighs each pair by the share of event-window dates it has in common, so only pairs
  whose windows meet in calendar time are computed (O(pairs), not O(N^2)).

The numbers are the single-event reference path's (:func:`.event.event_study`) up to
floating-point rounding (``tests/test_batch.py`` checks them to 1e-10). Events the engine cannot
study are re-run through the reference path, whose error message becomes the failure reason.
Per-event :class:`~.results.EventStudyResult` objects are built only when asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import IncidentImpactError
from . import statistics as st
from .event import _check_series
from .models import FittedModel, NormalReturnModel
from .results import EventStudyResult
from .study import StudyResult, TestInputs, no_returns_reason, overlap_warnings, study_one
from .windows import Window, format_window

#: Pairs of events handled per block when computing Kolari-Pynnönen correlations.
PAIR_BLOCK = 10_000


class BatchUnsupported(Exception):
    """Input the batch engine leaves to the loop (duplicate dates, malformed benchmark or factor series)."""


@dataclass(frozen=True, eq=False)
class EventArrays:
    """Every event's joined data on relative days ``lo..hi`` (one row per event, NaN where absent).

    Attributes
    ----------
    lo, hi : first and last relative day.
    columns : ``return`` plus the benchmark / factor columns the model uses, each (N x K).
    pos : position of each day in the panel's date grid, -1 where the event has no such day.
    day0 : position of each event's day 0 in the grid.
    grid : the panel's dates (``pos`` indexes it).
    """

    lo: int
    hi: int
    columns: dict[str, np.ndarray]
    pos: np.ndarray
    day0: np.ndarray
    grid: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return self.pos >= 0

    def col(self, k: int) -> int:
        """Array column of relative day ``k``."""
        return k - self.lo


def _panel_columns(model: NormalReturnModel) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for c in (model.offset, *model.regressors) if c))


def locate(wide: pd.DataFrame, aux: dict[str, np.ndarray], aux_key: np.ndarray, tickers: np.ndarray,
           event_dates: np.ndarray, lo: int, hi: int) -> tuple[EventArrays | None, np.ndarray]:
    """Relative days ``lo..hi`` of every event, and which events' day 0 cannot be placed.

    ``aux`` maps each used non-return column to a (dates x benchmarks) array on ``wide``'s index
    (factor columns repeated per benchmark); event ``i`` uses column ``aux_key[i]``. A day belongs
    to an event's joined series when its return and all its ``aux`` values are finite. Events
    whose days ``min(lo,-1)..max(hi,0)`` are all present around the first date on or after the
    event date are placed by offset; the others through their column's list of joined dates.
    """
    grid = wide.index.to_numpy()
    R = wide.to_numpy()
    G, n = len(grid), len(tickers)
    cols = wide.columns.get_indexer(tickers)
    in_aux = (np.logical_and.reduce([np.isfinite(v) for v in aux.values()]) if aux
              else np.ones((G, 1), dtype=bool))
    gp = np.searchsorted(grid, event_dates)
    rel = np.arange(lo, hi + 1)
    a, b = min(lo, -1), max(hi, 0)
    pos = np.full((n, len(rel)), -1, dtype=np.int64)
    inside = np.flatnonzero((gp + a >= 0) & (gp + b < G))
    rows = gp[inside, None] + np.arange(a, b + 1)
    present = np.isfinite(R[rows, cols[inside, None]]) & in_aux[rows, aux_key[inside, None]]
    clean = inside[present.all(axis=1)]
    pos[clean] = gp[clean, None] + rel
    day0 = gp.copy()
    dirty = np.setdiff1d(np.arange(n), clean)
    unplaced = np.zeros(n, dtype=bool)
    if len(dirty):
        groups = pd.Series(dirty).groupby([cols[dirty], aux_key[dirty]]).agg(list)
        for (c, k), members in groups.items():
            members = np.asarray(members)
            joined = np.flatnonzero(np.isfinite(R[:, c]) & in_aux[:, k])
            if not len(joined):
                unplaced[members] = True
                continue
            r0 = np.searchsorted(joined, gp[members])
            unplaced[members] = (r0 >= len(joined)) | (event_dates[members] < grid[joined[0]])
            day0[members] = joined[np.minimum(r0, len(joined) - 1)]
            ranks = r0[:, None] + rel
            pos[members] = np.where((ranks >= 0) & (ranks < len(joined)), joined[np.clip(ranks, 0, len(joined) - 1)], -1)
    columns = {"return": _gather(R, pos, cols)}
    for name, values in aux.items():
        columns[name] = _gather(values, pos, aux_key)
    return EventArrays(lo, hi, columns, pos, day0, grid), unplaced


def _gather(values: np.ndarray, pos: np.ndarray, col: np.ndarray) -> np.ndarray:
    out = values[np.maximum(pos, 0), col[:, None]]
    out[pos < 0] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class BatchFit:
    """OLS fits, abnormal returns and CAR variances of many events (one row each).

    Built by :func:`fit_events`; only events that could be studied are kept (``rows`` are their
    positions in the input). ``ar`` and ``ar_se`` are (N x K) on the relative days of ``arrays``.
    """

    model: NormalReturnModel
    estimation: Window
    windows: tuple[Window, ...]
    arrays: EventArrays
    rows: np.ndarray
    X: np.ndarray
    params: np.ndarray
    xtx_inv: np.ndarray
    sigma2: np.ndarray
    df: np.ndarray
    n_obs: np.ndarray
    r_squared: np.ndarray | None
    ar: np.ndarray
    usable: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.rows)

    @cached_property
    def est(self) -> slice:
        return slice(self.arrays.col(self.estimation[0]), self.arrays.col(self.estimation[1]) + 1)

    @cached_property
    def span(self) -> slice:
        return slice(self.arrays.col(min(w[0] for w in self.windows)), self.arrays.col(max(w[1] for w in self.windows)) + 1)

    @cached_property
    def ar_se(self) -> np.ndarray:
        """``sigma_i sqrt(1 + x_t' (X'X)^-1 x_t)`` on the event-period days (N x span)."""
        x = self.X[:, self.span]
        leverage = np.einsum("nti,nij,ntj->nt", x, self.xtx_inv, x)
        return np.sqrt(self.sigma2[:, None] * (1 + leverage))

    def window_cols(self, window: Window) -> slice:
        return slice(self.arrays.col(window[0]), self.arrays.col(window[1]) + 1)

    def car(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """``(CAR_i, Var(CAR_i))`` over ``window`` (inside the event period), NaN for events without its data."""
        cols = self.window_cols(window)
        car = self.ar[:, cols].sum(axis=1)
        g = self.X[:, cols].sum(axis=1)
        var = self.sigma2 * (window[1] - window[0] + 1 + np.einsum("ni,nij,nj->n", g, self.xtx_inv, g))
        return car, var

    def has(self, window: Window) -> np.ndarray:
        """Which events have every day of ``window`` (days are contiguous, so both ends suffice)."""
        first, last = self.span.start, self.span.stop - 1
        if not first <= self.arrays.col(window[0]) <= self.arrays.col(window[1]) <= last:
            return np.zeros(self.n, dtype=bool)
        valid = self.arrays.valid[self.rows]
        return valid[:, self.arrays.col(window[0])] & valid[:, self.arrays.col(window[1])]

    @cached_property
    def est_ar(self) -> np.ndarray:
        """Estimation-window abnormal returns (N x T), NaN where an event has no day."""
        return self.ar[:, self.est]

    def sq_p_values(self, window: Window, idx: np.ndarray, car: np.ndarray, min_windows: int = 20) -> np.ndarray:
        """Two-sided SQ p-value (:func:`~.statistics.sq`) of the events ``idx`` whose CARs over
        ``window`` are ``car``; NaN with fewer than ``min_windows`` estimation CARs of its length."""
        length = window[1] - window[0] + 1
        if length > self.est_ar.shape[1]:
            return np.full(len(idx), np.nan)
        sums = np.lib.stride_tricks.sliding_window_view(self.est_ar[idx], length, axis=1).sum(axis=-1)
        count = np.isfinite(sums).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            le = (sums <= car[:, None]).sum(axis=1) / count
            ge = (sums >= car[:, None]).sum(axis=1) / count
        return np.where(count >= min_windows, np.minimum(1.0, 2 * np.minimum(le, ge)), np.nan)

    def dates(self, i: int, cols: slice) -> pd.DatetimeIndex:
        pos = self.arrays.pos[self.rows[i], cols]
        return pd.DatetimeIndex(self.arrays.grid[pos[pos >= 0]], name="date")


def fit_events(model: NormalReturnModel, arrays: EventArrays, estimation: Window, windows: tuple[Window, ...],
               min_estimation_obs: int, candidates: np.ndarray) -> BatchFit:
    """Fit ``model`` for the ``candidates`` rows of ``arrays`` that have at least
    ``min_estimation_obs`` (and 1) estimation returns, an event window with data and a regular
    design; the rest are left out (their positions are not in ``rows``)."""
    A = arrays
    est = slice(A.col(estimation[0]), A.col(estimation[1]) + 1)
    valid = A.valid[candidates]
    n_obs = valid[:, est].sum(axis=1)
    usable = np.column_stack([valid[:, A.col(w[1])] for w in windows])
    keep = (n_obs >= max(min_estimation_obs, 1)) & usable.any(axis=1)
    rows, valid, n_obs, usable = candidates[keep], valid[keep], n_obs[keep], usable[keep]
    y = A.columns["return"][rows]
    if model.offset:
        y = y - A.columns[model.offset][rows]
    design = ([np.ones_like(y)] if model.has_constant else []) + [A.columns[c][rows] for c in model.regressors]
    X = np.stack(design, axis=-1) if design else np.empty(y.shape + (0,))
    m = valid[:, est]
    ye = np.where(m, y[:, est], 0.0)
    Xe = np.where(m[..., None], X[:, est], 0.0)
    k = X.shape[-1]
    xtx_inv, regular = _inverse(np.einsum("nti,ntj->nij", Xe, Xe))
    if not regular.all():
        return fit_events(model, arrays, estimation, windows, min_estimation_obs, np.setdiff1d(candidates, rows[~regular]))
    params = np.einsum("nij,nj->ni", xtx_inv, np.einsum("nti,nt->ni", Xe, ye))
    ar = y - np.einsum("ntk,nk->nt", X, params) if k else y
    resid = np.where(m, ar[:, est], 0.0)
    r_squared = None
    if model.has_constant:
        ssr = (resid**2).sum(axis=1)
        df = n_obs - k
        sigma2 = ssr / df
        if model.regressors:
            centred = np.where(m, ye - (ye.sum(axis=1) / n_obs)[:, None], 0.0)
            r_squared = 1 - ssr / (centred**2).sum(axis=1)
    else:
        dev = np.where(m, resid - (resid.sum(axis=1) / n_obs)[:, None], 0.0)
        df = n_obs - 1
        sigma2 = (dev**2).sum(axis=1) / df
    return BatchFit(model, estimation, windows, arrays, rows, X, params, xtx_inv, sigma2, df, n_obs, r_squared, ar, usable)


def _inverse(xtx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses of a stack of k x k matrices and which of them are regular (finite inverse)."""
    if xtx.shape[-1] == 0:
        return xtx, np.ones(len(xtx), dtype=bool)
    try:
        inv = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        inv = np.full_like(xtx, np.nan)
        for i, m in enumerate(xtx):
            try:
                inv[i] = np.linalg.inv(m)
            except np.linalg.LinAlgError:
                pass
    return inv, np.isfinite(inv).all(axis=(1, 2))


def kp_rbar(fit: BatchFit, idx: np.ndarray, window: Window, min_overlap: int = 30) -> float:
    """Kolari-Pynnönen ``rbar`` of the events ``idx`` over ``window``, as
    :func:`~.statistics.mean_pairwise_correlation` with pair weights: the mean over all
    ``N(N-1)/2`` pairs of ``w_ij r_ij``, ``w_ij`` the share of the ``L`` window dates events ``i``
    and ``j`` have in common and ``r_ij`` the correlation of their estimation residuals over their
    common dates (at least ``min_overlap`` of them unless every event has the same dates)."""
    n = len(idx)
    if n < 2:
        return float("nan")
    L = window[1] - window[0] + 1
    rows = fit.rows[idx]
    wpos = fit.arrays.pos[rows, fit.window_cols(window)]
    order = np.argsort(wpos[:, 0], kind="stable")
    starts = wpos[order, 0]
    counts = np.searchsorted(starts, wpos[order, -1], side="right") - np.arange(n) - 1
    first = np.repeat(np.arange(n), counts)
    second = np.arange(len(first)) - np.repeat(np.cumsum(counts) - counts, counts) + first + 1
    a, b = order[first], order[second]
    epos = fit.arrays.pos[rows, fit.est]
    eres = fit.est_ar[idx]
    valid = epos >= 0
    same_dates = bool((epos == epos[0]).all()) and bool(valid.all())
    # each event's residuals on the grid dates lo_i .. lo_i + width - 1 (NaN where it has none)
    lo = np.where(valid, epos, np.iinfo(np.int64).max).min(axis=1)
    width = int((epos.max(axis=1) - lo).max()) + 1
    band = np.full((n, width), np.nan)
    r_i, c_i = np.nonzero(valid)
    band[r_i, epos[r_i, c_i] - lo[r_i]] = eres[r_i, c_i]
    t = np.arange(width)
    total = 0.0
    for s in range(0, len(a), PAIR_BLOCK):
        i, j = a[s:s + PAIR_BLOCK], b[s:s + PAIR_BLOCK]
        w = (wpos[i][:, :, None] == wpos[j][:, None, :]).sum(axis=(1, 2)) / L
        i, j, w = i[w > 0], j[w > 0], w[w > 0]
        x = band[i]
        at = t + (lo[i] - lo[j])[:, None]
        inside = (at >= 0) & (at < width)
        y = np.where(inside, np.take_along_axis(band[j], np.clip(at, 0, width - 1), axis=1), np.nan)
        both = np.isfinite(x) & np.isfinite(y)
        cnt = both.sum(axis=1)
        dx = np.where(both, x - np.where(both, x, 0).sum(axis=1, keepdims=True) / cnt[:, None], 0.0)
        dy = np.where(both, y - np.where(both, y, 0).sum(axis=1, keepdims=True) / cnt[:, None], 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (dx * dy).sum(axis=1) / np.sqrt((dx**2).sum(axis=1) * (dy**2).sum(axis=1))
        used = np.isfinite(r) & (same_dates | (cnt >= min_overlap))
        total += float((w[used] * r[used]).sum())
    return total / (n * (n - 1) / 2)



class LazyResults(Mapping):
    """``event_id -> EventStudyResult``, each built from the batch arrays when first asked for."""

    def __init__(self, fit: BatchFit, event_ids: list[str], event_dates: np.ndarray):
        self._fit, self._ids, self._dates = fit, event_ids, event_dates
        self._index = {e: i for i, e in enumerate(event_ids)}
        self._built: dict[str, EventStudyResult] = {}

    def __getitem__(self, event_id: str) -> EventStudyResult:
        if event_id not in self._built:
            i = self._index[event_id]
            self._built[event_id] = event_result(self._fit, i, event_id, pd.Timestamp(self._dates[i]))
        return self._built[event_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def event_result(fit: BatchFit, i: int, event_id: str, event_date: pd.Timestamp) -> EventStudyResult:
    """The :class:`~.results.EventStudyResult` of event ``i``, as the reference path builds it."""
    A, row = fit.arrays, fit.rows[i]
    rel = np.arange(A.lo, A.hi + 1)

    def frame(cols: slice) -> pd.DataFrame:
        keep = A.valid[row, cols]
        bench = A.columns["benchmark"][row, cols][keep] if "benchmark" in A.columns else np.nan
        out = pd.DataFrame({"rel_day": rel[cols][keep], "return": A.columns["return"][row, cols][keep],
                            "benchmark": bench, "ar": fit.ar[i, cols][keep]}, index=fit.dates(i, cols))
        out["expected"] = out["return"] - out["ar"]
        return out

    est, event = frame(fit.est), frame(fit.span)
    event["ar_se"] = fit.ar_se[i][A.valid[row, fit.span]]
    day0 = pd.Timestamp(A.grid[A.day0[row]])
    n_days = fit.estimation[1] - fit.estimation[0] + 1
    available = int(event["rel_day"].iloc[-1])
    usable = tuple(w for w, ok in zip(fit.windows, fit.usable[i]) if ok)
    notes = [f"no return on {event_date.date()}; day 0 is the next date with data, {day0.date()}"] if day0 != event_date else []
    if fit.n_obs[i] < n_days:
        notes.append(f"the estimation window has {fit.n_obs[i]} of {n_days} days")
    notes += [f"window {format_window(w)} needs data up to day {w[1]}; the data end at day {available}"
              for w in fit.windows if w not in usable]
    fitted = FittedModel(fit.model, fit.params[i].copy(), float(fit.sigma2[i]), int(fit.df[i]), fit.xtx_inv[i].copy(),
                         int(fit.n_obs[i]), None if fit.r_squared is None else float(fit.r_squared[i]))
    return EventStudyResult(
        event_id=event_id, event_date=event_date, day0=day0, fitted=fitted, estimation_window=fit.estimation,
        windows=usable, estimation=est[["rel_day", "return", "benchmark", "expected", "ar"]],
        event=event[["rel_day", "return", "benchmark", "ar", "expected", "ar_se"]],
        event_design=fit.X[i, fit.span][A.valid[row, fit.span]], notes=tuple(notes),
    )


@dataclass(frozen=True, eq=False)
class BatchStudyResult(StudyResult):
    """A :class:`~.study.StudyResult` whose tables and tests come straight from the batch arrays;
    ``results`` builds each event's :class:`~.results.EventStudyResult` on first access."""

    fit: BatchFit | None = field(default=None, repr=False)

    @cached_property
    def _event_info(self) -> pd.DataFrame:
        return self.events.set_index("event_id").loc[list(self.results)]

    @cached_property
    def abnormal_returns(self) -> pd.DataFrame:
        fit = self.fit
        keep = fit.arrays.valid[fit.rows, fit.span]
        e, c = np.nonzero(keep)
        cols = {name: values[fit.rows, fit.span][e, c] for name, values in fit.arrays.columns.items()}
        ar, se = fit.ar[:, fit.span][e, c], fit.ar_se[e, c]
        info = self._event_info
        return pd.DataFrame({
            "date": pd.DatetimeIndex(fit.arrays.grid[fit.arrays.pos[fit.rows, fit.span][e, c]]),
            "event_id": info.index.to_numpy()[e], "ticker": info["ticker"].to_numpy()[e],
            "rel_day": np.arange(fit.arrays.lo, fit.arrays.hi + 1)[fit.span][c], "return": cols["return"],
            "benchmark": cols.get("benchmark", np.full(len(e), np.nan)), "expected": cols["return"] - ar, "ar": ar,
            "ar_se": se, "sar": ar / se,
        })

    @cached_property
    def cars(self) -> pd.DataFrame:
        fit, info = self.fit, self._event_info
        parts = []
        for w in self.windows:
            e = np.flatnonzero(fit.has(w))
            car, var = (v[e] for v in fit.car(w))
            se = np.sqrt(var)
            t = car / se
            df = fit.df[e]
            part = pd.DataFrame({
                "event_id": info.index.to_numpy()[e], "ticker": info["ticker"].to_numpy()[e],
                "event_date": info["event_date"].to_numpy()[e],
                "day0": fit.arrays.grid[fit.arrays.day0[fit.rows[e]]], "window": format_window(w), "start": w[0],
                "end": w[1], "n_days": w[1] - w[0] + 1, "car": car, "se": se, "scar": car / se, "t_stat": t, "df": df,
                "p_value": 2 * stats.t.sf(np.abs(t), df), "sq_p_value": fit.sq_p_values(w, e, car),
                "sigma": np.sqrt(fit.sigma2[e]),
                **{c: info[c].to_numpy()[e] for c in info.columns if c not in ("ticker", "event_date")},
            }, index=e * len(self.windows) + self.windows.index(w))
            parts.append(part)
        cars = pd.concat(parts).sort_index().reset_index(drop=True)
        return cars if len(cars) else pd.DataFrame()

    def _test_inputs(self, window: Window) -> TestInputs | None:
        fit = self.fit
        idx = np.flatnonzero(fit.has(window))
        if not len(idx):
            return None
        car, var = (v[idx] for v in fit.car(window))
        est_ar = fit.est_ar[idx]
        has = np.isfinite(est_ar)
        win_ar = fit.ar[idx, fit.window_cols(window)]
        L = window[1] - window[0] + 1
        sq = st.sq(car, est_ar[0][has[0]], L) if len(idx) == 1 else None
        return TestInputs(
            car=car, se=np.sqrt(var), df=fit.df[idx].astype(float), rbar=kp_rbar(fit, idx, window),
            ar_panel=np.concatenate([est_ar, win_ar], axis=1),
            window_mask=np.r_[np.zeros(est_ar.shape[1], dtype=bool), np.ones(L, dtype=bool)],
            share_positive=(has & (est_ar > 0)).sum(axis=1) / fit.n_obs[idx], sq=sq,
        )


def panel_aux(model: NormalReturnModel, grid: pd.DatetimeIndex, benches: dict[str, pd.Series], keys: list,
              factors: pd.DataFrame | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The model's benchmark / factor columns on ``grid`` (one column per benchmark key) and each
    event's column; :class:`BatchUnsupported` when a series is malformed (the loop reports it)."""
    names = _panel_columns(model)
    if not model.needs_benchmark:
        keys = [None] * len(keys)
    order = list(dict.fromkeys(k for k in keys if k is not None)) or [None]
    aux_key = np.array([order.index(k) if k is not None else 0 for k in keys], dtype=np.int64)
    aux = {}
    try:
        for name in names:
            if name == "benchmark":
                series = [_check_series(benches[k], "benchmark returns") if k is not None else pd.Series(np.nan, grid)
                          for k in order]
            elif factors is None or name not in factors.columns:
                raise BatchUnsupported(f"no factor column {name}")
            else:
                series = [_check_series(factors[name], f"factor {name}")]
            aux[name] = np.column_stack([s.reindex(grid).to_numpy(float) for s in series])
    except IncidentImpactError as exc:
        raise BatchUnsupported(str(exc)) from None
    return aux, aux_key


def run_batch(table: pd.DataFrame, wide: pd.DataFrame, benches: dict[str, pd.Series], keys: list, reasons: list,
              *, model: NormalReturnModel, estimation: Window, windows: tuple[Window, ...], min_estimation_obs: int,
              factors: pd.DataFrame | None) -> BatchStudyResult:
    """The study of :func:`~.study.run_study` with the batch engine (arguments already checked there;
    ``keys`` and ``reasons`` from :func:`~.study.screen_events`)."""
    if not wide.index.is_unique:
        raise BatchUnsupported("duplicate dates")
    aux, aux_key = panel_aux(model, wide.index, benches, keys, factors)
    reasons = list(reasons)
    candidates = np.array([i for i, r in enumerate(reasons) if r is None], dtype=np.int64)
    event_dates = table["event_date"].to_numpy().astype(wide.index.dtype)
    lo, hi = estimation[0], max(w[1] for w in windows)
    arrays, unplaced = locate(wide, aux, aux_key[candidates], table["ticker"].to_numpy()[candidates],
                              event_dates[candidates], lo, hi)
    fit = fit_events(model, arrays, estimation, windows, min_estimation_obs, np.flatnonzero(~unplaced))
    studied = candidates[fit.rows]
    # events the engine could not study: the reference path gives the reason (or, if it studies them, a bug)
    for i in np.setdiff1d(candidates, studied):
        row = next(table.iloc[[i]].itertuples())
        try:
            study_one(row, wide, None if keys[i] is None else benches[keys[i]], model, estimation, windows,
                      min_estimation_obs, factors)
        except IncidentImpactError as exc:
            reasons[i] = str(exc)
        else:
            raise AssertionError(f"batch engine: event {row.event_id} was left out but the reference path studies it")
    failed = [i for i, r in enumerate(reasons) if r is not None]
    failures = pd.DataFrame([{**table.iloc[i][["event_id", "ticker", "event_date"]].to_dict(), "reason": reasons[i]}
                             for i in failed], columns=["event_id", "ticker", "event_date", "reason"])
    ids = table["event_id"].to_numpy()[studied].tolist()
    span_pos = arrays.pos[fit.rows, fit.span]
    present = span_pos >= 0
    first = span_pos[np.arange(fit.n), present.argmax(axis=1)]
    last = span_pos[np.arange(fit.n), present.shape[1] - 1 - present[:, ::-1].argmax(axis=1)]
    found = overlap_warnings(ids, table["ticker"].to_numpy()[studied], pd.DatetimeIndex(arrays.grid[first]),
                             pd.DatetimeIndex(arrays.grid[last]))
    used = {eid: None if keys[i] is None else benches[keys[i]] for eid, i in zip(ids, studied)}
    return BatchStudyResult(model.name, estimation, windows, LazyResults(fit, ids, event_dates[studied]), table,
                            failures.reset_index(drop=True), tuple(found), used, fit)
