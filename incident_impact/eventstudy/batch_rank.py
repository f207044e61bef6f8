"""Batch engine, step 4: Corrado's rank test from one sort of the estimation abnormal returns."""

from __future__ import annotations

import numpy as np

from . import statistics as st
from .batch_fit import BatchFit
from .windows import Window


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
        mask = np.r_[np.zeros(est.shape[1], dtype=bool), np.ones(L, dtype=bool)]
        return st.corrado(np.concatenate([est, win], axis=1), mask)
    return st.normal_result("corrado", ubar[-L:].sum() / (np.sqrt(L) * s_u), len(idx))
