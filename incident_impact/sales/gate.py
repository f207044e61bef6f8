"""The sales verdict is only given when the model passes its own placebo check.

The stock side's four classes (:mod:`incident_impact.verdict`) get a fifth for sales,
:data:`UNRELIABLE` (``"unreliable model"``), used instead of the model's verdict when

* fewer than :data:`MIN_PLACEBOS` (5) in-time placebos could be fitted with a usable pre-period
  (:func:`.placebo.placebo_minimum`): the model cannot be checked on this history; or
* the model "finds" an effect (two-sided ``2 p < alpha``) at more than :data:`MAX_FALSE_POSITIVE_RATE`
  (20 %) of them: at fake dates where nothing happened it reports effects, so its p-value at the
  real date means little (a correct model does so at rate ``alpha``; with ``n`` placebos,
  ``P(rate > 0.2)`` is 0.023 for ``n = 5`` and 0.012 for ``n = 10`` at ``alpha = 0.05``).

The model's own verdict is kept as :attr:`SalesVerdict.model_verdict`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..verdict import UNRELIABLE as UNRELIABLE  # re-exported: callers and tests import it from here
from ..verdict import VERDICT_TEXT, Verdict
from .placebo import MIN_PLACEBOS, Placebos

MAX_FALSE_POSITIVE_RATE = 0.2
SALES_VERDICT_TEXT = VERDICT_TEXT


@dataclass(frozen=True)
class SalesVerdict(Verdict):
    """A :class:`~incident_impact.verdict.Verdict` that may be :data:`UNRELIABLE`; ``reason`` says why and
    what to supply, ``model_verdict`` is the class the model's numbers alone would give."""

    reason: str = ""
    model_verdict: str = ""

    @property
    def text(self) -> str:
        return SALES_VERDICT_TEXT[self.verdict]


def unreliable_reason(in_time: Placebos, *, n_controls: int) -> str | None:
    """Why the placebo check fails (one sentence), or None when it passes."""
    supply = (
        "a longer history or a control series (sales of the category, a competitor or another region that "
        "the incident did not touch)"
        if n_controls == 0
        else "a longer history or better control series"
    )
    if in_time.n < MIN_PLACEBOS:
        return (
            f"only {in_time.n} fake incident date{'s' if in_time.n != 1 else ''} before the real one "
            f"{'leave' if in_time.n != 1 else 'leaves'} enough "
            f"history to check the model ({MIN_PLACEBOS} are needed); supply {supply}"
        )
    rate = in_time.false_positive_rate
    if rate > MAX_FALSE_POSITIVE_RATE:
        hits = int(round(rate * in_time.n))
        return (
            f"at {hits} of {in_time.n} fake incident dates before the real one, where nothing happened, the "
            f"model reported an effect ({100 * rate:.0f} %; at most {100 * MAX_FALSE_POSITIVE_RATE:.0f} % is "
            f"acceptable); supply {supply}"
        )
    return None
