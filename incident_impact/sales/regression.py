"""Regression designs with Newey-West errors: difference-in-differences and interrupted time series.

Both fit one OLS over pre- and post-period, ``m_t = b_t' beta + p_t' gamma + e_t``, where the
*post terms* ``p_t`` are 0 before the incident, and take Newey & West (1987) HAC covariances with
``L = floor(4 (T/100)^(2/9))`` lags (Newey & West 1994), serial correlation being the rule in
sales (Bertrand, Duflo & Mullainathan 2004). The counterfactual is ``b_t' beta``; because the
post terms include a post-period intercept, the post residuals sum to 0 and the average effect
on the model scale is ``mean_t p_t' gamma`` with its HAC variance. Draws ``gamma_s`` come from the
multivariate t (df = T - k) around ``gamma`` with that covariance, so the bands are *confidence*
bands of the counterfactual mean, not prediction bands.

* ``did``: ``m_t = log y_t - mean_j log c_jt`` (levels: ``y_t - mean_j c_jt``), ``b_t = 1`` and
  ``p_t = 1`` (with ``trend``: ``b_t = (1, t)``, ``p_t = (1, t - t0)``). The pre-trend check is the
  HAC t-test of the slope of the pre-period gap on ``t``.
* ``its``: one series, ``b_t = (1, t, seasonal terms)``, ``p_t = (1, t - t0)`` (level and slope
  change; Wagner et al. 2002). Weaker: it assumes the pre-trend would have continued.
"""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm

from ..errors import SalesDataError
from .effect import Counterfactual
from .spec import ModelSpec, to_model_scale


def newey_west_lags(n: int) -> int:
    """``floor(4 (n/100)^(2/9))`` (Newey & West 1994)."""
    return int(np.floor(4 * (n / 100) ** (2 / 9)))


def hac_ols(m: np.ndarray, design: np.ndarray):
    """OLS of ``m`` on ``design`` with Newey-West covariance (small-sample corrected)."""
    return sm.OLS(m, design).fit(cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(len(m)), "use_correction": True})


def seasonal_terms(n: int, period: float | None, harmonics: int) -> np.ndarray:
    """``(n, k)`` seasonal regressors: ``period - 1`` dummies for an integer period, else ``harmonics``
    sine/cosine pairs; ``(n, 0)`` without a period."""
    t = np.arange(n)
    if period is None:
        return np.empty((n, 0))
    if float(period).is_integer():
        p = int(period)
        return (t[:, None] % p == np.arange(1, p)[None, :]).astype(float)
    angles = 2 * np.pi * t[:, None] * np.arange(1, harmonics + 1)[None, :] / period
    return np.hstack([np.sin(angles), np.cos(angles)])


def _segmented(m: np.ndarray, base: np.ndarray, post_terms: np.ndarray, n_pre: int, spec: ModelSpec):
    """Fit, then ``(counterfactual mean (n,), draws of the post-period counterfactual (h, R), fit)``."""
    n, k = base.shape
    if n - k - post_terms.shape[1] < 3:
        raise SalesDataError(f"too few periods ({n}) for this regression design")
    post_rows = np.zeros_like(post_terms)
    post_rows[n_pre:] = post_terms[n_pre:]
    fit = hac_ols(m, np.hstack([base, post_rows]))
    beta, gamma = fit.params[:k], fit.params[k:]
    cov = fit.cov_params()[k:, k:]
    rng = np.random.default_rng(spec.seed)
    df = n - k - post_terms.shape[1]
    z = rng.multivariate_normal(np.zeros(len(gamma)), cov, size=spec.repetitions, method="cholesky")
    gamma_s = gamma + z / np.sqrt(rng.chisquare(df, size=(spec.repetitions, 1)) / df)
    mean = base @ beta
    draws = mean[n_pre:, None] + post_rows[n_pre:] @ (gamma[:, None] - gamma_s.T)
    return mean, draws, fit


def _to_sales(values: np.ndarray, log: bool) -> np.ndarray:
    return np.exp(values) if log else values


def did_counterfactual(y: np.ndarray, controls: np.ndarray | None, n_pre: int, spec: ModelSpec) -> Counterfactual:
    """Difference-in-differences of ``y`` against the mean of the controls (see the module docstring)."""
    if controls is None or controls.shape[1] == 0:
        raise SalesDataError("the did design needs at least one control series (--control)")
    m = to_model_scale(y, spec.log, "sales")
    offset = to_model_scale(controls, spec.log, "a control").mean(axis=1)
    gap, n = m - offset, len(y)
    t = np.arange(n, dtype=float) - n_pre
    base = np.column_stack([np.ones(n), t]) if spec.trend else np.ones((n, 1))
    post_terms = np.column_stack([np.ones(n), t]) if spec.trend else np.ones((n, 1))
    mean, draws, fit = _segmented(gap, base, post_terms, n_pre, spec)
    pre = hac_ols(gap[:n_pre], np.column_stack([np.ones(n_pre), t[:n_pre]]))
    slope, slope_p = float(pre.params[1]), float(pre.pvalues[1])
    params = {
        "pre_gap_slope": slope,
        "pre_gap_slope_p": slope_p,
        "hac_lags": newey_west_lags(n),
        **{f"post.{i}": float(g) for i, g in enumerate(fit.params[base.shape[1] :])},
    }
    notes = []
    if slope_p < 0.05 and not spec.trend:
        notes.append(
            f"pre-trend check failed: the gap to the controls drifted by {slope:+.3g} per period before the "
            f"incident (HAC p = {slope_p:.3f}), so parallel trends are doubtful; try the trend option"
        )
    scale = "log " if spec.log else ""
    description = (
        f"difference-in-differences on the {scale}gap to the mean of {controls.shape[1]} control"
        f"{'s' if controls.shape[1] != 1 else ''}{' with a linear pre-trend and slope change' if spec.trend else ''}; "
        f"OLS with Newey-West errors ({newey_west_lags(n)} lags); bands: confidence bands of the counterfactual"
    )
    return Counterfactual(
        _to_sales(mean[n_pre:] + offset[n_pre:], spec.log),
        _to_sales(draws + offset[n_pre:, None], spec.log),
        _to_sales(mean[:n_pre] + offset[:n_pre], spec.log),
        description,
        params,
        tuple(notes),
        band="confidence",
    )


def its_counterfactual(y: np.ndarray, controls: np.ndarray | None, n_pre: int, spec: ModelSpec) -> Counterfactual:
    """Single-series segmented regression (see the module docstring); ``controls`` must be None."""
    if controls is not None and controls.shape[1]:
        raise SalesDataError("the its design uses the sales series alone; drop the controls or choose another design")
    m, n = to_model_scale(y, spec.log, "sales"), len(y)
    t = np.arange(n, dtype=float) - n_pre
    base = np.column_stack([np.ones(n), t, seasonal_terms(n, spec.seasonal, spec.harmonics)])
    mean, draws, fit = _segmented(m, base, np.column_stack([np.ones(n), t]), n_pre, spec)
    level, slope = fit.params[base.shape[1] :]
    level_p, slope_p = fit.pvalues[base.shape[1] :]
    params = {
        "level_change": float(level),
        "level_change_p": float(level_p),
        "slope_change": float(slope),
        "slope_change_p": float(slope_p),
        "pre_slope": float(fit.params[1]),
        "hac_lags": newey_west_lags(n),
    }
    description = (
        f"interrupted time series on {'log ' if spec.log else ''}sales: linear trend"
        f"{f', seasonal period {spec.seasonal:g}' if spec.seasonal else ''}, level and slope change at the "
        f"incident; OLS with Newey-West errors ({newey_west_lags(n)} lags). Weaker than a design with "
        f"controls: it assumes the pre-trend would have continued; bands: confidence bands of the counterfactual"
    )
    return Counterfactual(
        _to_sales(mean[n_pre:], spec.log),
        _to_sales(draws, spec.log),
        _to_sales(mean[:n_pre], spec.log),
        description,
        params,
        band="confidence",
    )
