"""Persistence and recovery of one incident's abnormal return over 20, 60 and 120 sessions.

For one stock and day 0, :func:`recovery` fits the normal-return model on the pre-event
estimation window (default [-250,-11], as every event study here) and follows the cumulative
abnormal return ``CAR(0, t) = sum_{s=0..t} AR_s`` from day 0 to day ``+H`` (``H`` the longest
horizon). Each horizon ``h`` gets honest long-horizon inference:

* ``car, se, t_stat, p_value`` — :func:`~incident_impact.eventstudy.event_study` over ``[0, h]``
  (the same numbers, to rounding); ``se^2 = sigma^2 (L + g'(X'X)^-1 g)`` (Campbell, Lo & MacKinlay
  1997, eq. 4.4.14), ``L = h + 1``, ``p`` from Student's t with the model's degrees of freedom. This
  band assumes independent, normal abnormal returns of constant variance: over 60-120 sessions
  volatility clustering, fat tails and event-induced variance make it too narrow, so read it beside
  the two distribution-free p-values below (the validation, ``validation/longrun_results.md``, gives
  its size);
* ``sq_p_value`` — the sample-quantile (SQ) test of Gelbach, Helland & Klick (2013) against the
  stock's **whole pre-event history** of ``L``-day CARs: the estimation model's abnormal returns
  ``AR_t = y_t - x_t' theta_hat`` of every joined session before day 0 (the estimation window's
  in-sample residuals and, before it, out-of-sample ones), summed over every run of ``L``
  consecutive sessions; ``p = min(1, 2 min(F(CAR), 1 - F(CAR-)))`` with ``F`` the empirical share
  (:func:`incident_impact.eventstudy.statistics.sq`). Why not the estimation window alone: it holds
  240 - L + 1 overlapping CARs (120 for ``L = 121``, fewer than two independent ones), and because
  the in-sample residuals sum to zero over the 240 days, the variance of an ``L``-day residual sum
  is about ``sigma^2 L (1 - L/240)`` — half the true one at ``L = 121`` — so that version over-rejects.
  It is still reported (``sq_p_value_estimation``) with its count. Both need at least 20 windows;
  ``n_sq_windows`` counts the overlapping windows, ``n_sq_independent = floor(T_pre / L)`` the
  non-overlapping ones, the honest size of the reference sample. The simulation in
  ``validation/longrun_size.py`` finds it near nominal with ~60 non-overlapping windows but liberal with
  few (about 8 % at 5 % with ~20, 11 % with ~10, i.e. ``[0,+120]`` on five years): a note flags horizons
  with fewer than 20, so load a long pre-event history;
* ``placebo_p_value`` — optional (``placebo=``): the share of the stock's placebo CARs over ``[0, h]``
  (:func:`~incident_impact.eventstudy.placebo_cars`, the model refitted at each pseudo day 0 of the
  loaded history) with ``|CAR_p| >= |CAR|``, pseudo day 0s whose ``[0, h]`` meets the real ``[0, h]``
  left out (as :func:`~incident_impact.eventstudy.placebo_test`).

A horizon whose data end before ``day 0 + h`` is **not yet observable**: NaN with that reason, never
a partial number. Confounders (earnings, analyst actions, other news) inside each horizon are listed,
never dropped: a 120-session window nearly always holds an earnings release.

Recovery metrics of the path ``c_t = CAR(0, t)``, ``t = 0..T`` (``T`` = the longest observable
horizon, or the data end when it comes first), see :func:`recovery_metrics`:

* trough: ``c_min = min_t c_t`` and its first day ``t_min``;
* half-life: with a loss (``c_min < 0``), ``min{t > t_min : c_t >= c_min / 2} - t_min`` sessions —
  the time to regain half the loss; None when there is no loss or half is never regained;
* recovered by: with ``m`` the minimum detectable effect (default: the MDE at 80 % power of the
  headline window ``[0, +1]``, :func:`incident_impact.verdict.minimum_detectable_effect`), the first
  session ``d`` with ``c_t > -m`` for every ``t >= d`` up to ``T``: 0 when the path never fell to
  ``-m``; None ("not recovered within T sessions") when ``c_T <= -m``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from ..display import html_block, short_repr
from ..distributions import t_sf
from ..errors import IncidentImpactError
from ..eventstudy import (
    DEFAULT_ESTIMATION,
    MIN_ESTIMATION_OBS,
    EventStudyResult,
    event_study,
    format_window,
    get_model,
    joined_returns,
    parse_window,
)
from ..eventstudy import statistics as st

#: Default horizons (sessions after day 0) of :func:`recovery`.
HORIZONS: tuple[int, ...] = (20, 60, 120)
#: Fewest overlapping L-day CARs the SQ test accepts (as :func:`incident_impact.eventstudy.statistics.sq`).
MIN_SQ_WINDOWS = 20
#: Non-overlapping pre-event windows below which the SQ test is flagged as liberal (validation/longrun_results.md).
SQ_INDEPENDENT_OK = 20

IID_NOTE = (
    "p_value: Student t on CAR/SE with the CLM variance, which assumes independent normal abnormal "
    "returns of constant variance (too narrow a band over long windows if volatility clusters); "
    "sq_p_value and placebo_p_value do not assume it"
)


def jsonable(value):
    """``value`` for JSON: NaN/inf -> None, numpy scalars -> Python, Timestamps -> ISO dates, containers recursively."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _pct(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:+.{digits}f} %"


def _p(x: float | None) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.3f}"


# ------------------------------------------------------------------ metrics
@dataclass(frozen=True)
class RecoveryMetrics:
    """Trough, half-life and recovery of one CAR path (see :func:`recovery_metrics`)."""

    trough_day: int | None
    trough_car: float
    half_life_sessions: int | None
    recovered_by: int | None
    status: str
    path_end: int | None
    hurt: bool | None


def recovery_metrics(path: pd.Series, mde: float | None) -> RecoveryMetrics:
    """Recovery metrics of a CAR path ``c_t`` indexed by relative day ``t = 0, 1, ..., T``.

    * ``trough_car = min_t c_t``, ``trough_day`` its first day;
    * ``half_life_sessions = min{t > trough_day : c_t >= trough_car / 2} - trough_day`` when
      ``trough_car < 0`` (None with no loss, or when half the loss is never regained by ``T``);
    * ``recovered_by``: the first ``d`` with ``c_t > -mde`` for all ``t`` in ``[d, T]``; 0 when the
      path never reached ``-mde``; None when ``c_T <= -mde`` (``status`` "not recovered within T
      sessions") or when ``mde`` is unknown;
    * ``hurt``: the path reached ``-mde`` at some ``t`` (None when ``mde`` is unknown).

    ``status`` says which case holds in words.
    """
    path = pd.Series(path, dtype=float).dropna().sort_index()
    if path.empty:
        return RecoveryMetrics(None, float("nan"), None, None, "no observed path", None, None)
    days = np.asarray(path.index, dtype=int)
    car = path.to_numpy()
    end = int(days[-1])
    i_min = int(np.argmin(car))
    trough_day, trough_car = int(days[i_min]), float(car[i_min])
    half_life = None
    if trough_car < 0:
        after = np.flatnonzero((days > trough_day) & (car >= trough_car / 2))
        half_life = int(days[after[0]] - trough_day) if len(after) else None
    if mde is None or not np.isfinite(mde) or mde <= 0:
        return RecoveryMetrics(trough_day, trough_car, half_life, None, "MDE unknown: recovery not judged", end, None)
    below = car <= -mde
    if not below.any():
        status = "no loss" if trough_car >= 0 else f"never fell to -MDE ({100 * mde:.2f} %)"
        return RecoveryMetrics(trough_day, trough_car, half_life, 0, status, end, False)
    if below[-1]:
        return RecoveryMetrics(
            trough_day, trough_car, half_life, None, f"not recovered within {end} sessions", end, True
        )
    last_below = int(np.flatnonzero(below)[-1])
    day = int(days[last_below + 1])
    return RecoveryMetrics(trough_day, trough_car, half_life, day, f"recovered by day +{day}", end, True)


def _weigh_status(whole: RecoveryMetrics, horizons: pd.DataFrame) -> str:
    """``whole.status``, with the evidence when the path ends below ``-MDE``: "not recovered" rests
    on the point estimate, so when the CAR of the longest observable horizon is not significant at 5 %
    (t test and SQ test) the status says the data cannot tell whether the loss lasted."""
    if not (whole.hurt and whole.recovered_by is None):
        return whole.status
    seen = horizons[horizons["observable"].astype(bool)]
    if seen.empty:
        return whole.status
    last = seen.iloc[-1]
    p_values = [float(v) for v in (last["p_value"], last["sq_p_value"]) if v is not None and np.isfinite(v)]
    if not p_values or min(p_values) < 0.05:
        return whole.status
    return (
        f"{whole.status} on the point estimate, but the CAR over [0,+{int(last['horizon'])}] "
        f"({_pct(float(last['car']), 1)}, p = {_p(min(p_values))}) is within ordinary ups and downs: "
        "the data cannot tell whether the loss lasted"
    )


# ------------------------------------------------------------------ helpers
def pre_event_abnormal_returns(
    result: EventStudyResult, returns: pd.Series, benchmark: pd.Series | None, factors: pd.DataFrame | None = None
) -> pd.Series:
    """The estimation model's abnormal returns ``y_t - x_t' theta_hat`` on every joined session before day 0.

    ``theta_hat`` is ``result``'s fit on its estimation window; the join is the one of
    :func:`~incident_impact.eventstudy.event_study` (stock, benchmark when the model uses it, factor
    columns), so on the estimation window these equal ``result.estimation["ar"]``.
    """
    model = get_model(result.model)
    cols = list(model.factor_columns)
    data = joined_returns(
        returns,
        benchmark if model.needs_benchmark else None,
        factors[cols] if cols and factors is not None else None,
    )
    data = data[data.index < result.day0]
    y, X = model.variables(data)
    ar = y - X @ result.fitted.params if X.shape[1] else y
    return pd.Series(ar, index=data.index, name="ar")


def confounder_sessions(
    confounders: pd.DataFrame | None, sessions: pd.DatetimeIndex, day0: pd.Timestamp
) -> pd.DataFrame:
    """``date, rel_day, kind, description`` of each confounder, ``rel_day`` the session on or after its
    date counted from ``day0`` on ``sessions`` (a given ``rel_day`` column wins); NaN past the data end."""
    columns = ["date", "rel_day", "kind", "description"]
    if confounders is None or len(confounders) == 0:
        return pd.DataFrame(columns=columns)
    if not isinstance(confounders, pd.DataFrame) or "date" not in confounders.columns:
        raise IncidentImpactError("confounders must be a DataFrame with columns date, kind, description")
    frame = confounders.reset_index(drop=True).copy()
    try:
        dates = pd.to_datetime(frame["date"]).dt.tz_localize(None).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(f"cannot read the confounders' dates: {exc}") from None
    pos0 = int(sessions.searchsorted(day0))
    if "rel_day" in frame.columns:
        rel = pd.to_numeric(frame["rel_day"], errors="coerce").astype(float)
    else:
        pos = sessions.searchsorted(pd.DatetimeIndex(dates))
        rel = pd.Series(np.where(pos < len(sessions), pos - pos0, np.nan), dtype=float)
    rel_days = [None if not np.isfinite(v) else int(v) for v in rel.to_numpy(dtype=float)]
    return pd.DataFrame(
        {
            "date": [d.date().isoformat() for d in dates],
            "rel_day": pd.Series(rel_days, dtype=object),
            "kind": frame["kind"].astype(str) if "kind" in frame else "other-news",
            "description": frame["description"].astype(str) if "description" in frame else "",
        }
    )[columns]


def _placebo_table(placebo, stock_returns, benchmark_returns, windows, spec, seed) -> tuple[pd.DataFrame | None, str]:
    """Placebo CARs for ``windows`` and a note on how they were drawn."""
    if placebo is None or placebo is False:
        return None, "placebo not asked for (placebo=True, an integer or a placebo_cars table)"
    if isinstance(placebo, pd.DataFrame):
        return placebo, f"{placebo['day0'].nunique()} placebo day 0s given"
    from ..eventstudy.placebo import placebo_cars  # only here: analyze imports no multi-event engine

    if placebo is True:
        return placebo_cars(
            stock_returns, benchmark_returns, windows=windows, **spec
        ), "every session of the loaded history"
    if isinstance(placebo, (int, np.integer)) and not isinstance(placebo, bool) and placebo > 0:
        model = get_model(spec["model"])
        cols = list(model.factor_columns)
        factors = spec.get("factors")
        dates = joined_returns(
            stock_returns.dropna(),
            benchmark_returns if model.needs_benchmark else None,
            factors[cols] if cols else None,
        ).index
        rng = np.random.default_rng(seed)
        draw = dates[np.sort(rng.choice(len(dates), size=min(int(placebo), len(dates)), replace=False))]
        return (
            placebo_cars(stock_returns, benchmark_returns, dates=draw, windows=windows, **spec),
            f"{len(draw)} random sessions of the loaded history (seed {seed})",
        )
    raise IncidentImpactError(
        "placebo must be None, True (every session), a positive number of dates or a placebo_cars table"
    )


# ------------------------------------------------------------------ result
@dataclass(frozen=True, eq=False)
class Recovery:
    """How one incident's abnormal return persisted and recovered (see :func:`recovery`).

    Attributes
    ----------
    event_id, day0, model : what was studied.
    horizons : one row per horizon, indexed by window label ``[0,+h]``: ``horizon, car, se, t_stat, df,
        p_value, sq_p_value, n_sq_windows, n_sq_independent, sq_p_value_estimation,
        n_sq_windows_estimation, placebo_p_value, n_placebo, observable, reason, recovered_by, hurt,
        confounded, confounders`` (``recovered_by``/``hurt``: the metrics on the path cut at ``h``;
        ``confounders`` as text).
    path : ``date, rel_day, car, se, lower, upper`` from day 0 (95 % band, iid-normal).
    trough_day, trough_car, half_life_sessions, recovered_by, status : :func:`recovery_metrics` of the
        whole observed path (to the longest observable horizon).
    mde, mde_source : the threshold of "recovered" and where it came from.
    path_end : the last relative day of the path; data_end : the last date with data.
    confounder_rows : ``window, date, rel_day, kind, description`` per horizon and confounder.
    notes : remarks (estimation window, placebo draw, the iid caveat).
    """

    event_id: str | None
    day0: pd.Timestamp
    model: str
    horizons: pd.DataFrame
    path: pd.DataFrame
    trough_day: int | None
    trough_car: float
    half_life_sessions: int | None
    recovered_by: int | None
    status: str
    mde: float
    mde_source: str
    path_end: int | None
    data_end: pd.Timestamp
    confounder_rows: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    def horizon(self, h: int) -> pd.Series:
        """The row of horizon ``h`` (sessions after day 0)."""
        label = format_window((0, int(h)))
        if label not in self.horizons.index:
            raise IncidentImpactError(f"no horizon {h}; computed: {', '.join(self.horizons.index)}")
        return cast(pd.Series, self.horizons.loc[label])  # one row: a unique index label

    def sentence(self) -> str:
        """One line: the trough, the half-life and whether the stock recovered."""
        if self.trough_day is None:
            return "no abnormal-return path could be observed after day 0"
        text = f"trough CAR {_pct(self.trough_car)} on day +{self.trough_day}"
        if self.half_life_sessions is not None:
            text += f"; half the loss regained after {self.half_life_sessions} sessions"
        elif self.trough_car < 0:
            text += f"; half the loss not regained within {self.path_end} sessions"
        return text + f"; {self.status}"

    def to_frame(self) -> pd.DataFrame:
        """The horizons table."""
        return self.horizons.copy()

    def to_dict(self) -> dict:
        """JSON-ready: ``horizons`` (one dict per horizon, ``window, horizon, car, se, t_stat, df, p_value,
        sq_p_value, ..., confounders`` as a list of ``date, rel_day, kind, description``), ``trough_day,
        trough_car, half_life_sessions, recovered_by, status, mde, mde_source, path_end, day0, data_end,
        model, path, notes``; NaN -> None."""
        rows = []
        for label, row in self.horizons.iterrows():
            item = {"window": label, **{k: row[k] for k in self.horizons.columns if k != "confounders"}}
            conf = self.confounder_rows[self.confounder_rows["window"] == label]
            item["confounders"] = conf.drop(columns="window").to_dict("records")
            rows.append(item)
        return jsonable(
            {
                "horizons": rows,
                "trough_day": self.trough_day,
                "trough_car": self.trough_car,
                "half_life_sessions": self.half_life_sessions,
                "recovered_by": self.recovered_by,
                "status": self.status,
                "mde": self.mde,
                "mde_source": self.mde_source,
                "path_end": self.path_end,
                "day0": self.day0,
                "data_end": self.data_end,
                "model": self.model,
                "event_id": self.event_id,
                "path": self.path[["rel_day", "car", "lower", "upper"]].to_dict("records"),
                "notes": list(self.notes),
            }
        )

    def summary(self) -> str:
        """Plain text: the recovery sentence, the horizons table, the confounders and the notes."""
        lines = [
            f"Persistence and recovery{f' of {self.event_id}' if self.event_id else ''}: day 0 = "
            f"{self.day0.date()}, {self.model} model, data to {self.data_end.date()}",
            "",
            self.sentence(),
            "",
            f"{'window':<10} {'CAR %':>8} {'SE %':>7} {'t p':>6} {'SQ p':>6} {'(n)':>6} {'plc p':>6}  recovered",
        ]
        for label, r in self.horizons.iterrows():
            if not r.observable:
                lines.append(f"{label:<10} {r.reason}")
                continue
            rec = (
                "n/a"
                if r.hurt is None or pd.isna(r.hurt)
                else (
                    "never hurt" if not r.hurt else ("no" if pd.isna(r.recovered_by) else f"by +{int(r.recovered_by)}")
                )
            )
            lines.append(
                f"{label:<10} {100 * r.car:>8.2f} {100 * r.se:>7.2f} {_p(r.p_value):>6} {_p(r.sq_p_value):>6} "
                f"{int(r.n_sq_windows):>6} {_p(r.placebo_p_value):>6}  {rec}"
            )
        for label, r in self.horizons.iterrows():
            if r.confounders:
                lines.append(f"Confounded {label}: {r.confounders}")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        obs = self.horizons[self.horizons["observable"]]
        cars = ", ".join(f"{w} {_pct(r.car, 1)}" for w, r in obs.iterrows()) or "no horizon observable yet"
        return short_repr("Recovery", [f"{self.event_id or 'event'}, day 0 {self.day0.date()}", cars, self.sentence()])

    def _repr_html_(self) -> str:
        table = self.horizons.drop(columns=["confounders"])
        return html_block(
            f"Recovery{f' of {self.event_id}' if self.event_id else ''}", [self.sentence(), IID_NOTE], table
        )


# ------------------------------------------------------------------ main
def recovery(
    stock_returns: pd.Series,
    benchmark_returns: pd.Series | None,
    day0,
    *,
    horizons: Iterable[int] = HORIZONS,
    model: str = "market",
    estimation=DEFAULT_ESTIMATION,
    min_estimation_obs: int = MIN_ESTIMATION_OBS,
    factors: pd.DataFrame | None = None,
    mde: float | None = None,
    placebo: bool | int | pd.DataFrame | None = None,
    confounders: pd.DataFrame | None = None,
    seed: int | None = 0,
    event_id: str | None = None,
    level: float = 0.95,
) -> Recovery:
    """Persistence of one incident's abnormal return over ``[0, h]`` for each horizon ``h`` and its recovery.

    Parameters
    ----------
    stock_returns, benchmark_returns, day0, model, estimation, min_estimation_obs, factors : as in
        :func:`~incident_impact.eventstudy.event_study` (``day0`` the day-0 session). Give the whole
        loaded history: the SQ test and the placebo dates use it.
    horizons : sessions after day 0 (default 20, 60, 120); each gives the window ``[0, h]``.
    mde : the threshold of "recovered" (a positive fraction); default the minimum detectable effect
        (80 % power, 5 % two-sided) of ``CAR[0,+1]`` of this study.
    placebo : None (default, not computed), True (every session of the history: ~1 s per 1,000
        sessions), an integer ``n`` (``n`` random sessions, ``seed``) or a table from
        :func:`~incident_impact.eventstudy.placebo_cars` with windows ``[0,+h]``.
    confounders : ``date, kind, description`` (optionally ``rel_day``) of other news, e.g. the
        incident timeline's earnings; each one inside a horizon is listed in its row.
    level : coverage of the path's band.

    Formulas, the SQ reference sample and the recovery definitions: see the module docstring and
    :func:`recovery_metrics`.

    Raises
    ------
    InsufficientDataError
        Too little estimation data, or no return on or after day 0.
    IncidentImpactError
        A horizon below 1, bad input (see ``event_study``).
    """
    try:
        hs = sorted({int(h) for h in horizons})
    except (TypeError, ValueError):
        raise IncidentImpactError(f"horizons must be whole numbers of sessions, got {horizons!r}") from None
    if not hs or hs[0] < 1:
        raise IncidentImpactError("every horizon must be at least 1 session after day 0")
    estimation = parse_window(estimation)
    windows = [(0, 0), (0, 1)] + [(0, h) for h in hs]
    spec = dict(model=model, estimation=estimation, min_estimation_obs=min_estimation_obs, factors=factors)
    res = event_study(stock_returns, benchmark_returns, day0, windows=windows, event_id=event_id, **spec)
    ar = res.abnormal_returns
    available = int(ar["rel_day"].max())
    hmax = max([h for h in hs if h <= available], default=min(available, hs[-1]))
    path = res.car_path(0, level=level)
    path = path[path["rel_day"] <= hmax]
    path.insert(0, "date", path.index)
    path = path.reset_index(drop=True)
    notes = list(res.notes)

    mde_source = "given"
    if mde is None:
        if (0, 1) in res.windows:
            from ..verdict import minimum_detectable_effect

            mde = minimum_detectable_effect(res.car((0, 1))[1], res.fitted.df)
            mde_source = "MDE (80 % power, 5 % two-sided) of CAR[0,+1]"
        else:
            mde, mde_source = float("nan"), "unknown: the data end on day 0"
    elif not (np.isfinite(mde) and mde > 0):
        raise IncidentImpactError(f"mde must be a positive fraction, got {mde!r}")

    series = path.set_index("rel_day")["car"]
    whole = recovery_metrics(series, mde)
    pre_ar = pre_event_abnormal_returns(res, stock_returns, benchmark_returns, factors)

    observable = [h for h in hs if (0, h) in res.windows]
    plc, plc_note = (
        _placebo_table(placebo, stock_returns, benchmark_returns, [(0, h) for h in observable], spec, seed)
        if observable
        else (None, "no horizon observable")
    )
    if plc is not None:
        notes.append(f"placebo dates: {plc_note}")
    model_obj = get_model(res.model)
    cols = list(model_obj.factor_columns)
    sessions = cast(
        pd.DatetimeIndex,  # the joined returns are indexed by date
        joined_returns(
            stock_returns,
            benchmark_returns if model_obj.needs_benchmark else None,
            factors[cols] if cols and factors is not None else None,
        ).index,
    )
    pos0 = int(sessions.searchsorted(res.day0))
    data_end = sessions[-1]
    conf = confounder_sessions(confounders, sessions, res.day0)

    rel_num = pd.to_numeric(conf["rel_day"], errors="coerce").astype(float)
    rows, conf_rows = [], []
    for h in hs:
        label = format_window((0, h))
        L = h + 1
        if h in observable:
            conf_h = conf[rel_num.between(0, h)]
        else:  # beyond the data: an unmapped date after day 0 may fall inside
            conf_h = conf[rel_num.between(0, h) | (rel_num.isna() & (pd.to_datetime(conf["date"]) >= res.day0))]
        conf_rows += [{"window": label, **r} for r in conf_h.to_dict("records")]
        conf_text = "; ".join(
            f"{r.kind} on {r.date}"
            + ("" if pd.isna(r.rel_day) else f" (day {int(r.rel_day):+d})")
            + (f": {r.description}" if r.description else "")
            for r in cast(Iterable[Any], conf_h.itertuples())  # pandas-stubs types the fields as any scalar
        )
        row = {
            "horizon": h,
            "car": np.nan,
            "se": np.nan,
            "t_stat": np.nan,
            "df": float(res.fitted.df),
            "p_value": np.nan,
            "sq_p_value": np.nan,
            "n_sq_windows": max(len(pre_ar) - L + 1, 0),
            "n_sq_independent": len(pre_ar) // L,
            "sq_p_value_estimation": np.nan,
            "n_sq_windows_estimation": max(len(res.estimation) - L + 1, 0),
            "placebo_p_value": np.nan,
            "n_placebo": 0,
            "observable": h in observable,
            "reason": None,
            "recovered_by": np.nan,
            "hurt": None,
            "confounded": len(conf_h) > 0,
            "confounders": conf_text,
        }
        if h not in observable:
            row["reason"] = (
                f"not yet observable: [0,+{h}] needs data to day +{h}; the data end on "
                f"{data_end.date()} (day +{available})"
            )
            rows.append(row)
            continue
        car, se = res.car((0, h))
        t = car / se
        row |= {"car": car, "se": se, "t_stat": t, "p_value": float(2 * t_sf(abs(t), res.fitted.df))}
        sq_hist = st.sq(car, pre_ar.to_numpy(), L, min_windows=MIN_SQ_WINDOWS)
        sq_est = st.sq(car, res.estimation["ar"].to_numpy(), L, min_windows=MIN_SQ_WINDOWS)
        row["sq_p_value"], row["sq_p_value_estimation"] = sq_hist.p_value, sq_est.p_value
        reasons = [f"SQ: {sq_hist.reason}"] if sq_hist.reason else []
        if plc is not None:
            sub = plc[plc["window"] == label]
            pos = sessions.searchsorted(pd.DatetimeIndex(sub["day0"]))
            pseudo = sub["car"].to_numpy()[np.abs(pos - pos0) > h]
            row["n_placebo"] = len(pseudo)
            if len(pseudo):
                row["placebo_p_value"] = float((np.abs(pseudo) >= abs(car)).mean())
            else:
                reasons.append("placebo: no pseudo day 0 away from the event has this window's data")
        cut = recovery_metrics(series[series.index <= h], mde)
        row["recovered_by"] = np.nan if cut.recovered_by is None else cut.recovered_by
        row["hurt"] = cut.hurt
        row["reason"] = "; ".join(reasons) or None
        rows.append(row)
    horizons_frame = pd.DataFrame(rows, index=pd.Index([format_window((0, h)) for h in hs], name="window"))
    notes.append(
        f"SQ reference: {len(pre_ar)} pre-event sessions from {pre_ar.index[0].date() if len(pre_ar) else '-'}"
        f" (estimation-model abnormal returns); sq_p_value_estimation uses the estimation window only"
    )
    thin = [
        f"{format_window((0, h))}: {len(pre_ar) // (h + 1)}"
        for h in observable
        if len(pre_ar) // (h + 1) < SQ_INDEPENDENT_OK
    ]
    if thin:
        notes.append(
            f"few non-overlapping pre-event windows for the SQ test ({', '.join(thin)}; under "
            f"{SQ_INDEPENDENT_OK} it over-rejects, e.g. ~11 % at 5 % with 10: validation/longrun_results.md); "
            "load a longer history or read its p as roughly twice as small as it should be"
        )
    notes.append(IID_NOTE)
    return Recovery(
        event_id=event_id,
        day0=res.day0,
        model=res.model,
        horizons=horizons_frame,
        path=path,
        trough_day=whole.trough_day,
        trough_car=whole.trough_car,
        half_life_sessions=whole.half_life_sessions,
        recovered_by=whole.recovered_by,
        status=_weigh_status(whole, horizons_frame),
        mde=float(mde),
        mde_source=mde_source,
        path_end=whole.path_end,
        data_end=data_end,
        confounder_rows=pd.DataFrame(conf_rows, columns=["window", "date", "rel_day", "kind", "description"]),
        notes=tuple(dict.fromkeys(notes)),
    )
