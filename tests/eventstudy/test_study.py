"""run_study: the multi-event engine against independent computations (numpy OLS, scipy, by hand)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import (
    TEST_NAMES, OverlappingEventsWarning, event_study, read_french_factors, run_study,
)



def independent(wide, market, events, window, est=(-250, -11)):
    """Each statistic recomputed with numpy/scipy from the raw returns, without the library."""
    rows = []
    for ev in events.itertuples():
        y, x = wide[ev.ticker].to_numpy(), market.to_numpy()
        p0 = wide.index.get_loc(ev.event_date)
        e = np.arange(p0 + est[0], p0 + est[1] + 1)
        w = np.arange(p0 + window[0], p0 + window[1] + 1)
        beta, alpha = np.polyfit(x[e], y[e], 1)
        res = y[e] - alpha - beta * x[e]
        s2 = res @ res / (len(e) - 2)
        ar_w = y[w] - alpha - beta * x[w]
        mbar, smm = x[e].mean(), ((x[e] - x[e].mean()) ** 2).sum()
        L, L1 = len(w), len(e)
        var = s2 * (L + L**2 / L1 + (x[w] - mbar).sum() ** 2 / smm)
        all_ar = np.concatenate([res, ar_w])
        rows.append({"car": ar_w.sum(), "var": var, "df": L1 - 2, "res": pd.Series(res, wide.index[e]),
                     "pos": (res > 0).mean(), "all_ar": all_ar, "L": L})
    car = np.array([r["car"] for r in rows])
    var = np.array([r["var"] for r in rows])
    scar = car / np.sqrt(var)
    n = len(car)
    out = {
        "cs_t": car.mean() / (car.std(ddof=1) / np.sqrt(n)),
        "time_series_t": car.mean() / np.sqrt(var.sum()) * n,
        "patell": scar.sum() / np.sqrt(sum(r["df"] / (r["df"] - 2) for r in rows)),
        "bmp": scar.mean() / (scar.std(ddof=1) / np.sqrt(n)),
    }
    resid = pd.concat([r["res"] for r in rows], axis=1)
    corr = np.nan_to_num(resid.corr(min_periods=30).to_numpy())
    # pairs count by the share of event-window dates they have in common (here: same date or none)
    dates = events["event_date"].to_numpy()
    same = (dates[:, None] == dates[None, :]).astype(float)
    iu = np.triu_indices(n, 1)
    rbar = (corr[iu] * same[iu]).sum() / len(iu[0])
    out["kp_bmp"] = out["bmp"] * np.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    # Corrado-Zivney ranks: every event has the same 240 + L days, so U is a plain matrix
    U = np.array([stats.rankdata(r["all_ar"]) / (len(r["all_ar"]) + 1) - 0.5 for r in rows])
    ubar = U.mean(axis=0)
    out["corrado"] = ubar[-rows[0]["L"]:].sum() / (np.sqrt(rows[0]["L"]) * np.sqrt(np.mean(ubar**2)))
    p = np.mean([r["pos"] for r in rows])
    out["generalized_sign"] = ((car > 0).sum() - n * p) / np.sqrt(n * p * (1 - p))
    ranks = stats.rankdata(np.abs(car))
    out["wilcoxon"] = ranks[car > 0].sum()
    return out, car, var


@pytest.mark.parametrize("window", [(0, 0), (0, 1), (-1, 1), (-5, 5)])
def test_all_nine_tests_match_an_independent_computation(panel, window):
    wide, market, events = panel
    res = run_study(wide, market, events, windows=[window])
    assert res.n_events == 6 and res.failures.empty
    table = res.tests(window)
    assert table.index.tolist() == list(TEST_NAMES)
    assert {"statistic", "p_value", "df", "n_events", "distribution", "note"} <= set(table.columns)
    expected, car, var = independent(wide, market, events, window)
    for name, value in expected.items():
        assert table.at[name, "statistic"] == pytest.approx(value, rel=1e-8), name
    assert table.at["cs_t", "p_value"] == pytest.approx(2 * stats.t.sf(abs(expected["cs_t"]), 5), rel=1e-7)
    assert table.at["bmp", "df"] == 5 and table.at["patell", "distribution"] == "normal"
    assert table.at["wilcoxon", "p_value"] == pytest.approx(stats.wilcoxon(car).pvalue, rel=1e-10)
    assert np.isnan(table.at["sq", "statistic"]) and "single-event" in table.at["sq", "note"]
    cf = res.car_frame(window)
    np.testing.assert_allclose(cf["car"].to_numpy(), car, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(cf["se"].to_numpy() ** 2, var, rtol=1e-10)


def test_results_are_keyed_by_event_and_reuse_the_single_event_path(panel):
    wide, market, events = panel
    res = run_study(wide, market, events, windows=[(0, 1), (-1, 1)])
    assert res.event_ids == ("a-1", "b-1", "c-1", "d-1", "e-1", "a-2")  # AAA twice, two keys
    single = event_study(wide["AAA"], market, events.event_date[5], windows=[(0, 1), (-1, 1)], event_id="a-2")
    pd.testing.assert_frame_equal(res["a-2"].car_table, single.car_table)
    cars = res.cars
    assert len(cars) == 12 and set(cars["window"]) == {"[0,+1]", "[-1,+1]"}
    assert cars.loc[cars.event_id == "d-1", "size"].iloc[0] == 4.0  # event characteristics carried along
    np.testing.assert_allclose(cars["scar"], cars["car"] / cars["se"])
    # AAR and CAAR by relative day and by window
    ar = res.abnormal_returns
    assert set(ar.columns) >= {"event_id", "ticker", "date", "rel_day", "ar", "ar_se", "sar"}
    aar = res.aar
    assert aar.loc[0, "aar"] == pytest.approx(ar.loc[ar.rel_day == 0, "ar"].mean())
    assert aar.loc[1, "caar"] == pytest.approx(ar.loc[ar.rel_day.between(-1, 1), "ar"].sum() / 6)
    caar = res.caar
    w01 = res.car_frame((0, 1))
    assert caar.loc["[0,+1]", "caar"] == pytest.approx(w01["car"].mean())
    assert caar.loc["[0,+1]", "se"] == pytest.approx(np.sqrt((w01["se"] ** 2).sum()) / 6)
    # a second-stage regression straight from the tidy table
    fit = sm.OLS(w01["car"], sm.add_constant(w01["size"])).fit()
    assert np.isfinite(fit.params["size"])
    assert "cs_t" in res.summary() and "a-2" in res.summary()


def test_long_returns_and_per_event_benchmarks(panel):
    wide, market, events = panel
    long = wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="ticker", value_name="return")
    a = run_study(wide, market, events, windows=[(0, 1)]).tests((0, 1))
    b = run_study(long, market, events, windows=[(0, 1)]).tests((0, 1))
    pd.testing.assert_frame_equal(a, b)
    # two benchmarks chosen per event: the events naming "other" get a different market model
    other = market * 0.5 + 0.001
    ev = events.assign(benchmark=["mkt", "mkt", "other", "mkt", "mkt", "other"])
    res = run_study(wide, pd.DataFrame({"mkt": market, "other": other}), ev, windows=[(0, 1)])
    ref = event_study(wide["CCC"], other, events.event_date[2], windows=[(0, 1)])
    assert res["c-1"].car_table["car"].iloc[0] == pytest.approx(ref.car_table["car"].iloc[0], rel=1e-12)
    bad = run_study(wide, pd.DataFrame({"mkt": market}), ev.assign(benchmark="nope"), windows=[(0, 1)])
    assert bad.n_events == 0 and bad.failures["reason"].str.contains("unknown benchmark 'nope'").all()


def test_bad_events_are_listed_duplicates_raise_and_overlaps_warn(panel):
    wide, market, events = panel
    dates = wide.index
    ev = pd.concat([events, pd.DataFrame({
        "event_id": ["zzz", "early", "late-a"],
        "ticker": ["ZZZ", "BBB", "AAA"],
        "event_date": [dates[400], dates[100], dates[302]],
    })], ignore_index=True)
    with pytest.warns(OverlappingEventsWarning, match="a-1 and late-a of AAA"):
        res = run_study(wide, market, ev, windows=[(-1, 1)])
    reasons = res.failures.set_index("event_id")["reason"]
    assert "unknown ticker 'ZZZ'" in reasons["zzz"]
    assert "has 90 returns (at least 120 needed)" in reasons["early"]
    assert res.n_events == 7 and len(res.warnings) == 1
    assert "Not analysed" in res.summary()
    with pytest.raises(IncidentImpactError, match="duplicate event ids: a-1"):
        run_study(wide, market, pd.concat([events, events.iloc[[0]]]))
    with pytest.raises(IncidentImpactError, match="lacks the column"):
        run_study(wide, market, events.drop(columns="ticker"))


def test_one_event_gives_nan_cross_sectional_tests_and_the_sq_test(panel):
    wide, market, events = panel
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = run_study(wide, market, events.iloc[[3]], windows=[(0, 1)])
    table = res.tests((0, 1))
    for name in ("cs_t", "bmp", "kp_bmp", "generalized_sign", "wilcoxon"):
        assert np.isnan(table.at[name, "statistic"]) and "at least 2 events" in table.at[name, "note"]
    single = res["d-1"]
    row = single.car_table.iloc[0]
    # with one event J1 is the event's own CAR / SE, Patell its SCAR over sqrt(df/(df-2))
    assert table.at["time_series_t", "statistic"] == pytest.approx(row.t_stat, rel=1e-10)
    assert table.at["patell", "statistic"] == pytest.approx(row.t_stat / np.sqrt(238 / 236), rel=1e-10)
    # SQ: the CAR among the 239 two-day CARs of the estimation window, computed here with pandas
    est = single.estimation["ar"]
    sums = est.rolling(2).sum().dropna()
    q_le, q_ge = (sums <= row.car).mean(), (sums >= row.car).mean()
    assert len(sums) == 239
    assert table.at["sq", "statistic"] == pytest.approx(q_le)
    assert table.at["sq", "p_value"] == pytest.approx(min(1, 2 * min(q_le, q_ge)))
    assert single.sq_test((0, 1)).p_value == table.at["sq", "p_value"]
    assert "SQ p" in single.summary()


def test_nothing_analysable(panel):
    wide, market, events = panel
    res = run_study(wide, market, events.assign(ticker="NOPE"), windows=[(0, 1)])
    assert res.n_events == 0 and len(res.failures) == 6
    table = res.tests((0, 1))
    assert table["statistic"].isna().all() and table["note"].str.contains("no event has data").all()


def test_bhar_and_its_test_by_hand(panel):
    wide, market, events = panel
    res = run_study(wide, market, events, windows=[(0, 2)])
    bhar = res.bhar((0, 2))
    expected = []
    for ev in events.itertuples():
        p0 = wide.index.get_loc(ev.event_date)
        r, m = wide[ev.ticker].iloc[p0:p0 + 3], market.iloc[p0:p0 + 3]
        expected.append((1 + r).prod() - (1 + m).prod())
    np.testing.assert_allclose(bhar["bhar"].to_numpy(), expected, rtol=1e-12)
    t = res.bhar_test((0, 2))
    e = np.array(expected)
    assert t.name == "bhar_t" and t.statistic == pytest.approx(e.mean() / (e.std(ddof=1) / np.sqrt(6)), rel=1e-10)


def synthetic_factors(dates, rng):
    return pd.DataFrame({
        "mkt_rf": rng.normal(0.0004, 0.01, len(dates)), "smb": rng.normal(0, 0.005, len(dates)),
        "hml": rng.normal(0, 0.005, len(dates)), "rmw": rng.normal(0, 0.004, len(dates)),
        "cma": rng.normal(0, 0.004, len(dates)), "mom": rng.normal(0, 0.006, len(dates)),
        "rf": np.full(len(dates), 0.0001),
    }, index=dates)


@pytest.mark.parametrize("model, cols", [
    ("ff3", ["mkt_rf", "smb", "hml"]), ("carhart", ["mkt_rf", "smb", "hml", "mom"]),
    ("ff5", ["mkt_rf", "smb", "hml", "rmw", "cma"]),
])
def test_factor_models_match_statsmodels(model, cols):
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2018-01-01", periods=400)
    f = synthetic_factors(dates, rng)
    stock = f["rf"] + 0.0001 + f[cols] @ rng.uniform(0.3, 1.2, len(cols)) + rng.normal(0, 0.015, 400)
    res = event_study(stock, None, dates[350], model=model, factors=f, windows=[(-2, 3)])
    est = res.estimation.index
    X = sm.add_constant(f.loc[est, cols])
    ols = sm.OLS(stock[est] - f.loc[est, "rf"], X).fit()
    np.testing.assert_allclose(res.fitted.params, ols.params.to_numpy(), rtol=1e-9)
    assert res.fitted.df == 240 - len(cols) - 1
    ev = dates[348:354]
    Xs = sm.add_constant(f.loc[ev, cols], has_constant="add").to_numpy()
    ar = (stock[ev] - f.loc[ev, "rf"]).to_numpy() - Xs @ ols.params.to_numpy()
    var = 6 * ols.scale + np.ones(6) @ Xs @ ols.cov_params().to_numpy() @ Xs.T @ np.ones(6)
    row = res.car_table.iloc[0]
    assert row.car == pytest.approx(ar.sum(), rel=1e-9)
    assert row.se**2 == pytest.approx(var, rel=1e-9)
    with pytest.raises(IncidentImpactError, match="needs a factor table"):
        event_study(stock, None, dates[350], model=model)
    with pytest.raises(IncidentImpactError, match="lacks the column"):
        event_study(stock, None, dates[350], model=model, factors=f.drop(columns=cols[-1]))


SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
def test_ff3_and_carhart_on_real_data_match_statsmodels():
    """United (UAL) around 2017-04-10 with Kenneth French's daily factors (percent -> decimal)."""
    prices = pd.read_csv(Path(SHARED) / "prices" / "UAL.csv", parse_dates=["date"], index_col="date")
    ret = prices["adj_close"].pct_change().dropna()
    raw = pd.read_csv(Path(SHARED) / "factors" / "ff_daily.csv", parse_dates=["date"], index_col="date")
    factors = read_french_factors(Path(SHARED) / "factors" / "ff_daily.csv")
    np.testing.assert_allclose(factors["mkt_rf"].to_numpy(), raw["mkt_rf"].to_numpy() / 100)
    for model, cols in (("ff3", ["mkt_rf", "smb", "hml"]), ("carhart", ["mkt_rf", "smb", "hml", "mom"])):
        res = event_study(ret, None, "2017-04-10", model=model, factors=factors, windows=[(0, 1)])
        joined = pd.concat([ret.rename("r"), raw / 100], axis=1, join="inner").dropna()
        pos = joined.index.get_loc(pd.Timestamp("2017-04-10"))
        est = joined.iloc[pos - 250:pos - 10]
        ols = sm.OLS(est["r"] - est["rf"], sm.add_constant(est[cols])).fit()
        np.testing.assert_allclose(res.fitted.params, ols.params.to_numpy(), rtol=1e-8)
        ev = joined.iloc[pos:pos + 2]
        ar = ev["r"] - ev["rf"] - sm.add_constant(ev[cols], has_constant="add").to_numpy() @ ols.params.to_numpy()
        assert res.car_table["car"].iloc[0] == pytest.approx(ar.sum(), rel=1e-8)


# ============================================================ spec, results protocol, overlaps
def test_the_spec_is_built_once_kept_on_every_result_and_reused(panel):
    from incident_impact.eventstudy import EventStudySpec

    wide, market, events = panel
    spec = EventStudySpec(model="market", estimation="-200,-11", windows=["0,1", (0, 1), "[-1,+1]"], min_estimation_obs=100)
    assert spec.windows == ((0, 1), (-1, 1)) and spec.estimation == (-200, -11) and spec.model.name == "market"
    assert spec == EventStudySpec(windows=[(0, 1), (-1, 1)], estimation=(-200, -11), min_estimation_obs=100)
    res = run_study(wide, market, events, spec=spec)
    assert res.spec == spec and all(res[e].spec == spec for e in res.event_ids)
    assert res.windows == spec.windows and res.estimation_window == (-200, -11) and res.model == "market"
    # an option given beside the spec overrides it
    other = run_study(wide, market, events, spec=spec, model="mean")
    assert other.spec.model.name == "mean" and other.spec.windows == spec.windows
    single = event_study(wide["AAA"], market, events.event_date[0], spec=spec)
    assert single.spec is spec and single.windows == spec.windows
    pd.testing.assert_frame_equal(single.car_table, res["a-1"].car_table)
    with pytest.raises(IncidentImpactError, match="overlaps the event window"):
        spec.replace(estimation=(-250, 0))
    with pytest.raises(IncidentImpactError, match="min_estimation_obs"):
        EventStudySpec(min_estimation_obs=-1)
    with pytest.raises(IncidentImpactError, match="no field"):
        spec.replace(windowz=[(0, 1)])
    with pytest.raises(IncidentImpactError, match="at least one event window"):
        EventStudySpec(windows=[])
    assert json.dumps(spec.to_dict())


def test_placebo_test_takes_min_estimation_obs_and_factors_from_the_study():
    from incident_impact.eventstudy import placebo_test

    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2018-01-01", periods=500)
    f = synthetic_factors(dates, rng)
    stock = f["rf"] + 0.0001 + f[["mkt_rf", "smb", "hml"]] @ [1.0, 0.3, 0.2] + rng.normal(0, 0.015, 500)
    events = pd.DataFrame({"event_id": ["x"], "ticker": ["S"], "event_date": [dates[400]]})
    study = run_study(pd.DataFrame({"S": stock}), None, events, model="ff3", factors=f, windows=[(0, 1)],
                      min_estimation_obs=200)
    assert study.spec.factors is f and study.spec.min_estimation_obs == 200
    table = placebo_test(study, 20, seed=1)          # no factors= nor min_estimation_obs= needed any more
    assert table["n_placebo"].iloc[0] == 20
    # an explicit argument still overrides the study's
    stricter = placebo_test(study, 20, seed=1, min_estimation_obs=240)
    assert stricter["n_placebo"].iloc[0] == 20


def test_one_warning_per_study_and_the_pairs_in_overlaps(panel):
    wide, market, events = panel
    dates = wide.index
    many = pd.DataFrame({"event_id": [f"o{i}" for i in range(12)], "ticker": "AAA",
                         "event_date": [dates[400 + 2 * i] for i in range(12)]})
    for engine in ("batch", "loop"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = run_study(wide, market, many, windows=[(-1, 1)], engine=engine)
        mine = [w for w in caught if issubclass(w.category, OverlappingEventsWarning)]
        assert len(mine) == 1 and res.warnings == (str(mine[0].message),)
        # [-1,+1] around days 2 sessions apart: each event meets the next one only
        assert len(res.overlaps) == 11 and "11 pairs" in res.warnings[0] and "result.overlaps" in res.warnings[0]
        assert "o0 and o1 of AAA" in res.warnings[0] and "and 8 more" in res.warnings[0]
        row = res.overlaps.iloc[0]
        assert (row.event_id_1, row.event_id_2, row.ticker) == ("o0", "o1", "AAA")
        assert row.overlap_start == dates[401] and row.overlap_end == dates[401]
    quiet = run_study(wide, market, events.iloc[:2], windows=[(0, 1)])
    assert quiet.overlaps.empty and quiet.warnings == ()


def test_find_overlaps_lists_every_pair_of_one_firm():
    from incident_impact.eventstudy.overlaps import find_overlaps

    rng = np.random.default_rng(1)
    n = 800
    tickers = rng.integers(0, 30, n).astype(str)
    start = pd.Timestamp("1975-01-01") + pd.to_timedelta(rng.integers(0, 18000, n), "D")
    end = start + pd.to_timedelta(rng.integers(0, 40, n), "D")
    got = find_overlaps([f"e{i}" for i in range(n)], tickers, start, end)
    brute = {frozenset((f"e{i}", f"e{j}")) for i in range(n) for j in range(i + 1, n)
             if tickers[i] == tickers[j] and start[i] <= end[j] and start[j] <= end[i]}
    assert {frozenset(p) for p in zip(got.event_id_1, got.event_id_2, strict=True)} == brute and len(got) == len(brute)
    assert (got["overlap_start"] <= got["overlap_end"]).all()


def test_study_result_in_a_notebook_is_short_and_cheap(panel, monkeypatch):
    wide, market, events = panel
    res = run_study(wide, market, events, windows=[(0, 1), (-1, 1)])
    text = repr(res)
    assert 2 <= len(text.splitlines()) <= 6 and "6 event(s) studied, 0 not" in text and ".summary()" in text
    # neither repr nor the HTML runs a test (10,000 events must not pay for nine tests)
    monkeypatch.setattr(res.engine, "test_inputs", lambda w: pytest.fail("a test ran"))
    html = res._repr_html_()
    assert html.startswith("<div>") and html.endswith("</div>") and "[0,+1]" in html and "caar" in html
    monkeypatch.undo()
    frame = res.to_frame()
    pd.testing.assert_frame_equal(frame, res.cars)
    out = res.to_dict()
    text = json.dumps(out, allow_nan=False)
    assert out["n_events"] == 6 and out["spec"]["windows"] == [[0, 1], [-1, 1]] and "[0,+1]" in out["tests"]
    assert "NaN" not in text and out["tests"]["[0,+1]"][-1]["statistic"] is None  # sq: NaN -> None
    assert "tests" not in res.to_dict(tests=False)
    with pytest.raises(IncidentImpactError, match="no studied event 'nope'"):
        res["nope"]
    with pytest.raises(KeyError):
        res["nope"]


def test_event_result_in_a_notebook_params_table_and_other_levels(panel):
    wide, market, events = panel
    res = event_study(wide["BBB"], market, events.event_date[1], windows=[(0, 1), (-1, 1)], event_id="b-1")
    text = repr(res)
    assert 2 <= len(text.splitlines()) <= 6 and "b-1" in text and "market model" in text and ".summary()" in text
    html = res._repr_html_()
    assert html.startswith("<div>") and "[-1,+1]" in html and "ci_lower" in html
    assert json.dumps(res.to_dict(), allow_nan=False)
    # car_table is the 95 % table; car_table_at gives another level with the same CARs
    t90 = res.car_table_at(0.90)
    pd.testing.assert_frame_equal(t90.drop(columns=["ci_lower", "ci_upper"]),
                                  res.car_table.drop(columns=["ci_lower", "ci_upper"]))
    crit = stats.t.ppf(0.95, res.fitted.df)
    np.testing.assert_allclose(t90["ci_upper"] - t90["car"], crit * t90["se"], rtol=1e-12)
    pd.testing.assert_frame_equal(res.car_table_at(0.95), res.car_table)
    with pytest.raises(IncidentImpactError, match="between 0 and 1"):
        res.car_table_at(95)
    # coefficient standard errors: sigma^2 (X'X)^-1, as statsmodels' bse
    est = res.estimation
    ols = sm.OLS(est["return"], sm.add_constant(est["benchmark"])).fit()
    table = res.params_table
    assert list(table.index) == ["alpha", "beta"] and list(table.columns) == ["coef", "se", "t_stat", "p_value"]
    np.testing.assert_allclose(table["coef"].to_numpy(), ols.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(table["se"].to_numpy(), ols.bse.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(table["t_stat"].to_numpy(), ols.tvalues.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(table["p_value"].to_numpy(), ols.pvalues.to_numpy(), rtol=1e-8)
    assert event_study(wide["BBB"], market, events.event_date[1], model="market-adjusted").params_table.empty


@pytest.mark.parametrize("model, cols", [("mean", []), ("ff3", ["mkt_rf", "smb", "hml"])])
def test_params_table_of_other_models_matches_statsmodels(model, cols):
    rng = np.random.default_rng(9)
    dates = pd.bdate_range("2018-01-01", periods=400)
    f = synthetic_factors(dates, rng)
    stock = f["rf"] + 0.0002 + f[["mkt_rf", "smb", "hml"]] @ [1.1, 0.4, -0.2] + rng.normal(0, 0.015, 400)
    res = event_study(stock, None, dates[350], model=model, factors=f, windows=[(0, 1)])
    est = res.estimation.index
    y = stock[est] - (f.loc[est, "rf"] if cols else 0)
    X = sm.add_constant(f.loc[est, cols]) if cols else np.ones((len(est), 1))
    ols = sm.OLS(y.to_numpy(), np.asarray(X)).fit()
    np.testing.assert_allclose(res.params_table["se"].to_numpy(), ols.bse, rtol=1e-10)


def test_user_errors_are_incident_impact_errors(panel):
    from incident_impact.eventstudy import EventStudySpec, get_model, placebo_test
    from incident_impact.eventstudy.simulation import rejection_rates

    wide, market, events = panel
    bad = [
        lambda: get_model(["market"]),
        lambda: EventStudySpec(model=["market"]),
        lambda: EventStudySpec(windows=5),
        lambda: EventStudySpec(estimation=None),
        lambda: EventStudySpec(factors="ff.csv"),
        lambda: run_study(wide, market, events, spec="market"),
        lambda: run_study(wide, 123, events),
        lambda: placebo_test(run_study(wide, market, events.iloc[:1]), 5, returns=wide.drop(columns="AAA")),
        lambda: placebo_test(run_study(wide, market, events.iloc[:1]), 2.5),
        lambda: rejection_rates("Z", 1, 1),
    ]
    for make in bad:
        with pytest.raises(IncidentImpactError):
            make()
