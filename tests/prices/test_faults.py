"""Fault injection on the price source: a misbehaving Yahoo (faked at the ``yfinance.download``
seam, there is no network here), a full disk, writers killed with SIGKILL at every step and at
random moments, and several processes downloading one ticker at once.

After every fault the cache is never corrupt: each entry it serves equals the true prices on
its dates (or it is a miss), and a rerun with a working download completes and caches the
whole range.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import time

import numpy as np
import pandas as pd
import pytest
from test_prices_yahoo import FakeDownload, yf_frame
from yfinance.exceptions import YFRateLimitError

from incident_impact.analysis import analyze
from incident_impact.catalog import adhoc_incident
from incident_impact.errors import DownloadError, IncidentImpactError, TickerNotFoundError
from incident_impact.prices import PriceCache, PriceResolver, YahooSource
from incident_impact.prices import cache as cache_mod

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash tests fork")

SESSIONS = pd.bdate_range("2016-01-04", "2018-12-31", name="date")
TRUTH = pd.Series(50 * np.cumprod(1 + np.random.default_rng(11).normal(0.0003, 0.015, len(SESSIONS))), SESSIONS)
OLD = ("2016-01-04", "2016-12-30")  # what an earlier run cached
WANTED = ("2016-06-01", "2017-06-30")  # what this run asks for (not all cached: a download is due)


def answer(start=None, end=None, **_) -> pd.DataFrame:
    """Yahoo's answer for ``[start, end)`` (yfinance's ``end`` is exclusive)."""
    adj = TRUTH.loc[pd.Timestamp(start or SESSIONS[0]): pd.Timestamp(end or "2100-01-01") - pd.Timedelta(days=1)]
    return yf_frame("UAL", adj.index, adj.to_numpy(), close=adj.to_numpy() * 1.1)


class GoodYahoo(FakeDownload):
    """Answers every range from the truth, optionally slowly (to make downloads overlap)."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.delay = delay

    def __call__(self, ticker, **kwargs):
        self.calls.append(((ticker,), kwargs))
        time.sleep(self.delay)
        return answer(**kwargs)


def assert_sound(cache: PriceCache) -> pd.DataFrame | None:
    """The cache entry is a miss or equals the truth on every date with a price; never an exception."""
    history = cache.get("UAL")
    if history is None:
        return None
    prices = history.data["adj_close"].dropna()
    np.testing.assert_allclose(prices.to_numpy(), TRUTH.loc[prices.index].to_numpy(), rtol=1e-12)
    assert prices.index.is_unique and prices.index.is_monotonic_increasing
    return history.data


def assert_rerun_completes(cache: PriceCache) -> None:
    download = GoodYahoo()
    history = YahooSource(cache=cache, download=download).load("UAL", *WANTED)
    expected = TRUTH.loc[WANTED[0]: WANTED[1]]
    np.testing.assert_allclose(history.data["adj_close"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    cached = assert_sound(cache)
    assert cached is not None and expected.index.isin(cached.index).all()
    if download.calls:  # a killed writer's hidden temporary file goes at the next write (readers ignore it)
        assert not list(cache.folder.glob("*.tmp"))
    served = YahooSource(cache=cache, download=FakeDownload(exc=AssertionError("no download expected")))
    assert len(served.load("UAL", *WANTED).data) == len(expected)  # now served from the cache alone


@pytest.fixture
def cache(tmp_path) -> PriceCache:
    cache = PriceCache(tmp_path / "cache")
    YahooSource(cache=cache, download=GoodYahoo()).load("UAL", *OLD)
    return cache


def snapshot(cache: PriceCache) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in cache.folder.iterdir()}


# =========================================================================== a misbehaving Yahoo
def _logged(message: str, result=None) -> FakeDownload:
    return FakeDownload(result=pd.DataFrame() if result is None else result, log=message)


NOT_DATES = answer(*WANTED).set_axis([f"row {i}" for i in range(len(answer(*WANTED)))])
FAULTS = {  # name -> (fake download, error class, words of the message)
    "timeout raised": (FakeDownload(exc=TimeoutError("The read operation timed out")), DownloadError, "no network?"),
    "curl timeout raised": (FakeDownload(exc=RuntimeError("curl: (28) Operation timed out after 30001 milliseconds")),
                            DownloadError, "no network?"),
    "timeout logged": (_logged("['UAL']: Timeout('Failed to perform, curl: (28) Operation timed out')"), DownloadError,
                       "no network?"),
    "connection reset": (FakeDownload(exc=ConnectionResetError(104, "Connection reset by peer")), DownloadError,
                         "ConnectionResetError"),
    "rate limit raised": (FakeDownload(exc=YFRateLimitError()), DownloadError, "rate-limited"),
    "rate limit logged": (_logged("['UAL']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"),
                          DownloadError, "rate-limited"),
    "empty frame": (FakeDownload(result=pd.DataFrame()), DownloadError, "Yahoo returned no prices"),
    "None": (FakeDownload(result=None), DownloadError, "Yahoo returned no prices"),
    "header without rows": (FakeDownload(result=answer("2030-01-01", "2030-01-02")), DownloadError, "no prices"),
    "all NaN, delisted": (_logged("['UAL']: possibly delisted; no price data found", answer(*WANTED) * np.nan),
                          TickerNotFoundError, "has no prices for UAL"),
    "all zero prices": (FakeDownload(result=answer(*WANTED) * 0), DownloadError, "no prices"),
    "dates that are not dates": (FakeDownload(result=NOT_DATES), DownloadError, "without readable dates"),
    "internal yfinance bug": (FakeDownload(exc=KeyError("chart")), DownloadError, "KeyError"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_failed_download_is_one_clear_error_and_leaves_the_cache_untouched(cache, fault):
    download, error, words = FAULTS[fault]
    before = snapshot(cache)
    with pytest.raises(error) as info:
        YahooSource(cache=cache, download=download).load("UAL", *WANTED)
    assert words in str(info.value) and "\n" not in str(info.value)
    assert snapshot(cache) == before
    assert_rerun_completes(cache)


def _with_gap(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.iloc[10:13, :] = np.nan  # rows cut short: every field of three days missing
    return frame


def _glitched(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.iloc[5, frame.columns.get_loc(("Adj Close", "UAL"))] = 0.0
    frame.iloc[6, frame.columns.get_loc(("Adj Close", "UAL"))] = -4.0
    frame.iloc[7, frame.columns.get_loc(("Adj Close", "UAL"))] = np.inf
    return frame


def _undated(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_axis(pd.DatetimeIndex([pd.NaT, *frame.index[1:]]))


PARTIAL = {  # name -> (Yahoo's answer, dates it lacks, words of a note)
    "first half only": (lambda f: f.iloc[: len(f) // 2], lambda f: f.index[len(f) // 2:], None),
    "three empty rows": (_with_gap, lambda f: f.index[10:13], "3 rows with empty adj_close"),
    "zero, negative and infinite prices": (_glitched, lambda f: f.index[5:8], "3 rows with zero, negative or infinite"),
    "a row without a date": (_undated, lambda f: f.index[:1], "1 rows without a date; dropped"),
    "duplicated dates": (lambda f: pd.concat([f, f.iloc[:4]]), lambda f: f.index[:0], "4 duplicate dates"),
}


@pytest.mark.parametrize("fault", sorted(PARTIAL))
def test_partial_download_is_served_as_is_cached_soundly_and_completed_later(cache, fault):
    mangle, lacking, words = PARTIAL[fault]
    full = answer(*_exclusive(WANTED))
    history = YahooSource(cache=cache, download=FakeDownload(result=mangle(full))).load("UAL", *WANTED)
    valid = history.data["adj_close"].dropna()
    assert not valid.index.isin(lacking(full)).any()
    np.testing.assert_allclose(valid.to_numpy(), TRUTH.loc[valid.index].to_numpy(), rtol=1e-12)
    assert np.isfinite(history.returns()).all()
    if words:
        assert any(words in note for note in history.notes), history.notes
    cached = assert_sound(cache)
    assert cached is not None and TRUTH.loc[OLD[0]: OLD[1]].index.isin(cached.index).all()  # the old rows survive
    assert_rerun_completes(cache)


def _exclusive(span: tuple[str, str]) -> tuple[str, str]:
    return span[0], (pd.Timestamp(span[1]) + pd.Timedelta(days=1)).date().isoformat()


def test_full_disk_returns_the_download_and_keeps_the_old_entry(cache, monkeypatch):
    before = snapshot(cache)

    def full_disk(fh, data):
        fh.write(data[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_mod, "_write_all", full_disk)
    history = YahooSource(cache=cache, download=GoodYahoo()).load("UAL", *WANTED)
    assert len(history.data) == len(TRUTH.loc[WANTED[0]: WANTED[1]])
    assert any("could not write the price cache" in n and "No space left" in n for n in history.notes)
    assert snapshot(cache) == before  # no torn file, no temporary file
    monkeypatch.undo()
    assert_rerun_completes(cache)


def test_resolver_and_analysis_turn_every_fault_into_one_clear_error(tmp_path, monkeypatch):
    """End to end: nothing else cached, no sample, Yahoo faulty -> one line naming the cause."""
    monkeypatch.delenv("INCIDENT_IMPACT_OFFLINE", raising=False)  # CI sets it; this test wants the download tried
    for name, (download, _, words) in sorted(FAULTS.items()):
        cache = PriceCache(tmp_path / name.replace(" ", "-"))
        resolver = PriceResolver(cache=cache, use_sample=False, download=YahooSource(cache=cache, download=download))
        with pytest.raises(IncidentImpactError) as info:
            analyze(adhoc_incident("UAL", "2017-04-10"), source=resolver)
        assert isinstance(info.value, TickerNotFoundError), name
        message = str(info.value)
        assert message.startswith("no prices for ^GSPC") or message.startswith("no prices for UAL"), message
        assert "download failed" in message or "has no prices" in message, message
        assert not cache.folder.exists() or not list(cache.folder.glob("*.csv")), name


# =========================================================================== killed writers
def _fork(child) -> int:
    """Run ``child()`` in a forked process (cheap: no new interpreter); return its pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            child()
            code = 0
        finally:
            os._exit(code)
    return pid


def _wait(pid: int, timeout: float = 30) -> int:
    """The child's wait status, or SIGKILL it after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        time.sleep(0.005)


def _die():  # pragma: no cover - runs in the child
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_at(step: str, monkeypatch) -> None:  # pragma: no cover - runs in the child
    """Make this process SIGKILL itself at ``step`` of :meth:`PriceCache.put`."""
    calls = {"write": 0, "replace": 0}
    real_replace = os.replace

    def write(fh, data):
        calls["write"] += 1
        which = "data" if calls["write"] == 1 else "meta"
        if step == f"mid {which} write":
            fh.write(data[: len(data) // 2])
            fh.flush()
            _die()
        if step == f"before {which} write":
            _die()
        fh.write(data)

    def replace(src, dst):
        calls["replace"] += 1
        which = "data" if calls["replace"] == 1 else "meta"
        if step == f"before {which} rename":
            _die()
        real_replace(src, dst)
        if step == f"after {which} rename":
            _die()

    monkeypatch.setattr(cache_mod, "_write_all", write)
    monkeypatch.setattr(cache_mod.os, "replace", replace)


STEPS = ["mid data write", "before data rename", "after data rename", "before meta write", "mid meta write",
         "before meta rename", "after meta rename"]


@pytest.mark.parametrize("step", STEPS)
def test_writer_killed_at_each_step_of_a_cache_write(cache, monkeypatch, step):
    def child():
        _kill_at(step, monkeypatch)
        YahooSource(cache=cache, download=GoodYahoo()).load("UAL", *WANTED)

    status = _wait(_fork(child))
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    cached = assert_sound(cache)
    wanted = TRUTH.loc[WANTED[0]: WANTED[1]].index
    if step in ("mid data write", "before data rename"):
        assert cached is not None and not wanted.isin(cached.index).all()  # still the old entry
    elif step == "after meta rename":
        assert cached is not None and wanted.isin(cached.index).all()  # the new entry is complete
    else:  # data renamed, metadata not: the checksum no longer matches, so a miss, never wrong prices
        assert cached is None
    assert_rerun_completes(cache)


def test_writers_killed_at_random_moments_never_corrupt_the_cache(cache):
    """A child rewrites the entry in a loop; SIGKILL lands anywhere in it, 25 times."""
    rng = random.Random(20261126)
    spans = [("2016-03-01", "2017-03-01"), ("2016-09-01", "2018-06-29"), ("2017-01-02", "2018-12-31")]
    outcomes = {"miss": 0, "entry": 0}
    for attempt in range(25):
        def child():
            for i in range(10_000):  # until killed
                start, end = spans[i % len(spans)]
                YahooSource(cache=cache, download=GoodYahoo()).load("UAL", start, end)
                cache.clear("UAL") if i % 7 == 6 else None

        pid = _fork(child)
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(pid, signal.SIGKILL)
        status = os.waitpid(pid, 0)[1]
        assert os.WIFSIGNALED(status), f"attempt {attempt}: the writer ended by itself"
        outcomes["miss" if assert_sound(cache) is None else "entry"] += 1
        lookup = cache.lookup("UAL", *WANTED)  # never raises
        assert lookup is None or isinstance(lookup.complete, bool)
    assert outcomes["entry"] > 0
    assert_rerun_completes(cache)


# =========================================================================== concurrent downloads
@pytest.mark.parametrize("spans", [
    [WANTED, WANTED],  # the same range at once
    [("2016-01-04", "2017-03-31"), ("2017-01-02", "2018-12-31")],  # overlapping ranges
    [("2016-01-04", "2016-12-30"), ("2016-06-01", "2017-06-30"), ("2017-03-01", "2018-03-30"), ("2018-01-02", "2018-12-31")],
])
def test_processes_downloading_one_ticker_at_once_lose_nothing(tmp_path, spans):
    """Writers queue on the lock and merge; a download sharing no date with the entry replaces it
    (joining across an unknown gap would fake a return), so only pairwise overlapping ranges must
    all survive. Every rerun completes."""
    cache = PriceCache(tmp_path / "cache")

    def child(span):
        def run():
            history = YahooSource(cache=cache, download=GoodYahoo(delay=0.3)).load("UAL", *span)
            assert len(history.data) == len(TRUTH.loc[span[0]: span[1]])
        return run

    pids = [_fork(child(span)) for span in spans]  # all download during the same 0.3 s
    statuses = [_wait(pid) for pid in pids]
    assert all(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses)
    cached = assert_sound(cache)
    assert cached is not None and not list(cache.folder.glob("*.tmp"))
    held = [TRUTH.loc[a:b].index.isin(cached.index).all() for a, b in spans]
    if len(spans) == 2:
        assert all(held)  # no lost update
    else:
        assert any(held)
    for span in spans:
        history = YahooSource(cache=cache, download=GoodYahoo()).load("UAL", *span)
        assert history.data["adj_close"].notna().sum() == len(TRUTH.loc[span[0]: span[1]])
        assert_sound(cache)
