"""Thin-trading betas (``scholes-williams``, ``dimson``): a hand-worked example, statsmodels'
regressions, the bias they correct, the CAR variance and both engines."""

from __future__ import annotations

import json
from math import sqrt

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import (
    MODELS,
    EventStudySpec,
    event_study,
    get_model,
    run_study,
)
from incident_impact.eventstudy.thin import dimson, scholes_williams

# the hand-worked example: eight days of market (x) and stock (y) returns
X8 = [1, 2, 0, -1, -2, 0, 1, 3]
Y8 = [1, 2, 2, 0, -2, -1, 1, 2]


def test_scholes_williams_by_hand():
    # b_-1: y[1:] on x[:-1] -> 20/19; b_0: y on x -> 3/4 (Sxy = 12, Sxx = 16); b_+1: y[:-1] on x[1:] -> 5/124;
    # rho_m: corr((x_2..x_8), (x_1..x_7)) = (46/7) / sqrt((124/7)(76/7)) = 46 / sqrt(9424)
    b_lag, b_0, b_lead, rho = 20 / 19, 3 / 4, 5 / 124, 46 / sqrt(9424)
    beta = (b_lag + b_0 + b_lead) / (1 + 2 * rho)  # 0.946221486...
    alpha = 5 / 8 - beta * 1 / 2  # mean(y) = 5/8, mean(x) = 1/2
    a, b, parts = scholes_williams(np.array(Y8, float), np.array(X8, float))
    assert parts == pytest.approx({"b_lag": b_lag, "b_0": b_0, "b_lead": b_lead, "rho_m": rho}, rel=1e-12)
    assert b == pytest.approx(beta, rel=1e-12) and b == pytest.approx(0.9462214860805724, rel=1e-12)
    assert a == pytest.approx(alpha, rel=1e-12)


def test_dimson_by_statsmodels_on_the_hand_example():
    x, y = np.array(X8, float), np.array(Y8, float)
    design = sm.add_constant(np.column_stack([x[:-2], x[1:-1], x[2:]]))  # R_m,t-1, R_m,t, R_m,t+1 for t = 2..7
    ols = sm.OLS(y[1:-1], design).fit()
    a, b, parts = dimson(y, x)
    assert list(parts) == ["b_-1", "b_0", "b_+1"]
    assert list(parts.values()) == pytest.approx(list(ols.params[1:]), rel=1e-10)
    assert b == pytest.approx(ols.params[1:].sum(), rel=1e-10)
    assert a == pytest.approx(y.mean() - b * x.mean(), rel=1e-10)


def thin_series(seed: int, n: int, pi: float, beta: float = 1.0):
    """A stock whose observed price keeps the last traded one with probability ``pi`` per day."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0004, 0.01, n)
    true = beta * m + rng.normal(0, 0.01, n)
    observed = np.empty(n)
    pending = 0.0
    for t in range(n):
        pending += true[t]
        if rng.random() >= pi:  # traded today: the whole accumulated move shows
            observed[t], pending = pending, 0.0
        else:
            observed[t] = 0.0
    dates = pd.bdate_range("2012-01-01", periods=n)
    return pd.Series(observed, index=dates), pd.Series(m, index=dates)


def test_slopes_against_statsmodels():
    r, m = thin_series(1, 600, 0.4)
    y, x = r.to_numpy(), m.to_numpy()
    _, _, parts = scholes_williams(y, x)
    for name, yy, xx in (("b_lag", y[1:], x[:-1]), ("b_0", y, x), ("b_lead", y[:-1], x[1:])):
        assert parts[name] == pytest.approx(sm.OLS(yy, sm.add_constant(xx)).fit().params[1], rel=1e-10), name
    assert parts["rho_m"] == pytest.approx(np.corrcoef(x[1:], x[:-1])[0, 1], rel=1e-12)
    # two leads and lags
    _, b, parts2 = dimson(y, x, lags=2)
    design = sm.add_constant(np.column_stack([x[2 + j : len(x) - 2 + j] for j in range(-2, 3)]))
    ols = sm.OLS(y[2:-2], design).fit()
    assert list(parts2.values()) == pytest.approx(list(ols.params[1:]), rel=1e-10)
    assert b == pytest.approx(ols.params[1:].sum(), rel=1e-10)


def test_the_corrected_betas_undo_the_thin_trading_bias():
    # a price left stale with probability pi shows the market's move 0, 1, 2, ... days late (P(lag >= k) =
    # pi^k): OLS sees 1 - pi of the beta, one lead and lag 1 - pi^2, Dimson with k lags 1 - pi^(k+1)
    pi = 0.3
    r, m = thin_series(2, 20000, pi, beta=1.0)
    y, x = r.to_numpy(), m.to_numpy()
    ols = sm.OLS(y, sm.add_constant(x)).fit().params[1]
    _, sw, _ = scholes_williams(y, x)
    _, dim, _ = dimson(y, x)
    _, dim4, _ = dimson(y, x, lags=4)
    assert ols == pytest.approx(1 - pi, abs=0.05)
    assert sw == pytest.approx(1 - pi**2, abs=0.05) and dim == pytest.approx(1 - pi**2, abs=0.05)
    assert dim4 == pytest.approx(1, abs=0.05)


@pytest.mark.parametrize("name", ["scholes-williams", "dimson"])
def test_event_study_uses_the_corrected_beta(name):
    r, m = thin_series(3, 500, 0.3, beta=1.2)
    day0 = r.index[400]
    res = event_study(r, m, day0, model=name, windows=[(0, 0), (-1, 1), (0, 5)])
    est = slice(400 - 250, 400 - 10)
    y, x = r.to_numpy()[est], m.to_numpy()[est]
    a, b, parts = scholes_williams(y, x) if name == "scholes-williams" else dimson(y, x)
    assert res.params["alpha"] == pytest.approx(a, rel=1e-12) and res.params["beta"] == pytest.approx(b, rel=1e-12)
    for key, value in parts.items():
        assert res.params[key] == pytest.approx(value, rel=1e-12)
    # ARs with the corrected beta on the same day's market return
    ev = res.event
    assert np.allclose(ev["ar"], ev["return"] - a - b * ev["benchmark"], atol=1e-15)
    # sigma^2 from the estimation ARs (n - 2), Var(CAR) = sigma^2 (L + g'(X'X)^-1 g) with X = [1, R_m]
    resid = y - a - b * x
    s2 = resid @ resid / (len(y) - 2)
    assert res.fitted.sigma2 == pytest.approx(s2, rel=1e-12) and res.fitted.df == len(y) - 2
    Xe = np.column_stack([np.ones(len(x)), x])
    inv = np.linalg.inv(Xe.T @ Xe)
    rows = ev[(ev["rel_day"] >= 0) & (ev["rel_day"] <= 5)]
    g = np.array([6, rows["benchmark"].sum()])
    assert res.car((0, 5))[1] ** 2 == pytest.approx(s2 * (6 + g @ inv @ g), rel=1e-10)
    assert np.allclose(res.estimation["ar"].mean(), 0, atol=1e-15)
    json.dumps(res.to_dict())
    assert get_model(name).description in res.summary()


@pytest.mark.parametrize("name", ["scholes-williams", "dimson"])
def test_both_engines_give_the_same_numbers_and_failures(panel, name):
    wide, market, events = panel
    wide = wide.copy()
    wide["ZZZ"] = 0.001  # constant prices: fails with the reference reason
    events = pd.concat(
        [
            events,
            pd.DataFrame({"event_id": ["z-1"], "ticker": ["ZZZ"], "event_date": [wide.index[400]], "size": [7.0]}),
        ],
        ignore_index=True,
    )
    batch = run_study(wide, market, events, model=name)
    loop = run_study(wide, market, events, model=name, engine="loop")
    assert batch.engine.name == "loop"
    pd.testing.assert_frame_equal(batch.cars, loop.cars)
    pd.testing.assert_frame_equal(batch.failures, loop.failures)
    assert list(loop.failures["event_id"]) == ["z-1"]
    for eid in loop.event_ids:
        single = event_study(
            wide[events.set_index("event_id").at[eid, "ticker"]],
            market,
            events.set_index("event_id").at[eid, "event_date"],
            model=name,
        )
        pd.testing.assert_frame_equal(loop[eid].car_table, single.car_table)
    assert len(loop.tests((0, 1)))


def test_registry_spec_and_errors():
    for name in ("scholes-williams", "dimson"):
        assert name in MODELS and not MODELS[name].batchable
        assert EventStudySpec(model=name).to_dict()["model"] == name
    assert get_model("dimson").lags == 1
    with pytest.raises(IncidentImpactError, match="at least 4"):
        scholes_williams(np.ones(3), np.arange(3.0))
    with pytest.raises(IncidentImpactError, match="at least 7"):
        dimson(np.arange(6.0), np.arange(6.0) ** 2)
    from incident_impact.eventstudy import thin

    assert "Scholes & Williams 1977" in thin.__doc__ and "Dimson (1979)" in thin.__doc__


@pytest.mark.parametrize("model", ["scholes-williams", "dimson"])
def test_placebo_cars_are_the_single_event_numbers(model):
    # placebo_cars used to raise "fitted event by event" for these models; it now runs event_study per date
    from incident_impact.eventstudy import placebo_cars

    rng = np.random.default_rng(8)
    dates = pd.bdate_range("2018-01-01", periods=420)
    m = pd.Series(rng.normal(0.0003, 0.01, 420), index=dates)
    r = 0.0001 + 0.8 * m + pd.Series(rng.normal(0, 0.015, 420), index=dates)
    windows = [(0, 0), (-1, 1)]
    cars = placebo_cars(r, m, dates=dates[[320, 390, 50]], model=model, windows=windows)
    assert list(cars["day0"].unique()) == list(dates[[320, 390]])  # day 50: too few estimation returns
    for day in dates[[320, 390]]:
        ref = event_study(r, m, day, model=model, windows=windows).car_table
        got = cars[cars["day0"] == day].set_index("window").loc[ref.index]
        np.testing.assert_allclose(
            got[["car", "se", "t_stat"]].to_numpy(), ref[["car", "se", "t_stat"]].to_numpy(), rtol=1e-12
        )
