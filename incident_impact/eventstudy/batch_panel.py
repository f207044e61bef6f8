"""Batch engine, step 1: place every event on one relative-day axis (panel placement).

Every event becomes one row of (events x relative days) arrays over ``k = lo..hi`` (``lo`` the
estimation start, ``hi`` the last event-window day) with a mask of the days its joined series
has (relative day ``k`` is the ``k``-th joined session after day 0, :mod:`.windows`): a day
belongs to an event when its return and every benchmark / factor value the model uses are finite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import IncidentImpactError
from .inputs import check_series
from .models import NormalReturnModel

#: Integer type of the panel positions (``EventArrays.pos``): a date grid is far shorter than 2^31 sessions.
POS = np.int32


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


def panel_columns(model: NormalReturnModel) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for c in (model.offset, *model.regressors) if c))


def locate(
    wide: pd.DataFrame,
    aux: dict[str, np.ndarray],
    aux_key: np.ndarray,
    tickers: np.ndarray,
    event_dates: np.ndarray,
    lo: int,
    hi: int,
) -> tuple[EventArrays, np.ndarray]:
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
    sources = {
        "return": (R, wide.columns.get_indexer(pd.Index(tickers))),
        **{name: (v, aux_key) for name, v in aux.items()},
    }
    gp = np.searchsorted(grid, event_dates)
    rel = np.arange(lo, hi + 1, dtype=POS)
    a, b = min(lo, -1), max(hi, 0)
    inside = np.flatnonzero((gp + a >= 0) & (gp + b < G))
    near = {name: _runs(v, gp[inside] + a, c[inside], b - a + 1) for name, (v, c) in sources.items()}
    # a row is whole when all its values are finite: its sum is then finite (one pass, no mask); rows whose sum
    # is not (a missing value, or an overflow) are checked value by value
    with np.errstate(invalid="ignore", over="ignore"):
        whole = np.isfinite(sum(v.sum(axis=1) for v in near.values()))
    if not whole.all():
        doubt = np.flatnonzero(~whole)
        whole[doubt] = np.logical_and.reduce([np.isfinite(v[doubt]) for v in near.values()]).all(axis=1)
    clean = inside[whole]
    if len(clean) == n:
        pos = gp.astype(POS)[:, None] + rel
    else:
        pos = np.full((n, len(rel)), -1, dtype=POS)
        pos[clean] = gp[clean].astype(POS)[:, None] + rel
    day0 = gp.copy()
    dirty = np.setdiff1d(np.arange(n), clean) if len(clean) < n else clean[:0]
    unplaced = np.zeros(n, dtype=bool)
    if len(dirty):
        cols = sources["return"][1]
        in_aux = np.logical_and.reduce([np.isfinite(v) for v in aux.values()]) if aux else np.ones((G, 1), dtype=bool)
        groups = pd.Series(dirty).groupby([cols[dirty], aux_key[dirty]]).agg(list)
        for key, listed in groups.items():
            c, k = cast(tuple[int, int], key)  # (returns column, benchmark column)
            members = np.asarray(listed)
            joined = np.flatnonzero(np.isfinite(R[:, c]) & in_aux[:, k])
            if not len(joined):
                unplaced[members] = True
                continue
            r0 = np.searchsorted(joined, gp[members])
            unplaced[members] = (r0 >= len(joined)) | (event_dates[members] < grid[joined[0]])
            day0[members] = joined[np.minimum(r0, len(joined) - 1)]
            ranks = r0[:, None] + rel
            inside_data = (ranks >= 0) & (ranks < len(joined))
            pos[members] = np.where(inside_data, joined[np.clip(ranks, 0, len(joined) - 1)], -1)
    if len(clean) == n and (a, b) == (lo, hi):
        return EventArrays(lo, hi, near, pos, day0, grid), unplaced
    columns = {}
    for name, (values, col) in sources.items():
        out = np.full(pos.shape, np.nan)
        out[clean] = near[name][whole][:, lo - a : hi - a + 1]
        if len(dirty):
            out[dirty] = _gather(values, pos[dirty], col[dirty])
        columns[name] = out
    return EventArrays(lo, hi, columns, pos, day0, grid), unplaced


def _runs(values: np.ndarray, start: np.ndarray, col: np.ndarray, width: int) -> np.ndarray:
    """``values[start_i + 0..width-1, col_i]`` for every ``i`` (one row each): whole runs of a column taken
    through a strided view (a run is one contiguous block when ``values`` is column-major, as a wide
    frame's array is), about three times faster than indexing every value."""
    if len(values) < width:
        return np.empty((0, width))
    return sliding_window_view(values, width, axis=0)[start, col]


def _gather(values: np.ndarray, pos: np.ndarray, col: np.ndarray) -> np.ndarray:
    out = values[np.maximum(pos, 0), col[:, None]]
    out[pos < 0] = np.nan
    return out


def panel_aux(
    model: NormalReturnModel,
    grid: pd.DatetimeIndex,
    benches: dict[str, pd.Series],
    keys: list,
    factors: pd.DataFrame | None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The model's benchmark / factor columns on ``grid`` (one column per benchmark key) and each
    event's column; :class:`BatchUnsupported` when a series is malformed (the loop reports it)."""
    names = panel_columns(model)
    if not model.needs_benchmark:
        keys = [None] * len(keys)
    position = {k: i for i, k in enumerate(dict.fromkeys(k for k in keys if k is not None))}
    order = list(position) or [None]
    aux_key = np.fromiter((position.get(k, 0) for k in keys), dtype=np.int64, count=len(keys))
    aux = {}
    try:
        for name in names:
            if name == "benchmark":
                series = [
                    check_series(benches[k], "benchmark returns") if k is not None else pd.Series(np.nan, grid)
                    for k in order
                ]
            elif factors is None or name not in factors.columns:
                raise BatchUnsupported(f"no factor column {name}")
            else:
                series = [check_series(factors[name], f"factor {name}")]
            aux[name] = np.column_stack([s.reindex(grid).to_numpy(float) for s in series])
    except IncidentImpactError as exc:
        raise BatchUnsupported(str(exc)) from None
    return aux, aux_key
