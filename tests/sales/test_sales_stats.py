"""Every sales statistic against an independent computation or a simulation with known truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from incident_impact.sales import ModelSpec, Placebos, sales_impact, simplex_weights
from incident_impact.sales.design import counterfactual
from incident_impact.sales.effect import Effect, relative_draws, tail_probability
from incident_impact.sales.placebo import in_time
from incident_impact.sales.regression import newey_west_lags
from incident_impact.sales.simulation import coverage_runs, vignette_process
from incident_impact.verdict import GAIN, HARM, INCONCLUSIVE, NO_EFFECT


# ---------------------------------------------------------------- tail area and relative effect
def test_tail_probability_counts_the_observed_sum_in_both_tails():
    draws = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    assert tail_probability(8.5, draws) == (1 + 1) / 10   # one draw above
    assert tail_probability(2.0, draws) == (1 + 2) / 10   # 1 and 2 are <= 2
    assert tail_probability(100.0, draws) == 1 / 10       # never 0
    assert tail_probability(5.0, draws) == (1 + 5) / 10


def test_relative_effect_is_withheld_when_the_counterfactual_is_near_zero():
    assert relative_draws(10.0, np.array([-1.0, 1.0, 2.0])) is None
    np.testing.assert_allclose(relative_draws(12.0, np.array([10.0, 12.0, 8.0])), [0.2, 0.0, 0.5])


def test_effect_tables_follow_from_the_draws():
    rng = np.random.default_rng(0)
    from incident_impact.sales.effect import Counterfactual

    point = np.array([10.0, 11.0, 12.0])
    draws = point[:, None] + rng.normal(0, 1, (3, 2000))
    observed = np.array([12.0, 12.5, 13.0])
    effect = Effect(observed, Counterfactual(point, draws, np.array([]), "test"))
    table = effect.table
    sums = draws.sum(axis=0)
    cum = table.loc["cumulative"]
    assert cum.actual == pytest.approx(37.5) and cum.predicted == pytest.approx(33.0) and cum.effect == pytest.approx(4.5)
    assert (cum.effect_lower, cum.effect_upper) == pytest.approx((37.5 - np.quantile(sums, 0.975), 37.5 - np.quantile(sums, 0.025)))
    assert cum.relative == pytest.approx(37.5 / 33 - 1)
    assert (cum.relative_lower, cum.relative_upper) == pytest.approx(tuple(np.quantile(37.5 / sums - 1, [0.025, 0.975])))
    assert table.loc["average", ["actual", "predicted", "effect", "effect_lower"]].tolist() == pytest.approx(
        (cum[["actual", "predicted", "effect", "effect_lower"]] / 3).tolist())
    path = effect.pointwise(pd.RangeIndex(3))
    assert path["cumulative"].iloc[-1] == pytest.approx(cum.effect)
    assert (path["cumulative_lower"].iloc[-1], path["cumulative_upper"].iloc[-1]) == pytest.approx((cum.effect_lower, cum.effect_upper))
    assert path["effect_upper"].tolist() == pytest.approx((observed - np.quantile(draws, 0.025, axis=1)).tolist())


# ---------------------------------------------------------------- structural model
def local_level_filter(z, s2_eps, s2_eta):
    """Independent Kalman filter of the local level model, nearly diffuse start: ``(a_(T+1), P_(T+1))``."""
    a, p = 0.0, 1e7
    for value in z:
        f = p + s2_eps
        k = p / f
        a, p = a + k * (value - a), p * (1 - k) + s2_eta
    return a, p


@pytest.mark.parametrize("level_sd", [0.1, None])
def test_structural_forecast_matches_the_closed_form_local_level(level_sd):
    """Sum of h local-level forecasts: h a, variance h^2 P + s2_eta sum_(k<h) k^2 + h s2_eps (standardised units)."""
    rng = np.random.default_rng(11)
    y = 50 + np.cumsum(rng.normal(0, 0.3, 90)) + rng.normal(0, 1, 90)
    n_pre, h = 70, 20
    cf = counterfactual(y, None, n_pre, ModelSpec(level_sd=level_sd, repetitions=4000, seed=5))
    mean, sd = y[:n_pre].mean(), y[:n_pre].std(ddof=1)
    s2_eps, s2_eta = cf.params["sigma2.irregular"], cf.params["sigma2.level"]
    a, p = local_level_filter((y[:n_pre] - mean) / sd, s2_eps, s2_eta)
    np.testing.assert_allclose(cf.point, a * sd + mean, rtol=1e-6)
    var_sum = h ** 2 * p + s2_eta * sum(k ** 2 for k in range(1, h)) + h * s2_eps
    sums = cf.draws.sum(axis=0)
    df = n_pre - 1 - (2 if level_sd is None else 1)  # diffuse level, estimated variances
    widen = stats.t.ppf(0.975, df) / stats.norm.ppf(0.975)
    assert f"{df} degrees of freedom" in cf.description
    assert sums.std(ddof=1) == pytest.approx(np.sqrt(var_sum) * sd * widen, rel=0.04)
    assert sums.mean() == pytest.approx(h * (a * sd + mean), abs=4 * np.sqrt(var_sum) * sd / np.sqrt(4000))
    if level_sd is not None:
        assert s2_eta == pytest.approx(level_sd ** 2)


def test_log_model_point_is_the_lognormal_mean():
    rng = np.random.default_rng(2)
    y = np.exp(3 + np.cumsum(rng.normal(0, 0.02, 80)) + rng.normal(0, 0.05, 80))
    cf = counterfactual(y, None, 60, ModelSpec(log=True, level_sd=0.05, repetitions=4000))
    assert (cf.draws > 0).all()
    np.testing.assert_allclose(cf.point, cf.draws.mean(axis=1), rtol=0.01)


def test_structural_interval_covers_the_truth_in_a_small_simulation():
    """CI-sized version of validation/sales_coverage.py: 40 runs each with effect 0 and +10."""
    spec = ModelSpec(repetitions=500)
    null, shifted = coverage_runs(40, 0.0, spec, seed=1), coverage_runs(40, 10.0, spec, seed=2)
    assert (null.covered.sum() + shifted.covered.sum()) / 80 >= 0.85
    assert (2 * null.p_value < 0.05).mean() <= 0.15
    assert (shifted.lower > 0).all()
    assert shifted.effect.mean() == pytest.approx(300, abs=10)


# ---------------------------------------------------------------- regression designs
def newey_west_cov(design, resid, lags):
    """Bartlett-kernel HAC covariance with the n / (n - k) correction, by hand."""
    n, k = design.shape
    scores = design * resid[:, None]
    omega = scores.T @ scores
    for lag in range(1, lags + 1):
        gamma = scores[lag:].T @ scores[:-lag]
        omega += (1 - lag / (lags + 1)) * (gamma + gamma.T)
    bread = np.linalg.inv(design.T @ design)
    return bread @ omega @ bread * n / (n - k)


def ar1(rng, n, rho, sd):
    e = np.empty(n)
    e[0] = rng.normal(0, sd)
    for t in range(1, n):
        e[t] = rho * e[t - 1] + rng.normal(0, sd)
    return e


def test_did_effect_and_newey_west_interval_by_hand():
    rng = np.random.default_rng(7)
    n, n_pre = 80, 60
    control = np.exp(4 + np.cumsum(rng.normal(0, 0.03, n)))
    gap = 0.2 + ar1(rng, n, 0.5, 0.03)
    gap[n_pre:] -= 0.1
    y = control * np.exp(gap)
    cf = counterfactual(y, control[:, None], n_pre, ModelSpec(design="did", log=True, repetitions=4000))
    design = np.column_stack([np.ones(n), (np.arange(n) >= n_pre).astype(float)])
    coef = np.linalg.lstsq(design, gap, rcond=None)[0]
    se = np.sqrt(newey_west_cov(design, gap - design @ coef, newey_west_lags(n))[1, 1])
    assert coef[1] == pytest.approx(gap[n_pre:].mean() - gap[:n_pre].mean())
    log_effects = np.log(y[n_pre:, None]) - np.log(cf.draws)
    assert np.log(y[n_pre:] / cf.point).mean() == pytest.approx(coef[1], abs=1e-10)
    crit = stats.t.ppf(0.975, n - 2)
    lo, hi = np.quantile(log_effects.mean(axis=0), [0.025, 0.975])
    assert lo == pytest.approx(coef[1] - crit * se, abs=0.05 * se)
    assert hi == pytest.approx(coef[1] + crit * se, abs=0.05 * se)
    assert cf.params["pre_gap_slope"] == pytest.approx(np.polyfit(np.arange(n_pre), gap[:n_pre], 1)[0])
    assert cf.band == "confidence"


def test_did_pre_trend_check_flags_diverging_series():
    rng = np.random.default_rng(8)
    n, n_pre = 60, 45
    control = 100 + rng.normal(0, 1, n)
    y = control * np.exp(0.01 * np.arange(n) + rng.normal(0, 0.01, n))
    cf = counterfactual(y, control[:, None], n_pre, ModelSpec(design="did", log=True))
    assert any("pre-trend check failed" in note for note in cf.notes)
    assert cf.params["pre_gap_slope"] == pytest.approx(0.01, abs=0.002)
    trended = counterfactual(y, control[:, None], n_pre, ModelSpec(design="did", log=True, trend=True))
    assert not trended.notes
    assert np.log(y[n_pre:] / trended.point).mean() == pytest.approx(0.0, abs=0.01)


def test_its_level_and_slope_change_by_least_squares():
    rng = np.random.default_rng(9)
    n, n_pre = 72, 48
    t = np.arange(n) - n_pre
    post = (t >= 0).astype(float)
    y = 200 + 0.5 * t + rng.normal(0, 2, n) - 15 * post
    cf = counterfactual(y, None, n_pre, ModelSpec(design="its"))
    design = np.column_stack([np.ones(n), t, post, post * t])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    assert cf.params["level_change"] == pytest.approx(coef[2]) and cf.params["slope_change"] == pytest.approx(coef[3])
    np.testing.assert_allclose(cf.point, coef[0] + coef[1] * t[n_pre:])
    assert (y[n_pre:] - cf.point).mean() == pytest.approx(coef[2] + coef[3] * t[n_pre:].mean())
    assert coef[2] == pytest.approx(-15, abs=3)


def test_its_seasonal_dummies_remove_a_monthly_pattern():
    rng = np.random.default_rng(10)
    n, n_pre = 96, 72
    season = np.tile(np.linspace(-10, 10, 12), 8)
    y = 300 + season + rng.normal(0, 1, n)
    y[n_pre:] *= 0.9
    res = Effect(y[n_pre:], counterfactual(y, None, n_pre, ModelSpec(design="its", seasonal=12)))
    assert res.relative == pytest.approx(-0.1, abs=0.015)


# ---------------------------------------------------------------- synthetic control
def test_simplex_weights_recover_a_convex_combination():
    rng = np.random.default_rng(4)
    donors = rng.normal(100, 10, (30, 5))
    truth = np.array([0.5, 0.0, 0.3, 0.2, 0.0])
    np.testing.assert_allclose(simplex_weights(donors @ truth, donors), truth, atol=1e-5)


def test_simplex_weights_beat_a_brute_force_grid():
    rng = np.random.default_rng(5)
    donors = rng.normal(0, 1, (25, 3)).cumsum(axis=0)
    target = rng.normal(0, 1, 25).cumsum()
    w = simplex_weights(target, donors)
    assert w.min() >= 0 and w.sum() == pytest.approx(1)
    grid = np.linspace(0, 1, 201)
    best = min(np.sum((target - donors @ np.array([a, b, 1 - a - b])) ** 2)
               for a in grid for b in grid if a + b <= 1 + 1e-12)
    assert np.sum((target - donors @ w) ** 2) <= best + 1e-9


def test_synthetic_design_finds_an_effect_hidden_by_a_bad_donor():
    rng = np.random.default_rng(6)
    n, n_pre = 40, 30
    donors = 100 + rng.normal(0, 1, (n, 4)).cumsum(axis=0)
    y = donors @ np.array([0.6, 0.4, 0.0, 0.0]) + rng.normal(0, 0.3, n)
    y[n_pre:] -= 8
    table = pd.DataFrame(np.column_stack([y, donors]), columns=["y", "a", "b", "c", "d"])
    res = sales_impact(table, n_pre, design="synthetic", placebos=3, repetitions=500)
    assert res.verdict.verdict == "unreliable model" and "(placebos set to 3; at least 5 are needed)" in res.verdict.reason
    assert res.counterfactual.params["weight.a"] == pytest.approx(0.6, abs=0.05)
    assert res.table.loc["average", "effect"] == pytest.approx(-8, abs=1)
    assert res.verdict.model_verdict == HARM
    assert res.in_space is not None and res.in_space.n == 4


# ---------------------------------------------------------------- placebos
def test_placebo_shares_by_hand():
    placebos = Placebos("in-time", ("a", "b", "c", "d"), np.array([0.01, -0.2, 0.05, np.nan]),
                        np.array([0.5, 0.01, 0.3, np.nan]), real_effect=-0.1, alpha=0.05, horizon=3)
    assert placebos.n == 3 and placebos.n_as_large == 1
    assert placebos.share_as_large == pytest.approx(1 / 3)
    assert placebos.rank_p_value == pytest.approx(2 / 4)
    assert placebos.false_positive_rate == pytest.approx(1 / 3)
    assert "1 of 3 as large" in placebos.summary()
    assert json.dumps(placebos.to_dict())


def test_in_time_placebos_use_only_pre_incident_data():
    rng = np.random.default_rng(12)
    y, x = vignette_process(rng, effect=10)
    spec = ModelSpec(repetitions=200)
    first = in_time(y, x, 70, spec, labels=pd.RangeIndex(100), real_effect=0.1, max_runs=4)
    y2 = y.copy()
    y2[70:] *= 3
    second = in_time(y2, x, 70, spec, labels=pd.RangeIndex(100), real_effect=0.1, max_runs=4)
    np.testing.assert_array_equal(first.effects, second.effects)
    assert first.labels == ("16", "24", "32", "40") and first.horizon == 30  # history >= 2 x the model's minimum of 8
    assert first.false_positive_rate <= 0.25


def test_mis_specified_model_is_exposed_by_its_placebos():
    """A series with a trend break before the incident, no controls, a rigid level: the placebos say so."""
    t = np.arange(60)
    y = 100 + np.where(t < 20, 0, 1.5 * (t - 20)) + np.random.default_rng(13).normal(0, 0.5, 60)
    res = sales_impact(pd.Series(y, name="sales"), 48, level_sd=0.001, trend=False, log=False, placebos=6, repetitions=300)
    assert res.in_time.false_positive_rate >= 0.5


# ---------------------------------------------------------------- verdicts and outputs
@pytest.mark.parametrize("effect, expected", [(0.0, NO_EFFECT), (10.0, GAIN), (-10.0, HARM)])
def test_verdict_classes_on_a_precise_series(effect, expected):
    rng = np.random.default_rng(14)
    y, x = vignette_process(rng, effect=effect)
    res = sales_impact(pd.DataFrame({"y": y, "x": x[:, 0]}), 70, placebos=0, repetitions=500)
    assert res.verdict.model_verdict == expected and res.verdict.verdict == "unreliable model"  # placebos turned off
    row = res.table.loc["cumulative"]
    assert (res.p_value < 0.025) == (row.relative_lower > 0 or row.relative_upper < 0)
    assert res.verdict.p_value == pytest.approx(min(1, 2 * res.p_value))


def test_noisy_series_is_inconclusive():
    rng = np.random.default_rng(15)
    y = 100 + rng.normal(0, 15, 40)
    res = sales_impact(pd.Series(y), 30, placebos=0, repetitions=500, level_sd=None)
    assert res.verdict.model_verdict == INCONCLUSIVE


def test_outputs_of_a_result():
    rng = np.random.default_rng(16)
    y, x = vignette_process(rng, effect=10)
    index = pd.date_range("2015-01-04", periods=100, freq="W-SUN")
    res = sales_impact(pd.DataFrame({"units": y, "category": x[:, 0]}, index=index), "2016-05-10",
                       placebos=5, repetitions=300, seasonal=None)
    assert res.post_period[0] == pd.Timestamp("2016-05-15") and res.n_pre == 71
    frame = res.to_frame()
    assert len(frame) == 100 and frame["period"].value_counts().to_dict() == {"pre": 71, "post": 29}
    assert frame.loc[frame.period == "pre", "effect"].isna().all()
    out = json.loads(json.dumps(res.to_dict()))
    assert out["effects"]["cumulative"]["effect"] == pytest.approx(res.table.loc["cumulative", "effect"])
    assert out["post_period"] == ["2016-05-15", "2016-11-27"] and out["verdict"]["verdict"] == GAIN
    assert len(out["series"]) == 100 and out["placebos"]["in_time"]["n"] == 5
    assert "beta.category" in out["params"]
    text = res.summary()
    assert "Sales impact of the incident on 2016-05-10" in text and "cumulative" in text and "Verdict: sales +" in text
    assert "significant rise" in res.report()
