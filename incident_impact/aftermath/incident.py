"""One incident after day 0: did it last, did the response help, when did the market learn?

:func:`incident_aftermath` runs the three long-horizon analyses of one incident on its whole
loaded price history (see :func:`incident_impact.loading.load_long_returns`):

* :func:`~.recovery.recovery` — the CAR path to +20/+60/+120 sessions with the sample-quantile test
  against the stock's own history, the trough, half-life and "recovered by";
* :func:`~.response.response_effects` — the CAR around each company response and after it;
* :func:`~.learning.market_learning` — the CAR at each dated timeline event with the scan-corrected p.

Each part that cannot be computed keeps its reason instead of a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..calendar import day0 as session_of
from ..catalog import RESPONSE_KINDS, Incident, TimelineEvent
from ..display import html_block, short_repr
from ..errors import IncidentImpactError
from ..eventstudy import EventStudySpec, event_study
from .learning import MarketLearning, market_learning
from .recovery import HORIZONS, Recovery, jsonable, recovery
from .response import AFTER_SESSIONS, response_effects
from .response import COLUMNS as RESPONSE_COLUMNS

#: Timeline kinds that can be the moment the market learned of the incident.
LEARNING_KINDS = frozenset({"first-post", "incident", "viral-peak", *RESPONSE_KINDS})
#: Placebo dates of the "when did the market learn" scan.
LEARNING_PLACEBOS = 200


@dataclass(frozen=True)
class IncidentAftermath:
    """The long-horizon answers for one incident (each ``None`` with its reason when not computed)."""

    recovery: Recovery | None
    responses: pd.DataFrame
    learning: MarketLearning | None
    reasons: dict[str, str] = field(default_factory=dict)
    #: the whole return histories used (for the long-horizon tests across incidents)
    stock_returns: pd.Series = field(default_factory=lambda: pd.Series(dtype=float), repr=False)
    benchmark_returns: pd.Series = field(default_factory=lambda: pd.Series(dtype=float), repr=False)

    def summary(self) -> str:
        parts = [
            "Persistence and recovery",
            self.recovery.summary()
            if self.recovery is not None
            else f"  not computed: {self.reasons.get('recovery', '')}",
            "",
            "The company's response",
        ]
        if len(self.responses):
            shown = self.responses[["date", "kind", "rel_day", "car", "p_value", "after_window", "after_car", "after"]]
            shown = shown.assign(
                car=(100 * shown["car"]).round(2),
                after_car=(100 * shown["after_car"]).round(2),
                p_value=shown["p_value"].round(3),
            )
            parts.append(shown.rename(columns={"car": "CAR[r,r+1] %", "after_car": "after %"}).to_string(index=False))
        else:
            parts.append(f"  {self.reasons.get('response', 'no response event in the timeline')}")
        parts += [
            "",
            "When did the market learn?",
            self.learning.sentence()
            if self.learning is not None
            else f"  not computed: {self.reasons.get('learning', '')}",
        ]
        return "\n".join(parts)

    def to_frame(self) -> pd.DataFrame:
        return self.recovery.to_frame() if self.recovery is not None else pd.DataFrame()

    def to_dict(self) -> dict:
        return {
            "recovery": self.recovery.to_dict()
            if self.recovery is not None
            else {"reason": self.reasons.get("recovery", "")},
            "response": {
                "events": jsonable(self.responses.to_dict("records")),
                "reason": "" if len(self.responses) else self.reasons.get("response", ""),
            },
            "learning": self.learning.to_dict()
            if self.learning is not None
            else {"reason": self.reasons.get("learning", "")},
        }

    def __repr__(self) -> str:
        status = self.recovery.status if self.recovery is not None else self.reasons.get("recovery", "")
        return short_repr("IncidentAftermath", [f"recovery: {status}", f"{len(self.responses)} response(s)"])

    def _repr_html_(self) -> str:
        return html_block("After the incident", self.summary().splitlines()[:3], self.to_frame())


def _sessions(events: Iterable[TimelineEvent], exchange: str) -> list[tuple[pd.Timestamp, TimelineEvent]]:
    return [(session_of(e.date, e.time, e.timezone, exchange), e) for e in events]


def incident_aftermath(
    incident: Incident,
    stock: pd.Series,
    benchmark: pd.Series,
    day0: pd.Timestamp,
    *,
    exchange: str,
    spec: EventStudySpec,
    mde: float,
    dividend_adjusted: bool = True,
    horizons: Iterable[int] = HORIZONS,
    learning_placebos: int = LEARNING_PLACEBOS,
) -> IncidentAftermath:
    """Recovery, response effects and market learning of ``incident`` on its whole return history
    (``stock``, ``benchmark``: returns indexed by session) with the model, estimation window,
    minimum estimation size and factors of ``spec``; ``mde`` is the headline window's MDE, the
    threshold of "recovered"."""
    horizons = tuple(horizons)
    reasons: dict[str, str] = {}
    options: dict[str, Any] = {
        "model": spec.model.name,
        "estimation": spec.estimation,
        "min_estimation_obs": spec.min_estimation_obs,
        "factors": spec.factors,
    }
    confounders = pd.DataFrame(
        [
            {"date": s, "kind": e.kind, "description": e.description}
            for s, e in _sessions(incident.confounders, exchange)
            if not (e.kind == "ex-dividend" and dividend_adjusted)
        ],
        columns=["date", "kind", "description"],
    )
    rec = None
    try:
        rec = recovery(
            stock, benchmark, day0, horizons=horizons, mde=mde, confounders=confounders, event_id=incident.id, **options
        )
    except IncidentImpactError as exc:
        reasons["recovery"] = str(exc)
    responses = pd.DataFrame(columns=RESPONSE_COLUMNS)
    chosen = [(s, e) for s, e in _sessions(incident.timeline, exchange) if e.kind in RESPONSE_KINDS]
    if not chosen:
        reasons["response"] = "no response event in the timeline"
    else:
        joined = stock.dropna().index.intersection(benchmark.dropna().index)
        end = min(max(horizons) + AFTER_SESSIONS + 2, int((joined > day0).sum()))
        try:
            long = event_study(stock, benchmark, day0, spec=spec.replace(windows=[(0, max(end, 1))]))
            responses = response_effects(long, [(s, e.kind, e.description) for s, e in chosen])
        except IncidentImpactError as exc:
            reasons["response"] = str(exc)
    candidates = pd.DataFrame(
        [
            {"label": e.kind, "kind": e.kind, "description": e.description, "date": s}
            for s, e in _sessions(incident.timeline, exchange)
            if e.kind in LEARNING_KINDS
        ],
        columns=["label", "kind", "description", "date"],
    ).drop_duplicates("date")
    learning = None
    if len(candidates) < 2:
        reasons["learning"] = "fewer than two dated timeline events to compare"
    else:
        try:
            learning = market_learning(
                stock, benchmark, day0, candidates, n_placebo=learning_placebos, event_id=incident.id, **options
            )
        except IncidentImpactError as exc:
            reasons["learning"] = str(exc)
    return IncidentAftermath(rec, responses, learning, reasons, stock, benchmark)
