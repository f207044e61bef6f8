"""Batch engine, step 2: OLS of every event at once (batched ``k x k`` inversion), abnormal returns,
CAR variances, SQ p-values and estimation-AR ranks, all as (events x days) arrays.

With ``X_i`` the estimation design and ``y_i`` the returns of event ``i`` (MacKinlay 1997;
Campbell, Lo & MacKinlay 1997, ch. 4):

* ``theta_i = (X_i'X_i)^-1 X_i'y_i`` (one batched k x k inversion);
* ``AR_it = y_it - x_it' theta_i``, ``sigma_i^2 = SSR_i / (n_i - k)`` (market-adjusted: the
  sample variance of the estimation ARs, ``n_i - 1``);
* ``Var(AR_it) = sigma_i^2 (1 + x_it' (X_i'X_i)^-1 x_it)``;
* ``Var(CAR_i) = sigma_i^2 (L + g_i' (X_i'X_i)^-1 g_i)``, ``g_i`` the column sums of the
  window's design rows (CLM eq. 4.4.14).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .batch_panel import EventArrays
from .models import NormalReturnModel
from .statistics import SQ_TIE
from .threads import over_row_blocks
from .windows import Window


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
        first, last = min(w[0] for w in self.windows), max(w[1] for w in self.windows)
        return slice(self.arrays.col(first), self.arrays.col(last) + 1)

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
        valid = self.arrays.valid
        return valid[self.rows, self.arrays.col(window[0])] & valid[self.rows, self.arrays.col(window[1])]

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
        sums = ar[:, : ar.shape[1] - length + 1].copy()
        for k in range(1, length):
            sums += ar[:, k : ar.shape[1] - length + 1 + k]
        count = np.isfinite(sums).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            le = (sums <= car[:, None] + SQ_TIE).sum(axis=1) / count
            ge = (sums >= car[:, None] - SQ_TIE).sum(axis=1) / count
        return np.where(count >= min_windows, np.minimum(1.0, 2 * np.minimum(le, ge)), np.nan)

    @cached_property
    def every_row(self) -> bool:
        """Whether the fit kept every row of its panel arrays, in order."""
        return _every_row(self.rows, len(self.arrays.pos))

    def panel(self, values: np.ndarray) -> np.ndarray:
        """``values[rows]`` of a panel array (one row per row of :attr:`arrays`): the fitted events' rows,
        without a copy when the fit kept every row."""
        return values if self.every_row else values[self.rows]

    def take(self, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``values[idx]``, without a copy when ``idx`` is every event."""
        return values if len(idx) == self.n else values[idx]

    @cached_property
    def share_positive(self) -> np.ndarray:
        """Share of each event's estimation ARs above 0 (the generalized sign test's ``p_hat`` terms)."""
        return (self.est_ar > 0).sum(axis=1) / self.n_obs

    @cached_property
    def est_complete(self) -> bool:
        """Whether every event has every estimation day (no NaN in :attr:`est_ar`)."""
        return bool(self.panel(self.arrays.valid)[:, self.est].all())

    @cached_property
    def est_sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """``(sorted, ranks)``: each event's estimation ARs in increasing order (NaN last) and the 1-based
        rank of each among its event's as the smallest unsigned integers that hold ``T`` (0 where absent).
        One sort for the whole study (the rank tests count from it; :attr:`est_ties` says whether they can)."""
        return self._sorts[:2]

    @cached_property
    def sar_sorted(self) -> tuple[np.ndarray, bool]:
        """``(sorted, ties)``: each event's standardized estimation ARs ``AR_it / sigma_i`` in
        increasing order (:attr:`est_sorted` divided by ``sigma_i > 0``, which keeps the order and the
        ranks unless it rounds two values together) and whether any event has two equal ones."""
        return self._sorts[2], self._sorts[3]

    @cached_property
    def _sorts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """:attr:`est_sorted` and :attr:`sar_sorted` from one sort, block by block of events in
        parallel threads (:func:`.threads.over_row_blocks`; each block's rows stay in the cache)."""
        values, sd = self.est_ar, np.sqrt(self.sigma2)
        n, T = values.shape
        ordered, standardized = np.empty((n, T)), np.empty((n, T))
        ranks = np.empty((n, T), dtype=np.min_scalar_type(T))
        rank_row = np.arange(1, T + 1, dtype=ranks.dtype)
        ties = []

        def block(rows: slice) -> None:
            tie = False
            starts = (np.arange(min(BLOCK, n)) * T)[:, None]  # flat position of each row's first value
            rank_rows = np.tile(rank_row, min(BLOCK, n))
            for start in range(rows.start, rows.stop, BLOCK):  # small blocks: the temporaries stay in the cache
                part = slice(start, min(start + BLOCK, rows.stop))
                m = part.stop - part.start
                order = np.argsort(values[part], axis=1)
                ordered[part] = values[part]
                ordered[part].sort(axis=1)  # faster than gathering values[order]
                order += starts[:m]  # flat positions: a 1-d scatter is faster than a 2-d one
                ranks[part].reshape(-1)[order.reshape(-1)] = rank_rows[: m * T]
                sar = np.divide(ordered[part], sd[part, None], out=standardized[part])
                tie = tie or bool((sar[:, 1:] == sar[:, :-1]).any())
            ties.append(tie)

        over_row_blocks(block, n)
        if not self.est_complete:
            ranks[~np.isfinite(self.est_ar)] = 0
        return ordered, ranks, standardized, any(ties)

    @cached_property
    def est_ties(self) -> bool:
        """Whether any event has two equal estimation ARs (they stay equal divided by ``sigma_i``, so only
        checked when two standardized ones are)."""
        ordered = self.est_sorted[0]
        return self.sar_sorted[1] and bool((ordered[:, 1:] == ordered[:, :-1]).any())

    def dates(self, i: int, cols: slice) -> pd.DatetimeIndex:
        pos = self.arrays.pos[self.rows[i], cols]
        return pd.DatetimeIndex(self.arrays.grid[pos[pos >= 0]], name="date")


def fit_events(
    model: NormalReturnModel,
    arrays: EventArrays,
    estimation: Window,
    windows: tuple[Window, ...],
    min_estimation_obs: int,
    candidates: np.ndarray,
) -> BatchFit:
    """Fit ``model`` for the ``candidates`` rows of ``arrays`` that have at least
    ``min_estimation_obs`` (and 1) estimation returns, an event window with data and a regular
    design; the rest are left out (their positions are not in ``rows``)."""
    A = arrays
    est = slice(A.col(estimation[0]), A.col(estimation[1]) + 1)
    valid = A.valid if _every_row(candidates, len(A.pos)) else A.valid[candidates]
    n_obs = valid[:, est].sum(axis=1)
    usable = np.column_stack([valid[:, A.col(w[1])] for w in windows])
    keep = (n_obs >= max(min_estimation_obs, 1)) & usable.any(axis=1)
    if not keep.all():
        candidates, valid, n_obs, usable = candidates[keep], valid[keep], n_obs[keep], usable[keep]
    rows, all_rows = candidates, _every_row(candidates, len(A.pos))

    def take(values: np.ndarray) -> np.ndarray:  # values[rows], without a copy when rows are all the rows
        return values if all_rows else values[rows]

    y = take(A.columns["return"])
    if model.offset:
        y = y - take(A.columns[model.offset])
    # the constant as a read-only broadcast view: no N x K array of ones
    X = ([np.broadcast_to(np.ones(1), y.shape)] if model.has_constant else []) + [
        take(A.columns[c]) for c in model.regressors
    ]
    k = len(X)
    m = valid[:, est]
    full = bool(m.all())

    def masked(v: np.ndarray) -> np.ndarray:
        return v if full else np.where(m, v, 0.0)

    def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.einsum("nt,nt->n", u, v)

    ye = masked(y[:, est])
    Xe = [masked(x[:, est]) for x in X]
    y_sum = ye.sum(axis=1)
    # the constant's cross products are the counts and the row sums
    sums = [n_obs.astype(float)] + [x.sum(axis=1) for x in Xe[1:]] if model.has_constant else []

    xtx = np.empty((len(rows), k, k))
    for p in range(k):
        for q in range(p, k):
            xtx[:, p, q] = xtx[:, q, p] = sums[q] if p == 0 and sums else dot(Xe[p], Xe[q])
    xtx_inv, regular = _inverse(xtx)
    if not regular.all():
        return fit_events(
            model, arrays, estimation, windows, min_estimation_obs, np.setdiff1d(candidates, rows[~regular])
        )
    xty = [y_sum if p == 0 and sums else dot(Xe[p], ye) for p in range(k)]
    params = np.einsum("nij,nj->ni", xtx_inv, np.stack(xty, axis=1)) if k else np.empty((len(rows), 0))

    ar = _abnormal_returns(y, X, params, model.has_constant)
    resid = masked(ar[:, est])
    mask = None if full else m
    sst = _centred_squares(ye, y_sum / n_obs, mask)
    r_squared = None
    if model.has_constant:
        ssr = dot(resid, resid)
        df = n_obs - k
        sigma2 = ssr / df
        if model.regressors:
            r_squared = 1 - ssr / sst
    else:
        df = n_obs - 1
        sigma2 = _centred_squares(resid, resid.sum(axis=1) / n_obs, mask) / df
    # what models.fit refuses (no usable residual variance, a design of rank < k by np.linalg.matrix_rank)
    # goes to the reference path; X's singular values are exact (SVD) only where X'X's eigenvalues leave doubt
    refused = ~(np.isfinite(sigma2) & (sigma2 > 1e-16 * sst / n_obs))
    if k >= 2:
        smallest, largest = _extreme_eigenvalues(xtx)
        doubt = np.flatnonzero(~(smallest > 1e-8 * largest))
        if len(doubt):
            sv = np.linalg.svd(np.stack([x[doubt] for x in Xe], axis=-1), compute_uv=False)
            tol = sv.max(axis=1, keepdims=True) * np.maximum(n_obs[doubt], k)[:, None] * np.finfo(float).eps
            refused[doubt] |= (sv > tol).sum(axis=1) < k
    if refused.any():
        return fit_events(
            model, arrays, estimation, windows, min_estimation_obs, np.setdiff1d(candidates, rows[refused])
        )
    return BatchFit(
        model, estimation, windows, arrays, rows, tuple(X), params, xtx_inv, sigma2, df, n_obs, r_squared, ar, usable
    )


def _every_row(rows: np.ndarray, n: int) -> bool:
    """Whether ``rows`` are ``0..n-1`` in order (then selecting them from a panel array needs no copy)."""
    return len(rows) == n and bool((rows == np.arange(n)).all())


#: Rows per block of the row-blocked passes below: their scratch array stays in the cache and is written once.
BLOCK = 512


def _abnormal_returns(y: np.ndarray, X: list[np.ndarray], params: np.ndarray, has_constant: bool) -> np.ndarray:
    """``AR = y - sum_p theta_p x_p`` (N x K; ``X[0]`` the constant when ``has_constant``), a new array filled
    block by block through one small scratch array instead of an N x K temporary per term."""
    ar = np.empty(y.shape)
    if not X:
        ar[...] = y
        return ar
    scratch = np.empty((min(BLOCK, len(y)), y.shape[1]))
    first = 1 if has_constant else 0
    for s in range(0, len(y), BLOCK):
        out, rows = ar[s : s + BLOCK], slice(s, s + BLOCK)
        if has_constant:
            np.subtract(y[rows], params[rows, 0, None], out=out)
        else:
            out[...] = y[rows]
        for p in range(first, len(X)):
            term = np.multiply(params[rows, p, None], X[p][rows], out=scratch[: len(out)])
            out -= term
    return ar


def _centred_squares(values: np.ndarray, means: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """``sum_t m_it (v_it - mean_i)^2`` per row (``m`` the mask of present days, None: all), block by block."""
    out = np.empty(len(values))
    scratch = np.empty((min(BLOCK, len(values)), values.shape[1]))
    for s in range(0, len(values), BLOCK):
        rows = slice(s, s + BLOCK)
        dev = np.subtract(values[rows], means[rows, None], out=scratch[: len(values[rows])])
        if mask is not None:
            dev[~mask[rows]] = 0.0
        out[rows] = np.einsum("nt,nt->n", dev, dev)
    return out


def _inverse(xtx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses of a stack of symmetric k x k matrices and which of them are regular (finite inverse);
    for ``k <= 2`` in closed form (``[[d, -b], [-b, a]] / (ad - b^2)``), else by LAPACK."""
    k = xtx.shape[-1]
    if k == 0:
        return xtx, np.ones(len(xtx), dtype=bool)
    if k <= 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            if k == 1:
                inv = 1 / xtx
            else:
                a, b, d = xtx[:, 0, 0], xtx[:, 0, 1], xtx[:, 1, 1]
                inv = np.stack([d, -b, -b, a], axis=1).reshape(-1, 2, 2) / (a * d - b * b)[:, None, None]
        return inv, np.asarray(np.isfinite(inv).all(axis=(1, 2)))
    try:
        inv = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        inv = np.full_like(xtx, np.nan)
        for i, m in enumerate(xtx):
            try:
                inv[i] = np.linalg.inv(m)
            except np.linalg.LinAlgError:
                pass
    return inv, np.asarray(np.isfinite(inv).all(axis=(1, 2)))


def _extreme_eigenvalues(xtx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest eigenvalue of each symmetric positive semi-definite k x k matrix; for
    ``k = 2`` in closed form (``(a + d)/2 + hypot((a - d)/2, b)``, the smallest as the determinant over it)."""
    if xtx.shape[-1] != 2:
        eig = np.linalg.eigvalsh(xtx)
        return eig[:, 0], eig[:, -1]
    a, b, d = xtx[:, 0, 0], xtx[:, 0, 1], xtx[:, 1, 1]
    largest = (a + d) / 2 + np.hypot((a - d) / 2, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a * d - b * b) / largest, largest
