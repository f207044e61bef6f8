"""The options of a sales analysis, shared by every design, and pre-period standardisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import SalesDataError

DESIGNS = ("structural", "did", "synthetic", "its")


@dataclass(frozen=True)
class ModelSpec:
    """How the counterfactual is built.

    ``design``: ``structural`` (state-space model, controls as regressors), ``did``
    (difference-in-differences on the gap to the controls' mean), ``synthetic`` (a synthetic
    control from donor series, then the structural model on it) or ``its`` (one series,
    segmented regression; weaker: it extrapolates the pre-trend). ``log`` models log sales
    (multiplicative effects); ``level_sd`` is the structural model's level s.d. in standardised
    units (None: maximum likelihood); ``trend`` adds a slope (local linear trend; a linear
    pre-trend in ``did``); ``seasonal`` is the seasonal period (None: none; a non-integer period
    uses ``harmonics`` trigonometric pairs); ``repetitions`` simulated paths, seeded by ``seed``.
    """

    design: str = "structural"
    log: bool = False
    level_sd: float | None = 0.01
    trend: bool = False
    seasonal: float | None = None
    harmonics: int = 2
    repetitions: int = 1000
    seed: int = 1

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise SalesDataError(f"unknown design {self.design!r}; choose one of {', '.join(DESIGNS)}")
        if self.level_sd is not None and not self.level_sd > 0:
            raise SalesDataError(f"the level s.d. must be positive (or None for maximum likelihood), got {self.level_sd}")
        if self.repetitions < 100:
            raise SalesDataError(f"at least 100 simulated paths are needed, got {self.repetitions}")
        if self.seasonal is not None and not self.seasonal >= 2:
            raise SalesDataError(f"the seasonal period must be at least 2, got {self.seasonal}")


def to_model_scale(y: np.ndarray, log: bool, name: str) -> np.ndarray:
    """``log y`` (positive values required) or ``y``."""
    if not log:
        return np.asarray(y, dtype=float)
    if (np.asarray(y) <= 0).any():
        raise SalesDataError(f"{name} has zero or negative values, so it cannot be modelled in logs (drop --log)")
    return np.log(y)


def standardise(y: np.ndarray, n_pre: int, log: bool, name: str
                ) -> tuple[np.ndarray, Callable[[np.ndarray, np.ndarray | None], np.ndarray]]:
    """``z = (m - mean) / sd`` with the pre-period moments of ``m = log y`` or ``y``, and the inverse.

    The inverse maps standardised values back to sales; given the variance ``v`` of a normal
    forecast it returns the mean ``exp(m + v sd^2 / 2)`` of the log-normal in logs.
    """
    m = to_model_scale(y, log, name)
    mean, sd = m[:n_pre].mean(), m[:n_pre].std(ddof=1)
    if not sd > 0:
        raise SalesDataError(f"{name} is constant in the pre-period; there is nothing to model")

    def unscale(z: np.ndarray, var: np.ndarray | None) -> np.ndarray:
        level = z * sd + mean
        if not log:
            return level
        return np.exp(level if var is None else level + var * sd ** 2 / 2)

    return (m - mean) / sd, unscale


def standardise_columns(controls: np.ndarray, n_pre: int) -> np.ndarray:
    """Each control column minus its pre-period mean, divided by its pre-period s.d."""
    sd = controls[:n_pre].std(axis=0, ddof=1)
    if not (sd > 0).all():
        raise SalesDataError(f"control {int(np.flatnonzero(~(sd > 0))[0]) + 1} is constant in the pre-period")
    return (controls - controls[:n_pre].mean(axis=0)) / sd
