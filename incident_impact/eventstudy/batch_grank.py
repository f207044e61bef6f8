"""Batch engine: the standardized rank tests (Corrado & Zivney 1992; GRANK of Kolari & Pynnönen 2011)
from the one sort of the estimation abnormal returns the fit already made.

Dividing event ``i``'s estimation ARs by its ``sigma_i`` does not change their order, so their
ranks among themselves are :attr:`.batch_fit.BatchFit.est_ranks`. Without ties (the rule for
continuous returns) the rank of an estimation day among the ``T_i = n_i + L`` days is that rank
plus the number of window values below it, and a window value's rank is ``n_i`` minus the
estimation values above it plus the window values below it plus one: counts, no sort. The per-day
means ``Ubar_t`` then go to the same final formulas as the reference functions
(:func:`~.statistics.corrado_zivney_from_means`, :func:`~.statistics.grank_from_means`). Ties, or
a window that cannot be standardized, go to the reference functions (average ranks, reasons).
``tests/eventstudy/test_batch.py`` checks both against the loop engine to 1e-10.
"""

from __future__ import annotations

import numpy as np

from . import statistics as st
from .batch_fit import BatchFit
from .windows import Window


def _rank_means(
    fit: BatchFit, idx: np.ndarray, est: np.ndarray, win: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(Ubar_t, n_t)`` over the estimation days then the columns of ``win`` (N x L), with the
    estimation values ``est`` (N x T, any positive per-event rescaling of the estimation ARs);
    None when any two of an event's values tie."""
    ranks, ties = fit.est_ranks
    if ties:
        return None
    n_obs, L = fit.take(fit.n_obs, idx), win.shape[1]
    weight = 1.0 / (n_obs + L + 1)
    ranks = np.nan_to_num(fit.take(ranks, idx))
    est_sum = weight @ ranks
    k_win = np.ones(win.shape) + n_obs[:, None]
    for day in range(L):
        w = win[:, day : day + 1]
        above = est > w
        if (est == w).any() or (win[:, day + 1 :] == w).any():
            return None
        est_sum += weight @ above
        k_win[:, day] += (win < w).sum(axis=1) - above.sum(axis=1)
    present = np.isfinite(est).sum(axis=0)
    ubar_est = np.where(present > 0, est_sum / np.maximum(present, 1) - 0.5, np.nan)
    ubar = np.r_[ubar_est, weight @ k_win / len(idx) - 0.5]
    return ubar, np.r_[present, np.full(L, len(idx))]


def standardized_rank_tests(
    fit: BatchFit, idx: np.ndarray, window: Window, scar: np.ndarray
) -> tuple[st.TestResult, st.TestResult]:
    """``(corrado_zivney, grank)`` for the events ``idx`` (those with every day of ``window``)
    whose standardized CARs are ``scar``: :func:`~.statistics.corrado_zivney` and
    :func:`~.statistics.grank` without re-ranking."""
    n = len(idx)
    sigma = np.sqrt(fit.take(fit.sigma2, idx))
    est = fit.take(fit.est_ar, idx) / sigma[:, None]
    cols = fit.window_cols(window)
    span = fit.span.start
    win = fit.take(fit.ar, idx)[:, cols] / fit.take(fit.ar_se, idx)[:, cols.start - span : cols.stop - span]
    if n < 2:
        return st.corrado_zivney(est, win), st.grank(est, scar)
    # Corrado & Zivney: each window day's SARs over their cross-sectional standard deviation
    s_t = win.std(axis=0, ddof=1)
    means = _rank_means(fit, idx, est, win / s_t) if (s_t > 0).all() and np.isfinite(win).all() else None
    cz = st.corrado_zivney_from_means(*means, n, win.shape[1]) if means is not None else st.corrado_zivney(est, win)
    # GRANK: the window collapsed into one day, SCAR over its cross-sectional standard deviation
    s = scar.std(ddof=1)
    means = _rank_means(fit, idx, est, (scar / s)[:, None]) if s > 0 and np.isfinite(scar).all() else None
    gr = st.grank_from_means(*means, n) if means is not None else st.grank(est, scar)
    return cz, gr
