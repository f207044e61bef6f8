"""Every catalog incident over the real prices in ../shared/data (set INCIDENT_IMPACT_SHARED_DATA).

Each listed incident either analyzes or fails for a stated, specific reason; United 2017 is
recomputed independently (pandas + statsmodels straight from the CSV files) to 1e-8.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from incident_impact.analysis import analyze
from incident_impact.catalog import load_catalog
from incident_impact.errors import IncidentImpactError, InsufficientDataError, TickerNotFoundError
from incident_impact.prices import PriceResolver

SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data"),
]
PRICES = Path(SHARED or ".") / "prices"

CATALOG = list(load_catalog())


def has_file(ticker: str) -> bool:
    return (PRICES / f"{ticker.lstrip('^')}.csv").exists()


def _dates(ticker: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.read_csv(PRICES / f"{ticker.lstrip('^')}.csv", usecols=["date"], parse_dates=["date"])["date"])


def coverage(incident) -> str:
    """What the shared files allow for ``incident``, read from the files themselves: ``"ok"``,
    ``"ends"`` (the file stops before the event), ``"short"`` (fewer than 120 + 10 sessions before it)."""
    ticker = next(t for t in (incident.ticker, *incident.former_tickers) if has_file(t))
    dates = _dates(ticker)
    event = pd.Timestamp(incident.incident_date)
    if dates.max() < event:
        return "ends"
    if (dates < event).sum() < 130:
        return "short"
    return "ok"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    os.environ.setdefault("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    return PriceResolver(PRICES, download=False)


@pytest.mark.parametrize("incident", CATALOG, ids=[i.id for i in CATALOG])
def test_every_incident_analyzes_or_says_why(incident, source):
    if not incident.is_listed:
        with pytest.raises(IncidentImpactError, match="is not listed"):
            analyze(incident, source=source)
        return
    tickers = (incident.ticker, *incident.former_tickers)
    if not any(has_file(t) for t in tickers):
        with pytest.raises(TickerNotFoundError, match=f"no prices for {incident.ticker}"):
            analyze(incident, source=source)
        return
    status = coverage(incident)
    if status == "ends":
        with pytest.raises(IncidentImpactError, match="the event lies outside the data"):
            analyze(incident, source=source)
        return
    if status == "short":
        with pytest.raises(InsufficientDataError, match=r"estimation window \[-250,-11\] has \d+ returns"):
            analyze(incident, source=source)
        return
    result = analyze(incident, source=source).result
    assert result.estimation_info["n_obs"] >= 120
    table = result.car_table
    assert list(table.index) == ["[0,0]", "[0,+1]", "[-1,+1]", "[0,+5]", "[-5,+5]"]
    assert np.isfinite(table[["car", "se", "t_stat", "p_value"]].to_numpy()).all()
    assert (table["se"] > 0).all()


def test_at_least_twenty_incidents_have_data():
    runnable = [i for i in CATALOG if i.is_listed and any(has_file(t) for t in (i.ticker, *i.former_tickers))
                and coverage(i) == "ok"]
    assert len(runnable) >= 40


def _adj_returns(ticker: str) -> pd.Series:
    frame = pd.read_csv(PRICES / f"{ticker}.csv", parse_dates=["date"], index_col="date")
    return frame["adj_close"].pct_change().dropna()


def test_united_2017_matches_an_independent_computation(source):
    """Day 0 = 2017-04-10 (videos went viral on Monday); estimation = the 240 joined sessions
    from day -250 to day -11; CLM variance for CAR[-1,+1] written out with statsmodels' covariance."""
    result = analyze("united-airlines-flight-3411-2017", source=source).result
    both = pd.concat({"r": _adj_returns("UAL"), "m": _adj_returns("GSPC")}, axis=1, join="inner").dropna()
    pos = both.index.get_loc(pd.Timestamp("2017-04-10"))
    est = both.iloc[pos - 250 : pos - 10]
    ols = sm.OLS(est["r"], sm.add_constant(est["m"])).fit()
    ev = both.iloc[pos - 1 : pos + 2]
    ar = ev["r"] - ols.params.iloc[0] - ols.params.iloc[1] * ev["m"]
    X = sm.add_constant(ev["m"]).to_numpy()
    var = 3 * ols.scale + np.ones(3) @ X @ ols.cov_params().to_numpy() @ X.T @ np.ones(3)
    t = ar.sum() / np.sqrt(var)
    row = result.car_table.loc["[-1,+1]"]
    assert len(est) == result.estimation_info["n_obs"] == 240
    assert result.params["alpha"] == pytest.approx(ols.params.iloc[0], abs=1e-10)
    assert result.params["beta"] == pytest.approx(ols.params.iloc[1], abs=1e-8)
    assert result.params["sigma"] == pytest.approx(np.sqrt(ols.scale), abs=1e-10)
    assert row.car == pytest.approx(ar.sum(), abs=1e-10)
    assert row.t_stat == pytest.approx(t, abs=1e-8)
    assert row.p_value == pytest.approx(2 * stats.t.sf(abs(t), 238), abs=1e-8)
    # the press-reported close-to-close move on 11 April 2017
    assert both.loc["2017-04-11", "r"] == pytest.approx(-0.0113, abs=5e-4)


def test_sample_and_shared_data_agree_for_pepsi(source, monkeypatch):
    """The bundled sample (skfolio, 3 decimals) gives the same CARs as the full data to 1e-3."""
    monkeypatch.delenv("INCIDENT_IMPACT_DATA_DIR", raising=False)
    full = analyze("pepsi-kendall-jenner-ad-2017", source=source).result.car_table
    sample = analyze("pepsi-kendall-jenner-ad-2017", source=PriceResolver(None, download=False)).result.car_table
    assert analyze("pepsi-kendall-jenner-ad-2017", source=PriceResolver(None, download=False)).stock.source.startswith("bundled sample")
    np.testing.assert_allclose(sample["car"], full["car"], atol=1e-3)
    np.testing.assert_allclose(sample["t_stat"], full["t_stat"], atol=0.05)


def test_united_2017_peers_robustness_and_nike_money(source):
    """Peers and the peer-portfolio benchmark recomputed with numpy from the CSVs; Nike's market value
    from the catalog's 10-K share count and the as-traded close of the session before day 0."""
    a = analyze("united-airlines-flight-3411-2017", source=source)
    ual, gspc = _adj_returns("UAL"), _adj_returns("GSPC")
    peers = {t: _adj_returns(t) for t in ("DAL", "AAL", "LUV")}
    day0 = pd.Timestamp("2017-04-10")

    def car(y: pd.Series, x: pd.Series, window=(-1, 1)) -> float:
        joined = pd.concat([y, x], axis=1, join="inner").dropna()
        pos = joined.index.get_loc(day0)
        est = joined.iloc[pos - 250:pos - 10]
        beta, alpha = np.polyfit(est.iloc[:, 1], est.iloc[:, 0], 1)
        ev = joined.iloc[pos + window[0]:pos + window[1] + 1]
        return float((ev.iloc[:, 0] - alpha - beta * ev.iloc[:, 1]).sum())

    assert list(a.peers) == ["DAL", "AAL", "LUV"]
    for t, r in peers.items():
        assert a.peers[t].car_table.at["[-1,+1]", "car"] == pytest.approx(car(r, gspc), abs=1e-10), t
    portfolio = pd.concat(peers, axis=1, sort=True).dropna().mean(axis=1)
    rows = a.robustness.to_frame()
    assert rows.at[("market model (equal-weighted peers DAL, AAL, LUV)", "[0,+5]"), "car"] == pytest.approx(
        car(ual, portfolio, (0, 5)), abs=1e-10)
    assert rows.at[("market-adjusted (^GSPC)", "[-1,+1]"), "car"] == pytest.approx(
        float((ual - gspc).dropna().loc["2017-04-07":"2017-04-11"].sum()), abs=1e-12)
    assert a.robustness.depends_on_choice("[0,+5]") and not a.robustness.depends_on_choice("[-1,+1]")
    nike = analyze("nike-kaepernick-just-do-it-2018", source=source, peers=False, robustness=False)
    close = pd.read_csv(PRICES / "NKE.csv", parse_dates=["date"], index_col="date")["close"]
    assert nike.market_value.date == pd.Timestamp("2018-08-31")
    assert nike.market_value.value == pytest.approx(close["2018-08-31"] * 1_600_554_538, rel=1e-12)
    v = nike.verdicts().loc["[-1,+1]"]
    assert v["value_change"] == pytest.approx(v["car"] * nike.market_value.value, rel=1e-12)
