"""Pooled evidence: a random-effects meta-analysis of the incidents' CARs over one window.

"Social-media disasters rarely affect the stock" is a claim about the *average* effect and about
how much incidents differ. Each incident ``i = 1..k`` gives ``y_i = CAR_i`` with its
(estimation-error-corrected) standard error ``s_i``, ``v_i = s_i^2``. The random-effects model
(DerSimonian & Laird 1986) is ``y_i = mu + u_i + e_i``, ``u_i ~ N(0, tau^2)`` (the incidents' true
effects differ), ``e_i ~ N(0, v_i)``.

Formulas (``w_i = 1 / v_i``; ``W = sum w_i``):

* fixed-effect mean ``y_FE = sum w_i y_i / W``; Cochran's ``Q = sum w_i (y_i - y_FE)^2`` with
  ``Q ~ chi^2(k - 1)`` under ``tau^2 = 0`` (its p-value is ``q_p_value``);
* ``tau^2`` by
  - **DL** (DerSimonian & Laird 1986): ``max(0, (Q - (k - 1)) / (W - sum w_i^2 / W))``;
  - **PM** (Paule & Mandel 1982; DerSimonian & Kacker 2007): the root of
    ``sum (y_i - mu(tau^2))^2 / (v_i + tau^2) = k - 1`` (0 when the left side is below ``k - 1`` at 0),
    solved by safeguarded Newton steps on a bracket;
  - **REML** (Viechtbauer 2005): the maximiser over ``tau^2 >= 0`` of the restricted log-likelihood
    ``l_R = -1/2 [sum log(v_i + tau^2) + log sum w*_i + sum w*_i (y_i - mu)^2]``, by Fisher scoring
    ``tau^2 <- tau^2 + (sum w*_i^2 (y_i - mu)^2 - tr P) / tr(P^2)`` with
    ``tr P = sum w* - sum w*^2 / sum w*``,
    ``tr P^2 = sum w*^2 - 2 sum w*^3 / sum w* + (sum w*^2 / sum w*)^2``, from the DL value, truncated
    at 0, step-halved when the likelihood would fall;
* ``w*_i = 1 / (v_i + tau^2)``, ``mu = sum w*_i y_i / sum w*_i``, ``se = 1 / sqrt(sum w*_i)``;
  ``level`` confidence interval ``mu -+ t_(k-1) se`` (the plug-in standard error with Student's t on
  ``k - 1`` df, metafor's ``test = "t"``; statsmodels ``combine_effects(..., use_t=True)``);
* ``I^2 = tau^2 / (tau^2 + s^2)`` with the typical within-incident variance
  ``s^2 = (k - 1) W / (W^2 - sum w_i^2)`` (Higgins & Thompson 2002); for DL this equals
  ``max(0, (Q - (k - 1)) / Q)``;
* prediction interval for the true effect of a new incident (Higgins, Thompson & Spiegelhalter
  2009): ``mu -+ t_(k-2) sqrt(tau^2 + se^2)``;
* pooled equivalence (TOST, Schuirmann 1987) of ``|mu| < bound``:
  ``p = max(P(T > (mu + bound) / se), P(T < (mu - bound) / se))``, ``T ~ t(k - 1)``.

Why t(k - 1) and not the normal: the plug-in ``se`` ignores the uncertainty of ``tau^2``, so the
normal (Wald) interval under-covers and the normal TOST claims equivalence too easily. In the
simulation of ``validation/pooled_coverage.py`` (k = 40, tau = 2 %; Monte-Carlo s.e. 0.5 points) the
normal interval covered 94.0-94.3 % and the normal TOST rejected about 6 % at the bound; with t(k - 1)
the interval covers 94.7-94.9 % and the TOST's size is 5.4-5.7 %; with 10 incidents 92 % (normal)
against 95 % (t). The same reference for both keeps "equivalence shown at 5 %" equal to "the 90 %
interval lies inside (-bound, +bound)". (The Hartung-Knapp-Sidik-Jonkman rescaling of ``se`` is not
applied.) The prediction interval under-covers when ``tau^2`` is poorly estimated (about 91 % at
k = 40, tau = 2 %): read it as a lower bound on how much incidents differ.

Fewer than three incidents (after dropping non-finite pairs) give every number NaN with the
reason "fewer than 3 incidents"; a group of ``by`` with fewer than three incidents likewise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..display import html_block, short_repr
from ..distributions import t_cdf, t_ppf, t_sf
from ..errors import IncidentImpactError
from ..verdict import DEFAULT_BOUND

METHODS = {"DL": "DerSimonian-Laird", "REML": "restricted maximum likelihood", "PM": "Paule-Mandel"}
MIN_INCIDENTS = 3
TOO_FEW = "fewer than 3 incidents"
#: The keys of :meth:`PooledEffect.to_dict` that every consumer may rely on.
DICT_KEYS = (
    "method",
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "tau2",
    "i2",
    "prediction_lower",
    "prediction_upper",
    "equivalence_p",
    "n",
)
_NUMBERS = (
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "tau2",
    "i2",
    "q",
    "q_p_value",
    "prediction_lower",
    "prediction_upper",
    "equivalence_p",
)


class PooledInputError(IncidentImpactError):
    """CARs and standard errors that cannot be pooled (unequal lengths, a non-positive SE, an unknown method)."""


# ---------------------------------------------------------------------------------------------
# tau^2 estimators


def _q_statistic(y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / v
    mean = w @ y / w.sum()
    return float(w @ (y - mean) ** 2)


def tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian-Laird: ``max(0, (Q - (k - 1)) / (W - sum w^2 / W))``, ``w = 1 / v``."""
    w = 1 / v
    c = w.sum() - (w @ w) / w.sum()
    return float(max(0.0, (_q_statistic(y, v) - (len(y) - 1)) / c))


def _generalised_q(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """``Q(tau^2) = sum w* (y - mu)^2`` and its derivative ``-sum w*^2 (y - mu)^2`` (mu's own
    derivative term vanishes because ``sum w* (y - mu) = 0``)."""
    w = 1 / (v + tau2)
    r2 = (y - w @ y / w.sum()) ** 2
    return float(w @ r2), float(-(w * w) @ r2)


def tau2_pm(y: np.ndarray, v: np.ndarray, tol: float = 1e-14) -> float:
    """Paule-Mandel: the ``tau^2 >= 0`` solving ``Q(tau^2) = k - 1`` (``Q`` is decreasing in ``tau^2``).

    Newton steps kept inside a shrinking bracket (bisection when a step leaves it), to a relative
    tolerance ``tol`` on ``tau^2``.
    """
    target = len(y) - 1
    if _generalised_q(y, v, 0.0)[0] <= target:
        return 0.0
    lo, hi = 0.0, max(float(np.var(y, ddof=1)), float(v.max()))
    while _generalised_q(y, v, hi)[0] > target:
        lo, hi = hi, 2 * hi
    x = (lo + hi) / 2
    for _ in range(200):
        g, dg = _generalised_q(y, v, x)
        g -= target
        if g > 0:
            lo = x
        else:
            hi = x
        step = x - g / dg if dg < 0 else (lo + hi) / 2
        new = step if lo < step < hi else (lo + hi) / 2
        if abs(new - x) <= tol * max(new, 1e-300):
            return float(new)
        x = new
    return float(x)


def reml_loglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Restricted log-likelihood of the random-effects model, up to a constant:
    ``-1/2 [sum log(v + tau^2) + log sum w* + sum w* (y - mu)^2]``."""
    w = 1 / (v + tau2)
    mu = w @ y / w.sum()
    return float(-0.5 * (np.log(v + tau2).sum() + math.log(w.sum()) + w @ (y - mu) ** 2))


def tau2_reml(y: np.ndarray, v: np.ndarray, tol: float = 1e-12, max_iter: int = 500) -> float:
    """REML by Fisher scoring from the DL value (Viechtbauer 2005), truncated at 0 and step-halved
    whenever a step would lower the restricted likelihood; stops when the change in ``tau^2`` is
    below ``tol`` times ``max(tau^2, mean v)``."""
    scale = float(v.mean())
    x = tau2_dl(y, v)
    ll = reml_loglik(x, y, v)
    for _ in range(max_iter):
        w = 1 / (v + x)
        sw, sw2 = w.sum(), w @ w
        mu = w @ y / sw
        tr_p = sw - sw2 / sw
        tr_pp = sw2 - 2 * (w @ (w * w)) / sw + (sw2 / sw) ** 2
        score = (w * w) @ (y - mu) ** 2 - tr_p
        step = score / tr_pp
        new = max(0.0, x + step)
        new_ll = reml_loglik(new, y, v)
        halvings = 0
        while new_ll < ll - 1e-15 * abs(ll) and halvings < 60:
            step /= 2
            new = max(0.0, x + step)
            new_ll = reml_loglik(new, y, v)
            halvings += 1
        if abs(new - x) <= tol * max(x, scale):
            return float(new)
        x, ll = new, new_ll
    return float(x)


_TAU2 = {"DL": tau2_dl, "PM": tau2_pm, "REML": tau2_reml}


# ---------------------------------------------------------------------------------------------
# result


def _num(x) -> float | None:
    """JSON number: None for NaN/inf, plain float otherwise."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _pct(x: float, digits: int = 2, signed: bool = True) -> str:
    return "n/a" if not math.isfinite(x) else (f"{100 * x:+.{digits}f} %" if signed else f"{100 * x:.{digits}f} %")


@dataclass(frozen=True, eq=False)
class PooledEffect:
    """A random-effects meta-analysis of the incidents' CARs over one window.

    Attributes
    ----------
    method : ``"DL"``, ``"REML"`` or ``"PM"`` (how ``tau2`` is estimated).
    estimate, se : the average effect ``mu`` (a fraction: -0.01 = -1 %) and its standard error.
    ci_lower, ci_upper : its ``level`` confidence interval (Student t, n - 1 df).
    tau2, i2 : between-incident variance of the true effects and the share of the observed
        dispersion it accounts for (0..1).
    q, q_p_value : Cochran's Q and its chi^2(n - 1) p-value (test of ``tau2 = 0``).
    prediction_lower, prediction_upper : the ``level`` prediction interval of a new incident's true
        effect (t with n - 2 df).
    equivalence_p : TOST p-value of ``|mu| < bound`` (t(n - 1) reference).
    n : incidents pooled.
    reason : why the numbers are NaN ("" when they are not).
    level, bound, window : the interval level, the equivalence bound, and the window label (optional).
    labels, cars, ses : the incidents pooled, with their CARs and standard errors.
    groups : per group of ``by``, the same analysis (empty without ``by``).
    notes : what was done to the input (dropped incidents), one sentence each.
    """

    method: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    tau2: float
    i2: float
    q: float
    q_p_value: float
    prediction_lower: float
    prediction_upper: float
    equivalence_p: float
    n: int
    reason: str = ""
    level: float = 0.95
    bound: float = DEFAULT_BOUND
    window: str | None = None
    labels: tuple[str, ...] = ()
    cars: tuple[float, ...] = ()
    ses: tuple[float, ...] = ()
    groups: tuple[tuple[str, PooledEffect], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def tau(self) -> float:
        """Between-incident standard deviation of the true effects, ``sqrt(tau2)``."""
        return math.sqrt(self.tau2) if math.isfinite(self.tau2) else math.nan

    @property
    def weights(self) -> pd.Series:
        """Random-effects weights ``w*_i / sum w*`` of the pooled incidents (empty when not pooled)."""
        if self.reason or not self.n:
            return pd.Series(dtype=float, name="weight")
        w = 1 / (np.square(self.ses) + self.tau2)
        return pd.Series(w / w.sum(), index=list(self.labels), name="weight")

    def equivalent(self, alpha: float = 0.05) -> bool | None:
        """True when ``|mu| < bound`` is shown at level ``alpha``; None when not computed."""
        return None if not math.isfinite(self.equivalence_p) else bool(self.equivalence_p < alpha)

    def _row(self) -> dict:
        return {
            "method": self.method,
            "n": self.n,
            **{k: getattr(self, k) for k in _NUMBERS},
            "tau": self.tau,
            "reason": self.reason,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row ``all`` and, with ``by``, one row per group: ``method, n, estimate, se, ci_lower,
        ci_upper, tau2, i2, q, q_p_value, prediction_lower, prediction_upper, equivalence_p, tau, reason``."""
        rows = {"all": self._row()} | {name: g._row() for name, g in self.groups}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("group")

    def to_dict(self) -> dict:
        """JSON-ready: the keys of :data:`DICT_KEYS`, then ``q, q_p_value, tau, reason, level, bound,
        window, notes`` and ``groups`` (per group the same dict without ``groups``)."""
        out: dict[str, Any] = {
            "method": self.method,
            **{k: _num(getattr(self, k)) for k in DICT_KEYS[1:-1]},
            "n": int(self.n),
        }
        out |= {
            "q": _num(self.q),
            "q_p_value": _num(self.q_p_value),
            "tau": _num(self.tau),
            "reason": self.reason,
            "level": float(self.level),
            "bound": float(self.bound),
            "window": self.window,
            "notes": list(self.notes),
        }
        out["groups"] = {str(name): {k: v for k, v in g.to_dict().items() if k != "groups"} for name, g in self.groups}
        return out

    def sentence(self) -> str:
        """The pooled finding in one plain sentence."""
        where = f"CAR{self.window}" if self.window else "CAR"
        if self.reason:
            return f"No pooled estimate of the average {where}: {self.reason}."
        lvl = f"{100 * self.level:g} %"
        text = (
            f"Across {self.n} incidents the average {where} was {_pct(self.estimate)} "
            f"({lvl} CI {_pct(self.ci_lower)} to {_pct(self.ci_upper)}; {METHODS[self.method]} random effects); "
            f"true effects differ between incidents by about {_pct(self.tau, signed=False)} (tau; "
            f"I² = {100 * self.i2:.0f} %, Q p = {self.q_p_value:.3f}), so a new incident's effect would lie between "
            f"{_pct(self.prediction_lower)} and {_pct(self.prediction_upper)} ({lvl} prediction interval)."
        )
        eq = self.equivalent()
        if eq:
            text += (
                f" An average effect as large as ±{100 * self.bound:g} % is ruled out "
                f"(TOST p = {self.equivalence_p:.3f})."
            )
        else:
            text += (
                f" An average effect of ±{100 * self.bound:g} % cannot be ruled out "
                f"(TOST p = {self.equivalence_p:.3f})."
            )
        return text

    def summary(self) -> str:
        """Plain text: the sentence, the numbers, the groups and the notes."""
        lines = [self.sentence()]
        frame = self.to_frame()
        shown = pd.DataFrame(
            {
                "n": frame["n"],
                "mean %": (100 * frame["estimate"].astype(float)).round(2),
                "SE %": (100 * frame["se"].astype(float)).round(2),
                "CI %": [
                    f"[{100 * a:.2f}, {100 * b:.2f}]" if math.isfinite(a) else ""
                    for a, b in zip(frame["ci_lower"].astype(float), frame["ci_upper"].astype(float), strict=True)
                ],
                "tau %": (100 * frame["tau"].astype(float)).round(2),
                "I2 %": (100 * frame["i2"].astype(float)).round(0),
                "PI %": [
                    f"[{100 * a:.2f}, {100 * b:.2f}]" if math.isfinite(a) else ""
                    for a, b in zip(
                        frame["prediction_lower"].astype(float), frame["prediction_upper"].astype(float), strict=True
                    )
                ],
                "TOST p": frame["equivalence_p"].astype(float).round(4),
                "note": frame["reason"],
            }
        )
        lines += ["", shown.to_string()]
        if self.notes:
            lines += ["", *self.notes]
        lines += [
            "",
            (
                "Confidence interval and TOST with Student's t on n - 1 df; prediction interval with "
                "t(n - 2) (Higgins, Thompson & Spiegelhalter 2009)."
            ),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        head = f"{self.method}, n = {self.n}" + (f", window {self.window}" if self.window else "")
        if self.reason:
            return short_repr("PooledEffect", [head, self.reason])
        return short_repr(
            "PooledEffect",
            [
                head,
                (
                    f"mean {_pct(self.estimate)} [{_pct(self.ci_lower)}, {_pct(self.ci_upper)}], "
                    f"tau {_pct(self.tau, signed=False)}, "
                    f"PI [{_pct(self.prediction_lower)}, {_pct(self.prediction_upper)}], "
                    f"TOST p {self.equivalence_p:.3f}"
                ),
            ],
        )

    def _repr_html_(self) -> str:
        return html_block("Pooled effect (random effects)", [self.sentence(), *self.notes], self.to_frame())


# ---------------------------------------------------------------------------------------------
# computation


def _empty(method: str, n: int, reason: str, **kw: Any) -> PooledEffect:
    nan = math.nan
    return PooledEffect(method, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, n=n, reason=reason, **kw)


def _pool(
    y: np.ndarray,
    s: np.ndarray,
    method: str,
    level: float,
    bound: float,
    window: str | None,
    labels: tuple[str, ...],
    notes: tuple[str, ...],
) -> PooledEffect:
    k = len(y)
    common: dict[str, Any] = {
        "level": level,
        "bound": bound,
        "window": window,
        "labels": labels,
        "cars": tuple(float(x) for x in y),
        "ses": tuple(float(x) for x in s),
        "notes": notes,
    }
    if k < MIN_INCIDENTS:
        return _empty(method, k, TOO_FEW, **common)
    v = s * s
    w = 1 / v
    q = _q_statistic(y, v)
    q_p = float(special.chdtrc(k - 1, q))
    tau2 = _TAU2[method](y, v)
    ws = 1 / (v + tau2)
    mu = float(ws @ y / ws.sum())
    se = float(1 / math.sqrt(ws.sum()))
    crit = float(t_ppf(0.5 + level / 2, k - 1))
    typical = (k - 1) * w.sum() / (w.sum() ** 2 - w @ w)
    i2 = tau2 / (tau2 + typical)
    half_pi = float(t_ppf(0.5 + level / 2, k - 2)) * math.sqrt(tau2 + se * se)
    p_low = float(t_sf((mu + bound) / se, k - 1))  # H0: mu <= -bound
    p_high = float(t_cdf((mu - bound) / se, k - 1))  # H0: mu >= +bound
    return PooledEffect(
        method,
        mu,
        se,
        mu - crit * se,
        mu + crit * se,
        float(tau2),
        float(i2),
        q,
        q_p,
        mu - half_pi,
        mu + half_pi,
        max(p_low, p_high),
        k,
        **common,
    )


def _as_series(x, name: str) -> pd.Series:
    if isinstance(x, pd.Series):
        return x.astype(float)
    try:
        return pd.Series(np.asarray(x, dtype=float).ravel(), name=name)
    except (TypeError, ValueError) as exc:
        raise PooledInputError(f"the {name} must be numbers: {exc}") from None


def pooled_effect(
    cars: Sequence[float] | np.ndarray | pd.Series,
    ses: Sequence[float] | np.ndarray | pd.Series,
    *,
    method: str = "DL",
    level: float = 0.95,
    bound: float | None = None,
    labels: Sequence[str] | None = None,
    by: pd.Series | Mapping[str, str] | None = None,
    window: str | None = None,
) -> PooledEffect:
    """Random-effects meta-analysis of the incidents' CARs over one window (formulas in the module docstring).

    Parameters
    ----------
    cars, ses : each incident's CAR and its standard error (fractions); Series are aligned on
        their index (the incident ids), arrays by position.
    method : ``"DL"`` (DerSimonian-Laird, default), ``"REML"`` or ``"PM"`` (Paule-Mandel).
    level : level of the confidence and prediction intervals.
    bound : equivalence bound of the TOST (a fraction; default 0.02, the verdicts' 2 %).
    labels : incident ids (default: the index of ``cars`` when a Series, else ``0..k-1``).
    by : group of each incident (a Series or mapping keyed by label, e.g. the category): adds one
        pooled analysis per group in :attr:`PooledEffect.groups`; incidents without a group are
        left out of the groups (not of the overall estimate).
    window : label of the window (only for the text).

    Incidents whose CAR or SE is missing or not finite are dropped with a note; fewer than 3
    incidents left give NaN numbers with the reason "fewer than 3 incidents".

    Raises
    ------
    PooledInputError : unknown method, level outside (0, 1), a non-positive bound or SE, or
        ``cars``/``ses``/``labels`` of different lengths.
    """
    method = str(method).upper()
    if method not in METHODS:
        raise PooledInputError(f"unknown pooling method {method!r}; use one of {', '.join(METHODS)}")
    if not 0 < level < 1:
        raise PooledInputError(f"the interval level must lie between 0 and 1, got {level}")
    bound = DEFAULT_BOUND if bound is None else float(bound)
    if not bound > 0:
        raise PooledInputError(f"the equivalence bound must be positive, got {bound}")
    y, s = _as_series(cars, "CARs"), _as_series(ses, "standard errors")
    if isinstance(cars, pd.Series) and isinstance(ses, pd.Series):
        if not y.index.equals(s.index):
            if set(y.index) != set(s.index):
                raise PooledInputError("the CARs and standard errors are indexed by different incidents")
            s = s.reindex(y.index)
    elif len(y) != len(s):
        raise PooledInputError(f"{len(y)} CARs but {len(s)} standard errors")
    else:
        s.index = y.index
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != len(y):
            raise PooledInputError(f"{len(labels)} labels for {len(y)} CARs")
        y.index = s.index = labels
    elif not isinstance(cars, pd.Series) and isinstance(ses, pd.Series):
        y.index = s.index
    bad_se = s[np.isfinite(s) & (s <= 0)]
    if len(bad_se):
        raise PooledInputError(f"standard errors must be positive; {bad_se.index[0]} has {bad_se.iloc[0]}")
    keep = np.isfinite(y) & np.isfinite(s)
    notes: tuple[str, ...] = ()
    if not keep.all():
        dropped = [str(x) for x in y.index[~keep]]
        notes = (
            (
                f"{len(dropped)} incident(s) without a finite CAR and SE left out: {', '.join(dropped[:10])}"
                f"{' ...' if len(dropped) > 10 else ''}."
            ),
        )
    y, s = y[keep], s[keep]
    labels_t = tuple(str(x) for x in y.index)
    overall = _pool(y.to_numpy(), s.to_numpy(), method, level, bound, window, labels_t, notes)
    if by is None:
        return overall
    groups_of = pd.Series(by) if not isinstance(by, pd.Series) else by
    groups_of = groups_of.copy()
    groups_of.index = groups_of.index.map(str)
    groups_of = groups_of.reindex(list(labels_t))
    groups = []
    for name in sorted(groups_of.dropna().unique(), key=str):
        members = groups_of.index[groups_of == name]
        mask = y.index.map(str).isin(members)
        g = _pool(
            y[mask].to_numpy(),
            s[mask].to_numpy(),
            method,
            level,
            bound,
            window,
            tuple(str(x) for x in y.index[mask]),
            (),
        )
        groups.append((str(name), g))
    missing = groups_of.index[groups_of.isna()]
    if len(missing):
        notes += (f"{len(missing)} incident(s) without a group are in the overall estimate only.",)
    return PooledEffect(
        **{f.name: getattr(overall, f.name) for f in fields(PooledEffect) if f.name not in ("groups", "notes")},
        groups=tuple(groups),
        notes=notes,
    )
