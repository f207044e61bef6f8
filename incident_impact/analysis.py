"""One incident end to end: catalog entry -> day 0 -> prices -> event study.

:func:`analyze` is the library twin of ``incident-impact analyze``; the CLI and the HTML
report only format the :class:`IncidentAnalysis` it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from .calendar import day0 as session_of, session_range
from .catalog import Incident, load_catalog
from .errors import IncidentImpactError, PriceDataError, TickerNotFoundError
from .eventstudy import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, MIN_ESTIMATION_OBS, EventStudyResult, event_study, format_window, parse_window
from .eventstudy.windows import Window
from .prices import PriceHistory, PriceResolver, PriceSource
from .verdict import DEFAULT_BOUND, INCONCLUSIVE, NO_EFFECT, judge

#: Extra sessions loaded on each side of the study period (holidays, missing days).
_MARGIN = 15
#: The window the one-line verdict speaks about, when it was computed.
HEADLINE_WINDOW: Window = (-1, 1)


@dataclass(frozen=True, eq=False)
class IncidentAnalysis:
    """An incident's event study with the data it came from."""

    incident: Incident
    benchmark_ticker: str
    day0: pd.Timestamp
    stock: PriceHistory
    benchmark: PriceHistory
    result: EventStudyResult
    bound: float = DEFAULT_BOUND

    @property
    def headline_window(self) -> Window:
        return HEADLINE_WINDOW if HEADLINE_WINDOW in self.result.windows else self.result.windows[0]

    def verdicts(self, bound: float | None = None, level: float = 0.05) -> pd.DataFrame:
        """Per window: ``car, se, p_value, tost_p_value, mde, verdict`` (see :mod:`incident_impact.verdict`);
        ``bound`` is the materiality bound as a fraction (default :attr:`bound`, 0.02 = 2 %)."""
        bound = self.bound if bound is None else bound
        rows = {
            label: judge(row.car, row.se, row.df, bound=bound, alpha=level).to_dict()
            for label, row in self.result.car_table.iterrows()
        }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("window")

    def verdict(self, bound: float | None = None, level: float = 0.05) -> str:
        """One sentence on the headline window, e.g. ``CAR[-1,+1] = -1.1 % (t = -0.78, p = 0.44):
        no significant abnormal return at the 5 % level; inconclusive (too noisy to tell): ...``."""
        bound = self.bound if bound is None else bound
        label = format_window(self.headline_window)
        row = self.result.car_table.loc[label]
        v = judge(row.car, row.se, row.df, bound=bound, alpha=level)
        if row.p_value < level:
            finding = f"a significant {'negative' if row.car < 0 else 'positive'} abnormal return"
        else:
            finding = "no significant abnormal return"
        sentence = (
            f"CAR{label} = {100 * row.car:+.1f} % (t = {row.t_stat:.2f}, p = {row.p_value:.2f}): "
            f"{finding} at the {100 * level:g} % level"
        )
        if v.verdict in (NO_EFFECT, INCONCLUSIVE):
            shown = "shown" if v.verdict == NO_EFFECT else "not shown"
            sentence += (
                f"; {v.text}: |CAR| < {100 * bound:g} % {shown} (TOST p = {v.tost_p_value:.2f}), "
                f"smallest effect detectable with 80 % power = {100 * v.mde:.1f} %"
            )
        return sentence

    @cached_property
    def confounders(self) -> pd.DataFrame:
        """Timeline events of kind earnings/ex-dividend/downgrade/other-news inside an event window.

        One row per (window, event): ``window, date, rel_day, kind, description``. An event's
        session is found like day 0 (its date and time on the exchange's calendar).
        """
        sessions = self.result.abnormal_returns["rel_day"]
        exchange = self.incident.exchange or "XNYS"
        rows = []
        for event in self.incident.confounders:
            session = session_of(event.date, event.time, event.timezone, exchange)
            if session not in sessions.index:
                continue
            rel = int(sessions.loc[session])
            for window in self.result.windows:
                if window[0] <= rel <= window[1]:
                    rows.append({"window": format_window(window), "date": event.date.isoformat(), "rel_day": rel,
                                 "kind": event.kind, "description": event.description})
        return pd.DataFrame(rows, columns=["window", "date", "rel_day", "kind", "description"])

    def confounder_messages(self) -> list[str]:
        """One line per flagged event: ``earnings on 2012-01-24 (day +1) falls inside [0,+1], [-1,+1]: ...``."""
        frame = self.confounders
        return [
            f"{kind} on {date} (day {rel:+d}) falls inside {', '.join(group['window'])}: {group['description'].iloc[0]}"
            for (date, rel, kind), group in frame.groupby(["date", "rel_day", "kind"], sort=True)
        ]

    @property
    def notes(self) -> tuple[str, ...]:
        """Data remarks from the price sources and the study."""
        return tuple(dict.fromkeys((*self.stock.notes, *self.benchmark.notes, *self.result.notes)))

    def to_dict(self) -> dict:
        """JSON-ready: ``incident``, ``model``, ``estimation``, ``params``, ``windows``,
        ``abnormal_returns``, ``data`` (sources and notes) and ``verdict``."""
        inc = self.incident
        body = self.result.to_dict()
        body.pop("event_id")
        body.pop("event_date")
        body.pop("day0")
        body.pop("notes")
        return {
            "incident": {
                "id": inc.id,
                "name": inc.name,
                "ticker": inc.ticker,
                "exchange": inc.exchange,
                "benchmark": self.benchmark_ticker,
                "event_date": inc.day0_event.date.isoformat(),
                "event_time": inc.day0_event.time.isoformat(timespec="minutes") if inc.day0_event.time else None,
                "event_timezone": inc.day0_event.timezone,
                "day0": self.result.day0.date().isoformat(),
            },
            **body,
            "data": {"stock_source": self.stock.source, "benchmark_source": self.benchmark.source, "notes": list(self.notes)},
            "verdicts": [{"window": label, **row} for label, row in self.verdicts().to_dict("index").items()],
            "confounders": self.confounders.to_dict("records"),
            "verdict": self.verdict(),
        }

    def summary(self) -> str:
        """Plain-text summary: the incident, the event-study summary and the verdict."""
        inc = self.incident
        head = [
            f"{inc.name} ({inc.id})",
            f"{inc.company}: {inc.ticker} vs {self.benchmark_ticker}; event {inc.day0_event.date}, day 0 = {self.result.day0.date()}",
            f"Prices: {self.stock.source}; benchmark: {self.benchmark.source}",
            "",
        ]
        flagged = [f"Confounder: {m}" for m in self.confounder_messages()]
        return "\n".join(head) + self.result.summary() + "\n\nVerdict: " + self.verdict() + "".join(f"\n{m}" for m in flagged)


def _price_range(exchange: str, session: pd.Timestamp, estimation: Window, windows: tuple[Window, ...]):
    """First and last calendar date of the prices a study around ``session`` needs (with a margin)."""
    first = min(estimation[0], *(w[0] for w in windows)) - _MARGIN
    last = max(w[1] for w in windows) + _MARGIN
    return session_range(exchange, session, first, last)


def _load(source: PriceSource, ticker: str, start: pd.Timestamp, end: pd.Timestamp) -> PriceHistory:
    history = source.load(ticker, start, end)
    if history.data["adj_close"].notna().sum() < 2:
        raise PriceDataError(
            f"no {ticker} prices between {start.date()} and {end.date()} in {history.source}; "
            "the event lies outside the data"
        )
    return history


def _load_stock(source: PriceSource, incident: Incident, start: pd.Timestamp, end: pd.Timestamp) -> PriceHistory:
    """Prices of the incident's ticker, else of a former ticker (e.g. SEAS for today's PRKS)."""
    try:
        return _load(source, incident.ticker, start, end)
    except TickerNotFoundError as first:
        for former in incident.former_tickers:
            try:
                return _load(source, former, start, end)
            except TickerNotFoundError:
                continue
        if incident.former_tickers:
            raise TickerNotFoundError(f"{first} (also tried the former tickers {', '.join(incident.former_tickers)})") from None
        raise


def analyze(
    incident: Incident | str,
    *,
    source: PriceSource | None = None,
    model: str = "market",
    benchmark: str | None = None,
    estimation: Window | str = DEFAULT_ESTIMATION,
    windows: Iterable[Window | str] = DEFAULT_WINDOWS,
    min_estimation_obs: int = MIN_ESTIMATION_OBS,
    bound: float = DEFAULT_BOUND,
) -> IncidentAnalysis:
    """Run the event study of one incident.

    Parameters
    ----------
    incident : an :class:`~incident_impact.catalog.Incident` or a catalog id.
    source : where prices come from (default: :class:`~incident_impact.prices.PriceResolver`,
        i.e. ``INCIDENT_IMPACT_DATA_DIR``, the cache, the bundled sample, then Yahoo).
    model, estimation, windows, min_estimation_obs : see :func:`incident_impact.eventstudy.event_study`.
    benchmark : overrides the incident's benchmark ticker.
    bound : materiality bound of the equivalence test, a fraction (0.02 = |CAR| < 2 %).
    """
    if not bound > 0:
        raise IncidentImpactError(f"the materiality bound must be positive, got {bound}")
    if isinstance(incident, str):
        incident = load_catalog()[incident]
    if not incident.is_listed:
        raise IncidentImpactError(f"{incident.id}: {incident.company} is not listed (no ticker), so there is no stock to study")
    source = source or PriceResolver()
    estimation = parse_window(estimation)
    windows = tuple(parse_window(w) for w in windows)
    exchange = incident.exchange or "XNYS"
    event = incident.day0_event
    session = session_of(event.date, event.time, event.timezone, exchange)
    start, end = _price_range(exchange, session, estimation, windows)
    bench_ticker = benchmark or incident.benchmark or "^GSPC"
    stock = _load_stock(source, incident, start, end)
    bench = _load(source, bench_ticker, start, end)
    result = event_study(
        stock.returns(),
        bench.returns(),
        session,
        model=model,
        estimation=estimation,
        windows=windows,
        min_estimation_obs=min_estimation_obs,
        event_id=incident.id,
    )
    return IncidentAnalysis(incident, bench_ticker, session, stock, bench, result, bound)


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
    returns, benches, events, failures = {}, {}, [], []

    def add(store, key, series):
        store[key] = series if key not in store else store[key].combine_first(series)

    jobs = []
    for inc in incidents:
        if not inc.is_listed:
            failures.append({"event_id": inc.id, "ticker": "", "event_date": inc.incident_date.isoformat(),
                             "reason": f"{inc.company} is not listed (no ticker)"})
            continue
        exchange = inc.exchange or "XNYS"
        ev = inc.day0_event
        jobs.append((inc.id, inc, exchange, lambda ev=ev, exchange=exchange: session_of(ev.date, ev.time, ev.timezone, exchange),
                     inc.benchmark or "^GSPC"))
    for row in user_events:
        jobs.append((row["event_id"], row, "XNYS", lambda row=row: pd.Timestamp(row["event_date"]).normalize(),
                     row.get("benchmark") or "^GSPC"))
    for event_id, item, exchange, session_fn, bench_ticker in jobs:
        ticker = item.ticker if hasattr(item, "ticker") else item["ticker"]
        try:
            session = session_fn()
            start, end = _price_range(exchange, session, estimation, windows)
            if hasattr(item, "ticker"):
                stock = _load_stock(source, item, start, end)
            else:
                stock = _load(source, ticker, start, end)
            bench = _load(source, bench_ticker, start, end)
        except IncidentImpactError as exc:
            failures.append({"event_id": event_id, "ticker": ticker, "event_date": str(getattr(item, "incident_date", None) or item["event_date"]),
                             "reason": str(exc)})
            continue
        add(returns, stock.ticker, stock.returns())
        add(benches, bench_ticker, bench.returns())
        events.append({"event_id": event_id, "ticker": stock.ticker, "event_date": session, "benchmark": bench_ticker})
    return returns, benches, events, failures
