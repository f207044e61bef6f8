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

import pandas as pd

from .eventstudy import EventStudyResult
from .verdict import DEFAULT_BOUND, judge


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
        rows = []
        for spec, result in self.results.items():
            for label, row in result.car_table.iterrows():
                v = judge(row.car, row.se, row.df, bound=self.bound, alpha=self.alpha)
                rows.append({"specification": spec, "window": label, "car": row.car, "se": row.se,
                             "t_stat": row.t_stat, "p_value": v.p_value, "tost_p_value": v.tost_p_value,
                             "mde": v.mde, "verdict": v.verdict})
        columns = ["specification", "window", "car", "se", "t_stat", "p_value", "tost_p_value", "mde", "verdict"]
        return pd.DataFrame(rows, columns=columns).set_index(["specification", "window"])

    def verdicts(self) -> pd.DataFrame:
        """The verdicts as a (specification x window) table."""
        verdicts = self.to_frame()["verdict"]
        windows = list(dict.fromkeys(verdicts.index.get_level_values("window")))
        return verdicts.unstack("window").reindex(index=list(self.results), columns=windows)

    def depends_on_choice(self, window: str | None = None) -> bool:
        """True when two cells of the table (of one column, with ``window``, e.g. ``"[0,+1]"``) disagree."""
        verdicts = self.to_frame()["verdict"]
        if window is not None:
            verdicts = verdicts.xs(window, level="window")
        return verdicts.nunique() > 1

    def statement(self) -> str:
        """One or two sentences: robust, or which choice (model, window) changes the verdict."""
        table = self.verdicts()
        n_specs, n_windows = table.shape
        if not self.depends_on_choice():
            verdict = table.iloc[0, 0]
            return f"Robust: the verdict is {verdict} under all {n_specs} specifications and {n_windows} windows."
        by_window = {w: table[w].dropna().unique() for w in table.columns}
        model_driven = [w for w, found in by_window.items() if len(found) > 1]
        if not model_driven:
            parts = "; ".join(f"{w}: {found[0]}" for w, found in by_window.items())
            return f"The verdict depends on the event window (each window agrees across all {n_specs} specifications): {parts}."
        details = []
        for w in model_driven:
            groups = table[w].groupby(table[w], sort=False).groups
            details.append(f"{w}: " + ", ".join(f"{verdict} under {', '.join(specs)}" for verdict, specs in groups.items()))
        return "The verdict depends on the choice of model: " + "; ".join(details) + "."

    def to_dict(self) -> dict:
        """JSON-ready: ``rows`` of :meth:`to_frame`, ``failures``, ``depends_on_choice`` and ``statement``."""
        rows = self.to_frame().reset_index().to_dict("records")
        return {"rows": rows, "failures": dict(self.failures), "depends_on_choice": self.depends_on_choice(),
                "statement": self.statement()}
