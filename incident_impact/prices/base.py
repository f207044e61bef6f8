"""The price interface: :class:`PriceHistory`, the :class:`PriceSource` protocol and the CSV reader.

Every source (a CSV folder, the download cache, Yahoo Finance, the bundled sample) returns
the same normalized frame: a tz-naive ``DatetimeIndex`` named ``date`` holding session dates
(sorted, unique) and the float columns ``adj_close`` (always present), ``close`` and
``volume`` (NaN where unknown). Returns are computed from ``adj_close`` only.
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import hashlib
import io
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from ..errors import PriceDataError
from .integrity import IntegrityReport, check_prices

DateLike = dt.date | pd.Timestamp | str

#: Columns of every normalized price frame, in this order.
COLUMNS = ("adj_close", "close", "volume")

#: Header spellings (lower-cased, spaces and underscores removed) -> normalized column.
_HEADER = {"date": "date", "adjclose": "adj_close", "close": "close", "volume": "volume"}
#: Cell spellings read as "value unknown" (Yahoo's web export writes ``null``).
_MISSING = {"", "null", "nan", "na", "n/a"}
_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T].*)?$")
_SAFE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=&-]*")

NO_ADJUSTED_NOTE = "no adjusted close: returns exclude dividends"


@dataclass(frozen=True, eq=False)
class PriceHistory:
    """Daily prices of one ticker from one source.

    Attributes
    ----------
    ticker : the ticker as requested, e.g. ``"^GSPC"``.
    data : normalized frame (see the module docstring).
    source : human-readable origin, e.g. ``"CSV folder /x/prices (UAL.csv)"``.
    notes : data-quality remarks, e.g. ``"3 rows with empty adj_close kept as missing"``; the
        findings of :mod:`.integrity` (dropped multi-session or impossible returns, split-like or
        implausible ones) are appended on construction.
    exchange : MIC whose sessions the rows should cover (None: from the ticker's spelling,
        ``OR.PA`` -> XPAR, ``^HSI`` -> XHKG, else XNYS; see :func:`.integrity.infer_exchange`).
    source_path : the file the rows were parsed from (None: not from a file, e.g. a fresh download
        before it reached the cache, or a frame built in memory).
    source_sha256 : sha256 of the bytes actually parsed from ``source_path`` (the manifest of a run
        records it, so ``incident-impact verify`` can tell when the data changed).
    """

    ticker: str
    data: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()
    exchange: str | None = None
    source_path: str | None = None
    source_sha256: str | None = None
    #: what :func:`.integrity.check_prices` found (set on construction; no argument)
    _integrity: IntegrityReport = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        report = check_prices(self.ticker, self.data["adj_close"], self.exchange)
        object.__setattr__(self, "_integrity", report)
        object.__setattr__(self, "notes", tuple(dict.fromkeys((*self.notes, *report.notes))))

    def valid_span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last date with a valid ``adj_close`` (None when there is none)."""
        valid = self.data.index[self.data["adj_close"].notna()]
        return (valid[0], valid[-1]) if len(valid) else None

    def covers(self, start: DateLike | None, end: DateLike | None) -> bool:
        """True when the first valid price is on or before ``start`` and the last on or after ``end``.

        Callers pass *session* dates (``None`` means no requirement on that side); a
        history starting on the first session after a holiday ``start`` does not cover it.
        """
        span = self.valid_span()
        if span is None:
            return False
        return (start is None or span[0] <= to_timestamp(start)) and (end is None or span[1] >= to_timestamp(end))

    def returns(self) -> pd.Series:
        """Simple daily returns of ``adj_close``, named after the ticker; each spans exactly one session.

        Dropped: the first day; the day of and after a missing price; a return across a session
        that has no row (as if the row were there with an empty cell); a price ratio beyond
        1000:1 either way (an overflow, or a -100 % return from a denormal price). Split-like and
        implausible returns are kept and listed in :attr:`suspect_returns`. Rows on dates that
        are no session of the exchange (an index published on a holiday) are kept.
        """
        return self._integrity.returns.copy()

    @property
    def suspect_returns(self) -> pd.DataFrame:
        """Returns to distrust: ``date, return, kind, dropped, reason``, ``kind`` one of ``split``
        (price ratio within 2 % of 1:k or k:1, k in 2, 3, 4, 5, 10), ``implausible`` (|return| above
        75 %) — both kept in :meth:`returns` — and ``impossible`` (dropped). ``reason`` is the note."""
        return self._integrity.suspects.copy()

    @property
    def gaps(self) -> pd.DataFrame:
        """Returns dropped because sessions between two rows have no row: ``date, previous,
        n_missing, first_missing, last_missing``."""
        return self._integrity.gaps.copy()

    def with_exchange(self, exchange: str | None) -> PriceHistory:
        """The same prices checked against another exchange's sessions (e.g. the incident's listing)."""
        base = tuple(n for n in self.notes if n not in self._integrity.notes)
        return PriceHistory(self.ticker, self.data, self.source, base, exchange, self.source_path, self.source_sha256)

    def with_notes(self, *notes: str) -> PriceHistory:
        """The same history with ``notes`` added (provenance and the integrity check kept: same prices)."""
        out = copy.copy(self)
        object.__setattr__(out, "notes", tuple(dict.fromkeys((*self.notes, *notes))))
        return out


class PriceSource(Protocol):
    """Anything that can load a ticker's daily prices."""

    name: str

    def load(self, ticker: str, start: DateLike | None = None, end: DateLike | None = None) -> PriceHistory:
        """Rows within ``[start, end]`` (``end`` inclusive; all rows when None).

        Raises :class:`~incident_impact.errors.TickerNotFoundError` when the source has
        nothing for the ticker.
        """
        ...


def to_timestamp(value: DateLike) -> pd.Timestamp:
    """A tz-naive midnight Timestamp for a date, Timestamp or ``YYYY-MM-DD`` string."""
    ts = pd.Timestamp(value)
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def file_stem(ticker: str) -> str:
    """Filename-safe stem of a ticker: ``"^GSPC"`` -> ``"GSPC"``, ``"BRK-B"`` -> ``"BRK-B"``.

    Raises
    ------
    PriceDataError
        When the ticker could escape a folder or is not a plausible symbol
        (``/``, ``\\``, ``..``, leading dots, spaces, control characters).
    """
    stem = ticker[1:] if ticker.startswith("^") else ticker
    if not _SAFE_STEM.fullmatch(stem) or ".." in stem:
        raise PriceDataError(
            f"unsafe ticker {ticker!r}: use letters, digits and . - = & only (e.g. BRK-B, ^GSPC, OR.PA)"
        )
    return stem


def normalize_index(index: pd.Index) -> pd.DatetimeIndex:
    """Session dates from any datetime index: tz dropped (local date kept), midnight, ns unit."""
    index = pd.DatetimeIndex(index)
    if index.tz is not None:
        index = index.tz_localize(None)
    # freq=None drops any inferred frequency, as pandas documents; pandas-stubs do not accept None
    return pd.DatetimeIndex(index.normalize().as_unit("ns"), freq=None, name="date")  # type: ignore[arg-type]


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the normalized index and columns (missing ``close``/``volume`` become NaN).

    Raises
    ------
    PriceDataError
        When ``adj_close`` is absent or a date occurs twice.
    """
    if "adj_close" not in frame.columns:
        raise PriceDataError(f"price frame has no adj_close column (columns: {', '.join(map(str, frame.columns))})")
    out = frame.reindex(columns=list(COLUMNS)).astype("float64")
    out.index = normalize_index(out.index)
    if out.index.has_duplicates:
        raise PriceDataError(f"price frame has duplicate date {out.index[out.index.duplicated()][0]:%Y-%m-%d}")
    return out.sort_index()


def clip(frame: pd.DataFrame, start: DateLike | None, end: DateLike | None) -> pd.DataFrame:
    """Rows of a normalized frame within ``[start, end]`` (inclusive; open-ended sides when None)."""
    lo = None if start is None else to_timestamp(start)
    hi = None if end is None else to_timestamp(end)
    return frame.loc[lo:hi]


def make_history(
    ticker: str,
    frame: pd.DataFrame,
    source: str,
    notes: tuple[str, ...] = (),
    start: DateLike | None = None,
    end: DateLike | None = None,
    *,
    path: str | PathLike[str] | None = None,
    sha256: str | None = None,
) -> PriceHistory:
    """A :class:`PriceHistory` of ``frame`` cut to ``[start, end]``, noting missing ``adj_close`` rows;
    ``path`` and ``sha256`` name the file parsed (see :attr:`PriceHistory.source_sha256`)."""
    data = clip(frame, start, end)
    missing = int(data["adj_close"].isna().sum())
    if missing:
        notes = (*notes, f"{missing} row{'s' if missing != 1 else ''} with empty adj_close kept as missing")
    return PriceHistory(ticker, data, source, tuple(notes), None, None if path is None else str(path), sha256)


# ----------------------------------------------------------------- files read, and a parse cache
#: Every data file parsed in this process: resolved path -> sha256 of the bytes parsed (the last
#: parse wins), in the order first read. :mod:`incident_impact.manifest` reports them.
_READS: OrderedDict[str, dict] = OrderedDict()
#: Parsed frames by the sha256 of their bytes (the same file read again is not parsed again).
_PARSED: OrderedDict[tuple[str, str], tuple[pd.DataFrame, tuple[str, ...]]] = OrderedDict()
_PARSED_MAX = 256
_LOCK = threading.Lock()


def record_read(path: str | PathLike[str], sha256: str, kind: str = "prices", label: str | None = None) -> None:
    """Note that the bytes with ``sha256`` were parsed from ``path`` (a price, factor or sales file),
    for the manifest of the run (:func:`files_read`)."""
    key = str(Path(path).resolve()) if not str(path).startswith("<") else str(path)
    with _LOCK:
        _READS.pop(key, None)
        _READS[key] = {"path": key, "kind": kind, "sha256": sha256, **({"source": label} if label else {})}


def files_read() -> list[dict]:
    """The files parsed so far in this process: ``path, kind, sha256`` (and ``source`` when known)."""
    with _LOCK:
        return [dict(v) for v in _READS.values()]


def forget_reads() -> None:
    """Start a new record of the files read (a new run in the same process)."""
    with _LOCK:
        _READS.clear()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_price_file(
    path: str | PathLike[str], ticker: str, label: str | None = None, raw: bytes | None = None, kind: str = "prices"
) -> tuple[pd.DataFrame, tuple[str, ...], str]:
    """:func:`parse_price_csv` of the file at ``path`` (or of its bytes ``raw``, already read), read once
    and hashed: the frame, the remarks and the sha256 of the bytes parsed (recorded with
    :func:`record_read`). Bytes parsed before are not parsed again."""
    name = str(path)
    if raw is None:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise PriceDataError(f"{name}: cannot read prices of {ticker}: {exc.strerror or exc}") from exc
    digest = sha256_of(raw)
    key = (name, digest)
    with _LOCK:
        hit = _PARSED.get(key)
    if hit is None:
        hit = parse_price_csv(path, ticker, text=raw)
        with _LOCK:
            _PARSED[key] = hit
            while len(_PARSED) > _PARSED_MAX:
                _PARSED.popitem(last=False)
    record_read(path, digest, kind, label)
    frame, notes = hit
    return frame, notes, digest


def read_price_csv(path: str | PathLike[str], ticker: str) -> pd.DataFrame:
    """Parse one price file into the normalized frame (see :func:`parse_price_csv`)."""
    return parse_price_csv(path, ticker)[0]


def parse_price_csv(
    path: str | PathLike[str], ticker: str, text: bytes | None = None
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Parse a daily price CSV; return the normalized frame and remarks about the file.

    Accepts the shared format ``date,open,high,low,close,adj_close,volume`` and Yahoo's
    export ``Date,Open,High,Low,Close,Adj Close,Volume`` (header matching ignores case,
    spaces and underscores; any column order; UTF-8 with or without a BOM, UTF-16 with a BOM,
    else Latin-1; ``;`` or tab delimiters when the header has no comma). Only ``date`` and one of
    ``adj_close``/``close`` are required; without ``adj_close``, ``close`` stands in and a
    remark says so. Rows are sorted by date. Empty cells (or ``null``) stay NaN.

    Parameters
    ----------
    path : the file; it is named in every error message.
    ticker : the ticker the file is read for (used in messages).
    text : the file's bytes, when already read (the cache hashes them first).

    Raises
    ------
    PriceDataError
        One line naming the file and the problem: an empty file, no date or price column,
        an unparseable or duplicate date, a non-numeric, zero or negative value.
    """
    name = str(path)
    try:
        raw = Path(path).read_bytes() if text is None else text
    except OSError as exc:
        raise PriceDataError(f"{name}: cannot read prices of {ticker}: {exc.strerror or exc}") from exc
    content, notes = _decode(raw, name)
    if not content.strip():
        raise PriceDataError(f"{name}: the file is empty (expected a header such as date,adj_close)")
    try:
        table = pd.read_csv(
            io.StringIO(content), dtype=str, keep_default_na=False, sep=_delimiter(content), skip_blank_lines=True
        )
    except pd.errors.ParserError as exc:
        detail = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise PriceDataError(f"{name}: not a readable CSV file ({detail})") from exc
    if not isinstance(table.index, pd.RangeIndex):  # pandas moves surplus leading fields into the index
        raise PriceDataError(
            f"{name}: line 2 has more fields than the header ({len(table.columns)}): a trailing delimiter, "
            "or a thousands separator such as 1,234.5 unquoted? Export plain numbers (1234.5)"
        )

    columns: dict[str, str] = {}
    for header in table.columns:
        key = _HEADER.get(re.sub(r"[\s_]+", "", str(header)).lower())
        if key is None:
            continue
        if key in columns:
            raise PriceDataError(f"{name}: columns {columns[key]!r} and {header!r} both mean {key}; keep one")
        columns[key] = header
    if "date" not in columns:
        raise PriceDataError(f"{name}: no date column (header is {','.join(map(str, table.columns))})")
    if "adj_close" not in columns and "close" not in columns:
        raise PriceDataError(f"{name}: no adj_close or close column (header is {','.join(map(str, table.columns))})")
    if table.empty:
        raise PriceDataError(f"{name}: the file has a header but no rows")

    dates = _parse_dates(table[columns["date"]], name)
    values = {key: _parse_numbers(table[columns[key]], key, dates, name) for key in COLUMNS if key in columns}
    if "adj_close" not in values:
        values["adj_close"] = values["close"]
        notes.append(NO_ADJUSTED_NOTE)
    frame = pd.DataFrame(
        {key: values.get(key, np.full(len(table), np.nan)) for key in COLUMNS}, index=normalize_index(dates)
    )
    duplicated = frame.index.duplicated()
    if duplicated.any():
        first = frame.index[duplicated][0]
        lines = [i + 2 for i in np.flatnonzero(frame.index == first)]
        raise PriceDataError(
            f"{name}: duplicate date {first:%Y-%m-%d} (lines {lines[0]} and {lines[1]}); remove one of the rows"
        )
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
        notes.append(f"{name} rows were not in date order; sorted")
    if frame["adj_close"].isna().all():
        raise PriceDataError(f"{name}: every {'adj_close' if 'adj_close' in columns else 'close'} cell is empty")
    return frame, tuple(notes)


def _decode(raw: bytes, name: str) -> tuple[str, list[str]]:
    """The file's text and remarks: UTF-8 (BOM optional), UTF-16 with a BOM (Excel's "Unicode text"),
    else Latin-1, which decodes any byte (noted, since only labels can be affected)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), []
        except UnicodeDecodeError as exc:
            raise PriceDataError(f"{name}: not a readable UTF-16 file ({exc.reason} at byte {exc.start})") from exc
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return raw.decode("latin-1"), [f"{name} is not UTF-8; read as Latin-1"]


def _delimiter(text: str) -> str:
    """``,`` unless the header line has none and has ``;`` or a tab (European and Excel exports)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," not in header:
        for sep in (";", "\t"):
            if sep in header:
                return sep
    return ","


def _parse_dates(column: pd.Series, name: str) -> pd.DatetimeIndex:
    """``YYYY-MM-DD`` dates (a trailing time or offset is ignored: the local date counts)."""
    text = column.str.strip()
    parts = text.str.extract(_ISO_DATE, expand=False)
    dates = pd.to_datetime(parts, format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        i = bad[0]
        raise PriceDataError(f"{name}: unparseable date {text.iloc[i]!r} on line {i + 2} (expected YYYY-MM-DD)")
    lo, hi = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")
    far = np.flatnonzero(((dates < lo) | (dates > hi)).to_numpy())
    if len(far):
        i = far[0]
        raise PriceDataError(f"{name}: date {text.iloc[i]!r} on line {i + 2} is outside {lo:%Y-%m-%d}..{hi:%Y-%m-%d}")
    return pd.DatetimeIndex(dates)


def _parse_numbers(column: pd.Series, key: str, dates: pd.DatetimeIndex, name: str) -> np.ndarray:
    """Floats of one value column; missing cells become NaN, anything else must be a valid number."""
    text = column.str.strip()
    missing = text.str.lower().isin(_MISSING).to_numpy()
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype="float64")
    nonnumeric = (~missing) & ~np.isfinite(numbers)
    out_of_range = numbers < 0 if key == "volume" else numbers <= 0
    bad = np.flatnonzero(nonnumeric | out_of_range)
    if len(bad):
        i = bad[0]
        where = f"on line {i + 2} ({dates[i]:%Y-%m-%d})"
        if nonnumeric[i]:
            hint = "; write plain numbers such as 1234.5 (no thousands separator or decimal comma)"
            hint = hint if re.search(r"\d[,.' ]\d", text.iloc[i]) else ""
            raise PriceDataError(f"{name}: non-numeric {key} {text.iloc[i]!r} {where}{hint}")
        sign = "negative" if numbers[i] < 0 else "zero"
        rule = "volumes cannot be negative" if key == "volume" else "prices must be positive"
        raise PriceDataError(f"{name}: {sign} {key} {text.iloc[i]!r} {where}; {rule}")
    return numbers
