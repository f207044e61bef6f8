"""What makes an incident matter: the cross-sectional regression of CARs (incident_impact.aftermath.drivers)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from incident_impact.aftermath.drivers import (
    DEFAULT_COVARIATES,
    CarDrivers,
    DriversInputError,
    explain_cars,
    first_response,
    incident_characteristics,
    listing_region,
)
from incident_impact.catalog import TimelineEvent
from incident_impact.errors import IncidentImpactError

SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")


def _frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = ["ad", "boycott", "post", "video", "meme"]
    category = [kinds[0]] * 1 + [kinds[1]] * 1 + [kinds[2]] * 1 + [kinds[3]] + [kinds[4]] * 2 if n < 10 else \
        [kinds[0]] * (n - 24) + [kinds[1]] * 12 + [kinds[2]] * 9 + [kinds[3]] + [kinds[4]] * 2
    frame = pd.DataFrame({
        "category": rng.permutation(category[:n]),
        "region": rng.choice(["US", "Europe"], n, p=[0.7, 0.3]),
        "volatility": rng.uniform(0.01, 0.03, n),
        "year": rng.integers(2009, 2025, n),
    }, index=[f"inc-{i}" for i in range(n)])
    frame["car"] = -0.5 * frame["volatility"] + 0.01 * (frame["region"] == "Europe") + rng.normal(0, 0.02, n)
    return frame


def test_coefficients_and_hc3_equal_statsmodels():
    frame = _frame()
    r = explain_cars(frame, covariates=["category", "region", "volatility", "year"], permutations=99)
    # the same design by hand: dummies against the most common level, rare levels (< 3: video 1, meme 2)
    # into "other" (3 incidents)
    counts = frame["category"].value_counts()
    assert counts["video"] == 1 and counts["meme"] == 2
    cat = frame["category"].where(frame["category"].map(counts) >= 3, "other")
    ref_cat = cat.value_counts().idxmax()
    assert ref_cat == "ad" and (cat == "other").sum() == 3
    X = pd.DataFrame({"Intercept": 1.0}, index=frame.index)
    for lvl in sorted(set(cat) - {ref_cat}):
        X[f"category[{lvl}]"] = (cat == lvl).astype(float)
    X["region[Europe]"] = (frame["region"] == "Europe").astype(float)
    X["volatility"] = frame["volatility"]
    X["year"] = frame["year"].astype(float)
    direct = sm.OLS(frame["car"], X).fit(cov_type="HC3")
    assert list(r.terms.index) == list(X.columns)
    np.testing.assert_allclose(r.terms["coef"], direct.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.terms["se"], direct.bse, rtol=1e-10)
    np.testing.assert_allclose(r.terms["p_value"], direct.pvalues, rtol=1e-8)
    # the overall statistic is statsmodels' HC3 Wald test of every slope
    R = np.eye(X.shape[1])[1:]
    wald = direct.wald_test(R, use_f=False, scalar=True)
    assert r.wald == pytest.approx(float(wald.statistic), rel=1e-9)
    assert r.wald_p == pytest.approx(float(wald.pvalue), rel=1e-7)
    assert r.r2 == pytest.approx(direct.rsquared, rel=1e-12)
    assert r.reference_levels == {"category": ref_cat, "region": "US"}


def _hc3_t(y, X, j):
    fit = sm.OLS(y, X).fit(cov_type="HC3")
    return fit.params[j] / fit.bse[j]


def test_permutation_p_enumerates_all_720_orders():
    """n = 6, one covariate: Freedman-Lane with an intercept-only reduced model permutes y itself;
    p = #{|t*| >= |t|} / 6! over every order, counted here by brute force."""
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y = np.array([0.3, -0.1, 0.4, 0.9, 0.2, 1.1])
    X = np.column_stack([np.ones(6), x])
    observed = abs(_hc3_t(y, X, 1))
    count = sum(abs(_hc3_t(y[list(p)], X, 1)) >= observed - 1e-12 for p in itertools.permutations(range(6)))
    frame = pd.DataFrame({"car": y, "x": x})
    r = explain_cars(frame, covariates=["x"], min_members=1)
    assert r.exact and r.permutations == 720
    assert r.terms.loc["x", "p_perm"] == pytest.approx(count / 720, abs=1e-15)
    assert r.wald_p_perm == pytest.approx(count / 720, abs=1e-15)
    assert r.terms.loc["x", "t"] ** 2 == pytest.approx(r.wald, rel=1e-10)


def test_freedman_lane_with_a_nuisance_covariate_by_brute_force():
    x1 = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    x2 = np.array([0.5, -1.0, 2.0, 0.0, 1.5, -0.5])
    y = np.array([0.3, -0.1, 0.4, 0.9, 0.2, 1.1])
    X = np.column_stack([np.ones(6), x1, x2])
    Z = X[:, [0, 2]]  # reduced model without x1
    fitted = Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    resid = y - fitted
    observed = abs(_hc3_t(y, X, 1))
    count = sum(abs(_hc3_t(fitted + resid[list(p)], X, 1)) >= observed - 1e-12 for p in itertools.permutations(range(6)))
    r = explain_cars(pd.DataFrame({"car": y, "x1": x1, "x2": x2}), covariates=["x1", "x2"], min_members=1)
    assert r.terms.loc["x1", "p_perm"] == pytest.approx(count / 720, abs=1e-15)


def test_random_permutations_are_reproducible():
    frame = _frame(30, seed=3)
    covs = ["region", "volatility"]
    a = explain_cars(frame, covariates=covs, permutations=499, seed=7)
    b = explain_cars(frame, covariates=covs, permutations=499, seed=7)
    c = explain_cars(frame, covariates=covs, permutations=499, seed=8)
    assert not a.exact and a.permutations == 499
    pd.testing.assert_frame_equal(a.terms, b.terms)
    assert a.wald_p_perm == b.wald_p_perm
    assert not a.terms["p_perm"].iloc[1:].equals(c.terms["p_perm"].iloc[1:])
    # (1 + #{W* >= W}) / (B + 1): never 0, multiples of 1/500
    p = a.terms["p_perm"].iloc[1:]
    assert (p > 0).all() and np.allclose(p * 500, np.round(p * 500))


def test_permutation_p_is_uniform_under_the_null():
    """Under the null, P(p_perm <= 0.1) = 0.1: 150 null samples, 199 permutations each."""
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(150):
        frame = pd.DataFrame({"car": rng.standard_t(4, 20), "x": rng.normal(size=20), "z": rng.normal(size=20)})
        hits += explain_cars(frame, covariates=["x", "z"], permutations=199, seed=None).terms.loc["x", "p_perm"] <= 0.1
    assert 0.04 <= hits / 150 <= 0.18


def test_rare_levels_missing_values_and_notes():
    frame = _frame(30, seed=1)
    frame.loc[frame.index[:2], "category"] = "unique-1"
    frame.loc[frame.index[2], "category"] = "unique-2"
    frame["platform"] = "Twitter/X"
    frame["log_market_value"] = np.nan
    frame.loc[frame.index[:3], "log_market_value"] = 25.0
    frame.loc[frame.index[5], "volatility"] = np.nan
    frame.loc[frame.index[6], "car"] = np.nan
    r = explain_cars(frame, covariates=["category", "platform", "log_market_value", "volatility"], permutations=99)
    text = " ".join(r.notes)
    assert "collapsed into 'other': " in text and "unique-1 (2), unique-2 (1)" in text
    assert "platform left out: a single level" in text
    assert "log_market_value left out: missing for 26 of 29" in text
    assert "1 incident(s) left out for missing volatility" in text and "without car left out" in text
    assert r.n == 28 and r.covariates == ("category", "volatility")
    assert "category[other]" in r.terms.index


def test_a_lone_small_other_joins_the_smallest_level():
    frame = _frame(40, seed=3)
    frame["region"] = ["US"] * 31 + ["Europe"] * 7 + ["Asia"] * 2
    r = explain_cars(frame, covariates=["region", "volatility"], permutations=99)
    assert "region[Europe+other]" in r.terms.index and r.reference_levels["region"] == "US"
    assert "region: levels with fewer than 3 incidents (Asia (2)) are too few even together, so they join Europe (7) " \
        "as 'Europe+other'." in r.notes
    frame["region"] = ["US"] * 31 + ["other"] * 7 + ["Asia"] * 2  # an existing 'other' level takes them in
    r = explain_cars(frame, covariates=["region", "volatility"], permutations=99)
    assert "region[other]" in r.terms.index and "region: levels with fewer than 3 incidents collapsed into 'other': Asia (2)." in r.notes
    frame["region"] = ["US"] * 38 + ["Asia"] * 2
    r = explain_cars(frame, covariates=["region", "volatility"], permutations=99)
    assert r.covariates == ("volatility",) and any("region left out: only US has 3 or more" in n for n in r.notes)


def test_zero_when_sets_the_delay_of_no_response_to_zero():
    frame = _frame(30, seed=2)
    frame["response_kind"] = ["none"] * 6 + ["apology"] * 12 + ["statement"] * 12
    frame["response_delay_days"] = [np.nan] * 6 + list(np.arange(24) % 4)
    r = explain_cars(frame, covariates=["response_kind", "response_delay_days"], permutations=99)
    assert r.n == 30 and "response_kind[none]" in r.terms.index and "response_delay_days" in r.terms.index
    assert any("set to 0 for the 6" in n for n in r.notes)


def test_too_few_incidents_is_nan_with_a_reason():
    frame = _frame(5, seed=4)
    frame["x"] = [0.1, 0.5, 0.2, 0.9, 0.4]
    r = explain_cars(frame, covariates=["volatility", "year", "x"], permutations=9)
    assert r.reason == "too few incidents: 5 for 3 coefficient(s) besides the intercept (need at least 6)"
    assert r.reason.startswith("too few incidents") and math.isnan(r.wald) and r.to_dict()["wald"] is None
    assert "too few incidents" in r.summary() and "too few" in repr(r)
    json.dumps(r.to_dict(), allow_nan=False)
    none = explain_cars(frame.assign(k="same"), covariates=["k"], permutations=9)
    assert none.reason == "no usable covariate"


def test_bad_input_raises_the_project_error():
    frame = _frame(10)
    with pytest.raises(DriversInputError, match="no outcome column 'abnormal'"):
        explain_cars(frame, outcome="abnormal")
    with pytest.raises(IncidentImpactError, match="no covariate column"):
        explain_cars(frame, covariates=["volatility", "nope"])
    with pytest.raises(IncidentImpactError, match="permutations"):
        explain_cars(frame, covariates=["volatility"], permutations=0)


def test_power_and_json():
    frame = _frame(40, seed=6)
    r = explain_cars(frame, covariates=["category", "region", "volatility", "year"], permutations=199)
    from scipy import stats

    df = r.n - len(r.terms)
    mult = stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)
    assert r.mde_standardized == pytest.approx(mult / math.sqrt(r.n - 1), rel=1e-10)
    np.testing.assert_allclose(r.terms["mde"], mult * r.terms["se"], rtol=1e-10)
    assert "80 % power" in r.power_sentence() and "not evidence" in r.power_sentence()
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["scheme"] == "Freedman-Lane" and d["terms"][0]["term"] == "Intercept" and d["terms"][0]["p_perm"] is None
    assert isinstance(r, CarDrivers) and len(repr(r).splitlines()) <= 4 and "<table" in r._repr_html_()
    assert list(r.to_frame().columns) == ["covariate", "coef", "se", "t", "p_value", "p_perm", "mde"]


def test_listing_region():
    assert [listing_region(m) for m in ("XNYS", "XNAS", "XPAR", "XETR", "XAMS", "XSWX", "XLON", "XMAD", "XSTO",
                                          "XHKG", "XBOM", "XNSE", "XASX", None)] == \
        ["US"] * 2 + ["Europe"] * 7 + ["Asia"] * 3 + ["other"] * 2


def test_characteristics_of_a_synthetic_analysis(make_incident_analysis):
    analysis = make_incident_analysis()
    table = incident_characteristics({"acme-air-2017": analysis})
    assert list(table.columns) == [*DEFAULT_COVARIATES, "currency"]
    row = table.loc["acme-air-2017"]
    assert row["category"] == "customer-service video" and row["platform"] == "Twitter/X"
    assert row["response_kind"] == "response" and row["response_delay_days"] == 0  # the CEO's reply the same evening
    assert row["volatility"] == pytest.approx(analysis.result.params["sigma"]) and 0.005 < row["volatility"] < 0.03
    assert row["region"] == "US" and row["year"] == 2017
    if isinstance(analysis.market_value, str):
        assert math.isnan(row["log_market_value"])
    else:
        assert row["log_market_value"] == pytest.approx(math.log(analysis.market_value.value))
    # no response -> "none"; a later apology -> its delay in days; a response before the incident does not count
    inc = analysis.incident
    base = [e for e in inc.timeline if e.kind not in ("response",)]
    quiet = dataclasses.replace(inc, timeline=tuple(base))
    assert first_response(quiet)[0] == "none" and math.isnan(first_response(quiet)[1])
    late = dataclasses.replace(inc, timeline=tuple(sorted(
        [*base, TimelineEvent(dt.date(2017, 4, 1), "statement", "Earlier, unrelated."),
         TimelineEvent(dt.date(2017, 4, 13), "apology", "Sorry.")], key=lambda e: e.date)))
    assert first_response(late) == ("apology", 3.0)


@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
def test_characteristics_on_real_catalog_incidents():
    from incident_impact.analysis import analyze
    from incident_impact.prices import PriceResolver

    source = PriceResolver(Path(SHARED) / "prices", download=False)
    ids = ["united-airlines-flight-3411-2017", "pepsi-kendall-jenner-ad-2017", "gucci-blackface-balaclava-sweater-2019"]
    analyses = {i: analyze(i, source=source, peers=False, robustness=False) for i in ids}
    table = incident_characteristics(analyses)
    assert list(table.index) == ids
    ual, pep, gucci = (table.loc[i] for i in ids)
    assert (ual["response_kind"], ual["response_delay_days"]) == ("statement", 0.0)
    assert (pep["response_kind"], pep["response_delay_days"]) == ("apology", 1.0)
    assert (gucci["response_kind"], gucci["response_delay_days"]) == ("apology", 1.0)
    assert (ual["region"], pep["region"], gucci["region"]) == ("US", "US", "Europe")
    assert (ual["year"], gucci["year"]) == (2017, 2019)
    assert (ual["category"], ual["platform"]) == (analyses[ids[0]].incident.category, analyses[ids[0]].incident.platforms[0])
    assert all(0.003 < v < 0.05 for v in table["volatility"])
    assert table.loc[ids[0], "volatility"] == pytest.approx(analyses[ids[0]].result.params["sigma"])
    assert gucci["currency"] == "EUR" and math.isnan(gucci["log_market_value"])  # no exchange rates
