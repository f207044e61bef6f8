"""Synthetic control: a convex combination of donor series fitted on the pre-period.

Weights ``w`` minimise ``||y_pre - Y0_pre w||^2`` subject to ``w >= 0, sum w = 1`` (the outcome-only
synthetic control of Abadie, Diamond & Hainmueller 2010), solved by SLSQP. The synthetic series
``Y0 w`` then enters the structural model (:mod:`.structural`) as its single control, so the
intervals carry the state-space model's uncertainty; the donors' in-space placebos
(:mod:`.placebo`) give Abadie's permutation inference.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from ..errors import SalesDataError
from .effect import Counterfactual
from .spec import ModelSpec
from .structural import structural_counterfactual


def simplex_weights(target: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 that minimise ``||target - donors @ w||^2`` (SLSQP).

    ``donors`` is ``(T, J)``; the objective is scaled by the target's s.d. for the optimiser.
    """
    n_donors = donors.shape[1]
    if n_donors == 0:
        raise SalesDataError("the synthetic design needs at least one donor series (--control)")
    scale = max(float(np.std(target)), 1e-12)
    a, b = donors / scale, target / scale
    result = optimize.minimize(
        lambda w: float(np.sum((b - a @ w) ** 2)),
        np.full(n_donors, 1 / n_donors),
        jac=lambda w: -2 * a.T @ (b - a @ w),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n_donors,
        constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1, "jac": lambda w: np.ones_like(w)}],
        options={"maxiter": 1000, "ftol": 1e-12},
    )
    weights = np.clip(result.x, 0, None)
    return weights / weights.sum()


def synthetic_counterfactual(y: np.ndarray, controls: np.ndarray | None, n_pre: int, spec: ModelSpec) -> Counterfactual:
    """The structural counterfactual of ``y`` with the synthetic control of ``controls`` as its regressor."""
    if controls is None or controls.shape[1] == 0:
        raise SalesDataError("the synthetic design needs at least one donor series (--control)")
    weights = simplex_weights(y[:n_pre], controls[:n_pre])
    synthetic = controls @ weights
    inner = structural_counterfactual(y, synthetic[:, None], n_pre, spec)
    rmspe = float(np.sqrt(np.mean((y[:n_pre] - synthetic[:n_pre]) ** 2)))
    params = {("beta.synthetic" if k == "beta.1" else k): v for k, v in inner.params.items()}
    params |= {f"weight.{j + 1}": float(w) for j, w in enumerate(weights)} | {"pre_rmspe": rmspe}
    description = (
        f"synthetic control of {controls.shape[1]} donors (non-negative weights summing to 1, fitted on the "
        f"pre-period; pre-period RMSPE {rmspe:.4g}) as the control of a {inner.description}"
    )
    return Counterfactual(
        inner.point,
        inner.draws,
        inner.fitted,
        description,
        params,
        inner.notes,
        inner.band,
        spec=inner.spec,
        choice=inner.choice,
    )
