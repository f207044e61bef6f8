"""Sales persistence: the effect by post-period segment and "recovered by" (incident_impact.sales.persistence)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from incident_impact.cli import cli
from incident_impact.errors import SalesDataError
from incident_impact.report.sales import render_sales_report
from incident_impact.sales import Counterfactual, Effect, sales_impact
from incident_impact.sales.persistence import (
    default_boundaries,
    recovery,
    resolve_boundaries,
    stretches,
)
from incident_impact.verdict import HARM, NO_EFFECT, UNRELIABLE

N, N_PRE = 60, 40
INDEX = pd.date_range("2018-01-01", periods=N, freq="MS")
FAST = {"placebos": 5, "repetitions": 200, "trend": False, "seasonal": None, "log": False, "level_sd": 0.01}


def monthly(drop: float, months: int | None, seed: int = 3) -> pd.Series:
    """100 with 1 % noise; after the incident ``drop`` (-0.15) for ``months`` months (None: for good)."""
    rng = np.random.default_rng(seed)
    y = 100 * np.exp(rng.normal(0, 0.01, N))
    y[N_PRE:N if months is None else N_PRE + months] *= 1 + drop
    return pd.Series(y, index=INDEX, name="sales")


@pytest.fixture(scope="module")
def dip():
    return sales_impact(monthly(-0.15, 3), INDEX[N_PRE], **FAST)


@pytest.fixture(scope="module")
def permanent():
    return sales_impact(monthly(-0.15, None), INDEX[N_PRE], **FAST)


def test_segment_sums_follow_from_the_draws(dip):
    y, cf = dip.effect.observed, dip.counterfactual
    table = dip.segments([3, 10])
    assert list(table.index) == ["months 1–3", "months 4–10", "months 11–20"]
    assert table.n_periods.tolist() == [3, 7, 10] and table["first"].tolist() == ["2021-05-01", "2021-08-01", "2022-03-01"]
    for (_, row), part in zip(table.iterrows(), (slice(0, 3), slice(3, 10), slice(10, 20))):
        obs, sims = y[part].sum(), cf.draws[part].sum(axis=0)
        lo, hi = np.quantile(sims, [0.025, 0.975])
        assert row.actual == pytest.approx(obs, rel=1e-12, abs=1e-12)
        assert row.effect == pytest.approx(obs - cf.point[part].sum(), rel=1e-12, abs=1e-12)
        assert (row.effect_lower, row.effect_upper) == pytest.approx((obs - hi, obs - lo), rel=1e-12, abs=1e-12)
        assert row.relative == pytest.approx(obs / cf.point[part].sum() - 1, rel=1e-12)
        rel = obs / sims - 1  # the relative interval by hand: quantiles of Y / C_s - 1
        assert (row.relative_lower, row.relative_upper) == pytest.approx(tuple(np.quantile(rel, [0.025, 0.975])), rel=1e-12)
        above, below = (sims >= obs).sum(), (sims <= obs).sum()
        assert row.p_value == pytest.approx((1 + min(above, below)) / (len(sims) + 1), rel=1e-12)
    # one segment covering everything is the whole post-period
    whole = dip.segments([]).iloc[0]
    assert whole.effect == pytest.approx(dip.table.loc["cumulative", "effect"], rel=1e-12)
    assert whole.p_value == dip.p_value


def test_a_three_month_drop_then_back_is_recovered_by_month_four(dip):
    assert dip.segment_boundaries == (3,)  # monthly: the first quarter against the rest
    table = dip.segments()
    assert table.verdict.tolist() == [HARM, NO_EFFECT]
    assert table.relative.iloc[0] == pytest.approx(-0.15, abs=0.02)
    rec = dip.recovery()
    assert rec.hurt and rec.first_loss == 1 and rec.recovered_by == 4 and rec.recovered_at == "2021-08-01"
    assert rec.loss_ruled_out and rec.status == "recovered by month 4 (2021-08-01)" and rec.withheld is None
    assert "they recovered by month 4 (2021-08-01)" in dip.persistence_sentence()
    assert "Recovery: recovered by month 4" in dip.summary()


def test_a_permanent_drop_is_not_recovered(permanent):
    rec = permanent.recovery()
    assert rec.hurt and rec.recovered_by is None and rec.no_loss_from is None
    assert rec.status.startswith("not recovered within 20 months")
    assert permanent.segments().verdict.tolist() == [HARM, HARM]
    assert "had not recovered within 20 months" in permanent.persistence_sentence()


def test_no_drop_is_never_hurt():
    res = sales_impact(monthly(0.0, None, seed=4), INDEX[N_PRE], **FAST)
    rec = res.recovery()
    assert not rec.hurt and rec.recovered_by is None and rec.status == "never significantly below the counterfactual"


def _effect(observed, sd=1.0, seed=0, reps=4000):
    rng = np.random.default_rng(seed)
    h = len(observed)
    draws = 100 + rng.normal(0, sd, (h, reps))
    return Effect(np.asarray(observed, float), Counterfactual(np.full(h, 100.0), draws, np.zeros(3), "test"))


def test_the_rule_on_constructed_paths():
    index = pd.RangeIndex(1, 13)
    dip = _effect([85, 85, 85] + [100] * 9)
    assert recovery(dip, index, "period", bound=0.05).recovered_by == 4
    # a loss that reappears in the last period: not recovered, whatever came before
    late = _effect([85, 85] + [100] * 9 + [90])
    rec = recovery(late, index, "period", bound=0.05)
    assert rec.recovered_by is None and rec.no_loss_from is None and rec.hurt
    # recovery is never dated before the loss was seen: the cumulative is first significant at 5
    slow = _effect([99] * 5 + [100] * 7, sd=0.3)
    flags = stretches(slow)
    first = int(np.flatnonzero(flags.since_incident)[0]) + 1
    rec = recovery(slow, index, "period", bound=0.05)
    assert rec.first_loss == first and rec.no_loss_from > first
    # detectable-loss-free but too noisy to rule out a material loss: not recovered, with the reason
    noisy = _effect([60, 60] + [100] * 10, sd=8)
    rec = recovery(noisy, index, "period", bound=0.05)
    assert rec.no_loss_from is not None and rec.recovered_by is None and not rec.loss_ruled_out
    assert "not ruled out" in rec.status


def test_unreliable_model_shows_the_numbers_but_withholds_the_verdicts(dip):
    res = sales_impact(monthly(-0.15, 3), INDEX[N_PRE], **(FAST | {"placebos": 0}))
    assert res.verdict.verdict == UNRELIABLE
    table, reliable = res.segments(), dip.segments()
    np.testing.assert_allclose(table.effect, reliable.effect, rtol=1e-12)
    assert table.verdict.tolist() == [UNRELIABLE, UNRELIABLE]
    assert res.recovery().recovered_by == 4 and res.recovery().withheld.startswith("the model is unreliable")
    assert "These numbers carry no verdict: the model is unreliable here" in res.persistence_sentence()
    assert "(no verdict: the model is unreliable here" in res.summary()


def test_confidence_band_designs_withhold_segment_verdicts():
    rng = np.random.default_rng(1)
    index = pd.date_range("2010-01-01", periods=100, freq="MS")
    y = 100 + rng.normal(0, 1, 100)
    y[80:83] *= 0.85
    res = sales_impact(pd.Series(y, index=index), index[80], design="its", placebos=5, repetitions=200, seasonal=None)
    assert res.reliable and res.persistence_withheld.startswith("the its design's bands hold only the uncertainty")
    assert res.segments().verdict.tolist() == [None, None] and res.recovery().withheld == res.persistence_withheld
    assert "withheld" in res.summary() and "These numbers carry no verdict: the its design" in res.persistence_sentence()


def test_boundaries_from_numbers_and_dates():
    index = INDEX
    assert resolve_boundaries([10, 3], index, N_PRE) == (3, 10)
    assert resolve_boundaries("2021-08-15", index, N_PRE) == (3,)  # August 2021 is post period 4
    assert resolve_boundaries(["2021-08-01", 12], index, N_PRE) == (3, 12)
    assert resolve_boundaries([], index, N_PRE) == ()
    for bad in ([0], [20], [3, 3], ["2021-05-01"], [True]):
        with pytest.raises(SalesDataError):
            resolve_boundaries(bad, index, N_PRE)
    with pytest.raises(SalesDataError, match="numbered periods"):
        resolve_boundaries(["2021-08-01"], pd.RangeIndex(0, 60), N_PRE)
    weeks = pd.date_range("2020-01-05", periods=80, freq="W-SUN")
    assert default_boundaries(weeks, 50) == (13,) and default_boundaries(weeks, 70) == ()
    assert default_boundaries(pd.date_range("2000-01-01", periods=40, freq="QS"), 30) == (1,)
    assert default_boundaries(pd.RangeIndex(0, 100), 70) == (8,)  # numbered: the first quarter of 30 periods


def test_outputs_json_report_and_cli(dip, tmp_path, monkeypatch):
    out = json.loads(json.dumps(dip.to_dict(), allow_nan=False))
    assert [s["segment"] for s in out["segments"]] == ["months 1–3", "months 4–20"]
    assert out["segments"][0]["first"] == "2021-05-01" and out["segments"][0]["verdict"] == HARM
    assert out["recovery"]["recovered_by"] == 4 and out["recovery"]["plain"] == dip.persistence_sentence()
    page = render_sales_report(dip)
    assert "<h3>Persistence</h3>" in page and "Recovery: recovered by month 4 (2021-08-01)." in page
    assert "months 4–20" in page

    monkeypatch.chdir(tmp_path)
    frame = monthly(-0.15, 3)
    pd.DataFrame({"date": INDEX.strftime("%Y-%m-%d"), "sales": frame.to_numpy()}).to_csv("m.csv", index=False)
    args = ["sales", "--sales", "m.csv", "--date", "2021-05-01", "--seasonal", "none", "--no-trend", "--no-log",
            "--level-sd", "0.01", "--placebos", "5", "--repetitions", "200", "--no-report"]
    res = CliRunner().invoke(cli, [*args, "--format", "json", "--segments", "3,2022-01-01"])
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert [s["n_periods"] for s in body["segments"]] == [3, 5, 12] and body["recovery"]["recovered_by"] == 4
    res = CliRunner().invoke(cli, [*args, "--segments", "3"])
    assert res.exit_code == 0 and "Persistence by segment" in res.stdout and "Recovery: recovered by month 4" in res.stdout
    res = CliRunner().invoke(cli, [*args, "--segments", "25"])
    assert res.exit_code == 1 and "segment boundary 25 is outside the post-period" in res.output
    res = CliRunner().invoke(cli, [*args, "--segments", "3,,4"])
    assert res.exit_code == 2
