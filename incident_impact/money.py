"""The effect in money: a CAR times the firm's market value on the session before day 0.

``value change = CAR x market value(day -1)``, with ``market value = close(day -1) x shares
outstanding``; its confidence interval is the CAR's interval times the same market value
(the market value is treated as known). The close must be the price as traded that day (not
the dividend-adjusted close, whose level depends on the download date).

Shares outstanding come, in this order, from the user, from the catalog (with the filing it
was read from) or from Yahoo Finance when online; when none is known the money effect is
reported as unknown, never guessed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from .distributions import t_ppf


@dataclass(frozen=True)
class SharesOutstanding:
    """A share count and where it came from (``as_of`` is the date it was reported for)."""

    value: float
    source: str
    as_of: dt.date | None = None

    def describe(self) -> str:
        when = f" as of {self.as_of.isoformat()}" if self.as_of else ""
        return f"{self.value:,.0f} shares{when} ({self.source})"


@dataclass(frozen=True)
class MarketValue:
    """The firm's market value on ``date`` (the session before day 0)."""

    date: pd.Timestamp
    close: float
    shares: SharesOutstanding
    currency: str = "USD"

    @property
    def value(self) -> float:
        return self.close * self.shares.value

    def change(self, car: float, se: float, df: float, level: float = 0.95) -> dict[str, float]:
        """``value_change`` and its ``level`` interval ``(CAR -+ t se) x market value``."""
        half = t_ppf(0.5 + level / 2, df) * se
        return {
            "value_change": car * self.value,
            "value_change_lower": (car - half) * self.value,
            "value_change_upper": (car + half) * self.value,
        }

    def describe(self) -> str:
        return (
            f"market value {format_money(self.value, self.currency, signed=False)} on {self.date.date()} "
            f"(close {self.close:,.2f} x {self.shares.describe()})"
        )


def market_value(
    close: pd.Series, day0: pd.Timestamp, shares: SharesOutstanding | str | None, currency: str = "USD"
) -> MarketValue | str:
    """The market value on the last session before ``day0``, or the reason it is unknown.

    ``close`` is the as-traded close by session (NaN where the data lack it); ``shares`` is the
    count, or why none is known.
    """
    before = close[close.index < day0]
    if before.empty:
        return f"no close before day 0 ({day0.date()})"
    date = before.index[-1]
    price = float(before.iloc[-1])
    if not (price > 0 and math.isfinite(price)):
        return (
            f"the price data have no as-traded close on {date.date()} (only the adjusted close), which the value "
            "needs; use price files with a close column (--data-dir)"
        )
    if not isinstance(shares, SharesOutstanding):
        why = f": {shares}" if shares else ""
        return (
            f"shares outstanding unknown{why} (give --shares, add shares_outstanding to the incident file, "
            "or go online)"
        )
    if not (shares.value > 0 and math.isfinite(shares.value)):
        return f"shares outstanding must be a positive number, got {shares.value}"
    return MarketValue(pd.Timestamp(date), price, shares, currency or "USD")


def format_money(amount: float, currency: str = "USD", signed: bool = True) -> str:
    """``-$255M``, ``+$1.02bn``, ``EUR 12M``: amounts at a readable scale (three significant digits)."""
    if amount is None or not math.isfinite(amount):
        return "unknown"
    sign = "-" if amount < 0 else ("+" if signed else "")
    size = abs(amount)
    for limit, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            text = f"{size / limit:.3g}{suffix}"
            break
    else:
        text = f"{size:.0f}"
    symbol = "$" if (currency or "USD") == "USD" else f"{currency} "
    return f"{sign}{symbol}{text}"
