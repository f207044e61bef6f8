"""A researcher's event study: my events, my price folder, two models, the test table, a second stage.

Usage:  python examples/study_two_models.py PRICE_FOLDER [EVENTS_CSV]

PRICE_FOLDER holds one TICKER.csv per stock (columns date, adj_close, ...) and GSPC.csv for the
S&P 500; EVENTS_CSV (default: events.csv next to this script) has event_id, ticker, event_date
(the day-0 trading session) and an event characteristic, here ``severity``.
"""

import sys
from pathlib import Path

import pandas as pd
import statsmodels.formula.api as smf

from incident_impact.eventstudy import run_study

folder = Path(sys.argv[1])
events = pd.read_csv(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).with_name("events.csv"))


def returns(ticker: str) -> pd.Series:
    prices = pd.read_csv(folder / f"{ticker.lstrip('^')}.csv", parse_dates=["date"], index_col="date")
    return prices["adj_close"].pct_change().dropna().rename(ticker)


stocks = pd.concat([returns(t) for t in events["ticker"].unique()], axis=1, sort=True)
market = returns("GSPC")

for model in ("market", "market-adjusted"):
    result = run_study(stocks, market, events, model=model, windows=[(0, 1), (-1, 1)])
    print(f"\n=== {model} model: {result.n_events} events, window [0,+1] ===")
    print(result.tests((0, 1))[["statistic", "p_value", "n_events"]].round(4).to_string())
    for row in result.failures.itertuples():
        print(f"not analysed: {row.event_id}: {row.reason}")

# Second stage: do more severe incidents have more negative CARs? (market model, [-1,+1])
result = run_study(stocks, market, events, model="market", windows=[(-1, 1)])
cars = result.car_frame((-1, 1))
fit = smf.ols("car ~ severity", data=cars).fit(cov_type="HC1")
print("\n=== CAR[-1,+1] on severity (OLS, HC1 errors) ===")
print(fit.summary().tables[1])
print(f"slope = {fit.params['severity']:.5f}, p = {fit.pvalues['severity']:.3f}")
