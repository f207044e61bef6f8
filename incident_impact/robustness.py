"""Does the verdict depend on the choice of normal-return model and event window?

The same incident is studied under several specifications (the market model, market-adjusted
returns, the Fama-French three-factor and Carhart models when factors are given, the market
model against an equal-weighted portfolio of the firm's peers); each (specification, window)
cell gets a verdict from :func:`incident_impact.verdict.judge`. The verdict is *robust* when
every cell agrees, and otherwise the statement says which choice changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from .errors import IncidentImpactError
from .eventstudy import EventStudyResult, event_study
from .eventstudy.spec import EventStudySpec
from .verdict import DEFAULT_BOUND, verdict_frame


@dataclass(frozen=True, eq=False)
class Robustness:
    """Verdicts of one incident under several specifications.

    Attributes
    ----------
    results : event-study results keyed by a specification label, the main one first.
    failures : specifications that could not be run, with the reason.
    bound, alpha : materiality bound and test level of the verdicts.
    """

    results: Mapping[str, EventStudyResult]
    failures: Mapping[str, str] = field(default_factory=dict)
    bound: float = DEFAULT_BOUND
    alpha: float = 0.05

    def to_frame(self) -> pd.DataFrame:
        """One row per (specification, window): ``car, se, t_stat, p_value, tost_p_value, mde, verdict``."""
        return self._frame.copy()

    @cached_property
    def _frame(self) -> pd.DataFrame:
        """:meth:`to_frame`, built once (the statement, the verdict table and the JSON all read it)."""
        columns = ["car", "se", "t_stat", "p_value", "tost_p_value", "mde", "verdict"]
        frames = {
            spec: verdict_frame(result.car_table, bound=self.bound, alpha=self.alpha, adjust=False).assign(
                t_stat=result.car_table["t_stat"]
            )[columns]
            for spec, result in self.results.items()
        }
        return pd.concat(frames, names=["specification", "window"])

    def verdicts(self) -> pd.DataFrame:
        """The verdicts as a (specification x window) table."""
        verdicts = self._frame["verdict"]
        windows = list(dict.fromkeys(verdicts.index.get_level_values("window")))
        return verdicts.unstack("window").reindex(index=list(self.results), columns=windows)

    def depends_on_choice(self, window: str | None = None) -> bool:
        """True when two cells of the table (of one column, with ``window``, e.g. ``"[0,+1]"``) disagree."""
        verdicts = self._frame["verdict"]
        if window is not None:
            verdicts = verdicts.xs(window, level="window")
        return verdicts.nunique() > 1

    def statement(self) -> str:
        """One or two sentences: robust, or which choice (model, window) changes the verdict."""
        table = self.verdicts()
        n_specs, n_windows = table.shape
        if not self.depends_on_choice():
            verdict = str(table.iloc[0, 0])
            return f"Robust: the verdict is {verdict} under all {n_specs} specifications and {n_windows} windows."
        by_window = {w: table[w].dropna().unique() for w in table.columns}
        model_driven = [w for w, found in by_window.items() if len(found) > 1]
        if not model_driven:
            parts = "; ".join(f"{w}: {found[0]}" for w, found in by_window.items())
            return (
                "The verdict depends on the event window "
                f"(each window agrees across all {n_specs} specifications): {parts}."
            )
        details = []
        for w in model_driven:
            groups = table[w].groupby(table[w], sort=False).groups
            details.append(
                f"{w}: " + ", ".join(f"{verdict} under {', '.join(specs)}" for verdict, specs in groups.items())
            )
        return "The verdict depends on the choice of model: " + "; ".join(details) + "."

    def to_dict(self) -> dict:
        """JSON-ready: ``rows`` of :meth:`to_frame`, ``failures``, ``depends_on_choice`` and ``statement``."""
        rows = self._frame.reset_index().to_dict("records")
        return {
            "rows": rows,
            "failures": dict(self.failures),
            "depends_on_choice": self.depends_on_choice(),
            "statement": self.statement(),
        }


#: Labels of the specifications of the robustness table.
SPEC_LABELS = {
    "market": "market model ({})",
    "market-adjusted": "market-adjusted ({})",
    "mean": "constant mean",
    "ff3": "Fama-French 3-factor",
    "carhart": "Carhart 4-factor",
    "ff5": "Fama-French 5-factor",
    "garch": "market model, GARCH(1,1) errors ({})",
    "egarch": "market model, EGARCH(1,1) errors ({})",
    "scholes-williams": "Scholes-Williams beta ({})",
    "dimson": "Dimson beta ({})",
}


def run_robustness(
    event_id: str,
    stock: pd.Series,
    bench_ticker: str,
    bench: pd.Series,
    session: pd.Timestamp,
    main: EventStudyResult,
    peer_returns: Mapping[str, pd.Series],
    spec: EventStudySpec,
    bound: float,
) -> Robustness:
    """The specifications of one incident: the main one (``main``, fitted with ``spec``) first, then
    the market model, market-adjusted returns, ff3 and Carhart (when ``spec.factors`` is given) and
    the market model against an equal-weighted portfolio of the peers' returns, each ``spec`` with
    another model. ``stock`` and ``bench`` are return series."""
    label = SPEC_LABELS[spec.model.name].format(bench_ticker)
    results, failures = {label: main}, {}
    others = ["market", "market-adjusted"] + (["ff3", "carhart"] if spec.factors is not None else [])
    for name in others:
        other = SPEC_LABELS[name].format(bench_ticker)
        if other in results:
            continue
        try:
            results[other] = event_study(stock, bench, session, event_id=event_id, spec=spec.replace(model=name))
        except IncidentImpactError as exc:
            failures[other] = str(exc)
    if peer_returns:
        other = f"market model (equal-weighted peers {', '.join(peer_returns)})"
        portfolio = pd.concat(peer_returns, axis=1, sort=True).dropna().mean(axis=1)
        try:
            results[other] = event_study(
                stock, portfolio, session, event_id=event_id, spec=spec.replace(model="market")
            )
        except IncidentImpactError as exc:
            failures[other] = str(exc)
    else:
        failures["market model (peers)"] = "no peer has prices"
    return Robustness(results, failures, bound)
