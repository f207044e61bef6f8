"""What the catalog is, against what was published: short-window stock effects of comparable events.

:data:`LITERATURE` holds the published average effects with a number (as the authors report them,
collected in the project's literature notes) whose window can be set beside ours; studies that give
no number, or only a money amount over months, are left out. Each row cites the paper as
``Authors Year, Journal volume:page``. :func:`compare_with_literature` puts the pooled estimate of
one window (:func:`incident_impact.aftermath.pooled.pooled_effect`) beside them and says whether our
confidence interval covers each published estimate — and says plainly why the comparison is
lopsided: the catalog is a list of *famous* incidents, and an incident becomes famous partly
because the stock fell, so the catalog is selected on the outcome.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..display import html_block, short_repr
from ..eventstudy import format_window, parse_window
from ..eventstudy.windows import Window
from .pooled import PooledEffect

SAME, APPROXIMATE, DIFFERENT = "same", "approximate", "different"


@dataclass(frozen=True)
class PublishedEffect:
    """One published average effect.

    Attributes
    ----------
    study : the reference as ``Authors Year, Journal volume:page``.
    sample : what was studied (events, period).
    window : the event window as the authors state it.
    our_window : the window of ours it matches (None: none of ours).
    estimate : the average effect as a fraction (0.0066 = +0.66 %); None when not reported.
    estimate_text : the effect as reported ("about 0", "+0.66 % pooled").
    significance : as reported (a t-statistic, "significant", ...).
    approximate : True when the number is approximate ("about ...") or the window match is loose.
    notes : anything else worth knowing (sub-samples, caveats).
    """

    study: str
    sample: str
    window: str
    our_window: Window | None
    estimate: float | None
    estimate_text: str
    significance: str
    approximate: bool = False
    notes: str = ""

    def to_dict(self) -> dict:
        return {
            "study": self.study,
            "sample": self.sample,
            "window": self.window,
            "our_window": None if self.our_window is None else format_window(self.our_window),
            "estimate": self.estimate,
            "estimate_text": self.estimate_text,
            "significance": self.significance,
            "approximate": self.approximate,
            "notes": self.notes,
        }


#: Published short-window stock effects with a number (from the project's literature notes).
LITERATURE: tuple[PublishedEffect, ...] = (
    PublishedEffect(
        "Koku, Akhigbe & Springer 1997, J. Business Research 40:15",
        "boycotts and boycott threats",
        "day 0",
        (0, 0),
        0.0066,
        "+0.66 % pooled",
        "positive (the authors call it counter-intuitive)",
        notes="+0.76 % boycotts, +0.55 % threats",
    ),
    PublishedEffect(
        "Koku 2012, J. Services Marketing 26(1):20",
        "63 boycotts launched on the internet",
        "short",
        None,
        0.0,
        "about 0",
        "not significant",
        approximate=True,
    ),
    PublishedEffect(
        "Pasirayi, Fennell & Follmer 2022, Business & Society",
        "260 activism stances posted on Twitter",
        "event window",
        None,
        -0.0022,
        "-0.22 %",
        "significant",
        notes="window length not given in the summary read",
    ),
    PublishedEffect(
        "Afego & Alagidede 2021, J. Capital Markets Studies",
        "US firms joining #StopHateForProfit, 2020",
        "(+1,+4)",
        None,
        0.0268,
        "+2.68 %",
        "t = 3.72",
        notes="pre-window -2.13 %",
    ),
    PublishedEffect(
        "Acquisti, Friedman & Telang 2006, ICIS",
        "79 privacy breaches",
        "day 0",
        (0, 0),
        -0.004,
        "-0.4 %",
        "day 0 only; gone within a week",
    ),
    PublishedEffect(
        "Acquisti, Friedman & Telang 2006, ICIS",
        "79 privacy breaches",
        "day +1",
        (0, 1),
        -0.006,
        "about -0.6 %",
        "day 0 only; gone within a week",
        approximate=True,
        notes="read as cumulative to day +1; check the paper",
    ),
    PublishedEffect(
        "Acquisti, Friedman & Telang 2006, ICIS",
        "79 privacy breaches",
        "day +5",
        (0, 5),
        0.0,
        "about 0",
        "day 0 only; gone within a week",
        approximate=True,
        notes="read as cumulative to day +5; check the paper",
    ),
    PublishedEffect(
        "Knittel & Stango 2014, Management Science 60(1):21",
        "Tiger Woods scandal, his sponsors",
        "10-15 sessions",
        None,
        -0.023,
        "about -2.3 %",
        "significant; losses track search intensity; rivals gained",
        approximate=True,
        notes="one scandal; a longer window than ours",
    ),
    PublishedEffect(
        "Adachi & Takeda 2016, Electronic Commerce Research & Applications 17:49",
        'Japanese firms "flamed" online, 2006-13',
        "short",
        None,
        0.0,
        "about 0 unless newspapers report it",
        "online flaming alone not significant",
        approximate=True,
    ),
)

SELECTION_SENTENCE = (
    "The catalog is a list of famous incidents, and an incident becomes famous partly because the stock fell: "
    "it is selected on the outcome, so its pooled estimate is likely biased toward harm relative to all "
    "social-media incidents. Published samples that take every boycott or activism event found small average "
    "short-window effects of uncertain sign (-0.22 % to +0.66 %); large losses are single severe cases."
)


def literature_table() -> pd.DataFrame:
    """:data:`LITERATURE` as a table: ``study, sample, window, our_window, estimate, estimate_text,
    significance, approximate, notes``."""
    return pd.DataFrame([p.to_dict() for p in LITERATURE])


@dataclass(frozen=True, eq=False)
class LiteratureComparison:
    """The pooled estimate of one window beside the published ones.

    Attributes
    ----------
    window : our window's label, e.g. ``[0,+1]``.
    rows : per published effect: ``study, sample, their_window, their_estimate, their_text,
        significance, window_match`` (``same`` / ``approximate`` / ``different``), ``our_estimate,
        our_ci_lower, our_ci_upper, covers`` (our interval contains their estimate; None when ours
        is not computed), ``notes``.
    sentence : how many published estimates of a matching window our interval covers.
    selection : the plain statement that the catalog is selected on fame.
    """

    window: str
    rows: pd.DataFrame
    sentence: str
    selection: str = SELECTION_SENTENCE

    def to_frame(self) -> pd.DataFrame:
        return self.rows.copy()

    def to_dict(self) -> dict:
        """JSON-ready: ``window``, ``sentence``, ``selection`` and ``rows`` (NaN as None)."""
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in self.rows.to_dict("records")
        ]
        return {"window": self.window, "sentence": self.sentence, "selection": self.selection, "rows": rows}

    def summary(self) -> str:
        shown = self.rows[["study", "their_window", "their_text", "window_match", "covers"]]
        return "\n".join([self.sentence, self.selection, "", shown.to_string(index=False)])

    def __repr__(self) -> str:
        return short_repr(
            "LiteratureComparison", [f"window {self.window}, {len(self.rows)} published effects", self.sentence]
        )

    def _repr_html_(self) -> str:
        return html_block("Compared with the literature", [self.sentence, self.selection], self.rows)


def compare_with_literature(pooled: PooledEffect, window: Window | str) -> LiteratureComparison:
    """Our pooled estimate of ``window`` beside every published effect of :data:`LITERATURE`.

    ``window_match`` is ``same`` when the study's window is ours (``approximate`` when the match is
    loose, e.g. "day +1" read as cumulative), ``different`` otherwise; ``covers`` is computed for
    every row but only the matching ones enter :attr:`LiteratureComparison.sentence`.
    """
    window = parse_window(window)
    label = format_window(window)
    ok = not pooled.reason and math.isfinite(pooled.ci_lower)
    rows = []
    for p in LITERATURE:
        match = DIFFERENT if p.our_window != window else (APPROXIMATE if p.approximate else SAME)
        covers = None if (not ok or p.estimate is None) else bool(pooled.ci_lower <= p.estimate <= pooled.ci_upper)
        rows.append(
            {
                "study": p.study,
                "sample": p.sample,
                "their_window": p.window,
                "their_estimate": p.estimate,
                "their_text": p.estimate_text,
                "significance": p.significance,
                "window_match": match,
                "our_window": label,
                "our_estimate": pooled.estimate if ok else math.nan,
                "our_ci_lower": pooled.ci_lower if ok else math.nan,
                "our_ci_upper": pooled.ci_upper if ok else math.nan,
                "covers": covers,
                "notes": p.notes,
            }
        )
    frame = pd.DataFrame(rows)
    matching = frame[frame["window_match"] != DIFFERENT]
    if not ok:
        sentence = f"No pooled estimate for {label} ({pooled.reason or 'not computed'}), so no comparison."
    elif not len(matching):
        sentence = (
            f"No published average effect uses the window {label}; the table sets ours beside studies of "
            "other windows, which are not directly comparable."
        )
    else:
        covered = matching[matching["covers"].eq(True)]  # covers may be None (no interval to compare)
        level = f"{100 * pooled.level:g} %"
        names = "; ".join(
            f"{r.study} ({r.their_text}{', approximate' if r.window_match == APPROXIMATE else ''})"
            for r in matching.itertuples()
        )
        sentence = (
            f"Our {level} interval for the average CAR{label}, {100 * pooled.ci_lower:+.2f} % to "
            f"{100 * pooled.ci_upper:+.2f} %, covers {len(covered)} of the {len(matching)} published "
            f"estimate(s) for the same window: {names}."
        )
    return LiteratureComparison(label, frame, sentence)
