"""Trading sessions: map an incident's date (and time) to its day 0 on the listing exchange.

Day 0 is the first session of the exchange in which the market could trade on the news:
news during a session belongs to that session, news after the close (or on a weekend or
holiday) to the next one, news before the open to the same day's session. Sessions come
from ``exchange_calendars``, which knows each exchange's holidays and early closes.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

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
        raise CalendarError(
            f"unknown exchange {name!r}; use a MIC code such as XNYS, XNAS, XLON, XPAR, XETR"
        ) from exc
    except (pd.errors.OutOfBoundsDatetime, ValueError) as exc:  # e.g. a date in the 1500s
        raise CalendarError(f"the {name} calendar cannot start in {start_year}: {exc}") from exc


def get_calendar(exchange: str, earliest: dt.date | pd.Timestamp | None = None):
    """Return the ``exchange_calendars`` calendar of ``exchange`` (a MIC such as ``XNYS``).

    The calendar starts early enough to contain ``earliest`` (default: 20 years back).
    """
    name = CALENDAR_ALIASES.get(exchange.upper(), exchange.upper())
    year = 2000 if earliest is None else min(2000, pd.Timestamp(earliest).year - 2)
    return _calendar(name, year - year % 10)


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
    cal = get_calendar(exchange, day)
    if day > cal.last_session:
        raise CalendarError(f"{day.date()} is beyond the {exchange} calendar (last session {cal.last_session.date()})")
    if time is None:
        return cal.date_to_session(day, direction="next")
    if isinstance(time, str):
        try:
            time = dt.time.fromisoformat(time)
        except ValueError as exc:
            raise CalendarError(f"cannot read the time {time!r}; use HH:MM (24-hour clock)") from exc
    zone = tz or str(cal.tz)
    try:
        moment = pd.Timestamp.combine(day.date(), time).tz_localize(zone)
    except Exception as exc:  # unknown zone names raise several different errors
        raise CalendarError(f"unknown time zone {zone!r}; use an IANA name such as America/New_York") from exc
    return cal.minute_to_session(moment.tz_convert("UTC"), direction="next")


def session_range(exchange: str, day0_session: pd.Timestamp, first: int, last: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Calendar dates of the sessions ``first`` and ``last`` relative to ``day0_session``.

    Used to decide which dates of prices an analysis needs; beyond the calendar's end the
    last known session is returned.
    """
    cal = get_calendar(exchange, day0_session - pd.Timedelta(days=2 * abs(first) + 30))
    sessions = cal.sessions
    pos = int(sessions.searchsorted(day0_session))  # a date that is no session counts from the next one
    end = len(sessions) - 1
    lo = sessions[min(max(pos + first, 0), end)]
    hi = sessions[min(pos + last, end)]
    return lo, hi
