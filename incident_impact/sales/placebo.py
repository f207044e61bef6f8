"""Placebo diagnostics: the same pipeline where there was no incident.

* **In time** (backdating; Abadie, Diamond & Hainmueller 2015): fake incident dates inside the
  pre-period, each using only data before the real incident and the same post length (shorter
  when the pre-period is too short for it).
* **In space** (Abadie et al. 2010): each control/donor in turn treated as the series hit, the
  others as its controls (the real series left out).

For each placebo the relative effect and the two-sided ``2 p`` are kept. The real effect is
judged against them by the share of placebos with ``|effect| >= |real effect|`` and the rank
p-value ``(1 + #) / (n + 1)``; the *false-positive rate* is the share of placebos "significant"
at ``alpha``. On short annual or quarterly series a mis-specified model finds effects at most
fake dates: then its own p-value means little.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import SalesDataError
from .design import counterfactual, minimum_pre
from .effect import Effect
from .spec import ModelSpec

#: Simulated paths per placebo run (at most).
PLACEBO_REPETITIONS = 500
#: Fewest in-time placebos that validate a model (see :mod:`.gate`).
MIN_PLACEBOS = 5


@dataclass(frozen=True, eq=False)
class Placebos:
    """Placebo runs of one kind (``in-time`` or ``in-space``) and how the real effect ranks among them."""

    kind: str
    labels: tuple[str, ...]
    effects: np.ndarray
    p_values: np.ndarray
    real_effect: float
    alpha: float
    horizon: int
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(np.isfinite(self.effects).sum())

    @property
    def n_as_large(self) -> int:
        return int((np.abs(self.effects[np.isfinite(self.effects)]) >= abs(self.real_effect)).sum())

    @property
    def share_as_large(self) -> float:
        """Share of placebos whose |relative effect| is at least the real one's."""
        return self.n_as_large / self.n if self.n and np.isfinite(self.real_effect) else float("nan")

    @property
    def rank_p_value(self) -> float:
        """``(1 + #{|placebo| >= |real|}) / (n + 1)``: the permutation p-value of the real effect."""
        return (1 + self.n_as_large) / (self.n + 1) if self.n and np.isfinite(self.real_effect) else float("nan")

    @property
    def false_positive_rate(self) -> float:
        """Share of placebos where the model reports an effect at level ``alpha``."""
        ok = np.isfinite(self.p_values)
        return float((self.p_values[ok] < self.alpha).mean()) if ok.any() else float("nan")

    def summary(self) -> str:
        if not self.n:
            return f"{self.kind} placebos: none possible" + (f" ({'; '.join(self.notes)})" if self.notes else "")
        return (
            f"{self.kind} placebos ({self.n}, {self.horizon} periods each): {self.n_as_large} of {self.n} as large as "
            f"the real effect (rank p = {self.rank_p_value:.3f}); the model found an effect at "
            f"{int(round(self.false_positive_rate * self.n))} of {self.n} (false-positive rate "
            f"{100 * self.false_positive_rate:.0f} %)"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per placebo: ``relative_effect, p_value, as_large, significant``."""
        return pd.DataFrame(
            {
                "relative_effect": self.effects,
                "p_value": self.p_values,
                "as_large": np.abs(self.effects) >= abs(self.real_effect),
                "significant": self.p_values < self.alpha,
            },
            index=pd.Index(self.labels, name="placebo"),
        )

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "horizon": self.horizon,
            "n": self.n,
            "n_as_large": self.n_as_large,
            "share_as_large": _num(self.share_as_large),
            "rank_p_value": _num(self.rank_p_value),
            "false_positive_rate": _num(self.false_positive_rate),
            "notes": list(self.notes),
            "runs": [
                {"label": lab, "relative_effect": _num(e), "p_value": _num(p)}
                for lab, e, p in zip(self.labels, self.effects, self.p_values, strict=True)
            ],
        }


def _num(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def _run(y: np.ndarray, controls: np.ndarray | None, n_pre: int, spec: ModelSpec, alpha: float) -> tuple[float, float]:
    try:
        effect = Effect(y[n_pre:], counterfactual(y, controls, n_pre, spec), alpha)
    except (SalesDataError, np.linalg.LinAlgError, ValueError):
        return float("nan"), float("nan")
    return effect.relative, min(1.0, 2 * effect.p_value)


def _placebo_spec(spec: ModelSpec) -> ModelSpec:
    return replace(spec, repetitions=min(spec.repetitions, PLACEBO_REPETITIONS))


def placebo_minimum(spec: ModelSpec, n_controls: int, n_pre: int) -> int:
    """Shortest usable placebo pre-period: ``max(m, min(2 m, ceil(n_pre / 2)))`` with ``m`` the
    :func:`.design.minimum_pre` of the fitted specification (which includes two seasonal cycles): a fake
    date gets room for the model, and up to twice that when the history allows, so that the variances
    are not estimated from a handful of points (which would make the placebo check fail spuriously)."""
    m = minimum_pre(spec, n_controls)
    return max(m, min(2 * m, math.ceil(n_pre / 2)))


def placebo_horizon(h: int, room: int) -> int:
    """Post length of the placebos: ``h``, shortened (down to ``ceil(h / 2)``) when that leaves room for
    :data:`MIN_PLACEBOS` distinct fake dates among the ``room`` periods between the shortest usable
    pre-period and the incident; never longer than ``room``."""
    return min(h, room, max(math.ceil(h / 2), room - (MIN_PLACEBOS - 1)))


def in_time(
    y: np.ndarray,
    controls: np.ndarray | None,
    n_pre: int,
    spec: ModelSpec,
    *,
    labels: pd.Index,
    real_effect: float,
    max_runs: int = 10,
    alpha: float = 0.05,
    fitted: ModelSpec | None = None,
) -> Placebos:
    """Up to ``max_runs`` fake incident dates, evenly spread over the usable part of the pre-period.

    Each run fits ``fitted`` (the specification the real analysis used, options chosen from the data
    filled in; default ``spec``) afresh -- its variances re-estimated on the shorter history -- so the
    check is of the model the verdict rests on; each fake date gets at least :func:`placebo_minimum`
    periods of history.
    """
    h = len(y) - n_pre
    first = placebo_minimum(fitted or spec, 0 if controls is None else controls.shape[1], n_pre)
    horizon = placebo_horizon(h, n_pre - first)
    notes = (
        [] if horizon >= h else [f"post length shortened from {h} to {max(horizon, 0)} periods to fit the pre-period"]
    )
    if horizon < 1 or max_runs < 1:
        return Placebos(
            "in-time",
            (),
            np.array([]),
            np.array([]),
            real_effect,
            alpha,
            max(horizon, 0),
            (f"the pre-period ({n_pre}) is too short for fake dates",) if max_runs else (),
        )
    starts = np.unique(np.linspace(first, n_pre - horizon, max_runs).round().astype(int)).tolist()
    sub = _placebo_spec(fitted or spec)
    runs = [
        _run(y[: s + horizon], None if controls is None else controls[: s + horizon], s, sub, alpha) for s in starts
    ]
    effects, ps = (np.array(v) for v in zip(*runs, strict=True))
    names = tuple(
        labels[s].date().isoformat() if isinstance(labels[s], pd.Timestamp) else str(labels[s]) for s in starts
    )
    return Placebos("in-time", names, effects, ps, real_effect, alpha, horizon, tuple(notes))


def in_space(
    y: np.ndarray,
    controls: np.ndarray | None,
    n_pre: int,
    spec: ModelSpec,
    *,
    names: tuple[str, ...],
    real_effect: float,
    alpha: float = 0.05,
) -> Placebos | None:
    """Each control treated as the series hit, with the other controls (None when there are fewer than 2)."""
    if controls is None or controls.shape[1] < 2 or spec.design == "its":
        return None
    sub = _placebo_spec(spec)
    runs = [_run(controls[:, j], np.delete(controls, j, axis=1), n_pre, sub, alpha) for j in range(controls.shape[1])]
    effects, ps = (np.array(v) for v in zip(*runs, strict=True))
    return Placebos("in-space", tuple(names), effects, ps, real_effect, alpha, len(y) - n_pre)
