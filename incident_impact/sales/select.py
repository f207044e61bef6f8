"""The structural model's specification chosen from the pre-period data.

Candidates: local level, or local level with a drift (a random walk with a fixed slope, statsmodels'
``rwdrift``: one variance fewer than a local linear trend, whose stochastic slope short histories
rarely support), each with and without the seasonal term of the data's frequency, on sales or on log
sales (only the options left automatic vary; an option the user gave is kept). Every candidate is
fitted by maximum likelihood on the pre-period (level variance estimated unless given) and scored by
Akaike's criterion on the one-step-ahead *predictive* log-likelihood of the sales over a common sample:

``AIC_m = -2 sum_(t >= b) [log p_m(z_t | z_1..z_(t-1)) + log |dz_t/dy_t|] + 2 k_m``

with ``z`` the standardised (log) sales, ``log |dz/dy|`` the Jacobian that puts level and log
models on the sales scale (:func:`.spec.log_jacobian`), ``b`` the largest diffuse burn-in of the
candidates (the first ``b`` periods only initialise the states, so every model is scored on the
same periods) and ``k_m`` the number of estimated variances (Akaike 1974; Harvey 1989 sec. 5.5:
prediction-error decomposition). The lowest wins; a candidate is considered only when the
pre-period has room for it (:func:`.spec.structural_minimum`, which includes two seasonal cycles).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from .spec import ModelSpec, log_jacobian, standardise, structural_minimum


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
    return f"log sales: {text}" if spec.log else text


def seasonal_kwargs(spec: ModelSpec) -> dict:
    if spec.seasonal is None:
        return {}
    if float(spec.seasonal).is_integer():
        return {"seasonal": int(spec.seasonal)}
    return {"freq_seasonal": [{"period": float(spec.seasonal), "harmonics": spec.harmonics}]}


_LEVELS = {(False, False): "llevel", (False, True): "llevel", (True, False): "lltrend", (True, True): "rwdrift"}


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
    seasons = (None, spec.seasonal) if "seasonal" in spec.auto and spec.seasonal is not None else (spec.seasonal,)
    logs = (False, True) if "log" in spec.auto else (spec.log,)
    drift = "trend" in spec.auto  # the automatic slope is a fixed drift: one variance fewer than a local linear trend
    return [
        replace(spec, trend=t, seasonal=s, log=g, drift=t and drift, auto=())
        for g in logs
        for s in seasons
        for t in trends
    ]


def choose(y: np.ndarray, x: np.ndarray | None, n_pre: int, spec: ModelSpec):
    """``(concrete spec, fitted results, converged, SpecChoice, z, unscale)`` for an automatic ``spec`` (module
    docstring); ``x`` are the standardised controls, ``z, unscale`` as :func:`.spec.standardise` for the winner."""
    k = 0 if x is None else x.shape[1]
    x_pre = None if x is None else x[:n_pre]
    options = [c for c in candidates(spec) if not (c.log and "log" in spec.auto) or (y > 0).all()]
    usable = [c for c in options if n_pre >= structural_minimum(c, k)] or options[:1]
    scales = {log: standardise(y, n_pre, log, "sales") for log in {c.log for c in usable}}
    jacobians = {log: log_jacobian(y[:n_pre], n_pre, log) for log in scales}
    fits = {spec_label(c): (c, *fit_structural(scales[c.log][0][:n_pre], x_pre, c)) for c in usable}
    burn = max(res.loglikelihood_burn for _, res, _ in fits.values())
    scores = {}
    for label, (c, res, _) in fits.items():
        llf = np.asarray(res.llf_obs)[burn:] + jacobians[c.log][burn:]
        scores[label] = -2 * float(llf.sum()) + 2 * len(res.params) if np.isfinite(llf).all() else float("inf")
    best = min(scores, key=lambda lab: (scores[lab], list(scores).index(lab)))
    c, res, converged = fits[best]
    all_scores = {spec_label(o): scores.get(spec_label(o)) for o in options}
    others = [f"{lab} {s:.1f}" for lab, s in scores.items() if lab != best and np.isfinite(s)]
    skipped = [spec_label(o) for o in options if spec_label(o) not in scores]
    reason = (
        f"{best} chosen from the pre-period data: lowest AIC of one-step-ahead predictions "
        f"({scores[best]:.1f}"
        + (f"; {', '.join(others)}" if others else "")
        + ")"
        + (f"; not tried, too little history: {', '.join(skipped)}" if skipped else "")
    )
    if len(scores) == 1:
        reason = f"{best}: the only candidate the pre-period has room for" + (
            f" (not tried: {', '.join(skipped)})" if skipped else ""
        )
    return (c, res, converged, SpecChoice(best, all_scores, reason), *scales[c.log])
