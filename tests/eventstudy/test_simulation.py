"""Size and power of the test battery against known truth (CI-sized; the full grid is validation/simulate.py).

N = 50 events, 239 estimation days, day-0 tests at 5 %, 1,000 replications per scenario with
fixed seeds (Monte-Carlo s.e. about 0.7 percentage points at 5 %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from incident_impact.eventstudy import run_study
from incident_impact.eventstudy import simulation as sim

REPS = 1000
SIZE_BAND = (0.035, 0.065)
PARAMETRIC = ("cs_t", "time_series_t", "patell", "bmp", "kp_bmp")


@pytest.fixture(scope="module")
def rates():
    return {s: sim.rejection_rates(s, REPS, seed) for s, seed in (("A", 101), ("B", 202), ("C", 303), ("D", 404))}


def in_band(x):
    return SIZE_BAND[0] <= x <= SIZE_BAND[1]


def test_size_under_the_null(rates):
    a = rates["A"]
    assert all(in_band(a[t]) for t in sim.MULTI_TESTS), a.to_dict()


def test_event_induced_variance_bmp_keeps_size_patell_and_j1_over_reject(rates):
    b = rates["B"]
    assert in_band(b["bmp"]) and in_band(b["cs_t"]), b.to_dict()
    # theory: 2 (1 - Phi(1.96 / sqrt 2)) = 0.166
    assert b["patell"] > 0.13 and b["time_series_t"] > 0.13, b.to_dict()
    # the standardized rank tests keep their size where Corrado's plain ranks over-reject (about 0.10)
    assert in_band(b["corrado_zivney"]) and in_band(b["grank"]), b.to_dict()


def test_clustering_kp_keeps_size_unadjusted_tests_over_reject(rates):
    c = rates["C"]
    assert in_band(c["kp_bmp"]) and in_band(c["grank"]) and in_band(c["corrado_zivney"]), c.to_dict()
    # theory for N = 50, rho = 0.05: about 0.30
    for name in ("cs_t", "time_series_t", "patell", "bmp"):
        assert c[name] > 0.2, (name, c.to_dict())


def test_power_with_one_percent_on_day_zero(rates):
    d = rates["D"]
    for name in (*PARAMETRIC, "corrado", "corrado_zivney", "grank"):
        assert d[name] >= 0.85, (name, d.to_dict())


def test_date_bootstrap_keeps_the_size_of_cs_t_under_clustering():
    """150 replications x 99 resamples (MC s.e. 1.8 points): the analytic cs_t rejects about 29 % under
    clustering (scenario C), its date-bootstrap p-value about 5 %."""
    rates = sim.bootstrap_rejection_rates("C", 150, seed=808, n_boot=99, tests=("cs_t",))
    assert rates["cs_t"] <= 0.10, rates.to_dict()


def test_full_car_variance_has_the_t_variance_and_the_naive_one_does_not():
    """[-5,+5] with 30 estimation days: Var(CAR/SE) = df/(df-2) = 28/26 for a t(28) statistic, i.e.
    Var(CAR/SE) / (df/(df-2)) within 5 % of 1; the naive daily sum gives about 1.4."""
    v = sim.standardized_car_variance(20000, seed=505)
    assert v["full"] / v["t_variance"] == pytest.approx(1.0, abs=0.05)
    assert v["naive"] > 1.3


def test_single_event_sq_and_t_test_have_size():
    s = sim.single_event_size(1000, seed=606)
    assert in_band(s["sq"]) and in_band(s["t_test"]), s.to_dict()
    # one event, one day: |Z| <= 0.5 / sqrt(1/12) = 1.73 < 1.96, the rank test can never reject
    assert s["corrado"] == 0


def test_simulation_inputs_equal_run_study_on_the_same_data():
    """The vectorised harness and the reference path agree on a clustered replication."""
    rng = np.random.default_rng(7)
    stock, market, rel = sim.simulate_panel(rng, sim.SCENARIOS["C"], n_events=8, n_est=239, window=(-1, 1))
    dates = pd.bdate_range("2010-01-04", periods=len(rel))
    day0 = dates[int(np.where(rel == 0)[0][0])]
    wide = pd.DataFrame(stock.T, index=dates, columns=[f"F{i}" for i in range(8)])
    events = pd.DataFrame({"event_id": wide.columns, "ticker": wide.columns, "event_date": day0})
    study = run_study(wide, pd.Series(market[0], dates), events, estimation=(-249, -11), windows=[(-1, 1)])
    expected = sim.battery(sim.market_model_inputs(stock, market, rel, 239, (-1, 1)), clustered=True)
    table = study.tests((-1, 1))
    for name, res in expected.items():
        assert table.at[name, "statistic"] == pytest.approx(res.statistic, rel=1e-8), name


@pytest.mark.parametrize("rates_of", ["rejection_rates", "volatility_rejection_rates", "bootstrap_rejection_rates"])
def test_unknown_scenario_is_a_clear_error(rates_of):
    """Every simulation entry point names the known scenarios (the volatility and bootstrap ones raised KeyError)."""
    from incident_impact.errors import IncidentImpactError

    with pytest.raises(IncidentImpactError, match="unknown scenario 'Z'; choose one of A, B, C, D, E"):
        getattr(sim, rates_of)("Z", 1, 0)
