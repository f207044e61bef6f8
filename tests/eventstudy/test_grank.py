"""GRANK (Kolari & Pynnönen 2011) and the Corrado-Zivney (1992) standardized rank test against
a hand-worked example and an independent pandas re-implementation, through both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from incident_impact.eventstudy import TEST_NAMES, run_study
from incident_impact.eventstudy import statistics as st

EST = np.array([[0.5, -1.0, 2.0], [1.5, -0.5, 0.2]])  # two events, three estimation days (SAR = AR / sigma)


def test_grank_by_hand():
    """SCAR = (1, 3): S_SCAR = sqrt 2, GSAR_0 = (0.7071, 2.1213).
    Event 1 days (0.5, -1, 2, 0.7071) rank (2, 1, 4, 3); event 2 (1.5, -0.5, 0.2, 2.1213) rank (3, 1, 2, 4);
    T = 4, U = K/5 - 1/2: event 1 (-0.1, -0.3, 0.3, 0.1), event 2 (0.1, -0.3, -0.1, 0.3).
    Ubar = (0, -0.3, 0.1 | 0.2); S_Ubar^2 = (0 + 0.09 + 0.01 + 0.04)/4 = 0.035; Z = 0.2/sqrt(0.035) = sqrt(8/7);
    t = Z sqrt((T-2)/(T-1-Z^2)) = sqrt(8/7) sqrt(2/(13/7)) = 4/sqrt(13), t(2).
    Z under independence = 0.2 / sqrt((T-1)/(12 N (T+1))) = 0.2 / sqrt(3/120)."""
    res = st.grank(EST, [1.0, 3.0])
    assert res.name == "grank" and res.distribution == "t" and res.df == 2 and res.n_events == 2
    assert res.statistic == pytest.approx(4 / np.sqrt(13), rel=1e-12)
    assert res.p_value == pytest.approx(2 * stats.t.sf(4 / np.sqrt(13), 2), rel=1e-12)
    assert f"Z = {np.sqrt(8 / 7):.4f}" in res.note and f"{0.2 / np.sqrt(3 / 120):.4f}" in res.note


def test_corrado_zivney_by_hand():
    """Window SARs (1, -2) and (3, -3): day s.d. sqrt 2 and sqrt(0.5), SAR' = (0.7071, -2.8284), (2.1213, -4.2426).
    Event 1 (0.5, -1, 2 | 0.7071, -2.8284) ranks (3, 2, 5 | 4, 1); event 2 (1.5, -0.5, 0.2 | 2.1213, -4.2426)
    ranks (4, 2, 3 | 5, 1); U = K/6 - 1/2; Ubar = (1/12, -1/6, 1/6 | 1/4, -1/3);
    S_U^2 = (1/5)(1 + 4 + 4 + 9 + 16)/144 = 34/720; Z = (1/4 - 1/3) / (sqrt 2 S_U)."""
    res = st.corrado_zivney(EST, np.array([[1.0, -2.0], [3.0, -3.0]]))
    assert res.name == "corrado_zivney" and res.distribution == "normal"
    z = (-1 / 12) / (np.sqrt(2) * np.sqrt(34 / 720))
    assert res.statistic == pytest.approx(z, rel=1e-12)
    assert res.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)
    # one window day: the same ranks as GRANK's collapsed day, Z = sqrt(8/7)
    assert st.corrado_zivney(EST, np.array([[1.0], [3.0]])).statistic == pytest.approx(np.sqrt(8 / 7), rel=1e-12)


def test_need_two_events_and_variation():
    assert "at least 2 events" in st.grank(EST[:1], [1.0]).reason
    assert "at least 2 events" in st.corrado_zivney(EST[:1], [[1.0]]).reason
    assert "do not vary" in st.grank(EST, [1.0, 1.0]).reason
    assert "do not vary" in st.corrado_zivney(EST, [[1.0], [1.0]]).reason


def pandas_rank_means(panel: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Independent: pandas ranks per event (row), U = K/(T_i + 1) - 1/2, column means and counts."""
    ranks = panel.rank(axis=1)
    u = ranks.div(panel.notna().sum(axis=1) + 1, axis=0) - 0.5
    return u.mean(axis=0), u.notna().sum(axis=0)


def pandas_grank(est: pd.DataFrame, scar: pd.Series) -> tuple[float, float]:
    gsar = scar / scar.std()
    ubar, n_t = pandas_rank_means(est.assign(event=gsar))
    n, T = len(scar), int((n_t > 0).sum())
    s = np.sqrt((n_t / n * ubar**2).sum() / T)
    z = ubar["event"] / s
    t = z * np.sqrt((T - 2) / (T - 1 - z**2))
    return t, 2 * stats.t.sf(abs(t), T - 2)


def pandas_cz(est: pd.DataFrame, win: pd.DataFrame) -> float:
    ubar, n_t = pandas_rank_means(pd.concat([est, win / win.std()], axis=1))
    n, T, L = len(est), int((n_t > 0).sum()), win.shape[1]
    s = np.sqrt((n_t / n * ubar**2).sum() / T)
    return ubar[win.columns].sum() / (np.sqrt(L) * s)


def test_statistics_equal_a_pandas_reimplementation_with_missing_days():
    rng = np.random.default_rng(11)
    est = pd.DataFrame(rng.standard_t(4, (12, 60)), columns=[f"d{k}" for k in range(60)])
    est = est.mask(rng.random(est.shape) < 0.1)
    win = pd.DataFrame(rng.normal(0, 2, (12, 3)), columns=["w0", "w1", "w2"])
    scar = pd.Series(rng.normal(0.5, 1.5, 12))
    t, p = pandas_grank(est, scar)
    res = st.grank(est.to_numpy(), scar.to_numpy())
    assert res.statistic == pytest.approx(t, rel=1e-12) and res.p_value == pytest.approx(p, rel=1e-12)
    assert st.corrado_zivney(est.to_numpy(), win.to_numpy()).statistic == pytest.approx(pandas_cz(est, win), rel=1e-12)


@pytest.fixture(scope="module")
def market_panel():
    rng = np.random.default_rng(3)
    n_days, tickers = 700, [f"S{i}" for i in range(9)]
    dates = pd.bdate_range("2015-01-01", periods=n_days)
    market = pd.Series(rng.normal(0.0004, 0.01, n_days), index=dates)
    wide = pd.DataFrame({t: rng.uniform(0.6, 1.4) * market + rng.normal(0, rng.uniform(0.01, 0.03), n_days)
                         for t in tickers}, index=dates)
    day0 = rng.integers(300, n_days - 10, len(tickers))
    for t, d in zip(tickers, day0, strict=True):  # event-induced volatility and a small effect
        wide.iloc[d:d + 3, wide.columns.get_loc(t)] *= 2
        wide.iloc[d, wide.columns.get_loc(t)] += 0.01
    events = pd.DataFrame({"event_id": tickers, "ticker": tickers, "event_date": dates[day0]})
    return wide, market, events, day0


def independent_inputs(wide, market, day0, estimation=(-250, -11), window=(-1, 2)):
    """From the raw returns: OLS market model per event (numpy lstsq), AR, sigma, prediction-error
    s.d. and the CAR variance sigma^2 (L + g'(X'X)^-1 g), with no code from the library."""
    est_sar, win_sar, scar = [], [], []
    for j, t in enumerate(wide.columns):
        y, x = wide[t].to_numpy(), market.to_numpy()
        e = np.arange(day0[j] + estimation[0], day0[j] + estimation[1] + 1)
        w = np.arange(day0[j] + window[0], day0[j] + window[1] + 1)
        X = np.column_stack([np.ones(len(e)), x[e]])
        theta = np.linalg.lstsq(X, y[e], rcond=None)[0]
        resid = y[e] - X @ theta
        s2 = resid @ resid / (len(e) - 2)
        xtx_inv = np.linalg.inv(X.T @ X)
        Xw = np.column_stack([np.ones(len(w)), x[w]])
        ar = y[w] - Xw @ theta
        ar_se = np.sqrt(s2 * (1 + np.einsum("ti,ij,tj->t", Xw, xtx_inv, Xw)))
        g = Xw.sum(axis=0)
        est_sar.append(resid / np.sqrt(s2))
        win_sar.append(ar / ar_se)
        scar.append(ar.sum() / np.sqrt(s2 * (len(w) + g @ xtx_inv @ g)))
    win = pd.DataFrame(win_sar, columns=[f"w{k}" for k in range(len(win_sar[0]))])
    return pd.DataFrame(est_sar), win, pd.Series(scar)


@pytest.mark.parametrize("engine", ["batch", "loop"])
def test_study_rows_equal_the_independent_computation(market_panel, engine):
    wide, market, events, day0 = market_panel
    study = run_study(wide, market, events, windows=[(-1, 2), (0, 0)], engine=engine)
    table = study.tests((-1, 2))
    assert table.index.tolist() == list(TEST_NAMES) and {"grank", "corrado_zivney"} <= set(table.index)
    est, win, scar = independent_inputs(wide, market, day0)
    t, p = pandas_grank(est, scar)
    assert table.at["grank", "statistic"] == pytest.approx(t, rel=1e-9)
    assert table.at["grank", "p_value"] == pytest.approx(p, rel=1e-9)
    assert table.at["grank", "df"] == 239  # T = 240 estimation days + the collapsed window = 241, df = T - 2
    assert table.at["corrado_zivney", "statistic"] == pytest.approx(pandas_cz(est, win), rel=1e-9)
