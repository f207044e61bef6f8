"""Checks that stand between a price file and its returns: missing sessions and implausible prices.

Rules (applied by :class:`~incident_impact.prices.base.PriceHistory` to ``adj_close``):

* **One return, one session.** A simple return must span exactly one session of the listing
  exchange's calendar (``exchange_calendars``). When a session between two rows has no row
  at all, the return across the hole is a multi-session return and is dropped (noted, with
  the missing dates), exactly as if the row were there with an empty cell. Rows on dates
  that are not sessions (an index published on a holiday) are kept; dates outside the
  calendar are not checked.
* **Impossible moves are missing prices.** A price ratio beyond ``EXTREME_RATIO`` (1000:1 either
  way, i.e. a return above +99,900 % or below -99.9 %), or one that overflows or underflows
  (``1e150`` or ``1e-320`` next to ordinary prices), is dropped with a note.
* **Suspect moves are kept and flagged.** A price ratio within ``SPLIT_TOLERANCE`` (2 %) of
  1:k or k:1 for k in ``SPLIT_FACTORS`` looks like an unadjusted split; a return with
  ``|R| > IMPLAUSIBLE_RETURN`` (75 %) is implausible for a listed company's day. Both are listed
  in :attr:`PriceHistory.suspect_returns` and noted; the estimate that uses them rests on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError

#: |daily simple return| above which a return is flagged as implausible (kept).
IMPLAUSIBLE_RETURN = 0.75
#: Split ratios checked (k-for-1 splits and 1-for-k reverse splits).
SPLIT_FACTORS = (2, 3, 4, 5, 10)
#: Relative tolerance of a split-like price ratio (2 %: rounding and the day's own move).
SPLIT_TOLERANCE = 0.02
#: A price ratio beyond this (either way) between consecutive sessions is dropped as impossible.
EXTREME_RATIO = 1000.0
#: Calendar used when a ticker's listing exchange is unknown.
DEFAULT_EXCHANGE = "XNYS"

#: Yahoo ticker suffix -> MIC of the listing exchange.
SUFFIX_EXCHANGES = {
    "PA": "XPAR",
    "AS": "XAMS",
    "BR": "XBRU",
    "LS": "XLIS",
    "DE": "XETR",
    "F": "XFRA",
    "L": "XLON",
    "IL": "XLON",
    "SW": "XSWX",
    "MI": "XMIL",
    "MC": "XMAD",
    "ST": "XSTO",
    "CO": "XCSE",
    "HE": "XHEL",
    "OL": "XOSL",
    "IR": "XDUB",
    "VI": "XWBO",
    "WA": "XWAR",
    "HK": "XHKG",
    "T": "XTKS",
    "SS": "XSHG",
    "SZ": "XSHG",
    "KS": "XKRX",
    "TW": "XTAI",
    "SI": "XSES",
    "AX": "XASX",
    "NZ": "XNZE",
    "NS": "XBOM",
    "BO": "XBOM",
    "TO": "XTSE",
    "V": "XTSE",
    "SA": "BVMF",
    "MX": "XMEX",
    "JO": "XJSE",
    "IS": "XIST",
}
#: Index tickers -> MIC of the exchange whose sessions the index is published on.
INDEX_EXCHANGES = {
    "^GSPC": "XNYS",
    "^DJI": "XNYS",
    "^NYA": "XNYS",
    "^RUT": "XNYS",
    "^IXIC": "XNAS",
    "^NDX": "XNAS",
    "^FCHI": "XPAR",
    "^AEX": "XAMS",
    "^BFX": "XBRU",
    "^GDAXI": "XETR",
    "^FTSE": "XLON",
    "^FTMC": "XLON",
    "^SSMI": "XSWX",
    "^IBEX": "XMAD",
    "^OMX": "XSTO",
    "^OMXC25": "XCSE",
    "^HSI": "XHKG",
    "^N225": "XTKS",
    "^NSEI": "XBOM",
    "^BSESN": "XBOM",
    "^GSPTSE": "XTSE",
    "^AXJO": "XASX",
    "^KS11": "XKRX",
    "FTSEMIB.MI": "XMIL",
}


def infer_exchange(ticker: str) -> str | None:
    """MIC of a ticker's listing exchange from its Yahoo spelling (``OR.PA`` -> XPAR, ``^HSI`` -> XHKG);
    None when the spelling says nothing (a US ticker such as ``UAL``, an unknown index)."""
    upper = ticker.upper()
    if upper in INDEX_EXCHANGES:
        return INDEX_EXCHANGES[upper]
    if upper.startswith("^"):
        return None
    head, dot, suffix = upper.rpartition(".")
    return SUFFIX_EXCHANGES.get(suffix) if dot and head else None


@dataclass(frozen=True, eq=False)
class IntegrityReport:
    """What the checks found in one price series.

    ``returns``: the usable simple returns (dropped ones removed); ``gaps``: one row per dropped
    multi-session return (``date, previous, n_missing, first_missing, last_missing``);
    ``suspects``: ``date, return, kind, dropped, reason`` with ``kind`` one of ``split``,
    ``implausible`` (kept) and ``impossible`` (dropped); ``notes``: one line per finding.
    """

    returns: pd.Series
    gaps: pd.DataFrame
    suspects: pd.DataFrame
    notes: tuple[str, ...]


GAP_COLUMNS = ["date", "previous", "n_missing", "first_missing", "last_missing"]
SUSPECT_COLUMNS = ["date", "return", "kind", "dropped", "reason"]


def _sessions(exchange: str, first: pd.Timestamp) -> tuple[pd.DatetimeIndex | None, str | None]:
    """The calendar's sessions (tz-naive), or None and why they are unknown."""
    from ..calendar import session_table  # the calendar module imports exchange_calendars lazily

    try:
        return session_table(exchange, first).sessions, None
    except IncidentImpactError as exc:
        return None, str(exc)


def _pct(r: float) -> str:
    return f"{100 * r:+.1f} %" if abs(r) < 1e4 else f"{100 * r:+.3g} %"


def _gap_text(first: pd.Timestamp, last: pd.Timestamp, n: int) -> str:
    if n == 1:
        return f"{first:%Y-%m-%d} missing"
    return f"{first:%Y-%m-%d}..{last:%Y-%m-%d} missing, {n} sessions"


def check_prices(ticker: str, prices: pd.Series, exchange: str | None = None) -> IntegrityReport:
    """Returns of ``prices`` (indexed by date, sorted) with the rules of this module applied.

    ``exchange``: MIC whose sessions the rows should cover (default: :func:`infer_exchange`,
    else ``XNYS``). Zero, negative and non-finite prices count as missing.
    """
    exchange = exchange or infer_exchange(ticker) or DEFAULT_EXCHANGE
    index = pd.DatetimeIndex(prices.index)
    p = prices.to_numpy(dtype="float64", copy=True)
    p[~(np.isfinite(p) & (p > 0))] = np.nan
    with np.errstate(all="ignore"):
        ratio = p[1:] / p[:-1]  # the arithmetic of pandas' pct_change: x / x.shift() - 1
        ret = ratio - 1
    dates = index[1:]
    keep = np.isfinite(ret)
    notes: list[str] = []

    # --- one return, one session
    gap_rows = []
    if len(index) > 1:
        sessions, why = _sessions(exchange, index[0])
        if sessions is None:
            notes.append(f"{ticker}: missing sessions not checked ({why})")
        else:
            prev, cur = index[:-1], index[1:]
            lo = sessions.searchsorted(prev, side="right")
            hi = sessions.searchsorted(cur, side="left")
            inside = (prev >= sessions[0]) & (cur <= sessions[-1])
            spans = np.flatnonzero(inside & (hi > lo) & keep)
            for i in spans.tolist():  # Python ints (pandas-stubs index an Index by int, not np.intp)
                gap_rows.append(
                    {
                        "date": cur[i],
                        "previous": prev[i],
                        "n_missing": int(hi[i] - lo[i]),
                        "first_missing": sessions[lo[i]],
                        "last_missing": sessions[hi[i] - 1],
                    }
                )
            keep[spans] = False
    gaps = pd.DataFrame(gap_rows, columns=GAP_COLUMNS)
    if len(gaps):
        n = len(gaps)
        rows = cast(Iterable[Any], gaps.head(5).itertuples())  # pandas-stubs types the fields as any scalar
        parts = [_gap_text(g.first_missing, g.last_missing, g.n_missing) for g in rows]
        if n > 5:
            parts.append(f"and {n - 5} more gap{'s' if n > 6 else ''}")
        what = "a missing session" if n == 1 and gaps["n_missing"].iloc[0] == 1 else "missing sessions"
        notes.append(
            f"{ticker}: {n} return{'s' if n != 1 else ''} spanning {what} dropped "
            f"({'; '.join(parts)}; {exchange} calendar)"
        )

    # --- impossible and suspect moves
    suspect_rows = []
    finite_pair = np.isfinite(p[1:]) & np.isfinite(p[:-1])
    with np.errstate(all="ignore"):
        extreme = finite_pair & ~(
            (ratio <= EXTREME_RATIO) & (ratio >= 1 / EXTREME_RATIO) & np.isfinite(ret) & (ret > -1)
        )
    for i in np.flatnonzero(extreme & (keep | ~np.isfinite(ret))).tolist():
        when = f"{dates[i]:%Y-%m-%d}"
        move = f"return of {_pct(ret[i])}" if np.isfinite(ret[i]) else "overflowing return"
        reason = (
            f"{ticker}: {move} on {when} (price {p[i + 1]:.6g} after {p[i]:.6g}) is impossible for one "
            f"session (beyond {EXTREME_RATIO:g}:1); dropped, as if the price were missing"
        )
        suspect_rows.append(
            {"date": dates[i], "return": float(ret[i]), "kind": "impossible", "dropped": True, "reason": reason}
        )
        keep[i] = False
    with np.errstate(all="ignore"):  # only the candidates go through the loop (same rules, same order)
        candidate = np.abs(ret) > IMPLAUSIBLE_RETURN
        for k in SPLIT_FACTORS:
            candidate |= (np.abs(ratio * k - 1) <= SPLIT_TOLERANCE) | (np.abs(ratio / k - 1) <= SPLIT_TOLERANCE)
    for i in np.flatnonzero(keep & candidate).tolist():
        r, q = float(ret[i]), float(ratio[i])
        kind = why = None
        for k in SPLIT_FACTORS:
            if abs(q * k - 1) <= SPLIT_TOLERANCE:
                why = f"looks like an unadjusted {k}-for-1 split (price ratio 1:{k})"
            elif abs(q / k - 1) <= SPLIT_TOLERANCE:
                why = f"looks like an unadjusted 1-for-{k} reverse split (price ratio {k}:1)"
            if why:
                kind = "split"
                break
        if kind is None and abs(r) > IMPLAUSIBLE_RETURN:
            kind, why = (
                "implausible",
                f"is implausible for one session (|return| above {100 * IMPLAUSIBLE_RETURN:.0f} %)",
            )
        if kind:
            text = f"{ticker}: return of {_pct(r)} on {dates[i]:%Y-%m-%d} {why}; check the adjusted prices"
            suspect_rows.append({"date": dates[i], "return": r, "kind": kind, "dropped": False, "reason": text})
    suspects = pd.DataFrame(suspect_rows, columns=SUSPECT_COLUMNS)
    if len(suspects):
        suspects = suspects.sort_values("date", kind="stable").reset_index(drop=True)
        notes.extend(suspects["reason"])

    returns = pd.Series(ret[keep], index=dates[keep], name=ticker)
    returns.index.name = index.name
    return IntegrityReport(returns, gaps, suspects, tuple(notes))


def suspects_between(suspects: pd.DataFrame, start, end) -> pd.DataFrame:
    """Rows of ``suspects`` (see :class:`IntegrityReport`) dated within ``[start, end]``."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    return suspects[(suspects["date"] >= lo) & (suspects["date"] <= hi)]
