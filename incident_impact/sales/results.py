"""What a sales analysis found: tables, a text summary, a plain-language paragraph and JSON-ready dictionaries."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Protocol, cast

import numpy as np
import pandas as pd

from ..catalog import Incident
from ..display import html_block, short_repr
from ..verdict import GAIN, HARM, INCONCLUSIVE, NO_EFFECT
from .effect import Effect
from .gate import UNRELIABLE, SalesVerdict, unreliable_reason
from .persistence import Recovery, default_boundaries, recovery, resolve_boundaries, segment_table, unit_of
from .placebo import MIN_PLACEBOS, Placebos
from .select import SpecChoice, spec_label
from .spec import ModelSpec

_DESIGN_NAMES = {
    "structural": "structural time-series model",
    "did": "difference-in-differences",
    "synthetic": "synthetic control",
    "its": "interrupted time series (single series, weaker design)",
}


class _TableRow(Protocol):
    """A row of :attr:`Effect.table` read by attribute (the numbers used in the text)."""

    actual: float
    predicted: float
    predicted_lower: float
    predicted_upper: float
    effect: float
    effect_lower: float
    effect_upper: float
    relative: float
    relative_lower: float
    relative_upper: float


def _row(table: pd.DataFrame, name: str) -> _TableRow:
    """Row ``name`` of an effect table (a Series of floats; pandas-stubs types its attributes ``Any | Series``)."""
    return cast(_TableRow, table.loc[name])


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1e5 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"


def _pct(value: float, signed: bool = True) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:{'+' if signed else ''}.1f} %"


def _share(value: float) -> str:
    """``0.123`` -> ``12 %`` (one decimal below 10 %)."""
    pct = abs(100 * value)
    return f"{pct:.1f} %" if pct < 9.95 else f"{pct:.0f} %"


def _signed_share(value: float) -> str:
    return ("−" if value < 0 else "+") + _share(value)


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 0.001 else "< 0.001"


def json_safe(value):
    """``value`` with every NaN/inf float replaced by None, numpy scalars made plain (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def post_index_label(result: SalesImpact, period: int) -> object:
    """The index label of the ``period``-th post period (1-based)."""
    return result.data.index[result.n_pre + period - 1]


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
    choice : how the structural specification was chosen from the data (None when every option was given).
    placebos_requested : the number of in-time placebos asked for.
    segment_bounds : the post-period segment boundaries, as numbers of post periods (None: the default, the
        first quarter against the rest; see :mod:`~incident_impact.sales.persistence`).
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
    choice: SpecChoice | None = None
    placebos_requested: int = 10
    segment_bounds: tuple[int, ...] | None = None

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
    def verdict(self) -> SalesVerdict | None:
        """The stock side's verdict classes on the relative effect, gated by the placebo check
        (:mod:`~incident_impact.sales.gate`: ``unreliable model`` when it fails); None when the
        counterfactual is near 0."""
        base = self.effect.verdict(self.bound)
        if base is None:
            return None
        verdict, reason = base.verdict, ""
        if self.unreliable_reason:
            verdict, reason = UNRELIABLE, self.unreliable_reason
        elif verdict in (HARM, GAIN) and self.in_time.n_as_large > 0:
            verdict = INCONCLUSIVE
            reason = (
                f"the model's interval excludes 0, but {self.in_time.n_as_large} of {self.in_time.n} placebo "
                "effects at fake dates before the incident were as large"
            )
        return SalesVerdict(**asdict(base) | {"verdict": verdict}, reason=reason, model_verdict=base.verdict)

    @cached_property
    def unreliable_reason(self) -> str | None:
        """Why the model fails its placebo check (one sentence), or None when it passes."""
        if self.placebos_requested < MIN_PLACEBOS:
            return (
                f"the model was not checked at fake incident dates (placebos set to {self.placebos_requested}; at "
                f"least {MIN_PLACEBOS} are needed)"
            )
        return unreliable_reason(self.in_time, n_controls=len(self.controls))

    @property
    def reliable(self) -> bool:
        return self.unreliable_reason is None

    @cached_property
    def series(self) -> pd.DataFrame:
        """Every analysed period: ``period`` (pre/post), ``observed``, ``predicted`` (in-sample fit before the
        incident), bands and pointwise/cumulative effects (after it; NaN before)."""
        post = self.effect.pointwise(self.data.index[self.n_pre :])
        pre = pd.DataFrame({"observed": self.data["sales"].iloc[: self.n_pre], "predicted": self.counterfactual.fitted})
        frame = pd.concat([pre, post])[post.columns]
        frame.insert(0, "period", ["pre"] * self.n_pre + ["post"] * len(post))
        return frame

    # ------------------------------------------------------------------ persistence
    @property
    def unit(self) -> str:
        """The word for one period: ``day``, ``week``, ``month``, ``quarter``, ``year`` or ``period``."""
        return unit_of(self.data.index)

    @cached_property
    def segment_boundaries(self) -> tuple[int, ...]:
        """The segment boundaries in use, as numbers of post periods (``(3,)``: periods 1-3, then the rest)."""
        if self.segment_bounds is not None:
            return tuple(self.segment_bounds)
        return default_boundaries(self.data.index, self.n_pre)

    @cached_property
    def persistence_withheld(self) -> str | None:
        """Why the segments and the recovery carry no verdict (numbers still shown), or None."""
        reasons = []
        if self.unreliable_reason:
            reasons.append(f"the model is unreliable here: {self.unreliable_reason}")
        if self.counterfactual.band == "confidence":
            reasons.append(
                f"the {self.design} design's bands hold only the uncertainty of the counterfactual mean, not "
                "the period-to-period noise of sales, so part of the post-period looks more certain than it "
                "is (use the structural or synthetic design)"
            )
        return "; and ".join(reasons) or None

    def _segment_verdict(self, verdict: str | None) -> str | None:
        if verdict is None:
            return None
        if self.unreliable_reason:
            return UNRELIABLE
        if self.persistence_withheld:
            return None
        if verdict in (HARM, GAIN) and self.verdict is not None and self.verdict.reason:
            return INCONCLUSIVE
        return verdict

    def segments(self, boundaries: object = None) -> pd.DataFrame:
        """The effect by post-period segment: one row per segment, indexed by its name (``months 1–3``).

        ``boundaries``: post-period counts or dates (see
        :func:`~incident_impact.sales.persistence.resolve_boundaries`); None: :attr:`segment_boundaries`.
        Columns: ``segment, first, last, start, end, n_periods`` (1-based post periods), ``actual, predicted,
        predicted_lower/upper, effect, effect_lower/upper, relative, relative_lower/upper`` (sums over the
        segment, intervals from the same simulated paths as the whole post-period), ``p_value`` (one-sided tail
        area) and ``verdict`` (the verdict classes; ``unreliable model`` when the model fails its placebo check;
        a significant class is *inconclusive* when the whole period's was for its placebos; None when
        :attr:`persistence_withheld` for the design, or the counterfactual is near 0).
        """
        bounds = (
            self.segment_boundaries
            if boundaries is None
            else resolve_boundaries(boundaries, self.data.index, self.n_pre)
        )
        return segment_table(
            self.effect,
            self.data.index[self.n_pre :],
            bounds,
            self.unit,
            bound=self.bound,
            verdict_of=self._segment_verdict,
        )

    @cached_property
    def _recovery(self) -> Recovery:
        return recovery(
            self.effect, self.data.index[self.n_pre :], self.unit, bound=self.bound, withheld=self.persistence_withheld
        )

    def recovery(self) -> Recovery:
        """When sales recovered: the first post period from which no remaining stretch of the post-period is
        significantly below the counterfactual (:mod:`~incident_impact.sales.persistence` states the rule)."""
        return self._recovery

    def persistence_sentence(self) -> str:
        """The segments and the recovery in plain words (one or two sentences)."""
        level = f"{100 * (1 - self.effect.alpha):g} %"
        parts = []
        for name, row in self.segments().iterrows():
            if np.isfinite(row.relative):
                where = "above" if row.relative >= 0 else "below"
                parts.append(
                    f"in {name} sales were {_share(row.relative)} {where} the counterfactual ({level} interval "
                    f"{_signed_share(row.relative_lower)} to {_signed_share(row.relative_upper)})"
                )
            else:
                parts.append(
                    f"in {name} sales differed from the counterfactual by {_fmt(row.effect)} ({level} interval "
                    f"{_fmt(row.effect_lower)} to {_fmt(row.effect_upper)})"
                )
        head = "; ".join(parts)
        head = head[0].upper() + head[1:]
        rec = self.recovery()
        unit, h = self.unit, rec.n_periods
        within = f"within {h} {unit}{'s' if h != 1 else ''}"
        if not rec.hurt:
            tail = "no stretch of the post-period was significantly below it, so there was no loss to recover from"
        elif rec.no_loss_from is None:
            tail = f"they had not recovered {within}: a loss was still detectable at the end"
        else:
            start = f"{unit} {rec.no_loss_from} ({_label(post_index_label(self, rec.no_loss_from))})"
            tail = (
                f"they recovered by {start}"
                if rec.recovered
                else f"from {start} on no loss was detectable, but they had not been shown to recover {within}"
            )
            if np.isfinite(rec.rest_relative):
                tail += (
                    f": from then on sales were {_share(rec.rest_relative)} "
                    f"{'above' if rec.rest_relative >= 0 else 'below'} it ({level} interval "
                    f"{_signed_share(rec.rest_relative_lower)} to {_signed_share(rec.rest_relative_upper)}), so a "
                    f"loss of more than {_share(self.bound)} "
                    f"{'is ruled out' if rec.recovered else 'cannot be ruled out'}"
                )
        text = f"{head}; {tail}."
        if self.persistence_withheld:
            text += f" These numbers carry no verdict: {self.persistence_withheld}."
        return text

    # ------------------------------------------------------------------ text
    def plain_sentence(self) -> str:
        """What happened to sales, how large, how sure and what could have gone unnoticed, for a non-statistician."""
        row = _row(self.table, "cumulative")
        level = f"{100 * (1 - self.effect.alpha):g} %"
        basis = "the pre-incident pattern" + (" and the control series" if self.controls else "")
        if self.unreliable_reason:
            return f"We cannot tell what the incident did to sales: {self.unreliable_reason}."
        if self.verdict is None:
            return (
                f"Sales differed from what {basis} predicted by {_fmt(row.effect)} in total ({level} interval "
                f"{_fmt(row.effect_lower)} to {_fmt(row.effect_upper)}); no percentage is given because the "
                "prediction is close to zero."
            )
        rel, lo, hi = row.relative, row.relative_lower, row.relative_upper
        where = "above" if rel >= 0 else "below"
        head = (
            f"Sales were {_share(rel)} {where} what {basis} predicted ({level} interval "
            f"{_signed_share(lo)} to {_signed_share(hi)})"
        )
        verdict, p = self.verdict.verdict, self.verdict.p_value
        if verdict in (HARM, GAIN):
            change = "drop" if verdict == HARM else "rise"
            return f"{head}; a {change} this large would rarely happen by chance (p = {_p(p)})."
        if verdict == NO_EFFECT:
            return (
                f"{head}; a change of more than {_share(self.bound)} either way is ruled out, so the incident made "
                "no material difference."
            )
        if self.verdict.reason:
            return (
                f"{head}; the model alone would call this significant (p = {_p(p)}), but changes as large "
                "appeared at fake incident dates before the real one, so it may be the series' usual wandering."
            )
        return (
            f"{head}; this could be chance (p = {_p(p)}), and a change smaller than about "
            f"{_share(self.verdict.mde)} either way could have gone unnoticed."
        )

    def verdict_text(self) -> str:
        """One sentence: the relative effect, its interval, p and the verdict."""
        row = _row(self.table, "cumulative")
        level = f"{100 * (1 - self.effect.alpha):g} %"
        if self.verdict is None:
            return (
                f"cumulative effect {_fmt(row.effect)} ({level}: {_fmt(row.effect_lower)} to "
                f"{_fmt(row.effect_upper)}); "
                f"no relative effect or verdict: the counterfactual is too close to 0"
            )
        if self.verdict.verdict == UNRELIABLE:
            return (
                f"sales {_pct(row.relative)} against the counterfactual ({level}: {_pct(row.relative_lower)} to "
                f"{_pct(row.relative_upper)}; tail-area p = {self.p_value:.3g}): {self.verdict.text}: "
                f"{self.unreliable_reason}"
            )
        return (
            f"sales {_pct(row.relative)} against the counterfactual ({level}: {_pct(row.relative_lower)} to "
            f"{_pct(row.relative_upper)}; tail-area p = {self.p_value:.3g}): {self.verdict.text}"
            f"{' (' + self.verdict.reason + ')' if self.verdict.reason else ''}; "
            f"|effect| < {_pct(self.bound, signed=False)} "
            f"{'shown' if self.verdict.verdict == NO_EFFECT else 'not shown'} "
            f"(equivalence p = {self.verdict.tost_p_value:.2g}), smallest effect detectable with 80 % power = "
            f"{_pct(self.verdict.mde, signed=False)}"
        )

    def summary(self) -> str:
        """A plain-text report: periods, model, the average/cumulative table, p, placebos, verdict, then the
        effect by segment and the recovery."""
        (pre0, pre1), (post0, post1) = self.pre_period, self.post_period
        level = f"{100 * (1 - self.effect.alpha):g} %"
        lines = [
            self.plain_sentence(),
            "",
            f"Sales impact of {self.label}: {_DESIGN_NAMES[self.design]}",
            f"Pre-period {_label(pre0)} .. {_label(pre1)} ({self.n_pre} periods); post-period {_label(post0)} .. "
            f"{_label(post1)} ({len(self.data) - self.n_pre} periods)",
            f"Controls: {', '.join(self.controls) if self.controls else 'none'}",
            f"Model: {self.counterfactual.description}",
            *([f"Model choice: {self.choice.reason}"] if self.choice is not None else []),
            "",
            f"{'':<11}{'actual':>12}{'predicted':>12}  {level + ' interval':<24}{'effect':>10}  "
            f"{level + ' interval':<24}"
            f"{'relative':>9}  {level + ' interval'}",
        ]
        for name, row in self.table.iterrows():
            lines.append(
                f"{name:<11}{_fmt(row.actual):>12}{_fmt(row.predicted):>12}  "
                f"{'[' + _fmt(row.predicted_lower) + ', ' + _fmt(row.predicted_upper) + ']':<24}"
                f"{_fmt(row.effect):>10}  "
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
        return "\n".join(lines + [""] + self._persistence_lines())

    def _persistence_lines(self) -> list[str]:
        level = f"{100 * (1 - self.effect.alpha):g} %"
        frame = self.segments()
        width = max(len(name) for name in frame.index) + 2
        lines = [
            f"Persistence by segment ({level} intervals from the same simulated paths; each segment tested on its own)",
            f"{'':<{width}}{'periods':<26}{'actual':>12}{'predicted':>12}{'effect':>10}  {level + ' interval':<24}"
            f"{'relative':>9}  {level + ' interval':<20}{'p':>7}  verdict",
        ]
        for name, row in frame.iterrows():
            span = f"{_label(row['first'])} .. {_label(row['last'])}"
            verdict = (
                row.verdict if isinstance(row.verdict, str) else "withheld" if self.persistence_withheld else "n/a"
            )
            lines.append(
                f"{name:<{width}}{span:<26}{_fmt(row.actual):>12}{_fmt(row.predicted):>12}{_fmt(row.effect):>10}  "
                f"{'[' + _fmt(row.effect_lower) + ', ' + _fmt(row.effect_upper) + ']':<24}{_pct(row.relative):>9}  "
                f"{'[' + _pct(row.relative_lower) + ', ' + _pct(row.relative_upper) + ']':<20}"
                f"{row.p_value:>7.3g}  {verdict}"
            )
        rec = self.recovery()
        text = f"Recovery: {rec.status}"
        if rec.no_loss_from is not None:
            text += (
                f"; {self.unit}s {rec.no_loss_from}–{rec.n_periods}: {_pct(rec.rest_relative)} "
                f"[{_pct(rec.rest_relative_lower)}, {_pct(rec.rest_relative_upper)}], a loss over "
                f"{_pct(self.bound, signed=False)} {'ruled out' if rec.loss_ruled_out else 'not ruled out'}"
            )
        if self.persistence_withheld:
            text += f" (no verdict: {self.persistence_withheld})"
        return lines + [text, "In plain words: " + self.persistence_sentence()]

    def report(self) -> str:
        """What was found, in plain language (one paragraph)."""
        avg, cum = _row(self.table, "average"), _row(self.table, "cumulative")
        level = f"{100 * (1 - self.effect.alpha):g} %"
        (post0, post1) = self.post_period
        text = [
            f"During the {len(self.data) - self.n_pre} periods from {_label(post0)} to {_label(post1)}, sales averaged "
            f"{_fmt(avg.actual)} per period. Had the incident not happened, the {_DESIGN_NAMES[self.design]} expects "
            f"{_fmt(avg.predicted)} ({level} interval {_fmt(avg.predicted_lower)} to "
            f"{_fmt(avg.predicted_upper)}), so the "
            f"estimated effect is {_fmt(avg.effect)} per period "
            f"({_fmt(avg.effect_lower)} to {_fmt(avg.effect_upper)}), "
            f"{_fmt(cum.effect)} in total ({_fmt(cum.effect_lower)} to {_fmt(cum.effect_upper)}).",
        ]
        if self.verdict is None:
            text.append("The counterfactual is close to zero, so no relative effect is given.")
        elif self.verdict.verdict == UNRELIABLE:
            text.append(
                f"In relative terms sales changed by {_pct(avg.relative)} ({_pct(avg.relative_lower)} to "
                f"{_pct(avg.relative_upper)}), but this model cannot be trusted here: {self.unreliable_reason}."
            )
        else:
            text.append(
                f"In relative terms sales changed by {_pct(avg.relative)} ({_pct(avg.relative_lower)} to "
                f"{_pct(avg.relative_upper)})."
            )
            verdict = self.verdict.verdict
            if verdict == NO_EFFECT:
                text.append(f"The interval lies within ±{_pct(self.bound, signed=False)}: no material effect.")
            elif verdict in (HARM, GAIN):
                text.append(
                    f"The interval excludes zero: the incident coincides with a significant "
                    f"{'fall' if verdict == HARM else 'rise'} in sales (tail-area p = {self.p_value:.3g}). "
                    "This rests on the controls and the model standing in for the sales without the incident."
                )
            elif self.verdict.reason:
                text.append(f"The interval excludes zero, but {self.verdict.reason}: inconclusive.")
            else:
                text.append(
                    f"The interval includes zero and is too wide to rule out a material effect "
                    f"(±{_pct(self.bound, signed=False)}): inconclusive."
                )
        rate = self.in_time.false_positive_rate
        if self.in_time.n:
            hits, large = int(round(rate * self.in_time.n)), self.in_time.n_as_large
            text.append(
                f"At {self.in_time.n} fake date{'s' if self.in_time.n != 1 else ''} before the incident the "
                f"same model found an effect {hits} time{'s' if hits != 1 else ''}, and {large} placebo "
                f"effect{'s' if large != 1 else ''} {'were' if large != 1 else 'was'} as large as the real one"
                + (": the model's p-value should not be trusted here." if rate > 0.2 else ".")
            )
        if self.choice is not None:
            text.append(
                f"The model ({spec_label(self.spec)}) was chosen from the pre-incident data by how well each "
                "candidate predicted the next period."
            )
        if self.design == "its":
            text.append("Without a control series this design assumes the pre-incident trend would have continued.")
        return " ".join(text)

    # ------------------------------------------------------------------ outputs
    def __repr__(self) -> str:
        verdict = self.verdict.verdict if self.verdict is not None else "no verdict (counterfactual near 0)"
        return short_repr(
            "SalesImpact",
            [
                f"{self.label}: {self.design} design, post-period "
                f"{_day(self.post_period[0])} .. {_day(self.post_period[1])}",
                f"relative effect {100 * self.relative_effect:+.1f} % (p = {self.p_value:.3g}): {verdict}",
            ],
        )

    def _repr_html_(self) -> str:
        return html_block(f"Sales impact: {self.label}", [self.plain_sentence()], self.table)

    def to_frame(self) -> pd.DataFrame:
        """The per-period table (a copy of :attr:`series`)."""
        return self.series.copy()

    def to_dict(self) -> dict:
        """JSON-ready (strict: NaN/inf are None): ``plain`` first, then periods, model, its choice, params,
        the average/cumulative table, p, placebos, verdict, ``segments`` (the rows of :meth:`segments`),
        ``recovery`` (:meth:`recovery` with ``plain``, :meth:`persistence_sentence`), series."""

        def clean(value):
            if isinstance(value, (float, np.floating)):
                return None if not np.isfinite(value) else float(value)
            if isinstance(value, (np.integer, np.bool_)):
                return value.item()
            return value

        def stamp(value):
            return value.date().isoformat() if isinstance(value, pd.Timestamp) else clean(value)

        series = self.series
        return json_safe(
            {
                "plain": self.plain_sentence(),
                "label": self.label,
                "incident": self.incident.id if self.incident else None,
                "when": self.when.isoformat() if isinstance(self.when, (dt.date, pd.Timestamp)) else self.when,
                "design": self.design,
                "spec": {k: clean(v) for k, v in vars(self.spec).items()},
                "controls": list(self.controls),
                "pre_period": [stamp(v) for v in self.pre_period],
                "post_period": [stamp(v) for v in self.post_period],
                "model": self.counterfactual.description,
                "choice": None if self.choice is None else self.choice.to_dict(),
                "reliable": self.reliable,
                "unreliable_reason": self.unreliable_reason,
                "band": self.counterfactual.band,
                "params": {k: clean(v) for k, v in self.counterfactual.params.items()},
                "effects": {
                    name: {k: clean(v) for k, v in row.items()} for name, row in self.table.to_dict("index").items()
                },
                "p_value": self.p_value,
                "verdict": None if self.verdict is None else {k: clean(v) for k, v in self.verdict.to_dict().items()},
                "verdict_text": self.verdict_text(),
                "placebos": {
                    "in_time": self.in_time.to_dict(),
                    "in_space": None if self.in_space is None else self.in_space.to_dict(),
                },
                "report": self.report(),
                "notes": list(self.notes),
                "segments": [
                    {k: stamp(v) if k in ("first", "last") else clean(v) for k, v in row.items()}
                    for row in self.segments().to_dict("records")
                ],
                "recovery": self.recovery().to_dict() | {"plain": self.persistence_sentence()},
                "series": [
                    {"date": stamp(idx), **{k: clean(v) for k, v in row.items()}} for idx, row in series.iterrows()
                ],
            }
        )


def _day(value: object) -> str:
    """A period label for text: a date without its midnight time, anything else as it is."""
    return str(value.date()) if isinstance(value, pd.Timestamp) else str(value)
