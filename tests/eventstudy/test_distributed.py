"""The distributed path (Dask): a Parquet returns dataset partitioned by ticker, one task per partition,
the cross-sectional tests pooled centrally — the batch engine's numbers to 1e-10, same failures."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import run_study

pytest.importorskip("duckdb", reason="the distributed path reads Parquet with DuckDB (extra 'duckdb')")
pytest.importorskip("distributed", reason='needs dask.distributed: pip install "incident-impact[dask]"')
from dask.distributed import Client, LocalCluster  # noqa: E402

from incident_impact.eventstudy.distributed import run_study_dask, run_study_partitions  # noqa: E402
from test_batch import N_DAYS, assert_same_study, events_for, panel  # noqa: E402,F401  (shared fixture and checks)
from test_outofcore import long_returns, write_parquet  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
        c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def by_bucket(wide: pd.DataFrame, target, buckets: dict[str, int]) -> None:
    """The panel as hive partitions ``bucket=k/`` that split the tickers."""
    long = long_returns(wide).drop(columns="year")
    long = long[np.isfinite(long["return"])]  # a dataset has rows only where there are returns
    write_parquet(long.assign(bucket=long["ticker"].map(buckets)), target, "bucket")


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def clustered_events(wide: pd.DataFrame, rng, n: int = 60) -> pd.DataFrame:
    """Many events on few dates: pairs that share dates within and across partitions."""
    days = wide.index[rng.choice(np.arange(300, N_DAYS - 10), 6, replace=False)]
    return pd.DataFrame({"event_id": [f"k{i}" for i in range(n)],
                         "ticker": [f"T{rng.integers(0, 8)}" for _ in range(n)],
                         "event_date": [days[rng.integers(0, 6)] + pd.Timedelta(days=int(rng.integers(0, 3)))
                                        for _ in range(n)]})


@pytest.mark.parametrize("model", ["market", "mean", "market-adjusted"])
def test_dask_study_equals_the_batch_engine(panel, tmp_path, client, model):
    wide, market, other = panel
    rng = np.random.default_rng(11)
    # the late listing's shortened estimation window (a partial row) shares window dates with other partitions
    late = pd.DataFrame({"event_id": [f"late{t}" for t in "0135"], "ticker": [f"T{t}" for t in "4135"],
                         "event_date": wide.index[650]})  # T4: 140 estimation days
    events = pd.concat([events_for(wide, rng), clustered_events(wide, rng), late], ignore_index=True)
    events = events.assign(benchmark=rng.choice(["mkt", "other", "nope"], len(events), p=[.6, .3, .1]))
    benches = pd.DataFrame({"mkt": market, "other": other})
    # three partitions: tickers split across them (EMPTY has no rows at all, NOPE is unknown)
    by_bucket(wide, tmp_path / "returns", {"T0": 0, "T1": 1, "T2": 2, "T3": 0, "T4": 1, "T5": 2, "T6": 0, "T7": 1})
    windows = [(0, 0), (0, 1), (-1, 1), (-5, 5)]
    expected = quiet(run_study, wide, benches, events, model=model, windows=windows)
    got = quiet(run_study_dask, tmp_path / "returns", benches, events, client=client, model=model, windows=windows)
    assert got.engine.name == "dask" and got.n_events == expected.n_events > 60
    assert expected.tests((0, 1)).at["kp_bmp", "note"] != "rbar = 0.0000"
    assert_same_study(got, expected, extra_windows=[(0, 2), (-3, 0)])
    assert len(got.failures) >= 4 and got.warnings == expected.warnings


def test_summary_tests_equal_the_batch_engine_in_process(panel, tmp_path):
    """Without a cluster the same tasks run one after the other; the pooled nine tests are the batch engine's."""
    wide, market, _ = panel
    rng = np.random.default_rng(12)
    events = pd.concat([events_for(wide, rng), clustered_events(wide, rng, 80)], ignore_index=True)
    by_bucket(wide, tmp_path / "r", {f"T{i}": i % 4 for i in range(8)})
    expected = quiet(run_study, wide, market, events, windows=[(0, 1), (-2, 2)])
    summary = quiet(run_study_partitions, tmp_path / "r", market, events, windows=[(0, 1), (-2, 2)])
    assert summary.n_partitions == 4 and summary.n_events == expected.n_events
    for w in [(0, 1), (-2, 2)]:
        want = expected.tests(w)
        got = summary.tests(w)
        names = got.index.tolist()
        assert names == list(want.index)  # every test, corrado_zivney and grank included (they were missing)
        np.testing.assert_allclose(got["statistic"], want.loc[names, "statistic"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got["p_value"], want.loc[names, "p_value"], rtol=1e-10, atol=1e-12, equal_nan=True)


def test_partitions_by_date_are_refused(panel, tmp_path, client):
    wide, market, _ = panel
    write_parquet(long_returns(wide), tmp_path / "by_year", "year")
    events = events_for(wide, np.random.default_rng(3), n=5)
    with pytest.raises(IncidentImpactError, match="two partitions"):
        run_study_dask(tmp_path / "by_year", market, events, client=client)
    with pytest.raises(IncidentImpactError, match="no partitioned Parquet dataset"):
        run_study_dask(tmp_path / "missing", market, events, client=client)
    with pytest.raises(IncidentImpactError, match="partitions="):
        run_study_dask("s3://bucket/returns", market, events, client=client)


def test_worker_processes(panel, tmp_path):
    """The tasks and their results cross process boundaries (pickled): a cluster of worker processes."""
    wide, market, _ = panel
    rng = np.random.default_rng(13)
    events = pd.concat([events_for(wide, rng, n=10), clustered_events(wide, rng, 20)], ignore_index=True)
    by_bucket(wide, tmp_path / "r", {f"T{i}": i % 2 for i in range(8)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as c:
            got = run_study_dask(tmp_path / "r", market, events, client=c, windows=[(0, 1)])
    assert_same_study(got, quiet(run_study, wide, market, events, windows=[(0, 1)]))
