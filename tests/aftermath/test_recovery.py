"""Persistence and recovery of one incident (incident_impact.aftermath.recovery) and the market-learning scan
(incident_impact.aftermath.learning)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from incident_impact.aftermath.learning import market_learning
from incident_impact.aftermath.recovery import _weigh_status, recovery, recovery_metrics
from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import event_study, placebo_cars

DATES = pd.bdate_range("2015-01-01", periods=900)
DAY0 = 700  # position of day 0


def market_data(seed=1, n=900, shock=None):
    rng = np.random.default_rng(seed)
    dates = DATES[:n]
    m = pd.Series(rng.standard_t(5, n) * 0.008 + 0.0003, index=dates)
    eps = rng.standard_t(5, n) * 0.012
    if shock:
        for pos, size in shock.items():
            eps[pos] += size
    s = pd.Series(0.0002 + 1.1 * m.to_numpy() + eps, index=dates)
    return s, m


# Hand-checkable path: -1.25 % a day to -5 % on day 3, then +0.6 % a day to +0.4 % on day 12, then flat.
PATH_AR = [-0.0125] * 4 + [0.006] * 9 + [0.0] * 8  # days 0..20
PATH = np.cumsum(PATH_AR)


def constructed(n_after=21, noise_seed=3):
    """Market-adjusted data whose abnormal returns from day 0 are PATH_AR (exact, nothing estimated)."""
    rng = np.random.default_rng(noise_seed)
    n = DAY0 + n_after
    dates = DATES[:n]
    m = rng.normal(0.0003, 0.01, n)
    ar = rng.normal(0, 0.01, n)
    ar[DAY0:DAY0 + n_after] = (PATH_AR + [0.0] * max(0, n_after - len(PATH_AR)))[:n_after]
    return pd.Series(m + ar, index=dates), pd.Series(m, index=dates)


def test_metrics_on_a_hand_path():
    path = pd.Series(np.round(PATH, 10), index=range(21))
    got = recovery_metrics(path, mde=0.01)
    # trough -5 % on day 3; half the loss (c >= -2.5 %) first on day 8 (-2.0 %; day 7 is -2.6 %)
    assert (got.trough_day, got.trough_car) == (3, pytest.approx(-0.05))
    assert got.half_life_sessions == 5
    # above -1 % from day 10 on (day 9: -1.4 %, day 10: -0.8 %)
    assert got.recovered_by == 10 and got.hurt
    assert got.status == "recovered by day +10"


def test_metrics_edge_cases():
    up = pd.Series([0.01, 0.02, 0.015], index=[0, 1, 2])
    got = recovery_metrics(up, 0.01)
    assert got.half_life_sessions is None and got.recovered_by == 0 and got.status == "no loss" and not got.hurt
    small = pd.Series([-0.002, -0.004, -0.001], index=[0, 1, 2])
    got = recovery_metrics(small, 0.01)
    assert got.recovered_by == 0 and got.half_life_sessions == 1 and got.status.startswith("never fell")
    down = pd.Series([-0.02, -0.03, -0.025], index=[0, 1, 2])
    got = recovery_metrics(down, 0.01)
    assert got.recovered_by is None and got.half_life_sessions is None
    assert got.status == "not recovered within 2 sessions"
    assert recovery_metrics(down, None).recovered_by is None


def test_not_recovered_status_weighs_the_evidence():
    """'Not recovered' rests on the point path: when the last observable horizon's CAR is not
    significant (United 2017: -28.4 % over [0,+120], p = 0.275) the status says the data cannot tell."""
    down = recovery_metrics(pd.Series([-0.02, -0.03, -0.025], index=[0, 1, 2]), 0.01)

    def horizons(p, sq_p, observable=(True, True)):
        return pd.DataFrame(
            {"horizon": [1, 2], "car": [-0.03, -0.025], "p_value": [0.001, p], "sq_p_value": [0.001, sq_p],
             "observable": list(observable)}
        )

    weak = _weigh_status(down, horizons(0.275, 0.31))
    assert weak.startswith("not recovered within 2 sessions on the point estimate")
    assert "[0,+2] (-2.5 %, p = 0.275)" in weak and "cannot tell whether the loss lasted" in weak
    assert _weigh_status(down, horizons(0.01, 0.31)) == "not recovered within 2 sessions"  # t test significant
    assert _weigh_status(down, horizons(0.2, 0.04)) == "not recovered within 2 sessions"  # SQ test significant
    assert _weigh_status(down, horizons(0.2, np.nan)).endswith("lasted")  # SQ not computable: the t test decides
    # the longest OBSERVABLE horizon decides; a recovered or never-hurt path keeps its status
    assert _weigh_status(down, horizons(0.5, 0.5, (True, False))) == "not recovered within 2 sessions"
    up = recovery_metrics(pd.Series([0.01, 0.02], index=[0, 1]), 0.01)
    assert _weigh_status(up, horizons(0.5, 0.5)) == "no loss"


def test_recovery_on_a_constructed_series():
    stock, bench = constructed()
    rec = recovery(stock, bench, DATES[DAY0], horizons=(5, 20), model="market-adjusted", mde=0.01)
    assert np.allclose(rec.path["car"], PATH, atol=1e-12)
    assert (rec.trough_day, rec.half_life_sessions, rec.recovered_by) == (3, 5, 10)
    assert rec.trough_car == pytest.approx(-0.05, abs=1e-12)
    h5, h20 = rec.horizon(5), rec.horizon(20)
    assert h5.hurt and pd.isna(h5.recovered_by)  # still below -1 % on day 5
    assert h20.hurt and h20.recovered_by == 10
    assert h20.car == pytest.approx(PATH[20], abs=1e-12)


def test_not_yet_observable_when_the_data_end_early():
    stock, bench = constructed(n_after=31)  # day 0 .. day +30
    rec = recovery(stock, bench, DATES[DAY0], model="market-adjusted", mde=0.01)
    assert list(rec.horizons["observable"]) == [True, False, False]
    for h in (60, 120):
        row = rec.horizon(h)
        assert np.isnan(row.car) and np.isnan(row.p_value) and np.isnan(row.sq_p_value)
        assert row.reason.startswith("not yet observable") and "day +30" in row.reason
    assert rec.path_end == 20  # the metrics stop at the longest observable horizon
    d = rec.to_dict()
    assert d["horizons"][1]["car"] is None and d["horizons"][1]["observable"] is False
    assert "not yet observable" in rec.summary()


def test_confounders_listed_per_horizon():
    stock, bench = market_data()
    conf = pd.DataFrame({"date": [DATES[DAY0 + 5], DATES[DAY0 + 40], DATES[DAY0 + 100], DATES[DAY0 - 3]],
                         "kind": ["earnings", "downgrade", "earnings", "earnings"],
                         "description": ["Q1 results", "analyst cut", "Q2 results", "before the event"]})
    rec = recovery(stock, bench, DATES[DAY0], confounders=conf)
    h = rec.horizons
    assert h["confounded"].tolist() == [True, True, True]
    assert h.loc["[0,+20]", "confounders"] == "earnings on %s (day +5): Q1 results" % DATES[DAY0 + 5].date()
    assert h.loc["[0,+60]", "confounders"].count(";") == 1
    assert h.loc["[0,+120]", "confounders"].count(";") == 2
    d = rec.to_dict()
    assert [len(x["confounders"]) for x in d["horizons"]] == [1, 2, 3]
    assert d["horizons"][2]["confounders"][2] == {"date": str(DATES[DAY0 + 100].date()), "rel_day": 100,
                                                   "kind": "earnings", "description": "Q2 results"}


def test_confounder_after_the_data_end_is_listed_in_the_unobservable_horizon():
    stock, bench = constructed(n_after=31)
    late = DATES[DAY0 + 30] + pd.Timedelta(days=40)
    conf = pd.DataFrame({"date": [late], "kind": ["earnings"], "description": ["Q2"]})
    rec = recovery(stock, bench, DATES[DAY0], model="market-adjusted", mde=0.01, confounders=conf)
    assert rec.horizons["confounded"].tolist() == [False, True, True]


def test_cars_equal_event_study():
    stock, bench = market_data()
    rec = recovery(stock, bench, DATES[DAY0])
    es = event_study(stock, bench, DATES[DAY0], windows=[(0, 20), (0, 60), (0, 120)]).car_table
    for h in (20, 60, 120):
        row = rec.horizon(h)
        ref = es.loc[f"[0,+{h}]"]
        assert abs(row.car - ref.car) < 1e-12 and abs(row.se - ref.se) < 1e-12
        assert abs(row.p_value - ref.p_value) < 1e-12 and abs(row.t_stat - ref.t_stat) < 1e-10


def test_sq_p_against_a_hand_computation():
    stock, bench = market_data(seed=7)
    rec = recovery(stock, bench, DATES[DAY0])
    # market model fitted by hand on the estimation window [-250, -11]
    est = slice(DAY0 - 250, DAY0 - 10)
    X = np.column_stack([np.ones(240), bench.to_numpy()[est]])
    a, b = np.linalg.lstsq(X, stock.to_numpy()[est], rcond=None)[0]
    ar_pre = stock.to_numpy()[:DAY0] - a - b * bench.to_numpy()[:DAY0]
    for h in (20, 60, 120):
        L = h + 1
        sums = np.array([ar_pre[i:i + L].sum() for i in range(len(ar_pre) - L + 1)])
        car = rec.horizon(h).car
        le, ge = (sums <= car).mean(), (sums >= car).mean()
        assert rec.horizon(h).sq_p_value == pytest.approx(min(1, 2 * min(le, ge)), abs=1e-12)
        assert rec.horizon(h).n_sq_windows == len(sums) and rec.horizon(h).n_sq_independent == DAY0 // L
        # the estimation-window version: the 240 - L + 1 in-sample CARs
        res = np.asarray(stock.to_numpy()[est] - a - b * bench.to_numpy()[est])
        sums_e = np.convolve(res, np.ones(L), mode="valid")
        le, ge = (sums_e <= car).mean(), (sums_e >= car).mean()
        assert rec.horizon(h).sq_p_value_estimation == pytest.approx(min(1, 2 * min(le, ge)), abs=1e-12)
        assert rec.horizon(h).n_sq_windows_estimation == 240 - L + 1


def test_placebo_share_from_a_given_table():
    stock, bench = market_data(seed=2)
    dates = DATES[300:650:10].append(DATES[[690, 750]])  # 690 and 750 overlap [0,+20] of the event at 700
    table = placebo_cars(stock, bench, dates=dates, windows=[(0, 20)])
    rec = recovery(stock, bench, DATES[DAY0], horizons=(20,), placebo=table)
    car = rec.horizon(20).car
    kept = table[~table["day0"].isin(DATES[[690]])]  # 750 is 50 sessions away: kept; 690 is 10: dropped
    assert rec.horizon(20).n_placebo == len(kept)
    assert rec.horizon(20).placebo_p_value == pytest.approx((kept["car"].abs() >= abs(car)).mean())
    sampled = recovery(stock, bench, DATES[DAY0], horizons=(20,), placebo=40, seed=5)
    assert 0 < sampled.horizon(20).n_placebo <= 40
    assert sampled.horizon(20).placebo_p_value == recovery(stock, bench, DATES[DAY0], horizons=(20,), placebo=40,
                                                           seed=5).horizon(20).placebo_p_value


def test_contract_and_display():
    stock, bench = market_data()
    rec = recovery(stock, bench, DATES[DAY0])
    d = rec.to_dict()
    json.dumps(d, allow_nan=False)
    assert list(d)[:5] == ["horizons", "trough_day", "trough_car", "half_life_sessions", "recovered_by"]
    assert [h["window"] for h in d["horizons"]] == ["[0,+20]", "[0,+60]", "[0,+120]"]
    assert {"window", "car", "se", "p_value", "sq_p_value", "placebo_p_value", "n_placebo", "observable", "reason",
            "confounders"} <= set(d["horizons"][0])
    assert d["horizons"][0]["placebo_p_value"] is None  # placebo not asked for
    assert d["mde_source"].startswith("MDE")
    # 700 pre-event sessions hold 11 non-overlapping 61-day and 5 121-day windows: the SQ test is flagged
    assert any("few non-overlapping" in n and "[0,+120]: 5" in n and "[0,+20]" not in n for n in rec.notes)
    assert repr(rec).startswith("Recovery:") and len(repr(rec).splitlines()) <= 5
    assert "<div>" in rec._repr_html_() and "[0,+60]" in rec.summary()
    assert list(rec.to_frame().index) == ["[0,+20]", "[0,+60]", "[0,+120]"]
    assert list(rec.path.columns[:3]) == ["date", "rel_day", "car"]


def test_bad_input_errors():
    stock, bench = market_data()
    with pytest.raises(IncidentImpactError, match="at least 1 session"):
        recovery(stock, bench, DATES[DAY0], horizons=(0, 20))
    with pytest.raises(IncidentImpactError, match="mde"):
        recovery(stock, bench, DATES[DAY0], mde=-0.01)
    with pytest.raises(IncidentImpactError, match="placebo"):
        recovery(stock, bench, DATES[DAY0], placebo="all")


# ------------------------------------------------------------------ when did the market learn
def test_learning_finds_the_shock_on_the_response_date():
    stock, bench = market_data(seed=11, shock={DAY0 + 4: -0.10})
    candidates = pd.DataFrame({"date": [DATES[DAY0], DATES[DAY0 + 2], DATES[DAY0 + 4], DATES[-1] + pd.Timedelta(days=30)],
                               "kind": ["incident", "press", "response", "other"],
                               "description": ["first post", "picked up by the press", "apology", "too late"]})
    got = market_learning(stock, bench, DATES[DAY0], candidates, n_placebo=200, seed=1)
    assert got.max_label == "response" and got.max_window == "[+4,+5]"
    assert got.corrected_p_value < 0.05 and got.n_placebo >= 150 and got.n_windows == 3
    c = got.candidates.set_index("label")
    assert c.loc["response", "t_stat"] < -3 and abs(c.loc["incident", "t_stat"]) < 3
    assert c.loc["other", "reason"].startswith("not yet observable")
    es = event_study(stock, bench, DATES[DAY0], windows=[(4, 5), (0, 5)])
    assert c.loc["response", "car"] == pytest.approx(es.car((4, 5))[0], abs=1e-12)
    assert c.loc["response", "cum_car"] == pytest.approx(es.car((0, 5))[0], abs=1e-12)
    json.dumps(got.to_dict(), allow_nan=False)
    assert "response" in got.sentence() and got.bonferroni_p_value <= 1


def test_learning_corrected_p_is_the_placebo_share_of_the_scan():
    stock, bench = market_data(seed=4)
    cands = {"incident": DATES[DAY0], "viral peak": DATES[DAY0 + 1], "response": DATES[DAY0 + 3]}
    got = market_learning(stock, bench, DATES[DAY0], cands, n_placebo=30, seed=2)
    # redo the scan by hand at the same placebo dates
    k = np.arange(len(DATES))
    ok = (k - 250 >= 0) & (k + 4 < len(DATES)) & (np.abs(k - DAY0) > 4)
    pool = DATES[ok]
    pool = pool[np.sort(np.random.default_rng(2).choice(len(pool), size=30, replace=False))]
    t = placebo_cars(stock, bench, dates=pool, windows=[(0, 1), (1, 2), (3, 4)]).pivot(index="day0", columns="window",
                                                                                      values="t_stat")
    assert got.n_placebo == len(t)
    assert got.corrected_p_value == pytest.approx((t.abs().max(axis=1) >= got.max_abs_t).mean())
