"""Price files that lie: absent rows (a return across a hole), unadjusted splits, impossible prices.

A missing row must give the numbers of a missing cell (one return never spans two sessions);
split-like and implausible returns are kept but flagged (``PriceHistory.suspect_returns``);
prices that overflow or make a -100 % return are dropped like missing cells. Hostile files are
written in ``tmp_path``; the real-data cases copy ``$INCIDENT_IMPACT_SHARED_DATA/prices`` there.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from incident_impact.calendar import get_calendar
from incident_impact.cli import cli
from incident_impact.eventstudy import event_study
from incident_impact.prices import CSVDirSource, PriceHistory
from incident_impact.prices.integrity import infer_exchange

SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
SHARED = str(Path(SHARED).resolve()) if SHARED else None  # the CLI tests change the working folder
needs_shared = pytest.mark.skipif(not SHARED, reason="real prices need INCIDENT_IMPACT_SHARED_DATA=/work/shared/data")
UAL_ARGS = ("analyze", "--ticker", "UAL", "--date", "2017-04-10", "--benchmark", "^GSPC", "--offline", "--no-report",
            "--format", "json")


@pytest.fixture
def run(monkeypatch, tmp_path):
    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("INCIDENT_IMPACT_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)

    def invoke(folder):
        res = CliRunner().invoke(cli, [*UAL_ARGS, "--data-dir", str(folder)])
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        cars = {(w["start"], w["end"]): w["car"] for w in out["windows"]}
        return cars, out

    return invoke


def copy_shared(tmp_path, name: str, edit=None, **files) -> Path:
    """A folder ``tmp_path/name`` with UAL.csv and GSPC.csv from the shared data, ``edit(ticker, frame)`` applied."""
    folder = tmp_path / name
    folder.mkdir()
    for stem in ("UAL", "GSPC"):
        frame = pd.read_csv(Path(SHARED) / "prices" / f"{stem}.csv", dtype={"date": str})
        if edit is not None:
            frame = edit(stem, frame)
        frame.to_csv(folder / f"{stem}.csv", index=False)
    return folder


def shared_returns(stem: str) -> pd.Series:
    frame = pd.read_csv(Path(SHARED) / "prices" / f"{stem}.csv", index_col="date", parse_dates=True)
    return frame["adj_close"].pct_change().dropna()


# =========================================================================== missing rows
@needs_shared
@pytest.mark.realdata
def test_a_deleted_benchmark_row_gives_the_car_of_an_empty_cell(run, tmp_path):
    day = "2017-04-12"
    deleted = copy_shared(tmp_path, "deleted", lambda t, f: f[f["date"] != day] if t == "GSPC" else f)
    blanked = copy_shared(tmp_path, "blanked",
                          lambda t, f: f.assign(adj_close=f["adj_close"].where(f["date"] != day)) if t == "GSPC" else f)
    cars, out = run(deleted)
    blank_cars, _ = run(blanked)
    # independently: the benchmark returns of 04-12 and 04-13 (both touch the missing price) removed
    bench = shared_returns("GSPC").drop(pd.to_datetime([day, "2017-04-13"]))
    direct = event_study(shared_returns("UAL"), bench, "2017-04-10")
    assert cars[(0, 5)] == pytest.approx(direct.car((0, 5))[0], rel=1e-9)
    assert cars[(0, 5)] == pytest.approx(-0.0130, abs=5e-5)  # was +0.46 %: a two-session return paired with one
    assert cars == pytest.approx(blank_cars, rel=1e-12)
    assert "^GSPC: 1 return spanning a missing session dropped (2017-04-12 missing; XNYS calendar)" in out["data"]["notes"]


@needs_shared
@pytest.mark.realdata
def test_six_missing_months_are_not_one_daily_return(run, tmp_path):
    def drop(ticker, frame):
        return frame[~frame["date"].between("2016-06-01", "2016-11-30")] if ticker == "UAL" else frame

    _, out = run(copy_shared(tmp_path, "gap", drop))
    assert out["params"]["sigma"] == pytest.approx(0.0187, abs=0.001)  # was 0.051: the six-month return was a "day"
    assert ("UAL: 1 return spanning missing sessions dropped (2016-06-01..2016-11-30 missing, 128 sessions; "
            "XNYS calendar)") in out["data"]["notes"]


def sessions(start="2016-01-04", end="2017-06-30", exchange="XNYS") -> pd.DatetimeIndex:
    return pd.DatetimeIndex(get_calendar(exchange).sessions_in_range(start, end), name="date")


def history(prices, index, ticker="X", exchange=None) -> PriceHistory:
    data = pd.DataFrame({"adj_close": np.asarray(prices, dtype=float), "close": np.nan, "volume": np.nan}, index=index)
    return PriceHistory(ticker, data, "test", exchange=exchange)


def test_deleted_rows_give_the_returns_of_empty_cells():
    index = sessions("2017-03-01", "2017-04-28")
    prices = 100 * np.cumprod(1 + np.random.default_rng(3).normal(0, 0.01, len(index)))
    gone = [5, 6, 7, 20]
    blank = prices.copy()
    blank[gone] = np.nan
    deleted = history(np.delete(prices, gone), index.delete(gone))
    pd.testing.assert_series_equal(deleted.returns(), history(blank, index).returns(), check_exact=True, check_freq=False)
    assert deleted.notes == ("X: 2 returns spanning missing sessions dropped (2017-03-08..2017-03-10 missing, 3 sessions; "
                             "2017-03-29 missing; XNYS calendar)",)
    assert list(deleted.gaps["n_missing"]) == [3, 1]


def test_rows_on_holidays_and_weekends_are_kept():
    index = sessions("2017-06-26", "2017-07-10").union(pd.DatetimeIndex(["2017-07-04", "2017-07-08"]))  # holiday, Saturday
    h = history(np.linspace(50, 51, len(index)), index)
    assert len(h.returns()) == len(index) - 1 and h.notes == ()


def test_foreign_listings_use_their_own_calendar():
    index = sessions("2017-04-03", "2017-05-31", "XPAR")  # Paris is closed on Easter Monday and May 1; New York is not
    prices = np.linspace(100, 110, len(index))
    assert infer_exchange("KER.PA") == "XPAR" and infer_exchange("^HSI") == "XHKG" and infer_exchange("UAL") is None
    assert history(prices, index, "KER.PA").notes == ()
    assert len(history(prices, index, "KER.PA").returns()) == len(index) - 1
    as_if_new_york = history(prices, index, "KER.PA", exchange="XNYS")
    assert as_if_new_york.notes == ("KER.PA: 2 returns spanning missing sessions dropped (2017-04-17 missing; "
                                    "2017-05-01 missing; XNYS calendar)",)
    again = as_if_new_york.with_exchange("XPAR")
    assert again.notes == () and again.exchange == "XPAR" and len(again.returns()) == len(index) - 1


def test_the_gap_notes_reach_the_loaded_history(tmp_path):
    index = sessions("2017-04-03", "2017-04-21")
    frame = pd.DataFrame({"date": index.strftime("%Y-%m-%d"), "adj_close": np.linspace(50, 52, len(index))})
    frame.drop(index=[7]).to_csv(tmp_path / "UAL.csv", index=False)
    h = CSVDirSource(tmp_path).load("UAL")
    assert h.notes == ("UAL: 1 return spanning a missing session dropped (2017-04-12 missing; XNYS calendar)",)
    assert pd.Timestamp("2017-04-13") not in h.returns().index and len(h.returns()) == len(index) - 3


# =========================================================================== splits and implausible prices
def write_split(tmp_path, factor, columns=("date", "adj_close")) -> Path:
    index = sessions()
    rng = np.random.default_rng(11)
    market = rng.normal(0.0004, 0.009, len(index))
    stock = 0.0001 + 1.3 * market + rng.normal(0, 0.012, len(index))
    prices = 60 * np.cumprod(1 + stock)
    prices[index >= "2017-04-10"] /= factor
    folder = tmp_path / f"split{factor}"
    folder.mkdir()
    pd.DataFrame({columns[0]: index.strftime("%Y-%m-%d"), columns[1]: prices}).to_csv(folder / "UAL.csv", index=False)
    pd.DataFrame({"date": index.strftime("%Y-%m-%d"), "adj_close": 2000 * np.cumprod(1 + market)}).to_csv(
        folder / "GSPC.csv", index=False)
    return folder


def test_an_unadjusted_split_on_day0_is_flagged(run, tmp_path):
    folder = write_split(tmp_path, 10)
    cars, out = run(folder)
    h = CSVDirSource(folder).load("UAL")
    suspects = h.suspect_returns
    assert list(suspects.columns) == ["date", "return", "kind", "dropped", "reason"]
    assert suspects[["date", "kind", "dropped"]].values.tolist() == [[pd.Timestamp("2017-04-10"), "split", False]]
    assert suspects["return"].iloc[0] == pytest.approx(h.returns().loc["2017-04-10"], rel=1e-15)
    note = suspects["reason"].iloc[0]
    assert note.startswith("UAL: return of -89.9 % on") and "on 2017-04-10 looks like an unadjusted 10-for-1 split (price ratio 1:10)" in note
    assert note in out["data"]["notes"] and note in h.notes
    assert cars[(-1, 1)] < -0.85  # kept: the caller says the number rests on it


def test_a_close_only_file_with_a_2_for_1_split_is_flagged(tmp_path):
    h = CSVDirSource(write_split(tmp_path, 2, ("Date", "Close"))).load("UAL")
    assert h.suspect_returns["kind"].tolist() == ["split"]
    assert "2-for-1 split (price ratio 1:2)" in h.suspect_returns["reason"].iloc[0]
    assert "no adjusted close: returns exclude dividends" in h.notes


def test_an_implausible_return_is_flagged_and_a_reverse_split_named():
    index = sessions("2017-04-03", "2017-04-21")
    prices = np.full(len(index), 10.0)
    prices[5:] = 22.0  # +120 % on 2017-04-10
    prices[10:] = 66.5  # x3.02 on 2017-04-18
    h = history(prices, index, "UAL")
    assert h.suspect_returns[["kind", "dropped"]].values.tolist() == [["implausible", False], ["split", False]]
    assert h.notes[0] == ("UAL: return of +120.0 % on 2017-04-10 is implausible for one session (|return| above 75 %); "
                          "check the adjusted prices")
    assert "1-for-3 reverse split (price ratio 3:1)" in h.notes[1]
    assert h.returns().loc["2017-04-10"] == pytest.approx(1.2)


@pytest.mark.parametrize("price", ["1e150", "1e-320"])
def test_an_absurd_price_is_dropped_like_an_empty_cell(run, tmp_path, price):
    folder = write_split(tmp_path, 1)
    frame = pd.read_csv(folder / "UAL.csv", dtype=str)
    frame.loc[frame["date"] == "2017-04-07", "adj_close"] = price
    frame.to_csv(folder / "UAL.csv", index=False)
    cars, out = run(folder)
    frame.loc[frame["date"] == "2017-04-07", "adj_close"] = ""
    blank = tmp_path / "blank"
    blank.mkdir()
    frame.to_csv(blank / "UAL.csv", index=False)
    (blank / "GSPC.csv").write_bytes((folder / "GSPC.csv").read_bytes())
    blank_cars, _ = run(blank)
    assert cars == pytest.approx(blank_cars, rel=1e-12) and all(abs(c) < 1 for c in cars.values())
    h = CSVDirSource(folder).load("UAL")
    assert h.suspect_returns[["date", "kind", "dropped"]].values.tolist() == [
        [pd.Timestamp("2017-04-07"), "impossible", True], [pd.Timestamp("2017-04-10"), "impossible", True]]
    assert np.isfinite(h.returns()).all() and (h.returns().abs() < 0.2).all()
    assert any("on 2017-04-07" in n and "impossible for one session" in n and "dropped" in n for n in out["data"]["notes"])
