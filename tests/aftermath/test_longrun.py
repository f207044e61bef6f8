"""Long-horizon tests across incidents (incident_impact.aftermath.longrun)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from incident_impact.aftermath.longrun import (bhar_table, bootstrap_skewness_adjusted_t, calendar_time_alpha,
                                               longrun_study, ols_hac, recovery_shares)
from incident_impact.eventstudy.skewness import lbt_skewness, skewness_adjusted_t
from incident_impact.aftermath.recovery import recovery
from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import run_study

X_HAND = [0.12, -0.05, 0.31, 0.02, -0.10, 0.55, 0.04, -0.02]


def test_skewness_adjusted_t_published_formula_by_hand():
    x = X_HAND
    n = len(x)
    mean = sum(x) / n
    s = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
    gamma = sum((v - mean) ** 3 for v in x) / (n * s**3)  # LBT 1999: sum (x - xbar)^3 / (n sigma^3)
    S = mean / s
    t_sa = math.sqrt(n) * (S + gamma * S**2 / 3 + gamma / (6 * n))
    got = skewness_adjusted_t(x)
    assert got.statistic == pytest.approx(t_sa, rel=1e-12)
    assert lbt_skewness(x) == pytest.approx(gamma, rel=1e-12)
    assert got.df == n - 1 and 0 < got.p_value < 1
    # adding the skewness terms moves a right-skewed sample's t up from the conventional one
    assert got.statistic > math.sqrt(n) * S


def test_lbt_skewness_matches_scipy():
    from scipy import stats

    x = np.random.default_rng(0).lognormal(0, 0.8, 37)
    n = len(x)
    assert lbt_skewness(x) == pytest.approx(stats.skew(x) * ((n - 1) / n) ** 1.5, rel=1e-12)


def test_skewness_adjusted_t_degenerate():
    assert skewness_adjusted_t([0.1, 0.2]).reason
    assert skewness_adjusted_t([0.1, 0.1, 0.1]).reason
    assert bootstrap_skewness_adjusted_t(np.arange(11.0)).reason.startswith("the bootstrap needs")


def test_bootstrap_is_the_documented_algorithm_and_reproducible():
    x = np.random.default_rng(1).lognormal(0, 0.6, 40) - 1.1
    got = bootstrap_skewness_adjusted_t(x, n_boot=400, seed=7)
    assert got == bootstrap_skewness_adjusted_t(x, n_boot=400, seed=7)
    # the same algorithm written out: resamples of n/4 with replacement, centred on the sample mean
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 40, size=(400, 10))
    tb = []
    for row in idx:
        b = x[row]
        s = b.std(ddof=1)
        g = ((b - b.mean()) ** 3).sum() / (10 * s**3)
        S = (b.mean() - x.mean()) / s
        tb.append(math.sqrt(10) * (S + g * S**2 / 3 + g / 60))
    tb = np.array(tb)
    t = skewness_adjusted_t(x).statistic
    assert got.statistic == pytest.approx(t)
    assert got.p_value == pytest.approx(min(1, 2 * min((tb <= t).mean(), (tb >= t).mean())))


DATES = pd.bdate_range("2016-01-01", periods=700)


def panel(n_firms=6, seed=3, alpha=0.0):
    rng = np.random.default_rng(seed)
    m = pd.Series(rng.normal(0.0004, 0.009, len(DATES)), index=DATES, name="MKT")
    cols = {f"F{i}": 0.0001 + alpha + (0.8 + 0.1 * i) * m.to_numpy() + rng.standard_t(4, len(DATES)) * 0.012
            for i in range(n_firms)}
    wide = pd.DataFrame(cols, index=DATES)
    events = pd.DataFrame({"event_id": [f"e{i}" for i in range(n_firms)], "ticker": list(cols),
                           "day0": [DATES[260 + 20 * i] for i in range(n_firms)]})
    return wide, m, events


def test_bhar_equals_run_study():
    wide, m, events = panel()
    table = bhar_table(wide, m, events, [(0, 20), (0, 60)])
    study = run_study(wide, m, events.rename(columns={"day0": "event_date"}), windows=[(0, 20), (0, 60)])
    for w in ("[0,+20]", "[0,+60]"):
        ref = study.bhar(w)["bhar"]
        got = table[table["window"] == w].set_index("event_id")["bhar"]
        assert np.allclose(got.loc[ref.index], ref, atol=1e-12, rtol=0)


def test_bhar_not_yet_observable():
    wide, m, events = panel()
    events.loc[0, "day0"] = DATES[-30]
    table = bhar_table(wide, m, events, [(0, 20), (0, 60)])
    row = table[(table["event_id"] == "e0") & (table["window"] == "[0,+60]")].iloc[0]
    assert not row.observable and np.isnan(row.bhar) and row.reason.startswith("not yet observable")
    assert table[(table["event_id"] == "e0") & (table["window"] == "[0,+20]")]["observable"].item()


def test_calendar_time_alpha_against_statsmodels():
    import statsmodels.api as sm

    wide, m, events = panel(n_firms=8, alpha=0.001)
    got = calendar_time_alpha(wide, m, events, (0, 60))
    port = got.portfolio
    fit = sm.OLS(port["return"].to_numpy(), sm.add_constant(port["market"].to_numpy())).fit()
    assert got.alpha == pytest.approx(fit.params[0], rel=1e-10)
    assert got.se_ols == pytest.approx(fit.bse[0], rel=1e-10) and got.t_ols == pytest.approx(fit.tvalues[0], rel=1e-10)
    hac = sm.OLS(port["return"].to_numpy(), sm.add_constant(port["market"].to_numpy())).fit(
        cov_type="HAC", cov_kwds={"maxlags": got.hac_lags})
    assert got.se_hac == pytest.approx(hac.bse[0], rel=1e-10)
    assert got.betas["market"] == pytest.approx(fit.params[1], rel=1e-10)
    assert got.n_events == 8 and got.n_days == len(port) and got.mean_firms == pytest.approx(port["n_firms"].mean())
    # each firm is in the portfolio on exactly the 61 sessions of its window (no overlap of one firm here)
    assert port["n_firms"].sum() == 8 * 61
    assert got.alpha_window == pytest.approx(61 * got.alpha)
    json.dumps(got.to_dict(), allow_nan=False)


def test_calendar_time_with_factors_uses_excess_returns():
    import statsmodels.api as sm

    wide, m, events = panel()
    rng = np.random.default_rng(9)
    factors = pd.DataFrame({"mkt_rf": m - 0.0001, "smb": rng.normal(0, 0.005, len(DATES)),
                            "hml": rng.normal(0, 0.005, len(DATES)), "rf": 0.0001}, index=DATES)
    got = calendar_time_alpha(wide, m, events, (0, 20), factors=factors, regression="ff3")
    port = got.portfolio
    X = sm.add_constant(port[["mkt_rf", "smb", "hml"]].to_numpy())
    fit = sm.OLS((port["return"] - port["rf"]).to_numpy(), X).fit()
    assert got.alpha == pytest.approx(fit.params[0], rel=1e-10) and set(got.betas) == {"mkt_rf", "smb", "hml"}
    with pytest.raises(IncidentImpactError, match="needs a factor table"):
        calendar_time_alpha(wide, m, events, (0, 20), regression="capm")


def test_ols_hac_zero_lags_is_white_hc0():
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    X = sm.add_constant(rng.normal(size=80))
    y = X @ [0.1, 0.5] + rng.normal(size=80) * (1 + np.abs(X[:, 1]))
    got = ols_hac(y, X, lags=0)
    ref = sm.OLS(y, X).fit(cov_type="HC0")
    assert np.allclose(got["se_hac"], ref.bse, rtol=1e-10)


def _constructed(path_ar, n_after, seed):
    rng = np.random.default_rng(seed)
    n = 400 + n_after
    m = rng.normal(0.0003, 0.01, n)
    ar = rng.normal(0, 0.01, n)
    ar[400:400 + n_after] = path_ar[:n_after]
    idx = pd.bdate_range("2018-01-01", periods=n)
    return pd.Series(m + ar, index=idx), pd.Series(m, index=idx), idx[400]


def test_recovery_shares():
    hurt_back = np.r_[[-0.02] * 3, [0.01] * 10, [0.0] * 110]    # -6 %, back above -1 % by day 8
    hurt_stays = np.r_[[-0.02] * 3, [0.0] * 120]                 # -6 % for good
    never = np.r_[[0.001] * 123]
    recs = {}
    for eid, (path, n_after) in {"back": (hurt_back, 121), "stays": (hurt_stays, 121), "never": (never, 121),
                                 "recent": (hurt_back, 30)}.items():
        s, m, d0 = _constructed(path, n_after, seed=len(eid))
        recs[eid] = recovery(s, m, d0, model="market-adjusted", mde=0.01)
    table = recovery_shares(recs)
    assert table.loc["[0,+20]", ["n_observable", "n_hurt", "n_recovered", "n_never_hurt"]].tolist() == [4, 3, 2, 1]
    assert table.loc["[0,+120]", ["n_observable", "n_hurt", "n_recovered"]].tolist() == [3, 2, 1]
    assert table.loc["[0,+120]", "share_recovered"] == 0.5 and table.loc["[0,+120]", "not_observable"] == "recent"


def test_longrun_study_contract():
    wide, m, events = panel(n_firms=14)
    study = longrun_study(wide, m, events, n_boot=200)
    frame = study.to_frame()
    assert list(frame.index) == ["[0,+20]", "[0,+60]", "[0,+120]"]
    assert {"mean_bhar", "p_bhar_t", "p_bhar_skew_t", "p_bhar_skew_boot", "ct_p_hac"} <= set(frame.columns)
    d = study.to_dict()
    json.dumps(d, allow_nan=False)
    assert [t["test"] for t in d["windows"][0]["bhar"]["tests"]] == ["bhar_t", "bhar_skew_t", "bhar_skew_boot"]
    assert d["windows"][0]["calendar_time"]["n_events"] == 14
    assert "mean BHAR" in study.summary() and repr(study).startswith("LongRunStudy:")
    assert "<div>" in study._repr_html_()
