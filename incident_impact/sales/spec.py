"""The options of a sales analysis, shared by every design, and pre-period standardisation."""

from __future__ import annotations

import math
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
    ``drift`` makes the structural model's slope fixed (a random walk with drift) instead of a
    random walk (local linear trend). The seasonal pattern is fixed (``s - 1`` seasonal states without
    disturbance) unless ``changing_season`` adds a seasonal variance (a pattern that changes from cycle to
    cycle, Harvey 1989 sec. 2.3). ``auto`` names the structural-model options chosen from the pre-period data
    (:mod:`.select`): ``"trend"`` (with and without a slope), ``"seasonal"`` (with and without
    the period ``seasonal``) and ``"log"`` (sales or log sales); the others are used as given.
    """

    design: str = "structural"
    log: bool = False
    level_sd: float | None = None
    trend: bool = False
    seasonal: float | None = None
    harmonics: int = 2
    repetitions: int = 1000
    seed: int = 1
    auto: tuple[str, ...] = ()
    drift: bool = False
    changing_season: bool = False

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise SalesDataError(f"unknown design {self.design!r}; choose one of {', '.join(DESIGNS)}")
        if self.level_sd is not None and not (np.isfinite(self.level_sd) and self.level_sd > 0):
            raise SalesDataError(
                f"the level s.d. must be a positive finite number (or None for maximum likelihood), got {self.level_sd}"
            )
        if self.level_sd is not None and self.level_sd > 10:
            raise SalesDataError(
                f"the level s.d. is in standardised units (1 = one pre-period s.d. per period); "
                f"{self.level_sd} is not a usable value (use at most 10, or 'mle')"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise SalesDataError(f"the seed must be a whole number >= 0, got {self.seed}")
        if set(self.auto) - {"trend", "seasonal", "log"}:
            raise SalesDataError(f"only trend, seasonal and log can be chosen automatically, not {self.auto}")
        if self.seasonal is not None and not np.isfinite(self.seasonal):
            raise SalesDataError(f"the seasonal period must be finite, got {self.seasonal}")
        if self.repetitions < 100:
            raise SalesDataError(f"at least 100 simulated paths are needed, got {self.repetitions}")
        if self.seasonal is not None and not self.seasonal >= 2:
            raise SalesDataError(f"the seasonal period must be at least 2, got {self.seasonal}")


def n_states(spec: ModelSpec, n_controls: int) -> int:
    """Number of states of the structural model: level (+ slope), seasonal, one per control."""
    period = spec.seasonal
    season = 0 if period is None else (round(period) - 1 if float(period).is_integer() else 2 * spec.harmonics)
    return (2 if spec.trend else 1) + season + n_controls


def structural_minimum(spec: ModelSpec, n_controls: int) -> int:
    """Fewest pre-period values for a structural model: ``max(8, k + 6, two seasonal cycles)``, ``k`` states (the
    first ``k`` periods initialise the diffuse states, at least 6 more estimate the variances)."""
    cycles = 0 if spec.seasonal is None else 2 * math.ceil(spec.seasonal)
    return max(8, n_states(spec, n_controls) + 6, cycles)


def to_model_scale(y: np.ndarray, log: bool, name: str) -> np.ndarray:
    """``log y`` (positive values required) or ``y``."""
    if not log:
        return np.asarray(y, dtype=float)
    if (np.asarray(y) <= 0).any():
        raise SalesDataError(f"{name} has zero or negative values, so it cannot be modelled in logs (drop --log)")
    return np.log(y)


def standardise(
    y: np.ndarray, n_pre: int, log: bool, name: str
) -> tuple[np.ndarray, Callable[[np.ndarray, np.ndarray | None], np.ndarray]]:
    """``z = (m - mean) / sd`` with the pre-period moments of ``m = log y`` or ``y``, and the inverse.

    The inverse maps standardised values back to sales; given the variance ``v`` of a normal
    forecast it returns the mean ``exp(m + v sd^2 / 2)`` of the log-normal in logs.
    """
    m = to_model_scale(y, log, name)
    scale = _scale(m[:n_pre])
    mean, sd = (m[:n_pre] / scale).mean() * scale, (m[:n_pre] / scale).std(ddof=1) * scale  # no overflow at 1e300
    if not sd > 0:
        raise SalesDataError(f"{name} is constant in the pre-period; there is nothing to model")

    def unscale(z: np.ndarray, var: np.ndarray | None) -> np.ndarray:
        level = z * sd + mean
        if not log:
            return level
        return np.exp(level if var is None else level + var * sd**2 / 2)

    return (m - mean) / sd, unscale


def log_jacobian(y: np.ndarray, n_pre: int, log: bool) -> np.ndarray:
    """``log |dz_t / dy_t|`` of :func:`standardise`: ``-log sd`` (levels) or ``-log sd - log y_t`` (logs), so that
    ``log p(y) = log p(z) + log |dz/dy|`` makes level and log models comparable on the sales scale."""
    m = to_model_scale(y, log, "sales")
    scale = _scale(m[:n_pre])
    sd = (m[:n_pre] / scale).std(ddof=1) * scale
    return -np.log(sd) - (np.log(y) if log else 0.0) + np.zeros(len(y))


def _scale(values: np.ndarray) -> float | np.ndarray:
    """Largest |value| (per column), 1 where that is 0: dividing by it first keeps squares finite."""
    top = np.abs(values).max(axis=0)
    return np.where(top > 0, top, 1.0) if np.ndim(top) else (float(top) if top > 0 else 1.0)


def standardise_columns(controls: np.ndarray, n_pre: int) -> np.ndarray:
    """Each control column minus its pre-period mean, divided by its pre-period s.d."""
    scaled = controls / _scale(controls[:n_pre])
    sd = scaled[:n_pre].std(axis=0, ddof=1)
    if not (sd > 0).all():
        raise SalesDataError(f"control {int(np.flatnonzero(~(sd > 0))[0]) + 1} is constant in the pre-period")
    return (scaled - scaled[:n_pre].mean(axis=0)) / sd
