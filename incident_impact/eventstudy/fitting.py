"""One entry point that fits any normal-return model on an estimation window: :func:`fit`.

OLS models (:func:`.models.fit_ols`), the market model with GARCH / EGARCH errors
(:func:`.garch.fit_garch`) and the thin-trading betas (:func:`.thin.fit_thin`), chosen by
``model.estimator``. Kept apart from :mod:`.models` so that the model families can import the
shared pieces of :mod:`.models` without an import cycle.
"""

from __future__ import annotations

import numpy as np

from ..errors import IncidentImpactError
from .garch import fit_garch
from .models import FittedModel, NormalReturnModel, fit_ols
from .thin import fit_thin


def fit(model: NormalReturnModel, y: np.ndarray, X: np.ndarray, horizon: int = 0) -> FittedModel:
    """Fit ``model`` on the estimation rows ``(y, X)`` (in date order).

    ``horizon``: how many sessions past the last estimation return the AR variance is forecast
    (GARCH models; the others ignore it). Raises :class:`~incident_impact.errors.IncidentImpactError`
    (:class:`~.models.ModelFitError` for a model-specific failure, e.g. a GARCH fit that did not converge).
    """
    if model.estimator == "ols":
        return fit_ols(model, y, X)
    if model.estimator in ("garch", "egarch"):
        return fit_garch(model, y, X, horizon)
    if model.estimator in ("scholes-williams", "dimson"):
        return fit_thin(model, y, X)
    raise IncidentImpactError(f"unknown estimator {model.estimator!r} of the {model.name} model")
