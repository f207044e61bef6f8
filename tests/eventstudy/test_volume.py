"""Abnormal log volume (Campbell & Wasley 1996) against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import abnormal_volume, log_volume


@pytest.fixture
def volumes():
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2019-01-01", periods=300)
    market = pd.Series(np.exp(rng.normal(20, 0.2, 300)), dates).round()
    stock = pd.Series(np.exp(0.5 + 0.8 * np.log1p(market) + rng.normal(0, 0.3, 300)), dates).round()
    stock.iloc[280] *= 5  # an attention spike on day 0
    return stock, market


def test_mean_adjusted_abnormal_log_volume_by_hand(volumes):
    stock, _ = volumes
    res = abnormal_volume(stock, stock.index[280], windows=[(0, 0), (0, 1)])
    v = np.log1p(stock.to_numpy())
    mu = v[30:270].mean()
    s2 = v[30:270].var(ddof=1)
    row = res.car_table.loc["[0,+1]"]
    assert row.car == pytest.approx(v[280] + v[281] - 2 * mu, rel=1e-10)
    assert row.se**2 == pytest.approx(s2 * (2 + 4 / 240), rel=1e-10)
    assert res.car_table.loc["[0,0]", "car"] == pytest.approx(v[280] - mu)
    assert res.car_table.loc["[0,0]", "p_value"] < 0.01
    assert res.sq_test((0, 0)).p_value < 0.02


def test_market_volume_model(volumes):
    stock, market = volumes
    res = abnormal_volume(stock, stock.index[280], market_volume=market, model="market", windows=[(0, 0)])
    v, m = np.log1p(stock.to_numpy()), np.log1p(market.to_numpy())
    beta, alpha = np.polyfit(m[30:270], v[30:270], 1)
    assert res.params["beta"] == pytest.approx(beta, rel=1e-9)
    assert res.car_table["car"].iloc[0] == pytest.approx(v[280] - alpha - beta * m[280], rel=1e-9)


def test_bad_volume_input(volumes):
    stock, _ = volumes
    with pytest.raises(IncidentImpactError, match="needs market_volume"):
        abnormal_volume(stock, stock.index[280], model="market")
    with pytest.raises(IncidentImpactError, match="mean and market models"):
        abnormal_volume(stock, stock.index[280], model="ff3")
    with pytest.raises(IncidentImpactError, match="cannot be negative"):
        log_volume(-stock)
