"""Ranks and the signed-rank p-value without scipy.stats equal scipy.stats' own (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from incident_impact.eventstudy.ranks import average_ranks, row_ranks, signed_rank_test


@pytest.mark.parametrize("seed", range(8))
def test_row_ranks_equal_rankdata_with_ties_and_missing_values(seed):
    rng = np.random.default_rng(seed)
    panel = rng.integers(0, 6, (7, 30)).astype(float)  # many ties
    panel[rng.random(panel.shape) < 0.15] = np.nan
    np.testing.assert_allclose(row_ranks(panel), stats.rankdata(panel, axis=1, nan_policy="omit"), equal_nan=True)
    x = rng.normal(size=40).round(1)
    np.testing.assert_allclose(average_ranks(x)[0], stats.rankdata(x))


@pytest.mark.parametrize("n", [2, 3, 5, 9, 13, 14, 30, 50, 51, 90])
@pytest.mark.parametrize("ties", [False, True])
def test_signed_rank_p_equals_scipy_wilcoxon(n, ties):
    rng = np.random.default_rng(n + 100 * ties)
    for _ in range(25):
        x = rng.normal(0.2, 1, n)
        if ties:
            x = np.round(x, 1)
        x = x[x != 0]
        if len(x) < 2:
            continue
        w, p = signed_rank_test(x)
        ref = stats.wilcoxon(x, alternative="two-sided")
        assert w == pytest.approx(stats.rankdata(np.abs(x))[x > 0].sum())
        assert p == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-12)
