"""Batch engine: the standardized rank tests (Corrado & Zivney 1992; GRANK of Kolari & Pynnönen 2011)
from the one sort of the estimation abnormal returns the fit already made.

Dividing event ``i``'s estimation ARs by its ``sigma_i`` does not change their order, so
:attr:`.batch_fit.BatchFit.sar_sorted` (the sorted ARs over ``sigma_i``) and the ranks of
:attr:`.batch_fit.BatchFit.est_sorted` feed :func:`.batch_rank.day_rank_sums`: without ties (the
rule for continuous returns) every rank among the ``T_i = n_i + L`` days is a count, no sort. The
per-day means ``Ubar_t`` then go to the same final formulas as the reference functions
(:func:`~.statistics.corrado_zivney_from_means`, :func:`~.statistics.grank_from_means`). Ties, or
a window that cannot be standardized, go to the reference functions (average ranks, reasons).
``tests/eventstudy/test_batch.py`` checks both against the loop engine to 1e-10.
"""

from __future__ import annotations

import numpy as np

from . import statistics as st
from .batch_fit import BatchFit
from .batch_rank import day_means, day_rank_sums
from .windows import Window


def _rank_means(fit: BatchFit, idx: np.ndarray, win: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(Ubar_t, n_t)`` over the estimation days (the standardized ARs ``AR_it / sigma_i``) then the
    columns of ``win`` (N x L, finite) for the events ``idx``; None when any two of an event's values tie."""
    ordered, ties = fit.sar_sorted
    sums = None if ties else day_rank_sums(fit, idx, ordered, fit.est_sorted[1], win)
    return None if sums is None else (day_means(*sums), sums[1])


def standardized_rank_tests(
    fit: BatchFit, idx: np.ndarray, window: Window, scar: np.ndarray
) -> tuple[st.TestResult, st.TestResult]:
    """``(corrado_zivney, grank)`` for the events ``idx`` (those with every day of ``window``)
    whose standardized CARs are ``scar``: :func:`~.statistics.corrado_zivney` and
    :func:`~.statistics.grank` without re-ranking."""
    n = len(idx)
    cols = fit.window_cols(window)
    span = fit.span.start
    win = fit.take(fit.ar, idx)[:, cols] / fit.take(fit.ar_se, idx)[:, cols.start - span : cols.stop - span]

    def est() -> np.ndarray:  # the reference functions' standardized estimation ARs
        return fit.take(fit.est_ar, idx) / np.sqrt(fit.take(fit.sigma2, idx))[:, None]

    if n < 2:
        return st.corrado_zivney(est(), win), st.grank(est(), scar)
    # Corrado & Zivney: each window day's SARs over their cross-sectional standard deviation
    s_t = win.std(axis=0, ddof=1)
    means = _rank_means(fit, idx, win / s_t) if (s_t > 0).all() and np.isfinite(win).all() else None
    cz = st.corrado_zivney_from_means(*means, n, win.shape[1]) if means is not None else st.corrado_zivney(est(), win)
    # GRANK: the window collapsed into one day, SCAR over its cross-sectional standard deviation
    s = scar.std(ddof=1)
    means = _rank_means(fit, idx, (scar / s)[:, None]) if s > 0 and np.isfinite(scar).all() else None
    gr = st.grank_from_means(*means, n) if means is not None else st.grank(est(), scar)
    return cz, gr
