"""The batch engine against the single-event reference path: every number to 1e-10, same failures and warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import TEST_NAMES, run_study
from incident_impact.eventstudy.batch import BatchEngine

RTOL, ATOL = 1e-10, 1e-12
N_DAYS = 900


def close(a, b, what):
    np.testing.assert_allclose(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what
    )


def frames_equal(a: pd.DataFrame, b: pd.DataFrame, what: str):
    pd.testing.assert_frame_equal(
        a, b, check_exact=False, rtol=RTOL, atol=ATOL, check_freq=False, check_dtype=not b.empty, obj=what
    )


def both(*args, **kwargs):
    """(batch, loop) results of one study, warnings collected for comparison."""
    out = []
    for engine in ("batch", "loop"):
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            out.append(run_study(*args, engine=engine, **kwargs))
    assert isinstance(out[0].engine, BatchEngine) and out[1].engine.name == "loop"
    return out


def assert_same_study(batch, loop, extra_windows=()):
    """Every per-event number, every tidy table and every test, batch against loop."""
    assert batch.event_ids == loop.event_ids
    pd.testing.assert_frame_equal(batch.failures, loop.failures)
    assert batch.warnings == loop.warnings
    pd.testing.assert_frame_equal(batch.overlaps, loop.overlaps)
    for eid in loop.event_ids:
        b, r = batch[eid], loop[eid]
        assert (b.day0, b.event_date, b.windows, b.notes) == (r.day0, r.event_date, r.windows, r.notes), eid
        pd.testing.assert_series_equal(b.params, r.params, rtol=RTOL, atol=ATOL)
        frames_equal(b.estimation, r.estimation, f"{eid} estimation")
        frames_equal(b.event, r.event, f"{eid} event")
        frames_equal(b.car_table, r.car_table, f"{eid} car_table")
        close(b.event_design, r.event_design, f"{eid} design")
        close(b.fitted.xtx_inv, r.fitted.xtx_inv, f"{eid} (X'X)^-1")
        assert (b.fitted.df, b.fitted.n_obs) == (r.fitted.df, r.fitted.n_obs)
        close(b.fitted.sigma2, r.fitted.sigma2, f"{eid} sigma2")
        for w in b.windows:
            sq_b, sq_r = b.sq_test(w), r.sq_test(w)
            close([sq_b.statistic, sq_b.p_value], [sq_r.statistic, sq_r.p_value], f"{eid} SQ")
            assert (sq_b.reason, sq_b.note) == (sq_r.reason, sq_r.note)
    frames_equal(batch.cars, loop.cars, "cars")
    frames_equal(batch.abnormal_returns, loop.abnormal_returns, "abnormal_returns")
    frames_equal(batch.aar, loop.aar, "aar")
    frames_equal(batch.caar, loop.caar, "caar")
    for w in (*loop.windows, *extra_windows):
        tb, tl = batch.tests(w), loop.tests(w)
        assert tb.index.tolist() == list(TEST_NAMES)
        close(tb["statistic"], tl["statistic"], f"statistics {w}")
        close(tb["p_value"], tl["p_value"], f"p-values {w}")
        close(tb["df"], tl["df"], f"df {w}")
        assert tb["n_events"].tolist() == tl["n_events"].tolist()
        assert tb["distribution"].tolist() == tl["distribution"].tolist()
        kp_b, kp_l = tb.at["kp_bmp", "note"], tl.at["kp_bmp", "note"]
        assert kp_b.split(",")[0][:14] == kp_l.split(",")[0][:14]  # "rbar = x.xxxx" (printed to 4 decimals)


@pytest.fixture(scope="module")
def panel():
    """Eight firms over 900 sessions; holes in some firms' and in the benchmark's returns, an inf, a late listing."""
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2012-01-02", periods=N_DAYS)
    market = pd.Series(rng.normal(0.0003, 0.01, N_DAYS), index=dates)
    tickers = [f"T{i}" for i in range(8)]
    betas = rng.uniform(0.5, 1.6, len(tickers))
    wide = pd.DataFrame(
        {t: 0.0002 + b * market + rng.normal(0, rng.uniform(0.01, 0.03), N_DAYS) for t, b in zip(tickers, betas)}
    )
    wide.iloc[rng.choice(N_DAYS, 40, replace=False), 1] = np.nan  # missing days inside estimation windows
    wide.iloc[300:303, 2] = np.nan
    wide.iloc[420, 3] = np.inf
    wide.iloc[:500, 4] = np.nan  # listed late
    wide["EMPTY"] = np.nan  # a column without returns
    market.iloc[[250, 251, 600]] = np.nan  # benchmark holes
    other = pd.Series(rng.normal(0.0002, 0.008, N_DAYS), index=dates)
    other.iloc[100:110] = np.nan
    return wide, market, other


def events_for(wide, rng, n=30):
    dates = wide.index
    rows = [
        {
            "event_id": f"e{i}",
            "ticker": f"T{rng.integers(0, 8)}",
            "event_date": dates[rng.integers(200, N_DAYS - 3)] + pd.Timedelta(days=int(rng.integers(0, 2))),
        }
        for i in range(n)
    ]
    rows += [
        {"event_id": "early", "ticker": "T0", "event_date": dates[150]},  # too little estimation data
        {"event_id": "short", "ticker": "T0", "event_date": dates[240]},  # shortened estimation window
        {"event_id": "edge", "ticker": "T0", "event_date": dates[N_DAYS - 2]},  # some windows past the data
        {"event_id": "last", "ticker": "T0", "event_date": dates[-1]},  # one window left
        {"event_id": "after", "ticker": "T0", "event_date": dates[-1] + pd.Timedelta(days=5)},
        {"event_id": "before", "ticker": "T0", "event_date": dates[0] - pd.Timedelta(days=5)},
        {"event_id": "listing", "ticker": "T4", "event_date": dates[560]},  # data start 60 days before
        {"event_id": "listed", "ticker": "T4", "event_date": dates[800]},
        {"event_id": "unknown", "ticker": "NOPE", "event_date": dates[400]},
        {"event_id": "empty", "ticker": "EMPTY", "event_date": dates[400]},
        {"event_id": "same-1", "ticker": "T5", "event_date": dates[700]},  # several events per firm,
        {"event_id": "same-2", "ticker": "T5", "event_date": dates[702]},  # overlapping
        {"event_id": "holiday", "ticker": "T1", "event_date": dates[500] + pd.Timedelta(days=1)},
    ]
    return pd.DataFrame(rows)


WINDOWS = [(0, 0), (0, 1), (-1, 1), (-5, 5)]


@pytest.mark.parametrize("model", ["market", "mean", "market-adjusted"])
def test_batch_equals_loop_with_holes_edges_and_several_events_per_firm(panel, model):
    wide, market, _ = panel
    events = events_for(wide, np.random.default_rng(1))
    batch, loop = both(wide, market, events, model=model, windows=WINDOWS)
    assert loop.n_events > 30 and len(loop.failures) >= 4 and loop.warnings
    assert any(loop[e].notes for e in loop.event_ids)
    assert_same_study(batch, loop, extra_windows=[(0, 2), (-3, 0)])


def test_per_event_benchmarks_long_returns_and_event_characteristics(panel):
    wide, market, other = panel
    rng = np.random.default_rng(2)
    events = events_for(wide, rng).assign(
        size=lambda f: np.arange(len(f)) * 1.5,
        benchmark=lambda f: rng.choice(["mkt", "other", "nope"], len(f), p=[0.5, 0.4, 0.1]),
    )
    long = wide.rename_axis("date").reset_index().melt(id_vars="date", var_name="ticker", value_name="return")
    batch, loop = both(long.dropna(), pd.DataFrame({"mkt": market, "other": other}), events, windows=[(0, 1), (-2, 2)])
    assert loop.failures["reason"].str.contains("unknown benchmark 'nope'").any()
    assert "size" in batch.cars.columns
    assert_same_study(batch, loop)


def test_clustered_events_share_dates_for_kolari_pynnonen(panel):
    wide, market, _ = panel
    day = wide.index[700]
    events = pd.DataFrame(
        {"event_id": [f"c{t}" for t in "0235"], "ticker": [f"T{t}" for t in "0235"], "event_date": day}
    )
    batch, loop = both(wide, market, events, windows=[(0, 1)])
    assert "rbar = 0.0000" not in loop.tests((0, 1)).at["kp_bmp", "note"]
    assert_same_study(batch, loop)
    # identical estimation dates for all: no minimum overlap (np.corrcoef path), short windows allowed
    clean = wide[["T0", "T5", "T6"]]
    ev = pd.DataFrame({"event_id": ["a", "b", "c"], "ticker": ["T0", "T5", "T6"], "event_date": wide.index[400]})
    batch, loop = both(clean, market.fillna(0), ev, windows=[(0, 1)], estimation=(-20, -2), min_estimation_obs=10)
    assert_same_study(batch, loop)


@pytest.mark.parametrize("model", ["ff3", "carhart", "ff5"])
def test_factor_models(panel, model):
    wide, _, _ = panel
    rng = np.random.default_rng(3)
    f = pd.DataFrame(
        {c: rng.normal(0, 0.006, N_DAYS) for c in ("mkt_rf", "smb", "hml", "rmw", "cma", "mom")}, index=wide.index
    ).assign(rf=0.0001)
    f.iloc[333, 2] = np.nan
    events = events_for(wide, rng, n=12)
    batch, loop = both(wide, None, events, model=model, factors=f, windows=[(0, 1), (-1, 1)])
    assert loop.n_events > 10
    assert_same_study(batch, loop)


def test_one_event_and_no_event(panel):
    wide, market, _ = panel
    one = pd.DataFrame({"event_id": ["x"], "ticker": ["T3"], "event_date": [wide.index[650]]})
    assert_same_study(*both(wide, market, one, windows=[(0, 1)]))
    none = one.assign(ticker="NOPE")
    batch, loop = both(wide, market, none, windows=[(0, 1)])
    assert batch.n_events == 0 and batch.cars.empty
    assert_same_study(batch, loop)


def test_fallbacks_to_the_loop_give_the_reference_failures(panel):
    wide, market, _ = panel
    events = pd.DataFrame({"event_id": ["a"], "ticker": ["T0"], "event_date": [wide.index[600]]})
    dup = pd.concat([market, market.iloc[[5]]])
    result = run_study(wide, dup, events)  # malformed benchmark: the loop's per-event failure
    assert result.engine.name == "loop" and "duplicate dates" in result.failures["reason"].iloc[0]
    result = run_study(wide, None, events, model="ff3")
    assert "needs a factor table" in result.failures["reason"].iloc[0]
    with pytest.raises(IncidentImpactError, match="unknown engine 'gpu'"):
        run_study(wide, market, events, engine="gpu")


def test_lazy_results_are_built_once_and_bhar_works(panel):
    wide, market, _ = panel
    events = events_for(wide, np.random.default_rng(4), n=10)
    batch, loop = both(wide, market, events, windows=[(0, 2)])
    eid = batch.event_ids[0]
    assert batch[eid] is batch[eid] and len(batch.results) == loop.n_events
    frames_equal(batch.bhar((0, 2)), loop.bhar((0, 2)), "bhar")
    assert batch.summary() == loop.summary()


def test_tied_abnormal_returns_take_the_reference_rank_test(panel):
    wide, market, _ = panel
    tied = wide.copy()
    days = tied.index[::3]
    tied.loc[days, "T0"] = market.loc[days]  # market-adjusted AR exactly 0 on every third day
    events = events_for(tied, np.random.default_rng(6), n=10)
    batch, loop = both(tied, market, events, model="market-adjusted", windows=[(0, 1)])
    assert batch.engine.fit.est_ties  # ties present
    assert_same_study(batch, loop)


def test_text_in_the_returns_is_one_clear_error(panel):
    wide, market, _ = panel
    text = wide.astype(object)
    text.iloc[10, 0] = "n/a"
    events = events_for(wide, np.random.default_rng(9), n=2)
    for engine in ("batch", "loop"):
        with pytest.raises(IncidentImpactError, match="returns must be numbers"):
            run_study(text, market, events, engine=engine)


def test_standardized_rank_tests_and_bootstrap_agree_across_engines(panel):
    """GRANK and Corrado-Zivney take the batch engine's counting path (no re-ranking) and equal the
    loop's reference computation; the bootstrap p-values and abnormal volatility agree for one seed."""
    from incident_impact.eventstudy import batch_grank
    from incident_impact.eventstudy.volatility import abnormal_volatility

    wide, market, _ = panel
    events = events_for(wide, np.random.default_rng(3))
    batch, loop = both(wide, market, events, windows=[(0, 0), (-2, 3)])
    calls = []
    original = batch_grank._rank_means

    def spy(*args):
        out = original(*args)
        calls.append(out is not None)
        return out

    batch_grank._rank_means = spy
    try:
        for w in [(0, 0), (-2, 3)]:
            tb, tl = batch.tests(w), loop.tests(w)
            close(
                tb.loc[["grank", "corrado_zivney"], ["statistic", "p_value", "df"]],
                tl.loc[["grank", "corrado_zivney"], ["statistic", "p_value", "df"]],
                f"standardized ranks {w}",
            )
            assert tb.at["grank", "note"] == tl.at["grank", "note"]
            for kind in ("date", "wild"):
                close(
                    batch.bootstrap_tests(w, 99, seed=5, kind=kind)["bootstrap_p_value"],
                    loop.bootstrap_tests(w, 99, seed=5, kind=kind)["bootstrap_p_value"],
                    f"bootstrap {kind} {w}",
                )
            frames_equal(abnormal_volatility(batch, w).events, abnormal_volatility(loop, w).events, "volatility")
    finally:
        batch_grank._rank_means = original
    assert calls and all(calls)  # the fast path, not the fallback


def test_closed_form_two_by_two_inverse_and_eigenvalues_equal_lapack():
    """The batch OLS inverts 2 x 2 (and 1 x 1) cross-product matrices and finds their extreme eigenvalues in
    closed form: equal to numpy.linalg to rounding, singular ones irregular (an exact zero determinant)."""
    from incident_impact.eventstudy.batch_fit import _extreme_eigenvalues, _inverse

    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 240, 2)) * rng.uniform(0.001, 10, (500, 1, 2))
    x[:, :, 0] += rng.normal(size=(500, 1)) * 5  # correlated columns
    xtx = np.einsum("nti,ntj->nij", x, x)
    xtx[0] = [[4.0, 2.0], [2.0, 1.0]]  # singular: ad = b^2 exactly
    xtx[1] = 0.0
    inv, regular = _inverse(xtx)
    assert not regular[0] and not regular[1] and regular[2:].all()
    np.testing.assert_allclose(inv[2:], np.linalg.inv(xtx[2:]), rtol=1e-10)
    smallest, largest = _extreme_eigenvalues(xtx[2:])
    eig = np.linalg.eigvalsh(xtx[2:])
    np.testing.assert_allclose(largest, eig[:, -1], rtol=1e-12)
    np.testing.assert_allclose(smallest, eig[:, 0], rtol=1e-8, atol=1e-12 * eig[:, -1].max())
    one, ok = _inverse(xtx[:, :1, :1])
    assert ok.tolist() == [True, False] + [True] * 498  # the zero matrix has no inverse
    np.testing.assert_allclose(one[ok], 1 / xtx[:, :1, :1][ok])
    three, ok3 = _inverse(np.stack([np.eye(3) * 2, np.zeros((3, 3))]))  # k = 3: LAPACK, a singular one NaN
    np.testing.assert_allclose(three[0], np.eye(3) / 2)
    assert ok3.tolist() == [True, False]


def test_rounded_prices_give_the_same_sq_p_values_in_both_engines(panel):
    """Returns rounded to 0.1 % make estimation CARs equal to the event's CAR up to the order of the sums:
    both engines count them as ties (they disagreed on 10 of 800 p-values before the tie tolerance)."""
    wide, market, _ = panel
    rounded, m = wide.round(3), market.round(3)
    events = events_for(rounded, np.random.default_rng(11), n=30)
    batch, loop = both(rounded, m, events, windows=[(0, 1), (-1, 1)])
    key = ["event_id", "window"]
    b = batch.cars.set_index(key)["sq_p_value"].sort_index()
    r = loop.cars.set_index(key)["sq_p_value"].sort_index()
    np.testing.assert_array_equal(b.to_numpy(), r.to_numpy())
