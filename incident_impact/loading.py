"""The prices an incident study needs: the date range around day 0, each ticker's history (the
incident's own ticker or a former one, the benchmark, the peers), checks that they reach the
windows, and the data of a multi-incident study (catalog incidents and a user's events file).

Each loaded history is checked against the sessions of the listing exchange (see
:mod:`incident_impact.prices.integrity`): for a ticker whose spelling names no exchange, the
incident's exchange is used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial
from typing import cast

import pandas as pd

from .calendar import day0 as session_of
from .calendar import session_range
from .catalog import DEFAULT_BENCHMARK, DEFAULT_EXCHANGE, Incident
from .errors import IncidentImpactError, PriceDataError, TickerNotFoundError
from .eventstudy.windows import Window
from .prices import PriceHistory, PriceSource
from .prices.integrity import infer_exchange

#: Extra sessions loaded on each side of the study period (holidays, missing days).
MARGIN = 15


def merge_returns(store: dict[str, pd.Series], key: str, series: pd.Series) -> None:
    """Put ``series`` under ``key`` in ``store``; when ``key`` is there already, the returns loaded
    first are kept and ``series`` only fills the dates they lack (one rule for every multi-incident load)."""
    store[key] = series if key not in store else store[key].combine_first(series)


def price_range(exchange: str, session: pd.Timestamp, estimation: Window, windows: tuple[Window, ...]):
    """First and last calendar date of the prices a study around ``session`` needs (with a margin)."""
    first = min(estimation[0], *(w[0] for w in windows)) - MARGIN
    last = max(w[1] for w in windows) + MARGIN
    return session_range(exchange, session, first, last)


def load_history(
    source: PriceSource, ticker: str, start: pd.Timestamp, end: pd.Timestamp, exchange: str | None = None
) -> PriceHistory:
    """``ticker``'s prices from ``start`` to ``end``, checked against ``exchange``'s sessions when the
    ticker's spelling names no exchange; an error when fewer than two prices fall in the range."""
    history = source.load(ticker, start, end)
    if exchange and infer_exchange(ticker) is None and history.exchange != exchange:
        history = history.with_exchange(exchange)
    if history.data["adj_close"].notna().sum() < 2:
        raise PriceDataError(
            f"no {ticker} prices between {start.date()} and {end.date()} in {history.source}; "
            "the event lies outside the data"
        )
    return history


def load_long_returns(
    source: PriceSource, history: PriceHistory, exchange: str, end: pd.Timestamp
) -> tuple[pd.Series, str]:
    """The returns of ``history``'s ticker over its whole history up to ``end`` (the long-horizon
    analyses need years before day 0 and months after it), else up to the end already loaded, else
    ``history``'s own returns; with a note saying what was used when it is less than asked."""
    for until in (end, history.data.index.max()):
        try:
            long = source.load(history.ticker, None, until)
        except IncidentImpactError:
            continue
        if exchange and infer_exchange(history.ticker) is None and long.exchange != exchange:
            long = long.with_exchange(exchange)
        if long.data["adj_close"].notna().sum() > history.data["adj_close"].notna().sum():
            note = "" if until == end else f"{history.ticker}: prices after {until.date()} unavailable"
            return long.returns(), note
    return history.returns(), f"{history.ticker}: only the study's own price range was available"


def check_reaches(history: PriceHistory, role: str, last: pd.Timestamp, session: pd.Timestamp, hint: str) -> None:
    """A clear error naming ``history`` when its prices stop before ``last``, the last session of the windows."""
    span = history.valid_span()
    if span is not None and span[1] < last:
        where = "before day 0" if span[1] < session else "before the last event window ends"
        raise PriceDataError(
            f"the {role} {history.ticker}'s prices in {history.source} end on {span[1].date()}, {where} "
            f"({session.date()} .. {last.date()}); use a file that reaches {last.date()}{hint}"
        )


def load_stock(source: PriceSource, incident: Incident, start: pd.Timestamp, end: pd.Timestamp) -> PriceHistory:
    """Prices of the incident's ticker, else of a former ticker (e.g. SEAS for today's PRKS)."""
    exchange = incident.exchange or DEFAULT_EXCHANGE
    ticker = cast(str, incident.ticker)  # callers load the stock of listed incidents only (is_listed)
    try:
        return load_history(source, ticker, start, end, exchange)
    except TickerNotFoundError as first:
        for former in incident.former_tickers:
            try:
                return load_history(source, former, start, end, exchange)
            except TickerNotFoundError:
                continue
        if incident.former_tickers:
            raise TickerNotFoundError(
                f"{first} (also tried the former tickers {', '.join(incident.former_tickers)})"
            ) from None
        raise


def not_applicable_reason(source: PriceSource, incident: Incident, estimation: Window) -> str | None:
    """Why ``incident`` cannot be studied by its nature, or None (then a failure to study it is a real
    failure: missing data, a download error).

    * a private company: no ticker, no stock;
    * a company listed after the incident: the stock's first price (its whole history in ``source``,
      the former tickers included) comes after the first session of the estimation window
      (day 0 + ``estimation[0]``), so the estimation window cannot exist — e.g. Peloton's
      2019 advert, days after its IPO. An incident after the last available price is missing
      data, not this.
    """
    if not incident.is_listed:
        return f"{incident.company} is not listed (private company: no ticker)"
    exchange = incident.exchange or DEFAULT_EXCHANGE
    try:
        ev = incident.day0_event
        session = session_of(ev.date, ev.time, ev.timezone, exchange)
        first_needed = session_range(exchange, session, estimation[0], 0)[0]
    except IncidentImpactError:
        return None
    firsts = []
    for ticker in (cast(str, incident.ticker), *incident.former_tickers):  # listed: it has a ticker
        try:
            span = source.load(ticker, None, None).valid_span()
        except IncidentImpactError:
            continue
        if span is not None:
            firsts.append(span[0])
    if not firsts:
        return None
    first = min(firsts)
    if first <= first_needed:
        return None
    return (
        f"{incident.company} was listed after the incident: its first price is on {first.date()}, after the "
        f"estimation window's first session {first_needed.date()} (day 0 {session.date()}), so there is no "
        f"year of prices before the incident to compare with"
    )


def load_whole_returns(source: PriceSource, ticker: str, exchange: str | None = None) -> pd.Series:
    """The returns of ``ticker`` over everything ``source`` has (checked against ``exchange``'s sessions
    when the ticker's spelling names no exchange), e.g. to draw placebo dates from the whole history."""
    history = source.load(ticker, None, None)
    if exchange and infer_exchange(ticker) is None and history.exchange != exchange:
        history = history.with_exchange(exchange)
    return history.returns()


def csv_event_session(text: object) -> pd.Timestamp:
    """The day-0 session of a user's event row: an ISO date only (``10/04/2017`` is April or October)."""
    try:
        return pd.Timestamp(dt.date.fromisoformat(str(text).strip()))
    except (ValueError, TypeError):
        raise IncidentImpactError(f"cannot read the event_date {text!r}; use YYYY-MM-DD") from None


def load_study_data(
    incidents: Iterable[Incident],
    user_events: Iterable[dict],
    source: PriceSource,
    estimation: Window,
    windows: Iterable[Window],
) -> tuple[dict[str, pd.Series], dict[str, pd.Series], list[dict], list[dict]]:
    """Prices of every event's stock and benchmark: ``(returns, benchmarks, events, failures)``.

    Catalog incidents get their day-0 session from the timeline (after-close news moves to the
    next session); rows of a user's events CSV (``event_id, ticker, event_date`` and optional
    ``benchmark``, default ``^GSPC``) give the day-0 session directly.
    """
    windows = tuple(windows)
    returns: dict[str, pd.Series] = {}
    benches: dict[str, pd.Series] = {}
    events: list[dict] = []
    failures: list[dict] = []

    # (event id, catalog incident or events-file row, exchange, its day-0 session, benchmark)
    jobs: list[tuple[str, Incident | dict, str, Callable[[], pd.Timestamp], str]] = []
    for inc in incidents:
        if not inc.is_listed:
            failures.append(
                {
                    "event_id": inc.id,
                    "ticker": "",
                    "event_date": inc.incident_date.isoformat(),
                    "reason": f"{inc.company} is not listed (no ticker)",
                }
            )
            continue
        exchange = inc.exchange or DEFAULT_EXCHANGE
        ev = inc.day0_event
        jobs.append(
            (
                inc.id,
                inc,
                exchange,
                partial(session_of, ev.date, ev.time, ev.timezone, exchange),
                inc.benchmark or DEFAULT_BENCHMARK,
            )
        )
    for row in user_events:
        jobs.append(
            (
                row["event_id"],
                row,
                DEFAULT_EXCHANGE,
                partial(csv_event_session, row["event_date"]),  # rows of read_events_csv have an event_date
                row.get("benchmark") or DEFAULT_BENCHMARK,
            )
        )
    for event_id, item, exchange, session_fn, bench_ticker in jobs:
        ticker = cast(str, item.ticker) if isinstance(item, Incident) else item["ticker"]  # incidents: listed
        try:
            session = session_fn()
            start, end = price_range(exchange, session, estimation, windows)
            if isinstance(item, Incident):
                stock = load_stock(source, item, start, end)
            else:
                stock = load_history(source, ticker, start, end, exchange)
            bench = load_history(source, bench_ticker, start, end, exchange)
        except IncidentImpactError as exc:
            failures.append(
                {
                    "event_id": event_id,
                    "ticker": ticker,
                    "event_date": str(item.incident_date if isinstance(item, Incident) else item["event_date"]),
                    "reason": str(exc),
                }
            )
            continue
        merge_returns(returns, stock.ticker, stock.returns())
        merge_returns(benches, bench_ticker, bench.returns())
        events.append({"event_id": event_id, "ticker": stock.ticker, "event_date": session, "benchmark": bench_ticker})
    return returns, benches, events, failures
