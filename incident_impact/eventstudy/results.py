"""Results of a single-event study: tables, a text summary, JSON-ready dictionaries and a notebook display.

Every result answers in a few lines when printed (``repr``), as a small HTML table in a notebook
(``_repr_html_``: the CAR table), and in full with :meth:`EventStudyResult.summary`,
:meth:`~EventStudyResult.to_frame` and :meth:`~EventStudyResult.to_dict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd

from ..display import html_block, short_repr
from ..distributions import t_ppf, t_sf
from ..errors import IncidentImpactError
from .models import FittedModel
from .spec import EventStudySpec
from .statistics import TestResult, sq
from .windows import Window, format_window

#: Confidence level of :attr:`EventStudyResult.car_table` (other levels: :meth:`EventStudyResult.car_table_at`).
DEFAULT_LEVEL = 0.95


def check_level(level: float) -> float:
    """``level`` as a float strictly between 0 and 1, else an :class:`~incident_impact.errors.IncidentImpactError`."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise IncidentImpactError(f"the confidence level must be a number between 0 and 1, not {level!r}") from None
    if not 0 < value < 1:
        raise IncidentImpactError(f"the confidence level must lie strictly between 0 and 1 (e.g. 0.95), not {level!r}")
    return value


@dataclass(frozen=True, eq=False)
class EventStudyResult:
    """What one event study found.

    Attributes
    ----------
    event_id : the caller's label (may be None).
    event_date : the session the caller gave as day 0.
    day0 : the date that is relative day 0 (the first joined date on or after ``event_date``).
    fitted : the normal-return model's OLS fit on the estimation window.
    spec : the :class:`~.spec.EventStudySpec` the study was run with (its ``windows`` are those asked
        for; ``windows`` below are those the data allowed).
    estimation_window, windows : relative-day windows actually used.
    estimation : estimation-window rows (``rel_day, return, benchmark, expected, ar``).
    event : event-period rows (the same columns plus ``ar_se``).
    event_design : the event rows of the design matrix ``X*`` (for CAR variances).
    notes : data remarks, e.g. a shortened estimation window or a dropped window.
    """

    event_id: str | None
    event_date: pd.Timestamp
    day0: pd.Timestamp
    fitted: FittedModel
    spec: EventStudySpec
    estimation_window: Window
    windows: tuple[Window, ...]
    estimation: pd.DataFrame
    event: pd.DataFrame
    event_design: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()

    # ----------------------------------------------------------------- tables
    @property
    def model(self) -> str:
        return self.fitted.model.name

    @cached_property
    def params(self) -> pd.Series:
        """Estimated coefficients, the model's further estimates (GARCH: ``omega, alpha1, [gamma1,] beta1``;
        Scholes-Williams: ``b_lag, b_0, b_lead, rho_m``; Dimson: ``b_-1, b_0, b_+1``), ``sigma`` (residual
        s.d.) and ``r_squared`` when defined."""
        values = dict(zip(self.fitted.model.param_names, self.fitted.params.tolist(), strict=True))
        values |= {name: value for name, value, _ in self.fitted.extra}
        values["sigma"] = float(np.sqrt(self.fitted.sigma2))
        if self.fitted.r_squared is not None:
            values["r_squared"] = self.fitted.r_squared
        return pd.Series(values, name="params", dtype=float)

    @cached_property
    def params_table(self) -> pd.DataFrame:
        """One row per coefficient: ``coef, se, t_stat, p_value`` with ``se = sqrt(sigma^2 [(X'X)^-1]_jj)``
        (the OLS standard error, as statsmodels' ``bse``; GARCH: arch's robust standard errors, with rows
        for the variance parameters too) and a two-sided p-value from Student's t with the model's degrees
        of freedom. Empty for the market-adjusted model (nothing is estimated)."""
        f = self.fitted
        names = list(f.model.param_names)
        se = np.sqrt(np.diag(f.mean_cov)) if len(names) else np.empty(0)
        coef = f.params
        reported = [(name, value, s) for name, value, s in f.extra if np.isfinite(s)]
        if reported:
            names += [name for name, _, _ in reported]
            coef = np.concatenate([coef, [v for _, v, _ in reported]])
            se = np.concatenate([se, [s for _, _, s in reported]])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = coef / se
        return pd.DataFrame(
            {"coef": coef, "se": se, "t_stat": t, "p_value": 2 * t_sf(np.abs(t), f.df)},
            index=pd.Index(names, name="param"),
            dtype=float,
        )

    @cached_property
    def abnormal_returns(self) -> pd.DataFrame:
        """Daily rows of the event period: ``rel_day, return, benchmark, expected, ar, ar_se, car``.

        ``car`` cumulates ARs from the first day of the event period.
        """
        frame = self.event.copy()
        frame["car"] = frame["ar"].cumsum()
        return frame

    @cached_property
    def _event_arrays(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The event period's relative days (consecutive) and ARs, and the last estimation day."""
        return (
            self.event["rel_day"].to_numpy(),
            self.event["ar"].to_numpy(dtype=float),
            int(self.estimation["rel_day"].iloc[-1]),
        )

    def _rows(self, start: int, end: int) -> slice:
        """The event rows of relative days ``start..end``, or an error naming the event period."""
        rel, _, _ = self._event_arrays
        if not len(rel) or not rel[0] <= start <= end <= rel[-1]:
            span = format_window((int(rel.min()), int(rel.max()))) if len(rel) else "(none)"
            raise IncidentImpactError(
                f"the window {format_window((start, end))} is outside this result's event period "
                f"{span}, which spans the windows asked for; add {format_window((start, end))} to event_study's windows"
            )
        return slice(start - int(rel[0]), end - int(rel[0]) + 1)

    def car(self, window: Window) -> tuple[float, float]:
        """``(CAR, SE)`` over ``window`` (relative days, inclusive)."""
        rows = self._rows(*window)
        rel, ar, last = self._event_arrays
        car = float(ar[rows].sum())
        return car, float(np.sqrt(self.fitted.car_variance(self.event_design[rows], rel[rows] - last)))

    def sq_test(self, window: Window) -> TestResult:
        """Sample-quantile test (Gelbach, Helland & Klick 2013) of the CAR over ``window``.

        The CAR is placed in the empirical distribution of the CARs of every run of
        ``L = end - start + 1`` consecutive estimation-window abnormal returns; see
        :func:`incident_impact.eventstudy.statistics.sq`. Unlike the t-test it does not assume
        normal returns, which matters for one firm's fat-tailed daily returns.
        """
        car, _ = self.car(window)
        return sq(car, self.estimation["ar"].to_numpy(), window[1] - window[0] + 1)

    @cached_property
    def car_table(self) -> pd.DataFrame:
        """One row per window: ``start, end, n_days, car, se, t_stat, df, p_value, ci_lower, ci_upper``.

        ``t = CAR / SE`` with a two-sided p-value and a 95 % interval from Student's t with the
        model's degrees of freedom; :meth:`car_table_at` gives the interval at another level.
        """
        return self.car_table_at(DEFAULT_LEVEL)

    def car_table_at(self, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """:attr:`car_table` with a ``level`` (e.g. 0.90, 0.99) interval in ``ci_lower, ci_upper``."""
        level = check_level(level)
        df = self.fitted.df
        crit = t_ppf(0.5 + level / 2, df)
        rows = []
        for start, end in self.windows:
            car, se = self.car((start, end))
            t = car / se
            rows.append(
                {
                    "start": start,
                    "end": end,
                    "n_days": end - start + 1,
                    "car": car,
                    "se": se,
                    "t_stat": t,
                    "df": df,
                    "p_value": float(2 * t_sf(abs(t), df)),
                    "ci_lower": car - crit * se,
                    "ci_upper": car + crit * se,
                }
            )
        return pd.DataFrame(rows, index=pd.Index([format_window(w) for w in self.windows], name="window"))

    def car_path(self, start: int | None = None, level: float = 0.95) -> pd.DataFrame:
        """CAR cumulated from relative day ``start`` to each later event day, with its band.

        Columns ``rel_day, car, se, lower, upper``; the band is ``CAR +- t_crit SE`` using the
        full estimation-error-corrected variance of each partial window.
        """
        level = check_level(level)
        rel = self.event["rel_day"].to_numpy()
        start = int(rel[0]) if start is None else start
        if not rel[0] <= start <= rel[-1]:
            raise IncidentImpactError(
                f"car_path({start}) starts outside this result's event period "
                f"{format_window((int(rel[0]), int(rel[-1])))}, "
                f"which spans the windows asked for; add a window starting at day {start} to event_study's windows"
            )
        crit = t_ppf(0.5 + level / 2, self.fitted.df)
        rows = self._rows(start, int(rel[-1]))
        _, ar, last = self._event_arrays
        car = np.cumsum(ar[rows])
        se = np.sqrt(self.fitted.car_variances(self.event_design[rows], rel[rows] - last))
        return pd.DataFrame(
            {
                "rel_day": rel[rows].astype(int),
                "car": car,
                "se": se,
                "lower": car - crit * se,
                "upper": car + crit * se,
            },
            index=self.event.index[rows],
        )

    @property
    def estimation_info(self) -> dict:
        """First and last estimation date and the number of returns used."""
        idx = self.estimation.index
        return {"start": idx[0].date().isoformat(), "end": idx[-1].date().isoformat(), "n_obs": int(len(idx))}

    # ------------------------------------------------------------- outputs
    def to_frame(self) -> pd.DataFrame:
        """The window table (a copy of :attr:`car_table`)."""
        return self.car_table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: model, estimation, params, windows (the CAR table and each window's
        sample-quantile p, ``sq_p_value``) and daily abnormal returns."""
        ar = self.abnormal_returns
        return {
            "event_id": self.event_id,
            "event_date": self.event_date.date().isoformat(),
            "day0": self.day0.date().isoformat(),
            "model": self.model,
            "estimation": self.estimation_info,
            "params": {k: float(v) for k, v in self.params.items()},
            "windows": [
                {k: (int(v) if k in ("start", "end", "n_days", "df") else float(v)) for k, v in row.items()}
                | {"sq_p_value": float(self.sq_test(window).p_value)}
                for row, window in zip(self.car_table.to_dict("records"), self.windows, strict=True)
            ],
            "abnormal_returns": [
                {
                    "date": pd.Timestamp(cast(Any, date)).date().isoformat(),
                    "rel_day": int(row.rel_day),
                    "return": float(row["return"]),
                    "expected": float(row.expected),
                    "ar": float(row.ar),
                    "car": float(row.car),
                }
                for date, row in ar.iterrows()
            ],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """A plain-text summary: model, estimation window, parameters and the CAR table."""
        info = self.estimation_info
        head = [
            f"Event study{f' {self.event_id}' if self.event_id else ''}: day 0 = {self.day0.date()}",
            f"Model: {self.fitted.model.description}",
            f"Estimation: {format_window(self.estimation_window)} = {info['start']} .. {info['end']} "
            f"({info['n_obs']} returns)",
            "Parameters: " + ", ".join(f"{k} = {v:.6g}" for k, v in self.params.items()),
        ]
        table = self.car_table
        lines = [f"{'window':<10} {'CAR %':>8} {'SE %':>7} {'t':>7} {'p':>7} {'SQ p':>7}   95% CI (%)"]
        for (label, row), window in zip(table.iterrows(), self.windows, strict=True):
            sq_p = self.sq_test(window).p_value
            lines.append(
                f"{label:<10} {100 * row.car:>8.2f} {100 * row.se:>7.2f} {row.t_stat:>7.2f} {row.p_value:>7.3f}"
                f" {sq_p:>7.3f}   [{100 * row.ci_lower:.2f}, {100 * row.ci_upper:.2f}]"
            )
        lines.append(
            "t: CAR / SE, Student t; SQ p: sample-quantile test against the estimation window's CARs "
            "(Gelbach, Helland & Klick 2013)"
        )
        notes = [f"Note: {n}" for n in self.notes]
        return "\n".join(head + [""] + lines + ([""] + notes if notes else []))

    def _label(self) -> str:
        return f"{self.event_id}, " if self.event_id else ""

    def __repr__(self) -> str:
        info = self.estimation_info
        windows = ", ".join(format_window(w) for w in self.windows)
        return short_repr(
            "EventStudyResult",
            [
                f"{self._label()}day 0 = {self.day0.date()}, {self.model} model",
                f"estimation {format_window(self.estimation_window)} ({info['n_obs']} returns); windows {windows}",
            ],
        )

    def _repr_html_(self) -> str:
        table = self.car_table[["car", "se", "t_stat", "p_value", "ci_lower", "ci_upper"]]
        info = self.estimation_info
        return html_block(
            f"Event study {self._label()}day 0 = {self.day0.date()}",
            [
                f"{self.fitted.model.description}; estimation {format_window(self.estimation_window)} "
                f"({info['n_obs']} returns). CARs in decimals, 95 % intervals.",
                *self.notes,
            ],
            table,
        )
