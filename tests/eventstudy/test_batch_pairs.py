"""The Kolari-Pynnönen group sums of the batch engine (:mod:`.batch_pairs`) without a sparse product."""

from __future__ import annotations

import numpy as np

from incident_impact.eventstudy.batch_pairs import _group_sums, _layers


def test_group_sums_add_each_group_in_row_order():
    """Groups of 1 to many rows, vectors and matrices: equal bit for bit to adding each group's terms in
    the rows' order (what a sparse group-by-row product does)."""
    rng = np.random.default_rng(11)
    for n, n_groups, T in ((1, 1, 5), (7, 7, 3), (500, 60, 24), (2000, 1500, 10), (300, 2, 4)):
        g = np.unique(rng.integers(0, n_groups, n), return_inverse=True)[1]  # groups 0..G-1, each used
        sizes = np.bincount(g)
        values, weight = rng.normal(size=(n, T)), rng.uniform(0, 2, n)
        expected = np.zeros((len(sizes), T))
        for i in range(n):
            expected[g[i]] += weight[i] * values[i]
        order, bounds, by_size = _layers(g, sizes)
        assert sorted(order) == list(range(n)) and bounds[-1] == n
        got = _group_sums(values[order], weight[order], bounds, by_size)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(_group_sums(values[order, 0], weight[order], bounds, by_size), expected[:, 0])
