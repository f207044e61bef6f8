"""Relative-day indexing and event/estimation windows.

Relative day ``k`` is the ``k``-th session after day 0 among the dates on which both the
stock and the benchmark have a return (the inner join); day 0 itself is the first joined
date on or after the event's session. Windows are closed intervals ``(start, end)`` of
relative days, so ``(-1, 1)`` holds three sessions.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError

Window = tuple[int, int]

DEFAULT_ESTIMATION: Window = (-250, -11)
DEFAULT_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (-1, 1), (0, 5), (-5, 5))
MIN_ESTIMATION_OBS = 120

_WINDOW_RE = re.compile(r"^\s*[\[(]?\s*([+-]?\d+)\s*(?:[,:;]|\.\.)\s*([+-]?\d+)\s*[\])]?\s*$")


def parse_window(text: str | Window) -> Window:
    """Read a window such as ``"-1,+1"``, ``"[-1,1]"``, ``"0:5"`` or ``"0"`` (one day).

    Raises :class:`~incident_impact.errors.IncidentImpactError` when the text is not a window
    or its start lies after its end.
    """
    if isinstance(text, tuple):
        start, end = (int(v) for v in text)
    else:
        match = _WINDOW_RE.match(str(text))
        if match:
            start, end = int(match.group(1)), int(match.group(2))
        elif re.fullmatch(r"\s*[+-]?\d+\s*", str(text)):
            start = end = int(text)
        else:
            raise IncidentImpactError(f"cannot read the window {text!r}; write it as START,END, e.g. -1,+1")
    if start > end:
        raise IncidentImpactError(f"window ({start}, {end}) starts after it ends")
    return start, end


def format_window(window: Window) -> str:
    """``(-1, 1)`` -> ``"[-1,+1]"`` (the label used in tables and reports)."""
    start, end = window

    def fmt(k: int) -> str:
        return f"{k:+d}" if k else "0"

    return f"[{fmt(start)},{fmt(end)}]"


def datetime_indexed(obj, what: str):
    """``obj`` (Series or DataFrame) with a tz-naive DatetimeIndex, or a clear error."""
    if not isinstance(obj.index, pd.DatetimeIndex):
        try:
            obj = obj.set_axis(pd.DatetimeIndex(pd.to_datetime(obj.index)))
        except (ValueError, TypeError) as exc:
            raise IncidentImpactError(f"{what} must be indexed by dates") from exc
    if obj.index.tz is not None:
        obj = obj.tz_localize(None)
    return obj


def relative_days(index: pd.DatetimeIndex, day0: pd.Timestamp) -> tuple[np.ndarray, pd.Timestamp]:
    """Relative day of every date in the sorted ``index`` and the date that is day 0.

    Day 0 is the first date in ``index`` on or after ``day0``. Raises when the event lies
    after the last date.
    """
    pos = int(index.searchsorted(day0, side="left"))
    if pos >= len(index):
        raise IncidentImpactError(
            f"the event session {pd.Timestamp(day0).date()} is after the last date with returns "
            f"({index[-1].date() if len(index) else 'none'})"
        )
    return np.arange(len(index)) - pos, index[pos]
