"""One entry point for the four designs, and the shortest pre-period each accepts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .effect import Counterfactual
from .regression import did_counterfactual, its_counterfactual
from .select import candidates
from .spec import ModelSpec, n_states, structural_minimum
from .structural import structural_counterfactual
from .synthetic import synthetic_counterfactual

_DESIGNS = {
    "structural": structural_counterfactual,
    "did": did_counterfactual,
    "synthetic": synthetic_counterfactual,
    "its": its_counterfactual,
}


def counterfactual(y: np.ndarray, controls: np.ndarray | None, n_pre: int, spec: ModelSpec) -> Counterfactual:
    """The counterfactual of ``y[n_pre:]`` by ``spec.design``, fitted on ``y[:n_pre]``."""
    return _DESIGNS[spec.design](y, controls, n_pre, spec)


def minimum_pre(spec: ModelSpec, n_controls: int) -> int:
    """Fewest pre-period values accepted: ``max(8, k + 6, two seasonal cycles)`` with ``k`` the number of
    states (structural, synthetic: the first ``k`` periods initialise the diffuse states, at least 6 more
    estimate the variances), ``max(8, 2 k + 4)`` with ``k`` regression coefficients (did, its); for
    options chosen from the data (``spec.auto``), that of the simplest candidate."""
    if spec.auto:
        return min(minimum_pre(c, n_controls) for c in candidates(spec))
    if spec.design in ("structural", "synthetic"):
        return structural_minimum(spec, n_controls if spec.design == "structural" else 1)
    elif spec.design == "did":
        k = 2 if spec.trend else 1
    else:
        k = n_states(replace(spec, trend=True), 0)  # intercept, slope, seasonal terms
    return max(8, 2 * k + 4)
