"""Plain words: the one sentence a reader who is not a statistician sees first.

Every terminal summary and report opens with a sentence built here from the same numbers as the
statistical line below it: what happened to the stock, how large, how sure, and what could have
gone unnoticed (the minimum detectable effect). Nothing here computes a statistic.
"""

from __future__ import annotations

from .verdict import GAIN, HARM, NO_EFFECT

_COUNT_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
}


def _count(n: int) -> str:
    return _COUNT_WORDS.get(n, str(n))


def window_phrase(window: tuple[int, int]) -> str:
    """``(0, 1)`` -> ``"in the first two trading sessions after the news"``; day 0 is the first
    session in which the market could react."""
    start, end = window
    n = end - start + 1
    if start == 0:
        return (
            "in the first trading session after the news"
            if n == 1
            else f"in the first {_count(n)} trading sessions after the news"
        )
    if start < 0 <= end:
        return (
            f"in the {_count(n)} trading sessions around the news ({_count(-start)} before the first session "
            f"after it to {_count(end)} after)"
        )
    if end < 0:
        return f"in the {_count(n)} trading session{'s' if n > 1 else ''} ending {_count(-end)} before the news"
    return f"from trading session {start + 1} to {end + 1} after the news"


def possessive(name: str) -> str:
    """``"Target"`` -> ``"Target's"``; ``"McDonald's"`` and ``"Levi Strauss"`` keep their ending."""
    if name.endswith(("'s", "’s")):
        return name
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def stock_subject(company: str) -> str:
    """``"Target's stock"``; ``"The stock of United Continental Holdings (United Airlines)"`` when the name
    ends in a parenthesis, where a possessive reads badly."""
    return f"The stock of {company}" if company.rstrip().endswith(")") else f"{possessive(company)} stock"


def p_text(p: float) -> str:
    """``"p = 0.41"``, ``"p = 0.003"`` or ``"p < 0.001"``: never a p-value printed as 0.00."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def _pct(x: float, signed: bool = False) -> str:
    return f"{100 * x:+.1f} %" if signed else f"{100 * abs(x):.1f} %"


def stock_sentence(
    subject: str,
    window: tuple[int, int],
    *,
    car: float,
    ci_lower: float,
    ci_upper: float,
    p_value: float,
    verdict: str,
    mde: float,
    bound: float,
    expectation: str,
    money: str = "",
) -> str:
    """One sentence on one window's CAR, worded by ``verdict`` (see :mod:`incident_impact.verdict`).

    ``subject`` names the stock ("Target's stock"); ``expectation`` says what the normal return
    was based on ("given how the market moved"); ``money`` is an optional clause
    ("about $4.7bn of market value").
    """
    where = window_phrase(window)
    interval = f"95 % interval {_pct(ci_lower, True)} to {_pct(ci_upper, True)}"
    direction = "worse" if car < 0 else "better"
    moved = f"{subject} did {_pct(car)} {direction} than expected {expectation}, {where}"
    if verdict in (HARM, GAIN):
        worth = f"; {money}" if money else ""
        effect = "hurt" if verdict == HARM else "helped"
        return (
            f"{moved} ({interval}{worth}). Ordinary ups and downs rarely produce a gap this large "
            f"({p_text(p_value)}), so the incident most likely {effect} the share price."
        )
    if verdict == NO_EFFECT:
        return (
            f"{moved} ({interval}), and the data rule out an effect larger than {_pct(bound)} either way: "
            "the incident made no material difference to the share price."
        )
    return (
        f"{moved} ({interval}). That is within its ordinary ups and downs ({p_text(p_value)}), so we cannot say "
        f"the incident moved it; but the stock is too volatile to rule an effect out: a true effect as large as "
        f"{_pct(mde)} could easily have gone unnoticed."
    )


def expectation_phrase(model: str, benchmark: str) -> str:
    """What the normal return of ``model`` rests on, for :func:`stock_sentence`."""
    if model == "mean":
        return "from its average daily return"
    if model in ("market", "market-adjusted"):
        return f"given how the market ({benchmark}) moved"
    return "given how the market and the risk factors moved"
