"""The batch engine's rank counting (:func:`.batch_rank.day_rank_sums`) against ranking every event's
values: missing estimation days, windows of 1 to 5 days, subsets of events, ties; and the fit's sorts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from incident_impact.eventstudy import batch_rank, run_study
from incident_impact.eventstudy import threads as thread_blocks
from incident_impact.eventstudy import statistics as st
from incident_impact.eventstudy.batch_rank import count_below, day_rank_sums
from incident_impact.eventstudy.ranks import row_ranks


class Fit:
    """What :func:`day_rank_sums` reads of a :class:`~.batch_fit.BatchFit`."""

    def __init__(self, est: np.ndarray):
        self.n_obs = np.isfinite(est).sum(axis=1)
        self.est_complete = bool(np.isfinite(est).all())

    @staticmethod
    def take(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return values[idx]


def reference_sums(est: np.ndarray, win: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_i U_it`` and ``N_t`` by ranking each event's values (:func:`.ranks.row_ranks`)."""
    panel = np.concatenate([est, win], axis=1)
    u = row_ranks(panel) / (np.isfinite(panel).sum(axis=1, keepdims=True) + 1) - 0.5
    return np.nansum(u, axis=0), np.isfinite(panel).sum(axis=0)


def sorted_ranks(est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ranks = np.nan_to_num(row_ranks(est)).astype(np.uint8)
    return np.sort(est, axis=1), ranks


@pytest.mark.parametrize("L", [1, 2, 5])
@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_counted_ranks_equal_ranking_every_event(L, missing):
    rng = np.random.default_rng(L + int(10 * missing))
    n, T = 60, 40
    est = rng.standard_t(4, (n, T))
    est[rng.random((n, T)) < missing] = np.nan
    est[3, :] = np.nan  # an event without estimation values (not in idx: counts of the subset)
    win = rng.standard_t(4, (n, L)) * 1.5
    ordered, ranks = sorted_ranks(est)
    idx = np.setdiff1d(np.arange(n), [3, 7])
    sums, counts = day_rank_sums(Fit(est), idx, ordered, ranks, win[idx])
    ref_sums, ref_counts = reference_sums(est[idx], win[idx])
    np.testing.assert_allclose(sums, ref_sums, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(counts, ref_counts)


def test_a_window_value_equal_to_another_value_of_its_event_is_a_tie():
    rng = np.random.default_rng(5)
    est = rng.normal(size=(10, 30))
    ordered, ranks = sorted_ranks(est)
    idx = np.arange(10)
    win = rng.normal(size=(10, 3))
    assert day_rank_sums(Fit(est), idx, ordered, ranks, win) is not None
    with_est = win.copy()
    with_est[4, 1] = est[4, 17]  # equals an estimation value
    assert day_rank_sums(Fit(est), idx, ordered, ranks, with_est) is None
    with_win = win.copy()
    with_win[2, 2] = with_win[2, 0]  # two window days equal
    assert day_rank_sums(Fit(est), idx, ordered, ranks, with_win) is None


@pytest.mark.parametrize("threads", ["1", "3"])
def test_the_fit_sorts_its_estimation_ars_once_with_ranks_and_standardized_values(threads, monkeypatch):
    """Also in blocks of events sorted by three threads (blocks of 1, 2 and 2 events here)."""
    monkeypatch.setenv("INCIDENT_IMPACT_THREADS", threads)
    monkeypatch.setattr(thread_blocks, "MIN_ROWS", 1)
    rng = np.random.default_rng(8)
    dates = pd.bdate_range("2015-01-01", periods=600)
    market = pd.Series(rng.normal(0, 0.01, 600), index=dates)
    wide = pd.DataFrame({f"T{i}": 0.8 * market + rng.normal(0, 0.02, 600) for i in range(5)})
    wide.iloc[:150, 1] = np.nan  # listed late: missing estimation days
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(5)],
            "ticker": wide.columns,
            "event_date": dates[[300, 320, 340, 360, 380]],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = run_study(wide, market, events, engine="batch").engine.fit
    ordered, ranks = fit.est_sorted
    np.testing.assert_array_equal(ordered, np.sort(fit.est_ar, axis=1))
    np.testing.assert_array_equal(ranks, np.nan_to_num(row_ranks(fit.est_ar)))
    assert not fit.est_ties and not fit.sar_sorted[1] and not fit.est_complete
    sar = fit.est_ar / np.sqrt(fit.sigma2)[:, None]
    np.testing.assert_array_equal(fit.sar_sorted[0], np.sort(sar, axis=1))  # bit for bit: the same divisions
    np.testing.assert_array_equal(ranks, np.nan_to_num(row_ranks(sar)))


def test_rank_tests_of_complete_estimation_windows_equal_the_loop(monkeypatch):
    """Every event has every estimation day (the equal-weights sums) and windows of 1, 3 and 6 days:
    Corrado, Corrado-Zivney and GRANK of the batch engine (counting, never the reference functions)
    equal the loop engine's to 1e-10."""
    rng = np.random.default_rng(21)
    dates = pd.bdate_range("2012-01-02", periods=700)
    market = pd.Series(rng.normal(0, 0.01, 700), index=dates)
    wide = pd.DataFrame({f"T{i}": rng.uniform(0.5, 1.5) * market + rng.normal(0, 0.02, 700) for i in range(12)})
    events = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(40)],
            "ticker": rng.choice(wide.columns, 40),
            "event_date": dates[rng.integers(300, 680, 40)],
        }
    )
    windows = [(0, 0), (-1, 1), (-2, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch, loop = (run_study(wide, market, events, windows=windows, engine=e) for e in ("batch", "loop"))
    assert batch.engine.fit.est_complete
    names = ["corrado", "corrado_zivney", "grank"]
    expected = {w: loop.tests(w).loc[names, ["statistic", "p_value"]] for w in windows}

    def refuse(*args):
        raise AssertionError("the batch engine fell back to a reference rank function")

    monkeypatch.setattr(batch_rank, "reference_rank_test", refuse)
    monkeypatch.setattr(st, "corrado_zivney", refuse)
    monkeypatch.setattr(st, "grank", refuse)
    for w in windows:
        tb = batch.tests(w).loc[names, ["statistic", "p_value"]]
        np.testing.assert_allclose(tb.to_numpy(float), expected[w].to_numpy(float), rtol=1e-10, atol=1e-12)


def test_count_below_equals_comparing_every_value():
    rng = np.random.default_rng(2)
    for T in (1, 7, 64, 240):
        n = 40
        est = rng.normal(size=(n, T))
        n_obs = rng.integers(0, T + 1, n)
        n_obs[:3] = (0, T, 1)
        est[np.arange(T) >= n_obs[:, None]] = np.nan
        ordered = np.sort(est, axis=1)
        values = np.c_[rng.normal(size=(n, 2)) * 2, ordered[:, :1], np.full(n, np.inf), np.full(n, -np.inf)]
        expected = (ordered[:, None, :] < values[:, :, None]).sum(axis=2)
        np.testing.assert_array_equal(count_below(ordered, n_obs, values), expected)


def test_standardized_values_that_tie_take_the_reference_functions():
    """When dividing by sigma_i rounds two estimation ARs together (forced here), Corrado still counts
    (its ARs do not tie) and Corrado-Zivney and GRANK rank with the reference functions: loop numbers."""
    rng = np.random.default_rng(4)
    dates = pd.bdate_range("2014-01-01", periods=500)
    market = pd.Series(rng.normal(0, 0.01, 500), index=dates)
    wide = pd.DataFrame({f"T{i}": market + rng.normal(0, 0.02, 500) for i in range(6)})
    events = pd.DataFrame(
        {"event_id": [f"e{i}" for i in range(6)], "ticker": wide.columns, "event_date": dates[300:480:30]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch, loop = (run_study(wide, market, events, windows=[(-1, 1)], engine=e) for e in ("batch", "loop"))
    fit = batch.engine.fit
    fit.__dict__["sar_sorted"] = (fit.sar_sorted[0], True)
    assert not fit.est_ties
    names = ["corrado", "corrado_zivney", "grank"]
    tb, tl = (r.tests((-1, 1)).loc[names, ["statistic", "p_value"]] for r in (batch, loop))
    np.testing.assert_allclose(tb.to_numpy(float), tl.to_numpy(float), rtol=1e-10, atol=1e-12)
