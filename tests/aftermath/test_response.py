"""The stock around the company's response: CAR[r,r+1], before, after, and across incidents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from incident_impact.aftermath.response import (KEPT_FALLING, NO_FURTHER_MOVE, RECOVERED, response_effects,
                                                response_summary)
from incident_impact.calendar import get_calendar
from incident_impact.eventstudy import event_study

SESSIONS = pd.DatetimeIndex(get_calendar("XNYS").sessions_in_range("2016-01-04", "2017-12-29"))
DAY0 = pd.Timestamp("2017-04-10")


def _returns(shocks: dict[int, float], seed: int = 3) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    market = pd.Series(rng.normal(0.0004, 0.009, len(SESSIONS)), index=SESSIONS)
    stock = 0.0001 + 1.1 * market + rng.normal(0, 0.005, len(SESSIONS))
    at = SESSIONS.get_loc(DAY0)
    for day, shock in shocks.items():
        stock.iloc[at + day] += shock
    return stock, market


def _result(shocks):
    stock, market = _returns(shocks)
    return event_study(stock, market, DAY0, windows=[(-5, 40)])


def _session(k: int) -> pd.Timestamp:
    return SESSIONS[SESSIONS.get_loc(DAY0) + k]


def test_car_around_before_and_after_the_response():
    result = _result({0: -0.04, 3: 0.03})
    frame = response_effects(result, [(_session(3), "apology", "Sorry.")])
    row = frame.iloc[0]
    ar = result.abnormal_returns.set_index("rel_day")["ar"]
    assert row.rel_day == 3 and row.kind == "apology"
    assert row.car == pytest.approx(ar.loc[3:4].sum(), abs=1e-14)
    assert row.before_car == pytest.approx(ar.loc[0:2].sum(), abs=1e-14)
    assert row.after_window == "[+5,+24]" and row.after_car == pytest.approx(ar.loc[5:24].sum(), abs=1e-14)
    _, se = result.car((3, 4))
    assert row.se == pytest.approx(se) and row.p_value == pytest.approx(2 * stats.t.sf(abs(row.car / se), result.fitted.df))
    assert row.car > 0.015 and row.before_car < -0.01 and row.reason == ""


@pytest.mark.parametrize("drift, expected", [(-0.01, KEPT_FALLING), (0.01, RECOVERED), (0.0, NO_FURTHER_MOVE)])
def test_after_class(drift, expected):
    result = _result({k: drift for k in range(4, 24)})
    assert response_effects(result, [(_session(2), "statement", "")]).iloc[0]["after"] == expected


def test_response_too_late_or_outside_is_not_yet_observable():
    result = _result({})
    frame = response_effects(result, [(_session(30), "withdrawal", ""), (_session(60), "apology", "")])
    assert np.isfinite(frame.iloc[0].car) and np.isnan(frame.iloc[0].after_car)
    assert "not yet observable" in frame.iloc[0].reason and frame.iloc[0].after == ""
    assert np.isnan(frame.iloc[1].car) and "outside the loaded event period" in frame.iloc[1].reason


def test_summary_by_kind_and_kruskal_wallis():
    effects = {}
    for i, (kind, shock) in enumerate([("apology", 0.02), ("apology", 0.025), ("apology", 0.03),
                                       ("withdrawal", -0.01), ("withdrawal", 0.0), ("standing-firm", 0.01)]):
        stock, market = _returns({2: shock}, seed=10 + i)
        res = event_study(stock, market, DAY0, windows=[(-5, 40)])
        effects[f"e{i}"] = response_effects(res, [(_session(2), kind, "")])
    summary = response_summary(effects, n_without_response=2)
    cars = {k: [effects[f"e{i}"].iloc[0].car for i in idx] for k, idx in
            (("apology", [0, 1, 2]), ("withdrawal", [3, 4]), ("standing-firm", [5]))}
    assert summary.by_kind.loc["apology", "mean_car"] == pytest.approx(np.mean(cars["apology"]))
    assert summary.by_kind.loc["apology", "n"] == 3 and np.isnan(summary.by_kind.loc["standing-firm", "cs_t"])
    z = {k: [effects[f"e{i}"].iloc[0].car / effects[f"e{i}"].iloc[0].se for i in idx]
         for k, idx in (("apology", [0, 1, 2]), ("withdrawal", [3, 4]))}
    h, p = stats.kruskal(z["apology"], z["withdrawal"])
    assert summary.kind_test_statistic == pytest.approx(h) and summary.kind_test_p_value == pytest.approx(p)
    assert summary.n_incidents == 6 and summary.after_counts.sum() == 6
    body = summary.to_dict()
    assert body["n_without_response"] == 2 and body["kind_test"]["p_value"] == pytest.approx(p)
    assert len(repr(summary).splitlines()) <= 5


def test_summary_with_too_few_kinds_says_why():
    stock, market = _returns({})
    res = event_study(stock, market, DAY0, windows=[(-5, 40)])
    summary = response_summary({"a": response_effects(res, [(_session(1), "apology", "")])})
    assert np.isnan(summary.kind_test_p_value) and "fewer than two kinds" in summary.reason
