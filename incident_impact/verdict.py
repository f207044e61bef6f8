"""Did the incident change the stock? Significance, equivalence and the smallest detectable effect.

A non-significant CAR is not evidence of no effect when the test had no power, so each window
gets one of four verdicts:

* ``significant harm`` / ``significant gain`` — the two-sided t-test rejects CAR = 0;
* ``no material effect`` — two one-sided tests (TOST; Schuirmann 1987) reject |CAR| >= bound,
  i.e. the ``1 - 2 alpha`` confidence interval lies inside (-bound, +bound);
* ``inconclusive`` — neither: the data are too noisy to tell.

The minimum detectable effect (MDE) is the smallest |CAR| that the two-sided level-``alpha``
t-test detects with probability ``power``: the ``delta`` solving
``P(|T'| > t_crit) = power`` with ``T'`` noncentral t (df, ``delta / SE``); for large df it
approaches ``(z_(1-alpha/2) + z_power) SE`` (e.g. 2.80 SE at 5 % and 80 %).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .distributions import nct_cdf, t_cdf, t_ppf, t_sf
from .errors import IncidentImpactError

HARM, GAIN, NO_EFFECT, INCONCLUSIVE = "significant harm", "significant gain", "no material effect", "inconclusive"
#: The class a multi-incident study gives an incident whose headline window also holds other news
#: that can move the stock by itself (it is counted apart from the four verdicts above).
CONFOUNDED = "confounded"
#: The class of a sales verdict whose model fails its own validation (in-time placebos; see
#: :mod:`incident_impact.sales.gate`): the number is shown, but no verdict is drawn from it.
UNRELIABLE = "unreliable model"
VERDICT_TEXT = {
    HARM: "significant harm",
    GAIN: "significant gain",
    NO_EFFECT: "no material effect (equivalence shown)",
    INCONCLUSIVE: "inconclusive (too noisy to tell)",
    CONFOUNDED: "confounded (other news in the window)",
    UNRELIABLE: "unreliable model (it fails its placebo check)",
}
DEFAULT_BOUND = 0.02
#: The window every headline speaks about (``analyze``, ``study``, reports): day 0 and day +1.
HEADLINE_WINDOW: tuple[int, int] = (0, 1)


def minimum_detectable_effect(se: float, df: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest |CAR| found by the two-sided level-``alpha`` t-test with probability ``power``.

    Solves ``nct.sf(c, df, d) + nct.cdf(-c, df, d) = power`` for the noncentrality ``d``,
    ``c = t_(1-alpha/2, df)``, and returns ``d * se``.
    """
    if se <= 0 or df <= 0:
        raise IncidentImpactError("the MDE needs a positive standard error and degrees of freedom")
    return float(_noncentrality(df, alpha, power) * se)


@lru_cache(maxsize=256)
def _noncentrality(df: float, alpha: float, power: float) -> float:
    """The noncentrality ``d`` of :func:`minimum_detectable_effect`: it depends on ``df`` only, not on the
    standard error, so the windows and specifications of one incident (a few distinct ``df``) share one
    bisection each instead of solving it again per window (a tenth of a second per ``analyze``)."""
    crit = t_ppf(1 - alpha / 2, df)

    def gap(d: float) -> float:
        return 1 - nct_cdf(crit, df, d) + nct_cdf(-crit, df, d) - power

    lo, hi = 0.0, crit + 1.0
    while gap(hi) < 0:  # widen the bracket; nct is NaN for very large noncentralities
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-12:  # bisection: the power rises with d (no scipy.optimize import on this path)
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    return (lo + hi) / 2


def tost_p_value(car: float, se: float, df: float, bound: float) -> float:
    """p-value of two one-sided t-tests of ``H0: |CAR| >= bound`` against ``|CAR| < bound``.

    ``max(P(T > (car + bound)/se), P(T < (car - bound)/se))`` with ``T ~ t(df)``.
    """
    if bound <= 0:
        raise IncidentImpactError(f"the materiality bound must be positive, got {bound}")
    lower = t_sf((car + bound) / se, df)
    upper = t_cdf((car - bound) / se, df)
    return float(max(lower, upper))


@dataclass(frozen=True)
class Verdict:
    """The verdict on one window's CAR."""

    car: float
    se: float
    df: float
    p_value: float
    bound: float
    tost_p_value: float
    mde: float
    alpha: float
    verdict: str

    @property
    def text(self) -> str:
        return VERDICT_TEXT[self.verdict]

    def to_dict(self) -> dict:
        return asdict(self) | {"text": self.text}


def judge(
    car: float,
    se: float,
    df: float,
    *,
    bound: float = DEFAULT_BOUND,
    alpha: float = 0.05,
    power: float = 0.8,
    p_value: float | None = None,
) -> Verdict:
    """Classify one CAR (see the module docstring); ``bound`` is a fraction (0.02 = 2 %).

    ``p_value`` replaces the two-sided t-test's p in the significance decision (e.g. a
    Benjamini-Hochberg adjusted p when many incidents are judged at once).
    """
    p = float(2 * t_sf(abs(car / se), df)) if p_value is None else float(p_value)
    tost = tost_p_value(car, se, df, bound)
    if p < alpha:
        verdict = HARM if car < 0 else GAIN
    elif tost < alpha:
        verdict = NO_EFFECT
    else:
        verdict = INCONCLUSIVE
    mde = minimum_detectable_effect(se, df, alpha=alpha, power=power)
    return Verdict(car, se, df, p, bound, tost, mde, alpha, verdict)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini & Hochberg (1995) adjusted p-values (false discovery rate).

    For the ``m`` non-missing p-values sorted ascending, ``q_(i) = min_(j >= i) min(1, m p_(j) / j)``;
    rejecting ``q < alpha`` controls the FDR at ``alpha`` for independent tests. NaNs stay NaN.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    adjusted = np.empty(m)
    adjusted[order] = q
    out[ok] = adjusted
    return out


def verdict_frame(
    cars: pd.DataFrame, *, bound: float = DEFAULT_BOUND, alpha: float = 0.05, adjust: bool = True
) -> pd.DataFrame:
    """Verdicts for many CARs at once (rows of ``car, se, df``: one window of a study, or the
    windows of one event), the one place where CAR rows become verdicts.

    Returns ``car, se, df, p_value`` (two-sided t), ``p_bh`` (Benjamini-Hochberg across the rows;
    only with ``adjust``, which then also makes the significance decision on it), ``tost_p_value``,
    ``mde`` and ``verdict``, with the rows' index.
    """
    car, se, df = (cars[c].to_numpy() for c in ("car", "se", "df"))
    p = 2 * t_sf(np.abs(car / se), df)
    q = benjamini_hochberg(p) if adjust else np.full(len(cars), np.nan)
    # :func:`judge` on every row, as arrays (the same ufuncs element by element, so the same numbers): one
    # DataFrame per call instead of a Verdict and a few scalar calls per row (an analyze makes ~50 calls)
    tost = _tost_p_values(car, se, df, bound)
    decisive = q if adjust else p
    verdict = np.where(decisive < alpha, np.where(car < 0, HARM, GAIN), np.where(tost < alpha, NO_EFFECT, INCONCLUSIVE))
    mde = [minimum_detectable_effect(s, d, alpha=alpha) for s, d in zip(se.tolist(), df.tolist(), strict=True)]
    columns = {"car": car, "se": se, "df": df, "p_value": p}
    columns |= {"p_bh": q} if adjust else {}
    columns |= {"tost_p_value": tost, "mde": mde, "verdict": verdict.tolist()}
    return pd.DataFrame(columns, index=cars.index)


def _tost_p_values(car: np.ndarray, se: np.ndarray, df: np.ndarray, bound: float) -> np.ndarray:
    """:func:`tost_p_value` of each element (``max`` as Python's: the second when it is larger, else the first)."""
    if bound <= 0:
        raise IncidentImpactError(f"the materiality bound must be positive, got {bound}")
    lower = t_sf((car + bound) / se, df)
    upper = t_cdf((car - bound) / se, df)
    return np.where(upper > lower, upper, lower)
