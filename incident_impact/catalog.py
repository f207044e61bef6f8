"""The incident catalog: curated social-media incidents with their dated timelines.

The packaged catalog lives in ``datasets/incidents.csv`` and ``datasets/timelines.csv``
(installed as ``incident_impact.datasets``; schema in ``datasets/README.md``). Users can
load their own files in the same format and merge them with the packaged ones::

    catalog = load_catalog().merged(load_catalog("my_incidents.csv", "my_timelines.csv"))
    incident = catalog["united-airlines-flight-3411-2017"]

Day 0 of an incident is the first session of its exchange at or after its single
``incident`` timeline event (see :func:`incident_impact.calendar.day0`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import io
import re
import warnings
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from os import PathLike
from pathlib import Path
from typing import cast

import pandas as pd

from .errors import CatalogError, UnknownIncidentError
from .money import SharesOutstanding

#: Allowed timeline ``kind`` values; ``incident`` marks day 0 (exactly one per incident).
EVENT_KINDS = (
    "incident",
    "first-post",
    "viral-peak",
    "response",
    "statement",
    "apology",
    "withdrawal",
    "dismissal",
    "standing-firm",
    "resolution",
    "earnings",
    "ex-dividend",
    "downgrade",
    "other-news",
)
#: Kinds that describe other news near the event window rather than the incident itself.
CONFOUNDER_KINDS = frozenset({"earnings", "ex-dividend", "downgrade", "other-news"})
#: The company's own response to the incident (part of the story, never a confounder):
#: ``statement`` (explains, defends or investigates, without apologising or withdrawing), ``apology``,
#: ``withdrawal`` (pulls the product, ad, post or campaign), ``dismissal`` (fires, suspends or loses an
#: employee or executive, or ends a partnership), ``standing-firm`` (explicitly keeps its course), and
#: the generic ``response`` for a reaction that fits none of these.
RESPONSE_KINDS = frozenset({"response", "statement", "apology", "withdrawal", "dismissal", "standing-firm"})

INCIDENT_COLUMNS = (
    "id",
    "name",
    "company",
    "ticker",
    "former_tickers",
    "exchange",
    "currency",
    "benchmark",
    "peers",
    "category",
    "platforms",
    "incident_date",
    "summary",
    "claimed_impact",
    "listing_note",
    "sources",
    "confidence",
    "shares_outstanding",
    "shares_as_of",
    "shares_source",
)
TIMELINE_COLUMNS = ("incident_id", "date", "time", "timezone", "kind", "description", "source")
REQUIRED_INCIDENT_COLUMNS = ("id", "ticker", "incident_date")
REQUIRED_TIMELINE_COLUMNS = ("incident_id", "date", "kind")
CONFIDENCE_LEVELS = ("high", "medium", "low")

#: Defaults for a listed incident whose file leaves these cells empty.
DEFAULT_EXCHANGE = "XNYS"
DEFAULT_BENCHMARK = "^GSPC"
_US_EXCHANGES = frozenset({"XNYS", "XNAS", "XASE", "ARCX", "BATS"})

CsvSource = str | PathLike | Traversable


@dataclass(frozen=True)
class TimelineEvent:
    """One dated event in an incident's story.

    Attributes
    ----------
    date : calendar date of the event.
    kind : one of :data:`EVENT_KINDS`.
    description : what happened, one or two sentences.
    time : local time of day, if known.
    timezone : IANA zone of ``time``; ``None`` means the listing exchange's own zone.
    source : URL supporting the event, if any.
    """

    date: dt.date
    kind: str
    description: str
    time: dt.time | None = None
    timezone: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise CatalogError(f"unknown timeline kind {self.kind!r}; use one of {', '.join(EVENT_KINDS)}")

    @property
    def is_confounder(self) -> bool:
        """True for other news near the window (earnings, ex-dividend, downgrade, other-news)."""
        return self.kind in CONFOUNDER_KINDS

    def to_dict(self) -> dict:
        """JSON-ready dict (ISO date, ``HH:MM`` time)."""
        return {
            "date": self.date.isoformat(),
            "time": self.time.strftime("%H:%M") if self.time else None,
            "timezone": self.timezone,
            "kind": self.kind,
            "description": self.description,
            "source": self.source,
        }


@dataclass(frozen=True)
class Incident:
    """A social-media incident and the listed company it may have moved.

    ``ticker``, ``exchange``, ``currency`` and ``benchmark`` are ``None`` for private
    companies. ``timeline`` is sorted by date and time and holds exactly one event of kind
    ``incident``, which defines day 0.
    """

    id: str
    name: str
    company: str
    ticker: str | None
    former_tickers: tuple[str, ...]
    exchange: str | None
    currency: str | None
    benchmark: str | None
    peers: tuple[str, ...]
    category: str
    platforms: tuple[str, ...]
    incident_date: dt.date
    summary: str
    claimed_impact: str
    listing_note: str
    sources: tuple[str, ...]
    confidence: str
    timeline: tuple[TimelineEvent, ...]
    shares: SharesOutstanding | None = None

    def __post_init__(self) -> None:
        n = sum(e.kind == "incident" for e in self.timeline)
        if n != 1:
            raise CatalogError(f"incident {self.id!r} has {n} 'incident' timeline events; it needs exactly one")

    @property
    def is_listed(self) -> bool:
        """True when the company has a ticker to study."""
        return bool(self.ticker)

    @property
    def day0_event(self) -> TimelineEvent:
        """The ``incident`` event, which defines day 0."""
        return next(e for e in self.timeline if e.kind == "incident")

    @property
    def confounders(self) -> tuple[TimelineEvent, ...]:
        """Timeline events that are other news (earnings, ex-dividend, downgrades, ...)."""
        return tuple(e for e in self.timeline if e.is_confounder)

    @property
    def year(self) -> int:
        """Year of the incident date."""
        return self.incident_date.year

    def to_dict(self) -> dict:
        """JSON-ready dict: dates as ISO strings, tuples as lists, the timeline as dicts."""
        return {
            "id": self.id,
            "name": self.name,
            "company": self.company,
            "ticker": self.ticker,
            "former_tickers": list(self.former_tickers),
            "exchange": self.exchange,
            "currency": self.currency,
            "benchmark": self.benchmark,
            "peers": list(self.peers),
            "category": self.category,
            "platforms": list(self.platforms),
            "incident_date": self.incident_date.isoformat(),
            "summary": self.summary,
            "claimed_impact": self.claimed_impact,
            "listing_note": self.listing_note,
            "sources": list(self.sources),
            "confidence": self.confidence,
            "timeline": [e.to_dict() for e in self.timeline],
            "shares_outstanding": None if self.shares is None else self.shares.value,
            "shares_as_of": None if self.shares is None or self.shares.as_of is None else self.shares.as_of.isoformat(),
            "shares_source": None if self.shares is None else self.shares.source,
        }


class Catalog:
    """An immutable, ordered collection of incidents, looked up by id.

    Iteration yields :class:`Incident` objects in file order; ``catalog[id]`` raises
    :class:`~incident_impact.errors.UnknownIncidentError` with suggestions.
    """

    def __init__(self, incidents: Iterable[Incident]):
        items = tuple(incidents)
        by_id: dict[str, Incident] = {}
        for inc in items:
            if inc.id in by_id:
                raise CatalogError(f"duplicate incident id {inc.id!r}")
            by_id[inc.id] = inc
        self._items = items
        self._by_id = by_id

    def __getitem__(self, incident_id: str) -> Incident:
        try:
            return self._by_id[incident_id]
        except KeyError:
            pass
        key = str(incident_id).strip().lower()
        if key in self._by_id:
            return self._by_id[key]
        raise UnknownIncidentError(self._unknown_message(key))

    def _unknown_message(self, key: str) -> str:
        close = difflib.get_close_matches(key, self.ids, n=3, cutoff=0.6)
        contained = [i for i in self.ids if key and key in i]
        suggestions = list(dict.fromkeys(close + contained))[:3]
        hint = (
            f"; did you mean {', '.join(suggestions)}?" if suggestions else f" (the catalog has {len(self)} incidents)"
        )
        return f"unknown incident {key!r}{hint}"

    def __contains__(self, incident_id: object) -> bool:
        return incident_id in self._by_id

    def __iter__(self) -> Iterator[Incident]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Catalog({len(self)} incidents)"

    @property
    def ids(self) -> tuple[str, ...]:
        """Incident ids in file order."""
        return tuple(i.id for i in self._items)

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories used in this catalog, sorted."""
        return tuple(sorted({i.category for i in self._items}))

    def filter(self, category: str | None = None, platform: str | None = None, year: int | None = None) -> Catalog:
        """Incidents matching every given criterion (case-insensitive text).

        Raises
        ------
        CatalogError
            ``category`` is not one of :attr:`categories`.
        """
        items: Sequence[Incident] = self._items
        if category is not None:
            wanted = category.strip().lower()
            if wanted not in {c.lower() for c in self.categories}:
                raise CatalogError(f"unknown category {category!r}; use one of: {', '.join(self.categories)}")
            items = [i for i in items if i.category.lower() == wanted]
        if platform is not None:
            wanted = platform.strip().lower()
            items = [i for i in items if wanted in (p.lower() for p in i.platforms)]
        if year is not None:
            items = [i for i in items if i.year == int(year)]
        return Catalog(items)

    def merged(self, other: Catalog) -> Catalog:
        """This catalog with ``other``'s incidents replacing same-id ones and the rest appended."""
        replaced = [other._by_id.get(i.id, i) for i in self._items]
        added = [i for i in other if i.id not in self._by_id]
        return Catalog(replaced + added)

    def to_frame(self) -> pd.DataFrame:
        """One row per incident: id, name, company, ticker, exchange, category, platforms, incident_date, confidence."""
        rows = [
            {
                "id": i.id,
                "name": i.name,
                "company": i.company,
                "ticker": i.ticker,
                "exchange": i.exchange,
                "category": i.category,
                "platforms": ";".join(i.platforms),
                "incident_date": pd.Timestamp(i.incident_date),
                "confidence": i.confidence,
            }
            for i in self._items
        ]
        columns = [
            "id",
            "name",
            "company",
            "ticker",
            "exchange",
            "category",
            "platforms",
            "incident_date",
            "confidence",
        ]
        return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------- loading


def load_catalog(incidents: CsvSource | None = None, timelines: CsvSource | None = None) -> Catalog:
    """Load the packaged catalog, or a user's incidents (and optional timelines) CSV.

    Parameters
    ----------
    incidents : path of an incidents CSV (columns as ``datasets/incidents.csv``; only
        ``id``, ``ticker`` and ``incident_date`` are required). Default: the packaged file.
    timelines : path of a timelines CSV. Default: the packaged timelines when
        ``incidents`` is also the default, otherwise none. An incident without an
        ``incident`` event gets one on its ``incident_date`` (no time).

    Returns
    -------
    Catalog

    Raises
    ------
    CatalogError
        A file is missing or malformed; the message names the file and row.
    """
    if incidents is None and timelines is None:
        return _packaged_catalog()
    data = files("incident_impact.datasets")
    return _build(incidents if incidents is not None else data / "incidents.csv", timelines)


@lru_cache(maxsize=1)
def _packaged_catalog() -> Catalog:
    data = files("incident_impact.datasets")
    return _build(data / "incidents.csv", data / "timelines.csv")


def _build(incidents: CsvSource, timelines: CsvSource | None) -> Catalog:
    inc_name, inc_frame = _read_csv(incidents, REQUIRED_INCIDENT_COLUMNS, INCIDENT_COLUMNS)
    rows = [(n, _incident_fields(f"{inc_name} row {n}", row)) for n, row in _rows(inc_frame)]
    seen: dict[str, int] = {}
    for n, fields in rows:
        if fields["id"] in seen:
            raise CatalogError(f"{inc_name} row {n}: duplicate id {fields['id']!r} (first at row {seen[fields['id']]})")
        seen[fields["id"]] = n
    events: dict[str, list[TimelineEvent]] = {f["id"]: [] for _, f in rows}
    if timelines is not None:
        tl_name, tl_frame = _read_csv(timelines, REQUIRED_TIMELINE_COLUMNS, TIMELINE_COLUMNS)
        by_id = {f["id"]: f for _, f in rows}
        incident_rows: dict[str, int] = {}
        for n, row in _rows(tl_frame):
            where = f"{tl_name} row {n}"
            incident_id = row["incident_id"]
            if incident_id not in events:
                raise CatalogError(f"{where}: incident_id {incident_id!r} is not in {inc_name}")
            event = _timeline_event(where, row, by_id[incident_id]["exchange"])
            if event.kind == "incident":
                if incident_id in incident_rows:
                    raise CatalogError(
                        f"{where}: second 'incident' event for {incident_id!r} "
                        f"(first at row {incident_rows[incident_id]}); day 0 needs exactly one"
                    )
                incident_rows[incident_id] = n
                expected = by_id[incident_id]["incident_date"]
                if event.date != expected:
                    raise CatalogError(
                        f"{where}: the 'incident' event of {incident_id!r} is dated {event.date}, "
                        f"but its incident_date is {expected}; make them equal"
                    )
            events[incident_id].append(event)
    built = []
    for _, fields in rows:
        timeline = events[fields["id"]]
        if not any(e.kind == "incident" for e in timeline):
            timeline.append(TimelineEvent(fields["incident_date"], "incident", "Incident date (no time given)."))
        timeline.sort(key=_event_order)
        built.append(Incident(**fields, timeline=tuple(timeline)))
    return Catalog(built)


def _event_order(event: TimelineEvent) -> tuple:
    """Date and time first; ties in a fixed order, so the timeline does not depend on the file's row order."""
    return (
        event.date,
        event.time or dt.time.min,
        EVENT_KINDS.index(event.kind),
        event.description,
        event.timezone or "",
        event.source or "",
    )


def _read_csv(source: CsvSource, required: tuple[str, ...], known: tuple[str, ...]) -> tuple[str, pd.DataFrame]:
    """Read a CSV as text columns (UTF-8, falling back to Latin-1) and check its header."""
    name = str(source) if isinstance(source, (str, PathLike)) else source.name
    try:
        raw = Path(source).read_bytes() if isinstance(source, (str, PathLike)) else source.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read {name}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-16" if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig")
    except UnicodeDecodeError:
        warnings.warn(f"{name} is not UTF-8; reading it as Latin-1", UserWarning, stacklevel=4)
        text = raw.decode("latin-1")
    if not text.strip():
        raise CatalogError(f"{name} is empty; it needs a header row with {', '.join(required)}")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, ValueError) as exc:
        raise CatalogError(f"{name} is not a readable CSV: {str(exc).strip().splitlines()[-1]}") from exc
    if not isinstance(frame.index, pd.RangeIndex):  # pandas moves surplus leading fields into the index
        raise CatalogError(f"{name}: row 2 has more fields than the header; quote cells that contain commas")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CatalogError(
            f"{name}: missing required column(s) {', '.join(missing)} (found: {', '.join(frame.columns)})"
        )
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        warnings.warn(f"{name}: ignoring unknown column(s) {', '.join(unknown)}", UserWarning, stacklevel=4)
    return name, frame


def _rows(frame: pd.DataFrame) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (spreadsheet row number, stripped cells); the header is row 1."""
    for i, record in enumerate(frame.to_dict("records")):
        yield i + 2, {cast(str, k): str(v).strip() for k, v in record.items()}  # column names are strings


def _split(cell: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in cell.split(";") if p.strip())


def _date(where: str, column: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CatalogError(f"{where}: cannot read the {column} {text!r}; use YYYY-MM-DD") from None


def _incident_fields(where: str, row: dict[str, str]) -> dict:
    """Validate one incidents row and return the keyword arguments of :class:`Incident` (no timeline)."""
    incident_id = row["id"]
    if not incident_id or re.search(r"\s", incident_id) or not incident_id.isprintable():
        raise CatalogError(f"{where}: id {incident_id!r} must be non-empty and contain no spaces or control characters")
    where += f" ({incident_id})"
    ticker = row["ticker"].upper() or None
    exchange = row.get("exchange", "").upper() or (DEFAULT_EXCHANGE if ticker else None)
    currency = row.get("currency", "") or ("USD" if exchange in _US_EXCHANGES else None)
    benchmark = row.get("benchmark", "").upper() or (DEFAULT_BENCHMARK if ticker else None)
    confidence = row.get("confidence", "").lower()
    if confidence and confidence not in CONFIDENCE_LEVELS:
        raise CatalogError(f"{where}: confidence {confidence!r} must be one of {', '.join(CONFIDENCE_LEVELS)} or empty")
    return {
        "id": incident_id,
        "name": row.get("name", "") or incident_id,
        "company": row.get("company", "") or (ticker or ""),
        "ticker": ticker,
        "former_tickers": tuple(t.upper() for t in _split(row.get("former_tickers", ""))),
        "exchange": exchange,
        "currency": currency,
        "benchmark": benchmark,
        "peers": tuple(p.upper() for p in _split(row.get("peers", ""))),
        "category": row.get("category", "") or "other",
        "platforms": _split(row.get("platforms", "")),
        "incident_date": _date(where, "incident_date", row["incident_date"]),
        "summary": row.get("summary", ""),
        "claimed_impact": row.get("claimed_impact", ""),
        "listing_note": row.get("listing_note", ""),
        "sources": _split(row.get("sources", "")),
        "confidence": confidence,
        "shares": _shares(where, row),
    }


def _shares(where: str, row: dict[str, str]) -> SharesOutstanding | None:
    """``shares_outstanding`` (a count; ``_`` and ``,`` separators allowed) with its date and source."""
    text = row.get("shares_outstanding", "").replace(",", "").replace("_", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise CatalogError(
            f"{where}: cannot read shares_outstanding {row['shares_outstanding']!r}; give a number"
        ) from None
    if not value > 0 or value != value or value == float("inf"):
        raise CatalogError(f"{where}: shares_outstanding must be a positive number, got {row['shares_outstanding']!r}")
    as_of = _date(where, "shares_as_of", row["shares_as_of"]) if row.get("shares_as_of") else None
    return SharesOutstanding(value, row.get("shares_source", "") or "incident file", as_of)


def _timeline_event(where: str, row: dict[str, str], exchange: str | None) -> TimelineEvent:
    """Validate one timelines row; a time without a zone means the exchange's zone."""
    kind = row["kind"].lower()
    if kind not in EVENT_KINDS:
        raise CatalogError(f"{where}: unknown kind {row['kind']!r}; use one of {', '.join(EVENT_KINDS)}")
    date = _date(where, "date", row["date"])
    time = None
    if row.get("time"):
        try:
            time = dt.time.fromisoformat(row["time"])
        except ValueError:
            raise CatalogError(f"{where}: cannot read the time {row['time']!r}; use HH:MM (24-hour clock)") from None
    zone = row.get("timezone", "") or None
    if zone is not None:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CatalogError(
                f"{where}: unknown timezone {zone!r}; use an IANA name such as America/New_York"
            ) from None
    elif time is not None and exchange is None:
        raise CatalogError(
            f"{where}: time {row['time']} has no timezone and the incident has no exchange to take it from"
        )
    return TimelineEvent(
        date=date,
        kind=kind,
        description=row.get("description", ""),
        time=time,
        timezone=zone,
        source=row.get("source", "") or None,
    )


# --------------------------------------------------------------------------- ad hoc


def adhoc_incident(
    ticker: str,
    date: dt.date | str,
    *,
    time: dt.time | str | None = None,
    tz: str | None = None,
    benchmark: str = DEFAULT_BENCHMARK,
    exchange: str = DEFAULT_EXCHANGE,
    peers: Iterable[str] = (),
    name: str | None = None,
) -> Incident:
    """An incident that is not in the catalog, e.g. from the command line.

    Parameters
    ----------
    ticker : Yahoo symbol of the stock.
    date : date the news broke (``YYYY-MM-DD`` or a date).
    time, tz : local time of the news and its IANA zone (default: the exchange's zone).
    benchmark, exchange, peers : benchmark symbol, listing exchange MIC, peer symbols.
    name : display name (default ``"<TICKER> event on <date>"``).

    Returns
    -------
    Incident
        With id ``adhoc-<ticker>-<date>``, e.g. ``adhoc-ual-2017-04-10``.
    """
    symbol = ticker.strip().upper()
    if not symbol:
        raise CatalogError("an ad hoc incident needs a ticker")
    exchange = exchange.strip().upper()
    if isinstance(date, dt.datetime):
        date = date.date()
    row = {
        "date": date.isoformat() if isinstance(date, dt.date) else str(date).strip(),
        "time": time.isoformat() if isinstance(time, dt.time) else (time or "").strip(),
        "timezone": tz or "",
        "kind": "incident",
        "description": "Ad hoc event.",
    }
    event = _timeline_event("ad hoc incident", row, exchange)
    slug = re.sub(r"[^a-z0-9]+", "-", symbol.lower()).strip("-")
    return Incident(
        id=f"adhoc-{slug}-{event.date.isoformat()}",
        name=name or f"{symbol} event on {event.date.isoformat()}",
        company=symbol,
        ticker=symbol,
        former_tickers=(),
        exchange=exchange,
        currency="USD" if exchange in _US_EXCHANGES else None,
        benchmark=benchmark.upper(),
        peers=tuple(p.strip().upper() for p in peers if p.strip()),
        category="other",
        platforms=(),
        incident_date=event.date,
        summary="",
        claimed_impact="",
        listing_note="",
        sources=(),
        confidence="",
        timeline=(event,),
    )
