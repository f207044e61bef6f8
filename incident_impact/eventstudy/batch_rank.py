"""Batch engine, step 4: Corrado's rank test from one sort of the estimation abnormal returns."""

from __future__ import annotations

import numpy as np

from . import statistics as st
from .batch_fit import BatchFit
from .windows import Window


def count_below(ordered: np.ndarray, n_obs: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``#{t: ordered[i, t] < values[i, j]}`` for every row ``i`` and column ``j`` of ``values``, each
    row of ``ordered`` increasing over its first ``n_obs[i]`` entries: a binary search of all rows at
    once (about log2 T steps over N x L entries, instead of comparing every estimation day)."""
    n, T = ordered.shape
    flat = ordered.reshape(-1) if ordered.flags.c_contiguous else np.ascontiguousarray(ordered).reshape(-1)
    start = (np.arange(n) * T)[:, None]
    lo = np.zeros(values.shape, dtype=np.int64)
    hi = np.broadcast_to(n_obs[:, None], values.shape).astype(np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        below = flat[start + np.minimum(mid, T - 1)] < values
        lo = np.where(active & below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)


def rank_sums(fit: BatchFit, idx: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray] | None:
    """``(sum_i U_it, N_t)`` over the estimation days then the window days of ``window`` for the
    events ``idx``, ``U_it = K_it / (T_i + 1) - 1/2`` with ``K_it`` the rank of day ``t`` among event
    ``i``'s ``T_i = n_i + L`` days (Corrado & Zivney 1992); None when two of an event's values tie (the
    reference function then ranks with average ranks). Sums over events: results computed apart add up.

    Without ties an estimation day's rank among the ``T_i`` days is its rank among the estimation
    days (:attr:`~.batch_fit.BatchFit.est_sorted`, one sort per fit) plus the number of window days
    below it; a window day's is the number of estimation days below it (a binary search in the
    sorted row) plus the window days below it plus one."""
    ordered, _, ties = fit.est_sorted
    if ties:
        return None
    est, win = fit.take(fit.est_ar, idx), fit.take(fit.ar, idx)[:, fit.window_cols(window)]
    n_obs, L = fit.take(fit.n_obs, idx), win.shape[1]
    below = count_below(fit.take(ordered, idx), n_obs, win)
    at = fit.take(ordered, idx)[np.arange(len(idx))[:, None], np.minimum(below, ordered.shape[1] - 1)]
    if ((below < n_obs[:, None]) & (at == win)).any():
        return None  # a window value equals an estimation value
    k_win = 1.0 + below
    above = np.zeros(est.shape, dtype=np.int8 if L < 127 else np.int32)  # window days below each estimation day
    for day in range(L):
        w = win[:, day : day + 1]
        if (win[:, day + 1 :] == w).any():
            return None
        np.add(above, est > w, out=above)
        k_win[:, day] += (win < w).sum(axis=1)
    weight = 1.0 / (n_obs + L + 1)
    present = np.full(est.shape[1], len(idx)) if fit.est_complete else np.isfinite(est).sum(axis=0)
    u_est = weight @ fit.take(fit.est_ranks_filled, idx) + weight @ above - 0.5 * present
    return np.r_[u_est, weight @ k_win - 0.5 * len(idx)], np.r_[present, np.full(L, len(idx))]


def corrado_from_sums(sums: np.ndarray, counts: np.ndarray, L: int, n: int) -> st.TestResult | None:
    """Corrado's statistic from the per-day sums of ``U`` and event counts (estimation days then the
    ``L`` window days): ``Ubar_t = sum_t / N_t``, ``S_U = sqrt(mean_t Ubar_t^2)``,
    ``Z = sum_window Ubar_t / (sqrt(L) S_U)``; None when ``S_U`` is not positive (the reference says why)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ubar = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
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
