"""Batch engine, step 3: Kolari-Pynnönen mean residual correlation over the pairs of events whose
event windows share dates (O(pairs), not O(N^2)); each pair's correlation is computed once."""

from __future__ import annotations

import numpy as np

from .batch_fit import BatchFit
from .windows import Window

#: Pairs of events handled per block when computing Kolari-Pynnönen correlations.
PAIR_BLOCK = 10_000


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
            self.keys, self.r = np.r_[self.keys, fresh][order], np.r_[self.r, r][order]
            self.cnt = np.r_[self.cnt, cnt][order]
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
                    mask = self.mask
                    assert mask is not None  # set whenever an event is incomplete
                    mx, my = mask[i, xs], mask[j, ys]
                    n = np.einsum("pt,pt->p", mx, my)
                    sx, sy = np.einsum("pt,pt->p", x, my), np.einsum("pt,pt->p", y, mx)
                    sxx, syy = np.einsum("pt,pt,pt->p", x, x, my), np.einsum("pt,pt,pt->p", y, y, mx)
                with np.errstate(invalid="ignore", divide="ignore"):
                    cov = np.einsum("pt,pt->p", x, y) - sx * sy / n
                    r[part] = cov / np.sqrt((sxx - sx**2 / n) * (syy - sy**2 / n))
                cnt[part] = n
        return r, cnt


def kp_rbar(fit: BatchFit, pairs: ResidualPairs, idx: np.ndarray, window: Window, min_overlap: int = 30) -> float:
    """Kolari-Pynnönen ``rbar`` of the events ``idx`` over ``window``, as
    :func:`~.statistics.mean_pairwise_correlation` with pair weights: the mean over all
    ``N(N-1)/2`` pairs of ``w_ij r_ij``, ``w_ij`` the share of the ``L`` window dates events ``i``
    and ``j`` have in common and ``r_ij`` the correlation of their estimation residuals over their
    common dates (at least ``min_overlap`` of them unless every event has the same dates); ``pairs``
    caches the correlations of ``fit``'s events across windows."""
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
    r, cnt = pairs.correlations(a, b)
    used = np.isfinite(r) & (pairs.same_dates(idx) | (cnt >= min_overlap))
    return float((w[used] * r[used]).sum()) / (n * (n - 1) / 2)
