"""What a sales analysis found: tables, a text summary, a plain-language paragraph and JSON-ready dictionaries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..catalog import Incident
from ..verdict import GAIN, HARM, NO_EFFECT, Verdict
from .effect import Effect
from .placebo import Placebos
from .spec import ModelSpec

_DESIGN_NAMES = {
    "structural": "structural time-series model",
    "did": "difference-in-differences",
    "synthetic": "synthetic control",
    "its": "interrupted time series (single series, weaker design)",
}


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1e5 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"


def _pct(value: float, signed: bool = True) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:{'+' if signed else ''}.1f} %"


def _label(value: object) -> str:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


@dataclass(frozen=True, eq=False)
class SalesImpact:
    """The effect of an incident on a sales series.

    Attributes
    ----------
    label : what was analysed (the incident id, or the date given).
    incident : the catalog incident, when one was given.
    when : the incident date (or period number) that places the post-period.
    data : the analysed rows: ``sales`` and the controls by name.
    n_pre : number of pre-period rows (the post-period is the rest).
    spec : the model options; controls : the control column names.
    effect : the counterfactual and the effect summaries (:class:`~incident_impact.sales.effect.Effect`).
    in_time, in_space : placebo diagnostics (``in_space`` is None without at least 2 controls).
    bound : materiality bound of the verdict, a fraction of sales.
    notes : data and model remarks.
    """

    label: str
    incident: Incident | None
    when: object
    data: pd.DataFrame
    n_pre: int
    spec: ModelSpec
    controls: tuple[str, ...]
    effect: Effect
    in_time: Placebos
    in_space: Placebos | None
    bound: float
    notes: tuple[str, ...] = ()

    # ------------------------------------------------------------------ numbers
    @property
    def design(self) -> str:
        return self.spec.design

    @property
    def counterfactual(self):
        return self.effect.counterfactual

    @property
    def pre_period(self) -> tuple[object, object]:
        return self.data.index[0], self.data.index[self.n_pre - 1]

    @property
    def post_period(self) -> tuple[object, object]:
        return self.data.index[self.n_pre], self.data.index[-1]

    @property
    def table(self) -> pd.DataFrame:
        """Average and cumulative rows (see :attr:`Effect.table`)."""
        return self.effect.table

    @property
    def p_value(self) -> float:
        """One-sided tail-area probability of the cumulative effect (R CausalImpact's definition)."""
        return self.effect.p_value

    @property
    def relative_effect(self) -> float:
        return self.effect.relative

    @cached_property
    def verdict(self) -> Verdict | None:
        """The stock side's verdict classes on the relative effect; None when the counterfactual is near 0."""
        return self.effect.verdict(self.bound)

    @cached_property
    def series(self) -> pd.DataFrame:
        """Every analysed period: ``period`` (pre/post), ``observed``, ``predicted`` (in-sample fit before the
        incident), bands and pointwise/cumulative effects (after it; NaN before)."""
        post = self.effect.pointwise(self.data.index[self.n_pre:])
        pre = pd.DataFrame({"observed": self.data["sales"].iloc[: self.n_pre], "predicted": self.counterfactual.fitted})
        frame = pd.concat([pre, post])[post.columns]
        frame.insert(0, "period", ["pre"] * self.n_pre + ["post"] * len(post))
        return frame

    # ------------------------------------------------------------------ text
    def verdict_text(self) -> str:
        """One sentence: the relative effect, its interval, p and the verdict."""
        row = self.table.loc["cumulative"]
        level = f"{100 * (1 - self.effect.alpha):g} %"
        if self.verdict is None:
            return (f"cumulative effect {_fmt(row.effect)} ({level}: {_fmt(row.effect_lower)} to {_fmt(row.effect_upper)}); "
                    f"no relative effect or verdict: the counterfactual is too close to 0")
        return (f"sales {_pct(row.relative)} against the counterfactual ({level}: {_pct(row.relative_lower)} to "
                f"{_pct(row.relative_upper)}; tail-area p = {self.p_value:.3g}): {self.verdict.text}; "
                f"|effect| < {_pct(self.bound, signed=False)} {'shown' if self.verdict.verdict == NO_EFFECT else 'not shown'} "
                f"(equivalence p = {self.verdict.tost_p_value:.2g}), smallest effect detectable with 80 % power = "
                f"{_pct(self.verdict.mde, signed=False)}")

    def summary(self) -> str:
        """A plain-text report: periods, model, the average/cumulative table, p, placebos and verdict."""
        (pre0, pre1), (post0, post1) = self.pre_period, self.post_period
        level = f"{100 * (1 - self.effect.alpha):g} %"
        lines = [
            f"Sales impact of {self.label}: {_DESIGN_NAMES[self.design]}",
            f"Pre-period {_label(pre0)} .. {_label(pre1)} ({self.n_pre} periods); post-period {_label(post0)} .. "
            f"{_label(post1)} ({len(self.data) - self.n_pre} periods)",
            f"Controls: {', '.join(self.controls) if self.controls else 'none'}",
            f"Model: {self.counterfactual.description}",
            "",
            f"{'':<11}{'actual':>12}{'predicted':>12}  {level + ' interval':<24}{'effect':>10}  {level + ' interval':<24}"
            f"{'relative':>9}  {level + ' interval'}",
        ]
        for name, row in self.table.iterrows():
            lines.append(
                f"{name:<11}{_fmt(row.actual):>12}{_fmt(row.predicted):>12}  "
                f"{'[' + _fmt(row.predicted_lower) + ', ' + _fmt(row.predicted_upper) + ']':<24}{_fmt(row.effect):>10}  "
                f"{'[' + _fmt(row.effect_lower) + ', ' + _fmt(row.effect_upper) + ']':<24}{_pct(row.relative):>9}  "
                f"[{_pct(row.relative_lower)}, {_pct(row.relative_upper)}]"
            )
        lines += [
            f"Tail-area p = {self.p_value:.3g} (one-sided, {self.spec.repetitions} simulated paths; "
            f"probability of an effect = {1 - self.p_value:.1%})",
            "Placebos: " + self.in_time.summary(),
        ]
        if self.in_space is not None:
            lines.append("          " + self.in_space.summary())
        lines.append(f"Verdict: {self.verdict_text()}")
        return "\n".join(lines)

    def report(self) -> str:
        """What was found, in plain language (one paragraph)."""
        avg, cum = self.table.loc["average"], self.table.loc["cumulative"]
        level = f"{100 * (1 - self.effect.alpha):g} %"
        (post0, post1) = self.post_period
        text = [
            f"During the {len(self.data) - self.n_pre} periods from {_label(post0)} to {_label(post1)}, sales averaged "
            f"{_fmt(avg.actual)} per period. Had the incident not happened, the {_DESIGN_NAMES[self.design]} expects "
            f"{_fmt(avg.predicted)} ({level} interval {_fmt(avg.predicted_lower)} to {_fmt(avg.predicted_upper)}), so the "
            f"estimated effect is {_fmt(avg.effect)} per period ({_fmt(avg.effect_lower)} to {_fmt(avg.effect_upper)}), "
            f"{_fmt(cum.effect)} in total ({_fmt(cum.effect_lower)} to {_fmt(cum.effect_upper)}).",
        ]
        if self.verdict is None:
            text.append("The counterfactual is close to zero, so no relative effect is given.")
        else:
            text.append(f"In relative terms sales changed by {_pct(avg.relative)} ({_pct(avg.relative_lower)} to "
                        f"{_pct(avg.relative_upper)}).")
            verdict = self.verdict.verdict
            if verdict == NO_EFFECT:
                text.append(f"The interval lies within ±{_pct(self.bound, signed=False)}: no material effect.")
            elif verdict in (HARM, GAIN):
                text.append(f"The interval excludes zero: the incident coincides with a significant "
                            f"{'fall' if verdict == HARM else 'rise'} in sales (tail-area p = {self.p_value:.3g}). "
                            "This rests on the controls and the model standing in for the sales without the incident.")
            else:
                text.append(f"The interval includes zero and is too wide to rule out a material effect "
                            f"(±{_pct(self.bound, signed=False)}): inconclusive.")
        rate = self.in_time.false_positive_rate
        if self.in_time.n:
            text.append(f"At {self.in_time.n} fake dates before the incident the same model found an effect "
                        f"{int(round(rate * self.in_time.n))} times, and {self.in_time.n_as_large} placebo effects were "
                        f"as large as the real one" + (": the model's p-value should not be trusted here." if rate > 0.2
                                                        else "."))
        if self.design == "its":
            text.append("Without a control series this design assumes the pre-incident trend would have continued.")
        return " ".join(text)

    # ------------------------------------------------------------------ outputs
    def to_frame(self) -> pd.DataFrame:
        """The per-period table (a copy of :attr:`series`)."""
        return self.series.copy()

    def to_dict(self) -> dict:
        """JSON-ready: periods, model, params, the average/cumulative table, p, placebos, verdict, series."""
        def clean(value):
            if isinstance(value, (float, np.floating)):
                return None if not np.isfinite(value) else float(value)
            if isinstance(value, (np.integer, np.bool_)):
                return value.item()
            return value

        def stamp(value):
            return value.date().isoformat() if isinstance(value, pd.Timestamp) else clean(value)

        series = self.series
        return {
            "label": self.label,
            "incident": self.incident.id if self.incident else None,
            "when": self.when.isoformat() if isinstance(self.when, (dt.date, pd.Timestamp)) else self.when,
            "design": self.design,
            "spec": {k: clean(v) for k, v in vars(self.spec).items()},
            "controls": list(self.controls),
            "pre_period": [stamp(v) for v in self.pre_period],
            "post_period": [stamp(v) for v in self.post_period],
            "model": self.counterfactual.description,
            "band": self.counterfactual.band,
            "params": {k: clean(v) for k, v in self.counterfactual.params.items()},
            "effects": {name: {k: clean(v) for k, v in row.items()} for name, row in self.table.to_dict("index").items()},
            "p_value": self.p_value,
            "verdict": None if self.verdict is None else {k: clean(v) for k, v in self.verdict.to_dict().items()},
            "verdict_text": self.verdict_text(),
            "placebos": {"in_time": self.in_time.to_dict(),
                         "in_space": None if self.in_space is None else self.in_space.to_dict()},
            "report": self.report(),
            "notes": list(self.notes),
            "series": [{"date": stamp(idx), **{k: clean(v) for k, v in row.items()}}
                       for idx, row in series.iterrows()],
        }
