"""Batch engine, step 3: Kolari-Pynnönen mean residual correlation over the pairs of events whose
event windows share dates, without visiting the pairs one by one when it need not.

``rbar = sum_{i<j} w_ij r_ij / (N(N-1)/2)``, ``w_ij`` the share of the ``L`` window dates two events
have in common and ``r_ij`` the correlation of their estimation residuals over their common dates.

* **Gap-free events** (every day from the estimation start to the window's end present, on
  consecutive dates of the grid) are grouped by their estimation start ``g``. Two of them whose
  starts differ by ``d`` sessions have ``w = (L - d)/L`` and share the estimation columns
  ``d..T-1`` of the earlier and ``0..T-d-1`` of the later; with each side's residuals over those
  columns centred and scaled to unit length (``a_i``, ``b_j``), ``r_ij = a_i . b_j``. So the sum of
  ``r_ij`` over all pairs of a group ``g`` and a group ``g + d`` is ``(sum_i a_i) . (sum_j b_j)`` and,
  within one group (``d = 0``), ``(|sum_i a_i|^2 - sum_i |a_i|^2) / 2``: linear in the events, not
  quadratic in the events per session. An event whose residuals do not vary over the common dates
  has no correlation (NaN in the reference) and contributes nothing.
* **The other pairs** (an event with a missing day in its rows) are listed by a sweep over the
  sorted window dates and computed pair by pair over their common dates (:class:`ResidualPairs`),
  each pair once across windows.

Both give the reference :func:`~.statistics.mean_pairwise_correlation`'s numbers up to rounding
(``tests/eventstudy/test_batch.py``: 1e-10). :class:`ResidualPairs` takes plain arrays (estimation positions on
a date grid, residuals) so that results computed apart (:mod:`.distributed`) can be pooled.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy import sparse

from .batch_fit import BatchFit
from .windows import Window

#: Pairs of events handled per block when computing Kolari-Pynnönen correlations pair by pair.
PAIR_BLOCK = 10_000


class ResidualPairs:
    """Estimation residuals of events on one date grid, for Kolari-Pynnönen's ``rbar``.

    ``pos`` (N x T) are the grid positions of each event's estimation days (-1 where absent),
    ``res`` (N x T) the residuals (NaN where absent). Pair correlations are cached across windows.
    """

    def __init__(self, pos: np.ndarray, res: np.ndarray):
        valid = pos >= 0
        self.T = pos.shape[1]
        self.n = len(pos)
        self.pos, self.res, self.valid = pos, res, valid
        # positions increase along a row, so the first present day is the earliest
        full = valid.all(axis=1)
        self.lo = pos[:, 0].astype(np.int64)
        if not full.all():
            part = np.flatnonzero(~full)
            self.lo[part] = np.where(valid[part], pos[part], np.iinfo(pos.dtype).max).min(axis=1)
        self.complete = full & (pos[:, -1] - pos[:, 0] == self.T - 1)
        self.keys, self.r, self.cnt = np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
        self._group_sums: dict[tuple[int, bytes], tuple[float, int]] = {}
        #: pairs of events with a common window date in the last ``rbar`` (grouped and listed)
        self.n_pairs = 0

    @classmethod
    def from_fit(cls, fit: BatchFit) -> ResidualPairs:
        return cls(fit.panel(fit.arrays.pos)[:, fit.est], fit.est_ar)

    # ------------------------------------------------------------------ pair by pair
    @cached_property
    def width(self) -> int:
        return int((self.pos.max(axis=1) - self.lo).max()) + 1 if self.n else 1

    @cached_property
    def zeroed(self) -> np.ndarray:
        return np.where(self.valid, self.res, 0.0)

    @cached_property
    def sums(self) -> tuple[np.ndarray, np.ndarray]:
        return self.zeroed.sum(axis=1), np.einsum("nt,nt->n", self.zeroed, self.zeroed)

    @cached_property
    def band(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Each event's residuals on the grid dates ``lo_i .. lo_i + width - 1`` (zero where absent) and
        the mask of present dates (None when every event is complete)."""
        T, complete, pos, res = self.T, self.complete, self.pos, self.res
        band = np.zeros((self.n, self.width))
        band[complete, :T] = res[complete]
        mask = None
        if not complete.all():
            mask = np.zeros_like(band)
            mask[complete, :T] = 1.0
            r_i, c_i = np.nonzero(self.valid & ~complete[:, None])
            band[r_i, pos[r_i, c_i] - self.lo[r_i]] = res[r_i, c_i]
            mask[r_i, pos[r_i, c_i] - self.lo[r_i]] = 1.0
        return band, mask

    def same_dates(self, rows: np.ndarray) -> bool:
        """Whether the events ``rows`` all have the same estimation dates (no minimum overlap then)."""
        if not len(rows) or not (self.lo[rows] == self.lo[rows[0]]).all():
            return False
        pos = self.pos[rows]
        return bool((pos == pos[0]).all()) and bool((pos >= 0).all())

    def correlations(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(r, common dates)`` of the pairs of rows ``(a, b)``, each pair computed once."""
        keys = np.minimum(a, b) * self.n + np.maximum(a, b)
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
        cut = self.zeroed[rows[:, None], np.r_[0:start, stop : self.T]]
        sums, squares = self.sums
        return sums[rows] - cut.sum(axis=1), squares[rows] - np.einsum("nt,nt->n", cut, cut)

    def _compute(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shift = self.lo[a] - self.lo[b]
        r, cnt = np.full(len(a), np.nan), np.zeros(len(a))
        W, T = self.width, self.T
        band, mask = self.band
        for d in np.unique(shift[np.abs(shift) < W]):
            sel = np.flatnonzero(shift == d)
            for s in range(0, len(sel), PAIR_BLOCK):
                part = sel[s : s + PAIR_BLOCK]
                i, j = a[part], b[part]
                xs, ys = slice(max(0, -d), min(W, W - d)), slice(max(0, d), min(W, W + d))
                x, y = band[i, xs], band[j, ys]
                if self.complete[i].all() and self.complete[j].all():
                    (x0, x1), (y0, y1) = (max(0, -d), min(T, T - d)), (max(0, d), min(T, T + d))
                    n = np.full(len(i), float(max(x1 - x0, 0)))
                    (sx, sxx), (sy, syy) = self._overlap_sums(i, x0, x1), self._overlap_sums(j, y0, y1)
                else:
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

    # ------------------------------------------------------------------ grouped
    def _row_sums(self, rows: np.ndarray) -> tuple:
        """``(x, sum x, sum x^2, groups, group, sizes)`` of the events ``rows`` ordered by group (their order
        within one): their residuals, row sums, the distinct estimation starts, each event's start among them
        and the group sizes. The group-by-row products then read ``x`` front to back and add each group's
        rows in the same order as unsorted."""
        key = rows.tobytes()
        if getattr(self, "_rows_key", None) != key:
            groups, g, sizes = np.unique(self.lo[rows], return_inverse=True, return_counts=True)
            order = np.argsort(g, kind="stable")
            x = self.res[rows[order]]
            self._rows_key = key
            self._rows = (x, x.sum(axis=1), np.einsum("nt,nt->n", x, x), groups, g[order], sizes)
        return self._rows

    def group_sum(self, rows: np.ndarray, d: int) -> tuple[float, int]:
        """``sum r_ij`` over the pairs of gap-free events ``rows`` whose estimation starts differ by
        ``d >= 0`` sessions, and the number of such pairs (see the module docstring). With ``H_g`` the
        group's sum of its rows scaled by ``s_i`` (one over their centred length over the common columns)
        and ``h_g = sum_i s_i mean_i``, a group's sum of unit rows is ``H_g - h_g``, and
        ``(H - h) . (U - u) = H . U - h sum U - u sum H + n h u`` needs no centred copy."""
        key = (d, rows.tobytes())
        if key in self._group_sums:
            return self._group_sums[key]
        x, s1, s2, groups, g, sizes = self._row_sums(rows)
        T = self.T
        n = T - d
        bounds = np.r_[0, np.cumsum(sizes)]
        if d == 0:  # |sum a_i|^2 - sum |a_i|^2 (= the number of rows that count) over the groups of 2 or more
            multi = sizes > 1
            H, h, ok = _scaled_sums(x, s1, s2, 0, T, multi[g], bounds, np.flatnonzero(multi))
            total = (float(np.einsum("gt,gt->", H, H) - 2 * h @ H.sum(axis=1) + T * h @ h) - int(ok.sum())) / 2
            count = int((sizes * (sizes - 1) // 2).sum())
        else:  # each group g with a group g + d: (sum of a_i over columns d..T-1) . (sum of b_j over 0..T-d-1)
            later = np.minimum(np.searchsorted(groups, groups + d), len(groups) - 1)
            has = np.flatnonzero(groups[later] == groups + d)
            first, second = np.zeros(len(groups), dtype=bool), np.zeros(len(groups), dtype=bool)
            first[has], second[later[has]] = True, True
            H, h, _ = _scaled_sums(x, s1, s2, d, T, first[g], bounds, has)
            U, u, _ = _scaled_sums(x, s1, s2, 0, n, second[g], bounds, later[has])
            H, U = H[:, d:], U[:, :n]
            total = float(np.einsum("gt,gt->", H, U) - h @ U.sum(axis=1) - u @ H.sum(axis=1) + n * h @ u)
            count = int((sizes[has] * sizes[later[has]]).sum())
        self._group_sums[key] = (total, count)
        return total, count


def _scaled_sums(
    x: np.ndarray,
    s1: np.ndarray,
    s2: np.ndarray,
    start: int,
    stop: int,
    members: np.ndarray,
    bounds: np.ndarray,
    groups: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the ``groups`` listed (the rows of ``x`` are ordered by group; group ``k`` holds the rows
    ``bounds[k]..bounds[k+1]-1``; ``members`` marks the rows of the listed groups), over the columns
    ``start..stop-1``: ``H_g = sum_i s_i x_i`` (all columns of ``x``; only ``start..stop-1`` are meant),
    ``h_g = sum_i s_i mean_i`` and which rows count, ``s_i`` one over the row's centred length there
    (0 for a row that does not vary). One sparse product; ``s1``, ``s2``: the rows' sums and sums of squares."""
    T = x.shape[1]
    cut = x[:, np.r_[0:start, stop:T]]
    n = stop - start
    sx = s1 - cut.sum(axis=1)
    sxx = s2 - np.einsum("nt,nt->n", cut, cut)
    mean = sx / n
    with np.errstate(invalid="ignore"):
        var = sxx - sx * mean
    ok = np.isfinite(var) & (var > 0) & members
    scale = np.where(ok, 1 / np.sqrt(np.where(ok, var, 1.0)), 0.0)
    rows = np.flatnonzero(members)  # the listed groups' rows, in group order
    indptr = np.r_[0, np.cumsum(bounds[groups + 1] - bounds[groups])]
    m = sparse.csr_matrix((scale[rows], rows, indptr), shape=(len(groups), len(x)))
    return np.asarray(m @ x), m @ mean, ok


def rbar(pairs: ResidualPairs, idx: np.ndarray, wpos: np.ndarray, offset: int, min_overlap: int = 30) -> float:
    """Kolari-Pynnönen ``rbar`` of the events ``idx`` (rows of ``pairs``) whose window dates are at
    the grid positions ``wpos`` (``len(idx)`` x L); the window's first day is ``offset`` columns after
    the estimation start. Pairs need at least ``min_overlap`` common estimation dates unless every
    event has the same ones."""
    n, L = len(wpos), wpos.shape[1]
    if n < 2:
        return float("nan")
    T = pairs.T
    same = pairs.same_dates(idx)
    lo = pairs.lo[idx]
    gapfree = pairs.complete[idx] & (wpos == lo[:, None] + offset + np.arange(L)).all(axis=1)
    total, count = 0.0, 0
    grouped = idx[gapfree]
    if len(grouped) > 1:
        for d in range(L):
            if same or T - d >= min_overlap:
                s, c = pairs.group_sum(grouped, d)
                total += (L - d) / L * s
                count += c
    other = np.flatnonzero(~gapfree)
    if len(other):
        a, b = _pairs_with(wpos, other, gapfree)
        w = (
            np.concatenate(
                [
                    (wpos[a[s : s + PAIR_BLOCK], :, None] == wpos[b[s : s + PAIR_BLOCK], None, :]).sum(axis=(1, 2))
                    for s in range(0, len(a), PAIR_BLOCK)
                ]
                or [np.empty(0)]
            )
            / L
        )
        a, b, w = idx[a[w > 0]], idx[b[w > 0]], w[w > 0]
        r, cnt = pairs.correlations(a, b)
        used = np.isfinite(r) & (same | (cnt >= min_overlap))
        total += float((w[used] * r[used]).sum())
        count += len(a)
    pairs.n_pairs = count
    return total / (n * (n - 1) / 2)


def _pairs_with(wpos: np.ndarray, other: np.ndarray, gapfree: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(a, b)`` of rows of ``wpos`` with at least one of ``other`` (each pair once) whose
    window date ranges overlap."""
    first, last = wpos[:, 0], wpos[:, -1]
    order = np.argsort(first, kind="stable")
    span = int((last - first).max())
    lo = np.searchsorted(first[order], first[other] - span, side="left")
    hi = np.searchsorted(first[order], last[other], side="right")
    counts = hi - lo
    a = np.repeat(other, counts)
    b = order[np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)]
    # drop self-pairs, pairs listed twice (both ends in ``other``) and ranges that do not overlap
    keep = (a != b) & (gapfree[b] | (a < b)) & (first[b] <= last[a]) & (first[a] <= last[b])
    return a[keep], b[keep]


def kp_rbar(fit: BatchFit, pairs: ResidualPairs, idx: np.ndarray, window: Window, min_overlap: int = 30) -> float:
    """Kolari-Pynnönen ``rbar`` of the events ``idx`` over ``window``, as
    :func:`~.statistics.mean_pairwise_correlation` with pair weights: the mean over all
    ``N(N-1)/2`` pairs of ``w_ij r_ij`` (see :func:`rbar`); ``pairs`` caches the correlations of
    ``fit``'s events across windows."""
    cols = fit.window_cols(window)
    return rbar(pairs, idx, fit.arrays.pos[fit.rows[idx], cols], cols.start - fit.est.start, min_overlap)
