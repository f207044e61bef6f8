"""The effect of an incident on sales, summarised from simulated counterfactual paths.

Every design (:mod:`.structural`, :mod:`.regression`, :mod:`.synthetic`) returns a
:class:`Counterfactual`: a point path ``c_t`` for the ``h`` post periods and ``R`` simulated
paths ``C_ts``, on the sales scale. With ``y_t`` the observed sales (Brodersen et al. 2015;
R CausalImpact's ``summary``):

* pointwise effect ``y_t - c_t``, band ``y_t - q(C_t.)``; cumulative ``sum_(s<=t) (y_s - c_s)``,
  band from the quantiles of the simulated cumulative sums (0 at the end of the pre-period);
* average and cumulative rows, and the relative effect ``sum y / sum c - 1`` with the band
  ``sum y / q(sum C) - 1`` — not reported when the counterfactual sum is near 0 (its central
  99 % range contains 0), where the ratio explodes or flips sign;
* the one-sided tail-area probability ``p = min(1 + #{S_s >= S}, 1 + #{S_s <= S}) / (R + 1)``,
  ``S = sum y``, ``S_s = sum_t C_ts`` (R's definition, never 0); the 95 % interval excludes 0
  exactly when ``p < 0.025``, and the verdict's two-sided p is ``2 p``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..verdict import Verdict, judge

if TYPE_CHECKING:  # annotations only: select imports statsmodels, kept out of the import of this module
    from .select import SpecChoice
    from .spec import ModelSpec

ROWS = ("average", "cumulative")


@dataclass(frozen=True, eq=False)
class Counterfactual:
    """What a design predicts for the post-period had the incident not happened (sales scale).

    ``point`` (h,), ``draws`` (h, R); ``fitted`` (n_pre,) the in-sample fit (NaN where
    undefined); ``band`` is ``"prediction"`` when the draws include the series' own noise
    (structural models) and ``"confidence"`` when they hold estimation uncertainty only;
    ``spec`` the concrete :class:`~.spec.ModelSpec` fitted (options chosen from the data filled in)
    and ``choice`` the :class:`~.select.SpecChoice` when some were chosen automatically.
    """

    point: np.ndarray
    draws: np.ndarray
    fitted: np.ndarray
    description: str
    params: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    band: str = "prediction"
    spec: ModelSpec | None = None
    choice: SpecChoice | None = None


def tail_probability(observed_sum: float, draw_sums: np.ndarray) -> float:
    """R CausalImpact's one-sided tail area ``min(1 + #{S_s >= S}, 1 + #{S_s <= S}) / (R + 1)``."""
    above, below = int((draw_sums >= observed_sum).sum()), int((draw_sums <= observed_sum).sum())
    return (1 + min(above, below)) / (len(draw_sums) + 1)


def relative_draws(observed_sum: float, draw_sums: np.ndarray) -> np.ndarray | None:
    """``S / S_s - 1``, or None when the counterfactual sum is near 0 (0 inside its central 99 %)."""
    low, high = np.quantile(draw_sums, [0.005, 0.995])
    if low <= 0 <= high:
        return None
    return observed_sum / draw_sums - 1


@dataclass(frozen=True, eq=False)
class Effect:
    """The effect of one counterfactual on one observed post-period (``alpha``: 1 - interval level)."""

    observed: np.ndarray
    counterfactual: Counterfactual
    alpha: float = 0.05

    @cached_property
    def draw_sums(self) -> np.ndarray:
        return self.counterfactual.draws.sum(axis=0)

    @property
    def p_value(self) -> float:
        """One-sided tail-area probability (see the module docstring)."""
        return tail_probability(float(self.observed.sum()), self.draw_sums)

    @cached_property
    def relative_draws(self) -> np.ndarray | None:
        return relative_draws(float(self.observed.sum()), self.draw_sums)

    @property
    def relative(self) -> float:
        """``sum y / sum c - 1``; NaN when the counterfactual is near 0."""
        if self.relative_draws is None:
            return float("nan")
        return float(self.observed.sum() / self.counterfactual.point.sum() - 1)

    def _quantiles(self, values: np.ndarray) -> np.ndarray:
        return np.quantile(values, [self.alpha / 2, 1 - self.alpha / 2], axis=-1)

    @cached_property
    def table(self) -> pd.DataFrame:
        """Rows ``average``, ``cumulative``: ``actual, predicted, predicted_lower/upper, predicted_sd,
        effect, effect_lower/upper, effect_sd, relative, relative_lower/upper, relative_sd``.

        Relative columns are the same in both rows (NaN when the counterfactual is near 0).
        """
        h, cf = len(self.observed), self.counterfactual
        rel = self.relative_draws
        rel_lo, rel_hi = self._quantiles(rel) if rel is not None else (np.nan, np.nan)
        rows = {}
        for name, scale in zip(ROWS, (1 / h, 1.0), strict=True):
            actual, predicted, sims = scale * self.observed.sum(), scale * cf.point.sum(), scale * self.draw_sums
            lo, hi = self._quantiles(sims)
            rows[name] = {
                "actual": actual,
                "predicted": predicted,
                "predicted_lower": lo,
                "predicted_upper": hi,
                "predicted_sd": sims.std(ddof=1),
                "effect": actual - predicted,
                "effect_lower": actual - hi,
                "effect_upper": actual - lo,
                "effect_sd": sims.std(ddof=1),
                "relative": self.relative,
                "relative_lower": rel_lo,
                "relative_upper": rel_hi,
                "relative_sd": rel.std(ddof=1) if rel is not None else np.nan,
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def pointwise(self, index: pd.Index) -> pd.DataFrame:
        """Per post period: ``observed, predicted, predicted_lower/upper, effect, effect_lower/upper,
        cumulative, cumulative_lower/upper``."""
        cf, y = self.counterfactual, self.observed
        lo, hi = self._quantiles(cf.draws)
        cum_lo, cum_hi = self._quantiles(np.cumsum(y[:, None] - cf.draws, axis=0))
        return pd.DataFrame(
            {
                "observed": y,
                "predicted": cf.point,
                "predicted_lower": lo,
                "predicted_upper": hi,
                "effect": y - cf.point,
                "effect_lower": y - hi,
                "effect_upper": y - lo,
                "cumulative": np.cumsum(y - cf.point),
                "cumulative_lower": cum_lo,
                "cumulative_upper": cum_hi,
            },
            index=index,
        )

    def verdict(self, bound: float) -> Verdict | None:
        """The stock side's verdict classes on the relative effect (``bound``: a fraction of sales).

        Significance uses the two-sided ``2 p``; the equivalence test and the MDE use the normal
        approximation with the s.d. of the relative draws. None when the counterfactual is near 0.
        """
        rel = self.relative_draws
        if rel is None:
            return None
        return judge(
            self.relative,
            float(rel.std(ddof=1)),
            float("inf"),
            bound=bound,
            alpha=self.alpha,
            p_value=min(1.0, 2 * self.p_value),
        )
