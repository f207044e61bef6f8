"""Sales series: reading CSV files, checking the spacing of their dates, placing the incident.

A sales table is a :class:`pandas.DataFrame` of numeric value columns (the sales series and any
control series) on a *regular* index: a :class:`~pandas.DatetimeIndex` with a ``freq`` (daily,
weekly, monthly, quarterly or annual; labels are period starts such as ``2017-04-01`` or period
ends such as ``2017-04-30`` or the week's last day) or plain period numbers ``0, 1, 2, ...``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np
import pandas as pd

from ..errors import SalesDataError

_Frame = TypeVar("_Frame", pd.DataFrame, pd.Series)

#: Frequency letter -> seasonal period used by default (None: no seasonal term).
SEASONAL_PERIODS = {"D": 7, "W": 365.25 / 7, "M": 12, "Q": 4, "Y": None, None: None}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_DATE_COLUMNS = ("date", "week", "month", "period", "quarter_start", "ds")


@dataclass(frozen=True)
class Frequency:
    """The spacing of a regular index: ``letter`` is ``D, W, M, Q, Y`` or None (period numbers);
    ``starts`` tells whether date labels are period starts (``MS``, ``QS``, ``YS``) or ends."""

    letter: str | None
    rule: str | None
    starts: bool

    @property
    def seasonal_period(self) -> float | None:
        return SEASONAL_PERIODS[self.letter]


def _candidates(first: pd.Timestamp) -> list[str]:
    month, weekday = _MONTHS[first.month - 1], _WEEKDAYS[first.weekday()]
    return ["D", f"W-{weekday}", "MS", "ME", f"QS-{month}", f"QE-{month}", f"YS-{month}", f"YE-{month}"]


def frequency_of(index: pd.Index) -> Frequency:
    """The :class:`Frequency` of a regular ``index``; :class:`SalesDataError` naming the first gap otherwise."""
    if len(index) < 3:
        raise SalesDataError(f"a sales series needs at least 3 dated values, got {len(index)}")
    if index.has_duplicates:
        raise SalesDataError(
            f"duplicate dates in the sales data: {sorted(set(index[index.duplicated()].astype(str)))[:3]}"
        )
    if not index.is_monotonic_increasing:
        raise SalesDataError("the sales dates are not in increasing order")
    if not isinstance(index, pd.DatetimeIndex):
        values = np.asarray(index)
        if not np.issubdtype(values.dtype, np.integer):
            raise SalesDataError(f"the sales index must hold dates or period numbers, not {values.dtype}")
        gaps = np.flatnonzero(np.diff(values) != 1)
        if gaps.size:
            raise SalesDataError(
                f"irregular spacing: period {values[gaps[0] + 1]} follows {values[gaps[0]]} (expected steps of 1)"
            )
        return Frequency(None, None, True)
    for rule in _candidates(index[0]):
        if pd.date_range(index[0], periods=len(index), freq=rule).equals(index.normalize()):
            letter = rule[0]
            return Frequency(letter, rule, starts=rule in ("MS", "D") or rule[:2] in ("QS", "YS"))
    raise SalesDataError(_first_gap(index.normalize()))


_STEP_WORDS = {"D": "1 day", "W": "7 days", "M": "1 month", "Q": "1 quarter", "Y": "1 year"}


def _period_name(stamp: pd.Timestamp, letter: str) -> str:
    """How a period is called: ``2020-06`` (month), ``2020Q2``, ``2020``, or the date (day, week)."""
    if letter == "M":
        return stamp.strftime("%Y-%m")
    if letter == "Q":
        return f"{stamp.year}Q{(stamp.month - 1) // 3 + 1}"
    if letter == "Y":
        return str(stamp.year)
    return stamp.date().isoformat()


def _first_gap(index: pd.DatetimeIndex) -> str:
    """The message for an irregular ``index``: the spacing that most consecutive dates follow (the step of
    each candidate rule counted over all pairs), its first break, and the missing period(s) when dates were
    skipped."""
    pairs = list(zip(index[:-1], index[1:], strict=True))
    offsets = [pd.tseries.frequencies.to_offset(r) for r in dict.fromkeys(r for f in index[:3] for r in _candidates(f))]
    # max() keeps the first of equally good rules, as the candidates are ordered
    best = max(offsets, key=lambda offset: sum(b == a + offset for a, b in pairs))
    letter = best.rule_code[0] if best.rule_code[0] in "DWMQY" else "D"
    bad = next(i for i, (a, b) in enumerate(pairs) if b != a + best)
    before, after = index[bad], index[bad + 1]
    days = (after - before).days
    text = (
        f"irregular spacing: {after.date()} follows {before.date()} ({days} days; the usual step is "
        f"{_STEP_WORDS[letter]})"
    )
    missing: list[pd.Timestamp] = []
    expected = before + best
    while expected < after and len(missing) < 4:
        missing.append(expected)
        expected = expected + best
    if missing:
        names = [_period_name(m, letter) for m in missing[:3]]
        more = " and more" if len(missing) > 3 else ""
        one = len(missing) == 1
        text += (
            f": the period{'' if one else 's'} {', '.join(names)}{more} between them {'is' if one else 'are'} missing"
        )
    return text + ". Use daily, weekly, monthly, quarterly or annual data without gaps."


def regular(frame: _Frame) -> _Frame:
    """``frame`` with its index checked (:func:`frequency_of`) and, for dates, its ``freq`` set."""
    freq = frequency_of(frame.index)
    if freq.rule is None:
        return frame.set_axis(pd.RangeIndex(frame.index[0], frame.index[-1] + 1, name=frame.index.name))
    dates = cast(pd.DatetimeIndex, frame.index)  # a dated index: frequency_of gives a rule only for a DatetimeIndex
    index = pd.DatetimeIndex(dates.normalize(), freq=freq.rule, name=frame.index.name)
    return frame.set_axis(index)


def _parse_dates(values: pd.Series, column: str) -> pd.DatetimeIndex:
    parsed = pd.to_datetime(values.astype(str).str.strip(), errors="coerce", format="mixed")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        raise SalesDataError(f"unparseable date {values.iloc[bad[0]]!r} in column {column!r}, data row {bad[0] + 1}")
    return pd.DatetimeIndex(parsed, name="date")


def _year_index(frame: pd.DataFrame, cols: dict[str, str]) -> pd.DatetimeIndex:
    year = pd.to_numeric(frame[cols["year"]], errors="coerce")
    sub_name = next((c for c in ("month", "quarter") if c in cols), None)
    sub = pd.to_numeric(frame[cols[sub_name]], errors="coerce") if sub_name else pd.Series(1, index=frame.index)
    limit = {"month": 12, "quarter": 4, None: 1}[sub_name]
    bad = np.flatnonzero(
        (year.isna() | sub.isna() | (year % 1 != 0) | (sub % 1 != 0) | (sub < 1) | (sub > limit)).to_numpy()
    )
    if bad.size:
        raise SalesDataError(
            f"unparseable year/{sub_name or 'year'} in data row {bad[0] + 1}: {frame.iloc[bad[0]].to_dict()}"
        )
    month = sub if sub_name == "month" else 3 * (sub - 1) + 1 if sub_name == "quarter" else sub
    return pd.DatetimeIndex(
        pd.to_datetime({"year": year.astype(int), "month": month.astype(int), "day": 1}), name="date"
    )


def _decimal_year_index(values: pd.Series, column: str) -> pd.DatetimeIndex:
    """``1980.0833`` -> February 1980: the fraction picks the month (12 steps a year) or quarter."""
    years = pd.to_numeric(values, errors="coerce")
    if years.isna().any():
        row = int(np.flatnonzero(years.isna().to_numpy())[0])
        raise SalesDataError(f"unparseable decimal year {values.iloc[row]!r} in column {column!r}, data row {row + 1}")
    steps = 12 if len(years) > 1 and np.median(np.diff(years)) < 0.2 else 4
    whole = np.floor(years + 1e-6)
    k = np.round((years - whole) * steps).astype(int)
    month = 1 + k * (12 // steps)
    return pd.DatetimeIndex(pd.to_datetime({"year": whole.astype(int), "month": month, "day": 1}), name="date")


def read_sales_csv(path: str | os.PathLike[str], *, frequency: str | None = None) -> pd.DataFrame:
    """Read a sales CSV into a regular, date-indexed frame of numeric columns.

    The time column is the first of: ``year`` (with an optional ``month`` or ``quarter``
    column), ``date``/``week``/``month``/``period``/``ds`` (any date format pandas parses),
    ``time`` (decimal year, e.g. ``1980.0833`` = February 1980) or ``t`` (period numbers).
    Every other column must be numeric (empty cells are NaN). ``frequency`` (``D, W, M, Q,
    Y``) is checked against the spacing found. Raises :class:`SalesDataError`.
    """
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise SalesDataError(f"cannot read sales file {os.fspath(path)}: {exc}") from None
    if frame.empty:
        raise SalesDataError(f"sales file {os.fspath(path)} has no data rows")
    cols = {str(c).strip().lower(): c for c in frame.columns}
    date_col = next((cols[c] for c in _DATE_COLUMNS if c in cols), None)
    index: pd.Index
    if "year" in cols:
        index = _year_index(frame, cols)
        used = [cols[c] for c in ("year", "month", "quarter") if c in cols]
    elif date_col is not None:
        index, used = _parse_dates(frame[date_col], str(date_col)), [date_col]
    elif "time" in cols:
        index, used = _decimal_year_index(frame[cols["time"]], str(cols["time"])), [cols["time"]]
    elif "t" in cols:
        numbers = pd.to_numeric(frame[cols["t"]], errors="coerce")
        if numbers.isna().any() or (numbers % 1 != 0).any():
            raise SalesDataError(f"column {cols['t']!r} must hold whole period numbers")
        index, used = pd.Index(numbers.astype(np.int64), name="t"), [cols["t"]]
    else:
        raise SalesDataError(
            f"sales file {os.fspath(path)} has no time column: name one 'date', 'year' (+ 'month' or 'quarter'), "
            f"'time' (decimal year) or 't' (period number); columns are {list(frame.columns)}"
        )
    values = frame.drop(columns=used)
    if values.shape[1] == 0:
        raise SalesDataError(f"sales file {os.fspath(path)} has no value column besides the time column")
    numeric = values.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & values.notna()
    if bad.any().any():
        col = bad.any().idxmax()
        row = int(np.flatnonzero(bad[col].to_numpy())[0])
        raise SalesDataError(f"non-numeric value {values[col].iloc[row]!r} in column {col!r}, data row {row + 1}")
    numeric.columns = [str(c).strip() for c in numeric.columns]
    table = regular(numeric.set_axis(index).sort_index())
    found = frequency_of(table.index).letter
    if frequency is not None and frequency.upper()[0] != found:
        raise SalesDataError(
            f"--frequency {frequency} does not match the data, which are spaced {found or 'by period number'}"
        )
    return table


def post_start(index: pd.Index, when: object) -> int:
    """Position of the first post-incident period in a regular ``index``.

    For dates, the period that *contains* ``when`` is the first post period (period-start
    labels: the last label <= ``when``; period-end labels: the first label >= ``when``; a whole
    number is a year); for period numbers, the first number >= ``when``.
    """
    freq = frequency_of(index)
    if freq.rule is None:
        if isinstance(when, (str, dt.date)) and not str(when).lstrip("-").isdigit():
            raise SalesDataError(
                f"the sales data are numbered periods, so the incident must be a period number, not {when!r}"
            )
        return int(np.searchsorted(np.asarray(index), int(str(when)), side="left"))
    if isinstance(when, (int, np.integer)):
        if not 1000 <= when <= 9999:
            raise SalesDataError(f"the sales data are dated, so the incident must be a date (or a year), not {when}")
        when = f"{when}-01-01"
    try:
        # any value: pd.Timestamp's TypeError/ValueError becomes the SalesDataError below
        stamp = pd.Timestamp(cast(str, when))
    except (TypeError, ValueError):
        raise SalesDataError(f"cannot read the incident date {when!r}") from None
    if freq.starts:
        if stamp >= index[-1] + pd.tseries.frequencies.to_offset(freq.rule):
            return len(index)
        return int(index.searchsorted(stamp, side="right")) - 1
    return int(index.searchsorted(stamp, side="left"))
