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

from ..distributions import t_sf
from ..errors import IncidentImpactError
from . import statistics as st
from .event import _check_series
from .models import FittedModel, NormalReturnModel
from .results import EventStudyResult
from .study import StudyResult, TestInputs, has_returns, no_returns_reason, overlap_warnings, study_one
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

    @cached_property
    def valid(self) -> np.ndarray:
        return self.pos >= 0

    def col(self, k: int) -> int:
        """Array column of relative day ``k``."""
        return k - self.lo


def _panel_columns(model: NormalReturnModel) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for c in (model.offset, *model.regressors) if c))


def locate(wide: pd.DataFrame, aux: dict[str, np.ndarray], aux_key: np.ndarray, tickers: np.ndarray,
           event_dates: np.ndarray, lo: int, hi: int) -> tuple[EventArrays, np.ndarray]:
    """Relative days ``lo..hi`` of every event, and which events' day 0 cannot be placed.

    ``aux`` maps each non-return column the model uses to a (dates x keys) array on ``wide``'s index
    (one column per benchmark, or one for the factors); event ``i`` uses column ``aux_key[i]``. A day belongs
    to an event's joined series when its return and all its ``aux`` values are finite. Events
    whose days ``min(lo,-1)..max(hi,0)`` are all present around the first date on or after the
    event date are placed by offset; the others through their column's list of joined dates.
    """
    grid = wide.index.to_numpy()
    R = wide.to_numpy()
    G, n = len(grid), len(tickers)
    sources = {"return": (R, wide.columns.get_indexer(tickers)), **{name: (v, aux_key) for name, v in aux.items()}}
    gp = np.searchsorted(grid, event_dates)
    rel = np.arange(lo, hi + 1)
    a, b = min(lo, -1), max(hi, 0)
    inside = np.flatnonzero((gp + a >= 0) & (gp + b < G))
    rows = gp[inside, None] + np.arange(a, b + 1)
    near = {name: v[rows, c[inside, None]] for name, (v, c) in sources.items()}
    whole = np.logical_and.reduce([np.isfinite(v) for v in near.values()]).all(axis=1)
    clean = inside[whole]
    pos = np.full((n, len(rel)), -1, dtype=np.int64)
    pos[clean] = gp[clean, None] + rel
    day0 = gp.copy()
    dirty = np.setdiff1d(np.arange(n), clean)
    unplaced = np.zeros(n, dtype=bool)
    if len(dirty):
        cols = sources["return"][1]
        in_aux = (np.logical_and.reduce([np.isfinite(v) for v in aux.values()]) if aux
                  else np.ones((G, 1), dtype=bool))
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
    if len(clean) == n and (a, b) == (lo, hi):
        return EventArrays(lo, hi, near, pos, day0, grid), unplaced
    columns = {}
    for name, (values, col) in sources.items():
        out = np.full(pos.shape, np.nan)
        out[clean] = near[name][whole][:, lo - a:hi - a + 1]
        if len(dirty):
            out[dirty] = _gather(values, pos[dirty], col[dirty])
        columns[name] = out
    return EventArrays(lo, hi, columns, pos, day0, grid), unplaced


def _gather(values: np.ndarray, pos: np.ndarray, col: np.ndarray) -> np.ndarray:
    out = values[np.maximum(pos, 0), col[:, None]]
    out[pos < 0] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class BatchFit:
    """OLS fits, abnormal returns and CAR variances of many events (one row each).

    Built by :func:`fit_events`; only events that could be studied are kept (``rows`` are their
    positions in the input). ``X`` is the design, one (N x K) array per regressor;
    ``ar`` (N x K) and ``ar_se`` (N x event period) are on the relative days of ``arrays``.
    """

    model: NormalReturnModel
    estimation: Window
    windows: tuple[Window, ...]
    arrays: EventArrays
    rows: np.ndarray
    X: tuple[np.ndarray, ...]
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
        x = self.design(np.s_[:, self.span])
        leverage = np.einsum("nti,nij,ntj->nt", x, self.xtx_inv, x)
        return np.sqrt(self.sigma2[:, None] * (1 + leverage))

    def design(self, where) -> np.ndarray:
        """The design at ``where`` (an index into the N x K arrays), regressors on the last axis."""
        return np.stack([x[where] for x in self.X], axis=-1) if self.X else np.empty(self.ar[where].shape + (0,))

    def window_cols(self, window: Window) -> slice:
        return slice(self.arrays.col(window[0]), self.arrays.col(window[1]) + 1)

    def car(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        """``(CAR_i, Var(CAR_i))`` over ``window`` (inside the event period), NaN for events without its data."""
        cols = self.window_cols(window)
        car = self.ar[:, cols].sum(axis=1)
        g = self.design(np.s_[:, cols]).sum(axis=1)
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
        ar = self.take(self.est_ar, idx)
        sums = ar[:, :ar.shape[1] - length + 1].copy()
        for k in range(1, length):
            sums += ar[:, k:ar.shape[1] - length + 1 + k]
        count = np.isfinite(sums).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            le = (sums <= car[:, None]).sum(axis=1) / count
            ge = (sums >= car[:, None]).sum(axis=1) / count
        return np.where(count >= min_windows, np.minimum(1.0, 2 * np.minimum(le, ge)), np.nan)

    def take(self, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``values[idx]``, without a copy when ``idx`` is every event."""
        return values if len(idx) == self.n else values[idx]

    @cached_property
    def share_positive(self) -> np.ndarray:
        """Share of each event's estimation ARs above 0 (the generalized sign test's ``p_hat`` terms)."""
        return (self.est_ar > 0).sum(axis=1) / self.n_obs

    @cached_property
    def est_ranks(self) -> tuple[np.ndarray, bool]:
        """Rank (1-based) of each estimation AR among its event's (NaN where absent), and whether any event has ties."""
        order = np.argsort(self.est_ar, axis=1)
        ordered = np.take_along_axis(self.est_ar, order, axis=1)
        ranks = np.empty_like(self.est_ar)
        np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1.0, ranks.shape[1] + 1), ranks.shape), axis=1)
        return np.where(np.isfinite(self.est_ar), ranks, np.nan), bool((ordered[:, 1:] == ordered[:, :-1]).any())

    @cached_property
    def pairs(self) -> ResidualPairs:
        return ResidualPairs(self)

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
    X = ([np.ones_like(y)] if model.has_constant else []) + [A.columns[c][rows] for c in model.regressors]
    k = len(X)
    m = valid[:, est]
    full = bool(m.all())

    def masked(v: np.ndarray) -> np.ndarray:
        return v if full else np.where(m, v, 0.0)

    def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.einsum("nt,nt->n", u, v)

    ye = masked(y[:, est])
    Xe = [masked(x[:, est]) for x in X]
    xtx = np.empty((len(rows), k, k))
    for p in range(k):
        for q in range(p, k):
            xtx[:, p, q] = xtx[:, q, p] = dot(Xe[p], Xe[q])
    xtx_inv, regular = _inverse(xtx)
    if not regular.all():
        return fit_events(model, arrays, estimation, windows, min_estimation_obs, np.setdiff1d(candidates, rows[~regular]))
    params = np.einsum("nij,nj->ni", xtx_inv, np.stack([dot(x, ye) for x in Xe], axis=1)) if k else np.empty((len(rows), 0))
    ar = y.copy()
    for p in range(k):
        ar -= params[:, p, None] * X[p]
    resid = masked(ar[:, est])
    centred = masked(ye - (ye.sum(axis=1) / n_obs)[:, None])
    sst = dot(centred, centred)
    r_squared = None
    if model.has_constant:
        ssr = dot(resid, resid)
        df = n_obs - k
        sigma2 = ssr / df
        if model.regressors:
            r_squared = 1 - ssr / sst
    else:
        dev = masked(resid - (resid.sum(axis=1) / n_obs)[:, None])
        df = n_obs - 1
        sigma2 = dot(dev, dev) / df
    # what models.fit refuses (no usable residual variance, a design of rank < k by np.linalg.matrix_rank)
    # goes to the reference path; X's singular values are exact (SVD) only where X'X's eigenvalues leave doubt
    refused = ~(np.isfinite(sigma2) & (sigma2 > 1e-16 * sst / n_obs))
    if k >= 2:
        eig = np.linalg.eigvalsh(xtx)
        doubt = np.flatnonzero(~(eig[:, 0] > 1e-8 * eig[:, -1]))
        if len(doubt):
            sv = np.linalg.svd(np.stack([x[doubt] for x in Xe], axis=-1), compute_uv=False)
            tol = sv.max(axis=1, keepdims=True) * np.maximum(n_obs[doubt], k)[:, None] * np.finfo(float).eps
            refused[doubt] |= (sv > tol).sum(axis=1) < k
    if refused.any():
        return fit_events(model, arrays, estimation, windows, min_estimation_obs, np.setdiff1d(candidates, rows[refused]))
    return BatchFit(model, estimation, windows, arrays, rows, tuple(X), params, xtx_inv, sigma2, df, n_obs, r_squared, ar, usable)


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


class ResidualPairs:
    """Correlations of events' estimation residuals over their common dates, computed once per pair.

    Each event's residuals sit on the grid dates ``lo_i .. lo_i + width - 1`` (zero where absent,
    ``mask`` 0); for "complete" events (no gap) the overlap of two events is one block, so its
    count, sums and sums of squares come from the row totals minus the few dates outside it.
    """

    def __init__(self, fit: BatchFit):
        pos, res = fit.arrays.pos[fit.rows, fit.est], fit.est_ar
        valid = pos >= 0
        self.T = T = pos.shape[1]
        self.pos = pos
        self.lo = np.where(valid, pos, np.iinfo(np.int64).max).min(axis=1)
        self.width = int((pos.max(axis=1) - self.lo).max()) + 1
        self.complete = valid.all(axis=1) & (pos[:, -1] - pos[:, 0] == T - 1)
        self.band = np.zeros((fit.n, self.width))
        self.band[self.complete, :T] = res[self.complete]
        self.mask = None
        if not self.complete.all():
            self.mask = np.zeros_like(self.band)
            self.mask[self.complete, :T] = 1.0
            r_i, c_i = np.nonzero(valid & ~self.complete[:, None])
            self.band[r_i, pos[r_i, c_i] - self.lo[r_i]] = res[r_i, c_i]
            self.mask[r_i, pos[r_i, c_i] - self.lo[r_i]] = 1.0
        self.zeroed = np.where(valid, res, 0.0)
        self.sums, self.squares = self.zeroed.sum(axis=1), np.einsum("nt,nt->n", self.zeroed, self.zeroed)
        self.keys, self.r, self.cnt = np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)

    def same_dates(self, rows: np.ndarray) -> bool:
        """Whether the events ``rows`` all have the same estimation dates (no minimum overlap then)."""
        pos = self.pos[rows]
        return bool((pos == pos[0]).all()) and bool((pos >= 0).all())

    def correlations(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(r, common dates)`` of the pairs of fit rows ``(a, b)``."""
        keys = np.minimum(a, b) * len(self.band) + np.maximum(a, b)
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        new = ~(self.keys[at] == keys) if len(self.keys) else np.ones(len(keys), dtype=bool)
        if new.any():
            fresh, first = np.unique(keys[new], return_index=True)
            r, cnt = self._compute(a[new][first], b[new][first])
            order = np.argsort(np.r_[self.keys, fresh], kind="stable")
            self.keys, self.r, self.cnt = np.r_[self.keys, fresh][order], np.r_[self.r, r][order], np.r_[self.cnt, cnt][order]
            at = np.searchsorted(self.keys, keys)
        return self.r[at], self.cnt[at]

    def _overlap_sums(self, rows: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        cut = self.zeroed[rows[:, None], np.r_[0:start, stop:self.T]]
        return self.sums[rows] - cut.sum(axis=1), self.squares[rows] - np.einsum("nt,nt->n", cut, cut)

    def _compute(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shift = self.lo[a] - self.lo[b]
        r, cnt = np.full(len(a), np.nan), np.zeros(len(a))
        W, T = self.width, self.T
        for d in np.unique(shift[np.abs(shift) < W]):
            sel = np.flatnonzero(shift == d)
            for s in range(0, len(sel), PAIR_BLOCK):
                part = sel[s:s + PAIR_BLOCK]
                i, j = a[part], b[part]
                xs, ys = slice(max(0, -d), min(W, W - d)), slice(max(0, d), min(W, W + d))
                x, y = self.band[i, xs], self.band[j, ys]
                if self.complete[i].all() and self.complete[j].all():
                    (x0, x1), (y0, y1) = (max(0, -d), min(T, T - d)), (max(0, d), min(T, T + d))
                    n = np.full(len(i), float(max(x1 - x0, 0)))
                    (sx, sxx), (sy, syy) = self._overlap_sums(i, x0, x1), self._overlap_sums(j, y0, y1)
                else:
                    mx, my = self.mask[i, xs], self.mask[j, ys]
                    n = np.einsum("pt,pt->p", mx, my)
                    sx, sy = np.einsum("pt,pt->p", x, my), np.einsum("pt,pt->p", y, mx)
                    sxx, syy = np.einsum("pt,pt,pt->p", x, x, my), np.einsum("pt,pt,pt->p", y, y, mx)
                with np.errstate(invalid="ignore", divide="ignore"):
                    cov = np.einsum("pt,pt->p", x, y) - sx * sy / n
                    r[part] = cov / np.sqrt((sxx - sx**2 / n) * (syy - sy**2 / n))
                cnt[part] = n
        return r, cnt


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
    wpos = fit.arrays.pos[fit.rows[idx], fit.window_cols(window)]
    # candidate pairs: window date ranges that overlap (sweep over the sorted first dates)
    order = np.argsort(wpos[:, 0], kind="stable")
    counts = np.searchsorted(wpos[order, 0], wpos[order, -1], side="right") - np.arange(n) - 1
    first = np.repeat(np.arange(n), counts)
    second = np.arange(len(first)) - np.repeat(np.cumsum(counts) - counts, counts) + first + 1
    a, b = order[first], order[second]
    w = np.concatenate([(wpos[a[s:s + PAIR_BLOCK], :, None] == wpos[b[s:s + PAIR_BLOCK], None, :]).sum(axis=(1, 2))
                        for s in range(0, len(a), PAIR_BLOCK)] or [np.empty(0)]) / L
    a, b, w = idx[a[w > 0]], idx[b[w > 0]], w[w > 0]
    r, cnt = fit.pairs.correlations(a, b)
    used = np.isfinite(r) & (fit.pairs.same_dates(idx) | (cnt >= min_overlap))
    return float((w[used] * r[used]).sum()) / (n * (n - 1) / 2)


def rank_test(fit: BatchFit, idx: np.ndarray, window: Window) -> st.TestResult:
    """:func:`~.statistics.corrado` for the events ``idx`` over ``window`` without re-sorting the
    estimation ARs for every window. Without ties (the rule for continuous returns) an estimation
    day's rank among event ``i``'s ``T_i = n_i + L`` days is its rank among the estimation days (one
    sort per fit) plus the number of window days below it; a window day's is ``n_i`` minus the
    estimation days above it plus the window days below it plus one. The column means
    ``Ubar_t = sum_i (K_it / (T_i + 1) - 1/2) / N_t`` then need only sums over events (matrix-vector
    products). Ties or degenerate days go to the reference function (average ranks, reasons)."""
    ranks, ties = fit.est_ranks
    est, win = fit.take(fit.est_ar, idx), fit.take(fit.ar, idx)[:, fit.window_cols(window)]
    n_obs, L = fit.take(fit.n_obs, idx), win.shape[1]
    weight = 1.0 / (n_obs + L + 1)
    est_sum = weight @ np.nan_to_num(fit.take(ranks, idx))
    k_win = np.ones(win.shape) + n_obs[:, None]
    for day in range(L):
        w = win[:, day:day + 1]
        above = est > w
        ties = ties or bool((est == w).any()) or bool((win[:, day + 1:] == w).any())
        est_sum += weight @ above
        k_win[:, day] += (win < w).sum(axis=1) - above.sum(axis=1)
    present = np.isfinite(est).sum(axis=0)
    ubar = np.r_[np.where(present > 0, est_sum / np.maximum(present, 1) - 0.5, np.nan), weight @ k_win / len(idx) - 0.5]
    s_u = np.sqrt(np.nanmean(ubar**2))
    if ties or not s_u > 0:
        return st.corrado(np.concatenate([est, win], axis=1), np.r_[np.zeros(est.shape[1], dtype=bool), np.ones(L, dtype=bool)])
    return st._normal("corrado", ubar[-L:].sum() / (np.sqrt(L) * s_u), len(idx))


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
        event_design=fit.design(np.s_[i, fit.span])[A.valid[row, fit.span]], notes=tuple(notes),
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
                "p_value": 2 * t_sf(np.abs(t), df), "sq_p_value": fit.sq_p_values(w, e, car),
                "sigma": np.sqrt(fit.sigma2[e]),
                **{c: info[c].to_numpy()[e] for c in info.columns if c not in ("ticker", "event_date")},
            }, index=e * len(self.windows) + self.windows.index(w))
            parts.append(part)
        cars = pd.concat(parts).sort_index().reset_index(drop=True)
        return cars if len(cars) else pd.DataFrame()

    def _rank_test(self, window: Window, x: TestInputs) -> st.TestResult:
        return rank_test(self.fit, np.flatnonzero(self.fit.has(window)), window)

    def _test_inputs(self, window: Window) -> TestInputs | None:
        fit = self.fit
        idx = np.flatnonzero(fit.has(window))
        if not len(idx):
            return None
        car, var = (fit.take(v, idx) for v in fit.car(window))
        first = fit.est_ar[idx[0]]
        sq = st.sq(car, first[np.isfinite(first)], window[1] - window[0] + 1) if len(idx) == 1 else None
        return TestInputs(car=car, se=np.sqrt(var), df=fit.take(fit.df, idx).astype(float), rbar=kp_rbar(fit, idx, window),
                          ar_panel=None, window_mask=None, share_positive=fit.take(fit.share_positive, idx), sq=sq)


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


def fit_table(table: pd.DataFrame, wide: pd.DataFrame, benches: dict[str, pd.Series], keys: list, reasons: list,
              *, model: NormalReturnModel, estimation: Window, windows: tuple[Window, ...], min_estimation_obs: int,
              factors: pd.DataFrame | None) -> tuple[BatchFit, np.ndarray, np.ndarray]:
    """Fit every event of ``table`` whose reason is None (columns ``ticker, event_date``; ``keys``
    and ``reasons`` as from :func:`~.study.screen_events`). Returns the fit, the table positions
    of the studied events (the fit's rows, in order) and those of all events tried."""
    if not wide.index.is_unique:
        raise BatchUnsupported("duplicate dates")
    aux, aux_key = panel_aux(model, wide.index, benches, keys, factors)
    candidates = np.array([i for i, r in enumerate(reasons) if r is None], dtype=np.int64)
    event_dates = table["event_date"].to_numpy().astype(wide.index.dtype)
    lo, hi = estimation[0], max(w[1] for w in windows)
    arrays, unplaced = locate(wide, aux, aux_key[candidates], table["ticker"].to_numpy()[candidates],
                              event_dates[candidates], lo, hi)
    fit = fit_events(model, arrays, estimation, windows, min_estimation_obs, np.flatnonzero(~unplaced))
    return fit, candidates[fit.rows], candidates


def run_batch(table: pd.DataFrame, wide: pd.DataFrame, benches: dict[str, pd.Series], keys: list, reasons: list,
              *, model: NormalReturnModel, estimation: Window, windows: tuple[Window, ...], min_estimation_obs: int,
              factors: pd.DataFrame | None) -> BatchStudyResult:
    """The study of :func:`~.study.run_study` with the batch engine (arguments already checked there;
    ``keys`` and ``reasons`` from :func:`~.study.screen_events`)."""
    fit, studied, candidates = fit_table(table, wide, benches, keys, reasons, model=model, estimation=estimation,
                                         windows=windows, min_estimation_obs=min_estimation_obs, factors=factors)
    arrays, reasons = fit.arrays, list(reasons)
    event_dates = table["event_date"].to_numpy().astype(wide.index.dtype)
    # events the engine could not study: the reference path gives the reason (or, if it studies them, a bug)
    for i in np.setdiff1d(candidates, studied):
        row = next(table.iloc[[i]].itertuples())
        if not has_returns(wide, row.ticker):
            reasons[i] = no_returns_reason(row.ticker)
            continue
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
                            failures, tuple(found), used, wide, fit)
