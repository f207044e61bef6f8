"""Validation on real sales data (../shared/data/sales, see its PROVENANCE.md).

* R CausalImpact's vignette series against R's published result;
* California's Proposition 99 (1989) on per-capita cigarette sales, other states as donors;
* Australian wine sales with and without an injected -10 % effect.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from incident_impact.sales import read_sales_csv, sales_impact
from incident_impact.sales.gate import UNRELIABLE
from incident_impact.verdict import GAIN, HARM

SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data"),
]

#: R CausalImpact 1.4.1 on the vignette data (two published runs; notes in ../shared/docs/sales-notes.md):
#: cumulative effect 316 [291.7-294.4, 336-340], average 10.5 (= 316/30, printed "11") [9.7-9.8, 11],
#: relative 9.9 % [9.1-9.2 %, 11 %], p = 0.00101-0.00111.
R_CUMULATIVE = 316.0
R_CUMULATIVE_CI = ((291.7, 294.4), (336.0, 340.0))
R_AVERAGE_CI = ((9.7, 9.8), (11.0, 11.0))

#: Abadie, Diamond & Hainmueller (2010) drop these states: they had their own tobacco programmes.
ADH_EXCLUDED = ("MA", "AZ", "FL", "MD", "MI", "NJ", "NY", "WA", "DC")


def sales_file(name: str) -> Path:
    return Path(SHARED) / "sales" / name


def within(value: float, bounds: tuple[float, float], tolerance: float) -> bool:
    """``value`` within ``tolerance`` (relative) of the nearer of the published values."""
    return min(abs(value - b) / abs(b) for b in bounds) <= tolerance


@pytest.fixture(scope="module")
def vignette():
    return sales_impact(read_sales_csv(sales_file("causalimpact_vignette.csv")), 70)


def test_vignette_matches_r_causalimpact(vignette):
    avg, cum = vignette.table.loc["average"], vignette.table.loc["cumulative"]
    assert vignette.n_pre == 70 and cum.actual == pytest.approx(3511.4555, abs=1e-3)
    assert cum.effect == pytest.approx(R_CUMULATIVE, rel=0.03)
    assert avg.effect == pytest.approx(R_CUMULATIVE / 30, rel=0.03)
    assert within(cum.effect_lower, R_CUMULATIVE_CI[0], 0.10) and within(cum.effect_upper, R_CUMULATIVE_CI[1], 0.10)
    assert within(avg.effect_lower, R_AVERAGE_CI[0], 0.10) and within(avg.effect_upper, R_AVERAGE_CI[1], 0.10)
    assert avg.relative == pytest.approx(0.099, abs=0.003)
    assert vignette.p_value < 0.01
    assert vignette.verdict.verdict == GAIN
    # the R-faithful ports agree more tightly: 315.3 [293.9, 337.7], 10.51 [9.80, 11.26]
    assert cum.effect_lower == pytest.approx(293.9, rel=0.03) and cum.effect_upper == pytest.approx(337.7, rel=0.03)


def test_vignette_placebos_find_nothing_before_the_intervention(vignette):
    assert vignette.in_time.n == 10 and vignette.in_time.false_positive_rate <= 0.1
    assert vignette.in_time.n_as_large == 0


@pytest.fixture(scope="module")
def cigarettes():
    table = read_sales_csv(sales_file("cigar_sales_wide.csv")).loc["1970":]
    donors = [s for s in table.columns if s not in (*ADH_EXCLUDED, "CA")]
    return table, donors


def test_proposition_99_cut_cigarette_sales(cigarettes):
    table, donors = cigarettes
    assert len(donors) == 36
    res = sales_impact(table, "1989-01-01", column="CA", controls=donors, design="synthetic")
    avg = res.table.loc["average"]
    assert res.n_pre == 19 and len(res.data) - res.n_pre == 4
    assert avg.effect_upper < 0 and -16 < avg.effect < -5          # packs per capita per year
    assert res.verdict.model_verdict == HARM
    # placebo diagnostics: no fake date comes close to California's gap, but the model "finds" effects at 2 of the
    # 6 fake dates with enough history (33 % > 20 %), so the verdict is withheld
    assert res.in_time.n == 6 and res.in_space.n == 36
    assert res.in_time.n_as_large == 0
    assert res.in_time.false_positive_rate == pytest.approx(2 / 6)
    assert res.verdict.verdict == UNRELIABLE and "2 of 6 fake incident dates" in res.verdict.reason
    assert res.in_space.share_as_large <= 0.15                      # California ranks among the largest gaps
    text = res.summary()
    assert "in-time placebos (6, 4 periods each)" in text and "in-space placebos (36, 4 periods each)" in text


def test_proposition_99_single_series_design_is_flagged_by_its_placebos(cigarettes):
    table, _ = cigarettes
    res = sales_impact(table, "1989-01-01", column="CA", design="its")
    assert res.table.loc["average", "effect"] < 0
    assert res.in_time.false_positive_rate >= 0.5   # the declining trend fools it at fake dates too


@pytest.fixture(scope="module")
def wine():
    return read_sales_csv(sales_file("wineind.csv")).astype(float)


@pytest.mark.parametrize("factor", [1.0, 0.9])
def test_wine_injected_effect_found_and_none_without(wine, factor):
    table = wine.copy()
    table.iloc[-24:, 0] *= factor
    res = sales_impact(table, str(table.index[-24].date()), log=True, level_sd=None)
    rel = res.table.loc["average"]
    assert rel.relative_lower <= factor - 1 <= rel.relative_upper
    if factor == 1.0:
        assert rel.relative_lower < 0 < rel.relative_upper and res.verdict.verdict not in (HARM, GAIN)
    else:
        assert rel.relative_upper < 0 and res.verdict.verdict == HARM
    assert res.choice.chosen == "log sales: local level + seasonal 12 (changing)"  # same pre-period in both; 12 years
    assert res.in_time.false_positive_rate <= 0.2 and res.verdict.verdict != UNRELIABLE


def test_wine_rigid_level_is_exposed_by_placebos(wine):
    """R's default model (local level, s.d. 0.01, seasonal 12) is too rigid for wine over 24 months: placebos flag it,
    and the verdict is withheld."""
    res = sales_impact(wine, str(wine.index[-24].date()), log=True, level_sd=0.01, trend=False, seasonal=12)
    assert res.in_time.false_positive_rate >= 0.3
    assert res.verdict.verdict == UNRELIABLE and res.plain_sentence().startswith("We cannot tell")
