"""Sales defaults that do not invent effects: the specification chosen from the data, the placebo gate
(``unreliable model``), the plain sentence, and clean errors for hostile options and values."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from incident_impact.sales import ModelSpec, Placebos, read_sales_csv, sales_impact
from incident_impact.sales.data import frequency_of
from incident_impact.sales.design import counterfactual
from incident_impact.sales.effect import Effect
from incident_impact.sales.gate import UNRELIABLE, unreliable_reason
from incident_impact.sales.placebo import placebo_horizon, placebo_minimum
from incident_impact.sales.select import AIC_MARGIN, drift_profile
from incident_impact.sales.spec import log_jacobian, standardise
from incident_impact.verdict import GAIN, HARM

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "validation"))
from sales_battery import make_series  # noqa: E402

SIGNIFICANT = (HARM, GAIN)


def strict_json(text: str):
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


# ---------------------------------------------------------------- the specification chosen from the data
@pytest.mark.parametrize("shape, seasonal, expected", [
    ("monthly trend", 12, "local level with drift"),
    ("quarterly trend + season", 4, "local level with drift + seasonal 4"),
    ("monthly AR(1)", 12, "local level"),
])
def test_the_pre_period_chooses_trend_and_season(shape, seasonal, expected):
    series, _ = make_series(shape, 0)
    y, n_pre = series.to_numpy(), int(round(0.75 * len(series)))
    cf = counterfactual(y, None, n_pre, ModelSpec(auto=("trend", "seasonal"), seasonal=seasonal, repetitions=200))
    assert cf.choice.chosen == expected and cf.spec.auto == ()
    assert cf.choice.scores[expected] == min(v for v in cf.choice.scores.values() if v is not None)
    assert expected in cf.choice.reason


def test_aic_scores_by_hand():
    """AIC = -2 sum_(t >= b) llf_t + 2 k on the common sample after the largest diffuse burn-in, refitted here; a
    drift model is scored by the model without drift on z - d t (d its smoothed drift), k counting the drift."""
    series, _ = make_series("quarterly trend + season", 1)
    y, n_pre = series.to_numpy(), 30
    cf = counterfactual(y, None, n_pre, ModelSpec(auto=("trend", "seasonal"), seasonal=4, repetitions=200))
    z = (y[:n_pre] - y[:n_pre].mean()) / y[:n_pre].std(ddof=1)
    season = {"seasonal": 4, "stochastic_seasonal": False}  # a fixed seasonal pattern

    def fit(series, level, seasonal):
        return sm.tsa.UnobservedComponents(series, level=level, **(season if seasonal else {})).fit(disp=False)

    fits = {}
    for s in (False, True):
        fits[False, s] = fit(z, "llevel", s)
        drift = fit(z, "lldtrend", s).smoothed_state[1, 0]
        fits[True, s] = fit(z - drift * np.arange(n_pre), "llevel", s)
    burn = max(r.loglikelihood_burn for r in fits.values())
    assert burn == 4  # level + 3 seasonal states
    jacobian = -(n_pre - burn) * np.log(y[:n_pre].std(ddof=1))  # log|dz/dy| summed: z = (y - mean) / sd
    for (d, s), res in fits.items():
        label = "local level" + " with drift" * d + " + seasonal 4" * s
        by_hand = -2 * (res.llf_obs[burn:].sum() + jacobian) + 2 * (len(res.params) + d)
        assert cf.choice.scores[label] == pytest.approx(by_hand, rel=1e-4, abs=1e-3)
    assert cf.choice.scores["local level + seasonal 4 (changing)"] is not None  # 30 quarters: 7.5 cycles


def test_drift_profile_is_the_maximum_over_the_drift():
    """The drift's score uses (nearly) the maximum of the likelihood over the drift: no drift on a grid around it,
    the variances refitted each time, does better by more than 0.05."""
    series, _ = make_series("weekly random walk", 4)
    z = np.log(series.to_numpy()[:78])
    z = (z - z.mean()) / z.std(ddof=1)
    spec = ModelSpec(trend=True, drift=True, log=True)
    res = sm.tsa.UnobservedComponents(z, level="lldtrend").fit(disp=False)
    best = drift_profile(z, None, spec, res).llf
    d = res.smoothed_state[1, 0]
    grid = [sm.tsa.UnobservedComponents(z - g * np.arange(78), level="llevel").fit(disp=False).llf
            for g in d + np.linspace(-0.02, 0.02, 9)]
    assert best >= max(grid) - 0.05 and d > 0


def test_drift_is_chosen_for_a_drifting_random_walk():
    """Known truth (weekly random walk, drift 0.3 %/week, t ~ 2.5 on 78 weeks): the drift is chosen in most series."""
    chosen = 0
    for seed in range(8):
        series, _ = make_series("weekly random walk", seed)
        cf = counterfactual(series.to_numpy(), None, 78, ModelSpec(auto=("trend", "log"), repetitions=200))
        chosen += cf.spec.drift
    assert chosen >= 4


@pytest.mark.parametrize("trend, seasonal", [(True, None), (False, 4), (True, 4)])
def test_drift_and_fixed_season_with_a_rigid_level_are_least_squares(trend, seasonal):
    """Level s.d. ~0: level (+ drift) (+ fixed seasonal pattern) forecasts = OLS on [1, t, quarter dummies]; the
    drift model keeps its observation noise (statsmodels' lldtrend; rwdrift has none)."""
    rng = np.random.default_rng(21)
    n, n_pre, t = 40, 32, np.arange(40)
    y = 50 + 0.3 * t + np.tile([-2.0, 1.0, 0.5, 0.5], 10) * (seasonal is not None) + rng.normal(0, 1, n)
    cf = counterfactual(y, None, n_pre, ModelSpec(level_sd=1e-7, trend=trend, drift=trend, seasonal=seasonal,
                                                  repetitions=200))
    columns = [np.ones(n)] + ([t] if trend else []) + ([t % 4 == q for q in (1, 2, 3)] if seasonal else [])
    x = np.column_stack(columns).astype(float)
    beta = np.linalg.lstsq(x[:n_pre], y[:n_pre], rcond=None)[0]
    np.testing.assert_allclose(cf.point, x[n_pre:] @ beta, rtol=1e-4)
    assert cf.params["sigma2.irregular"] > 0.1 and "sigma2.seasonal" not in cf.params


def test_fixed_seasonal_pattern_keeps_its_size_on_two_cycles():
    """Known truth: compound trend x fixed monthly pattern x 2 % noise, the true model on 24 months, 8 ahead, no
    effect: at most 4 of 40 fits "significant" (a seasonal variance by maximum likelihood gave 15 %)."""
    hits = 0
    for seed in range(40):
        series, _ = make_series("monthly trend + season", 100 + seed)
        y = series.to_numpy()[:32]
        spec = ModelSpec(log=True, trend=True, drift=True, seasonal=12, repetitions=300)
        hits += 2 * Effect(y[24:], counterfactual(y, None, 24, spec)).p_value < 0.05
    assert hits <= 4


def test_log_sales_preferred_when_aic_cannot_tell():
    """Compound growth: levels score lowest by < 2, log sales are chosen (a linear fit would invent a gain)."""
    series, _ = make_series("monthly trend", 4)
    cf = counterfactual(series.to_numpy(), None, 36, ModelSpec(auto=("trend", "seasonal", "log"), seasonal=12,
                                                               repetitions=200))
    scores = {k: v for k, v in cf.choice.scores.items() if v is not None}
    lowest = min(scores, key=scores.get)
    assert lowest == "local level with drift" and cf.choice.chosen == "log sales: local level with drift"
    assert scores[lowest] < scores[cf.choice.chosen] <= scores[lowest] + AIC_MARGIN
    assert "simplest within 2 of the lowest AIC" in cf.choice.reason


def test_changing_season_needs_six_cycles():
    series, _ = make_series("monthly trend + season", 0)
    y = series.to_numpy()
    cf = counterfactual(y, None, 36, ModelSpec(auto=("seasonal",), seasonal=12, log=True, repetitions=200))
    assert cf.choice.scores["log sales: local level + seasonal 12 (changing)"] is None
    assert "not tried, too little history: log sales: local level + seasonal 12 (changing)" in cf.choice.reason


def test_log_jacobian_puts_log_and_level_models_on_the_sales_scale():
    """log|dz/dy| by finite differences of the standardisation."""
    rng = np.random.default_rng(3)
    y = 50 + rng.gamma(2, 3, 40)
    for log in (False, True):
        z, _ = standardise(y, 30, log, "sales")
        bumped = y.copy()
        bumped[5] += 1e-6
        z2, _ = standardise(bumped, 30, log, "sales")
        # the bump also moves the pre-period moments; use a post-period value for the pure derivative
        y3 = y.copy()
        y3[35] += 1e-6
        z3, _ = standardise(y3, 30, log, "sales")
        assert np.log((z3[35] - z[35]) / 1e-6) == pytest.approx(
            log_jacobian(np.r_[y[:30], y[35]], 30, log)[-1], abs=1e-4)


def test_explicit_options_override_the_automatic_choice():
    series, _ = make_series("monthly trend", 1)
    given = sales_impact(series, series.index[36], trend=False, seasonal=None, log=False, placebos=5, repetitions=200)
    assert given.choice is None and given.spec.trend is False and given.spec.level_sd is None
    partly = sales_impact(series, series.index[36], trend=False, placebos=5, repetitions=200)
    assert partly.spec.trend is False and partly.choice is not None
    assert all("drift" not in label and "trend" not in label for label in partly.choice.scores)
    assert len(partly.choice.scores) == 6  # seasonal 12 fixed, changing (not tried: 36 months) or none; log or not
    fixed = sales_impact(series, series.index[36], level_sd=0.01, trend=True, seasonal=None, log=True, placebos=5,
                         repetitions=200)
    assert fixed.counterfactual.params["sigma2.level"] == pytest.approx(1e-4) and fixed.spec.log


# ---------------------------------------------------------------- the gate
def placebos(effects, ps):
    return Placebos("in-time", tuple(map(str, range(len(effects)))), np.array(effects, float), np.array(ps, float),
                    real_effect=-0.1, alpha=0.05, horizon=6)


def test_gate_thresholds():
    assert unreliable_reason(placebos([0.01] * 5, [0.5] * 5), n_controls=0) is None
    few = unreliable_reason(placebos([0.01] * 4, [0.5] * 4), n_controls=0)
    assert few.startswith("only 4 fake incident dates") and "control series" in few
    assert unreliable_reason(placebos([0.01] * 10, [0.01, 0.01] + [0.5] * 8), n_controls=1) is None  # 20 %: passes
    bad = unreliable_reason(placebos([0.01] * 10, [0.01] * 3 + [0.5] * 7), n_controls=0)
    assert bad.startswith("at 3 of 10 fake incident dates") and "(30 %" in bad and "longer history" in bad


def test_placebo_history_and_horizon():
    spec = ModelSpec(trend=True, seasonal=12)
    assert placebo_minimum(spec, 0, 36) == 24           # two seasonal cycles, k + 6 = 19
    assert placebo_minimum(ModelSpec(), 1, 70) == 16     # twice the model's minimum of 8, below n_pre / 2
    assert placebo_minimum(ModelSpec(), 0, 20) == 10     # n_pre / 2 caps it
    assert placebo_horizon(12, 12) == 8                  # shortened to leave 5 fake dates
    assert placebo_horizon(12, 30) == 12 and placebo_horizon(12, 4) == 4 and placebo_horizon(30, 54) == 30


def test_mini_battery_no_invented_effects_and_drops_found():
    """4-series version of validation/sales_battery.py (default options)."""
    for shape, seed in (("monthly trend", 1), ("quarterly trend + season", 4)):
        series, date = make_series(shape, seed)
        null = sales_impact(series, date, repetitions=300, placebos=6)
        assert null.verdict.verdict not in SIGNIFICANT, (shape, null.plain_sentence())
        series, date = make_series(shape, seed, drop=0.15)
        hit = sales_impact(series, date, repetitions=300, placebos=6)
        assert hit.verdict.verdict == HARM, (shape, hit.plain_sentence())
        assert hit.table.loc["average", "relative_lower"] < -0.15 < hit.table.loc["average", "relative_upper"] + 0.03


def test_rigid_model_is_unreliable_and_says_why():
    """R's level s.d. 0.01 on a trending series without controls: placebos find effects, so no verdict."""
    series, date = make_series("monthly trend", 0)
    res = sales_impact(series, date, level_sd=0.01, trend=False, seasonal=None, log=False, repetitions=300)
    assert res.verdict.verdict == UNRELIABLE and res.verdict.model_verdict == GAIN
    assert res.in_time.false_positive_rate > 0.2
    plain = res.plain_sentence()
    assert plain.startswith("We cannot tell what the incident did to sales: at ") and "control series" in plain
    assert res.summary().startswith(plain)
    out = res.to_dict()
    assert out["plain"] == plain and out["verdict"]["verdict"] == UNRELIABLE and out["reliable"] is False


def test_plain_sentence_for_a_drop():
    series, date = make_series("monthly AR(1)", 2, drop=0.15)
    res = sales_impact(series, date, repetitions=500)
    row = res.table.loc["cumulative"]
    assert res.verdict.verdict == HARM
    assert res.plain_sentence() == (
        f"Sales were {abs(100 * row.relative):.0f} % below what the pre-incident pattern predicted (95 % interval "
        f"−{abs(100 * row.relative_lower):.0f} % to −{abs(100 * row.relative_upper):.0f} %); a drop this large would "
        f"rarely happen by chance (p = {res.verdict.p_value:.2g}).")


# ---------------------------------------------------------------- CLI: short files, huge values, bad options, JSON
@pytest.fixture
def run(cli_in_tmp):
    return cli_in_tmp


def write_monthly(tmp_path, values, start="2019-01-01", name="sales.csv"):
    path = tmp_path / name
    dates = pd.date_range(start, periods=len(values), freq="MS").strftime("%Y-%m-%d")
    pd.DataFrame({"date": dates, "sales": values}).to_csv(path, index=False)
    return path


def test_short_file_is_an_unreliable_model(run, tmp_path):
    rng = np.random.default_rng(5)
    path = write_monthly(tmp_path, 100 + rng.normal(0, 2, 14))
    res = run("sales", "--sales", path, "--date", "2019-11-01", "--format", "json", "--no-report")
    assert res.exit_code == 0, res.stderr
    out = strict_json(res.stdout)
    assert out["verdict"]["verdict"] == UNRELIABLE and out["placebos"]["in_time"]["n"] < 5
    assert out["plain"].startswith("We cannot tell") and "longer history" in out["plain"]


def test_huge_values_give_the_same_answer_as_plain_ones(run, tmp_path):
    series, date = make_series("monthly AR(1)", 3, drop=0.15)
    start = series.index[0].strftime("%Y-%m-%d")
    plain = write_monthly(tmp_path, series.to_numpy(), start, name="plain.csv")
    huge = write_monthly(tmp_path, series.to_numpy() * 1e300, start, name="huge.csv")
    args = ("--date", date.strftime("%Y-%m-%d"), "--format", "json", "--no-report", "--repetitions", "200", "--placebos", "5")
    a, b = run("sales", "--sales", plain, *args), run("sales", "--sales", huge, *args)
    assert a.exit_code == 0 and b.exit_code == 0, b.stderr
    assert "RuntimeWarning" not in b.stderr and "Traceback" not in b.stderr
    one, two = strict_json(a.stdout), strict_json(b.stdout)
    assert two["effects"]["average"]["relative"] == pytest.approx(one["effects"]["average"]["relative"], rel=1e-6)
    assert two["verdict"]["verdict"] == one["verdict"]["verdict"] == HARM
    assert two["effects"]["average"]["actual"] == pytest.approx(series.iloc[36:].mean() * 1e300, rel=1e-9)
    tiny = write_monthly(tmp_path, series.to_numpy() * 1e-300, start, name="tiny.csv")
    c = run("sales", "--sales", tiny, *args)
    assert c.exit_code == 0 and strict_json(c.stdout)["verdict"]["verdict"] == HARM


def test_values_too_large_to_add_up_are_refused(run, tmp_path):
    path = write_monthly(tmp_path, np.full(48, 1.7e308) * np.linspace(0.5, 1, 48))
    res = run("sales", "--sales", path, "--date", "2022-01-01", "--no-report", "--repetitions", "200")
    assert res.exit_code == 1 and res.stderr.startswith("Error: ") and "Traceback" not in res.stderr


@pytest.mark.parametrize("args, code, message", [
    (("--seed", "-1"), 2, "Invalid value for '--seed'"),
    (("--level-sd", "inf"), 2, "Invalid value for --level-sd: 'inf': must be a number above 0"),
    (("--level-sd", "nan"), 2, "Invalid value for --level-sd"),
    (("--level-sd", "1e300"), 2, "at most 10"),
    (("--seasonal", "inf"), 2, "Invalid value for --seasonal"),
])
def test_hostile_options_are_usage_errors(run, tmp_path, args, code, message):
    path = write_monthly(tmp_path, 100 + np.arange(40.0))
    res = run("sales", "--sales", path, "--date", "2021-06-01", "--no-report", *args)
    assert res.exit_code == code and message in res.stderr and "Traceback" not in res.stderr


def test_library_refuses_bad_seed_and_level_sd():
    from incident_impact.errors import SalesDataError

    series, date = make_series("monthly AR(1)", 0)
    for kwargs in ({"seed": -1}, {"level_sd": float("inf")}, {"level_sd": float("nan")}, {"seasonal": float("inf")}):
        with pytest.raises(SalesDataError):
            sales_impact(series, date, placebos=0, **kwargs)


def test_json_is_strict_and_plain_comes_first(run, tmp_path):
    path = write_monthly(tmp_path, np.r_[np.zeros(30), np.ones(18)] + np.random.default_rng(1).normal(0, 0.01, 48))
    res = run("sales", "--sales", path, "--date", "2021-07-01", "--format", "json", "--no-report", "--log-sd-probe"
              ) if False else run("sales", "--sales", path, "--date", "2021-07-01", "--format", "json", "--no-report",
                                  "--repetitions", "200")
    assert res.exit_code == 0, res.stderr
    out = strict_json(res.stdout)  # the counterfactual is near 0: relative effects are null, not NaN
    assert next(iter(out)) == "plain" and out["effects"]["average"]["relative"] is None
    assert "RuntimeWarning" not in res.stderr


def test_missing_month_is_named(run, tmp_path):
    dates = pd.date_range("2020-01-01", periods=12, freq="MS").delete(5)
    path = tmp_path / "gap.csv"
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "sales": np.arange(11.0)}).to_csv(path, index=False)
    res = run("sales", "--sales", path, "--date", "2020-09-01", "--no-report")
    assert res.exit_code == 1
    assert res.stderr.strip() == ("Error: irregular spacing: 2020-07-01 follows 2020-05-01 (61 days; the usual step is "
                                  "1 month): the period 2020-06 between them is missing. Use daily, weekly, monthly, "
                                  "quarterly or annual data without gaps.")
    quarters = pd.date_range("2018-01-01", periods=10, freq="QS").delete([3, 4])
    with pytest.raises(Exception, match=r"the periods 2018Q4, 2019Q1 between them are missing"):
        frequency_of(quarters)


def test_read_sales_csv_names_the_missing_week(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("week,sales\n2020-01-05,1\n2020-01-12,2\n2020-01-26,3\n2020-02-02,4\n")
    with pytest.raises(Exception, match=r"the period 2020-01-19 between them is missing"):
        read_sales_csv(path)
