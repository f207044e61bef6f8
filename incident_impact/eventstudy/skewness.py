"""The skewness-adjusted t of a mean (Johnson 1978; Lyon, Barber & Tsai 1999, eqs. 4-5).

For right-skewed per-event quantities (buy-and-hold abnormal returns, variance ratios) the
conventional t of their mean rejects too often in the lower tail. With ``n`` values, ``S = mean / s``
(``s`` the sample standard deviation, ``ddof = 1``) and

    gamma_hat = sum_i (x_i - mean)^3 / (n s^3),

    t_sa = sqrt(n) (S + gamma_hat S^2 / 3 + gamma_hat / (6 n)),

compared with Student's t(n - 1) as the conventional t. (``gamma_hat`` is ``scipy.stats.skew(x) *
((n - 1) / n)^(3/2)``; Hall's 1992 version adds ``gamma_hat^2 S^3 / 27``, which LBT drop.)
"""

from __future__ import annotations

import numpy as np

from ..distributions import t_sf
from .statistics import TestResult


def lbt_skewness(values) -> float:
    """LBT's ``gamma_hat = sum (x_i - xbar)^3 / (n s^3)``, ``s`` the ``ddof = 1`` standard deviation."""
    x = np.asarray(values, dtype=float).ravel()
    n = len(x)
    s = x.std(ddof=1) if n > 1 else np.nan
    if not (n > 2 and s > 1e-10 * np.abs(x).max()):
        return float("nan")
    return float(((x - x.mean()) ** 3).sum() / (n * s**3))


def t_sa(x: np.ndarray, centre: float | np.ndarray) -> np.ndarray:
    """``t_sa`` of each row of ``x`` (resamples x n), ``S = (mean - centre) / s``; NaN where ``s = 0``."""
    x = np.atleast_2d(x)
    n = x.shape[1]
    mean = x.mean(axis=1)
    s = x.std(axis=1, ddof=1)
    s = np.where(s > 1e-10 * np.abs(x).max(axis=1), s, 0.0)  # constant up to rounding: no variation
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = ((x - mean[:, None]) ** 3).sum(axis=1) / (n * s**3)
        S = (mean - centre) / s
        t = np.sqrt(n) * (S + gamma * S**2 / 3 + gamma / (6 * n))
    return np.where(s > 0, t, np.nan)


def skewness_adjusted_t(values, name: str = "bhar_skew_t") -> TestResult:
    """The skewness-adjusted t of the mean of ``values`` (module docstring); two-sided p from
    t(n - 1). NaN with a reason for ``n < 3`` or no variation."""
    x = np.asarray(values, dtype=float).ravel()
    n = len(x)
    if n < 3:
        return TestResult(
            name, np.nan, np.nan, "t", None, n, f"the skewness-adjusted t needs at least 3 events (N = {n})"
        )
    if not x.std(ddof=1) > 1e-10 * np.abs(x).max():
        return TestResult(name, np.nan, np.nan, "t", n - 1, n, "the values do not vary across events")
    t = float(t_sa(x, 0.0)[0])
    return TestResult(
        name,
        t,
        float(2 * t_sf(abs(t), n - 1)),
        "t",
        float(n - 1),
        n,
        None,
        f"skewness gamma_hat = {lbt_skewness(x):.3f}",
    )
