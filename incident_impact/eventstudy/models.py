"""Normal-return models behind one small interface.

Every model turns the joined data (columns ``return`` and ``benchmark``) into a regression
``y = X theta + e`` fitted by OLS on the estimation window; the abnormal return is
``AR = y - X theta_hat``. With ``k`` columns in ``X`` and ``n`` estimation days,
``sigma^2 = SSR / (n - k)`` and, for a window of ``L`` days whose design rows sum to
``g = X*' iota``, ``Var(CAR) = sigma^2 (L + g' (X'X)^-1 g)`` (Campbell, Lo & MacKinlay 1997,
ch. 4; MacKinlay 1997). The market-adjusted model estimates nothing (``k = 0``).

Factor models (``ff3``: Fama & French 1993; ``carhart``: Carhart 1997; ``ff5``: Fama & French
2015) regress the excess return ``R - rf`` on a constant and the factors, all in decimals per
day (:func:`incident_impact.eventstudy.factors.read_french_factors` converts Kenneth French's
percent files); their abnormal return ``R - rf - X theta_hat`` and CAR variance use the same
generic formula with ``k = 4, 5, 6``.

Models fitted otherwise than by OLS keep the market model's abnormal return
``AR = R - (alpha + beta R_m)`` but estimate ``alpha, beta`` (and the AR variance) their own way:

* ``garch`` / ``egarch`` (:mod:`.garch`): the market model with GARCH(1,1) or EGARCH(1,1) errors by
  maximum likelihood (Kevin Sheppard's ``arch``); ARs are standardised by the conditional variance
  forecast from the end of the estimation window, ``Var(CAR) = sum_t h_{T+t|T} + g' V g``.
* ``scholes-williams`` / ``dimson`` (:mod:`.thin`): betas corrected for thin (non-synchronous)
  trading (Scholes & Williams 1977; Dimson 1979); ``Var(CAR) = sigma^2 (L + g' (X'X)^-1 g)`` as above.

These are fitted event by event: the batch engine refuses them (``BatchUnsupported``) and
:func:`~.study.run_study` runs the loop engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError


class ModelFitError(IncidentImpactError):
    """A normal-return model that cannot be fitted on one event's estimation window (a GARCH
    likelihood that did not converge, a degenerate fit, too few returns for the model); the message
    says why. :func:`~.study.run_study` lists the event in ``failures`` with it."""


@dataclass(frozen=True)
class NormalReturnModel:
    """A model of normal (expected) returns.

    Attributes
    ----------
    name : registry key (``market``, ``mean``, ``market-adjusted``, ``ff3``, ``carhart``, ``ff5``,
        ``garch``, ``egarch``, ``scholes-williams``, ``dimson``).
    param_names : names of the estimated coefficients, one per column of ``X``.
    regressors : columns of the joined data that follow the constant in ``X``.
    offset : column subtracted from the return to form ``y`` (``benchmark`` for
        market-adjusted returns, ``rf`` for the excess returns of the factor models), or ``None``.
    description : one line for summaries and reports.
    estimator : how ``param_names`` are estimated: ``ols`` (default), ``garch``, ``egarch``
        (:mod:`.garch`), ``scholes-williams`` or ``dimson`` (:mod:`.thin`).
    lags : Dimson's number of leads and lags of the market return (``k``; 0 for other models).
    """

    name: str
    param_names: tuple[str, ...]
    regressors: tuple[str, ...]
    offset: str | None
    description: str
    estimator: str = "ols"
    lags: int = 0

    @property
    def batchable(self) -> bool:
        """True when the batch engine's batched OLS fits the model (``estimator == "ols"``)."""
        return self.estimator == "ols"

    @property
    def needs_benchmark(self) -> bool:
        """True when the model uses the benchmark's returns (market, market-adjusted)."""
        return "benchmark" in self.regressors or self.offset == "benchmark"

    @property
    def factor_columns(self) -> tuple[str, ...]:
        """Factor-table columns the model needs (regressors and the risk-free offset)."""
        cols = [c for c in (*self.regressors, self.offset) if c and c != "benchmark"]
        return tuple(dict.fromkeys(cols))

    @property
    def has_constant(self) -> bool:
        return len(self.param_names) > len(self.regressors)

    def variables(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Dependent variable ``y`` and design ``X`` (n x k) from the joined data."""
        y = data["return"].to_numpy(float)
        if self.offset:
            y = y - data[self.offset].to_numpy(float)
        columns = [np.ones(len(data))] if self.has_constant else []
        columns += [data[c].to_numpy(float) for c in self.regressors]
        X = np.column_stack(columns) if columns else np.empty((len(data), 0))
        return y, X

    def residual_variance(self, residuals: np.ndarray) -> tuple[float, int]:
        """``(sigma^2, degrees of freedom)`` from the estimation-window residuals.

        OLS models use ``SSR / (n - k)``. A model without a fitted mean (market-adjusted)
        centres its abnormal returns: ``sum((AR - mean AR)^2) / (n - 1)``.
        """
        n, k = len(residuals), len(self.param_names)
        if not self.has_constant:
            return float(np.var(residuals, ddof=1)), n - 1
        with np.errstate(over="ignore"):  # an overflow gives inf, which the caller rejects with a clear error
            return float(residuals @ residuals / (n - k)), n - k


MODELS: dict[str, NormalReturnModel] = {
    m.name: m
    for m in (
        NormalReturnModel("market", ("alpha", "beta"), ("benchmark",), None, "market model R = alpha + beta R_m (OLS)"),
        NormalReturnModel("mean", ("mu",), (), None, "constant-mean model R = mu"),
        NormalReturnModel("market-adjusted", (), (), "benchmark", "market-adjusted returns AR = R - R_m"),
        NormalReturnModel(
            "ff3",
            ("alpha", "b_mkt", "b_smb", "b_hml"),
            ("mkt_rf", "smb", "hml"),
            "rf",
            "Fama-French 3-factor model R - rf = a + b MKT + s SMB + h HML (OLS)",
        ),
        NormalReturnModel(
            "carhart",
            ("alpha", "b_mkt", "b_smb", "b_hml", "b_mom"),
            ("mkt_rf", "smb", "hml", "mom"),
            "rf",
            "Carhart 4-factor model R - rf = a + b MKT + s SMB + h HML + m MOM (OLS)",
        ),
        NormalReturnModel(
            "ff5",
            ("alpha", "b_mkt", "b_smb", "b_hml", "b_rmw", "b_cma"),
            ("mkt_rf", "smb", "hml", "rmw", "cma"),
            "rf",
            "Fama-French 5-factor model R - rf = a + b MKT + s SMB + h HML + r RMW + c CMA (OLS)",
        ),
        NormalReturnModel(
            "garch",
            ("alpha", "beta"),
            ("benchmark",),
            None,
            "market model R = alpha + beta R_m with GARCH(1,1) errors (ML, arch)",
            estimator="garch",
        ),
        NormalReturnModel(
            "egarch",
            ("alpha", "beta"),
            ("benchmark",),
            None,
            "market model R = alpha + beta R_m with EGARCH(1,1) errors (ML, arch)",
            estimator="egarch",
        ),
        NormalReturnModel(
            "scholes-williams",
            ("alpha", "beta"),
            ("benchmark",),
            None,
            "market model with the Scholes-Williams (1977) thin-trading beta",
            estimator="scholes-williams",
        ),
        NormalReturnModel(
            "dimson",
            ("alpha", "beta"),
            ("benchmark",),
            None,
            "market model with the Dimson (1979) thin-trading beta (1 lead, 1 lag)",
            estimator="dimson",
            lags=1,
        ),
    )
}

#: Columns a factor table must hold (decimal returns per day, see :mod:`.factors`).
FACTOR_COLUMNS = ("mkt_rf", "smb", "hml", "rmw", "cma", "mom", "rf")


def get_model(name: str | NormalReturnModel) -> NormalReturnModel:
    """Look a model up by name; unknown names raise with the list of known ones."""
    if isinstance(name, NormalReturnModel):
        return name
    try:
        return MODELS[name]
    except (KeyError, TypeError):  # TypeError: an unhashable value such as a list
        raise IncidentImpactError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None


@dataclass(frozen=True)
class FittedModel:
    """Fit of a normal-return model on one estimation window.

    ``params`` are the coefficients of ``model.param_names`` (one per column of ``X``), so
    ``AR = y - X params`` for every model. ``sigma2`` is the residual variance ``SSR / df``.

    Optional, for models not fitted by OLS (defaults keep the OLS formulas):

    * ``extra`` — further estimates ``(name, value, se)`` shown by ``EventStudyResult.params``
      (GARCH: ``omega, alpha1, [gamma1,] beta1``; Scholes-Williams: ``b_lag, b_0, b_lead, rho_m``;
      Dimson: ``b_<k>``), ``se`` NaN when none is reported;
    * ``param_cov`` — covariance of ``params`` when it is not ``sigma2 (X'X)^-1`` (GARCH: arch's);
    * ``variance_forecast`` — the AR variance forecast for the 1st, 2nd, ... session after the last
      estimation return (GARCH); days are then given to :meth:`ar_variance` / :meth:`car_variance`
      by their ``horizons`` (relative day minus the last estimation day).
    """

    model: NormalReturnModel
    params: np.ndarray
    sigma2: float
    df: int
    xtx_inv: np.ndarray
    n_obs: int
    r_squared: float | None
    extra: tuple[tuple[str, float, float], ...] = ()
    param_cov: np.ndarray | None = field(default=None, repr=False)
    variance_forecast: np.ndarray | None = field(default=None, repr=False)

    @property
    def mean_cov(self) -> np.ndarray:
        """Covariance of ``params``: ``param_cov`` when given, else ``sigma^2 (X'X)^-1``."""
        return self.param_cov if self.param_cov is not None else self.sigma2 * self.xtx_inv

    def _forecast(self, horizons: np.ndarray | None, n: int) -> np.ndarray:
        """The variance forecasts at ``horizons`` (1 = first session after the estimation window), NaN
        outside the forecast."""
        assert self.variance_forecast is not None
        if horizons is None:
            raise IncidentImpactError(f"the {self.model.name} model's AR variance depends on the day: give horizons")
        h = np.asarray(horizons, dtype=int).reshape(n)
        ok = (h >= 1) & (h <= len(self.variance_forecast))
        return np.where(ok, self.variance_forecast[np.clip(h - 1, 0, len(self.variance_forecast) - 1)], np.nan)

    def ar_variance(self, design_rows: np.ndarray, horizons: np.ndarray | None = None) -> np.ndarray:
        """Variance of each day's AR: ``sigma^2 (1 + x_t' (X'X)^-1 x_t)``; with a variance forecast
        (GARCH) ``h_{T+h|T} + x_t' V x_t``, ``V`` the covariance of the estimated ``params``."""
        X = np.asarray(design_rows, dtype=float)
        leverage = np.einsum("ij,jk,ik->i", X, self.mean_cov, X) if X.shape[1] else np.zeros(len(X))
        if self.variance_forecast is None:
            return self.sigma2 + leverage
        return self._forecast(horizons, len(X)) + leverage

    def car_variance(self, design_rows: np.ndarray, horizons: np.ndarray | None = None) -> float:
        """Variance of a CAR over the event days whose design rows are ``design_rows`` (L x k, L >= 1).

        ``sigma^2 (L + g' (X'X)^-1 g)`` with ``g`` the column sums of ``design_rows``; this keeps
        the covariance between days that the shared parameter estimates induce (CLM 1997,
        eq. 4.4.14), which summing daily variances would drop. With a variance forecast (GARCH,
        ``horizons`` the days' distances from the estimation end): ``sum_t h_{T+t|T} + g' V g``.
        """
        return float(self.car_variances(design_rows, horizons)[-1])

    def car_variances(self, design_rows: np.ndarray, horizons: np.ndarray | None = None) -> np.ndarray:
        """:meth:`car_variance` of the CAR over the first ``1, 2, ..., L`` of the event days whose design rows
        are ``design_rows`` (a CAR path), from the running sums ``g_m`` of the rows at once."""
        rows = np.asarray(design_rows, dtype=float)
        L = len(rows)
        G = np.cumsum(rows, axis=0)
        if self.variance_forecast is not None:
            quad = np.einsum("mi,ij,mj->m", G, self.mean_cov, G) if rows.shape[1] else 0.0
            return np.cumsum(self._forecast(horizons, L)) + quad
        if self.xtx_inv.size == 0:
            return self.sigma2 * np.arange(1, L + 1, dtype=float)
        return self.sigma2 * (np.arange(1, L + 1) + np.einsum("mi,ij,mj->m", G, self.xtx_inv, G))


def fit(model: NormalReturnModel, y: np.ndarray, X: np.ndarray) -> FittedModel:
    """Fit an OLS ``model`` on the estimation rows ``(y, X)`` (:func:`fit_ols`). Models with another
    estimator (GARCH, thin-trading betas) are fitted by :func:`.fitting.fit`, which dispatches on
    ``model.estimator``."""
    if model.estimator != "ols":
        raise IncidentImpactError(
            f"the {model.name} model is not fitted by OLS: use incident_impact.eventstudy.fitting.fit"
        )
    return fit_ols(model, y, X)


def fit_ols(model: NormalReturnModel, y: np.ndarray, X: np.ndarray) -> FittedModel:
    """Fit ``model``'s regression by OLS on ``(y, X)``, whatever its estimator (the checks every
    model shares: a regular design, a usable residual variance).

    ``R^2 = 1 - SSR / SST`` is reported for models with a constant and regressors.
    """
    n, k = X.shape
    singular = IncidentImpactError("the estimation window's design matrix is singular (constant benchmark?)")
    if k:
        if np.linalg.matrix_rank(X) < k:  # e.g. a constant benchmark next to the constant
            raise singular
        try:
            xtx_inv = np.linalg.inv(X.T @ X)
        except np.linalg.LinAlgError:
            raise singular from None
        params = xtx_inv @ (X.T @ y)
        resid = y - X @ params
    else:
        xtx_inv, params, resid = np.empty((0, 0)), np.empty(0), y
    if k and not np.all(np.isfinite(xtx_inv)):
        raise singular
    sigma2, df = model.residual_variance(resid)
    if not (np.isfinite(sigma2) and sigma2 > 1e-16 * float(np.var(y))):  # relative: 0 up to rounding
        raise IncidentImpactError(
            f"the abnormal returns of the estimation window have no usable variance ({sigma2:.3g}): constant "
            "prices, the stock as its own benchmark, or absurd (overflowing) returns; check the prices"
        )
    r2 = None
    if model.has_constant and model.regressors:
        centred = y - y.mean()
        r2 = float(1 - resid @ resid / (centred @ centred))
    return FittedModel(model, params, sigma2, df, xtx_inv, n, r2)
