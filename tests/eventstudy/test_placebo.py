"""Placebo engine: pseudo-event CARs equal the single-event path's; the --placebo draw and its share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import event_study, run_study
from incident_impact.eventstudy.placebo import placebo_cars, placebo_test

N_DAYS = 800


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2015-01-01", periods=N_DAYS)
    market = pd.Series(rng.normal(0.0003, 0.01, N_DAYS), index=dates)
    stock = 0.0001 + 1.2 * market + pd.Series(rng.normal(0, 0.015, N_DAYS), index=dates)
    stock.iloc[rng.choice(N_DAYS, 25, replace=False)] = np.nan    # missing days
    market.iloc[[100, 400]] = np.nan
    return stock, market


@pytest.mark.parametrize("model", ["market", "mean", "market-adjusted"])
def test_placebo_cars_are_the_single_event_numbers(data, model):
    stock, market = data
    windows = [(0, 1), (-2, 2)]
    cars = placebo_cars(stock, market, model=model, windows=windows)
    joined = stock.dropna().index.intersection(market.dropna().index) if model != "mean" else stock.dropna().index
    # every session with 120+ estimation returns ([-250,-11]: rank >= 130) and a window's data is a pseudo day 0
    assert cars["day0"].nunique() == len(joined) - 1 - 130
    for day in cars["day0"].unique()[[0, 7, 200, -1]]:
        ref = event_study(stock, market, day, model=model, windows=windows).car_table
        got = cars[cars["day0"] == day].set_index("window").loc[ref.index]
        np.testing.assert_allclose(got[["car", "se", "t_stat"]].to_numpy(), ref[["car", "se", "t_stat"]].to_numpy(),
                                   rtol=1e-10, atol=1e-13)


def test_placebo_cars_at_given_dates_and_bad_input(data):
    stock, market = data
    dates = stock.dropna().index[[300, 301, 650]]
    cars = placebo_cars(stock, market, dates=dates, windows=[(0, 0)])
    assert list(cars["day0"]) == list(dates)
    with pytest.raises(IncidentImpactError, match="needs benchmark returns"):
        placebo_cars(stock, None, dates=dates)
    assert placebo_cars(stock, market, dates=[]).empty


def test_placebo_test_draws_non_overlapping_dates_and_counts_the_share(data):
    stock, market = data
    shocked = stock.copy()
    day = stock.dropna().index[600]
    shocked[day] += 0.25                                   # a CAR no placebo reaches
    events = pd.DataFrame({"event_id": ["big", "plain"], "ticker": ["S", "P"],
                           "event_date": [day, stock.dropna().index[500]]})
    wide = pd.DataFrame({"S": shocked, "P": stock})
    study = run_study(wide, market, events, windows=[(0, 1), (-1, 1)])
    table = placebo_test(study, 200, seed=1)
    again = placebo_test(study, 200, seed=1)
    pd.testing.assert_frame_equal(table, again)
    assert (table["n_placebo"] == 200).all() and table["share_beyond"].between(0, 1).all()
    big = table[table["event_id"] == "big"]
    assert (big["share_beyond"] == 0).all()
    plain = table[table["event_id"] == "plain"].set_index("window")
    assert plain.loc["[0,+1]", "car"] == pytest.approx(study["plain"].car((0, 1))[0])
    # the share is the fraction of drawn placebo CARs with |CAR_p| >= |CAR|, recomputed by hand
    many = placebo_test(study, 10_000, returns=wide, seed=2)   # more than the pool: every eligible date once
    pool = many.set_index(["event_id", "window"]).loc[("plain", "[0,+1]")]
    allcars = placebo_cars(stock, market, windows=[(0, 1), (-1, 1)])
    allcars = allcars[allcars["window"] == "[0,+1]"]
    k = {d: i for i, d in enumerate(stock.dropna().index.intersection(market.dropna().index))}
    real = k[study["plain"].day0]
    eligible = allcars[[abs(k[d] - real) > 2 and k[d] >= 250 for d in allcars["day0"]]]
    assert pool["n_placebo"] == len(eligible)
    assert pool["share_beyond"] == pytest.approx((eligible["car"].abs() >= abs(pool["car"])).mean())
    with pytest.raises(IncidentImpactError, match="at least 1"):
        placebo_test(study, 0)


def test_study_command_placebo_option(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from incident_impact.cli import cli

    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path))
    args = ["study", "pepsi-kendall-jenner-ad-2017", "--placebo", "10", "--seed", "3", "--offline", "--no-report",
            "--no-peers", "--no-robustness", "--window", "0,1"]
    runs = [CliRunner().invoke(cli, [*args, "--format", "json"]) for _ in range(2)]
    assert runs[0].exit_code == 0, runs[0].output
    rows = json.loads(runs[0].stdout)["placebo"]
    assert rows == json.loads(runs[1].stdout)["placebo"]         # same seed, same draw
    assert [r["window"] for r in rows] == ["[0,+1]"] and 1 <= rows[0]["n_placebo"] <= 10
    assert 0 <= rows[0]["share_beyond"] <= 1
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0 and "Placebo: 10 random pseudo-event dates" in table.stdout
    bad = CliRunner().invoke(cli, [*args[:2], "--placebo", "0"])
    assert bad.exit_code == 2
