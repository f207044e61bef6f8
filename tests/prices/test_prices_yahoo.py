"""Yahoo source with fake ``yfinance.download`` callables shaped like yfinance 1.7 output."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import DownloadError, TickerNotFoundError
from incident_impact.prices import PriceCache, YahooSource

FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]


def yf_frame(ticker: str, dates, adj, close=None) -> pd.DataFrame:
    """What ``yf.download(ticker, auto_adjust=False, multi_level_index=True)`` returns."""
    index = pd.DatetimeIndex(pd.to_datetime(dates), name="Date").as_unit("s")
    adj = np.asarray(adj, dtype=float)
    close = adj + 1 if close is None else np.asarray(close, dtype=float)
    values = {"Adj Close": adj, "Close": close, "High": close + 1, "Low": close - 1, "Open": close, "Volume": close * 1000}
    columns = pd.MultiIndex.from_product([FIELDS, [ticker]], names=["Price", "Ticker"])
    return pd.DataFrame(np.column_stack([values[f] for f in FIELDS]), index=index, columns=columns)


class FakeDownload:
    """Records calls; returns a frame, logs like yfinance, or raises."""

    def __init__(self, result=None, log: str | list[tuple[int, str]] = (), exc: Exception | None = None):
        self.result, self.exc = result, exc
        self.log = [(logging.ERROR, log)] if isinstance(log, str) else log
        self.calls: list[tuple[tuple, dict]] = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        for level, message in self.log:
            logging.getLogger("yfinance").log(level, message)
        if self.exc:
            raise self.exc
        return self.result


DATES = ["2017-04-07", "2017-04-10", "2017-04-11", "2017-04-12"]


@pytest.fixture
def cache(tmp_path) -> PriceCache:
    return PriceCache(tmp_path / "cache")


def snapshot(cache: PriceCache) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in cache.folder.iterdir()} if cache.folder.exists() else {}


def test_download_call_normalization_and_cache_write(cache):
    fake = FakeDownload(yf_frame("UAL", DATES, [70.0, 71.52, 70.71, 69.93]))
    history = YahooSource(cache, download=fake, timeout=7).load("UAL", dt.date(2017, 4, 10), "2017-04-12")
    (args, kwargs), = fake.calls
    assert args == ("UAL",)
    assert kwargs == {
        "start": dt.date(2017, 4, 10), "end": dt.date(2017, 4, 13), "auto_adjust": False, "actions": False,
        "progress": False, "multi_level_index": True, "threads": False, "timeout": 7,
    }
    assert list(history.data.columns) == ["adj_close", "close", "volume"]
    assert history.data.index.name == "date" and history.data.index.tz is None
    assert history.data["adj_close"].tolist() == [71.52, 70.71, 69.93]  # the requested range only
    assert history.data["volume"].tolist() == [72520.0, 71710.0, 70930.0]
    assert history.source.startswith("Yahoo Finance (downloaded ")
    assert history.returns().loc["2017-04-11"] == pytest.approx(70.71 / 71.52 - 1)
    cached = cache.get("UAL")
    assert cached.data["adj_close"].tolist() == [70.0, 71.52, 70.71, 69.93]  # everything Yahoo sent
    meta = cache.lookup("UAL", None, None)
    assert meta.complete and meta.history.source.startswith("Yahoo Finance (cached ")


def test_second_load_is_served_from_the_cache(cache):
    fake = FakeDownload(yf_frame("UAL", DATES, [70.0, 71.52, 70.71, 69.93]))
    source = YahooSource(cache, download=fake)
    source.load("UAL", "2017-04-07", "2017-04-12")
    again = source.load("UAL", "2017-04-10", "2017-04-11")
    assert len(fake.calls) == 1
    assert again.source.startswith("Yahoo Finance (cached ")
    assert again.data["adj_close"].tolist() == [71.52, 70.71]


def test_a_longer_range_downloads_the_cached_dates_too(cache):
    source = YahooSource(cache, download=FakeDownload(yf_frame("UAL", DATES[:2], [70.0, 71.52])))
    source.load("UAL", "2017-04-07", "2017-04-10")
    fake = FakeDownload(yf_frame("UAL", DATES, [69.0, 70.51, 70.71, 69.93]))  # re-adjusted history
    history = YahooSource(cache, download=fake).load("UAL", "2017-04-11", "2017-04-12")
    assert (fake.calls[0][1]["start"], fake.calls[0][1]["end"]) == (dt.date(2017, 4, 7), dt.date(2017, 4, 13))
    assert history.data["adj_close"].tolist() == [70.71, 69.93]
    assert cache.get("UAL").data["adj_close"].tolist() == [69.0, 70.51, 70.71, 69.93]


def test_all_history_when_start_is_open(cache):
    fake = FakeDownload(yf_frame("^GSPC", DATES, [1.0, 2.0, 3.0, 4.0]))
    history = YahooSource(cache, download=fake).load("^GSPC")
    kwargs = fake.calls[0][1]
    assert kwargs["period"] == "max" and "start" not in kwargs and "end" not in kwargs
    assert len(history.data) == 4 and (cache.folder / "GSPC.csv").exists()
    YahooSource(cache, download=fake).load("^GSPC", "2017-04-07", "2017-04-12")
    assert len(fake.calls) == 1  # "everything" covers any earlier start


def test_late_listing_is_served_from_the_cache_next_time(cache):
    fake = FakeDownload(yf_frame("SNAP", DATES[2:], [20.0, 21.0]))
    source = YahooSource(cache, download=fake)
    first = source.load("SNAP", "2017-04-07", "2017-04-12")
    second = source.load("SNAP", "2017-04-10", "2017-04-12")
    assert len(fake.calls) == 1
    assert first.data["adj_close"].tolist() == second.data["adj_close"].tolist() == [20.0, 21.0]


def test_partial_nan_rows_are_kept_and_noted(cache):
    fake = FakeDownload(yf_frame("UAL", DATES, [70.0, np.nan, 70.71, 69.93]))
    history = YahooSource(cache, download=fake).load("UAL", "2017-04-07", "2017-04-12")
    assert history.data["adj_close"].isna().tolist() == [False, True, False, False]
    assert "1 row with empty adj_close kept as missing" in history.notes
    assert list(history.returns().index.strftime("%m-%d")) == ["04-12"]


def test_unknown_ticker_all_nan_is_not_found_and_cache_untouched(cache):
    cache.put("ZZZZ", pd.DataFrame({"adj_close": [1.0]}, index=pd.DatetimeIndex(["2017-01-03"])), {"source": "x"})
    before = snapshot(cache)
    fake = FakeDownload(yf_frame("ZZZZ", DATES, [np.nan] * 4), log="['ZZZZ']: possibly delisted; no timezone found")
    with pytest.raises(TickerNotFoundError) as info:
        YahooSource(cache, download=fake).load("ZZZZ", "2017-04-07", "2017-04-12")
    assert str(info.value) == "Yahoo Finance has no prices for ZZZZ: possibly delisted; no timezone found"
    assert snapshot(cache) == before


def test_empty_answer_without_network_is_a_download_error(cache):
    log = ("['UAL']: DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. "
           "See https://curl.se/libcurl/c/libcurl-errors.html first for more details.')")
    fake = FakeDownload(yf_frame("UAL", [], []), log=log)
    with pytest.raises(DownloadError) as info:
        YahooSource(cache, download=fake).load("UAL", "2017-04-07", "2017-04-12")
    assert info.value.reason == "network unreachable"  # the short cause of summaries
    assert "no network? DNSError(" in str(info.value) and "DNSError(" in info.value.detail
    assert "curl.se" not in str(info.value) and str(info.value).endswith("nothing was written to the cache")
    assert snapshot(cache) == {}


def test_network_failure_is_not_mistaken_for_a_delisted_ticker(cache):
    # what yfinance 1.7 logs offline for the third ticker of a process (verified)
    log = [
        (logging.WARNING, "Cookie/crumb fetch failed (DNSError), continuing without crumb"),
        (logging.ERROR, "Failed to get ticker 'PEP' reason: Failed to perform, curl: (6) Could not resolve host: "
                        "query2.finance.yahoo.com (Domain name not found). See https://curl.se/libcurl/c/libcurl-errors.html"),
        (logging.ERROR, "$PEP: possibly delisted; no timezone found"),
        (logging.ERROR, "\n1 Failed download:"),
        (logging.ERROR, "['PEP']: possibly delisted; no timezone found"),
    ]
    with pytest.raises(DownloadError) as info:
        YahooSource(cache, download=FakeDownload(yf_frame("PEP", [], []), log=log)).load("PEP", "2017-04-07", "2017-04-12")
    assert info.value.reason == "network unreachable"
    assert str(info.value) == (
        "download of PEP failed: no network? Failed to get ticker 'PEP' reason: Failed to perform, curl: (6) Could "
        "not resolve host: query2.finance.yahoo.com (Domain name not found).; nothing was written to the cache"
    )


def test_exception_mid_download_leaves_the_cache_untouched(cache):
    YahooSource(cache, download=FakeDownload(yf_frame("UAL", DATES[:2], [70.0, 71.52]))).load("UAL", "2017-04-07", "2017-04-10")
    before = snapshot(cache)
    fake = FakeDownload(exc=RuntimeError("connection reset by peer"))
    with pytest.raises(DownloadError) as info:
        YahooSource(cache, download=fake).load("UAL", "2017-04-07", "2017-04-12")
    assert str(info.value) == (
        "download of UAL failed: RuntimeError: connection reset by peer; nothing was written to the cache"
    )
    assert snapshot(cache) == before


def test_rate_limit_raised_or_logged_gets_a_clear_message(cache):
    from yfinance.exceptions import YFRateLimitError

    expected = ("download of UAL failed: Yahoo rate-limited this address; retry later or pass --data-dir; "
                "nothing was written to the cache")
    with pytest.raises(DownloadError) as raised:
        YahooSource(cache, download=FakeDownload(exc=YFRateLimitError())).load("UAL", "2017-04-07", "2017-04-12")
    assert str(raised.value) == expected
    logged = FakeDownload(yf_frame("UAL", DATES, [np.nan] * 4), log="['UAL']: YFRateLimitError('Too Many Requests. Rate limited.')")
    with pytest.raises(DownloadError) as swallowed:
        YahooSource(cache, download=logged).load("UAL", "2017-04-07", "2017-04-12")
    assert str(swallowed.value) == expected
    assert snapshot(cache) == {}


def test_without_cache_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path / "env-cache"))
    fake = FakeDownload(yf_frame("UAL", DATES, [70.0, 71.52, 70.71, 69.93]))
    source = YahooSource(None, download=fake)
    source.load("UAL", "2017-04-07", "2017-04-12")
    source.load("UAL", "2017-04-07", "2017-04-12")
    assert len(fake.calls) == 2 and not (tmp_path / "env-cache").exists()


def test_unwritable_cache_still_returns_the_download(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    fake = FakeDownload(yf_frame("UAL", DATES, [70.0, 71.52, 70.71, 69.93]))
    history = YahooSource(PriceCache(blocker / "cache"), download=fake).load("UAL", "2017-04-07", "2017-04-12")
    assert len(history.data) == 4
    assert any(note.startswith("could not write the price cache") for note in history.notes)


def test_importing_the_package_does_not_import_yfinance():
    code = "import sys, incident_impact.prices; print('yfinance' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
