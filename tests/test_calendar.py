"""Day 0: the first session at or after the news, on the listing exchange's calendar."""

from __future__ import annotations

import pandas as pd
import pytest

from incident_impact.calendar import day0, session_range
from incident_impact.errors import CalendarError


@pytest.mark.parametrize(
    "args, expected",
    [
        (("2017-04-10",), "2017-04-10"),                                 # a Monday session
        (("2017-04-10", "16:30", "America/New_York"), "2017-04-11"),     # after the close
        (("2017-04-10", "15:59", "America/New_York"), "2017-04-10"),     # during the session
        (("2017-04-10", "08:00", "America/New_York"), "2017-04-10"),     # before the open
        (("2017-04-08",), "2017-04-10"),                                 # Saturday
        (("2018-09-03",), "2018-09-04"),                                 # Labor Day
        (("2010-02-13",), "2010-02-16"),                                 # Saturday before Presidents Day
        (("2017-04-10", "21:00", "Europe/Paris"), "2017-04-10"),         # 15:00 in New York
        (("2017-04-10", "22:30", "Europe/Paris"), "2017-04-11"),         # 16:30 in New York
        (("2018-11-23", "13:30", "America/New_York"), "2018-11-26"),     # after the early close (13:00)
        (("2018-11-23", "12:30", "America/New_York"), "2018-11-23"),     # before the early close
    ],
)
def test_day0_on_the_nyse(args, expected):
    assert day0(*args) == pd.Timestamp(expected)


def test_day0_uses_the_listing_exchange():
    # 20:00 New York is 02:00 next day in Paris: the next Paris session
    assert day0("2019-02-06", "20:00", "America/New_York", "XPAR") == pd.Timestamp("2019-02-07")
    # Whit Monday 2018 is a holiday in Frankfurt, not in New York
    assert day0("2018-05-21", exchange="XETR") == pd.Timestamp("2018-05-22")
    assert day0("2018-05-21", exchange="XNYS") == pd.Timestamp("2018-05-21")
    # NSE India uses the Bombay calendar
    assert day0("2024-11-23", exchange="XNSE") == pd.Timestamp("2024-11-25")


def test_old_dates_are_inside_the_calendar():
    assert day0("1995-07-04") == pd.Timestamp("1995-07-05")


@pytest.mark.parametrize(
    "args, message",
    [
        (("2017-04-10", None, None, "XXXX"), "unknown exchange 'XXXX'"),
        (("2017-04-10", "25:99"), "cannot read the time '25:99'"),
        (("2017-04-10", "10:00", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
        (("not a date",), "cannot read the date"),
        (("2199-01-01",), "beyond the XNYS calendar"),
    ],
)
def test_bad_input(args, message):
    with pytest.raises(CalendarError, match=message):
        day0(*args)


def test_session_range_counts_sessions():
    lo, hi = session_range("XNYS", pd.Timestamp("2017-04-10"), -2, 2)
    # Good Friday 2017-04-14 is a holiday: +2 sessions after Monday is Wednesday
    assert (lo, hi) == (pd.Timestamp("2017-04-06"), pd.Timestamp("2017-04-12"))
    lo, hi = session_range("XNYS", pd.Timestamp("2017-04-13"), 0, 1)
    assert hi == pd.Timestamp("2017-04-17")


# ----------------------------------------------------------------- daylight saving and UTC offsets (issue 12)
@pytest.mark.parametrize(
    "args, expected",
    [
        (("2017-11-05", "01:30", "America/New_York"), "2017-11-06"),  # happens twice (EDT, EST): both on Sunday
        (("2017-03-12", "02:30", "America/New_York"), "2017-03-13"),  # never happens (02:00 -> 03:00): both on Sunday
        (("2017-04-10", "16:30+05:00"), "2017-04-10"),  # 11:30 UTC = 07:30 New York, before the open
        (("2017-04-10", "23:30+02:00"), "2017-04-11"),  # 21:30 UTC = 17:30 New York, after the close
        (("2017-04-10", "19:59Z"), "2017-04-10"),  # 15:59 New York
        (("2017-04-10", "20:30Z"), "2017-04-11"),
        (("2018-11-04", "01:59", "America/Chicago"), "2018-11-05"),
    ],
)
def test_unambiguous_in_effect_is_accepted(args, expected):
    assert day0(*args) == pd.Timestamp(expected)


@pytest.mark.parametrize(
    "args, message",
    [
        # Tehran's clocks jumped at midnight on Wednesday 2017-03-22: 00:15 is 15:45 or 16:45 in New York
        (("2017-03-22", "00:15", "Asia/Tehran"), r"00:15 does not exist in Asia/Tehran on 2017-03-22 .*"
                                                   r"2017-03-21 and 2017-03-22.*UTC offset"),
        # and went back at midnight on Thursday 2017-09-21/22: 23:45 happened at 15:15 and at 16:15 in New York
        (("2017-09-21", "23:45", "Asia/Tehran"), r"23:45 happened twice in Asia/Tehran on 2017-09-21 .*"
                                                   r"2017-09-21 and 2017-09-22.*UTC offset"),
        (("2017-04-10", "16:30+05:00", "America/New_York"), r"has a UTC offset \(\+05:00\) and a time zone"),
        (("2017-04-10", "10:00", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_ambiguous_in_effect_is_a_clear_error(args, message):
    with pytest.raises(CalendarError, match=message):
        day0(*args)


@pytest.mark.parametrize("exchange", ["XNYS", "XHKG", "XPAR", "XBOM"])
def test_session_at_equals_exchange_calendars_minute_to_session(exchange):
    """The session of a moment is read from the closes; exchange_calendars' own answer is the reference
    (random minutes, exact opens and closes, the minute before a close, lunch breaks included)."""
    import numpy as np

    from incident_impact.calendar import _session_at, get_calendar

    cal = get_calendar(exchange)
    rng = np.random.default_rng(7)
    moments = [pd.Timestamp("2012-01-01", tz="UTC") + pd.Timedelta(minutes=int(m))
               for m in rng.integers(0, 60 * 24 * 365 * 12, 150)]
    for s in cal.sessions[rng.integers(100, 2500, 30)]:
        close = cal.session_close(s)
        moments += [cal.session_open(s), close, close - pd.Timedelta(minutes=1)]
    for m in moments:
        assert _session_at(cal, m) == cal.minute_to_session(m, direction="next"), m


# ----------------------------------------------------------------- the session table kept on disk (issue 15)
@pytest.mark.parametrize("exchange", ["XNYS", "XHKG", "XNSE"])
def test_session_table_equals_the_calendar_and_survives_the_disk(exchange, tmp_path, monkeypatch):
    from incident_impact import calendar

    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path))
    calendar._session_table.cache_clear()
    cal = calendar.get_calendar(exchange)
    (tmp_path / "calendars").mkdir()
    yesterday = tmp_path / "calendars" / f"{cal.name}-2000-19991231-xc0.npz"  # an earlier day's table goes
    yesterday.write_bytes(b"old")
    built = calendar.session_table(exchange)
    assert not yesterday.exists()
    files = list((tmp_path / "calendars").glob("*.npz"))
    assert len(files) == 1 and files[0].name.startswith(f"{cal.name}-2000-")
    calendar._session_table.cache_clear()
    read = calendar.session_table(exchange)  # from the file this time
    for table in (built, read):
        assert table.name == cal.name and table.tz == str(cal.tz)
        pd.testing.assert_index_equal(table.sessions, pd.DatetimeIndex(cal.sessions).as_unit("ns"), check_names=False, check_freq=False)
        pd.testing.assert_index_equal(table.closes, pd.DatetimeIndex(cal.closes).tz_convert("UTC").as_unit("ns"),
                                      check_names=False)
    files[0].write_bytes(b"not a zip file")  # a damaged file is rebuilt, not an error
    calendar._session_table.cache_clear()
    pd.testing.assert_index_equal(calendar.session_table(exchange).closes, read.closes)
    calendar._session_table.cache_clear()


def test_day0_from_the_disk_table_does_not_import_exchange_calendars(tmp_path):
    import json
    import os
    import subprocess
    import sys

    code = ("import sys, json; from incident_impact.calendar import day0, session_range; "
            "out = [str(day0('2017-04-10', '16:30', 'America/New_York')), str(day0('2018-09-03')), "
            "[str(x) for x in session_range('XNYS', day0('2017-04-10'), -2, 2)]]; "
            "print(json.dumps([out, 'exchange_calendars' in sys.modules]))")
    env = {**os.environ, "INCIDENT_IMPACT_CACHE_DIR": str(tmp_path)}
    first, second = (json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                               check=True).stdout) for _ in range(2))
    assert first[0] == second[0] == ["2017-04-11 00:00:00", "2018-09-04 00:00:00",
                                     ["2017-04-06 00:00:00", "2017-04-12 00:00:00"]]
    assert first[1] is True and second[1] is False  # built once, then read from the cache folder
