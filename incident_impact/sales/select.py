"""The structural model's specification chosen from the pre-period data.

Candidates: local level, or local level with a drift (a random walk with a fixed slope plus
observation noise, statsmodels' ``lldtrend``: one variance fewer than a local linear trend, whose
stochastic slope short histories rarely support), each with and without the seasonal term of the
data's frequency, on sales or on log sales (only the options left automatic vary; an option the user
gave is kept). Every candidate is fitted by maximum likelihood on the pre-period (level variance
estimated unless given) and scored by Akaike's criterion on the one-step-ahead *predictive*
log-likelihood of the sales over a common sample:

``AIC_m = -2 sum_(t >= b) [log p_m(z_t | z_1..z_(t-1)) + log |dz_t/dy_t|] + 2 k_m``

with ``z`` the standardised (log) sales, ``log |dz/dy|`` the Jacobian that puts level and log
models on the sales scale (:func:`.spec.log_jacobian`), ``b`` the largest diffuse burn-in of the
candidates (the first ``b`` periods only initialise the states, so every model is scored on the
same periods) and ``k_m`` the number of estimated variances (Akaike 1974; Harvey 1989 sec. 5.5:
prediction-error decomposition). A drift is scored as a parameter (``k_m`` + 1), not as a diffuse
state: by the candidate without drift fitted to ``z_t - d t``, ``d`` the drift model's estimate
(:func:`drift_profile`), so that the criterion charges it Akaike's 2 points rather than the cost of
learning it from the first periods, which grows like ``log n`` and kept real drifts out (random walk
with drift 0.3 %/week, steps 1 %, noise 2 %, 78 weeks: drift chosen in 2 of 16 battery series; the flat
forecast made 20 % of no-effect fits 26 weeks ahead "significant", the drift model 0 %). The forecast
uses the drift model itself (the drift a diffuse state, its uncertainty in the paths).

A candidate is considered only when the pre-period has room for it (:func:`.spec.structural_minimum`,
which includes two seasonal cycles). Candidates within :data:`AIC_MARGIN` (2) of the lowest AIC are
not told apart by the data (Burnham & Anderson 2002, sec. 2.6); among them the choice is no drift
before a drift, then no seasonal term before one, then (for a drift) log sales before sales, then the
lowest AIC. Simpler first: a drift then needs a likelihood-ratio statistic above about 4 (``p < 0.05``),
as a test of it would. Log sales for a drift: one-step predictions hardly see the curvature that tells
compound from linear growth, while extrapolating a straight line through compound growth invents a
gain (no-effect monthly trends, 36 months, 12 ahead: 20 % "significant" by the lowest AIC, 4 % in logs);
without a drift the two scales extrapolate alike and the AIC decides (preferring logs there too cut the
vignette-process coverage to 90 %: controls enter linearly).

The seasonal term is a fixed pattern (``s - 1`` seasonal states without disturbance), or a changing
one (a seasonal variance too) only when the pre-period holds :data:`CHANGING_SEASON_CYCLES` (6) cycles:
on fewer, maximum likelihood cannot separate a changing pattern from noise, puts the noise into the
seasonal variance and makes the intervals of the post-period sum too narrow (simulation, monthly
compound trend with a fixed pattern, 12 months ahead: 15, 12, 12 and 5 % of no-effect fits
"significant" with the seasonal variance on 24, 36, 48 and 72 months; 6 % on 24 months with the
pattern fixed).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from .spec import ModelSpec, log_jacobian, standardise, structural_minimum

#: AIC differences this small do not tell candidates apart (module docstring).
AIC_MARGIN = 2.0
#: Seasonal cycles the pre-period must hold before a changing seasonal pattern is a candidate (module docstring).
CHANGING_SEASON_CYCLES = 6


@dataclass(frozen=True)
class SpecChoice:
    """Which specification the data chose: ``chosen`` (a label), ``scores`` (label -> AIC, lowest best,
    None when the pre-period was too short for it) and ``reason`` (one sentence)."""

    chosen: str
    scores: dict
    reason: str

    def to_dict(self) -> dict:
        return {
            "chosen": self.chosen,
            "reason": self.reason,
            "aic": {k: (None if v is None else round(float(v), 3)) for k, v in self.scores.items()},
        }


def spec_label(spec: ModelSpec) -> str:
    """``local level``, ``local level with drift``, ``local linear trend``, ``... + seasonal 12``,
    ``log sales: ...``."""
    text = ("local level with drift" if spec.drift else "local linear trend") if spec.trend else "local level"
    text += f" + seasonal {spec.seasonal:g}" if spec.seasonal is not None else ""
    text += " (changing)" if spec.seasonal is not None and spec.changing_season else ""
    return f"log sales: {text}" if spec.log else text


def seasonal_kwargs(spec: ModelSpec) -> dict:
    """statsmodels' arguments for the fixed seasonal pattern of ``spec`` (dummies, or trigonometric pairs
    for a non-integer period); none without a seasonal term."""
    if spec.seasonal is None:
        return {}
    if float(spec.seasonal).is_integer():
        return {"seasonal": int(spec.seasonal), "stochastic_seasonal": spec.changing_season}
    return {
        "freq_seasonal": [{"period": float(spec.seasonal), "harmonics": spec.harmonics}],
        "stochastic_freq_seasonal": [spec.changing_season],
    }


_LEVELS = {(False, False): "llevel", (False, True): "llevel", (True, False): "lltrend", (True, True): "lldtrend"}


def fit_structural(z_pre: np.ndarray, x_pre: np.ndarray | None, spec: ModelSpec):
    """Maximum-likelihood fit of one structural model on the standardised pre-period: ``(results, converged)``."""
    model = sm.tsa.UnobservedComponents(
        z_pre, level=_LEVELS[spec.trend, spec.drift], exog=x_pre, mle_regression=False, **seasonal_kwargs(spec)
    )
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        if spec.level_sd is None:
            res = model.fit(disp=False)
        else:
            res = model.fit_constrained({"sigma2.level": spec.level_sd**2}, disp=False)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return res, converged


def candidates(spec: ModelSpec) -> list[ModelSpec]:
    """The concrete specifications ``spec.auto`` leaves open (simplest first)."""
    trends = (False, True) if "trend" in spec.auto else (spec.trend,)
    seasons = (
        ((None, False), (spec.seasonal, False), (spec.seasonal, True))
        if "seasonal" in spec.auto and spec.seasonal is not None
        else ((spec.seasonal, spec.changing_season),)
    )
    logs = (False, True) if "log" in spec.auto else (spec.log,)
    drift = "trend" in spec.auto  # the automatic slope is a fixed drift: one variance fewer than a local linear trend
    return [
        replace(spec, trend=t, seasonal=s, changing_season=changing, log=g, drift=t and drift, auto=())
        for g in logs
        for s, changing in seasons
        for t in trends
    ]


def _simplicity(spec: ModelSpec) -> tuple[bool, bool, bool]:
    """Order among candidates the data do not tell apart: no drift, no seasonal term, log sales with a drift."""
    return spec.trend, spec.seasonal is not None, spec.trend and not spec.log


def drift_profile(z_pre: np.ndarray, x_pre: np.ndarray | None, spec: ModelSpec, res):
    """The drift model ``spec`` scored with its drift as a parameter: ``spec`` without drift fitted to
    ``z_t - b t``, ``b`` the drift's generalised-least-squares estimate in ``res`` (its smoothed state), the
    variances re-estimated (module docstring)."""
    drift = float(np.asarray(res.smoothed_state)[1, -1])
    return fit_structural(z_pre - drift * np.arange(len(z_pre)), x_pre, replace(spec, trend=False, drift=False))[0]


def choose(y: np.ndarray, x: np.ndarray | None, n_pre: int, spec: ModelSpec):
    """``(concrete spec, fitted results, converged, SpecChoice, z, unscale)`` for an automatic ``spec`` (module
    docstring); ``x`` are the standardised controls, ``z, unscale`` as :func:`.spec.standardise` for the winner."""
    k = 0 if x is None else x.shape[1]
    x_pre = None if x is None else x[:n_pre]
    options = [c for c in candidates(spec) if not (c.log and "log" in spec.auto) or (y > 0).all()]
    usable = [
        c
        for c in options
        if n_pre >= structural_minimum(c, k)
        and not (c.changing_season and n_pre < CHANGING_SEASON_CYCLES * float(c.seasonal or 0))
    ] or options[:1]
    scales = {log: standardise(y, n_pre, log, "sales") for log in {c.log for c in usable}}
    jacobians = {log: log_jacobian(y[:n_pre], n_pre, log) for log in scales}
    fits = {spec_label(c): (c, *fit_structural(scales[c.log][0][:n_pre], x_pre, c)) for c in usable}
    scored = {
        label: drift_profile(scales[c.log][0][:n_pre], x_pre, c, res) if c.drift else res
        for label, (c, res, _) in fits.items()
    }
    burn = max(res.loglikelihood_burn for res in scored.values())
    scores = {}
    for label, res in scored.items():
        c = fits[label][0]
        llf = np.asarray(res.llf_obs)[burn:] + jacobians[c.log][burn:]
        k = len(res.params) + c.drift
        scores[label] = -2 * float(llf.sum()) + 2 * k if np.isfinite(llf).all() else float("inf")
    lowest = min(scores, key=lambda lab: (scores[lab], list(scores).index(lab)))
    near = [lab for lab in scores if scores[lab] <= scores[lowest] + AIC_MARGIN]
    best = min(near, key=lambda lab: (*_simplicity(fits[lab][0]), scores[lab]))
    c, res, converged = fits[best]
    all_scores = {spec_label(o): scores.get(spec_label(o)) for o in options}
    others = [f"{lab} {s:.1f}" for lab, s in scores.items() if lab != best and np.isfinite(s)]
    skipped = [spec_label(o) for o in options if spec_label(o) not in scores]
    reason = (
        f"{best} chosen from the pre-period data: "
        + ("lowest AIC" if best == lowest else f"simplest within {AIC_MARGIN:g} of the lowest AIC")
        + f" of one-step-ahead predictions ({scores[best]:.1f}"
        + (f"; {', '.join(others)}" if others else "")
        + ")"
        + (f"; not tried, too little history: {', '.join(skipped)}" if skipped else "")
    )
    if len(scores) == 1:
        reason = f"{best}: the only candidate the pre-period has room for" + (
            f" (not tried: {', '.join(skipped)})" if skipped else ""
        )
    return (c, res, converged, SpecChoice(best, all_scores, reason), *scales[c.log])
