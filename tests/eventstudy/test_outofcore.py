"""Out-of-core path: a Parquet returns dataset read by DuckDB gives the in-memory study's numbers and failures."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import run_study

duckdb = pytest.importorskip("duckdb")
from incident_impact.eventstudy.outofcore import event_rows, run_study_parquet  # noqa: E402
from test_batch import assert_same_study, events_for, panel  # noqa: E402,F401  (shared fixture and checks)


def write_parquet(frame: pd.DataFrame, target, partition_by: str | None = None) -> None:
    con = duckdb.connect()
    con.register("frame", frame)
    options = f"(FORMAT parquet, PARTITION_BY ({partition_by}))" if partition_by else "(FORMAT parquet)"
    con.execute(f"COPY frame TO '{target}' {options}")


def long_returns(wide: pd.DataFrame) -> pd.DataFrame:
    long = wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="ticker", value_name="return")
    return long.assign(year=long["date"].dt.year)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("layout", ["file", "hive"])
def test_parquet_study_equals_the_in_memory_study(panel, tmp_path, layout):
    wide, market, other = panel
    rng = np.random.default_rng(5)
    events = events_for(wide, rng).assign(benchmark=lambda f: rng.choice(["mkt", "other", "nope"], len(f), p=[.6, .3, .1]))
    benches = pd.DataFrame({"mkt": market, "other": other})
    target = tmp_path / ("returns.parquet" if layout == "file" else "returns")
    write_parquet(long_returns(wide), target, "year" if layout == "hive" else None)
    expected = quiet(run_study, wide, benches, events, windows=[(0, 1), (-2, 2)])
    # a memory-limited connection that may spill to disk, as for a panel larger than memory
    con = duckdb.connect(config={"memory_limit": "64MB", "temp_directory": str(tmp_path / "spill"), "threads": 1})
    got = quiet(run_study_parquet, target, benches, events, windows=[(0, 1), (-2, 2)], connection=con)
    assert_same_study(got, expected)
    assert expected.failures["reason"].str.contains("unknown benchmark|unknown ticker|at least 120").sum() >= 3
    # only the rows the events need are read: about 260 sessions per event, not the whole panel
    few = events[events["ticker"].isin(["T3", "T6"])].iloc[:2]
    rows = event_rows(target, few, benches, windows=[(0, 1), (-2, 2)])
    assert len(rows) <= 2 * (250 + 2 + 1) + 2 * 2 and set(rows["ticker"]) <= {"T3", "T6"}


@pytest.mark.parametrize("model", ["mean", "market-adjusted", "ff3"])
def test_other_models(panel, tmp_path, model):
    wide, market, _ = panel
    rng = np.random.default_rng(8)
    f = pd.DataFrame({c: rng.normal(0, 0.006, len(wide)) for c in ("mkt_rf", "smb", "hml")}, index=wide.index).assign(rf=1e-4)
    f.iloc[50, 1] = np.nan
    events = events_for(wide, rng, n=15)
    write_parquet(long_returns(wide), tmp_path / "r.parquet")
    kwargs = dict(model=model, windows=[(0, 1)], factors=f if model == "ff3" else None)
    bench = None if model == "ff3" else market
    assert_same_study(quiet(run_study_parquet, tmp_path / "r.parquet", bench, events, **kwargs),
                      quiet(run_study, wide, bench, events, **kwargs))


def test_bad_paths_and_columns(panel, tmp_path):
    wide, market, _ = panel
    events = events_for(wide, np.random.default_rng(2), n=3)
    with pytest.raises(IncidentImpactError, match="no Parquet dataset"):
        run_study_parquet(tmp_path / "missing.parquet", market, events)
    write_parquet(pd.DataFrame({"day": [1], "name": ["x"]}), tmp_path / "bad.parquet")
    with pytest.raises(IncidentImpactError, match="cannot read the returns"):
        run_study_parquet(tmp_path / "bad.parquet", market, events)


def test_clustered_events_on_neighbouring_days_batch_equals_loop(panel, tmp_path):
    """Kolari-Pynnönen pairs grouped by estimation start (events 0, 1, 2 sessions apart, gap-free or not),
    from Parquet and in memory, against the loop's pair-by-pair correlations."""
    wide, market, _ = panel
    rng = np.random.default_rng(21)
    days = wide.index[[620, 621, 622, 640, 700]]
    events = pd.DataFrame({"event_id": [f"c{i}" for i in range(40)],
                           "ticker": [f"T{rng.integers(0, 8)}" for _ in range(40)],
                           "event_date": [days[rng.integers(0, 5)] for _ in range(40)]})
    windows = [(0, 1), (-1, 1), (-2, 2)]
    loop = quiet(run_study, wide, market, events, windows=windows, engine="loop")
    assert all(loop.tests(w).at["kp_bmp", "note"] != "rbar = 0.0000" for w in windows)
    assert_same_study(quiet(run_study, wide, market, events, windows=windows), loop)
    write_parquet(long_returns(wide), tmp_path / "r.parquet")
    assert_same_study(quiet(run_study_parquet, tmp_path / "r.parquet", market, events, windows=windows), loop)


def test_residual_pairs_first_dates_with_compact_positions():
    """Positions stored as int32 (the pooled step of the distributed path): the first present date of a
    row with missing days, and the band width, are right (a wrapped fill value once made the band huge)."""
    from incident_impact.eventstudy.batch_pairs import ResidualPairs

    pos = np.array([[5, 6, 7, 8], [-1, -1, 10, 11], [20, 21, 22, -1]], dtype=np.int32)
    res = np.where(pos >= 0, np.random.default_rng(0).normal(size=pos.shape), np.nan)
    pairs = ResidualPairs(pos, res)
    assert pairs.lo.tolist() == [5, 10, 20] and pairs.width == 4 and pairs.complete.tolist() == [True, False, False]
