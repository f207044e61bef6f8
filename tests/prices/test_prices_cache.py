"""The download cache: round trip, merging, corruption and concurrent writers."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import TickerNotFoundError
from incident_impact.prices import CACHE_DIR_ENV, PriceCache

META = {"source": "Yahoo Finance", "downloaded_at": "2026-11-26T10:00:00+00:00", "start": "2020-01-01",
        "end": "2020-01-31", "yfinance_version": "1.7.0"}


def frame(dates, adj, close=None, volume=None) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.to_datetime(dates), name="date")
    nan = [np.nan] * len(index)
    return pd.DataFrame({"adj_close": adj, "close": close or nan, "volume": volume or nan}, index=index, dtype="float64")


def as_ns(df: pd.DataFrame) -> pd.DataFrame:
    return df.set_axis(df.index.as_unit("ns"))


@pytest.fixture
def cache(tmp_path) -> PriceCache:
    return PriceCache(tmp_path / "prices")


def test_round_trip_is_exact_and_records_metadata(cache):
    original = frame(["2020-01-02", "2020-01-03", "2020-01-06"], [1 / 3, np.nan, 3.123456789012345],
                     close=[10.5, 11.0, 12.25], volume=[100.0, np.nan, 0.0])
    cache.put("UAL", original, META)
    history = cache.get("UAL")
    pd.testing.assert_frame_equal(history.data, as_ns(original), check_exact=True)
    assert history.ticker == "UAL"
    assert history.source == "Yahoo Finance (cached 2026-11-26T10:00Z)"
    assert history.notes == ("1 row with empty adj_close kept as missing",)
    meta = json.loads((cache.folder / "UAL.json").read_text())
    data = (cache.folder / "UAL.csv").read_bytes()
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert (meta["rows"], meta["yfinance_version"], meta["start"], meta["end"]) == (3, "1.7.0", "2020-01-01", "2020-01-31")
    assert data.decode().splitlines()[0] == "date,adj_close,close,volume"
    assert [p.name for p in cache.folder.iterdir() if p.suffix == ".tmp"] == []


def test_cache_is_a_price_source(cache):
    cache.put("^GSPC", frame(["2020-01-02", "2020-01-03", "2020-01-06"], [1.0, 2.0, 3.0]), META)
    assert (cache.folder / "GSPC.csv").exists()
    assert cache.load("^GSPC", "2020-01-03", "2020-01-03").data["adj_close"].tolist() == [2.0]
    with pytest.raises(TickerNotFoundError, match="has no ZZZZ"):
        cache.load("ZZZZ")
    assert cache.get("GSPC") is None  # same stem, other ticker: not served


def test_folder_comes_from_the_environment_or_platformdirs(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "env"))
    assert PriceCache().folder == tmp_path / "env"
    monkeypatch.delenv(CACHE_DIR_ENV)
    assert PriceCache().folder.parts[-2:] == ("incident-impact", "prices")
    assert PriceCache(tmp_path / "x").folder == tmp_path / "x"


def test_merge_takes_the_union_and_the_new_rows_win(cache):
    cache.put("UAL", frame(["2020-01-02", "2020-01-03", "2020-01-06"], [10.0, 11.0, 12.0], close=[20.0, 21.0, 22.0]), META)
    # Yahoo re-adjusted history by 0.5 (e.g. a dividend) and the download extends later
    cache.put("UAL", frame(["2020-01-03", "2020-01-06", "2020-01-07"], [5.5, 6.0, 6.6], close=[21.0, 22.0, 23.0]), META)
    data = cache.get("UAL").data
    assert list(data.index.strftime("%m-%d")) == ["01-02", "01-03", "01-06", "01-07"]
    assert data["adj_close"].tolist() == [5.0, 5.5, 6.0, 6.6]  # old-only row rescaled: its return is unchanged
    assert data["close"].tolist() == [20.0, 21.0, 22.0, 23.0]
    notes = cache.get("UAL").notes
    assert any("rescaled by 0.5" in n for n in notes)
    assert json.loads((cache.folder / "UAL.json").read_text())["rows"] == 4


def test_merge_keeps_new_values_that_differ_beyond_a_common_factor(cache):
    cache.put("UAL", frame(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], [10.0, 11.0, 12.0, 13.0]), META)
    cache.put("UAL", frame(["2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08"], [11.0, 12.5, 13.0, 14.0]), META)
    history = cache.get("UAL")
    assert history.data["adj_close"].tolist() == [10.0, 11.0, 12.5, 13.0, 14.0]
    assert any("1 overlapping dates differ" in n for n in history.notes)


def test_downloads_without_a_common_date_are_not_joined(cache):
    cache.put("UAL", frame(["2020-01-02", "2020-01-03"], [10.0, 11.0]), META)
    cache.put("UAL", frame(["2021-01-04", "2021-01-05"], [30.0, 31.0]), META)
    history = cache.get("UAL")
    assert list(history.data.index.year) == [2021, 2021]
    assert any("2020-01-02..2020-01-03 were replaced" in n for n in history.notes)


def test_lookup_tells_whether_the_range_is_complete(cache):
    late = frame(["2020-03-02", "2020-03-03", "2020-03-04"], [1.0, 2.0, 3.0])
    cache.put("SNAP", late, {**META, "start": "2020-01-02"})  # asked from January, listed in March
    hit = cache.lookup("SNAP", "2020-01-15", "2020-03-04")
    assert hit.complete and len(hit.history.data) == 3
    assert hit.span == (pd.Timestamp("2020-03-02"), pd.Timestamp("2020-03-04"))
    assert not cache.lookup("SNAP", "2019-12-02", "2020-03-04").complete  # asked too late for that
    assert not cache.lookup("SNAP", "2020-03-02", "2020-03-05").complete
    assert cache.lookup("SNAP", "2020-03-03", "2020-03-03").complete
    assert cache.lookup("ZZZZ", None, None) is None


def test_truncated_data_file_is_a_miss_not_a_crash(cache):
    cache.put("UAL", frame(["2020-01-02", "2020-01-03", "2020-01-06"], [10.0, 11.0, 12.0]), META)
    path = cache.folder / "UAL.csv"
    path.write_bytes(path.read_bytes()[:25])
    assert cache.get("UAL") is None
    assert cache.lookup("UAL", None, None) is None
    with pytest.raises(TickerNotFoundError):
        cache.load("UAL")
    cache.put("UAL", frame(["2020-01-07"], [13.0]), META)  # a broken entry is simply replaced
    assert cache.get("UAL").data["adj_close"].tolist() == [13.0]


def test_sha_mismatch_is_a_miss(cache):
    cache.put("UAL", frame(["2020-01-02", "2020-01-03"], [10.0, 11.0]), META)
    path = cache.folder / "UAL.csv"
    path.write_text(path.read_text().replace("11.0", "99.0"))  # still a valid CSV
    assert cache.get("UAL") is None


@pytest.mark.parametrize("change", ["", "{not json", "[1, 2]", {"start": "yesterday"}, {"notes": "x"}, {"sha256": 1}])
def test_unreadable_metadata_is_a_miss(cache, change):
    cache.put("UAL", frame(["2020-01-02"], [10.0]), META)
    path = cache.folder / "UAL.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}) if isinstance(change, dict) else change)
    assert cache.get("UAL") is None
    assert cache.lookup("UAL", "2020-01-02", "2020-01-02") is None


def test_missing_folder_is_a_miss_and_creates_nothing(tmp_path):
    cache = PriceCache(tmp_path / "absent")
    assert cache.get("UAL") is None
    cache.clear()
    assert not (tmp_path / "absent").exists()


def test_clear_one_or_all(cache):
    for ticker in ("UAL", "DAL", "OR.PA"):
        cache.put(ticker, frame(["2020-01-02"], [10.0]), META)
    cache.clear("UAL")
    assert cache.get("UAL") is None and cache.get("DAL") is not None
    cache.clear()
    assert cache.get("DAL") is None and cache.get("OR.PA") is None
    assert sorted(p.suffix for p in cache.folder.iterdir()) == [".lock"] * 3


def _child(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stderr=subprocess.PIPE)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"child ended early: {proc.communicate()[1].decode()}")
        if time.monotonic() > deadline:
            pytest.fail("child did not start writing")
        time.sleep(0.02)


SLOW_WRITER = """
    import sys, time
    import numpy as np, pandas as pd
    from incident_impact.prices import cache as cache_mod

    folder, flag, first = sys.argv[1], sys.argv[2], sys.argv[3]

    def slow_write(fh, data):
        fh.write(data[: len(data) // 3])
        fh.flush()
        open(flag, "w").close()
        time.sleep(float(sys.argv[4]))
        fh.write(data[len(data) // 3 :])

    cache_mod._write_all = slow_write
    index = pd.bdate_range(first, periods=int(sys.argv[5]), name="date")
    frame = pd.DataFrame({"adj_close": np.linspace(1.0, 2.0, len(index))}, index=index)
    cache_mod.PriceCache(folder).put("UAL", frame, {"source": "child"})
"""


def test_writer_killed_mid_write_leaves_the_old_content(cache, tmp_path):
    old = frame(["2020-01-02", "2020-01-03", "2020-01-06"], [10.0, 11.0, 12.0])
    cache.put("UAL", old, META)
    before = {p.name: p.read_bytes() for p in cache.folder.iterdir()}
    flag = tmp_path / "writing"
    child = _child(SLOW_WRITER, str(cache.folder), str(flag), "2019-06-03", "60", "20000")
    try:
        _wait_for(flag, child)
        assert [p.name for p in cache.folder.glob(".UAL.csv.*.tmp")]  # the torn file exists
        pd.testing.assert_frame_equal(cache.get("UAL").data, as_ns(old))  # readers never wait for writers
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    history = cache.get("UAL")
    pd.testing.assert_frame_equal(history.data, as_ns(old), check_exact=True)
    assert {p.name: p.read_bytes() for p in cache.folder.iterdir() if p.suffix != ".tmp"} == before
    cache.put("UAL", frame(["2020-01-06", "2020-01-07"], [12.0, 13.0]), META)  # the dead writer's lock is gone
    assert cache.get("UAL").data["adj_close"].tolist() == [10.0, 11.0, 12.0, 13.0]
    assert list(cache.folder.glob("*.tmp")) == []  # its leftover was removed


def test_two_processes_writing_one_ticker_do_not_lose_rows(cache, tmp_path):
    flags = [tmp_path / "a", tmp_path / "b"]
    children = [
        _child(SLOW_WRITER, str(cache.folder), str(flags[0]), "2020-01-01", "0.5", "300"),
        _child(SLOW_WRITER, str(cache.folder), str(flags[1]), "2020-06-01", "0.5", "300"),
    ]
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err.decode()
    history = cache.get("UAL")  # valid: the sha256 matches
    expected = pd.bdate_range("2020-01-01", periods=300).union(pd.bdate_range("2020-06-01", periods=300))
    assert list(history.data.index) == list(expected)  # both downloads are in: no lost update
    meta = json.loads((cache.folder / "UAL.json").read_text())
    assert meta["rows"] == len(expected) and meta["source"] == "child"


# ----------------------------------------------------------------- damaged metadata (issue 12)
@pytest.mark.parametrize("start", [float("nan"), "", "x", 5, [], {}, "2020-13-45"])
def test_damaged_start_in_the_metadata_is_a_miss_with_the_reason(cache, start):
    cache.put("UAL", frame(["2020-01-02", "2020-01-03", "2020-01-06"], [1.0, 2.0, 3.0]), META)
    path = cache.folder / "UAL.json"
    meta = json.loads(path.read_text())
    meta["start"] = start
    path.write_text(json.dumps(meta))  # json writes NaN for the float
    assert cache.lookup("UAL", "2020-01-02", "2020-01-06") is None
    assert cache.get("UAL") is None
    assert "start" in cache.damage("UAL")
    cache.put("UAL", frame(["2020-01-02", "2020-01-03"], [1.0, 2.0]), META)  # a new download replaces it
    assert cache.damage("UAL") is None and cache.get("UAL").data["adj_close"].tolist() == [1.0, 2.0]


def test_damage_tells_a_missing_entry_from_a_damaged_one(cache):
    assert cache.damage("UAL") is None  # nothing cached: no damage
    cache.put("UAL", frame(["2020-01-02", "2020-01-03"], [1.0, 2.0]), META)
    assert cache.damage("UAL") is None
    (cache.folder / "UAL.csv").write_text("date,adj_close\n2020-01-02,9\n")
    assert "checksum" in cache.damage("UAL")
    (cache.folder / "UAL.json").write_text("{not json")
    assert "metadata" in cache.damage("UAL")
    (cache.folder / "UAL.csv").unlink()
    (cache.folder / "UAL.json").write_text("{}")
    assert cache.damage("UAL")
