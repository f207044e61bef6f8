"""Bootstrap p-values (incident_impact/eventstudy/bootstrap.py): same seed, same numbers; both engines
agree; the resampling re-done by hand; the option on StudyResult.tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import run_study
from incident_impact.eventstudy.bootstrap import BOOTSTRAPPED


@pytest.fixture(scope="module")
def clustered():
    """Ten firms hit on one date, residuals correlated through a common shock."""
    rng = np.random.default_rng(5)
    n_days, tickers = 400, [f"F{i}" for i in range(10)]
    dates = pd.bdate_range("2016-01-01", periods=n_days)
    market = pd.Series(rng.normal(0.0003, 0.01, n_days), index=dates)
    common = rng.normal(0, 0.01, n_days)
    wide = pd.DataFrame({t: market + 0.5 * common + rng.normal(0, 0.015, n_days) for t in tickers}, index=dates)
    wide.iloc[rng.choice(300, 15, replace=False), 3] = np.nan  # holes in one firm's estimation window
    events = pd.DataFrame({"event_id": tickers, "ticker": tickers, "event_date": dates[330]})
    return wide, market, events


@pytest.fixture(scope="module")
def studies(clustered):
    wide, market, events = clustered
    return {e: run_study(wide, market, events, windows=[(0, 1), (0, 0)], engine=e) for e in ("batch", "loop")}


def test_same_seed_same_p_values_and_both_engines_agree(studies):
    for kind in ("date", "wild"):
        a = studies["batch"].bootstrap_tests((0, 1), 199, seed=42, kind=kind)
        b = studies["batch"].bootstrap_tests((0, 1), 199, seed=42, kind=kind)
        c = studies["loop"].bootstrap_tests((0, 1), 199, seed=42, kind=kind)
        pd.testing.assert_frame_equal(a, b)
        np.testing.assert_allclose(a["bootstrap_p_value"], c["bootstrap_p_value"], rtol=1e-12, equal_nan=True)
        other = studies["batch"].bootstrap_tests((0, 1), 199, seed=43, kind=kind)
        assert not a["bootstrap_p_value"].equals(other["bootstrap_p_value"])
        assert a["bootstrap_p_value"].notna().tolist() == [t in BOOTSTRAPPED for t in a.index]


def test_tests_option_adds_the_column(studies):
    study = studies["batch"]
    plain = study.tests((0, 1))
    with_boot = study.tests((0, 1), bootstrap=99, seed=1, kind="wild")
    pd.testing.assert_frame_equal(with_boot.drop(columns="bootstrap_p_value"), plain)
    p = with_boot["bootstrap_p_value"]
    assert p[list(BOOTSTRAPPED)].between(1 / 100, 1).all() and p[["corrado", "grank", "wilcoxon", "sq"]].isna().all()
    assert ((p[list(BOOTSTRAPPED)] * 100).round(9) % 1 == 0).all()  # (1 + count) / (B + 1)


def test_date_bootstrap_by_hand(studies):
    """Redo the date resampling: the same draws, pseudo CARs summed by hand, scipy's one-sample t."""
    study, B, seed, L = studies["loop"], 99, 7, 2
    est = study.estimation_panel((0, 1))
    car = study.car_frame((0, 1))["car"].to_numpy()
    draws = np.random.default_rng(seed).integers(0, est.shape[1], size=(B, L))
    pseudo = np.array([[np.nansum([est[i, d] for d in row]) for i in range(est.shape[0])] for row in draws])
    t_real = stats.ttest_1samp(car, 0).statistic
    t_star = stats.ttest_1samp(pseudo, 0, axis=1).statistic
    expected = (1 + (np.abs(t_star) >= abs(t_real)).sum()) / (B + 1)
    got = study.bootstrap_tests((0, 1), B, seed=seed, kind="date").at["cs_t", "bootstrap_p_value"]
    assert got == pytest.approx(expected, abs=1e-12)


def test_wild_bootstrap_by_hand(studies):
    """Rademacher weights shared by all events per estimation day; CAR*_i = sqrt(L / n_i) sum_t w_t AR_it."""
    study, B, seed, L = studies["batch"], 99, 8, 1
    est = study.estimation_panel((0, 0))
    x = study.car_frame((0, 0))
    scar = (x["car"] / x["se"]).to_numpy()
    w = np.random.default_rng(seed).choice([-1.0, 1.0], size=(B, est.shape[1]))
    n_i = np.isfinite(est).sum(axis=1)
    pseudo = np.stack([[np.sqrt(L / n_i[i]) * np.nansum(w[b] * est[i]) for i in range(len(n_i))] for b in range(B)])
    bmp_real = stats.ttest_1samp(scar, 0).statistic
    bmp_star = stats.ttest_1samp(pseudo / x["se"].to_numpy(), 0, axis=1).statistic
    expected = (1 + (np.abs(bmp_star) >= abs(bmp_real)).sum()) / (B + 1)
    got = study.bootstrap_tests((0, 0), B, seed=seed, kind="wild").at["bmp", "bootstrap_p_value"]
    assert got == pytest.approx(expected, abs=1e-12)


def test_bad_options_are_clear_errors(studies):
    study = studies["batch"]
    with pytest.raises(IncidentImpactError, match="unknown bootstrap kind 'pairs'"):
        study.tests((0, 1), bootstrap=9, kind="pairs")
    with pytest.raises(IncidentImpactError, match="at least 1"):
        study.bootstrap_tests((0, 1), 0)
    with pytest.raises(IncidentImpactError, match="no event has data"):
        study.bootstrap_tests((40, 41), 9)
