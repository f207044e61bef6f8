"""Bootstrap p-values of the cross-sectional CAR tests that keep cross-sectional dependence.

The CAR-based statistics (``cs_t``, ``time_series_t``, ``patell``, ``bmp``, ``kp_bmp``,
``generalized_sign``) are recomputed on ``B`` pseudo event windows built from the events'
estimation-period abnormal returns ``AR_it`` (events x relative estimation days), which carry
no event effect. The relative estimation day ``t`` is the resampling unit, shared by all events:
for events on one calendar date (the clustered case) a relative day is one calendar date, so a
draw keeps that date's whole cross-section of abnormal returns together and the pseudo CARs have
the cross-correlation of the real ones — the joint resampling of the rows of the residual matrix
of Hein & Westfall (2004). Events on different dates are resampled independently, as they are.

* ``kind="date"``: the pseudo CAR of event ``i`` is ``CAR*_i = sum_{j=1..L} AR_{i,t_j}`` with
  ``t_1..t_L`` drawn uniformly with replacement from the estimation days (the same days for all
  events; a day an event lacks contributes 0).
* ``kind="wild"``: ``CAR*_i = sqrt(L / n_i) sum_t w_t AR_it`` over all of event ``i``'s ``n_i``
  estimation days, with Rademacher weights ``w_t = +-1`` (probability 1/2) shared by all events
  on day ``t`` (a wild bootstrap clustered by date; Wu 1986, Liu 1988; Cameron, Gelbach & Miller
  2008): ``E[CAR*_i] = 0`` exactly and ``Cov(CAR*_i, CAR*_j) = L mean_t AR_it AR_jt``, the CAR
  covariance under H0.

Each statistic ``S*_b`` uses the real standard errors ``SE_i``, degrees of freedom, ``rbar`` and
``p_hat``; the two-sided bootstrap p-value is ``(1 + #{b: |S*_b| >= |S|}) / (B + 1)`` (Davison &
Hinkley 1997, eq. 4.11). Kramer (2001) bootstraps the standardized cross-sectional statistic in
the same spirit (resampling the standardized abnormal returns). The pseudo windows have the
estimation period's variance: the bootstrap handles cross-correlation and non-normality, not
event-induced variance (``bmp`` and ``kp_bmp`` do, being standardized cross-sectionally). The rank
tests, ``wilcoxon`` and ``sq`` are not bootstrapped (NaN): they are distribution-free already.
The same ``seed`` gives the same p-values (``numpy.random.default_rng``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError
from . import statistics as st

#: Tests that get a bootstrap p-value.
BOOTSTRAPPED = ("cs_t", "time_series_t", "patell", "bmp", "kp_bmp", "generalized_sign")

#: Resampling schemes.
KINDS = ("date", "wild")

_CHUNK = 256


def pseudo_cars(est_ar: np.ndarray, length: int, n_boot: int, rng: np.random.Generator, kind: str) -> np.ndarray:
    """``n_boot`` pseudo CARs of every event (``n_boot`` x events) from the estimation ARs
    ``est_ar`` (events x days, NaN where missing) by ``kind`` (module docstring)."""
    ar = np.nan_to_num(np.asarray(est_ar, dtype=float))
    n_days = ar.shape[1]
    if kind == "date":
        draws = rng.integers(0, n_days, size=(n_boot, length))
        counts = np.zeros((n_boot, n_days))
        np.add.at(counts, (np.repeat(np.arange(n_boot), length), draws.ravel()), 1.0)
        return counts @ ar.T
    if kind == "wild":
        n_i = np.isfinite(np.asarray(est_ar, dtype=float)).sum(axis=1)
        weights = rng.choice(np.array([-1.0, 1.0]), size=(n_boot, n_days))
        return (weights @ ar.T) * np.sqrt(length / np.maximum(n_i, 1))
    raise IncidentImpactError(f"unknown bootstrap kind {kind!r}; choose one of {', '.join(KINDS)}")


def _statistics(car: np.ndarray, se: np.ndarray, df: np.ndarray, rbar: float, p_hat: float) -> dict[str, np.ndarray]:
    """Every bootstrapped statistic for each row of ``car`` (B x N), vectorised (same formulas as
    :mod:`.statistics`)."""
    n = car.shape[1]
    scar = car / se
    with np.errstate(invalid="ignore", divide="ignore"):
        cs = car.mean(axis=1) / (car.std(axis=1, ddof=1) / np.sqrt(n))
        bmp = scar.mean(axis=1) / (scar.std(axis=1, ddof=1) / np.sqrt(n))
        out = {
            "cs_t": cs,
            "time_series_t": car.mean(axis=1) / np.sqrt((se**2).sum() / n**2),
            "patell": scar.sum(axis=1) / np.sqrt((df / (df - 2)).sum()),
            "bmp": bmp,
            "kp_bmp": bmp * np.sqrt((1 - rbar) / (1 + (n - 1) * rbar)),
            "generalized_sign": ((car > 0).sum(axis=1) - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat)),
        }
    return out


def bootstrap_pvalues(
    results: Mapping[str, st.TestResult],
    inputs,
    est_ar: np.ndarray,
    length: int,
    n_boot: int,
    *,
    seed: int | None = None,
    kind: str = "date",
) -> pd.DataFrame:
    """Bootstrap p-values of the tests in ``results`` (name -> the real test's record) from the
    window's :class:`~.study_results.TestInputs` ``inputs`` and the events' estimation ARs ``est_ar``
    (events x estimation days, the events of ``inputs`` in order) for a window of ``length`` days.

    Returns a frame indexed by test name: ``statistic, p_value`` (the real test's),
    ``bootstrap_p_value`` (NaN for tests not in :data:`BOOTSTRAPPED` or not computed),
    ``n_boot, kind``.
    """
    if kind not in KINDS:
        raise IncidentImpactError(f"unknown bootstrap kind {kind!r}; choose one of {', '.join(KINDS)}")
    try:
        n_boot = int(n_boot)
    except (TypeError, ValueError):
        raise IncidentImpactError(f"the number of bootstrap samples must be a whole number, not {n_boot!r}") from None
    if n_boot < 1:
        raise IncidentImpactError(f"the number of bootstrap samples must be at least 1, not {n_boot}")
    est_ar = np.atleast_2d(np.asarray(est_ar, dtype=float))
    car, se, df = (np.asarray(v, dtype=float) for v in (inputs.car, inputs.se, inputs.df))
    n = len(car)
    rbar = float(inputs.rbar) if np.isfinite(inputs.rbar) else 0.0
    p_hat = float(np.mean(inputs.share_positive)) if n else float("nan")
    rng = np.random.default_rng(seed)
    exceed = dict.fromkeys(BOOTSTRAPPED, 0)
    real = {name: results[name].statistic if name in results else float("nan") for name in BOOTSTRAPPED}
    if n >= 2 and est_ar.shape == (n, est_ar.shape[1]) and est_ar.shape[1]:
        done = 0
        while done < n_boot:
            b = min(_CHUNK, n_boot - done)
            stats = _statistics(pseudo_cars(est_ar, length, b, rng, kind), se, df, rbar, p_hat)
            for name, values in stats.items():
                if np.isfinite(real[name]):
                    exceed[name] += int((np.abs(np.nan_to_num(values, nan=np.inf)) >= abs(real[name])).sum())
            done += b
        computed = True
    else:
        computed = False
    rows = []
    for name, res in results.items():
        ok = computed and name in BOOTSTRAPPED and np.isfinite(res.statistic)
        rows.append(
            {
                "statistic": res.statistic,
                "p_value": res.p_value,
                "bootstrap_p_value": (1 + exceed[name]) / (n_boot + 1) if ok else np.nan,
                "n_boot": n_boot,
                "kind": kind,
            }
        )
    return pd.DataFrame(rows, index=pd.Index(list(results), name="test"))
