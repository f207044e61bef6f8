"""Every test statistic against numbers worked out by hand on tiny data sets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from incident_impact.eventstudy import statistics as st

# Four events: CARs, CAR standard errors, residual degrees of freedom.
CAR = np.array([0.01, 0.03, -0.02, 0.04])
SE = np.array([0.01, 0.02, 0.01, 0.02])
DF = np.array([10, 10, 20, 20])


def test_cs_t_by_hand():
    # mean 0.015; deviations -0.005, 0.015, -0.035, 0.025 -> SS = 2.1e-3, s^2 = 7e-4
    # t = 0.015 / (sqrt(7e-4) / 2) = 1.1338934
    r = st.cs_t(CAR)
    assert r.statistic == pytest.approx(1.1338934190, rel=1e-9)
    assert r.df == 3 and r.distribution == "t" and r.n_events == 4
    assert r.p_value == pytest.approx(2 * stats.t.sf(1.1338934190, 3), rel=1e-8)


def test_time_series_t_by_hand():
    # Var(CAAR) = (1e-4 + 4e-4 + 1e-4 + 4e-4) / 16 = 6.25e-5; J1 = 0.015 / 0.0079057 = 1.8973666
    r = st.time_series_t(CAR, SE**2)
    assert r.statistic == pytest.approx(1.8973665961, rel=1e-9)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(1.8973665961), rel=1e-8)
    assert r.distribution == "normal"


def test_patell_by_hand():
    # SCAR = 1, 1.5, -2, 2 (sum 2.5); variances df/(df-2) = 1.25, 1.25, 1.1111, 1.1111 (sum 4.7222)
    r = st.patell(CAR / SE, DF)
    assert r.statistic == pytest.approx(2.5 / np.sqrt(4.7222222222), rel=1e-9)
    assert r.statistic == pytest.approx(1.1504474833, rel=1e-9)
    assert np.isnan(st.patell([1.0], [2]).statistic)


def test_bmp_and_kp_by_hand():
    # SCAR mean 0.625, deviations .375 .875 -2.625 1.375 -> SS 9.6875, s^2 3.2291667
    # t = 0.625 / (1.7969882 / 2) = 0.6956083
    r = st.bmp(CAR / SE)
    assert r.statistic == pytest.approx(0.6956083436, rel=1e-9)
    assert r.df == 3
    # rbar = 0.1, N = 4: factor sqrt(0.9 / 1.3) = 0.8320503
    kp = st.kp_bmp(CAR / SE, 0.1)
    assert kp.statistic == pytest.approx(0.6956083436 * 0.8320502943, rel=1e-9)
    assert kp.p_value == pytest.approx(2 * stats.t.sf(0.6956083436 * 0.8320502943, 3), rel=1e-8)
    # no overlapping estimation dates: no adjustment, said in the note
    none = st.kp_bmp(CAR / SE, float("nan"))
    assert none.statistic == pytest.approx(r.statistic) and "rbar = 0" in none.note
    assert np.isnan(st.kp_bmp(CAR / SE, -0.5).statistic)  # 1 + 3 * (-0.5) < 0


def test_mean_pairwise_correlation_by_hand():
    x = [1.0, 2, 3, 4]
    resid = np.column_stack([x, [2.0, 4, 6, 8], [4.0, 3, 2, 1]])  # correlations +1, -1, -1
    rbar, pairs = st.mean_pairwise_correlation(resid)
    assert rbar == pytest.approx(-1 / 3) and pairs == 3
    # a third event sharing only two dates with the others is left out of the mean
    gappy = np.column_stack([x + [np.nan] * 2, [2.0, 4, 6, 8, np.nan, np.nan], [np.nan] * 4 + [1.0, 2]])
    rbar, pairs = st.mean_pairwise_correlation(gappy, min_overlap=3)
    assert rbar == pytest.approx(1.0) and pairs == 1
    assert np.isnan(st.mean_pairwise_correlation(gappy[:, [0, 2]], min_overlap=3)[0])
    # weighted by shared event days: pairs (1,2) r=+1 w=1, (1,3) r=-1 w=0.5, (2,3) r=-1 w=0 -> (1 - 0.5 + 0) / 3
    w = np.array([[1, 1, 0.5], [1, 1, 0], [0.5, 0, 1]])
    rbar, pairs = st.mean_pairwise_correlation(resid, pair_weights=w)
    assert rbar == pytest.approx(0.5 / 3) and pairs == 2


def test_corrado_by_hand():
    # firm 1 ARs 0.01 -0.02 0.03 0.00 | 0.05 -> ranks 3 1 4 2 5, U = K/6 - 1/2 = 0 -1/3 1/6 -1/6 1/3
    # firm 2 ARs 0.02 0.01 -0.01 0.04 | 0.03 -> ranks 3 2 1 5 4, U = 0 -1/6 -1/3 1/3 1/6
    # Ubar = 0 -1/4 -1/12 1/12 1/4; S_U = sqrt((0 + 1/16 + 1/144 + 1/144 + 1/16) / 5) = 1/6
    panel = np.array([[0.01, -0.02, 0.03, 0.00, 0.05], [0.02, 0.01, -0.01, 0.04, 0.03]])
    one_day = st.corrado(panel, [False] * 4 + [True])
    assert one_day.statistic == pytest.approx((1 / 4) / (1 / 6), rel=1e-12)  # 1.5
    assert one_day.p_value == pytest.approx(2 * stats.norm.sf(1.5), rel=1e-10)
    # two-day window (last two days): (1/12 + 1/4) / (sqrt(2) / 6) = sqrt(2)
    two_day = st.corrado(panel, [False] * 3 + [True] * 2)
    assert two_day.statistic == pytest.approx(np.sqrt(2), rel=1e-12)


def test_corrado_with_a_missing_day_uses_t_plus_one():
    # firm 2 lacks day 3: ranks among 4 days 2 1 . 4 3, U = K/5 - 1/2 = -.1 -.3 . .3 .1
    panel = np.array([[0.01, -0.02, 0.03, 0.00, 0.05], [0.02, 0.01, np.nan, 0.04, 0.03]])
    u1 = np.array([0, -1 / 3, 1 / 6, -1 / 6, 1 / 3])
    ubar = np.array([(0 - 0.1) / 2, (-1 / 3 - 0.3) / 2, 1 / 6, (-1 / 6 + 0.3) / 2, (1 / 3 + 0.1) / 2])
    assert u1[2] == ubar[2]
    s_u = np.sqrt(np.mean(ubar**2))
    r = st.corrado(panel, [False] * 4 + [True])
    assert r.statistic == pytest.approx(ubar[4] / s_u, rel=1e-12)


def test_generalized_sign_by_hand():
    # p_hat = mean(0.5, 0.4, 0.6, 0.5) = 0.5; w = 3 positive CARs; Z = (3 - 2) / sqrt(4 * 0.25) = 1
    r = st.generalized_sign(CAR, [0.5, 0.4, 0.6, 0.5])
    assert r.statistic == pytest.approx(1.0, rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(1.0), rel=1e-10)


def test_wilcoxon_exact_by_enumeration():
    # |CAR| ranks: 0.005 -> 1, 0.01 -> 2, 0.02 -> 3, 0.03 -> 4, 0.04 -> 5; W+ = 2 + 4 + 5 = 11
    car = np.array([0.01, 0.03, -0.02, 0.04, -0.005])
    r = st.wilcoxon(car)
    assert r.statistic == 11
    # exact null: each rank's sign is a fair coin; P(W+ >= 11) = 7/32 (complements with sum <= 4)
    sums = [sum(s) for k in range(6) for s in itertools.combinations(range(1, 6), k)]
    assert sum(x >= 11 for x in sums) == 7
    assert r.p_value == pytest.approx(2 * 7 / 32, rel=1e-12)


def test_sq_by_hand():
    ar = 0.001 * (np.arange(30) - 14.5)  # -0.0145 ... 0.0145
    # one-day CARs: 27 of 30 at or below 0.012, 3 at or above -> q = 0.9, p = 2 * 0.1
    r = st.sq(0.012, ar, 1)
    assert r.statistic == pytest.approx(0.9) and r.p_value == pytest.approx(0.2)
    # two-day CARs 0.001 * (2i - 28), i = 0..28: 25 of 29 <= 0.02, 5 >= 0.02 -> p = 10/29
    r = st.sq(0.02, ar, 2)
    assert r.statistic == pytest.approx(25 / 29) and r.p_value == pytest.approx(10 / 29)
    assert st.sq(0.5, ar, 1).p_value == 0.0
    short = st.sq(0.0, ar[:10], 1)
    assert np.isnan(short.p_value) and "only 10 estimation CARs" in short.reason


@pytest.mark.parametrize("nudge", [-3e-16, 0.0, 3e-16])
def test_sq_counts_a_car_equal_to_an_estimation_car_up_to_rounding_on_both_sides(nudge):
    """Sums of the same rounded returns added in another order differ by ~1e-16: a tie either way."""
    ar = np.round(np.random.default_rng(2).normal(0, 0.01, 60), 3)
    car = ar[10] + ar[11] + nudge  # equal to the two-day estimation CAR starting at day 10
    sums = ar[:-1] + ar[1:]
    le, ge = (sums <= ar[10] + ar[11] + 1e-12).mean(), (sums >= ar[10] + ar[11] - 1e-12).mean()
    r = st.sq(car, ar, 2)
    assert r.statistic == pytest.approx(le) and r.p_value == pytest.approx(min(1, 2 * min(le, ge)))


@pytest.mark.parametrize("fn", [st.cs_t, st.bmp, st.wilcoxon, lambda x: st.kp_bmp(x, 0.0),
                                lambda x: st.generalized_sign(x, [0.5])])
def test_cross_sectional_tests_with_one_event_give_nan_and_a_reason(fn):
    r = fn([0.02])
    assert np.isnan(r.statistic) and np.isnan(r.p_value)
    assert "at least 2 events" in r.reason
    assert "not computed" in str(r)


def test_results_frame_layout():
    frame = st.results_frame([st.cs_t(CAR), st.cs_t([0.1])])
    assert list(frame.columns) == ["statistic", "p_value", "df", "n_events", "distribution", "note"]
    assert frame.index.tolist() == ["cs_t", "cs_t"]
    assert "at least 2 events" in frame["note"].iloc[1]
