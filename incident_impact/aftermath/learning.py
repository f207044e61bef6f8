"""When did the market learn? The abnormal return at each dated event of an incident's timeline.

An incident unfolds over days: the first post, the press pick-up or viral peak, the company's
response. For each candidate date ``d_j`` of the timeline, ``k_j`` is its relative session (the
first joined session on or after the date, counted from day 0) and the **local window** is
``[k_j, k_j + span]`` (default ``span = 1``: the session of the news and the next, the same
two-day reaction as the headline window ``[0,+1]`` for day 0). Its ``CAR_j``, ``SE_j`` and
``t_j = CAR_j / SE_j`` are :func:`~incident_impact.eventstudy.event_study`'s (the market model fitted
on the estimation window before day 0, the CLM variance); the nominal ``p_j`` is Student t's. The
cumulative ``CAR[0, k_j + span]`` (what had been priced in by then) is reported beside it, untested.

Choosing the candidate with the largest ``|t|`` after looking is a multiple-comparison problem
(and the candidates' windows may overlap). The correction calibrates the scan statistic
``M = max_j |t_j|`` by the same scan at placebo dates: at each pseudo day 0 ``p`` drawn from the
stock's own history (sessions whose scan range ``[p + min k, p + max k + span]`` does not meet the
real one), the model is refitted on ``p``'s estimation window
(:func:`~incident_impact.eventstudy.placebo_cars`) and ``M_p = max_j |t_j(p)|`` over the same
relative windows. The corrected p-value is ``#{M_p >= M} / n_placebo``. It keeps the dependence
between overlapping windows and the stock's fat tails, which Bonferroni (``min(1, m min_j p_j)``,
reported for comparison) ignores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from ..display import html_block, short_repr
from ..distributions import t_sf
from ..errors import IncidentImpactError
from ..eventstudy import (
    DEFAULT_ESTIMATION,
    MIN_ESTIMATION_OBS,
    event_study,
    format_window,
    get_model,
    joined_returns,
    parse_window,
)
from .recovery import _p, _pct, jsonable

DEFAULT_PLACEBO = 500
#: The columns of :attr:`MarketLearning.candidates`.
COLUMNS = [
    "label",
    "kind",
    "description",
    "date",
    "rel_day",
    "window",
    "car",
    "se",
    "t_stat",
    "p_value",
    "cum_window",
    "cum_car",
    "reason",
]


def _candidate_table(candidates) -> pd.DataFrame:
    if isinstance(candidates, Mapping):
        frame = pd.DataFrame({"label": list(candidates), "date": list(candidates.values())})
    elif isinstance(candidates, pd.DataFrame) and "date" in candidates.columns:
        frame = candidates.reset_index(drop=True).copy()
    else:
        raise IncidentImpactError(
            "candidates must be a DataFrame with a date column (and kind, description) or a mapping label -> date"
        )
    if frame.empty:
        raise IncidentImpactError("give at least one candidate date")
    if "label" not in frame.columns:
        frame["label"] = (
            frame["kind"].astype(str) if "kind" in frame.columns else [f"candidate {i + 1}" for i in range(len(frame))]
        )
    for col in ("kind", "description"):
        if col not in frame.columns:
            frame[col] = ""
    try:
        frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize(None).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(f"cannot read the candidates' dates: {exc}") from None
    return frame[["label", "kind", "description", "date"]]


@dataclass(frozen=True, eq=False)
class MarketLearning:
    """The CAR at each dated timeline event and the scan-corrected p of the largest (see :func:`market_learning`).

    Attributes
    ----------
    candidates : one row per candidate: ``label, kind, description, date, rel_day, window, car, se,
        t_stat, p_value, cum_window, cum_car, reason`` (``reason`` why a candidate has no number).
    max_abs_t : ``M = max_j |t_j|``; max_label, max_window : the candidate that attains it.
    corrected_p_value : ``#{M_p >= M} / n_placebo`` over placebo day 0s; bonferroni_p_value : ``min(1, m min p_j)``.
    n_placebo : placebo day 0s with every window; span : the local window's length minus one.
    """

    event_id: str | None
    day0: pd.Timestamp
    candidates: pd.DataFrame
    max_abs_t: float
    max_label: str | None
    max_window: str | None
    corrected_p_value: float
    bonferroni_p_value: float
    n_placebo: int
    n_windows: int
    span: int
    notes: tuple[str, ...] = ()

    def sentence(self) -> str:
        if self.max_label is None:
            return "no candidate date has data"
        row = self.candidates[self.candidates["window"] == self.max_window].iloc[0]
        return (
            f"the largest reaction, CAR{self.max_window} = {_pct(row.car)} (t = {row.t_stat:.2f}), is at "
            f"{self.max_label} ({row.date.date()}); corrected for picking the largest of {self.n_windows} "
            f"window(s): p = {_p(self.corrected_p_value)} ({self.n_placebo} placebo dates; Bonferroni "
            f"{_p(self.bonferroni_p_value)})"
        )

    def to_frame(self) -> pd.DataFrame:
        return self.candidates.copy()

    def to_dict(self) -> dict:
        """JSON-ready: ``candidates`` (records), ``max_abs_t, max_label, max_window, corrected_p_value,
        bonferroni_p_value, n_placebo, n_windows, span, day0, event_id, sentence, notes``."""
        return jsonable(
            {
                "candidates": self.candidates.to_dict("records"),
                "max_abs_t": self.max_abs_t,
                "max_label": self.max_label,
                "max_window": self.max_window,
                "corrected_p_value": self.corrected_p_value,
                "bonferroni_p_value": self.bonferroni_p_value,
                "n_placebo": self.n_placebo,
                "n_windows": self.n_windows,
                "span": self.span,
                "day0": self.day0,
                "event_id": self.event_id,
                "sentence": self.sentence(),
                "notes": list(self.notes),
            }
        )

    def summary(self) -> str:
        lines = [
            f"When did the market learn{f' ({self.event_id})' if self.event_id else ''}? day 0 = {self.day0.date()}",
            "",
            self.sentence(),
            "",
            f"{'candidate':<24} {'date':<10} {'window':<10} {'CAR %':>8} {'t':>7} {'p':>7} "
            f"{'cum window':<11} {'cum CAR %':>9}",
        ]
        for r in cast(Iterable[Any], self.candidates.itertuples()):  # pandas-stubs types the fields as any scalar
            if r.reason:
                lines.append(f"{str(r.label)[:24]:<24} {r.date.date()!s:<10} {r.reason}")
                continue
            cum = "" if pd.isna(r.cum_car) else f"{100 * r.cum_car:>9.2f}"
            lines.append(
                f"{str(r.label)[:24]:<24} {r.date.date()!s:<10} {r.window:<10} {100 * r.car:>8.2f} "
                f"{r.t_stat:>7.2f} {r.p_value:>7.3f} {r.cum_window or '':<11} {cum}"
            )
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        return short_repr(
            "MarketLearning",
            [
                f"{self.event_id or 'event'}, day 0 {self.day0.date()}, {len(self.candidates)} candidate date(s)",
                self.sentence(),
            ],
        )

    def _repr_html_(self) -> str:
        return html_block("When did the market learn?", [self.sentence()], self.candidates)


def market_learning(
    stock_returns: pd.Series,
    benchmark_returns: pd.Series | None,
    day0,
    candidates: pd.DataFrame | Mapping[str, object],
    *,
    span: int = 1,
    model: str = "market",
    estimation=DEFAULT_ESTIMATION,
    min_estimation_obs: int = MIN_ESTIMATION_OBS,
    factors: pd.DataFrame | None = None,
    n_placebo: int | None = DEFAULT_PLACEBO,
    seed: int | None = 0,
    event_id: str | None = None,
) -> MarketLearning:
    """The CAR over ``[k_j, k_j + span]`` at each candidate date and the scan-corrected p of the largest ``|t|``.

    Parameters
    ----------
    stock_returns, benchmark_returns, day0, model, estimation, min_estimation_obs, factors : as in
        :func:`~incident_impact.eventstudy.event_study`; give the whole loaded history (placebo dates
        are drawn from it).
    candidates : ``date`` (the session date of each timeline event: first post, press pick-up, viral
        peak, response, ...) with optional ``label, kind, description``; or a mapping label -> date.
        A candidate inside the estimation window or after the data end gets a reason instead of numbers.
    span : the local window is ``[k, k + span]`` (default 1: two sessions).
    n_placebo : pseudo day 0s drawn (``seed``) for the calibration; None: every eligible session.

    The statistic and its calibration are defined in the module docstring.
    """
    if int(span) != span or span < 0:
        raise IncidentImpactError(f"span must be a whole number of sessions >= 0, got {span!r}")
    span = int(span)
    estimation = parse_window(estimation)
    table = _candidate_table(candidates)
    model_obj = get_model(model)
    cols = list(model_obj.factor_columns)
    if model_obj.needs_benchmark and benchmark_returns is None:
        raise IncidentImpactError(f"the {model_obj.name} model needs benchmark returns")
    sessions = joined_returns(
        stock_returns,
        benchmark_returns if model_obj.needs_benchmark else None,
        factors[cols] if cols and factors is not None else None,
    ).index
    if not len(sessions):
        raise IncidentImpactError("the stock and benchmark returns share no dates")
    first = (
        pd.Timestamp(day0).tz_localize(None).normalize() if pd.Timestamp(day0).tz else pd.Timestamp(day0).normalize()
    )
    pos0 = int(sessions.searchsorted(first))
    if pos0 >= len(sessions):
        raise IncidentImpactError(f"day 0 {first.date()} is after the last date with returns ({sessions[-1].date()})")
    pos = sessions.searchsorted(pd.DatetimeIndex(table["date"]))
    rel = [int(p - pos0) if p + span < len(sessions) else None for p in pos]
    table["rel_day"] = pd.Series(rel, dtype=object)
    reasons: list[str | None] = []
    for k in rel:
        if k is None:
            reasons.append(f"not yet observable: the data end on {sessions[-1].date()}")
        elif k <= estimation[1]:
            reasons.append(f"inside or before the estimation window (day {k:+d})")
        else:
            reasons.append(None)
    table["reason"] = reasons
    ok = table["reason"].isna()
    local = list(dict.fromkeys((int(k), int(k) + span) for k in table.loc[ok, "rel_day"]))
    cumulative = list(dict.fromkeys((0, int(k) + span) for k in table.loc[ok, "rel_day"] if k + span >= 0))
    # no reason means an observable session (k is not None)
    table["window"] = [
        format_window((k, k + span)) if r is None and k is not None else None for k, r in zip(rel, reasons, strict=True)
    ]
    table["cum_window"] = [
        format_window((0, k + span)) if r is None and k is not None and k + span >= 0 else None
        for k, r in zip(rel, reasons, strict=True)
    ]
    for col in ("car", "se", "t_stat", "p_value", "cum_car"):
        table[col] = np.nan
    notes: list[str] = []
    if not local:
        empty = table[COLUMNS]
        return MarketLearning(
            event_id,
            sessions[pos0],
            empty,
            np.nan,
            None,
            None,
            np.nan,
            np.nan,
            0,
            0,
            span,
            ("no candidate date can be studied",),
        )
    spec = dict(model=model, estimation=estimation, min_estimation_obs=min_estimation_obs, factors=factors)
    res = event_study(stock_returns, benchmark_returns, first, windows=local + cumulative, event_id=event_id, **spec)
    df = res.fitted.df
    stats = {}
    for w in local:
        car, se = res.car(w)
        stats[format_window(w)] = (car, se, car / se)
    for i in table.index[ok]:
        car, se, t = stats[cast(str, table.at[i, "window"])]
        table.loc[i, ["car", "se", "t_stat", "p_value"]] = [car, se, t, float(2 * t_sf(abs(t), df))]
        if table.at[i, "cum_window"] is not None:
            table.at[i, "cum_car"] = res.car(parse_window(cast(str, table.at[i, "cum_window"])))[0]
    labels = list(stats)
    abs_t = np.array([abs(stats[w][2]) for w in labels])
    j = int(np.argmax(abs_t))
    max_window = labels[j]
    max_label = str(table.loc[table["window"] == max_window, "label"].iloc[0])
    m = len(labels)
    min_p = float(2 * t_sf(abs_t[j], df))
    bonferroni = min(1.0, m * min_p)

    lo = min(w[0] for w in local)
    hi = max(w[1] for w in local)
    at = np.arange(len(sessions))
    eligible = (at + estimation[0] >= 0) & (at + hi < len(sessions)) & (np.abs(at - pos0) > hi - lo)
    pool = sessions[eligible]
    if n_placebo is not None and n_placebo < len(pool):
        rng = np.random.default_rng(seed)
        pool = pool[np.sort(rng.choice(len(pool), size=int(n_placebo), replace=False))]
    corrected, n_used = np.nan, 0
    if len(pool):
        from ..eventstudy.placebo import placebo_cars  # only here: analyze imports no multi-event engine

        plc = placebo_cars(stock_returns, benchmark_returns, dates=pool, windows=local, **spec)
        wide = plc.pivot_table(index="day0", columns="window", values="t_stat").reindex(columns=labels).dropna()
        n_used = len(wide)
        if n_used:
            corrected = float((wide.abs().max(axis=1).to_numpy() >= abs_t[j]).mean())
    if not n_used:
        notes.append("no placebo date has every window: the scan is not calibrated")
    notes.append(
        f"local window [k, k+{span}] at each candidate's session k; p_value nominal (Student t, df = {df}); "
        f"corrected p: max |t| over {m} window(s) against the same scan at {n_used} placebo day 0s"
    )
    table = table[COLUMNS]
    return MarketLearning(
        event_id,
        res.day0,
        table,
        float(abs_t[j]),
        max_label,
        max_window,
        corrected,
        bonferroni,
        n_used,
        m,
        span,
        tuple(notes + list(res.notes)),
    )
