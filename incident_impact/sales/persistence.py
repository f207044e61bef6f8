"""Persistence of a sales effect: the effect by post-period segment, and when sales recovered.

Both come from the same simulated counterfactual paths as the whole-period effect
(:mod:`.effect`): ``y_t`` observed, ``c_t`` the point counterfactual and ``C_ts`` the ``R`` paths,
``t = 1..h`` the post periods.

**Segments.** Boundaries ``b_1 < b_2 < ...`` (post periods, ``1 <= b < h``) cut the post-period into
``[1, b_1], [b_1 + 1, b_2], ..., [b_k + 1, h]``. A date boundary is the period containing it: that
period starts a new segment. The default is the first calendar quarter against the rest: 91 days,
13 weeks, 3 months, 1 quarter or 1 year (annual data), and the first quarter of the post-period
(``ceil(h / 4)`` periods) for numbered periods; none when the post-period is not longer than that.
For a segment ``S`` with ``Y = sum_S y_t``, ``c = sum_S c_t``, ``C_s = sum_S C_ts``: effect ``Y - c``
with the interval ``Y - q(C_s)``; relative ``Y / c - 1`` with the interval ``Y / q(C_s) - 1`` (not
reported when the counterfactual sum is near 0); the one-sided tail-area p of ``Y`` among the
``C_s``, and the verdict classes with the materiality bound, exactly as for the whole post-period.
Each segment is its own test: the p-values are not adjusted for looking at several.

**Recovered by.** Single periods are too noisy to date a recovery (a 95 % pointwise band leaves
one period in 40 "significantly below" by chance, and a noisy series hides a lasting loss period
by period), so the rule looks at stretches of periods. A stretch is *significantly negative* when
the 95 % interval of its summed effect lies below 0 (``sum_S y_t < q_0.025(sum_S C_ts)``). Let

* ``L`` (``first_loss``): the first period ``t`` whose cumulative effect since the incident,
  ``[1, t]`` (the cumulative panel of the report), is significantly negative (None: never);
* ``D`` (``no_loss_from``): the first period ``d > L`` such that no *remaining* stretch ``[d', h]``,
  ``d' >= d``, is significantly negative: from ``d`` on no loss is detectable in what remains, and none
  reappears later (down to the last period alone). ``d > L`` keeps the date after the loss was seen:
  a short dip is diluted in long remaining stretches.

Then, with ``b`` the materiality bound (``--bound``, 5 %):

* **never significantly below** (``hurt`` False): no stretch ``[1, t]`` and no stretch ``[d, h]`` is
  significantly negative;
* **recovered by** ``D``: the relative effect over the rest, ``[D, h]``, has its 95 % interval above
  ``-b``: from ``D`` on a loss larger than the bound is ruled out, not merely undetected;
* **not recovered within h periods**: the last period alone is significantly negative (or the loss
  was first seen in the last period), or no loss is
  detectable from ``D`` on but a loss larger than ``b`` over ``[D, h]`` cannot be ruled out (the
  status says which: "no loss detectable from period D, but ... not ruled out"); ``no_loss_from`` keeps ``D``.

What it can and cannot say: a recovery is dated where the loss stops being detectable *and* a
material loss in the rest is excluded; the date can come early when the last periods of the dip are
small against the noise of the long remaining stretch they are diluted in (a dip fading gradually, or
a noisy series), and the rest's interval then shows how much loss is still possible. With no effect at
all the nested stretches flag a loss more often than one test at 2.5 % would, but far less often than
``2 h`` separate tests (they share their periods).

Both are withheld (numbers shown, no verdict) when the model is an :data:`~.gate.UNRELIABLE` model,
and for the ``did`` and ``its`` designs, whose paths hold only the uncertainty of the counterfactual
*mean*: their post residuals sum to 0 over the whole post-period, but not over a part of it, so the
intervals of a segment or a stretch leave out the series' own noise and look more certain than they are.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

import numpy as np
import pandas as pd

from ..errors import SalesDataError
from .data import frequency_of, post_start
from .effect import Effect

#: The word for one period, by frequency letter (None: numbered periods).
UNITS = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year", None: "period"}
#: Periods in the default first segment ("the first quarter"), by frequency letter.
QUARTER = {"D": 91, "W": 13, "M": 3, "Q": 1, "Y": 1}
SEGMENT_COLUMNS = (
    "segment",
    "first",
    "last",
    "start",
    "end",
    "n_periods",
    "actual",
    "predicted",
    "predicted_lower",
    "predicted_upper",
    "effect",
    "effect_lower",
    "effect_upper",
    "relative",
    "relative_lower",
    "relative_upper",
    "p_value",
    "verdict",
)


def unit_of(index: pd.Index) -> str:
    """``day``, ``week``, ``month``, ``quarter``, ``year`` or ``period`` (numbered periods)."""
    return UNITS[frequency_of(index).letter]


def default_boundaries(index: pd.Index, n_pre: int) -> tuple[int, ...]:
    """The first quarter against the rest (see the module docstring); ``()`` when the post-period is that short."""
    h = len(index) - n_pre
    letter = frequency_of(index).letter
    first = QUARTER[letter] if letter is not None else math.ceil(h / 4)
    return (first,) if 0 < first < h else ()


def resolve_boundaries(segments: object, index: pd.Index, n_pre: int) -> tuple[int, ...]:
    """Segment boundaries as post-period counts, sorted.

    ``segments``: None (the default, :func:`default_boundaries`), a whole number or date, or a sequence of them.
    A whole number ``b`` ends a segment after the ``b``-th post period; a date (``"2023-07-01"``, a
    :class:`~datetime.date` or :class:`~pandas.Timestamp`) starts a new segment at the period containing it.
    Raises :class:`~incident_impact.errors.SalesDataError` for a boundary outside ``1 .. h - 1`` or a repeated one.
    """
    if segments is None:
        return default_boundaries(index, n_pre)
    items = (
        [segments]
        if isinstance(segments, (str, int, np.integer, pd.Timestamp)) or not isinstance(segments, Sequence)
        else list(segments)
    )
    h = len(index) - n_pre
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise SalesDataError(f"a segment boundary must be a number of post periods or a date, not {item!r}")
        if isinstance(item, (int, np.integer)) or (isinstance(item, str) and item.strip().isdigit()):
            bound, shown = int(item), f"{int(item)}"
        elif isinstance(item, (str, pd.Timestamp)) or hasattr(item, "isoformat"):
            if not isinstance(index, pd.DatetimeIndex):
                raise SalesDataError(
                    f"the sales data are numbered periods, so segment boundaries are numbers of post "
                    f"periods, not {item!r}"
                )
            bound = post_start(index, str(item).strip()) - n_pre
            shown = f"{str(item).strip()} (post period {bound + 1})"
        else:
            raise SalesDataError(f"a segment boundary must be a number of post periods or a date, not {item!r}")
        if not 1 <= bound < h:
            raise SalesDataError(
                f"segment boundary {shown} is outside the post-period: a boundary ends a segment after "
                f"1 to {h - 1} post periods"
            )
        out.append(bound)
    if len(set(out)) != len(out):
        raise SalesDataError(f"segment boundaries repeat: {sorted(out)} (post periods)")
    return tuple(sorted(out))


def segment_slices(h: int, boundaries: Sequence[int]) -> list[slice]:
    """``[0, b_1), [b_1, b_2), ..., [b_k, h)`` as slices of the post-period."""
    edges = [0, *boundaries, h]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


def sub_effect(effect: Effect, part: slice) -> Effect:
    """The :class:`Effect` of the post periods in ``part`` (same paths, same ``alpha``)."""
    cf = effect.counterfactual
    return Effect(effect.observed[part], replace(cf, point=cf.point[part], draws=cf.draws[part]), effect.alpha)


def segment_name(unit: str, start: int, end: int) -> str:
    """``months 1–3``, ``quarter 1``, ``weeks 14–52`` (1-based post periods)."""
    return f"{unit} {start}" if start == end else f"{unit}s {start}–{end}"


def _label(value: object) -> object:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else value


def segment_table(
    effect: Effect, post_index: pd.Index, boundaries: Sequence[int], unit: str, *, bound: float, verdict_of=None
) -> pd.DataFrame:
    """One row per segment (columns :data:`SEGMENT_COLUMNS`; the index is the segment name).

    ``verdict_of(verdict class or None) -> class or None`` applies the result's gates to each segment's class.
    """
    rows = []
    for part in segment_slices(len(effect.observed), boundaries):
        sub = sub_effect(effect, part)
        cum = sub.table.loc["cumulative"]
        base = sub.verdict(bound)
        verdict = None if base is None else base.verdict
        if verdict_of is not None:
            verdict = verdict_of(verdict)
        start, end = part.start + 1, part.stop
        rows.append(
            {
                "segment": segment_name(unit, start, end),
                "first": _label(post_index[part.start]),
                "last": _label(post_index[part.stop - 1]),
                "start": start,
                "end": end,
                "n_periods": end - start + 1,
                # one label of the float row is a number (pandas-stubs also allows a Series)
                **{k: float(cast(float, cum[k])) for k in SEGMENT_COLUMNS[6:16]},
                "p_value": sub.p_value,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS)).set_index("segment", drop=False)


@dataclass(frozen=True)
class Recovery:
    """When sales recovered (see the module docstring for the rule).

    recovered_by : the first post period (1-based) from which no remaining stretch is significantly negative and a
        loss larger than ``bound`` over the rest is ruled out; None otherwise. recovered_at : its label (date or period
        number). no_loss_from : the first post period after ``first_loss`` from which no remaining stretch is
        significantly negative (None: the last period alone is). first_loss : the first period whose cumulative effect
        since the incident is significantly negative (None: never). hurt : some stretch ``[1, t]`` or ``[d, h]`` was
        significantly negative. n_periods : ``h``; unit : the word for a period.
    rest_* : the effect and relative effect over ``[no_loss_from, h]`` with their intervals (NaN without
        ``no_loss_from``; relative NaN when the counterfactual is near 0). bound : the materiality bound.
    withheld : why no verdict is given (None: it is given); the numbers are the same either way.
    """

    recovered_by: int | None
    recovered_at: object
    no_loss_from: int | None
    first_loss: int | None
    hurt: bool
    n_periods: int
    unit: str
    rest_effect: float
    rest_effect_lower: float
    rest_effect_upper: float
    rest_relative: float
    rest_relative_lower: float
    rest_relative_upper: float
    bound: float
    alpha: float
    withheld: str | None = None

    @property
    def recovered(self) -> bool:
        return self.recovered_by is not None

    @property
    def loss_ruled_out(self) -> bool:
        """The rest's relative interval lies above ``-bound``."""
        return bool(np.isfinite(self.rest_relative_lower) and self.rest_relative_lower > -self.bound)

    @property
    def status(self) -> str:
        """``recovered by month 4 (2023-07-01)``, ``not recovered within 12 months ...`` or ``never significantly below
        the counterfactual``."""
        plural = "s" if self.n_periods != 1 else ""
        if not self.hurt:
            return "never significantly below the counterfactual"
        if self.recovered_by is not None:
            return f"recovered by {self.unit} {self.recovered_by} ({self.recovered_at})"
        if self.no_loss_from is None:
            return f"not recovered within {self.n_periods} {self.unit}{plural} (a loss is still detectable at the end)"
        return (
            f"not recovered within {self.n_periods} {self.unit}{plural}: no loss detectable from {self.unit} "
            f"{self.no_loss_from}, but a loss over {100 * self.bound:g} % in the rest is not ruled out"
        )

    def to_dict(self) -> dict:
        return {
            "recovered_by": self.recovered_by,
            "recovered_at": self.recovered_at,
            "status": self.status,
            "no_loss_from": self.no_loss_from,
            "first_loss": self.first_loss,
            "hurt": self.hurt,
            "n_periods": self.n_periods,
            "unit": self.unit,
            "rest_effect": self.rest_effect,
            "rest_effect_lower": self.rest_effect_lower,
            "rest_effect_upper": self.rest_effect_upper,
            "rest_relative": self.rest_relative,
            "rest_relative_lower": self.rest_relative_lower,
            "rest_relative_upper": self.rest_relative_upper,
            "loss_ruled_out": self.loss_ruled_out,
            "bound": self.bound,
            "withheld": self.withheld,
        }


def _negative(observed: np.ndarray, draws: np.ndarray, alpha: float) -> np.ndarray:
    """Per row: the summed effect's interval lies below 0 (``observed < q_(alpha/2)(draws)``)."""
    return observed < np.quantile(draws, alpha / 2, axis=1)


def stretches(effect: Effect) -> pd.DataFrame:
    """Per post period ``t = 1..h`` (1-based index): ``since_incident`` -- the cumulative effect ``[1, t]`` is
    significantly negative -- and ``remaining`` -- the effect ``[t, h]`` is."""
    y, draws, alpha = effect.observed, effect.counterfactual.draws, effect.alpha
    since = _negative(np.cumsum(y), np.cumsum(draws, axis=0), alpha)
    remaining = _negative(np.cumsum(y[::-1])[::-1], np.cumsum(draws[::-1], axis=0)[::-1], alpha)
    return pd.DataFrame(
        {"since_incident": since, "remaining": remaining}, index=pd.RangeIndex(1, len(y) + 1, name="period")
    )


def recovery(effect: Effect, post_index: pd.Index, unit: str, *, bound: float, withheld: str | None = None) -> Recovery:
    """The :class:`Recovery` of ``effect`` (see the module docstring)."""
    h = len(effect.observed)
    flags = stretches(effect)
    since, remaining = flags["since_incident"].to_numpy(), flags["remaining"].to_numpy()
    first_loss = int(np.flatnonzero(since)[0]) + 1 if since.any() else None
    hurt = bool(since.any() or remaining.any())
    nan = float("nan")
    rest = dict.fromkeys(
        (
            "rest_effect",
            "rest_effect_lower",
            "rest_effect_upper",
            "rest_relative",
            "rest_relative_lower",
            "rest_relative_upper",
        ),
        nan,
    )
    no_loss_from = by = None
    if hurt and not remaining[-1]:
        after_remaining = int(np.flatnonzero(remaining)[-1]) + 2 if remaining.any() else 1
        no_loss_from = max(after_remaining, (first_loss or 0) + 1)
        if no_loss_from > h:  # the loss was first seen in the last period
            no_loss_from = None
    if no_loss_from is not None:
        cum = sub_effect(effect, slice(no_loss_from - 1, h)).table.loc["cumulative"]
        rest = {
            f"rest_{k}": float(cast(float, cum[k]))  # a number: one label of the float row
            for k in ("effect", "effect_lower", "effect_upper", "relative", "relative_lower", "relative_upper")
        }
        if np.isfinite(rest["rest_relative_lower"]) and rest["rest_relative_lower"] > -bound:
            by = no_loss_from
    return Recovery(
        by,
        None if by is None else _label(post_index[by - 1]),
        no_loss_from,
        first_loss,
        hurt,
        h,
        unit,
        **rest,
        bound=bound,
        alpha=effect.alpha,
        withheld=withheld,
    )


__all__ = [
    "QUARTER",
    "SEGMENT_COLUMNS",
    "UNITS",
    "Recovery",
    "default_boundaries",
    "recovery",
    "resolve_boundaries",
    "segment_table",
    "stretches",
]
