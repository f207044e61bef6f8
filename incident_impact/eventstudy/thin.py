"""Market models with betas corrected for thin (non-synchronous) trading: ``scholes-williams`` and ``dimson``.

A stock that trades rarely (small caps, many non-US listings) records prices that lag the market:
its return on day ``t`` partly reflects the market's move of day ``t - 1``, and the OLS slope of
``R_t`` on ``R_m,t`` is biased towards zero (Scholes & Williams 1977; Dimson 1979). Both
estimators below use the estimation window's returns only, pairing each day with its neighbours
*inside* the window (one pair per lead/lag is lost at each edge); ``t - 1`` means the previous joined
session.

Scholes-Williams (1977, eq. 14)::

    beta_SW  = (b_-1 + b_0 + b_+1) / (1 + 2 rho_m)
    alpha_SW = mean(R) - beta_SW mean(R_m)

with ``b_k`` the OLS slope of ``R_t`` on ``R_m,t+k`` (a simple regression with a constant: ``b_-1``
the lagged, ``b_+1`` the leading market return) and ``rho_m`` the first-order autocorrelation of the
market return, the Pearson correlation of the pairs ``(R_m,t, R_m,t-1)``; means are over the window.

Dimson (1979), aggregated coefficients with ``k`` leads and lags (``k = 1``, the usual choice for
daily data and Dimson's own recommendation for a lag structure this short)::

    R_t = a + sum_{j=-k..k} b_j R_m,t+j + e_t     (one OLS regression, days k+1 .. n-k)
    beta_D  = sum_j b_j
    alpha_D = mean(R) - beta_D mean(R_m)

The intercept follows Scholes & Williams' convention for both models, so the estimation-window
abnormal returns average zero.

Abnormal returns use the corrected beta on the same day's market return,
``AR_t = R_t - alpha - beta R_m,t``, as Scholes-Williams betas are used in event-study software
(Eventus; Cowan 1992's documentation). Dimson's full distributed-lag prediction
``a + sum_j b_j R_m,t+j`` was not chosen: it needs the market's return *after* the event window's
last day and it is not the beta correction the model is named for.

Variance: ``sigma^2 = sum(AR_t^2) / (n - 2)`` over the estimation window's ARs and
``Var(CAR) = sigma^2 (L + g' (X'X)^-1 g)`` with ``X = [1, R_m]`` — CLM's correction for the
estimation error of ``(alpha, beta)`` written with the OLS ``(X'X)^-1``: an approximation here,
since the corrected beta's sampling variance is somewhat larger than OLS's. The autocorrelation of
thin-trading ARs across days is not modelled (as in the event-study software that offers these
models). Degrees of freedom ``n - 2``.
"""

from __future__ import annotations

import numpy as np

from .models import FittedModel, ModelFitError, NormalReturnModel, fit_ols


def _slope(y: np.ndarray, x: np.ndarray) -> float:
    """OLS slope of ``y`` on ``x`` with a constant."""
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))


def scholes_williams(y: np.ndarray, x: np.ndarray) -> tuple[float, float, dict[str, float]]:
    """``(alpha_SW, beta_SW, {b_lag, b_0, b_lead, rho_m})`` from the stock returns ``y`` and market
    returns ``x`` of one window in date order (module docstring)."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    if len(y) < 4:
        raise ModelFitError(f"the Scholes-Williams beta needs at least 4 estimation returns, not {len(y)}")
    b_lag = _slope(y[1:], x[:-1])
    b_0 = _slope(y, x)
    b_lead = _slope(y[:-1], x[1:])
    rho = float(np.corrcoef(x[1:], x[:-1])[0, 1])
    parts = {"b_lag": b_lag, "b_0": b_0, "b_lead": b_lead, "rho_m": rho}
    if not all(np.isfinite(v) for v in parts.values()):
        raise ModelFitError(
            "the Scholes-Williams beta is undefined: the market return does not vary across "
            "neighbouring days of the estimation window"
        )
    if abs(1 + 2 * rho) < 1e-8:
        raise ModelFitError(f"the Scholes-Williams beta is undefined: 1 + 2 rho_m = 0 (rho_m = {rho:.3g})")
    beta = (b_lag + b_0 + b_lead) / (1 + 2 * rho)
    return float(y.mean() - beta * x.mean()), float(beta), parts


def dimson(y: np.ndarray, x: np.ndarray, lags: int = 1) -> tuple[float, float, dict[str, float]]:
    """``(alpha_D, beta_D, {b_-k .. b_+k})``: Dimson's aggregated-coefficients beta with ``lags``
    leads and lags of the market return ``x`` (module docstring)."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    n, k = len(y), int(lags)
    if k < 0:
        raise ModelFitError(f"Dimson's number of lags must be >= 0, not {lags!r}")
    rows = n - 2 * k
    if rows < 2 * k + 3:
        raise ModelFitError(
            f"the Dimson beta with {k} lead(s) and lag(s) needs at least {4 * k + 3} estimation returns, not {n}"
        )
    design = np.column_stack([np.ones(rows)] + [x[k + j : n - k + j] for j in range(-k, k + 1)])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ModelFitError("the Dimson regression is singular (a constant or collinear market return)")
    coef, *_ = np.linalg.lstsq(design, y[k : n - k], rcond=None)
    slopes = coef[1:]
    beta = float(slopes.sum())
    names = [f"b_{j:+d}" if j else "b_0" for j in range(-k, k + 1)]
    return float(y.mean() - beta * x.mean()), beta, dict(zip(names, map(float, slopes), strict=True))


def fit_thin(model: NormalReturnModel, y: np.ndarray, X: np.ndarray) -> FittedModel:
    """Fit ``scholes-williams`` or ``dimson`` on the estimation rows ``y`` and ``X = [1, R_m]``."""
    y = np.asarray(y, dtype=float)
    if np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())):
        raise ModelFitError(
            f"the stock's {len(y)} estimation returns are constant: no variance for the "
            f"{model.name} model (stale prices?)"
        )
    ols = fit_ols(model, y, X)  # the shared checks (regular design, usable variance) and (X'X)^-1
    x = X[:, 1]
    if model.estimator == "scholes-williams":
        alpha, beta, parts = scholes_williams(y, x)
    else:
        alpha, beta, parts = dimson(y, x, model.lags)
    params = np.array([alpha, beta])
    resid = y - X @ params
    n = len(y)
    sigma2 = float(resid @ resid / (n - 2))
    centred = y - y.mean()
    r2 = float(1 - resid @ resid / (centred @ centred))
    extra = tuple((name, value, float("nan")) for name, value in parts.items())
    return FittedModel(model, params, sigma2, n - 2, ols.xtx_inv, n, r2, extra=extra)
