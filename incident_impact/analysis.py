"""One incident end to end: catalog entry -> day 0 -> prices -> event study.

:func:`analyze` is the library twin of ``incident-impact analyze``; the CLI and the HTML
report only format the :class:`IncidentAnalysis` it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from .calendar import day0 as session_of
from .calendar import session_range
from .catalog import DEFAULT_BENCHMARK, DEFAULT_EXCHANGE, Incident, load_catalog
from .display import html_block, short_repr
from .errors import IncidentImpactError
from .eventstudy import (
    DEFAULT_ESTIMATION,
    DEFAULT_WINDOWS,
    MIN_ESTIMATION_OBS,
    EventStudyResult,
    event_study,
    format_window,
    parse_window,
)
from .eventstudy.models import get_model
from .eventstudy.spec import EventStudySpec
from .eventstudy.volatility import abnormal_volatility
from .eventstudy.volume import abnormal_volume, volume_series
from .eventstudy.windows import Window, normalize_windows
from .loading import (
    MARGIN,
    check_reaches,
    load_history,
    load_long_returns,
    load_stock,
    price_range,
)
from .money import MarketValue, SharesOutstanding, format_money, market_value
from .plain import expectation_phrase, p_text, stock_sentence, stock_subject
from .prices import PriceHistory, PriceResolver, PriceSource
from .prices.base import NO_ADJUSTED_NOTE
from .robustness import Robustness, run_robustness
from .verdict import (
    DEFAULT_BOUND,
    GAIN,
    HARM,
    HEADLINE_WINDOW,
    INCONCLUSIVE,
    NO_EFFECT,
    VERDICT_TEXT,
    minimum_detectable_effect,
    verdict_frame,
)

if TYPE_CHECKING:
    from .aftermath.incident import IncidentAftermath


@dataclass(frozen=True, eq=False)
class IncidentAnalysis:
    """An incident's event study with the data it came from.

    Attributes
    ----------
    incident, benchmark_ticker, day0 : what was studied and day 0's session.
    stock, benchmark : the price histories used.
    result : the event study of the firm.
    bound : materiality bound of the verdicts (a fraction).
    peers : the same event study on each peer with prices (spillover), keyed by ticker.
    peer_failures : peers that could not be studied, with the reason.
    robustness : the verdicts under other models and benchmarks (None when not computed).
    market_value : the firm's value on the session before day 0, or the reason it is unknown.
    headline : the window every headline speaks about (default [0,+1]; always among the windows).
    aftermath : recovery to +120 sessions, the company's responses and when the market learned
        (None when not computed).
    """

    incident: Incident
    benchmark_ticker: str
    day0: pd.Timestamp
    stock: PriceHistory
    benchmark: PriceHistory
    result: EventStudyResult
    bound: float = DEFAULT_BOUND
    peers: Mapping[str, EventStudyResult] = field(default_factory=dict)
    peer_failures: Mapping[str, str] = field(default_factory=dict)
    robustness: Robustness | None = None
    market_value: MarketValue | str = "not computed"
    headline: Window = HEADLINE_WINDOW
    aftermath: IncidentAftermath | None = None

    @property
    def headline_window(self) -> Window:
        """The window of the headline (:attr:`headline` when computed, else the first window)."""
        return self.headline if self.headline in self.result.windows else self.result.windows[0]

    @property
    def spec(self) -> EventStudySpec:
        """The event-study specification (model, estimation, windows, ...) of :attr:`result`."""
        return self.result.spec

    def verdicts(self, bound: float | None = None, level: float = 0.05) -> pd.DataFrame:
        """Per window: ``car, se, p_value, tost_p_value, mde, verdict`` (see :mod:`incident_impact.verdict`)
        and, when the market value is known, ``value_change`` with its 95 % interval;
        ``bound`` is the materiality bound as a fraction (default :attr:`bound`, 0.02 = 2 %)."""
        bound = self.bound if bound is None else bound
        if (bound, level) not in self._verdict_tables:
            self._verdict_tables[bound, level] = self._verdict_table(bound, level)
        return self._verdict_tables[bound, level].copy()

    @cached_property
    def _verdict_tables(self) -> dict[tuple[float, float], pd.DataFrame]:
        """:meth:`verdicts` by ``(bound, level)``, each built once (the sentence, the tables and the JSON read it)."""
        return {}

    def _verdict_table(self, bound: float, level: float) -> pd.DataFrame:
        table = verdict_frame(self.result.car_table, bound=bound, alpha=level, adjust=False)
        table = table.assign(bound=bound, alpha=level, text=table["verdict"].map(VERDICT_TEXT))
        if isinstance(self.market_value, MarketValue):
            rows = cast(Iterable[Any], table.itertuples())  # pandas-stubs types the fields as any scalar
            money = [self.market_value.change(r.car, r.se, r.df) for r in rows]
            table = table.join(pd.DataFrame(money, index=table.index))
        return table

    def peer_table(self, bound: float | None = None, level: float = 0.05) -> pd.DataFrame:
        """Spillover: one row per (peer, window) with ``car, se, t_stat, p_value, verdict``."""
        bound = self.bound if bound is None else bound
        columns = ["ticker", "window", "car", "se", "t_stat", "p_value", "verdict"]
        frames = [
            verdict_frame(res.car_table, bound=bound, alpha=level, adjust=False)
            .assign(ticker=ticker, t_stat=res.car_table["t_stat"])
            .reset_index(names="window")[columns]
            for ticker, res in self.peers.items()
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)

    def verdict(self, bound: float | None = None, level: float = 0.05) -> str:
        """One sentence on the headline window, e.g. ``CAR[-1,+1] = -1.1 % (t = -0.78, p = 0.44):
        no significant abnormal return at the 5 % level; inconclusive (too noisy to tell): ...``."""
        bound = self.bound if bound is None else bound
        label = format_window(self.headline_window)
        row = _row(self.result.car_table, label)
        v = _row(self.verdicts(bound, level), label)
        if row.p_value < level:
            finding = f"a significant {'negative' if row.car < 0 else 'positive'} abnormal return"
        else:
            finding = "no significant abnormal return"
        money = ""
        if "value_change" in v and isinstance(self.market_value, MarketValue):  # known value: a value change
            cur = self.market_value.currency
            money = (
                f", {format_money(v.value_change, cur)} of market value "
                f"[95 % CI {format_money(v.value_change_lower, cur)}, {format_money(v.value_change_upper, cur)}]"
            )
        sentence = (
            f"CAR{label} = {100 * row.car:+.1f} %{money} (t = {row.t_stat:.2f}, {p_text(row.p_value)}): "
            f"{finding} at the {100 * level:g} % level"
        )
        if v.verdict in (NO_EFFECT, INCONCLUSIVE):
            shown = "shown" if v.verdict == NO_EFFECT else "not shown"
            sentence += (
                f"; {v.text}: |CAR| < {100 * bound:g} % {shown} (TOST p = {v.tost_p_value:.2f}), "
                f"smallest effect detectable with 80 % power = {100 * v.mde:.1f} %"
            )
        others = self._disagreeing_windows(bound, level)
        if others:
            sentence += f". {others}"
        if self.is_confounded():
            sentence += f". Confounded: {self._confounder_phrase()} inside {label}"
        suspect = self._suspect_phrase()
        if suspect:
            sentence += f". Rests on suspicious prices: {suspect}"
        return sentence

    def differing_windows(self, bound: float | None = None, level: float = 0.05) -> pd.DataFrame:
        """The rows of :meth:`verdicts` whose significance (harm or gain vs not) differs from the headline's."""
        table = self.verdicts(bound, level)
        significant = table["verdict"].isin([HARM, GAIN])
        label = format_window(self.headline_window)
        return table[(significant != significant[label]) & (table.index != label)]

    def _disagreeing_windows(self, bound: float, level: float) -> str:
        """``"Other windows differ: the headline is not significant but [0,+5] significant harm (p = 0.003)"``
        when a window's significance disagrees with the headline's, else ``""``."""
        differ = self.differing_windows(bound, level)
        if differ.empty:
            return ""
        what = ", ".join(f"{w} {r.verdict} (p = {r.p_value:.3f})" for w, r in differ.iterrows())
        lead = "is not significant" if differ["verdict"].isin([HARM, GAIN]).any() else "is significant"
        return f"Other windows differ: the headline {lead} but {what}"

    @property
    def dividend_adjusted(self) -> bool:
        """True when the stock's returns come from the dividend-adjusted close."""
        return NO_ADJUSTED_NOTE not in self.stock.notes

    @cached_property
    def confounders(self) -> pd.DataFrame:
        """Timeline events that can move the stock by themselves, inside an event window.

        Earnings, downgrades (analyst actions) and other company news; ex-dividend days only when
        the returns are not dividend-adjusted (with the adjusted close a dividend is not a move).
        One row per (window, event): ``window, date, rel_day, kind, description``. An event's
        session is found like day 0 (its date and time on the exchange's calendar).
        """
        sessions = self.result.abnormal_returns["rel_day"]
        exchange = self.incident.exchange or DEFAULT_EXCHANGE
        rows = []
        for event in self.incident.confounders:
            if event.kind == "ex-dividend" and self.dividend_adjusted:
                continue
            session = session_of(event.date, event.time, event.timezone, exchange)
            if session not in sessions.index:
                continue
            rel = int(sessions.loc[session])
            for window in self.result.windows:
                if window[0] <= rel <= window[1]:
                    rows.append(
                        {
                            "window": format_window(window),
                            "date": event.date.isoformat(),
                            "rel_day": rel,
                            "kind": event.kind,
                            "description": event.description,
                        }
                    )
        return pd.DataFrame(rows, columns=["window", "date", "rel_day", "kind", "description"])

    @cached_property
    def suspect_data(self) -> pd.DataFrame:
        """Suspicious returns of the stock or benchmark inside the estimation or event period
        (split-like ratios, implausible moves; see :attr:`PriceHistory.suspect_returns`):
        ``ticker, date, rel_day, return, kind, reason``; ``rel_day`` is NaN inside the estimation window."""
        used = self.result.estimation.index.union(self.result.abnormal_returns.index)
        rel = self.result.abnormal_returns["rel_day"]
        frames = []
        for history in (self.stock, self.benchmark):
            found = history.suspect_returns
            found = found[~found["dropped"].astype(bool) & pd.to_datetime(found["date"]).isin(used)]
            if len(found):
                frames.append(found.assign(ticker=history.ticker, rel_day=pd.to_datetime(found["date"]).map(rel)))
        columns = ["ticker", "date", "rel_day", "return", "kind", "reason"]
        return pd.concat(frames)[columns] if frames else pd.DataFrame(columns=columns)

    def _suspect_phrase(self, window: Window | None = None) -> str:
        """The suspicious returns inside ``window`` (default: the headline) or the estimation window."""
        start, end = window or self.headline_window
        frame = self.suspect_data
        inside = frame[frame["rel_day"].isna() | frame["rel_day"].between(start, end)]
        return "; ".join(inside["reason"])

    def is_confounded(self, window: Window | str | None = None) -> bool:
        """True when a confounder (see :attr:`confounders`) falls inside ``window`` (default: the headline)."""
        label = format_window(self.headline_window if window is None else parse_window(window))
        return bool((self.confounders["window"] == label).any())

    def _confounder_phrase(self, window: Window | None = None) -> str:
        """``"earnings on 2012-01-24 (day +1)"`` for the confounders of ``window`` (default: the headline)."""
        frame = self.confounders
        frame = frame[frame["window"] == format_window(window or self.headline_window)]
        return "; ".join(f"{r.kind} on {r.date} (day {r.rel_day:+d})" for r in frame.itertuples())

    def plain(self, bound: float | None = None, level: float = 0.05) -> str:
        """The headline in plain words for a reader who is not a statistician (see :mod:`incident_impact.plain`):
        what happened to the stock over the headline window, how large, how sure, what could have gone
        unnoticed, and any reason to doubt it (other news in the window, windows that disagree)."""
        bound = self.bound if bound is None else bound
        window = self.headline_window
        label = format_window(window)
        row = _row(self.result.car_table, label)
        v = _row(self.verdicts(bound, level), label)
        money = ""
        if "value_change" in v and v.verdict in (HARM, GAIN) and isinstance(self.market_value, MarketValue):
            money = (
                f"about {format_money(abs(v.value_change), self.market_value.currency, signed=False)} of market value"
            )
        text = stock_sentence(
            stock_subject(self.incident.company),
            window,
            car=row.car,
            ci_lower=row.ci_lower,
            ci_upper=row.ci_upper,
            p_value=row.p_value,
            verdict=v.verdict,
            mde=v.mde,
            bound=bound,
            expectation=expectation_phrase(self.result.model, self.benchmark_ticker),
            money=money,
        )
        differ = self.differing_windows(bound, level)
        if len(differ):
            kind = "a significant move" if differ["verdict"].isin([HARM, GAIN]).any() else "no significant move"
            text += f" Over other windows ({', '.join(differ.index)}) the study finds {kind}: see the table."
        if self.is_confounded():
            text += (
                f" Careful: other news that can move the stock fell in the same days ({self._confounder_phrase()}), "
                "so this move cannot be put on the incident alone."
            )
        suspect = self._suspect_phrase()
        if suspect:
            text = (
                f"Do not trust this result yet: it rests on prices that look wrong ({suspect}); check the price "
                f"file. Taken at face value: {text}"
            )
        return text

    def headline_dict(self, bound: float | None = None, level: float = 0.05) -> dict:
        """The headline window's numbers for JSON: ``window, car, se, t_stat, df, p_value, sq_p_value,
        ci_lower, ci_upper, tost_p_value, mde, verdict, confounded, confounders, plain, sentence``
        (and the value change when the market value is known)."""
        window = self.headline_window
        label = format_window(window)
        row = _row(self.result.car_table, label)
        v = _row(self.verdicts(bound, level), label)
        out = {
            "window": label,
            **{k: float(row[k]) for k in ("car", "se", "t_stat", "df", "p_value", "ci_lower", "ci_upper")},
            "sq_p_value": float(self.result.sq_test(window).p_value),
            "tost_p_value": float(v.tost_p_value),
            "mde": float(v.mde),
            "verdict": v.verdict,
            "confounded": self.is_confounded(),
            "confounders": self._confounder_phrase(),
            "suspect_data": self._suspect_phrase(),
        }
        if "value_change" in v:
            out |= {k: float(v[k]) for k in ("value_change", "value_change_lower", "value_change_upper")}
        return out | {"plain": self.plain(bound, level), "sentence": self.verdict(bound, level)}

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
            "headline": self.headline_dict(),
            **body,
            "data": {
                "stock_source": self.stock.source,
                "benchmark_source": self.benchmark.source,
                "notes": list(self.notes),
            },
            "verdicts": [
                {"window": label, **row, "confounded": self.is_confounded(str(label))}
                for label, row in self.verdicts().to_dict("index").items()
            ],
            "confounders": self.confounders.to_dict("records"),
            "market_value": (
                {
                    "date": self.market_value.date.date().isoformat(),
                    "close": self.market_value.close,
                    "shares_outstanding": self.market_value.shares.value,
                    "shares_source": self.market_value.shares.source,
                    "shares_as_of": self.market_value.shares.as_of.isoformat()
                    if self.market_value.shares.as_of
                    else None,
                    "value": self.market_value.value,
                    "currency": self.market_value.currency,
                }
                if isinstance(self.market_value, MarketValue)
                else {"unknown": self.market_value}
            ),
            "peers": self.peer_table().to_dict("records"),
            "peer_failures": dict(self.peer_failures),
            "robustness": None if self.robustness is None else self.robustness.to_dict(),
            **(
                self.aftermath.to_dict()
                if self.aftermath is not None
                else {"recovery": None, "response": None, "learning": None}
            ),
            "verdict": self.verdict(),
        }

    def outcome(self, outcome: str) -> dict:
        """Another outcome than returns, JSON-ready with its text: ``"volume"`` — abnormal log trading volume
        over every window (Campbell & Wasley 1996, mean model; the stock's file needs a volume column) —
        or ``"volatility"`` — abnormal return volatility per window (variance ratio against the model's,
        :func:`incident_impact.eventstudy.volatility.abnormal_volatility`). ``{"outcome", "text", "data"}``."""
        if outcome == "volume":
            res = abnormal_volume(
                volume_series(self.stock),
                self.day0,
                model="mean",
                estimation=self.spec.estimation,
                windows=self.spec.windows,
                min_estimation_obs=self.spec.min_estimation_obs,
                event_id=self.incident.id,
            )
            return {
                "outcome": "volume",
                "text": "Abnormal trading volume (log volume, mean model)\n" + res.summary(),
                "data": res.to_dict(),
                "table": res.car_table,
            }
        if outcome == "volatility":
            found = {format_window(w): abnormal_volatility(self.result, w) for w in self.result.windows}
            text = "Abnormal volatility (event-window variance against the model's)\n" + "\n".join(
                f"{label}: {av.summary()}" for label, av in found.items()
            )
            return {
                "outcome": "volatility",
                "text": text,
                "data": {k: v.to_dict() for k, v in found.items()},
                "table": pd.concat({k: v.events for k, v in found.items()}, names=["window"]),
            }
        raise IncidentImpactError(f"unknown outcome {outcome!r}; choose returns, volume or volatility")

    def to_frame(self) -> pd.DataFrame:
        """One row per window: the CAR table (``car, se, t_stat, df, p_value, ci_lower, ci_upper``)
        with the verdict columns of :meth:`verdicts` and ``confounded``."""
        table = self.result.car_table.drop(columns=["start", "end"], errors="ignore")
        extra = self.verdicts().drop(columns=["car", "se", "df", "p_value"])
        extra["confounded"] = [self.is_confounded(w) for w in extra.index]
        return table.join(extra)

    def __repr__(self) -> str:
        row = _row(self.result.car_table, format_window(self.headline_window))
        verdict = str(self.verdicts().loc[format_window(self.headline_window), "verdict"])
        return short_repr(
            "IncidentAnalysis",
            [
                f"{self.incident.name} ({self.incident.id})",
                f"{self.stock.ticker} vs {self.benchmark_ticker}, day 0 {self.day0.date()}, {self.result.model} model",
                f"headline CAR{row.name} = {100 * row.car:+.2f} % ({p_text(row.p_value)}): {verdict}"
                + (" (confounded)" if self.is_confounded() else ""),
            ],
        )

    def _repr_html_(self) -> str:
        return html_block(f"{self.incident.name} ({self.incident.id})", [self.plain(), self.verdict()], self.to_frame())

    def summary(self) -> str:
        """Plain-text summary: the plain-words headline and the verdict line first, then the
        incident, the event-study table, the value, confounders, robustness and peers."""
        inc = self.incident
        head = [
            f"{inc.name} ({inc.id})",
            "",
            self.plain(),
            "",
            "Verdict: " + self.verdict(),
            "",
            f"{inc.company}: {inc.ticker} vs {self.benchmark_ticker}; "
            f"event {inc.day0_event.date}, day 0 = {self.result.day0.date()}",
            f"Prices: {self.stock.source}; benchmark: {self.benchmark.source}",
            "",
        ]
        flagged = [f"Confounder: {m}" for m in self.confounder_messages()]
        value = (
            self.market_value.describe()
            if isinstance(self.market_value, MarketValue)
            else f"money effect unknown: {self.market_value}"
        )
        text = "\n".join(head) + self.result.summary() + f"\n\nValue: {value}"
        text += "".join(f"\n{m}" for m in flagged)
        if self.robustness is not None:
            table = self.robustness.verdicts()
            text += "\n\nRobustness (verdict by specification and window)\n" + table.to_string()
            text += "\n" + self.robustness.statement()
            text += "".join(f"\n  not run: {spec}: {why}" for spec, why in self.robustness.failures.items())
        if self.peers or self.peer_failures:
            text += "\n\nPeers (same event study; did competitors move?)"
            label = format_window(self.headline_window)
            for ticker, res in self.peers.items():
                table = res.car_table
                row = table.loc[label] if label in table.index else table.iloc[0]
                text += (
                    f"\n  {ticker:<8} CAR{row.name} = {100 * row.car:+.2f} % "
                    f"(t = {row.t_stat:.2f}, p = {row.p_value:.3f})"
                )
            text += "".join(f"\n  {t:<8} not studied: {why}" for t, why in self.peer_failures.items())
        if self.aftermath is not None:
            text += "\n\n" + self.aftermath.summary()
        return text


def _row(table: pd.DataFrame, label: str) -> pd.Series:
    """The row of ``table`` labelled ``label`` (a window label: unique, so one row)."""
    return cast(pd.Series, table.loc[label])


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
    factors: pd.DataFrame | None = None,
    shares: float | SharesOutstanding | None = None,
    peers: bool = True,
    robustness: bool = True,
    headline: Window | str = HEADLINE_WINDOW,
    aftermath: bool = True,
) -> IncidentAnalysis:
    """Run the event study of one incident, its peers and its robustness checks.

    Parameters
    ----------
    incident : an :class:`~incident_impact.catalog.Incident` or a catalog id.
    source : where prices come from (default: :class:`~incident_impact.prices.PriceResolver`,
        i.e. ``INCIDENT_IMPACT_DATA_DIR``, the cache, the bundled sample, then Yahoo).
    model, estimation, windows, min_estimation_obs, factors : see
        :func:`incident_impact.eventstudy.event_study`.
    benchmark : overrides the incident's benchmark ticker.
    bound : materiality bound of the equivalence test, a fraction (0.02 = |CAR| < 2 %).
    shares : shares outstanding before the incident; default: the catalog's value, else Yahoo's
        (when the source can download), else the money effect is unknown.
    peers : also study each peer with prices (spillover) and use them as a benchmark.
    robustness : also run the market, market-adjusted, factor (with ``factors``) and peer-benchmark
        specifications (see :class:`~incident_impact.robustness.Robustness`).
    headline : the window of the headline verdict and plain sentence (default [0,+1]); added to
        ``windows`` when missing.
    aftermath : also analyse the months after the incident on the stock's whole loaded history
        (:func:`incident_impact.aftermath.incident.incident_aftermath`: recovery to +120 sessions,
        the company's responses, when the market learned).
    """
    if not bound > 0:
        raise IncidentImpactError(f"the materiality bound must be positive, got {bound}")
    if isinstance(incident, str):
        incident = load_catalog()[incident]
    if not incident.is_listed:
        raise IncidentImpactError(
            f"{incident.id}: {incident.company} is not listed (no ticker), so there is no stock to study"
        )
    source = source or PriceResolver()
    estimation = parse_window(estimation)
    headline = parse_window(headline)
    event_windows = normalize_windows(windows)
    if headline not in event_windows:
        event_windows = (headline, *event_windows)
    exchange = incident.exchange or DEFAULT_EXCHANGE
    event = incident.day0_event
    session = session_of(event.date, event.time, event.timezone, exchange)
    start, end = price_range(exchange, session, estimation, event_windows)
    bench_ticker = benchmark or incident.benchmark or DEFAULT_BENCHMARK
    stock = load_stock(source, incident, start, end)
    bench = load_history(source, bench_ticker, start, end, exchange)
    last = session_range(exchange, session, 0, max(w[1] for w in event_windows))[1]
    check_reaches(stock, "stock", last, session, "")
    check_reaches(bench, "benchmark", last, session, " or choose another benchmark (e.g. --benchmark SPY)")
    spec = EventStudySpec(
        model=get_model(model),
        estimation=estimation,
        windows=event_windows,
        min_estimation_obs=min_estimation_obs,
        factors=factors,
    )
    result = event_study(stock.returns(), bench.returns(), session, event_id=incident.id, spec=spec)
    peer_results, peer_failures, peer_returns = {}, {}, {}
    if peers:
        for ticker in incident.peers:
            try:
                history = load_history(source, ticker, start, end, exchange)
                peer_returns[ticker] = history.returns()
                peer_results[ticker] = event_study(
                    peer_returns[ticker], bench.returns(), session, event_id=f"{incident.id}:{ticker}", spec=spec
                )
            except IncidentImpactError as exc:
                peer_failures[ticker] = str(exc)
    checks = None
    if robustness:
        checks = run_robustness(
            incident.id, stock.returns(), bench_ticker, bench.returns(), session, result, peer_returns, spec, bound
        )
    before = stock.data["close"][stock.data.index < result.day0].dropna()
    # no as-traded close, no value: then the share count is not looked up (no download for nothing)
    count = _shares(source, incident, stock.ticker, session, shares) if len(before) else None
    value = market_value(
        stock.data["close"],
        result.day0,
        count,
        incident.currency or "USD",
    )
    after = None
    if aftermath:
        after = _aftermath(source, incident, stock, bench, session, exchange, spec, headline, result)
    return IncidentAnalysis(
        incident,
        bench_ticker,
        session,
        stock,
        bench,
        result,
        bound,
        peer_results,
        peer_failures,
        checks,
        value,
        headline,
        after,
    )


def _aftermath(
    source: PriceSource,
    incident: Incident,
    stock: PriceHistory,
    bench: PriceHistory,
    session: pd.Timestamp,
    exchange: str,
    spec: EventStudySpec,
    headline: Window,
    result: EventStudyResult,
) -> IncidentAftermath:
    """:func:`incident_aftermath` on the whole histories of the stock and benchmark (to +120 sessions and
    the response window after it, where the data reach)."""
    # imported here: `--no-aftermath` (and every caller without the aftermath) skips these modules
    from .aftermath.incident import incident_aftermath
    from .aftermath.recovery import HORIZONS
    from .aftermath.response import AFTER_SESSIONS

    try:
        end = session_range(exchange, session, 0, max(HORIZONS) + AFTER_SESSIONS + MARGIN)[1]
    except IncidentImpactError:
        end = pd.Timestamp.today().normalize()
    stock_long, _ = load_long_returns(source, stock, exchange, end)
    bench_long, _ = load_long_returns(source, bench, exchange, end)
    row = _row(result.car_table, format_window(headline))
    mde = minimum_detectable_effect(row.se, row.df)
    return incident_aftermath(
        incident,
        stock_long,
        bench_long,
        session,
        exchange=exchange,
        spec=spec,
        mde=mde,
        dividend_adjusted=NO_ADJUSTED_NOTE not in stock.notes,
    )


def _shares(
    source: PriceSource,
    incident: Incident,
    ticker: str,
    session: pd.Timestamp,
    shares: float | SharesOutstanding | None,
) -> SharesOutstanding | str:
    """The user's count, else the catalog's, else Yahoo's (when the source can download), else why none."""
    if isinstance(shares, SharesOutstanding):
        return shares
    if shares is not None:
        return SharesOutstanding(float(shares), "given by the user")
    if incident.shares is not None:
        return incident.shares
    lookup = getattr(source, "shares_outstanding", None)
    if lookup is None:
        return f"the catalog has no count and {getattr(source, 'name', 'the price source')} cannot look one up"
    try:
        count, as_of = lookup(ticker, session - pd.Timedelta(days=1))
    except IncidentImpactError as exc:
        return f"the catalog has no count and the lookup failed ({getattr(exc, 'reason', exc)})"
    return SharesOutstanding(count, "Yahoo Finance", as_of)
