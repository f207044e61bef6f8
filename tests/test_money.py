"""Effect in money: market value on day -1 and the value change with its interval."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from incident_impact.money import MarketValue, SharesOutstanding, format_money, market_value


def _close():
    return pd.Series([10.0, 11.0, np.nan, 12.5], index=pd.to_datetime(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"]))


def test_market_value_uses_the_close_before_day0():
    shares = SharesOutstanding(1e6, "10-K", dt.date(2019, 12, 31))
    mv = market_value(_close(), pd.Timestamp("2020-01-06"), shares)
    assert isinstance(mv, MarketValue)
    assert mv.date == pd.Timestamp("2020-01-03") and mv.value == 11e6
    change = mv.change(-0.02, 0.01, 50)
    half = stats.t.ppf(0.975, 50) * 0.01
    assert change["value_change"] == pytest.approx(-0.02 * 11e6)
    assert change["value_change_lower"] == pytest.approx((-0.02 - half) * 11e6)
    assert change["value_change_upper"] == pytest.approx((-0.02 + half) * 11e6)
    assert "11M" in mv.describe() and "as of 2019-12-31" in mv.describe()


@pytest.mark.parametrize("day0, shares, reason", [
    ("2020-01-07", SharesOutstanding(1e6, "x"), "no as-traded close on 2020-01-06"),
    ("2020-01-07", None, "no as-traded close on 2020-01-06"),  # the missing close is named, not the shares
    ("2020-01-02", SharesOutstanding(1e6, "x"), "no close before day 0"),
    ("2020-01-06", None, "shares outstanding unknown"),
    ("2020-01-06", SharesOutstanding(-5, "x"), "must be a positive number"),
])
def test_unknown_market_value_says_why(day0, shares, reason):
    out = market_value(_close(), pd.Timestamp(day0), shares)
    assert isinstance(out, str) and reason in out


@pytest.mark.parametrize("amount, currency, text", [
    (-255.3e6, "USD", "-$255M"), (1.0234e9, "USD", "+$1.02bn"), (12e6, "EUR", "+EUR 12M"), (950, "USD", "+$950"),
    (float("nan"), "USD", "unknown"),
])
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text


def test_analysis_money_from_user_catalog_and_yahoo(make_incident_analysis):
    import dataclasses

    from conftest import SyntheticSource, synthetic_prices

    from incident_impact.analysis import analyze

    base = make_incident_analysis()
    assert isinstance(base.market_value, str) and "unknown" in base.market_value
    assert "value_change" not in base.verdicts()
    source = SyntheticSource(synthetic_prices(), {})
    given = analyze(base.incident, source=source, shares=2e6, peers=False, robustness=False)
    v = given.verdicts()
    # ACME's as-traded close is 50.0 every day: market value 100M
    assert given.market_value.value == pytest.approx(100e6)
    assert v["value_change"].to_numpy() == pytest.approx(v["car"].to_numpy() * 100e6)
    assert "of market value" in given.verdict()
    catalog = dataclasses.replace(base.incident, shares=SharesOutstanding(3e6, "10-Q", dt.date(2017, 1, 31)))
    assert analyze(catalog, source=source, peers=False, robustness=False).market_value.value == pytest.approx(150e6)

    class Online(SyntheticSource):
        def shares_outstanding(self, ticker, on):
            assert ticker == "ACME" and on < pd.Timestamp("2017-04-10")
            return 4e6, dt.date(2017, 2, 1)

    online = analyze(base.incident, source=Online(synthetic_prices(), {}), peers=False, robustness=False)
    assert online.market_value.shares == SharesOutstanding(4e6, "Yahoo Finance", dt.date(2017, 2, 1))
    assert online.to_dict()["market_value"]["value"] == pytest.approx(200e6)


def test_yahoo_shares_outstanding_offline_with_a_fake_ticker(monkeypatch):
    from incident_impact.errors import DownloadError
    from incident_impact.prices import PriceResolver
    from incident_impact.prices.yahoo import YahooSource

    index = pd.DatetimeIndex(["2017-01-20 09:00", "2017-03-01 09:00", "2017-04-20 09:00"], tz="America/New_York")
    calls = []

    class FakeTicker:
        def __init__(self, symbol):
            self.symbol = symbol

        def get_shares_full(self, start, end):
            calls.append((self.symbol, start, end))
            if self.symbol == "EMPTY":
                return pd.Series(dtype=float)
            if self.symbol == "DOWN":
                raise ConnectionError("Could not resolve host: query2.finance.yahoo.com")
            return pd.Series([3.0e8, 3.1e8, 9.9e8], index=index)

    source = YahooSource(cache=None, ticker=FakeTicker)
    count, as_of = source.shares_outstanding("UAL", "2017-04-07")
    assert (count, as_of) == (3.1e8, dt.date(2017, 3, 1))  # the last count on or before the date
    assert calls[0] == ("UAL", dt.date(2016, 3, 3), dt.date(2017, 4, 8))
    with pytest.raises(DownloadError, match="no shares outstanding before 2017-04-07"):
        source.shares_outstanding("EMPTY", "2017-04-07")
    with pytest.raises(DownloadError, match="no network"):
        source.shares_outstanding("DOWN", "2017-04-07")
    with pytest.raises(DownloadError, match="no shares outstanding before 2016-01-01"):
        source.shares_outstanding("UAL", "2016-01-01")
    resolver = PriceResolver(cache=None, download=source)
    monkeypatch.delenv("INCIDENT_IMPACT_OFFLINE", raising=False)
    assert resolver.shares_outstanding("UAL", "2017-04-07") == (3.1e8, dt.date(2017, 3, 1))
    monkeypatch.setenv("INCIDENT_IMPACT_OFFLINE", "1")
    with pytest.raises(DownloadError, match="downloads are off"):
        resolver.shares_outstanding("UAL", "2017-04-07")
