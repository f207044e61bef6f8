"""Batch engine, step 4: Corrado's rank test from one sort of the estimation abnormal returns."""

from __future__ import annotations

import numpy as np

from . import statistics as st
from .batch_fit import BatchFit
from .windows import Window


def count_below(ordered: np.ndarray, n_obs: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``#{t < n_obs[i]: ordered[i, t] < values[i, j]}`` for every row ``i`` and column ``j`` of ``values``, each
    row of ``ordered`` increasing over its first ``n_obs[i]`` entries: a branchless binary search of all rows at
    once (``c`` grows by ``2^k, ..., 2, 1`` where the entry ``c + 2^k`` is still below, capped at ``n_obs[i]``:
    about log2 T gathers over N x L entries, instead of comparing every estimation day)."""
    n, T = ordered.shape
    flat = ordered.reshape(-1) if ordered.flags.c_contiguous else np.ascontiguousarray(ordered).reshape(-1)
    before = (np.arange(n) * T - 1)[:, None]  # flat position just before each row: a count of 0
    last = before + n_obs[:, None]  # a count of n_obs
    pos = np.repeat(before, values.shape[1], axis=1)
    step = 1 << (T.bit_length() - 1)
    while step:
        cand = np.minimum(pos + step, last)
        pos = np.where(flat[cand] < values, cand, pos)
        step >>= 1
    return pos - before


def rank_sums(fit: BatchFit, idx: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray] | None:
    """``(sum_i U_it, N_t)`` over the estimation days then the window days of ``window`` for the
    events ``idx`` (Corrado's test on the abnormal returns, :func:`day_rank_sums` on the fit's one
    sort :attr:`~.batch_fit.BatchFit.est_sorted`); None when two of an event's values tie (the
    reference function then ranks with average ranks). Sums over events: results computed apart add up."""
    if fit.est_ties:
        return None
    ordered, ranks = fit.est_sorted
    return day_rank_sums(fit, idx, ordered, ranks, fit.take(fit.ar, idx)[:, fit.window_cols(window)])


def day_rank_sums(
    fit: BatchFit, idx: np.ndarray, ordered: np.ndarray, ranks: np.ndarray, win: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(sum_i U_it, N_t)`` over the estimation days then the ``L`` columns of ``win`` (N x L, finite)
    for the events ``idx``, ``U_it = K_it / (T_i + 1) - 1/2`` with ``K_it`` the rank of day ``t`` among
    event ``i``'s ``T_i = n_i + L`` values (Corrado & Zivney 1992). ``ordered`` holds every fitted
    event's estimation values sorted (any per-event order-keeping rescaling of the ARs) and ``ranks``
    their ranks among themselves (0 where absent), without ties; None when a window value ties.

    A window value's rank is the number of estimation values below it (a binary search in the sorted
    row) plus the window values below it plus one; an estimation value's is its rank among the
    estimation values plus the window values below it, i.e. those whose count of estimation values
    below is smaller than its rank: small integer comparisons, no float comparison per estimation day."""
    ordered, ranks = fit.take(ordered, idx), fit.take(ranks, idx)
    n, T = ranks.shape
    n_obs, L = fit.take(fit.n_obs, idx), win.shape[1]
    below = count_below(ordered, n_obs, win)
    at = ordered[np.arange(n)[:, None], np.minimum(below, T - 1)]
    if ((below < n_obs[:, None]) & (at == win)).any():
        return None  # a window value equals an estimation value
    k_win = 1.0 + below
    k_est = ranks.astype(np.min_scalar_type(T + L))
    below = below.astype(ranks.dtype)  # at most n_i <= T
    for day in range(L):
        w = win[:, day : day + 1]
        if (win[:, day + 1 :] == w).any():
            return None
        np.add(k_est, ranks > below[:, day : day + 1], out=k_est)
        k_win[:, day] += (win < w).sum(axis=1)
    weight = 1.0 / (n_obs + L + 1)
    present = np.full(T, n) if fit.est_complete else (ranks > 0).sum(axis=0)
    u_est = weighted_column_sums(weight, k_est) - 0.5 * present
    return np.r_[u_est, weight @ k_win - 0.5 * n], np.r_[present, np.full(L, n)]


def weighted_column_sums(weight: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``weight @ counts`` for small integer ``counts``: ``weight_0 * sum_i counts_it`` when every
    weight is the same (every event has every estimation day), which skips converting the N x T
    counts to floats."""
    if (weight == weight[0]).all():
        return weight[0] * counts.sum(axis=0, dtype=np.float64)
    return weight @ counts


def day_means(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``Ubar_t = sum_t / N_t`` (NaN where no event has day ``t``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def corrado_from_sums(sums: np.ndarray, counts: np.ndarray, L: int, n: int) -> st.TestResult | None:
    """Corrado's statistic from the per-day sums of ``U`` and event counts (estimation days then the
    ``L`` window days): ``Ubar_t = sum_t / N_t``, ``S_U = sqrt(mean_t Ubar_t^2)``,
    ``Z = sum_window Ubar_t / (sqrt(L) S_U)``; None when ``S_U`` is not positive (the reference says why)."""
    ubar = day_means(sums, counts)
    s_u = np.sqrt(np.nanmean(ubar**2))
    if not s_u > 0:
        return None
    return st.normal_result("corrado", ubar[-L:].sum() / (np.sqrt(L) * s_u), n)


def reference_rank_test(fit: BatchFit, idx: np.ndarray, window: Window) -> st.TestResult:
    """:func:`~.statistics.corrado` on the events' estimation and window ARs (average ranks for ties)."""
    est, win = fit.take(fit.est_ar, idx), fit.take(fit.ar, idx)[:, fit.window_cols(window)]
    mask = np.r_[np.zeros(est.shape[1], dtype=bool), np.ones(win.shape[1], dtype=bool)]
    return st.corrado(np.concatenate([est, win], axis=1), mask)


def rank_test(fit: BatchFit, idx: np.ndarray, window: Window) -> st.TestResult:
    """:func:`~.statistics.corrado` for the events ``idx`` over ``window`` without re-sorting the
    estimation ARs for every window (:func:`rank_sums`). Ties or degenerate days go to the
    reference function (average ranks, reasons)."""
    sums = rank_sums(fit, idx, window)
    result = None if sums is None else corrado_from_sums(*sums, window[1] - window[0] + 1, len(idx))
    return result if result is not None else reference_rank_test(fit, idx, window)
