"""The market model with GARCH(1,1) or EGARCH(1,1) errors (models ``garch`` and ``egarch``).

Model (Bollerslev 1986; Nelson 1991), fitted by Gaussian maximum likelihood on the estimation
window with Kevin Sheppard's ``arch`` (``arch_model(y, x=R_m, mean="LS", dist="normal")``)::

    R_t = alpha + beta R_m,t + e_t,   e_t = sqrt(h_t) z_t,   z_t ~ N(0, 1)
    garch:   h_t = omega + alpha1 e_{t-1}^2 + beta1 h_{t-1}
    egarch:  ln h_t = omega + alpha1 (|z_{t-1}| - sqrt(2/pi)) + gamma1 z_{t-1} + beta1 ln h_{t-1}

EGARCH keeps Nelson's asymmetric (leverage) term ``gamma1`` (arch's ``o=1``): without it the model
is a symmetric log-GARCH, and the asymmetry is what EGARCH is chosen for. Software offering these
models in event studies: EventStudyTools (ARC), Stata's eventstudy2, R's EventStudy.

Event window (days after the estimation window, which ends ``T``):

* ``AR_t = R_t - (alpha + beta R_m,t)`` with the ML estimates;
* ``Var(AR_t) = h_{T+s|T} + x_t' V x_t`` with ``s`` the number of sessions from ``T`` to ``t``
  (e.g. 11 for day 0 under the default estimation window [-250,-11]), ``h_{T+s|T}`` arch's
  ``s``-step variance forecast from the end of the estimation window (``forecast(horizon=s)``),
  ``x_t = (1, R_m,t)`` and ``V`` arch's covariance of ``(alpha, beta)`` (robust, Bollerslev &
  Wooldridge 1992). Event-window days are out of sample: nothing after ``T`` enters the forecast
  (the days between the estimation window and the event window are skipped, as the ARs of the
  event are not used to predict their own variance). GARCH(1,1) forecasts are analytic; EGARCH
  has none beyond one step, so its forecasts are arch's simulation forecasts
  (:data:`SIMULATIONS` paths with a fixed seed: the same data give the same numbers);
* ``Var(CAR) = sum_t h_{T+s_t|T} + g' V g``, ``g`` the sum of the window's ``x_t``: the forecast
  variances plus the uncertainty of the estimated mean parameters (the GARCH analogue of CLM's
  ``sigma^2 g' (X'X)^-1 g``). The uncertainty of the variance parameters (``omega``, ``alpha1``,
  ...) in the forecasts is not included;
* the t-test is ``CAR / sqrt(Var(CAR))`` (the standardised CAR) against Student's t with
  ``n - 5`` (GARCH) or ``n - 6`` (EGARCH) degrees of freedom, practically the normal.

Returns are fitted in percent (x 100: arch's optimiser prefers variances near 1) and every number
is converted back to decimals: ``alpha``, ``omega`` (GARCH: ``/ 100^2``; EGARCH:
``omega - (1 - beta1) ln 100^2``, the log-variance intercept in decimals) and the forecasts.

Validation (``validation/models_sim.py`` -> ``validation/models_results.md``, part A): on simulated
GARCH(1,1) errors (alpha1 + beta1 = 0.98) with day 0 after a high-variance origin (the day -10
conditional variance above the stationary 90th percentile), the standardised-CAR test rejects
4.25 / 4.1 % of true nulls at 5 % ([0,0] / [0,+1]; MC s.e. 0.6 pp) where the OLS market model rejects
13-14 %; the oracle that divides the true errors by the true ``E_T h_(T+s)`` rejects 4.5-4.8 %. The
remaining conservatism (sd(t) 0.93-0.94 against the oracle's 0.97) is the small-sample bias of the
ML persistence: windows that end in a volatility burst give ``alpha1 + beta1`` near 1 (median
0.989, 48 % of fits at 0.99 or more), so the 11-12-step forecasts revert too slowly and average
16 % above the true forecast. A longer estimation window reduces it (``estimation=(-500, -11)``:
forecasts ~10 % high in a side run of 800 events); arch 8 offers no variance-targeting GARCH. A
4-6 % size is not reachable when day 0 is picked with hindsight (the path-wide top decile of the
day -10 variance, part A's *high volatility* rows): there the oracle itself rejects 2.7-2.8 %,
because the selection favours days after which volatility falls faster than any forecast from the
estimation window can know; the model rejects 3.1-3.6 %.

Failures (a :class:`~.models.ModelFitError` naming the reason; ``run_study`` lists the event in
``failures``), never a number from a bad fit: fewer than :data:`MIN_OBS` estimation returns; the
optimiser did not converge; non-finite estimates or covariance; a degenerate fit whose variance
path is held up by arch's numerical variance bounds (detected when arch's one-step forecast
disagrees by more than :data:`CONSISTENCY_RTOL` with the model's recursion from its own last
conditional variance: seen with EGARCH fits whose recursion collapses to ~1e-32); a non-finite or
non-positive forecast. The OLS checks run first (a constant benchmark, constant prices).
"""

from __future__ import annotations

import warnings

import numpy as np

from .models import FittedModel, ModelFitError, NormalReturnModel, fit_ols

#: Fewest estimation returns a GARCH model is fitted on (the default window has 240).
MIN_OBS = 100
#: Simulated paths of EGARCH's multi-step variance forecasts, and their seed.
SIMULATIONS = 5000
SEED = 20240516
#: Returns are fitted in percent.
SCALE = 100.0
#: Relative disagreement between arch's one-step forecast and the recursion from the fitted path
#: beyond which the fit is called degenerate.
CONSISTENCY_RTOL = 0.1


def arch_spec(model: NormalReturnModel, y: np.ndarray, x: np.ndarray):
    """The ``arch`` model of ``model`` on percent returns ``y`` (stock) and ``x`` (benchmark), as
    :func:`fit_garch` fits it (exposed so that tests can fit arch directly on the same data)."""
    from arch import arch_model

    egarch = model.estimator == "egarch"
    return arch_model(
        y,
        x=np.asarray(x, dtype=float).reshape(-1, 1),
        mean="LS",
        vol="EGARCH" if egarch else "GARCH",
        p=1,
        o=1 if egarch else 0,
        q=1,
        dist="normal",
        rescale=False,
    )


def fit_garch(model: NormalReturnModel, y: np.ndarray, X: np.ndarray, horizon: int) -> FittedModel:
    """Fit ``model`` (``garch`` or ``egarch``) on the estimation rows ``y`` (returns) and ``X``
    (``[1, R_m]``) and forecast the AR variance ``1..horizon`` sessions ahead; see the module docstring."""
    name = model.name
    n = len(y)
    if n < MIN_OBS:
        raise ModelFitError(f"the {name} model needs at least {MIN_OBS} estimation returns, not {n}")
    if np.ptp(y) <= 1e-12 * max(1.0, float(np.abs(y).max())):
        raise ModelFitError(f"the stock's {n} estimation returns are constant: no variance for the {name} model")
    ols = fit_ols(model, y, X)  # the shared checks: a regular design, a usable residual variance
    try:
        import arch  # noqa: F401
    except ImportError:  # pragma: no cover - arch is a dependency
        raise ModelFitError(f"the {name} model needs the arch package: pip install arch") from None
    egarch = model.estimator == "egarch"
    am = arch_spec(model, SCALE * np.asarray(y, dtype=float), SCALE * X[:, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arch's ConvergenceWarning / DataScaleWarning: checked below
        try:
            res = am.fit(disp="off", show_warning=False)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            raise ModelFitError(f"the {name} likelihood could not be maximised: {exc}") from None
    if res.convergence_flag != 0:
        message = getattr(res.optimization_result, "message", "")
        raise ModelFitError(f"the {name} fit did not converge on the estimation window ({message})")
    p = np.asarray(res.params, dtype=float)
    cov = np.asarray(res.param_cov, dtype=float)
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(cov))):
        raise ModelFitError(f"the {name} fit gave non-finite estimates or standard errors")
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    vol = p[2:]
    resid = np.asarray(res.resid, dtype=float)
    h = np.asarray(res.conditional_volatility, dtype=float) ** 2
    # arch's one-step forecast must follow the model's recursion from its own last variance; when it
    # does not, the fitted variance path leans on arch's variance bounds (a degenerate fit). (arch's
    # forecast restarts the recursion from a backcast of the final residuals, the fit from the starting
    # values' residuals: a small difference that dies out as beta1^n, hence the tolerance.)
    z = resid[-1] / np.sqrt(h[-1])
    if egarch:
        omega, a1, g1, b1 = vol
        one_step = float(np.exp(omega + a1 * (abs(z) - np.sqrt(2 / np.pi)) + g1 * z + b1 * np.log(h[-1])))
    else:
        omega, a1, b1 = vol
        one_step = float(omega + a1 * resid[-1] ** 2 + b1 * h[-1])
    steps = max(int(horizon), 1)
    x_future = np.zeros((1, steps))  # the variance forecast does not depend on the benchmark's future
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if egarch and steps > 1:
            gen = np.random.default_rng(SEED)
            fc = res.forecast(
                horizon=steps,
                reindex=False,
                x=x_future,
                method="simulation",
                simulations=SIMULATIONS,
                rng=lambda size: gen.standard_normal(size),
            )
        else:
            fc = res.forecast(horizon=steps, reindex=False, x=x_future)
    forecast = np.asarray(fc.variance, dtype=float)[-1]
    if not np.isclose(forecast[0], one_step, rtol=CONSISTENCY_RTOL, atol=0):
        raise ModelFitError(
            f"degenerate {name} fit (alpha1 = {a1:.3g}, beta1 = {b1:.3g}): its variance path is held up by "
            f"arch's numerical bounds (one-step forecast {forecast[0]:.3g} vs {one_step:.3g} from the recursion)"
        )
    if not (np.all(np.isfinite(forecast)) and np.all(forecast > 0)):
        raise ModelFitError(f"the {name} fit gave a non-finite or non-positive variance forecast")

    scale2 = SCALE**2
    mean = np.array([p[0] / SCALE, p[1]])
    mean_cov = cov[:2, :2] * np.array([[1 / scale2, 1 / SCALE], [1 / SCALE, 1.0]])
    omega_dec = omega - (1 - b1) * np.log(scale2) if egarch else omega / scale2
    omega_se = se[2] if egarch else se[2] / scale2
    names = ("omega", "alpha1", "gamma1", "beta1") if egarch else ("omega", "alpha1", "beta1")
    extra = (
        (names[0], float(omega_dec), float(omega_se)),
        *((nm, float(v), float(s)) for nm, v, s in zip(names[1:], vol[1:], se[3:], strict=True)),
    )
    y = np.asarray(y, dtype=float)
    e_dec = y - X @ mean
    centred = y - y.mean()
    r2 = float(1 - e_dec @ e_dec / (centred @ centred))
    return FittedModel(
        model,
        mean,
        float(e_dec @ e_dec / (n - 2)),
        n - len(p),
        ols.xtx_inv,
        n,
        r2,
        extra=extra,
        param_cov=mean_cov,
        variance_forecast=forecast / scale2,
    )
