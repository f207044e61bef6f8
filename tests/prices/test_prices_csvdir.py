"""CSV folder source and the shared CSV reader."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import PriceDataError, TickerNotFoundError
from incident_impact.prices import CSVDirSource, PriceHistory, file_stem, read_price_csv

SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
needs_shared = pytest.mark.skipif(not SHARED, reason="real prices need INCIDENT_IMPACT_SHARED_DATA=/work/shared/data")

SHARED_FORMAT = """date,open,high,low,close,adj_close,volume
2017-04-07,71.0,72.0,70.5,71.52,70.10,3460400
2017-04-10,71.3,71.9,71.0,71.52,71.52,3460400
2017-04-11,68.9,71.2,68.0,70.71,70.71,17696500
"""
YAHOO_EXPORT = """\ufeffAdj Close,Date,Open,High,Low,Close,Volume
70.10,2017-04-07,71.0,72.0,70.5,71.52,3460400
71.52,2017-04-10,71.3,71.9,71.0,71.52,3460400
70.71,2017-04-11,68.9,71.2,68.0,70.71,17696500
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_both_header_formats_give_identical_frames(tmp_path):
    shared = read_price_csv(write(tmp_path, "A.csv", SHARED_FORMAT), "UAL")
    yahoo = read_price_csv(write(tmp_path, "B.csv", YAHOO_EXPORT), "UAL")
    pd.testing.assert_frame_equal(shared, yahoo)
    assert list(shared.columns) == ["adj_close", "close", "volume"]
    assert shared.index.name == "date"
    assert list(shared.index.strftime("%Y-%m-%d")) == ["2017-04-07", "2017-04-10", "2017-04-11"]
    assert shared["adj_close"].tolist() == [70.10, 71.52, 70.71]
    assert shared["volume"].iloc[-1] == 17696500.0
    assert all(dtype == np.float64 for dtype in shared.dtypes)


def test_header_variants_and_bom(tmp_path):
    text = "\ufeff DATE , Adj_Close ,CLOSE\n2020-01-02,10,11\n2020-01-03,9,10\n"
    frame = read_price_csv(write(tmp_path, "X.csv", text), "X")
    assert frame["adj_close"].tolist() == [10.0, 9.0]
    assert frame["close"].tolist() == [11.0, 10.0]
    assert frame["volume"].isna().all()


def test_index_ticker_found_as_gspc_csv(tmp_path):
    write(tmp_path, "GSPC.csv", SHARED_FORMAT)
    history = CSVDirSource(tmp_path).load("^GSPC")
    assert history.ticker == "^GSPC"
    assert history.source == f"CSV folder {tmp_path} (GSPC.csv)"
    assert history.data["adj_close"].iloc[-1] == 70.71


def test_lookup_is_case_insensitive_and_accepts_caret_file(tmp_path):
    write(tmp_path, "ual.csv", SHARED_FORMAT)
    write(tmp_path, "^VIX.csv", SHARED_FORMAT)
    assert CSVDirSource(tmp_path).load("UAL").source.endswith("(ual.csv)")
    assert CSVDirSource(tmp_path).load("^vix").source.endswith("(^VIX.csv)")


def test_two_files_for_one_ticker_is_an_error(tmp_path):
    write(tmp_path, "GSPC.csv", SHARED_FORMAT)
    write(tmp_path, "^GSPC.csv", SHARED_FORMAT)
    with pytest.raises(PriceDataError, match=r"both GSPC.csv and \^GSPC.csv hold \^GSPC"):
        CSVDirSource(tmp_path).load("^GSPC")


def test_unsorted_rows_are_sorted_without_loss(tmp_path):
    text = "date,adj_close\n2020-01-03,2\n2020-01-01,1\n2020-01-02,3\n"
    write(tmp_path, "X.csv", text)
    history = CSVDirSource(tmp_path).load("X")
    assert list(history.data.index.strftime("%d")) == ["01", "02", "03"]
    assert history.data["adj_close"].tolist() == [1.0, 3.0, 2.0]
    assert any("not in date order; sorted" in note for note in history.notes)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["X.csv", "empty"]),
        ("date,adj_close\n", ["X.csv", "header but no rows"]),
        ("day,adj_close\n2020-01-01,1\n", ["X.csv", "no date column", "day,adj_close"]),
        ("date,volume\n2020-01-01,1\n", ["X.csv", "no adj_close or close column"]),
        ("date,adj_close\n2020-01-01,1\n2020-13-45,2\n", ["X.csv", "unparseable date '2020-13-45'", "line 3"]),
        ("date,adj_close\n01/02/2020,1\n", ["unparseable date '01/02/2020'", "YYYY-MM-DD"]),
        (
            "date,adj_close\n2020-01-01,1\n2020-01-02,2\n2020-01-01,3\n2020-01-02,4\n",
            ["X.csv", "duplicate date 2020-01-01", "lines 2 and 4"],
        ),
        ("date,adj_close\n2020-01-01,1\n2020-01-02,abc\n", ["X.csv", "non-numeric adj_close 'abc'", "line 3", "2020-01-02"]),
        ("date,close,adj_close\n2020-01-01,0,1\n", ["X.csv", "zero close '0'", "2020-01-01", "positive"]),
        ("date,adj_close\n2020-01-01,-3.5\n", ["negative adj_close '-3.5'", "positive"]),
        ("date,adj_close,volume\n2020-01-01,1,-5\n", ["negative volume '-5'"]),
        ("date,adj_close\n2020-01-01,\n2020-01-02,null\n", ["every adj_close cell is empty"]),
    ],
)
def test_malformed_files_raise_one_clear_line(tmp_path, text, words):
    path = write(tmp_path, "X.csv", text)
    with pytest.raises(PriceDataError) as info:
        read_price_csv(path, "X")
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_empty_adj_close_cells_stay_missing_and_are_noted(tmp_path):
    text = "date,close,adj_close\n2020-01-01,10,10\n2020-01-02,11,\n2020-01-03,12,null\n2020-01-06,13,13\n2020-01-07,14,14.3\n"
    write(tmp_path, "X.csv", text)
    history = CSVDirSource(tmp_path).load("X")
    assert history.data["adj_close"].isna().tolist() == [False, True, True, False, False]
    assert history.data["close"].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0]  # never filled in
    assert "2 rows with empty adj_close kept as missing" in history.notes
    # only the day after a valid price has a return
    assert history.returns().round(12).to_dict() == {pd.Timestamp("2020-01-07"): 0.1}
    # the note counts the rows of the requested range only
    assert CSVDirSource(tmp_path).load("X", "2020-01-06", "2020-01-07").notes == ()


def test_close_stands_in_for_missing_adj_close(tmp_path):
    write(tmp_path, "X.csv", "Date,Close,Volume\n2020-01-02,100,5\n2020-01-03,101,6\n")
    history = CSVDirSource(tmp_path).load("X")
    assert history.data["adj_close"].tolist() == [100.0, 101.0]
    assert history.notes == ("no adjusted close: returns exclude dividends",)


def test_file_with_only_date_and_adj_close_needs_no_note(tmp_path):
    write(tmp_path, "X.csv", "date,adj_close\n2020-01-02,100\n2020-01-03,101\n")
    history = CSVDirSource(tmp_path).load("X")
    assert history.notes == ()
    assert history.data["close"].isna().all() and history.data["volume"].isna().all()


def test_load_cuts_to_inclusive_range(tmp_path):
    write(tmp_path, "UAL.csv", SHARED_FORMAT)
    history = CSVDirSource(tmp_path).load("UAL", "2017-04-10", pd.Timestamp("2017-04-11"))
    assert list(history.data.index.strftime("%Y-%m-%d")) == ["2017-04-10", "2017-04-11"]
    assert len(CSVDirSource(tmp_path).load("UAL", end=dt.date(2017, 4, 10)).data) == 2


def test_missing_folder_and_missing_file(tmp_path):
    with pytest.raises(PriceDataError, match=f"price folder {tmp_path / 'nope'} does not exist"):
        CSVDirSource(tmp_path / "nope").load("UAL")
    with pytest.raises(TickerNotFoundError) as info:
        CSVDirSource(tmp_path).load("ZZZZ")
    assert str(info.value) == f"no ZZZZ.csv for ZZZZ in CSV folder {tmp_path}"


def test_returns_on_a_hand_example():
    index = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"], name="date")
    data = pd.DataFrame({"adj_close": [100.0, 110.0, 99.0], "close": np.nan, "volume": np.nan}, index=index)
    returns = PriceHistory("X", data, "test").returns()
    assert returns.name == "X"
    assert list(returns.index) == list(index[1:])
    assert returns.tolist() == pytest.approx([0.10, -0.10], abs=1e-12)


def test_covers_compares_first_and_last_valid_dates():
    index = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], name="date")
    data = pd.DataFrame({"adj_close": [np.nan, 1.0, 2.0, np.nan], "close": np.nan, "volume": np.nan}, index=index)
    history = PriceHistory("X", data, "test")
    assert history.covers("2020-01-03", "2020-01-06")
    assert not history.covers("2020-01-02", "2020-01-06")  # first valid price is on the 3rd
    assert not history.covers("2020-01-03", "2020-01-07")  # last valid price is on the 6th
    assert history.covers(None, None)
    assert not PriceHistory("X", data.iloc[:0], "test").covers(None, None)


@pytest.mark.parametrize(("ticker", "stem"), [("^GSPC", "GSPC"), ("BRK-B", "BRK-B"), ("OR.PA", "OR.PA"), ("EURUSD=X", "EURUSD=X")])
def test_file_stem(ticker, stem):
    assert file_stem(ticker) == stem


@pytest.mark.parametrize("ticker", ["../etc/passwd", "a/b", "a\\b", ".hidden", "A..B", "", "^", " UAL", "UAL\x00", "UAL\n"])
def test_file_stem_rejects_unsafe_tickers(ticker):
    with pytest.raises(PriceDataError, match="unsafe ticker"):
        file_stem(ticker)


@needs_shared
@pytest.mark.realdata
@pytest.mark.parametrize(("ticker", "day", "expected"), [("UAL", "2017-04-11", -0.0113), ("META", "2018-03-19", -0.0677)])
def test_real_event_day_returns(ticker, day, expected):
    history = CSVDirSource(Path(SHARED) / "prices").load(ticker, "2017-01-03", "2018-12-31")
    assert history.returns().loc[day] == pytest.approx(expected, abs=5e-4)
    assert history.covers("2017-01-03", "2018-12-31")
    assert history.notes == ()
