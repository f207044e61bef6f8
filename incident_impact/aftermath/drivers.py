"""What makes an incident matter? A second-stage cross-sectional regression of the incidents' CARs.

``CAR_i = b_0 + x_i' b + e_i`` by OLS over the incidents, with x_i the incident's characteristics
(:func:`incident_characteristics`: category, first platform, kind of the company's first response
and its delay, log market value, pre-incident volatility, listing region, year). Categorical
covariates enter as treatment dummies against their most common level; levels with fewer than
``min_members`` incidents are collapsed into ``"other"`` (when ``"other"`` itself stays below
``min_members``, it joins the smallest remaining level as ``"<level>+other"``, and a covariate left with
one level is dropped), so that no coefficient rests on one or two incidents.

Inference:

* **HC3 standard errors** (MacKinnon & White 1985; Long & Ervin 2000):
  ``V = (X'X)^-1 X' diag(e_i^2 / (1 - h_ii)^2) X (X'X)^-1`` — statsmodels ``OLS(...).fit(cov_type="HC3")``;
  ``p_value`` is its normal-reference p (statsmodels' default for robust covariances).
* **Permutation p-values by Freedman & Lane (1983)**, as recommended for regression with nuisance
  covariates (Anderson & Legendre 1999; Winkler et al. 2014): to test the columns ``J`` (one
  coefficient, all dummies of one covariate, or every slope), fit the reduced model without ``J``
  (fitted values ``Z g``, residuals ``r``), permute ``r``: ``y* = Z g + P r``, refit the full model and
  recompute the HC3 Wald statistic ``W = b_J' V_J^-1 b_J`` (``t^2`` for one coefficient: a two-sided
  test of a pivotal statistic). ``p = (1 + #{W* >= W}) / (B + 1)`` over ``B`` random permutations
  (``numpy.random.default_rng(seed)``, one set of permutations shared by all tests: reproducible);
  when ``n! <= permutations`` every permutation is enumerated and ``p = #{W* >= W} / n!`` (exact).
  For the overall test the reduced model is the intercept alone, where Freedman-Lane is the simple
  permutation of the outcome.
* **Power.** With ``n`` incidents and ``p`` coefficients (intercept included), the two-sided level-``alpha``
  t-test finds a coefficient with probability ``power`` when it is about
  ``(t_(1-alpha/2, n-p) + t_(power, n-p)) se`` — that is ``mde`` per term, in CAR units. For a covariate
  uncorrelated with the others, ``se = sigma / (sd_x sqrt(n - 1))``, so the smallest detectable
  standardized effect (CAR change in residual SDs per SD of the covariate) is
  ``(t_(1-alpha/2) + t_power) / sqrt(n - 1)`` (``mde_standardized``; 0.47 for 40 incidents and 10
  coefficients), and a dummy splitting the sample in halves needs a CAR difference of twice that many
  residual SDs (``mde_half_split``, in CAR units).

Missing values: rows without the outcome are dropped; a covariate missing for more than
``max_missing`` of the rows is dropped, then rows missing any remaining covariate; every drop is a
note. ``zero_when`` sets a numeric covariate to 0 where it is undefined by design (the response delay
of incidents without a response: the ``response_kind = none`` dummy then absorbs their level).
Fewer than ``covariates + 3`` incidents (coefficients other than the intercept + 3) give NaN with a reason.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import special

from ..catalog import RESPONSE_KINDS, Incident
from ..display import html_block, short_repr
from ..distributions import t_ppf
from ..errors import IncidentImpactError

#: Characteristics of :func:`incident_characteristics`, in the default order of :func:`explain_cars`.
DEFAULT_COVARIATES = (
    "category",
    "platform",
    "response_kind",
    "response_delay_days",
    "log_market_value",
    "volatility",
    "region",
    "year",
)
#: Numeric covariate -> (categorical covariate, level) where it is undefined by design and set to 0.
ZERO_WHEN: Mapping[str, tuple[str, str]] = {"response_delay_days": ("response_kind", "none")}
REGIONS = {
    "US": frozenset({"XNYS", "XNAS", "XASE", "ARCX", "BATS"}),
    "Europe": frozenset(
        {"XPAR", "XETR", "XAMS", "XSWX", "XLON", "XMAD", "XSTO", "XMIL", "XBRU", "XCSE", "XHEL", "XOSL"}
    ),
    "Asia": frozenset({"XHKG", "XBOM", "XNSE", "XTKS", "XSHG", "XSHE", "XKRX"}),
}
#: The same platform under two names.
PLATFORM_ALIASES = {"x": "Twitter/X", "twitter": "Twitter/X"}
OTHER = "other"
SCHEME = "Freedman-Lane"


class DriversInputError(IncidentImpactError):
    """A covariate table that cannot be regressed (unknown outcome or covariate, bad settings)."""


def listing_region(exchange: str | None) -> str:
    """``US``, ``Europe``, ``Asia`` or ``other`` from the listing exchange's MIC (e.g. XNYS -> US)."""
    mic = (exchange or "").strip().upper()
    return next((region for region, mics in REGIONS.items() if mic in mics), OTHER)


def first_response(incident: Incident) -> tuple[str, float]:
    """``(kind, delay in days)`` of the company's first response (a timeline event of a kind in
    :data:`~incident_impact.catalog.RESPONSE_KINDS`) dated on or after the ``incident`` event, the delay
    counted in calendar days from that event's date; ``("none", nan)`` without one."""
    start = incident.day0_event.date
    for event in incident.timeline:  # sorted by date and time
        if event.kind in RESPONSE_KINDS and event.date >= start:
            return event.kind, float((event.date - start).days)
    return "none", math.nan


def incident_characteristics(analyses: Mapping) -> pd.DataFrame:
    """The covariate table of analysed incidents, indexed by ``event_id``.

    Columns: ``category``; ``platform`` (the first listed; "Twitter" and "X" as ``Twitter/X``;
    ``unknown`` when none); ``response_kind`` and ``response_delay_days`` (:func:`first_response`);
    ``log_market_value`` (natural log of the market value on the session before day 0, in USD;
    NaN when unknown or listed in another currency, as the data have no exchange rates);
    ``volatility`` (the residual standard deviation of the estimation window,
    ``analysis.result.params["sigma"]``, a daily fraction); ``region`` (:func:`listing_region`);
    ``year`` (of the incident date); and ``currency``.

    Parameters
    ----------
    analyses : :class:`~incident_impact.analysis.IncidentAnalysis` objects keyed by event id
        (e.g. :attr:`CatalogStudy.analyses`).
    """
    rows = {}
    for eid, analysis in analyses.items():
        inc = analysis.incident
        kind, delay = first_response(inc)
        platform = inc.platforms[0].strip() if inc.platforms else "unknown"
        platform = PLATFORM_ALIASES.get(platform.lower(), platform)
        mv = analysis.market_value
        value = getattr(mv, "value", math.nan) if not isinstance(mv, str) else math.nan
        currency = getattr(mv, "currency", None) if not isinstance(mv, str) else inc.currency
        log_value = math.log(value) if currency == "USD" and value and np.isfinite(value) and value > 0 else math.nan
        try:
            sigma = float(analysis.result.params["sigma"])
        except (KeyError, AttributeError, TypeError):
            sigma = math.nan
        rows[str(eid)] = {
            "category": inc.category or "unknown",
            "platform": platform,
            "response_kind": kind,
            "response_delay_days": delay,
            "log_market_value": log_value,
            "volatility": sigma,
            "region": listing_region(inc.exchange),
            "year": int(inc.incident_date.year),
            "currency": currency or inc.currency,
        }
    columns = [*DEFAULT_COVARIATES, "currency"]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns) if rows else pd.DataFrame(columns=columns)
    return frame.rename_axis("event_id")


# ---------------------------------------------------------------------------------------------
# result


def _num(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _records(frame: pd.DataFrame, index_name: str) -> list[dict]:
    out = []
    for key, row in frame.iterrows():
        rec: dict[Hashable, Any] = {index_name: str(key)}
        for k, v in row.items():
            if isinstance(v, (bool, np.bool_)):
                rec[k] = bool(v)
            elif isinstance(v, (int, np.integer)):
                rec[k] = int(v)
            elif isinstance(v, (float, np.floating)):
                rec[k] = _num(v)
            else:
                rec[k] = None if v is None else str(v)
        out.append(rec)
    return out


TERM_COLUMNS = ["covariate", "coef", "se", "t", "p_value", "p_perm", "mde"]
TEST_COLUMNS = ["df", "wald", "p_perm"]


@dataclass(frozen=True, eq=False)
class CarDrivers:
    """A cross-sectional regression of incident CARs on their characteristics.

    Attributes
    ----------
    outcome : the regressed column (e.g. ``car``).
    n : incidents in the regression.
    terms : per coefficient (``Intercept``, numeric covariates, ``covariate[level]`` dummies):
        ``covariate, coef, se`` (HC3), ``t``, ``p_value`` (HC3, normal), ``p_perm`` (Freedman-Lane),
        ``mde`` (the coefficient detectable with ``power`` at ``alpha``, in outcome units).
    covariate_tests : per covariate, the joint HC3 Wald test of its coefficients: ``df, wald, p_perm``.
    wald, wald_df, wald_p, wald_p_perm : the overall test that every slope is 0 (HC3 Wald statistic,
        its chi^2 p — unreliable with few incidents — and its permutation p).
    r2, adj_r2, sigma : fit, and the residual standard deviation.
    mde_standardized : smallest detectable standardized coefficient (residual SDs per covariate SD).
    mde_half_split : smallest detectable difference in the outcome between two equal halves (outcome units).
    permutations, exact, seed, scheme : the permutation scheme (``exact``: all n! enumerated).
    covariates, reference_levels : the covariates used and each categorical's reference level.
    notes : what was dropped or collapsed, one sentence each.
    reason : why the numbers are NaN ("" when they are not).
    alpha, power : settings of the MDE.
    """

    outcome: str
    n: int
    terms: pd.DataFrame
    covariate_tests: pd.DataFrame
    wald: float
    wald_df: int
    wald_p: float
    wald_p_perm: float
    r2: float
    adj_r2: float
    sigma: float
    mde_standardized: float
    mde_half_split: float
    permutations: int
    exact: bool
    seed: int | None
    scheme: str = SCHEME
    covariates: tuple[str, ...] = ()
    reference_levels: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    reason: str = ""
    alpha: float = 0.05
    power: float = 0.8

    def power_sentence(self) -> str:
        """How little the regression can see, in words."""
        if not math.isfinite(self.mde_standardized):
            return ""
        k = len(self.terms)
        return (
            f"With {self.n} incidents and {k} coefficients, a covariate unrelated to the others is found with "
            f"{100 * self.power:.0f} % power (two-sided {100 * self.alpha:g} %) only if one standard deviation of it "
            f"moves the {self.outcome.upper() if self.outcome == 'car' else self.outcome} by "
            f"{self.mde_standardized:.2f} residual standard deviations; a characteristic shared by half of the "
            f"incidents must shift it by about {100 * self.mde_half_split:.1f} percentage points. Smaller drivers "
            "would go unnoticed, so a non-significant covariate is not evidence that it does not matter."
        )

    def sentence(self) -> str:
        """The overall finding in plain words."""
        if self.reason:
            return f"No regression of {self.outcome} on the incidents' characteristics: {self.reason}."
        sig = self.terms.drop(index="Intercept", errors="ignore")
        sig = sig[sig["p_perm"] < self.alpha]
        found = (
            f"jointly, the characteristics {'do' if self.wald_p_perm < self.alpha else 'do not'} explain "
            f"{self.outcome} beyond chance (HC3 Wald = {self.wald:.2f} on {self.wald_df} df, permutation "
            f"p = {self.wald_p_perm:.3f}; R² = {self.r2:.2f})"
        )
        terms = (
            (
                "; individually significant at "
                f"{100 * self.alpha:g} % (permutation): "
                + ", ".join(f"{t} ({100 * r.coef:+.2f} pp)" for t, r in sig.iterrows())
            )
            if len(sig)
            else "; no single coefficient is significant by permutation"
        )
        return f"Across {self.n} incidents, {found}{terms}."

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (:attr:`terms`)."""
        return self.terms.copy()

    def to_dict(self) -> dict:
        """JSON-ready: settings, overall test, ``terms`` and ``covariate_tests`` as lists of records, notes."""
        return {
            "outcome": self.outcome,
            "n": int(self.n),
            "scheme": self.scheme,
            "permutations": int(self.permutations),
            "exact": bool(self.exact),
            "seed": None if self.seed is None else int(self.seed),
            "wald": _num(self.wald),
            "wald_df": int(self.wald_df),
            "wald_p": _num(self.wald_p),
            "wald_p_perm": _num(self.wald_p_perm),
            "r2": _num(self.r2),
            "adj_r2": _num(self.adj_r2),
            "sigma": _num(self.sigma),
            "mde_standardized": _num(self.mde_standardized),
            "mde_half_split": _num(self.mde_half_split),
            "alpha": float(self.alpha),
            "power": float(self.power),
            "covariates": list(self.covariates),
            "reference_levels": {str(k): str(v) for k, v in self.reference_levels.items()},
            "terms": _records(self.terms, "term"),
            "covariate_tests": _records(self.covariate_tests, "covariate"),
            "notes": list(self.notes),
            "reason": self.reason,
            "sentence": self.sentence(),
            "power_sentence": self.power_sentence(),
        }

    def summary(self) -> str:
        """Plain text: the finding, the power sentence, the coefficient table, the joint tests and the notes."""
        lines = [self.sentence()]
        if self.power_sentence():
            lines += [self.power_sentence()]
        if not self.reason:
            shown = pd.DataFrame(
                {
                    "coef": self.terms["coef"].round(5),
                    "HC3 SE": self.terms["se"].round(5),
                    "t": self.terms["t"].round(2),
                    "p (HC3)": self.terms["p_value"].round(3),
                    "p (perm.)": self.terms["p_perm"].round(3),
                    "MDE": self.terms["mde"].round(4),
                }
            )
            lines += [
                "",
                shown.to_string(),
                "",
                "Joint tests by covariate (HC3 Wald, permutation p):",
                self.covariate_tests.round(3).to_string(),
            ]
            refs = ", ".join(f"{k}: {v}" for k, v in self.reference_levels.items())
            if refs:
                lines += ["", f"Dummies are against the most common level ({refs})."]
            kind = (
                "all permutations enumerated"
                if self.exact
                else f"{self.permutations} random permutations, seed {self.seed}"
            )
            lines += [f"Permutation p-values: {self.scheme} ({kind})."]
        if self.notes:
            lines += ["", *self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        if self.reason:
            return short_repr(
                "CarDrivers", [f"{self.outcome} on {len(self.covariates)} covariate(s), n = {self.n}", self.reason]
            )
        return short_repr(
            "CarDrivers",
            [
                f"{self.outcome} on {', '.join(self.covariates)}; n = {self.n}",
                (
                    f"overall HC3 Wald {self.wald:.2f} ({self.wald_df} df), permutation p {self.wald_p_perm:.3f}; "
                    f"MDE {self.mde_standardized:.2f} residual SD per covariate SD"
                ),
            ],
        )

    def _repr_html_(self) -> str:
        return html_block(
            "What makes an incident matter",
            [self.sentence(), self.power_sentence(), *self.notes],
            None if self.reason else self.terms,
        )


# ---------------------------------------------------------------------------------------------
# design


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def _collapse(values: pd.Series, min_members: int) -> tuple[pd.Series | None, str]:
    """Levels with fewer than ``min_members`` rows -> ``other``. When ``other`` then stays below
    ``min_members``, it joins the smallest remaining level as ``<level>+other``; when only one level
    would remain besides it, the covariate is unusable (None). Returns the values and a note ("" when
    nothing was collapsed)."""
    values = values.astype(str)
    counts = values.value_counts()
    small = sorted(cast(str, lvl) for lvl, c in counts.items() if c < min_members)  # levels are strings
    if not small:
        return values, ""
    kept = [lvl for lvl in counts.index if lvl not in small]
    size = int(counts[small].sum())
    listed = ", ".join(f"{lvl} ({counts[lvl]})" for lvl in small)
    into = f"levels with fewer than {min_members} incidents collapsed into '{OTHER}': {listed}"
    if size >= min_members or not kept or OTHER in kept:
        return values.where(~values.isin(small), OTHER), into
    if len(kept) < 2:
        return None, f"only {kept[0]} has {min_members} or more incidents (the others: {listed})"
    host = min(kept, key=lambda lvl: (counts[lvl], lvl))
    label = f"{host}+{OTHER}"
    return (
        values.where(~values.isin([*small, host]), label),
        (
            f"levels with fewer than {min_members} incidents ({listed}) are too few even together, so they join "
            f"{host} ({counts[host]}) as '{label}'"
        ),
    )


def _design(
    frame: pd.DataFrame,
    outcome: str,
    covariates: Sequence[str],
    min_members: int,
    max_missing: float,
    zero_when: Mapping[str, tuple[str, str]],
):
    notes: list[str] = []
    data = frame[[outcome, *covariates]].copy()
    for num, (cat, level) in zero_when.items():
        if num in data and cat in data:
            mask = data[cat].astype(str) == level
            if mask.any():
                data.loc[mask, num] = data.loc[mask, num].fillna(0.0)
                notes.append(
                    f"{num} is set to 0 for the {int(mask.sum())} incident(s) with {cat} = {level} "
                    f"(undefined there; the {cat} = {level} level absorbs them)."
                )
    y_ok = pd.to_numeric(data[outcome], errors="coerce").notna() & np.isfinite(
        pd.to_numeric(data[outcome], errors="coerce")
    )
    if (~y_ok).any():
        notes.append(f"{int((~y_ok).sum())} incident(s) without {outcome} left out.")
        data = data[y_ok]
    used = []
    for cov in covariates:
        col = data[cov]
        if not _is_categorical(col):
            col = pd.to_numeric(col, errors="coerce").astype(float).where(lambda s: np.isfinite(s))
            data[cov] = col
        else:
            data[cov] = col.where(col.notna() & (col.astype(str).str.strip() != ""), None)
        share = float(data[cov].isna().mean()) if len(data) else 0.0
        if share > max_missing:
            notes.append(f"{cov} left out: missing for {int(data[cov].isna().sum())} of {len(data)} incidents.")
        else:
            used.append(cov)
    rows_ok = data[used].notna().all(axis=1) if used else pd.Series(True, index=data.index)
    if (~rows_ok).any():
        lost = data.index[~rows_ok]
        which = [c for c in used if data.loc[lost, c].isna().any()]
        notes.append(
            f"{len(lost)} incident(s) left out for missing {', '.join(which)}: "
            f"{', '.join(map(str, lost[:8]))}{' ...' if len(lost) > 8 else ''}."
        )
        data = data[rows_ok]
    y = data[outcome].astype(float).to_numpy()
    columns = {"Intercept": np.ones(len(data))}
    owner = {"Intercept": "Intercept"}
    refs: dict[str, str] = {}
    final = []
    for cov in used:
        col = data[cov]
        if _is_categorical(col):
            collapsed, what = _collapse(col, min_members)
            if collapsed is None:
                notes.append(f"{cov} left out: {what}.")
                continue
            col = collapsed
            if what:
                notes.append(f"{cov}: {what}.")
            counts = col.value_counts()
            if len(counts) < 2:
                notes.append(
                    f"{cov} left out: a single level ({counts.index[0] if len(counts) else 'none'}) in the sample."
                )
                continue
            ref = min(counts.index, key=lambda lvl: (-counts[lvl], lvl == OTHER, lvl))
            new = {f"{cov}[{lvl}]": (col == lvl).astype(float).to_numpy() for lvl in sorted(counts.index) if lvl != ref}
        else:
            x = col.astype(float).to_numpy()
            if len(x) and np.ptp(x) == 0:
                notes.append(f"{cov} left out: constant in the sample.")
                continue
            new = {cov: x}
            ref = None
        trial = (
            np.column_stack([*columns.values(), *new.values()]) if len(y) else np.empty((0, len(columns) + len(new)))
        )
        if len(y) and np.linalg.matrix_rank(trial) < trial.shape[1]:
            notes.append(f"{cov} left out: collinear with the covariates before it.")
            continue
        columns |= new
        owner |= dict.fromkeys(new, cov)
        if ref is not None:
            refs[cov] = ref
        final.append(cov)
    X = np.column_stack(list(columns.values())) if len(y) else np.empty((0, len(columns)))
    return y, X, list(columns), owner, refs, final, notes, list(data.index)


# ---------------------------------------------------------------------------------------------
# permutation machinery


def _permutations(n: int, permutations: int, seed: int | None) -> tuple[np.ndarray, bool]:
    """``(B, n)`` index arrays: every permutation when ``n! <= permutations`` (exact), else the
    identity followed by ``permutations`` random ones from ``default_rng(seed)``."""
    if n <= 10 and math.factorial(n) <= permutations:
        return np.array(list(itertools.permutations(range(n))), dtype=np.intp), True
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(np.arange(n), (permutations, 1)), axis=1)
    return np.vstack([np.arange(n), perms]), False


def _wald_stats(X: np.ndarray, A: np.ndarray, lev: np.ndarray, Y: np.ndarray, J: np.ndarray) -> np.ndarray:
    """HC3 Wald statistics ``b_J' V_J^-1 b_J`` for each column of ``Y`` (n x B)."""
    B = A @ Y
    E = Y - X @ B
    U = (E / (1 - lev)[:, None]) ** 2
    AJ = A[J]
    bJ = B[J].T  # (B, m)
    if len(J) == 1:
        var = (AJ[0] ** 2) @ U
        with np.errstate(divide="ignore", invalid="ignore"):
            return bJ[:, 0] ** 2 / var
    V = np.einsum("in,nb,jn->bij", AJ, U, AJ)
    return np.einsum("bi,bi->b", bJ, np.linalg.solve(V, bJ[..., None])[..., 0])


def _perm_p(X, A, lev, y, J, perms, exact) -> tuple[float, float]:
    """Freedman-Lane: ``(observed W, permutation p)`` for the columns ``J``."""
    Z = np.delete(X, J, axis=1)
    g = np.linalg.lstsq(Z, y, rcond=None)[0]
    fitted = Z @ g
    resid = y - fitted
    Y = fitted[:, None] + resid[perms.T]
    W = _wald_stats(X, A, lev, Y, J)
    observed = W[0] if not exact else float(_wald_stats(X, A, lev, y[:, None], J)[0])
    hits = np.count_nonzero(W >= observed * (1 - 1e-10))
    if exact:
        return float(observed), hits / len(perms)
    return float(observed), float(hits / len(perms))  # the identity is row 0: (1 + #) / (B + 1)


def _nan_result(outcome, n, covariates, refs, notes, reason, permutations, seed, alpha, power) -> CarDrivers:
    return CarDrivers(
        outcome,
        n,
        pd.DataFrame(columns=TERM_COLUMNS).rename_axis("term"),
        pd.DataFrame(columns=TEST_COLUMNS).rename_axis("covariate"),
        math.nan,
        0,
        math.nan,
        math.nan,
        math.nan,
        math.nan,
        math.nan,
        math.nan,
        math.nan,
        permutations,
        False,
        seed,
        covariates=tuple(covariates),
        reference_levels=refs,
        notes=tuple(notes),
        reason=reason,
        alpha=alpha,
        power=power,
    )


def explain_cars(
    frame: pd.DataFrame,
    outcome: str = "car",
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    *,
    permutations: int = 9999,
    seed: int | None = 20260514,
    min_members: int = 3,
    max_missing: float = 0.25,
    zero_when: Mapping[str, tuple[str, str]] = ZERO_WHEN,
    alpha: float = 0.05,
    power: float = 0.8,
) -> CarDrivers:
    """Regress the incidents' ``outcome`` on their characteristics (formulas in the module docstring).

    Parameters
    ----------
    frame : one row per incident with ``outcome`` and the ``covariates`` (e.g. the study's
        ``verdict_table(window)[["car"]].join(incident_characteristics(analyses))``).
    outcome : the column explained (``car``; ``car / se`` standardised CARs work as well).
    covariates : columns of ``frame``; non-numeric ones are categorical (treatment dummies against
        the most common level), numeric ones enter linearly (``year`` as a trend).
    permutations, seed : number of random permutations and the generator's seed (all ``n!`` are
        enumerated when there are no more than ``permutations`` of them).
    min_members : levels with fewer incidents are collapsed into ``other``.
    max_missing : a covariate missing for a larger share of the incidents is dropped (else the rows).
    zero_when : numeric covariates set to 0 where a categorical has a given level (see :data:`ZERO_WHEN`).
    alpha, power : level and power of the minimum detectable effects.

    Returns
    -------
    CarDrivers
        NaN numbers with a ``reason`` when fewer than ``slopes + 3`` incidents remain or no
        covariate is usable.
    """
    if outcome not in frame.columns:
        raise DriversInputError(f"the table has no outcome column {outcome!r}")
    covariates = list(dict.fromkeys(covariates))
    unknown = [c for c in covariates if c not in frame.columns]
    if unknown:
        raise DriversInputError(f"the table has no covariate column(s) {', '.join(map(repr, unknown))}")
    if outcome in covariates:
        raise DriversInputError(f"the outcome {outcome!r} cannot also be a covariate")
    if int(permutations) < 1:
        raise DriversInputError(f"permutations must be at least 1, got {permutations}")
    if not (0 < alpha < 1 and 0 < power < 1 and 0 <= max_missing <= 1 and min_members >= 1):
        raise DriversInputError("alpha and power must lie in (0, 1), max_missing in [0, 1], min_members >= 1")
    permutations = int(permutations)
    y, X, names, owner, refs, used, notes, _index = _design(
        frame, outcome, covariates, min_members, max_missing, zero_when
    )
    n, p = X.shape
    args = (permutations, seed, alpha, power)
    if p == 1:
        return _nan_result(outcome, n, used, refs, notes, "no usable covariate", *args)
    if n < (p - 1) + 3:
        return _nan_result(
            outcome,
            n,
            used,
            refs,
            notes,
            f"too few incidents: {n} for {p - 1} coefficient(s) besides the intercept (need at least {p - 1 + 3})",
            *args,
        )
    import statsmodels.api as sm  # heavy: only when a regression is run

    fit = sm.OLS(y, X).fit(cov_type="HC3")
    xtx_inv = np.linalg.inv(X.T @ X)
    A = xtx_inv @ X.T
    lev = np.einsum("ij,ji->i", X, A)
    if np.max(lev) > 1 - 1e-10:
        return _nan_result(
            outcome,
            n,
            used,
            refs,
            notes,
            "an incident alone determines a coefficient (leverage 1), so HC3 is undefined",
            *args,
        )
    perms, exact = _permutations(n, permutations, seed)
    df_resid = n - p
    mult = float(t_ppf(1 - alpha / 2, df_resid) + t_ppf(power, df_resid))
    se = np.asarray(fit.bse, dtype=float)
    terms = pd.DataFrame(
        {
            "covariate": [owner[nm] for nm in names],
            "coef": np.asarray(fit.params, float),
            "se": se,
            "t": np.asarray(fit.tvalues, float),
            "p_value": np.asarray(fit.pvalues, float),
            "p_perm": math.nan,
            "mde": mult * se,
        },
        index=pd.Index(names, name="term"),
    )
    for j, name in enumerate(names):
        if name != "Intercept":
            terms.loc[name, "p_perm"] = _perm_p(X, A, lev, y, np.array([j]), perms, exact)[1]
    tests = {}
    for cov in used:
        J = np.array([j for j, nm in enumerate(names) if owner[nm] == cov])
        if len(J) == 1:
            tests[cov] = {
                "df": 1,
                "wald": float(terms.iloc[J[0]]["t"] ** 2),
                "p_perm": float(terms.iloc[J[0]]["p_perm"]),
            }
        else:
            w, pp = _perm_p(X, A, lev, y, J, perms, exact)
            tests[cov] = {"df": len(J), "wald": w, "p_perm": pp}
    covariate_tests = pd.DataFrame.from_dict(tests, orient="index", columns=TEST_COLUMNS).rename_axis("covariate")
    covariate_tests["df"] = covariate_tests["df"].astype(int)
    J_all = np.arange(1, p)
    wald, wald_p_perm = _perm_p(X, A, lev, y, J_all, perms, exact)
    resid_sd = float(np.sqrt(fit.ssr / df_resid)) if df_resid > 0 else math.nan
    mde_std = mult / math.sqrt(n - 1)
    return CarDrivers(
        outcome=outcome,
        n=n,
        terms=terms,
        covariate_tests=covariate_tests,
        wald=wald,
        wald_df=p - 1,
        wald_p=float(special.chdtrc(p - 1, wald)),
        wald_p_perm=wald_p_perm,
        r2=float(fit.rsquared),
        adj_r2=float(fit.rsquared_adj),
        sigma=resid_sd,
        mde_standardized=mde_std,
        mde_half_split=2 * mde_std * resid_sd,
        permutations=len(perms) if exact else permutations,
        exact=exact,
        seed=seed,
        covariates=tuple(used),
        reference_levels=refs,
        notes=tuple(notes),
        alpha=alpha,
        power=power,
    )
