"""Ranks and the Wilcoxon signed-rank distribution without importing ``scipy.stats`` (about a second
on first import): average ranks of a vector or of each row of a panel (missing values left out),
and the two-sided signed-rank p-value with the rules of ``scipy.stats.wilcoxon``.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def average_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based average ranks of ``x`` (ties share the mean of their positions) and the tie-group sizes."""
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    sizes = np.diff(np.r_[starts, len(x)])
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(starts + (sizes + 1) / 2.0, sizes)
    return ranks, sizes


def row_ranks(panel: np.ndarray) -> np.ndarray:
    """Average ranks within each row of ``panel`` among its non-missing values (NaN stays NaN):
    ``scipy.stats.rankdata(panel, axis=1, nan_policy="omit")``, all rows at once."""
    x = np.atleast_2d(np.asarray(panel, dtype=float))
    order = np.argsort(x, axis=1, kind="mergesort")  # NaN sort last, so they never shift the others' ranks
    xs = np.take_along_axis(x, order, axis=1)
    pos = np.broadcast_to(np.arange(x.shape[1]), x.shape)
    first = np.ones(x.shape, dtype=bool)
    first[:, 1:] = xs[:, 1:] != xs[:, :-1]
    last = np.ones(x.shape, dtype=bool)
    last[:, :-1] = xs[:, :-1] != xs[:, 1:]
    start = np.maximum.accumulate(np.where(first, pos, 0), axis=1)
    end = np.minimum.accumulate(np.where(last, pos, x.shape[1] - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(x.shape)
    np.put_along_axis(ranks, order, (start + end) / 2.0 + 1.0, axis=1)
    ranks[np.isnan(x)] = np.nan
    return ranks


def _signed_rank_pmf(n: int) -> np.ndarray:
    """Null distribution of W+ for ``n`` untied non-zero values (each sign equally likely)."""
    c = np.ones(1)
    for k in range(1, n + 1):
        prev = c
        c = np.zeros(k * (k + 1) // 2 + 1)
        c[: len(prev)] = prev * 0.5
        c[-len(prev) :] += prev * 0.5
    return c


def signed_rank_test(nz: np.ndarray) -> tuple[float, float]:
    """``(W+, two-sided p)`` of the non-zero values ``nz``, as ``scipy.stats.wilcoxon(nz)``:

    * n <= 50 without ties: the exact distribution of W+, ``p = min(1, 2 min(P(W+ >= w), P(W+ <= w)))``;
    * n <= 13 with ties: the exact sign-flip distribution of the tied ranks (2^n patterns);
    * otherwise the normal approximation ``z = (W+ - n(n+1)/4) / sqrt((n(n+1)(2n+1) - sum(t^3 - t)/2) / 24)``
      (tie-corrected, no continuity correction).
    """
    nz = np.asarray(nz, dtype=float)
    n = len(nz)
    ranks, sizes = average_ranks(np.abs(nz))
    w_plus = float(ranks[nz > 0].sum())
    if n <= 50 and not (sizes > 1).any():
        pmf = _signed_rank_pmf(n)
        mean = n * (n + 1) / 4
        lo, hi = int(np.floor(w_plus)), int(np.ceil(w_plus))
        upper = pmf[lo:].sum() if lo <= mean else 1 - pmf[:lo].sum()
        lower = pmf[: hi + 1].sum() if hi <= mean else 1 - pmf[hi + 1 :].sum()
        return w_plus, float(np.clip(2 * min(upper, lower), 0, 1))
    if n <= 13:
        signs = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)
        null = (signs * ranks).sum(axis=1)
        tol = abs(np.finfo(float).eps * 100 * w_plus)
        less, greater = (null <= w_plus + tol).mean(), (null >= w_plus - tol).mean()
        return w_plus, float(np.clip(2 * min(less, greater), 0, 1))
    se = np.sqrt((n * (n + 1.0) * (2.0 * n + 1.0) - (sizes.astype(float) ** 3 - sizes).sum() / 2) / 24)
    z = (w_plus - n * (n + 1.0) * 0.25) / se
    return w_plus, float(min(1.0, 2 * min(special.ndtr(z), special.ndtr(-z))))
