"""Bayesian-structural-time-series-style counterfactual on statsmodels' ``UnobservedComponents``.

The CausalImpact recipe (Brodersen et al. 2015, Ann. Appl. Stat. 9:247) fitted by maximum
likelihood on the pre-period only:

* ``y`` (or ``log y``) and the controls are standardised with their pre-period mean and s.d.;
* ``y_t = mu_t [+ gamma_t] + x_t' beta_t + eps_t``: a local level ``mu_t = mu_(t-1) + eta_t``
  (or a local linear trend), an optional seasonal pattern (fixed, or changing
  on long histories: :mod:`.select`), and the controls as regressors whose
  coefficients are *states* (``mle_regression=False``), so their uncertainty reaches the forecast;
* the level s.d. is estimated by maximum likelihood (``level_sd=None``, the default) or fixed
  (e.g. 0.01 in standardised units, R's ``prior.level.sd``);
* with ``spec.auto`` the trend and seasonal terms are chosen from the pre-period (:mod:`.select`);
* post-period paths are simulated from the filtered state at the end of the pre-period
  (``simulate(anchor="end")``, Durbin & Koopman 2012 ch. 4), observation noise included, and their
  deviations from the forecast mean stretched by ``t_(0.975, df) / z_0.975`` (:func:`t_factor`:
  the variances are estimated, not known); in logs they are exponentiated path by path. The point path
  is the forecast mean (``exp(m + v/2)`` in logs).
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
from scipy import stats

from .effect import Counterfactual
from .select import choose, fit_structural, spec_label
from .spec import ModelSpec, n_states, standardise, standardise_columns  # noqa: F401  (n_states re-exported)


def degrees_of_freedom(res) -> int:
    """Pre-period periods left after the diffuse burn-in and the estimated variances: ``n - b - k`` (at least 1)."""
    estimated = len(res.params) - len(getattr(res, "fixed_params", None) or ())
    return max(int(res.nobs) - int(res.loglikelihood_burn) - estimated, 1)


def t_factor(df: int) -> float:
    """``t_(0.975, df) / z_0.975``: the simulated deviations from the forecast mean are stretched by this factor, the
    Student-t allowance for variances estimated from ``df`` periods (plug-in maximum likelihood ignores it;
    cf. Harvey 1989 sec. 3.5 and the t-based prediction intervals of regression). 1.02 at df = 66, 1.12 at df = 11."""
    return float(stats.t.ppf(0.975, df) / stats.norm.ppf(0.975))


def _simulate(res, h: int, exog, spec: ModelSpec) -> np.ndarray:
    rng = np.random.default_rng(spec.seed)
    seed_kw = "rng" if "rng" in inspect.signature(res.simulate).parameters else "random_state"  # statsmodels < 0.15
    sims = res.simulate(h, repetitions=spec.repetitions, anchor="end", exog=exog, **{seed_kw: rng})
    return np.asarray(sims).reshape(h, spec.repetitions)


def structural_counterfactual(
    y: np.ndarray, controls: np.ndarray | None, n_pre: int, spec: ModelSpec
) -> Counterfactual:
    """Counterfactual of ``y[n_pre:]`` from a structural model fitted on ``y[:n_pre]`` (see the module docstring).

    ``controls`` is ``(n, k)`` or None; values must be finite (and ``y`` positive with ``spec.log``).
    """
    h = int(len(y) - n_pre)  # a numpy integer would be read as a date index by get_forecast
    x = None if controls is None or controls.shape[1] == 0 else standardise_columns(controls, n_pre)
    choice = None
    if spec.auto:
        spec, res, converged, choice, z, unscale = choose(y, x, n_pre, spec)
    else:
        z, unscale = standardise(y, n_pre, spec.log, "sales")
        res, converged = fit_structural(z[:n_pre], None if x is None else x[:n_pre], spec)
    notes = []
    if not converged:
        notes.append("the maximum-likelihood fit did not fully converge; compare with a fixed level s.d.")
    exog_post = None if x is None else x[n_pre:]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        forecast = res.get_forecast(h, exog=exog_post)
        df = degrees_of_freedom(res)
        centre = np.asarray(forecast.predicted_mean)[:, None]
        draws = unscale(centre + t_factor(df) * (_simulate(res, h, exog_post, spec) - centre), None)
        point = unscale(np.asarray(forecast.predicted_mean), np.asarray(forecast.var_pred_mean))
        fitted = unscale(np.asarray(res.fittedvalues), None)
    fitted[: res.loglikelihood_burn] = np.nan
    params = {name: float(v) for name, v in zip(res.model.param_names, res.params, strict=True)}
    params["level_sd"] = float(np.sqrt(params["sigma2.level"]))
    if x is not None:
        betas = res.filtered_state[-x.shape[1] :, -1]
        params.update({f"beta.{i + 1}": float(b) for i, b in enumerate(betas)})
    level = "fixed at" if spec.level_sd is not None else "estimated (maximum likelihood):"
    parts = [spec_label(spec).replace(" + seasonal", ", seasonal period")]
    if x is not None:
        parts.append(f"{x.shape[1]} control{'s' if x.shape[1] != 1 else ''} with state coefficients")
    description = (
        f"structural time series ({', '.join(parts)}) on {'log ' if spec.log else ''}sales standardised with "
        f"pre-period moments; level s.d. {level} {params['level_sd']:.4g} (standardised units); "
        f"{spec.repetitions} simulated paths, spread widened {t_factor(df):.3g}x for estimated variances (Student t, "
        f"{df} degrees of freedom)"
    )
    if choice is not None:
        description += "; specification chosen from the pre-period data"
    return Counterfactual(
        point, draws, fitted, description, params, tuple(notes), band="prediction", spec=spec, choice=choice
    )
