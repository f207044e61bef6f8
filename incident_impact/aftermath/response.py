"""Did the company's response help? The stock around each response and after it.

For a response on relative session ``r`` (the first session at or after the response, on the
listing exchange's calendar, as for day 0):

* ``CAR[r, r+1]`` — the market's reaction to the response (its own estimation-error-corrected
  standard error and Student-t p, as every window of :class:`~incident_impact.eventstudy.EventStudyResult`);
* before: ``CAR[0, r-1]`` — what the stock did between the news and the response (none when the
  response came on day 0 or earlier);
* after: ``CAR[r+2, r+1+A]`` over ``A`` sessions (default 20): did the stock keep falling
  (significantly negative at ``alpha``), recover (significantly positive) or make no further
  significant move?

Across incidents (:func:`response_summary`): the share in each "after" class, and the mean
``CAR[r, r+1]`` by response kind with its cross-sectional t; whether the kind matters is the
Kruskal-Wallis test of ``CAR[r, r+1] / SE`` across the kinds with at least two incidents (a
rank test: about 40 incidents and fat tails).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..display import html_block, short_repr
from ..distributions import t_sf
from ..errors import IncidentImpactError
from ..eventstudy import EventStudyResult, format_window

KEPT_FALLING, NO_FURTHER_MOVE, RECOVERED = "kept falling", "no further move", "recovered"
AFTER_SESSIONS = 20
COLUMNS = [
    "date",
    "kind",
    "description",
    "rel_day",
    "car",
    "se",
    "p_value",
    "before_car",
    "before_p_value",
    "after_window",
    "after_car",
    "after_p_value",
    "after",
    "reason",
]


def _window_stats(result: EventStudyResult, window: tuple[int, int]) -> tuple[float, float, float]:
    car, se = result.car(window)
    return car, se, float(2 * t_sf(abs(car / se), result.fitted.df))


def response_effects(
    result: EventStudyResult,
    responses: Iterable[tuple[pd.Timestamp, str, str]],
    *,
    after_sessions: int = AFTER_SESSIONS,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per response ``(session, kind, description)`` (``session``: its first session on the
    exchange's calendar): ``date, kind, description, rel_day, car, se, p_value`` of CAR[r, r+1],
    ``before_car, before_p_value`` of CAR[0, r-1], ``after_window, after_car, after_p_value`` and
    ``after`` (kept falling / no further move / recovered) of CAR[r+2, r+1+after_sessions], and a
    ``reason`` when part of it lies outside the result's event period (NaN there, never a partial number)."""
    rel = result.abnormal_returns["rel_day"]
    last = int(rel.iloc[-1])
    rows = []
    for session, kind, description in responses:
        row = dict.fromkeys(COLUMNS, np.nan) | {
            "date": pd.Timestamp(session).date().isoformat(),
            "kind": kind,
            "description": description,
            "reason": "",
            "after": "",
        }
        if pd.Timestamp(session) not in rel.index:
            row["reason"] = "the response falls outside the loaded event period"
            rows.append(row)
            continue
        r = int(rel.loc[pd.Timestamp(session)])
        row["rel_day"] = r
        reasons = []
        if r + 1 <= last:
            row["car"], row["se"], row["p_value"] = _window_stats(result, (r, r + 1))
        else:
            reasons.append(f"CAR{format_window((r, r + 1))} not yet observable")
        if r >= 1:
            row["before_car"], _, row["before_p_value"] = _window_stats(result, (0, r - 1))
        after = (r + 2, r + 1 + after_sessions)
        row["after_window"] = format_window(after)
        if after[1] <= last:
            car, _, p = _window_stats(result, after)
            row["after_car"], row["after_p_value"] = car, p
            row["after"] = (KEPT_FALLING if car < 0 else RECOVERED) if p < alpha else NO_FURTHER_MOVE
        else:
            reasons.append(f"the {after_sessions} sessions after it are not yet observable")
        row["reason"] = "; ".join(reasons)
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


@dataclass(frozen=True)
class ResponseSummary:
    """Across incidents: ``after`` counts, CAR[r, r+1] by response kind, and whether kind matters.

    ``by_kind``: per kind ``n, mean_car, cs_t, p_value``; ``after_counts``: incidents per after-class;
    ``kind_test_statistic``/``kind_test_p_value``: Kruskal-Wallis H across kinds with n >= 2 (NaN with
    ``reason`` when fewer than two such kinds).
    """

    by_kind: pd.DataFrame
    after_counts: pd.Series
    n_incidents: int
    n_without_response: int
    kind_test_statistic: float
    kind_test_p_value: float
    reason: str = ""

    def summary(self) -> str:
        lines = [
            f"{self.n_incidents} incident(s) with a response ({self.n_without_response} without one).",
            "After the response: " + ", ".join(f"{k} {v}" for k, v in self.after_counts.items()) + ".",
            "CAR[r,r+1] by kind of response:",
            self.by_kind.round(4).to_string(),
        ]
        if self.reason:
            lines.append(f"Does the kind matter? Not tested: {self.reason}.")
        else:
            lines.append(
                f"Does the kind matter? Kruskal-Wallis H = {self.kind_test_statistic:.2f}, "
                f"p = {self.kind_test_p_value:.3f}."
            )
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        return self.by_kind.copy()

    def to_dict(self) -> dict:
        def clean(v):
            return None if isinstance(v, float) and np.isnan(v) else v

        return {
            "n_incidents": self.n_incidents,
            "n_without_response": self.n_without_response,
            "after_counts": {k: int(v) for k, v in self.after_counts.items()},
            "by_kind": [
                {
                    k: clean(float(v))
                    if isinstance(v, (float, np.floating))
                    else (int(v) if isinstance(v, (np.integer,)) else v)
                    for k, v in r.items()
                }
                for r in self.by_kind.reset_index().to_dict("records")
            ],
            "kind_test": {
                "method": "Kruskal-Wallis on CAR[r,r+1]/SE",
                "statistic": clean(self.kind_test_statistic),
                "p_value": clean(self.kind_test_p_value),
                "reason": self.reason,
            },
        }

    def __repr__(self) -> str:
        return short_repr(
            "ResponseSummary",
            [
                f"{self.n_incidents} incidents with a response",
                ", ".join(f"{k} {v}" for k, v in self.after_counts.items()),
            ],
        )

    def _repr_html_(self) -> str:
        return html_block("Company responses", [self.summary().splitlines()[1]], self.by_kind)


def response_summary(effects: Mapping[str, pd.DataFrame], n_without_response: int = 0) -> ResponseSummary:
    """Pool the first observable response of each incident (``effects``: incident id -> the frame of
    :func:`response_effects`)."""
    firsts = []
    for eid, frame in effects.items():
        usable = frame[frame["car"].notna()]
        if len(usable):
            firsts.append(usable.iloc[0].to_dict() | {"event_id": eid})
    table = pd.DataFrame(firsts, columns=[*COLUMNS, "event_id"])
    after = table["after"].replace("", np.nan).dropna().value_counts()
    after_counts = pd.Series({k: int(after.get(k, 0)) for k in (KEPT_FALLING, NO_FURTHER_MOVE, RECOVERED)})
    rows = {}
    for kind, group in table.groupby("kind"):
        cars = group["car"].to_numpy(dtype=float)
        n = len(cars)
        if n >= 2 and cars.std(ddof=1) > 0:
            t = cars.mean() / (cars.std(ddof=1) / np.sqrt(n))
            p = float(2 * t_sf(abs(t), n - 1))
        else:
            t = p = np.nan
        rows[kind] = {"n": n, "mean_car": float(cars.mean()), "cs_t": t, "p_value": p}
    by_kind = pd.DataFrame.from_dict(rows, orient="index", columns=["n", "mean_car", "cs_t", "p_value"])
    by_kind.index.name = "kind"
    groups = [
        g["car"].to_numpy(dtype=float) / g["se"].to_numpy(dtype=float) for _, g in table.groupby("kind") if len(g) >= 2
    ]
    stat = p_value = np.nan
    reason = ""
    if len(groups) < 2:
        reason = "fewer than two kinds of response with at least two incidents each"
    else:
        from scipy.stats import kruskal  # only here: keeps scipy.stats off the import path

        try:
            stat, p_value = (float(x) for x in kruskal(*groups))
        except ValueError as exc:  # all values identical
            raise IncidentImpactError(f"the response kinds cannot be compared: {exc}") from None
    return ResponseSummary(by_kind, after_counts, len(table), n_without_response, stat, p_value, reason)
