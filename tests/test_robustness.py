"""Robustness table across specifications, and the peers' event studies (spillover)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import SyntheticSource, synthetic_prices
from incident_impact.analysis import analyze
from incident_impact.eventstudy import event_study
from incident_impact.robustness import Robustness
from incident_impact.verdict import HARM, INCONCLUSIVE, NO_EFFECT, judge


def test_specifications_are_independent_event_studies(make_incident_analysis):
    a = make_incident_analysis()
    frame = a.robustness.to_frame()
    specs = list(dict.fromkeys(frame.index.get_level_values(0)))
    assert specs == ["market model (^GSPC)", "market-adjusted (^GSPC)", "market model (equal-weighted peers DAL)"]
    r = a.stock.returns()
    m = a.benchmark.returns()
    # market-adjusted CAR[0,0] by hand: AR = R - R_m on day 0
    day0 = a.result.day0
    assert frame.loc[("market-adjusted (^GSPC)", "[0,0]"), "car"] == pytest.approx(r[day0] - m[day0], abs=1e-12)
    # peer benchmark: the market model against DAL's returns (the only peer with data)
    peer = analyze(a.incident, source=SyntheticSource(synthetic_prices(), {}), peers=False, robustness=False,
                   benchmark=None)
    direct = event_study(r, SyntheticSource(synthetic_prices(), {}).load("DAL").returns(), day0)
    row = frame.loc[("market model (equal-weighted peers DAL)", "[-1,+1]")]
    assert row["car"] == pytest.approx(direct.car_table.loc["[-1,+1]", "car"], abs=1e-12)
    v = judge(row["car"], row["se"], direct.car_table.loc["[-1,+1]", "df"])
    assert row["verdict"] == v.verdict and row["tost_p_value"] == pytest.approx(v.tost_p_value)
    assert peer.robustness is None and peer.peers == {}
    assert "market model (peers)" not in a.robustness.failures  # DAL has prices


def test_peers_are_studied_and_missing_ones_listed(make_incident_analysis):
    a = make_incident_analysis()
    assert list(a.peers) == ["DAL"]
    assert "AAL" in a.peer_failures and "no prices for AAL" in a.peer_failures["AAL"]
    table = a.peer_table()
    # DAL got +1 % on day 0 by construction (noise s.d. 1 %)
    car0 = table[(table.ticker == "DAL") & (table.window == "[0,0]")]["car"].item()
    assert car0 == pytest.approx(0.01, abs=0.025)
    assert table.loc[table.window == "[0,0]", "car"].item() == pytest.approx(
        a.peers["DAL"].car_table.loc["[0,0]", "car"], abs=0)
    text = a.summary()
    assert "Peers" in text and "AAL      not studied" in text and "Robustness" in text


def _result(car_by_window: dict[str, float], se: float = 0.01):
    """A stand-in for EventStudyResult with a fixed car_table."""
    rows = {w: {"car": c, "se": se, "df": 200.0, "t_stat": c / se} for w, c in car_by_window.items()}

    class Fixed:
        car_table = pd.DataFrame.from_dict(rows, orient="index")

    return Fixed()


def test_statement_robust_window_driven_and_model_driven():
    same = Robustness({"a": _result({"[0,0]": 0.0, "[0,+1]": 0.001}, 0.004), "b": _result({"[0,0]": 0.001, "[0,+1]": 0.0}, 0.004)})
    assert not same.depends_on_choice()
    assert same.statement().startswith(f"Robust: the verdict is {NO_EFFECT} under all 2 specifications and 2 windows")
    windows = Robustness({"a": _result({"[0,0]": -0.05, "[0,+1]": 0.01}, 0.01), "b": _result({"[0,0]": -0.06, "[0,+1]": 0.01}, 0.01)})
    assert windows.depends_on_choice()
    assert windows.statement() == (f"The verdict depends on the event window (each window agrees across all 2 "
                                   f"specifications): [0,0]: {HARM}; [0,+1]: {INCONCLUSIVE}.")
    models = Robustness({"a": _result({"[0,0]": -0.05}), "b": _result({"[0,0]": -0.01})})
    assert models.statement() == f"The verdict depends on the choice of model: [0,0]: {HARM} under a, {INCONCLUSIVE} under b."
    table = models.verdicts()
    assert table.shape == (2, 1) and list(table.index) == ["a", "b"]
    assert models.to_dict()["depends_on_choice"] is True


def test_factor_specifications_join_when_factors_are_given(make_incident_analysis):
    a = make_incident_analysis()
    idx = a.stock.returns().index
    rng = np.random.default_rng(2)
    factors = pd.DataFrame(rng.normal(0, 0.005, (len(idx), 4)), index=idx, columns=["mkt_rf", "smb", "hml", "mom"])
    factors["rf"] = 0.0
    full = analyze(a.incident, source=SyntheticSource(synthetic_prices(), {}), factors=factors)
    specs = list(full.robustness.results)
    assert "Fama-French 3-factor" in specs and "Carhart 4-factor" in specs
