"""The single-event study against independent computations (statsmodels OLS, closed forms, by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from incident_impact.errors import IncidentImpactError, InsufficientDataError
from incident_impact.eventstudy import event_study, format_window, parse_window


def synthetic(n=300, seed=1, alpha=0.0004, beta=1.3, sigma=0.015, start="2015-01-02"):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n)
    market = pd.Series(rng.normal(0.0004, 0.01, n), index=dates)
    stock = alpha + beta * market + rng.normal(0, sigma, n)
    return stock, market


@pytest.fixture(scope="module")
def data():
    return synthetic()


def test_market_model_params_match_statsmodels(data):
    stock, market = data
    res = event_study(stock, market, stock.index[280], windows=[(0, 1)])
    est = res.estimation
    ols = sm.OLS(est["return"], sm.add_constant(est["benchmark"])).fit()
    assert res.params["alpha"] == pytest.approx(ols.params.iloc[0], abs=1e-12)
    assert res.params["beta"] == pytest.approx(ols.params.iloc[1], rel=1e-10)
    assert res.params["sigma"] == pytest.approx(np.sqrt(ols.scale), rel=1e-10)
    assert res.params["r_squared"] == pytest.approx(ols.rsquared, rel=1e-10)
    assert res.fitted.df == ols.df_resid == 238
    # estimation window [-250, -11] relative to day 0 at position 280
    assert res.estimation_info == {
        "start": stock.index[30].date().isoformat(),
        "end": stock.index[269].date().isoformat(),
        "n_obs": 240,
    }


def test_car_variance_matches_closed_form_and_statsmodels_prediction(data):
    stock, market = data
    res = event_study(stock, market, stock.index[280], windows=[(-5, 5), (0, 1)])
    est = res.estimation
    ols = sm.OLS(est["return"], sm.add_constant(est["benchmark"])).fit()
    for (t1, t2) in [(-5, 5), (0, 1)]:
        pos = np.arange(280 + t1, 280 + t2 + 1)
        rm = market.iloc[pos].to_numpy()
        ar = stock.iloc[pos].to_numpy() - ols.params.iloc[0] - ols.params.iloc[1] * rm
        L, L1 = len(pos), len(est)
        mbar = est["benchmark"].mean()
        smm = ((est["benchmark"] - mbar) ** 2).sum()
        # CLM (1997) eq. 4.4.14 written out: sigma^2 [L + L^2/L1 + (sum(Rm - mbar))^2 / Smm]
        var_closed = ols.scale * (L + L**2 / L1 + (rm - mbar).sum() ** 2 / smm)
        # the same from statsmodels: L sigma^2 + iota' X* Cov(theta) X*' iota
        Xs = sm.add_constant(rm, has_constant="add")
        var_sm = L * ols.scale + np.ones(L) @ Xs @ ols.cov_params().to_numpy() @ Xs.T @ np.ones(L)
        row = res.car_table.loc[format_window((t1, t2))]
        assert row.car == pytest.approx(ar.sum(), abs=1e-12)
        assert row.se**2 == pytest.approx(var_closed, rel=1e-10)
        assert row.se**2 == pytest.approx(var_sm, rel=1e-10)
        t = ar.sum() / np.sqrt(var_closed)
        assert row.t_stat == pytest.approx(t, rel=1e-9)
        assert row.p_value == pytest.approx(2 * stats.t.sf(abs(t), 238), rel=1e-9)
        crit = stats.t.ppf(0.975, 238)
        assert row.ci_upper - row.ci_lower == pytest.approx(2 * crit * np.sqrt(var_closed), rel=1e-10)


def test_hand_worked_example():
    """Four estimation days and a two-day window, every number computed by hand.

    Estimation (Rm, R): (0, 0.01), (0.01, 0.02), (0.02, 0.05), (-0.01, -0.02).
    mean Rm = 0.005, Smm = 5e-4; mean R = 0.015; Sxy = 1.1e-3 -> beta = 2.2, alpha = 0.004.
    Residuals: 0.006, -0.006, 0.002, -0.002 -> SSR = 8e-5, sigma^2 = SSR/2 = 4e-5.
    Event days (Rm, R): (0.01, -0.03), (0.00, 0.02) -> AR = -0.056, 0.016, CAR = -0.04.
    Var(CAR) = 4e-5 * (2 + 2^2/4 + (0.005 - 0.005)^2 / 5e-4) = 1.2e-4, t = -0.04/0.0109545 = -3.6515.
    """
    dates = pd.bdate_range("2020-01-01", periods=6)
    market = pd.Series([0.0, 0.01, 0.02, -0.01, 0.01, 0.0], index=dates)
    stock = pd.Series([0.01, 0.02, 0.05, -0.02, -0.03, 0.02], index=dates)
    res = event_study(stock, market, dates[4], estimation=(-4, -1), windows=[(0, 1)], min_estimation_obs=4)
    assert res.params["beta"] == pytest.approx(2.2, rel=1e-12)
    assert res.params["alpha"] == pytest.approx(0.004, abs=1e-14)
    assert res.params["sigma"] ** 2 == pytest.approx(4e-5, rel=1e-10)
    np.testing.assert_allclose(res.abnormal_returns["ar"], [-0.056, 0.016], atol=1e-14)
    row = res.car_table.loc["[0,+1]"]
    assert row.car == pytest.approx(-0.04, abs=1e-14)
    assert row.se**2 == pytest.approx(1.2e-4, rel=1e-10)
    assert row.t_stat == pytest.approx(-3.6514837167, rel=1e-9)
    assert row.df == 2
    assert row.p_value == pytest.approx(2 * stats.t.sf(3.6514837167, 2), rel=1e-9)


def test_mean_and_market_adjusted_models(data):
    stock, market = data
    mean = event_study(stock, None, stock.index[280], model="mean", windows=[(-1, 1)])
    est = stock.iloc[30:270]
    mu, s2 = est.mean(), est.var(ddof=1)
    assert mean.params["mu"] == pytest.approx(mu, rel=1e-12)
    row = mean.car_table.iloc[0]
    assert row.car == pytest.approx((stock.iloc[279:282] - mu).sum(), abs=1e-14)
    assert row.se**2 == pytest.approx(s2 * (3 + 9 / 240), rel=1e-10)
    assert row.df == 239

    adj = event_study(stock, market, stock.index[280], model="market-adjusted", windows=[(-1, 1)])
    diff = stock - market
    row = adj.car_table.iloc[0]
    assert row.car == pytest.approx(diff.iloc[279:282].sum(), abs=1e-14)
    assert row.se**2 == pytest.approx(3 * diff.iloc[30:270].var(ddof=1), rel=1e-10)
    assert row.df == 239
    assert "r_squared" not in adj.params


def test_relative_days_count_joined_sessions():
    """A benchmark gap removes the date from the join, so relative days skip it."""
    stock, market = synthetic(n=200)
    market = market.drop(market.index[195])
    res = event_study(stock, market, stock.index[190], estimation=(-150, -11), windows=[(0, 5)])
    ar = res.abnormal_returns
    assert ar.index[0] == stock.index[190]
    assert stock.index[195] not in ar.index
    assert ar["rel_day"].tolist() == [0, 1, 2, 3, 4, 5]
    assert ar.index[-1] == stock.index[196]


def test_event_on_a_missing_day_moves_to_the_next_date_with_a_note(data):
    stock, market = data
    res = event_study(stock.drop(stock.index[280]), market, stock.index[280], windows=[(0, 0)])
    assert res.day0 == stock.index[281]
    assert any("day 0 is the next date" in n for n in res.notes)


def test_too_few_estimation_days_names_the_count():
    stock, market = synthetic(n=150)
    with pytest.raises(InsufficientDataError, match=r"ual-test: the estimation window \[-250,-11\] has 130 returns \(at least 131"):
        event_study(stock, market, stock.index[140], event_id="ual-test", min_estimation_obs=131)


def test_windows_beyond_the_data_are_dropped_with_a_note(data):
    stock, market = data
    res = event_study(stock, market, stock.index[297], windows=[(0, 1), (0, 5)])
    assert res.windows == ((0, 1),)
    assert any("[0,+5]" in n for n in res.notes)
    with pytest.raises(InsufficientDataError, match="no event window"):
        event_study(stock, market, stock.index[299], windows=[(1, 2)])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"estimation": (-250, -1), "windows": [(-1, 1)]}, "overlaps the event window"),
        ({"model": "capm-ish"}, "unknown model"),
        ({"windows": []}, "at least one event window"),
    ],
)
def test_bad_arguments_raise_clear_errors(data, kwargs, message):
    stock, market = data
    with pytest.raises(IncidentImpactError, match=message):
        event_study(stock, market, stock.index[280], **kwargs)


def test_duplicate_dates_and_event_outside_data(data):
    stock, market = data
    dup = pd.concat([stock, stock.iloc[[5]]])
    with pytest.raises(IncidentImpactError, match="duplicate dates, first 2015-01-09"):
        event_study(dup, market, stock.index[280])
    with pytest.raises(IncidentImpactError, match="after the last date"):
        event_study(stock, market, "2030-01-01")
    with pytest.raises(InsufficientDataError, match="before the first return"):
        event_study(stock, market, "2010-01-01")
    with pytest.raises(IncidentImpactError, match="needs benchmark returns"):
        event_study(stock, None, stock.index[280])


def test_row_order_does_not_matter(data):
    stock, market = data
    a = event_study(stock, market, stock.index[280]).car_table
    b = event_study(stock.sample(frac=1, random_state=3), market.iloc[::-1], stock.index[280]).car_table
    pd.testing.assert_frame_equal(a, b, rtol=1e-12, atol=1e-14)


def test_car_path_band_matches_window_variance(data):
    stock, market = data
    res = event_study(stock, market, stock.index[280], windows=[(-5, 5), (-5, 0)])
    path = res.car_path(-5)
    assert path["rel_day"].tolist() == list(range(-5, 6))
    assert path["se"].iloc[5] == pytest.approx(res.car_table.loc["[-5,0]", "se"], rel=1e-12)
    assert path["car"].iloc[-1] == pytest.approx(res.car_table.loc["[-5,+5]", "car"], rel=1e-12)
    crit = stats.t.ppf(0.975, res.fitted.df)
    np.testing.assert_allclose(path["upper"] - path["car"], crit * path["se"], rtol=1e-12)


def test_standardized_car_has_the_t_variance_under_the_null():
    """Simulation with known truth: CAR/SE over [-5,+5] with 30 estimation days has
    variance df/(df-2) = 28/26 = 1.077 (CLM 1997); the naive daily-sum variance would give ~1.4."""
    rng = np.random.default_rng(20240601)
    reps, L1, L = 4000, 30, 11
    market = rng.normal(0.0005, 0.01, (reps, L1 + L))
    stock = 0.0002 + 0.9 * market + rng.normal(0, 0.02, (reps, L1 + L))
    dates = pd.bdate_range("2020-01-01", periods=L1 + L)
    t = np.empty(reps)
    for i in range(reps):
        res = event_study(pd.Series(stock[i], dates), pd.Series(market[i], dates), dates[L1 + 5],
                          estimation=(-35, -6), windows=[(-5, 5)], min_estimation_obs=30)
        t[i] = res.car_table["t_stat"].iloc[0]
    assert np.var(t) == pytest.approx(28 / 26, rel=0.06)


@pytest.mark.parametrize(
    "text, window",
    [("-1,+1", (-1, 1)), ("[-1,1]", (-1, 1)), ("0:5", (0, 5)), ("0", (0, 0)), ("(-5, +5)", (-5, 5)), ("-2..3", (-2, 3))],
)
def test_parse_window(text, window):
    assert parse_window(text) == window
    assert parse_window(format_window(window)) == window


@pytest.mark.parametrize("text", ["1,-1", "a,b", "1,2,3", ""])
def test_parse_window_rejects(text):
    with pytest.raises(IncidentImpactError):
        parse_window(text)
