"""Events of one firm whose event periods overlap: their CARs share days, so they are not independent.

:func:`find_overlaps` lists every such pair once as a table (``StudyResult.overlaps``);
:func:`overlap_message` is the one line that ``run_study`` issues as a single
:class:`OverlappingEventsWarning` per study (however many pairs) and keeps in ``StudyResult.warnings``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Columns of :func:`find_overlaps`' table.
OVERLAP_COLUMNS = (
    "event_id_1",
    "event_id_2",
    "ticker",
    "start_1",
    "end_1",
    "start_2",
    "end_2",
    "overlap_start",
    "overlap_end",
)

#: Pairs named in the warning's text (the rest are counted).
NAMED_PAIRS = 3


class OverlappingEventsWarning(UserWarning):
    """Events of the same firm have overlapping event periods (one warning per study; the pairs are
    in ``StudyResult.overlaps``)."""


def empty_overlaps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype="datetime64[ns]" if c not in ("event_id_1", "event_id_2", "ticker") else object)
            for c in OVERLAP_COLUMNS
        }
    )


def find_overlaps(
    event_ids: Sequence[str],
    tickers: Sequence[str],
    starts: Sequence[pd.Timestamp] | pd.DatetimeIndex,
    ends: Sequence[pd.Timestamp] | pd.DatetimeIndex,
) -> pd.DataFrame:
    """Every pair of events of one firm whose event periods (first to last date, inclusive) overlap.

    One row per pair: ``event_id_1, event_id_2, ticker`` (the earlier-starting event first),
    both periods (``start_1, end_1, start_2, end_2``) and the dates they share
    (``overlap_start, overlap_end``); rows in the order of the events given (by the first event of each pair).
    """
    n = len(event_ids)
    if n < 2:
        return empty_overlaps()
    start = pd.DatetimeIndex(np.asarray(starts)).as_unit("ns").to_numpy()
    end = pd.DatetimeIndex(np.asarray(ends)).as_unit("ns").to_numpy()
    firm = pd.factorize(np.asarray(tickers, dtype=object))[0]
    ids = np.asarray(event_ids, dtype=object)
    order = np.lexsort((ids, end, start, firm))
    day = np.int64(86_400 * 10**9)  # whole days keep firm * span far from int64 overflow
    f = firm[order].astype(np.int64)
    s, e = start[order].astype(np.int64) // day, end[order].astype(np.int64) // day
    # within a firm (sorted by start) the events starting on or before event i's end follow it contiguously
    span = int(e.max() - s.min()) + 1
    key = f * span + (s - s.min())
    stop = np.searchsorted(key, f * span + (e - s.min()), side="right")
    counts = stop - np.arange(n) - 1
    if not counts.any():
        return empty_overlaps()
    first = np.repeat(np.arange(n), counts)
    second = np.arange(len(first)) - np.repeat(np.cumsum(counts) - counts, counts) + first + 1
    a, b = order[first], order[second]
    rows = np.lexsort((b, a))  # in the order of the events given (by the earlier-starting event of each pair)
    a, b = a[rows], b[rows]
    frame = pd.DataFrame(
        {
            "event_id_1": ids[a],
            "event_id_2": ids[b],
            "ticker": np.asarray(tickers, dtype=object)[a],
            "start_1": start[a],
            "end_1": end[a],
            "start_2": start[b],
            "end_2": end[b],
            "overlap_start": np.maximum(start[a], start[b]),
            "overlap_end": np.minimum(end[a], end[b]),
        }
    )
    return frame


def overlap_message(overlaps: pd.DataFrame) -> str | None:
    """The one warning of a study with overlapping event periods (None when there are none)."""
    n = len(overlaps)
    if not n:
        return None
    named = [
        f"{r['event_id_1']} and {r['event_id_2']} of {r['ticker']} "
        f"({pd.Timestamp(r['overlap_start']).date()}..{pd.Timestamp(r['overlap_end']).date()})"
        for r in overlaps.head(NAMED_PAIRS).to_dict("records")
    ]
    more = f" and {n - NAMED_PAIRS} more" if n > NAMED_PAIRS else ""
    pairs = "1 pair of events of one firm has" if n == 1 else f"{n:,} pairs of events of one firm have"
    return (
        f"{pairs} overlapping event periods: {'; '.join(named)}{more}; their CARs are not independent "
        "(every pair: result.overlaps)"
    )
