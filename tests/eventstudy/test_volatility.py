"""Abnormal volatility (variance ratio, F test, cross-sectional t, pooled chi-square) against scipy,
both engines, a small size/power simulation; the volume outcome's helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import event_study, run_study
from incident_impact.eventstudy import simulation as sim
from incident_impact.eventstudy.volatility import abnormal_volatility
from incident_impact.eventstudy.volume import OUTCOMES, volume_series, volume_study
from incident_impact.prices.base import make_history, parse_price_csv


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(9)
    n_days, tickers = 500, [f"V{i}" for i in range(12)]
    dates = pd.bdate_range("2017-01-02", periods=n_days)
    market = pd.Series(rng.normal(0.0003, 0.01, n_days), index=dates)
    wide = pd.DataFrame({t: rng.uniform(0.7, 1.3) * market + rng.normal(0, 0.02, n_days) for t in tickers}, index=dates)
    day0 = rng.integers(280, 480, len(tickers))
    for t, d in zip(tickers, day0, strict=True):
        wide.iloc[d:d + 2, wide.columns.get_loc(t)] *= 3  # volatility up on days 0 and 1
    events = pd.DataFrame({"event_id": tickers, "ticker": tickers, "event_date": dates[day0]})
    return wide, market, events


def test_against_scipy_and_both_engines(panel):
    wide, market, events = panel
    out = {}
    for engine in ("batch", "loop"):
        study = run_study(wide, market, events, windows=[(0, 1), (-5, 5)], engine=engine)
        out[engine] = abnormal_volatility(study, (0, 1))
    av = out["batch"]
    pd.testing.assert_frame_equal(av.events, out["loop"].events, rtol=1e-10)
    pd.testing.assert_frame_equal(av.tests(), out["loop"].tests(), rtol=1e-10)
    # by hand from the single-event path
    vr, dfs = [], []
    for row in events.itertuples():
        r = event_study(wide[row.ticker], market, row.event_date, windows=[(0, 1)])
        ev = r.event[(r.event["rel_day"] >= 0) & (r.event["rel_day"] <= 1)]
        vr.append(np.mean((ev["ar"] / ev["ar_se"]) ** 2))
        dfs.append(r.fitted.df)
    vr, dfs = np.array(vr), np.array(dfs, dtype=float)
    np.testing.assert_allclose(av.events["variance_ratio"], vr, rtol=1e-10)
    f_p = 2 * np.minimum(stats.f.cdf(vr, 2, dfs), stats.f.sf(vr, 2, dfs))
    np.testing.assert_allclose(av.events["f_p_value"], f_p, rtol=1e-8)
    t = stats.ttest_1samp(vr - dfs / (dfs - 2), 0)
    table = av.tests()
    assert table.at["av_t", "statistic"] == pytest.approx(t.statistic, rel=1e-10)
    assert table.at["av_t", "p_value"] == pytest.approx(t.pvalue, rel=1e-8)
    # skewness-adjusted t by hand (LBT 1999 eq. 5 with scipy's skewness rescaled to their gamma_hat)
    av_i, n = vr - dfs / (dfs - 2), len(vr)
    gamma = stats.skew(av_i) * ((n - 1) / n) ** 1.5
    S = av_i.mean() / av_i.std(ddof=1)
    t_sa = np.sqrt(n) * (S + gamma * S**2 / 3 + gamma / (6 * n))
    assert table.at["av_skew_t", "statistic"] == pytest.approx(t_sa, rel=1e-10)
    assert table.at["av_skew_t", "p_value"] == pytest.approx(2 * stats.t.sf(abs(t_sa), n - 1), rel=1e-8)
    chi = 2 * vr.sum()
    p_chi = 2 * min(stats.chi2.cdf(chi, 24), stats.chi2.sf(chi, 24))
    assert table.at["av_chi2", "statistic"] == pytest.approx(chi, rel=1e-10)
    assert table.at["av_chi2", "p_value"] == pytest.approx(p_chi, rel=1e-8)
    assert table.at["av_chi2", "p_value"] < 0.001 and av.mean_variance_ratio > 3  # the tripled volatility shows
    assert list(av.daily.index) == [0, 1] and (av.daily["n_events"] == 12).all()
    assert set(av.to_dict()) == {"window", "mean_variance_ratio", "events", "daily", "tests"}


def test_single_event_and_errors(panel):
    wide, market, events = panel
    r = event_study(wide["V0"], market, events.event_date[0], windows=[(0, 0)])
    av = abnormal_volatility(r)
    assert len(av.events) == 1 and "at least 2 events" in av.tests().at["av_t", "note"]
    assert av.events["variance_ratio"].iloc[0] == pytest.approx(float((r.event["ar"] / r.event["ar_se"]).iloc[0] ** 2))
    with pytest.raises(IncidentImpactError, match="StudyResult"):
        abnormal_volatility(wide)


def test_size_and_power_by_simulation():
    """CI-sized (400 replications, MC s.e. 1.1 points): the pooled chi-square keeps its size under H0
    and detects a doubled event-day variance; validation/results.md has the 4,000-replication table."""
    h0 = sim.volatility_rejection_rates("A", 400, seed=71)
    h1 = sim.volatility_rejection_rates("B", 400, seed=72)
    assert 0.025 <= h0["av_chi2"] <= 0.075 and 0.025 <= h0["f_event"] <= 0.075, h0.to_dict()
    assert 0.025 <= h0["av_skew_t"] <= 0.075, h0.to_dict()  # the plain av_t is skewed: about 8 %
    assert h1["av_chi2"] > 0.85 and h1["av_t"] > 0.6 and h1["av_skew_t"] > 0.6, h1.to_dict()


def test_volume_outcome_helpers(tmp_path):
    assert OUTCOMES == ("returns", "volume", "volatility")
    path = tmp_path / "NOVOL.csv"
    path.write_text("date,close,adj_close\n2020-01-02,10,10\n2020-01-03,11,11\n")
    frame, _ = parse_price_csv(path, "NOVOL")
    history = make_history("NOVOL", frame, "CSV folder", path=path)
    with pytest.raises(IncidentImpactError) as err:
        volume_series(history)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    ok = tmp_path / "VOL.csv"
    ok.write_text("date,close,adj_close,volume\n2020-01-02,10,10,100\n2020-01-03,11,11,\n")
    frame, _ = parse_price_csv(ok, "VOL")
    assert volume_series(make_history("VOL", frame, "CSV folder", path=ok)).tolist() == [100.0]


def test_volume_study_runs_every_test(panel):
    wide, _, events = panel
    rng = np.random.default_rng(4)
    volumes = pd.DataFrame(rng.lognormal(12, 0.4, wide.shape), index=wide.index, columns=wide.columns)
    study = volume_study(volumes, events, windows=[(0, 1)])
    assert study.model == "mean" and study.n_events == 12
    assert np.isfinite(study.tests((0, 1))["statistic"].drop("sq")).all()
    with pytest.raises(IncidentImpactError, match="market_volume"):
        volume_study(volumes, events, model="market")
