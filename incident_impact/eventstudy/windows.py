"""Relative-day indexing and event/estimation windows.

Relative day ``k`` is the ``k``-th session after day 0 among the dates on which both the
stock and the benchmark have a return (the inner join); day 0 itself is the first joined
date on or after the event's session. Windows are closed intervals ``(start, end)`` of
relative days, so ``(-1, 1)`` holds three sessions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError

Window = tuple[int, int]

DEFAULT_ESTIMATION: Window = (-250, -11)
DEFAULT_WINDOWS: tuple[Window, ...] = ((0, 0), (0, 1), (-1, 1), (0, 5), (-5, 5))
MIN_ESTIMATION_OBS = 120

_WINDOW_RE = re.compile(r"^\s*[\[(]?\s*([+-]?\d+)\s*(?:[,:;]|\.\.)\s*([+-]?\d+)\s*[\])]?\s*$")


#: Largest |relative day| a window may name (about 400 years of sessions).
MAX_RELATIVE_DAY = 100_000
_INT_RE = re.compile(r"^\s*[+-]?\d+\s*$")


def _window_end(value: object, text: object) -> int:
    """One end of a window: a whole number (int, integral float, or digits)."""
    if isinstance(value, (bool, np.bool_)):
        raise IncidentImpactError(f"cannot read the window {text!r}: its ends must be whole numbers of sessions")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and _INT_RE.match(value):
        return int(value)
    raise IncidentImpactError(
        f"cannot read the window {text!r}: its ends must be whole numbers of sessions, "
        f"not {value!r}; write it as START,END, e.g. -1,+1"
    )


def parse_window(text: str | Window) -> Window:
    """Read a window such as ``"-1,+1"``, ``"[-1,1]"``, ``"0:5"``, ``"0"`` (one day) or ``(-1, 1)``.

    Raises :class:`~incident_impact.errors.IncidentImpactError` when the text is not a window (a
    pair of whole numbers), its start lies after its end, or an end lies beyond
    ±``MAX_RELATIVE_DAY`` sessions.
    """
    if isinstance(text, (tuple, list, np.ndarray)):
        if len(text) != 2:
            raise IncidentImpactError(
                f"cannot read the window {tuple(text)!r}: a window is a pair (START, END), e.g. (-1, 1)"
            )
        start, end = (_window_end(v, tuple(text)) for v in text)
    elif isinstance(text, (int, np.integer)) and not isinstance(text, (bool, np.bool_)):
        start = end = int(text)
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
    if max(abs(start), abs(end)) > MAX_RELATIVE_DAY:
        raise IncidentImpactError(
            f"window ({start}, {end}) reaches beyond ±{MAX_RELATIVE_DAY:,} sessions (about 400 years); "
            "relative days count trading sessions from day 0"
        )
    return start, end


def normalize_windows(windows: Iterable[Window | str] | Window | str) -> tuple[Window, ...]:
    """The event windows as a tuple of ``(start, end)`` pairs: each read by :func:`parse_window`,
    duplicates dropped (first occurrence kept, order kept). One window may be given alone
    (``(0, 1)`` or ``"0,1"``). Raises :class:`~incident_impact.errors.IncidentImpactError` when
    none is left or one cannot be read."""
    if isinstance(windows, str) or (
        isinstance(windows, tuple) and len(windows) == 2 and all(isinstance(v, (int, np.integer)) for v in windows)
    ):
        windows = [windows]  # type: ignore[list-item]
    try:
        items: list[Any] = list(windows)  # type: ignore[arg-type]
    except TypeError:
        raise IncidentImpactError(f"cannot read the windows {windows!r}: give a list of (START, END) pairs") from None
    out = tuple(dict.fromkeys(parse_window(w) for w in items))
    if not out:
        raise IncidentImpactError("give at least one event window")
    return out


_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\S.*)?$")


def event_session(value, label: str = "event") -> pd.Timestamp:
    """The session date of an event date as given to the library (``event_study`` and ``run_study``).

    The local-date rule: the date as written, in its own time zone, is the session date
    (``"2017-04-10T23:30:00-04:00"`` and a tz-aware Timestamp of that moment are 2017-04-10; no
    conversion to another zone). Accepted: ISO strings ``YYYY-MM-DD`` (optionally with a time and
    offset), ``Timestamp``, ``datetime``, ``date`` and ``numpy.datetime64``. Anything else (``10/04/2017``:
    April or October?, numbers, empty values) raises :class:`~incident_impact.errors.IncidentImpactError`
    naming ``label``. Moving a date that is no session to the next session is the caller's job.
    """
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)) or value is pd.NaT:
        raise IncidentImpactError(f"{label}: the event date is missing")
    if isinstance(value, str):
        text = value.strip()
        match = _ISO_PREFIX.match(text)
        if not text:
            raise IncidentImpactError(f"{label}: the event date is missing")
        if not match:
            raise IncidentImpactError(
                f"{label}: cannot read the event date {value!r}; use YYYY-MM-DD "
                "(a date such as 10/04/2017 could be April or October)"
            )
        try:
            pd.Timestamp(text)  # the time and offset must be readable too
            day = pd.Timestamp(dt.date.fromisoformat(match.group(1))).as_unit("ns")
        except (ValueError, TypeError, OverflowError) as exc:
            raise IncidentImpactError(
                f"{label}: cannot read the event date {value!r} ({exc}); use YYYY-MM-DD"
            ) from None
        return day
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, np.datetime64)):
        try:
            day = pd.Timestamp(value)
            if pd.isna(day):
                raise IncidentImpactError(f"{label}: the event date is missing")
            day = day.as_unit("ns")
        except (ValueError, TypeError, OverflowError) as exc:
            raise IncidentImpactError(f"{label}: cannot read the event date {value!r} ({exc})") from None
        if day.tz is not None:  # the local date, not the date in UTC
            day = day.tz_localize(None)
        return day.normalize()
    raise IncidentImpactError(
        f"{label}: cannot read the event date {value!r}; give a YYYY-MM-DD string, a Timestamp or a date"
    )


def event_sessions(values: pd.Series, event_ids: pd.Series) -> pd.Series:
    """:func:`event_session` of every value (tz-naive midnight Timestamps; a datetime column fast);
    an error names the event (``event <id>``)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if values.isna().any():
            first = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise IncidentImpactError(f"event {event_ids.iloc[first]}: the event date is missing")
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.dt.normalize().astype("datetime64[ns]")
    return pd.Series(
        [event_session(v, f"event {i}") for v, i in zip(values, event_ids, strict=True)],
        index=values.index,
        dtype="datetime64[ns]",
    )


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
