"""Trading sessions: map an incident's date (and time) to its day 0 on the listing exchange.

Day 0 is the first session of the exchange in which the market could trade on the news:
news during a session belongs to that session, news after the close (or on a weekend or
holiday) to the next one, news before the open to the same day's session. Sessions come
from ``exchange_calendars``, which knows each exchange's holidays and early closes.

Building a calendar (importing ``exchange_calendars`` and evaluating its holiday rules) takes a third
of a second, more than the rest of the calendar work of an ``analyze``: day 0, the session ranges and
the price checks read only each session's label and close, so those two columns are kept on disk
(:func:`session_table`) next to the price cache, one file per calendar, ``exchange_calendars`` version
and day (the calendar's default end is a year after today), and built from ``exchange_calendars`` only
when missing.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zoneinfo
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .errors import CalendarError

#: Exchanges (MIC) without a calendar of their own, and the calendar used for them.
CALENDAR_ALIASES = {"XNSE": "XBOM", "BATS": "XNYS", "ARCX": "XNYS", "XASE": "XNYS"}


@lru_cache(maxsize=32)
def _calendar(name: str, start_year: int):
    import exchange_calendars as xc  # heavy import, only when a calendar is needed

    try:
        return xc.get_calendar(name, start=f"{start_year}-01-01")
    except xc.errors.InvalidCalendarName as exc:
        raise CalendarError(f"unknown exchange {name!r}; use a MIC code such as XNYS, XNAS, XLON, XPAR, XETR") from exc
    except (pd.errors.OutOfBoundsDatetime, ValueError) as exc:  # e.g. a date in the 1500s
        raise CalendarError(f"the {name} calendar cannot start in {start_year}: {exc}") from exc


class SessionTable(NamedTuple):
    """The sessions of one exchange calendar: what day 0, session ranges and price checks need."""

    name: str  #: the calendar's name (``XNYS``)
    tz: str  #: the exchange's time zone (``America/New_York``)
    sessions: pd.DatetimeIndex  #: tz-naive session labels, ascending
    closes: pd.DatetimeIndex  #: each session's close (UTC)


#: Environment variable of the cache folder (the price cache's; calendars go in ``calendars/`` inside).
_CACHE_DIR_ENV = "INCIDENT_IMPACT_CACHE_DIR"


def _table_path(name: str, start_year: int) -> Path | None:
    """Where the session table of ``name`` from ``start_year`` is kept today, or None when unknown."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        xc_version = version("exchange_calendars")
    except PackageNotFoundError:
        return None
    env = os.environ.get(_CACHE_DIR_ENV)
    if env:
        folder = Path(env) / "calendars"
    else:
        import platformdirs

        folder = Path(platformdirs.user_cache_dir("incident-impact")) / "calendars"
    # exchange_calendars ends a calendar a year after today (GLOBAL_DEFAULT_END): one file per day
    return folder / f"{name}-{start_year}-{dt.date.today():%Y%m%d}-xc{xc_version}.npz"


def _read_table(path: Path, name: str) -> SessionTable | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            sessions, closes, tz = data["sessions"], data["closes"], str(data["tz"])
    except (OSError, ValueError, KeyError, EOFError):  # missing, partial or foreign: build it again
        return None
    if sessions.dtype != np.int64 or closes.shape != sessions.shape or sessions.ndim != 1:
        return None
    return SessionTable(
        name,
        tz,
        pd.DatetimeIndex(sessions.view("datetime64[ns]")),
        pd.DatetimeIndex(closes.view("datetime64[ns]")).tz_localize("UTC"),
    )


def _write_table(path: Path, table: SessionTable, older: str) -> None:
    """Write ``table`` atomically and remove the files matching ``older`` (the same calendar's tables of
    earlier days or versions); a cache that cannot be written is no error (the table is rebuilt next time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    sessions=table.sessions.as_unit("ns").asi8,
                    closes=table.closes.tz_convert("UTC").as_unit("ns").asi8,
                    tz=np.array(table.tz),
                )
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        for stale in path.parent.glob(older):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        pass


@lru_cache(maxsize=32)
def _session_table(name: str, start_year: int) -> SessionTable:
    path = _table_path(name, start_year)
    table = _read_table(path, name) if path is not None else None
    if table is None:
        cal = _calendar(name, start_year)
        sessions = pd.DatetimeIndex(cal.sessions)
        if sessions.tz is not None:
            sessions = sessions.tz_localize(None)
        closes = pd.DatetimeIndex(cal.closes).tz_convert("UTC")
        table = SessionTable(
            cal.name, str(cal.tz), sessions.as_unit("ns").rename(None), closes.as_unit("ns").rename(None)
        )
        if path is not None:
            _write_table(path, table, older=f"{name}-{start_year}-*.npz")
    return table


def _start_year(earliest: dt.date | pd.Timestamp | None) -> int:
    year = 2000 if earliest is None else min(2000, pd.Timestamp(earliest).year - 2)
    return year - year % 10


def session_table(exchange: str, earliest: dt.date | pd.Timestamp | None = None) -> SessionTable:
    """The sessions and closes of the calendar :func:`get_calendar` returns, read from the disk cache
    when there (else built from ``exchange_calendars`` and written there)."""
    name = CALENDAR_ALIASES.get(exchange.upper(), exchange.upper())
    return _session_table(name, _start_year(earliest))


def _session_at(cal, moment: pd.Timestamp) -> pd.Timestamp:
    """The session trading at ``moment`` (UTC), else the next one: ``cal.minute_to_session(moment,
    direction="next")`` read from the session closes (a close minute belongs to the next session, as
    there), without building the calendar's index of every trading minute (half a second per run)."""
    closes = pd.DatetimeIndex(cal.closes)
    i = int(closes.searchsorted(moment, side="right"))
    if i == len(closes):
        last = cal.sessions[-1].date()
        raise CalendarError(f"{moment} is after the last session the {cal.name} calendar knows ({last})")
    return cal.sessions[i]


def get_calendar(exchange: str, earliest: dt.date | pd.Timestamp | None = None):
    """Return the ``exchange_calendars`` calendar of ``exchange`` (a MIC such as ``XNYS``).

    The calendar starts early enough to contain ``earliest`` (default: 20 years back).
    """
    name = CALENDAR_ALIASES.get(exchange.upper(), exchange.upper())
    return _calendar(name, _start_year(earliest))


def day0(
    date: dt.date | str | pd.Timestamp,
    time: dt.time | str | None = None,
    tz: str | None = None,
    exchange: str = "XNYS",
) -> pd.Timestamp:
    """First session of ``exchange`` at or after the incident's date and time.

    Parameters
    ----------
    date : the calendar date on which the news became public.
    time : local time of day (``"16:30"``); without it the whole day counts, so the
        session is ``date`` itself when it is a session, else the next one.
    tz : IANA time zone of ``time`` (default: the exchange's own zone).
    exchange : MIC of the listing exchange.

    Returns
    -------
    pd.Timestamp
        The session label (tz-naive midnight), e.g. ``2017-04-11`` for news on
        2017-04-10 at 16:30 New York time on the NYSE.
    """
    try:
        day = pd.Timestamp(date).normalize()
    except (ValueError, TypeError) as exc:
        raise CalendarError(f"cannot read the date {date!r}; use YYYY-MM-DD") from exc
    cal = session_table(exchange, day)
    if day > cal.sessions[-1]:
        raise CalendarError(f"{day.date()} is beyond the {exchange} calendar (last session {cal.sessions[-1].date()})")
    if time is None:  # exchange_calendars' date_to_session(day, "next"); the table starts years before day
        return cal.sessions[int(cal.sessions.searchsorted(day))]
    if isinstance(time, str):
        try:
            time = dt.time.fromisoformat(time)
        except ValueError as exc:
            raise CalendarError(f"cannot read the time {time!r}; use HH:MM (24-hour clock)") from exc
    if time.tzinfo is not None:  # "16:30+05:00": that offset, unless a zone says otherwise
        if tz:
            raise CalendarError(
                f"the time {time.strftime('%H:%M')} has a UTC offset ({_offset(time)}) and a time zone "
                f"({tz}) is given too; give one of them"
            )
        moment = pd.Timestamp(dt.datetime.combine(day.date(), time))
        return _session_at(cal, moment.tz_convert("UTC"))
    zone_name = tz or str(cal.tz)
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CalendarError(f"unknown time zone {zone_name!r}; use an IANA name such as America/New_York") from exc
    # A wall time that happens twice (clocks going back) or never (clocks jumping ahead) has two
    # readings, PEP 495's fold 0 and 1; it is accepted when both fall in the same session.
    readings = [dt.datetime.combine(day.date(), time, tzinfo=zone).replace(fold=fold) for fold in (0, 1)]
    sessions = [_session_at(cal, pd.Timestamp(r).tz_convert("UTC")) for r in readings]
    if sessions[0] != sessions[1]:
        wall = dt.datetime.combine(day.date(), time)
        gap = readings[0].astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != wall  # never was: no round trip
        what = "does not exist" if gap else "happened twice"
        offsets = " or ".join(_offset(r) for r in readings)
        raise CalendarError(
            f"{time.strftime('%H:%M')} {what} in {zone_name} on {day.date()} "
            f"(daylight saving: UTC{offsets.replace(' or ', ' or UTC')}), "
            f"and the two readings fall in the sessions of {min(sessions).date()} and {max(sessions).date()}; "
            "give the time with its UTC offset, e.g. "
            f"--time {time.strftime('%H:%M')}{_offset(readings[1])} without --tz"
        )
    return sessions[0]


def _offset(value: dt.time | dt.datetime) -> str:
    """``+05:00`` for the UTC offset of ``value``."""
    delta = value.utcoffset()
    if delta is None:
        raise TypeError(f"{value!r} has no UTC offset")
    sign = "-" if delta < dt.timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def session_range(
    exchange: str, day0_session: pd.Timestamp, first: int, last: int
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Calendar dates of the sessions ``first`` and ``last`` relative to ``day0_session``.

    Used to decide which dates of prices an analysis needs; beyond the calendar's end the
    last known session is returned.
    """
    sessions = session_table(exchange, day0_session - pd.Timedelta(days=2 * abs(first) + 30)).sessions
    pos = int(sessions.searchsorted(day0_session))  # a date that is no session counts from the next one
    end = len(sessions) - 1
    lo = sessions[min(max(pos + first, 0), end)]
    hi = sessions[min(pos + last, end)]
    return lo, hi
