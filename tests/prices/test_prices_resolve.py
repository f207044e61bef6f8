"""Resolution order (data dir, cache, sample, download), fallbacks and the bundled sample."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import DownloadError, PriceDataError, TickerNotFoundError
from incident_impact.prices import (
    DATA_DIR_ENV,
    OFFLINE_ENV,
    CSVDirSource,
    PriceCache,
    PriceHistory,
    PriceResolver,
    SampleSource,
    YahooSource,
)
from incident_impact.prices.sample import LABEL

SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
needs_shared = pytest.mark.skipif(not SHARED, reason="real prices need INCIDENT_IMPACT_SHARED_DATA=/work/shared/data")


class FakeDownloader:
    """A download source that records calls and returns business-day prices for any range, or fails."""

    name = "Yahoo Finance"

    def __init__(self, error: Exception | None = None):
        self.error = error
        self.calls: list[tuple] = []

    def load(self, ticker, start=None, end=None) -> PriceHistory:
        self.calls.append((ticker, start, end))
        if self.error:
            raise self.error
        index = pd.bdate_range(start, end, name="date")
        data = pd.DataFrame({"adj_close": np.arange(1.0, len(index) + 1), "close": np.nan, "volume": np.nan}, index=index)
        return PriceHistory(ticker, data, "Yahoo Finance (downloaded now)")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    for name in (DATA_DIR_ENV, OFFLINE_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cache(tmp_path) -> PriceCache:
    return PriceCache(tmp_path / "cache")


def write_prices(folder: Path, name: str, dates: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{d},{100 + i}\n" for i, d in enumerate(dates))
    (folder / name).write_text("date,adj_close\n" + rows)


def put(cache: PriceCache, ticker: str, start: str, end: str) -> None:
    index = pd.bdate_range(start, end, name="date")
    cache.put(ticker, pd.DataFrame({"adj_close": np.linspace(50, 60, len(index))}, index=index), {"source": "Yahoo Finance"})


def test_data_dir_file_is_authoritative_even_when_short(tmp_path, cache):
    write_prices(tmp_path / "data", "PEP.csv", ["2015-01-05", "2015-01-06"])
    put(cache, "PEP", "2014-01-01", "2016-12-30")
    fake = FakeDownloader()
    history = PriceResolver(tmp_path / "data", cache=cache, download=fake).load("PEP", "2014-06-02", "2016-06-01")
    assert history.source == f"data dir {tmp_path / 'data'} (PEP.csv)"
    assert history.data["adj_close"].tolist() == [100.0, 101.0]
    assert fake.calls == []


def test_data_dir_comes_from_the_environment(tmp_path, monkeypatch, cache):
    write_prices(tmp_path / "env", "UAL.csv", ["2017-04-10", "2017-04-11"])
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env"))
    assert PriceResolver(cache=cache, download=False).load("UAL").source.endswith("(UAL.csv)")


def test_malformed_data_dir_file_or_missing_folder_is_an_error_not_a_fallback(tmp_path, cache):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "PEP.csv").write_text("date,adj_close\n2015-01-05,-1\n")
    fake = FakeDownloader()
    with pytest.raises(PriceDataError, match="negative adj_close"):
        PriceResolver(tmp_path / "data", cache=cache, download=fake).load("PEP")
    with pytest.raises(PriceDataError, match="does not exist"):
        PriceResolver(tmp_path / "missing", cache=cache, download=fake).load("PEP")
    assert fake.calls == []


def test_cache_comes_before_the_sample(tmp_path, cache):
    write_prices(tmp_path / "data", "UAL.csv", ["2015-01-05"])
    put(cache, "PEP", "2014-01-01", "2016-12-30")
    fake = FakeDownloader()
    history = PriceResolver(tmp_path / "data", cache=cache, download=fake).load("PEP", "2015-01-02", "2015-12-31")
    assert history.source.startswith("Yahoo Finance (cached ")
    assert history.data.index[0] == pd.Timestamp("2015-01-02") and history.data.index[-1] == pd.Timestamp("2015-12-31")
    assert fake.calls == []


def test_sample_serves_what_it_covers_without_downloading(cache):
    fake = FakeDownloader()
    history = PriceResolver(cache=cache, download=fake).load("^GSPC", "2017-04-03", "2017-04-28")
    assert history.source == LABEL
    assert len(history.data) == 19 and history.data.index[0] == pd.Timestamp("2017-04-03")
    assert fake.calls == []


def test_download_when_cache_and_sample_do_not_cover(cache):
    put(cache, "PEP", "2011-06-01", "2011-12-30")  # partial: ends too early
    fake = FakeDownloader()
    history = PriceResolver(cache=cache, download=fake).load("PEP", "2011-01-03", "2012-06-29")
    assert fake.calls == [("PEP", "2011-01-03", "2012-06-29")]
    assert history.source == "Yahoo Finance (downloaded now)"


def test_failed_download_falls_back_to_the_best_partial_history(cache):
    put(cache, "PEP", "2011-11-01", "2011-12-30")  # 44 rows in range; the sample has about 124
    failing = FakeDownloader(DownloadError("download of PEP failed: boom; nothing was written to the cache"))
    history = PriceResolver(cache=cache, download=failing).load("PEP", "2011-06-01", "2012-06-29")
    assert history.source == LABEL
    assert history.data.index[0] == pd.Timestamp("2012-01-03") and history.data.index[-1] == pd.Timestamp("2012-06-29")
    note = history.notes[-1]
    assert note.startswith("only 2012-01-03..2012-06-29 of the requested 2011-06-01..2012-06-29: ")
    assert "cache has PEP only for 2011-11-01..2011-12-30" in note
    assert "Yahoo Finance download failed (download of PEP failed: boom" in note


def test_nothing_worked_gives_one_line_listing_every_attempt(tmp_path, cache):
    (tmp_path / "data").mkdir()

    def offline(*args, **kwargs):
        raise ConnectionError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")

    resolver = PriceResolver(tmp_path / "data", cache=cache, download=YahooSource(cache, download=offline))
    with pytest.raises(TickerNotFoundError) as info:
        resolver.load("ZZZZ", "2020-01-02", "2020-12-31")
    assert str(info.value) == (
        f"no prices for ZZZZ: data dir {tmp_path / 'data'} has no ZZZZ.csv; cache has no ZZZZ; "
        "bundled sample has no ZZZZ; Yahoo Finance download failed (network unreachable). "
        "Use --data-dir FOLDER with ZZZZ.csv or check the ticker."
    )
    # the curl text is kept for --verbose and JSON "detail"; one short line per ticker for summaries
    assert "curl: (6) Could not resolve host" in info.value.detail
    assert info.value.detail.startswith("no prices for ZZZZ: data dir")
    assert info.value.summary == "ZZZZ: no prices (network unreachable)"


def test_offline_never_downloads(cache, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("download called while offline")

    monkeypatch.setenv(OFFLINE_ENV, "1")
    resolver = PriceResolver(cache=cache, download=YahooSource(cache, download=must_not_run))
    with pytest.raises(TickerNotFoundError) as info:
        resolver.load("^GSPC", "2010-01-04", "2010-12-31")  # before the sample starts
    assert "bundled sample has ^GSPC only for 2012-01-03..2022-12-28; no download (INCIDENT_IMPACT_OFFLINE=1)" in str(info.value)
    partial = resolver.load("^GSPC", "2011-06-01", "2012-01-31")  # the sample's partial history
    assert partial.source == LABEL and len(partial.data) == 20


def test_downloads_off_and_no_sample(cache):
    with pytest.raises(TickerNotFoundError, match="no prices for PEP: cache has no PEP; downloads are off. Use"):
        PriceResolver(cache=cache, use_sample=False, download=False).load("PEP", "2015-01-02", "2015-12-31")


def test_unsafe_ticker_is_rejected_before_any_source(cache):
    fake = FakeDownloader()
    with pytest.raises(PriceDataError, match="unsafe ticker"):
        PriceResolver(cache=cache, download=fake).load("../PEP")
    assert fake.calls == []


def test_sample_files_and_notes():
    sample = SampleSource()
    for ticker in ("PEP", "PG", "JPM", "KO", "^GSPC"):
        history = sample.load(ticker)
        assert history.source == LABEL
        assert (history.data.index[0], history.data.index[-1]) == (pd.Timestamp("2012-01-03"), pd.Timestamp("2022-12-28"))
        assert len(history.data) == 2766 and history.data["adj_close"].notna().all()
        assert history.notes == ("bundled offline sample: prices rounded to 2-3 decimals by skfolio",)
    licence = (sample.folder / "LICENSE-skfolio.txt").read_text()
    assert licence.startswith("BSD 3-Clause License") and "The skfolio developers" in licence


@needs_shared
@pytest.mark.realdata
@pytest.mark.parametrize("ticker", ["PEP", "PG", "JPM", "KO", "^GSPC"])
def test_sample_returns_agree_with_real_data(ticker):
    sample = SampleSource().load(ticker).returns()
    real = CSVDirSource(Path(SHARED) / "prices").load(ticker, "2012-01-03", "2022-12-28").returns()
    assert sample.index.equals(real.index)
    assert (sample - real).abs().max() < 5e-5


# ----------------------------------------------------------------- a damaged cache entry (issue 12)
def _damage(cache: PriceCache, ticker: str) -> None:
    path = cache.folder / f"{ticker}.json"
    meta = json.loads(path.read_text())
    meta["start"] = float("nan")
    path.write_text(json.dumps(meta))


def test_offline_with_a_damaged_cache_entry_says_so(cache, monkeypatch):
    put(cache, "UAL", "2015-01-02", "2015-12-31")
    _damage(cache, "UAL")
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with pytest.raises(TickerNotFoundError) as info:
        PriceResolver(cache=cache, use_sample=False).load("UAL", "2015-01-02", "2015-12-31")
    message = str(info.value)
    assert "cache has no UAL" not in message
    assert "the cache entry of UAL is damaged (metadata: unreadable start nan); it will be downloaded again when online" in message


def test_a_damaged_cache_entry_is_downloaded_again_with_a_note(cache):
    put(cache, "UAL", "2015-01-02", "2015-12-31")
    _damage(cache, "UAL")
    fake = FakeDownloader()
    history = PriceResolver(cache=cache, use_sample=False, download=fake).load("UAL", "2015-01-02", "2015-12-31")
    assert fake.calls == [("UAL", "2015-01-02", "2015-12-31")]
    assert history.source == "Yahoo Finance (downloaded now)"
    assert history.notes[-1] == "the cache entry of UAL was damaged (metadata: unreadable start nan) and was downloaded again"
