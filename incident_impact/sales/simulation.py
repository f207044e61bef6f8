"""Simulation with known truth: R CausalImpact's vignette process and the coverage of the intervals.

The process (Brodersen et al. 2015; the CausalImpact vignette): ``x_t = 100 + u_t`` with
``u_t = 0.999 u_(t-1) + N(0, 1)``, ``y_t = 1.2 x_t + N(0, 1)``, and ``effect`` added to ``y`` in the
post-period. The true cumulative effect is ``effect * n_post``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .design import counterfactual
from .effect import Effect
from .spec import ModelSpec


def vignette_process(
    rng: np.random.Generator, n: int = 100, n_pre: int = 70, effect: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(y, x)`` with ``x`` of shape ``(n, 1)`` (see the module docstring)."""
    u = np.empty(n)
    u[0] = rng.normal()
    for t in range(1, n):
        u[t] = 0.999 * u[t - 1] + rng.normal()
    x = 100 + u
    y = 1.2 * x + rng.normal(size=n)
    y[n_pre:] += effect
    return y, x[:, None]


def coverage_runs(
    runs: int, effect: float, spec: ModelSpec, *, seed: int, n: int = 100, n_pre: int = 70, alpha: float = 0.05
) -> pd.DataFrame:
    """One row per run: ``effect, lower, upper`` of the cumulative effect, ``covered`` (the truth inside
    the interval), ``p_value`` (one-sided tail area) and ``width``."""
    rng = np.random.default_rng(seed)
    truth = effect * (n - n_pre)
    rows = []
    for _ in range(runs):
        y, x = vignette_process(rng, n, n_pre, effect)
        res = Effect(y[n_pre:], counterfactual(y, x, n_pre, spec), alpha)
        row = res.table.loc["cumulative"]
        rows.append(
            {
                "effect": row.effect,
                "lower": row.effect_lower,
                "upper": row.effect_upper,
                "covered": row.effect_lower <= truth <= row.effect_upper,
                "p_value": res.p_value,
                "width": row.effect_upper - row.effect_lower,
            }
        )
    return pd.DataFrame(rows)
