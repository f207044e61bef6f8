"""Pooled evidence: the random-effects meta-analysis of the incidents' CARs (incident_impact.aftermath.pooled)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from incident_impact.aftermath.pooled import (
    DICT_KEYS,
    PooledEffect,
    PooledInputError,
    pooled_effect,
)
from incident_impact.errors import IncidentImpactError

# The hand-worked example: four incidents.
Y = np.array([-0.04, 0.00, -0.02, 0.03])
S = np.array([0.01, 0.02, 0.01, 0.02])


def test_dersimonian_laird_by_hand():
    r = pooled_effect(Y, S)
    # weights w = 1/s^2 = 10000, 2500, 10000, 2500; W = 25000
    # sum w y = -400 + 0 - 200 + 75 = -525, fixed-effect mean = -525 / 25000 = -0.021
    # Q = 10000 (-0.019)^2 + 2500 (0.021)^2 + 10000 (0.001)^2 + 2500 (0.051)^2
    #   = 3.61 + 1.1025 + 0.01 + 6.5025 = 11.225 on 3 df
    assert r.q == pytest.approx(11.225, rel=1e-12)
    assert r.q_p_value == pytest.approx(stats.chi2.sf(11.225, 3), rel=1e-10)
    # sum w^2 = 2 * 1e8 + 2 * 6.25e6 = 2.125e8; C = W - sum w^2 / W = 25000 - 8500 = 16500
    # tau^2 = (Q - 3) / C = 8.225 / 16500
    tau2 = 8.225 / 16500
    assert r.tau2 == pytest.approx(tau2, rel=1e-12)
    assert r.tau2 == pytest.approx(4.984848484848e-4, rel=1e-10)
    # random-effects weights 1 / (s^2 + tau^2)
    ws = np.array([1 / (1e-4 + tau2), 1 / (4e-4 + tau2), 1 / (1e-4 + tau2), 1 / (4e-4 + tau2)])
    mu = (ws[0] * -0.04 + ws[1] * 0.0 + ws[2] * -0.02 + ws[3] * 0.03) / ws.sum()
    se = 1 / math.sqrt(ws.sum())
    assert r.estimate == pytest.approx(mu, rel=1e-12)
    # w*_1 = w*_3 = 1 / 5.984848e-4 = 1670.886, w*_2 = w*_4 = 1 / 8.984848e-4 = 1112.985
    # mu = (1670.886 (-0.04 - 0.02) + 1112.985 (0.00 + 0.03)) / (2 * 1670.886 + 2 * 1112.985) = -66.864 / 5567.742
    assert r.estimate == pytest.approx((ws[0] * -0.06 + ws[1] * 0.03) / (2 * ws[0] + 2 * ws[1]), rel=1e-12)
    assert r.estimate == pytest.approx(-0.0120091, abs=1e-7)
    assert r.se == pytest.approx(0.0134017, abs=1e-7)  # 1 / sqrt(5567.742)
    assert r.se == pytest.approx(se, rel=1e-12)
    # confidence interval mu -+ t_(k-1=3, 0.975) se, t = 3.182446305284263
    assert (r.ci_lower, r.ci_upper) == pytest.approx((mu - 3.182446305284263 * se, mu + 3.182446305284263 * se), rel=1e-12)
    # I^2 = (Q - df) / Q = 8.225 / 11.225 for DL
    assert r.i2 == pytest.approx(8.225 / 11.225, rel=1e-12)
    # prediction interval: mu -+ t_(k-2=2, 0.975) sqrt(tau^2 + se^2), t = 4.302652729749464
    half = 4.302652729749464 * math.sqrt(tau2 + se * se)
    assert (r.prediction_lower, r.prediction_upper) == pytest.approx((mu - half, mu + half), rel=1e-12)
    # TOST of |mu| < 2 %: max(P(T > (mu + 0.02)/se), P(T < (mu - 0.02)/se)), T ~ t(3)
    assert r.equivalence_p == pytest.approx(max(stats.t.sf((mu + 0.02) / se, 3), stats.t.cdf((mu - 0.02) / se, 3)), rel=1e-10)
    assert r.n == 4 and r.method == "DL" and r.reason == ""


def _sample(seed: int, k: int = 40, tau: float = 0.02, mu: float = -0.01):
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.01, 0.04, k)
    return mu + tau * rng.standard_normal(k) + s * rng.standard_normal(k), s


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_equals_statsmodels_combine_effects(seed):
    from statsmodels.stats.meta_analysis import combine_effects

    y, s = _sample(seed)
    for ours, theirs, kw in (("DL", "dl", {}), ("PM", "iterated", {"atol": 1e-13, "maxiter": 500})):
        r = pooled_effect(y, s, method=ours)
        c = combine_effects(y, s ** 2, method_re=theirs, **kw)
        assert c.q > len(y) - 1  # statsmodels does not truncate tau^2 at 0: compare where it is positive
        assert r.tau2 == pytest.approx(c.tau2, rel=1e-8)
        assert r.estimate == pytest.approx(c.mean_effect_re, rel=1e-8)
        assert r.se == pytest.approx(c.sd_eff_w_re, rel=1e-8)
        assert (r.ci_lower, r.ci_upper) == pytest.approx(tuple(c.conf_int(alpha=0.05, use_t=True)[1]), rel=1e-8)
        assert r.q == pytest.approx(c.q, rel=1e-12)
        if ours == "DL":
            assert r.i2 == pytest.approx(c.i2, rel=1e-10)


def test_no_heterogeneity_gives_the_fixed_effect_estimate():
    from statsmodels.stats.meta_analysis import combine_effects

    y, s = np.array([0.001, -0.002, 0.0005, 0.0, -0.001]), np.array([0.01, 0.02, 0.015, 0.01, 0.03])
    c = combine_effects(y, s ** 2, method_re="dl")
    assert c.tau2 < 0  # statsmodels leaves the negative moment estimate; we truncate at 0
    for method in ("DL", "REML", "PM"):
        r = pooled_effect(y, s, method=method)
        assert r.tau2 == 0 and r.i2 == 0
        assert r.estimate == pytest.approx(c.mean_effect_fe, rel=1e-12)
        assert r.se == pytest.approx(c.sd_eff_w_fe, rel=1e-12)


def _reml_negloglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Matrix form: -2 l_R = log|V| + log|X'V^-1 X| + r'V^-1 r, X = 1, V = diag(v + tau^2) (Harville 1977)."""
    V = np.diag(v + tau2)
    Vi = np.linalg.inv(V)
    X = np.ones((len(y), 1))
    xvx = X.T @ Vi @ X
    beta = np.linalg.solve(xvx, X.T @ Vi @ y)
    r = y - X @ beta
    return 0.5 * (np.linalg.slogdet(V)[1] + np.linalg.slogdet(xvx)[1] + r @ Vi @ r)


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_reml_maximises_the_restricted_likelihood(seed):
    y, s = _sample(seed, k=25)
    v = s ** 2
    best = optimize.minimize_scalar(_reml_negloglik, bounds=(0.0, 0.05), args=(y, v), method="bounded",
                                    options={"xatol": 1e-13})
    r = pooled_effect(y, s, method="REML")
    assert r.tau2 == pytest.approx(best.x, rel=1e-5, abs=1e-11)
    assert _reml_negloglik(r.tau2, y, v) <= best.fun + 1e-12
    w = 1 / (v + r.tau2)
    assert r.estimate == pytest.approx(w @ y / w.sum(), rel=1e-12)


def test_reml_at_the_boundary():
    y, s = np.array([0.001, -0.001, 0.0, 0.0015]), np.array([0.02, 0.02, 0.03, 0.01])
    r = pooled_effect(y, s, method="REML")
    grid = np.linspace(0, 1e-3, 2001)
    assert r.tau2 == 0
    assert _reml_negloglik(0.0, y, s ** 2) <= min(_reml_negloglik(t, y, s ** 2) for t in grid) + 1e-12


def test_equivalence_matches_the_90_percent_interval():
    y, s = _sample(8)
    r = pooled_effect(y, s, bound=0.02)
    r90 = pooled_effect(y, s, bound=0.02, level=0.90)
    inside = -0.02 < r90.ci_lower and r90.ci_upper < 0.02
    assert (r.equivalence_p < 0.05) == inside
    assert r.equivalent() == inside
    shifted = pooled_effect(y + 0.5, s)
    assert shifted.estimate == pytest.approx(r.estimate + 0.5, rel=1e-12) and shifted.tau2 == pytest.approx(r.tau2, rel=1e-9)


def test_fewer_than_three_incidents_is_nan_with_a_reason():
    for n in (0, 1, 2):
        r = pooled_effect(Y[:n], S[:n], method="REML")
        assert r.n == n and r.reason == "fewer than 3 incidents"
        assert all(v is None for k, v in r.to_dict().items() if k in DICT_KEYS and k not in ("method", "n"))
        assert "fewer than 3 incidents" in r.summary() and "fewer than 3" in repr(r)
    r = pooled_effect([0.01, np.nan, 0.02, 0.01], [0.01, 0.01, np.inf, 0.02], labels=["a", "b", "c", "d"])
    assert r.n == 2 and r.reason == "fewer than 3 incidents" and "b, c" in r.notes[0]


def test_bad_input_raises_the_project_error():
    with pytest.raises(PooledInputError, match="unknown pooling method"):
        pooled_effect(Y, S, method="ML")
    with pytest.raises(IncidentImpactError, match="standard errors must be positive"):
        pooled_effect(Y, [0.01, 0.0, 0.01, 0.01])
    with pytest.raises(IncidentImpactError, match="4 CARs but 3"):
        pooled_effect(Y, S[:3])
    with pytest.raises(IncidentImpactError, match="bound must be positive"):
        pooled_effect(Y, S, bound=0)
    with pytest.raises(IncidentImpactError, match="level"):
        pooled_effect(Y, S, level=95)


def test_series_are_aligned_and_groups_pooled_apart():
    y, s = _sample(9, k=12)
    ids = [f"inc-{i}" for i in range(12)]
    cars, ses = pd.Series(y, index=ids), pd.Series(s, index=ids)
    by = pd.Series(["boycott"] * 6 + ["ad"] * 4 + ["video"] * 2, index=ids)
    r = pooled_effect(cars, ses.iloc[::-1], by=by, method="REML", window="[0,+1]")
    assert r.estimate == pytest.approx(pooled_effect(y, s, method="REML").estimate, rel=1e-12)
    groups = dict(r.groups)
    assert set(groups) == {"boycott", "ad", "video"}
    assert groups["boycott"].estimate == pytest.approx(pooled_effect(y[:6], s[:6], method="REML").estimate, rel=1e-12)
    assert groups["ad"].n == 4 and groups["video"].reason == "fewer than 3 incidents"
    frame = r.to_frame()
    assert list(frame.index) == ["all", "ad", "boycott", "video"] and np.isnan(frame.loc["video", "estimate"])
    assert r.weights.sum() == pytest.approx(1) and list(r.weights.index) == ids


def test_json_ready_and_display():
    y, s = _sample(10)
    by = pd.Series(["a"] * 38 + ["b"] * 2)
    r = pooled_effect(y, s, by=by, window="[0,+1]")
    d = r.to_dict()
    assert list(d)[:len(DICT_KEYS)] == list(DICT_KEYS)
    text = json.dumps(d, allow_nan=False)
    assert '"b"' in text and d["groups"]["b"]["estimate"] is None
    assert all(type(v) in (float, int, str, list, dict, type(None)) for v in d.values())
    assert isinstance(r, PooledEffect) and "PooledEffect: DL, n = 40" in repr(r) and len(repr(r).splitlines()) <= 4
    assert "<table" in r._repr_html_() and "prediction interval" in r.summary()


def test_coverage_small_simulation():
    """200 replications of the validation design (k = 40, tau = 2 %, mu = -1 %); the full 2,000 are in
    validation/pooled_results.md. With 200 replications the Monte-Carlo s.e. is 1.5 points."""
    rng = np.random.default_rng(20260514)
    hits = {"DL": 0, "REML": 0}
    reps = 200
    for _ in range(reps):
        s = rng.uniform(0.01, 0.04, 40)
        y = -0.01 + 0.02 * rng.standard_normal(40) + s * rng.standard_normal(40)
        for m in hits:
            r = pooled_effect(y, s, method=m)
            hits[m] += r.ci_lower <= -0.01 <= r.ci_upper
    for m, h in hits.items():
        assert 0.89 <= h / reps <= 0.99, (m, h / reps)


# --- the literature table and the comparison (incident_impact.aftermath.literature) ---

import os
import re
from pathlib import Path

from incident_impact.aftermath.literature import (
    LITERATURE,
    SELECTION_SENTENCE,
    compare_with_literature,
    literature_table,
)

_SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
_LITERATURE_MD = Path(_SHARED or "../shared/data").parent / "docs" / "literature.md"


def _numbers(text: str) -> list[str]:
    return re.findall(r"[+-]?\d+(?:\.\d+)?", text)


@pytest.mark.skipif(not _LITERATURE_MD.is_file(), reason="needs ../shared/docs/literature.md (INCIDENT_IMPACT_SHARED_DATA)")
def test_every_number_of_the_literature_table_is_in_literature_md():
    md = _LITERATURE_MD.read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| ") and line.count("|") > 5}
    for p in LITERATURE:
        assert p.study in rows, p.study  # cited exactly as written there
        line = rows[p.study]
        assert p.sample in line and p.significance in line, p.study
        for num in _numbers(p.estimate_text) + _numbers(p.notes) + _numbers(p.significance) + _numbers(p.window):
            assert num in line, (p.study, num)
        if p.estimate is not None:
            shown = f"{100 * p.estimate:+.2f}".rstrip("0").rstrip(".")
            assert p.estimate == 0 or shown.lstrip("+") in line, (p.study, shown)
            assert (p.estimate == 0) == ("about 0" in p.estimate_text)
    for num in _numbers(SELECTION_SENTENCE):
        assert num in md
    assert "selected on fame" in md and "stock fell" in SELECTION_SENTENCE


def test_comparison_with_the_literature():
    assert len(literature_table()) == len(LITERATURE)
    y, s = _sample(11)
    pooled = pooled_effect(y, s, window="[0,0]")
    cmp = compare_with_literature(pooled, (0, 0))
    rows = cmp.to_frame()
    same = rows[rows["window_match"] == "same"]
    assert set(same["study"]) == {"Koku, Akhigbe & Springer 1997, J. Business Research 40:15",
                                  "Acquisti, Friedman & Telang 2006, ICIS"}
    for r in rows.itertuples():
        assert r.covers == (pooled.ci_lower <= r.their_estimate <= pooled.ci_upper)
    assert f"covers {int(same['covers'].sum())} of the 2 published" in cmp.sentence
    assert "selected on the outcome" in cmp.selection and "biased toward harm" in cmp.selection
    json.dumps(cmp.to_dict(), allow_nan=False)
    assert "LiteratureComparison" in repr(cmp) and "<table" in cmp._repr_html_() and "Koku" in cmp.summary()
    # another window: no exact match for [-1,+1]; no estimate when fewer than 3 incidents
    assert "No published average effect uses the window [-1,+1]" in compare_with_literature(pooled, "-1,+1").sentence
    empty = compare_with_literature(pooled_effect(y[:2], s[:2]), "[0,+1]")
    assert "fewer than 3 incidents" in empty.sentence and empty.to_frame()["covers"].isna().all()
