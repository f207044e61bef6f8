"""Daily prices downloaded from Yahoo Finance with ``yfinance``, kept in the :class:`PriceCache`.

``yfinance.download`` rarely raises: unknown tickers, network errors and rate limits are
logged to the ``yfinance`` logger and come back as an empty or all-NaN frame. This module
listens to that logger during the call and turns those outcomes into
:class:`~incident_impact.errors.TickerNotFoundError` or
:class:`~incident_impact.errors.DownloadError`; nothing is cached unless the answer has prices.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DownloadError, PriceDataError, TickerNotFoundError
from .base import NO_ADJUSTED_NOTE, DateLike, PriceHistory, make_history, normalize_index, to_timestamp
from .cache import PriceCache

RATE_LIMITED = "Yahoo rate-limited this address; retry later or pass --data-dir"
_RATE_LIMIT = re.compile(r"YFRateLimitError|Too Many Requests|rate.?limit", re.IGNORECASE)
_NOT_FOUND = re.compile(r"delisted|no timezone found|no price data found|not found|404|no data found", re.IGNORECASE)
_NO_NETWORK = re.compile(
    r"resolve host|DNSError|ConnectionError|Connection refused|Failed to perform|timed? ?out|Network is unreachable",
    re.IGNORECASE,
)
_FIELDS = {"Adj Close": "adj_close", "Close": "close", "Volume": "volume"}

# the default cache (B008: built once, as a default argument was); its folder is resolved at use, not here
_DEFAULT_CACHE = PriceCache()


class YahooSource:
    """Yahoo Finance through ``yfinance.download``, read through and written to a cache.

    Parameters
    ----------
    cache : where downloads are kept and looked up first (None: no caching).
    download : the download function (default ``yfinance.download``, imported on first use);
        tests pass a fake with the same keywords.
    timeout : seconds ``yfinance`` waits for Yahoo.
    ticker : the ``yfinance.Ticker`` class (for :meth:`shares_outstanding`); tests pass a fake.
    """

    name = "Yahoo Finance"

    def __init__(
        self,
        cache: PriceCache | None = _DEFAULT_CACHE,
        download: Callable[..., pd.DataFrame] | None = None,
        timeout: float = 30,
        ticker: Callable[[str], Any] | None = None,
    ) -> None:
        self.cache = cache
        self.download = download
        self.timeout = timeout
        self.ticker = ticker

    def shares_outstanding(self, ticker: str, on: DateLike) -> tuple[float, dt.date]:
        """The last share count Yahoo reports on or before ``on`` (``Ticker.get_shares_full``).

        Raises
        ------
        DownloadError
            When Yahoo cannot be reached or has no count before that date.
        """
        make = self.ticker
        if make is None:
            import yfinance

            make = yfinance.Ticker
        day = to_timestamp(on)
        with _capture("yfinance") as messages:
            try:
                counts = make(ticker).get_shares_full(
                    start=(day - pd.Timedelta(days=400)).date(), end=(day + pd.Timedelta(days=1)).date()
                )
            except Exception as exc:  # yfinance and its HTTP stack raise many unrelated types
                raise _failure(ticker, f"shares outstanding: {type(exc).__name__}: {exc}") from exc
        if counts is None or len(counts) == 0:
            raise _failure(
                ticker,
                f"Yahoo reports no shares outstanding before {day.date()}: {_reason(messages) or 'empty answer'}",
            )
        counts = pd.Series(counts).dropna()
        counts.index = pd.DatetimeIndex(counts.index).tz_localize(None).normalize()
        counts = counts[(counts.index <= day) & (counts > 0)].sort_index()
        if counts.empty:
            raise _failure(ticker, f"Yahoo reports no shares outstanding before {day.date()}")
        return float(counts.iloc[-1]), counts.index[-1].date()

    def load(self, ticker: str, start: DateLike | None = None, end: DateLike | None = None) -> PriceHistory:
        """Rows of ``ticker`` within ``[start, end]``: from the cache when it has them all, else downloaded.

        A download spans the requested dates and the cached ones, so the cache always
        merges overlapping downloads.

        Raises
        ------
        TickerNotFoundError
            When Yahoo has no prices for the ticker.
        DownloadError
            When the download fails (network, rate limit, empty answer); the cache is untouched.
        """
        lo, hi = start, end
        if self.cache is not None:
            hit = self.cache.lookup(ticker, start, end)
            if hit is not None and hit.complete:
                return hit.history
            if hit is not None and hit.span is not None:  # download the cached dates too, so the cache can merge
                lo = None if start is None else min(to_timestamp(start), hit.span[0])
                hi = None if end is None else max(to_timestamp(end), hit.span[1])
        frame, notes, downloaded_at = self._download(ticker, lo, hi)
        source = f"{self.name} (downloaded {downloaded_at:%Y-%m-%dT%H:%MZ})"
        return make_history(ticker, frame, source, notes, start, end)

    def _download(
        self, ticker: str, start: DateLike | None, end: DateLike | None
    ) -> tuple[pd.DataFrame, tuple[str, ...], dt.datetime]:
        """Download ``[start, end]`` and cache it; return the frame, remarks and the time of download."""
        download = self.download
        if download is None:
            import yfinance

            download = yfinance.download
        first = None if start is None else to_timestamp(start).date()
        last = None if end is None else to_timestamp(end).date()
        # start None: all history; yfinance's end is exclusive
        dates: dict[str, Any] = {"period": "max"} if first is None else {"start": first}
        if last is not None:
            dates["end"] = last + dt.timedelta(days=1)
        with _capture("yfinance") as messages:
            try:
                raw = download(
                    ticker,
                    **dates,
                    auto_adjust=False,
                    actions=False,
                    progress=False,
                    multi_level_index=True,
                    threads=False,
                    timeout=self.timeout,
                )
            except Exception as exc:  # yfinance and its HTTP stack raise many unrelated types
                raise _failure(ticker, f"{type(exc).__name__}: {exc}") from exc
        frame, notes = _normalize(raw, ticker)
        if frame is None or frame["adj_close"].isna().all():
            reason = _reason(messages)
            if _NOT_FOUND.search(reason) and not (_RATE_LIMIT.search(reason) or _NO_NETWORK.search(reason)):
                raise TickerNotFoundError(f"Yahoo Finance has no prices for {ticker}: {reason}")
            raise _failure(ticker, reason or "Yahoo returned no prices")
        now = dt.datetime.now(dt.UTC)
        if self.cache is not None:
            meta = {
                "source": self.name,
                "downloaded_at": now.isoformat(timespec="seconds"),
                "start": None if first is None else first.isoformat(),
                "end": None if last is None else last.isoformat(),
                "yfinance_version": _yfinance_version(),
                "notes": list(notes),
            }
            try:
                self.cache.put(ticker, frame, meta)
            except (OSError, PriceDataError) as exc:
                notes = (*notes, f"could not write the price cache: {exc}")
        return frame, notes, now


def _normalize(raw: Any, ticker: str) -> tuple[pd.DataFrame | None, tuple[str, ...]]:
    """The normalized frame of one ticker from ``yfinance.download`` output (None when empty).

    Rows without a date are dropped and zero, negative or infinite values become NaN (noted);
    an index that is not dates raises :class:`DownloadError`.
    """
    if not isinstance(raw, pd.DataFrame) or raw.empty:
        return None, ()
    columns = raw.columns
    if isinstance(columns, pd.MultiIndex):
        level = "Ticker" if "Ticker" in columns.names else 1
        symbols = list(dict.fromkeys(columns.get_level_values(level)))
        symbol = next(
            (s for s in symbols if str(s).upper() == ticker.upper()), symbols[0] if len(symbols) == 1 else None
        )
        if symbol is None:
            return None, ()
        raw = raw.xs(symbol, axis=1, level=level)
    picked = {_FIELDS[c]: raw[c] for c in raw.columns if c in _FIELDS}
    notes: tuple[str, ...] = ()
    if "adj_close" not in picked:
        if "close" not in picked:
            return None, ()
        picked["adj_close"] = picked["close"]
        notes = (NO_ADJUSTED_NOTE,)
    # a column Yahoo did not send is all NaN (what to_numeric(None, errors="coerce") gave)
    frame = pd.DataFrame(
        {
            c: pd.to_numeric(picked[c], errors="coerce") if c in picked else np.nan
            for c in ("adj_close", "close", "volume")
        }
    )
    frame = frame.astype("float64")
    try:
        frame.index = normalize_index(raw.index)
    except (ValueError, TypeError) as exc:
        raise _failure(ticker, f"Yahoo sent rows without readable dates ({exc})") from None
    if frame.index.hasnans:
        notes = (*notes, f"Yahoo sent {int(np.sum(frame.index.isna()))} rows without a date; dropped")
        frame = frame.loc[frame.index.notna()]
    # a glitch, not a price: the cache would refuse the file and the returns would be infinite
    invalid = frame.notna() & ~(np.isfinite(frame) & frame.gt(0))
    invalid["volume"] = frame["volume"].notna() & ~(np.isfinite(frame["volume"]) & frame["volume"].ge(0))
    if invalid.to_numpy().any():
        n = int(invalid.any(axis=1).sum())
        notes = (
            *notes,
            f"Yahoo sent {n} row{'s' if n != 1 else ''} with zero, negative or infinite values; "
            "those values are kept as missing",
        )
        frame = frame.mask(invalid)
    duplicated = frame.index.duplicated(keep="last")
    if duplicated.any():
        notes = (*notes, f"Yahoo sent {int(duplicated.sum())} duplicate dates; the last row of each was kept")
        frame = frame.loc[~duplicated]
    return frame.sort_index(), notes


#: The short cause of a download that failed because Yahoo could not be reached.
NETWORK_UNREACHABLE = "network unreachable"


def _failure(ticker: str, reason: str) -> DownloadError:
    """A :class:`DownloadError` whose ``reason`` attribute is a short cause for summaries
    (``"network unreachable"``, the rate limit, else the first 160 characters) and whose ``detail``
    is the full text (shown with ``--verbose`` and in JSON ``detail``)."""
    full = " ".join(reason.split())
    reason = full
    short = full[:160]
    if _RATE_LIMIT.search(reason):
        reason = short = RATE_LIMITED
    elif _NO_NETWORK.search(reason):
        reason = "no network? " + reason.split(" See https://")[0][:160]
        short = NETWORK_UNREACHABLE
    err = DownloadError(f"download of {ticker} failed: {reason}; nothing was written to the cache")
    # extra fields read back with getattr (errors.py does not declare them)
    err.reason = short  # type: ignore[attr-defined]
    err.detail = f"download of {ticker} failed: {full}"  # type: ignore[attr-defined]
    return err


def _reason(messages: list[tuple[int, str]]) -> str:
    """The most telling message ``yfinance`` logged, prefixes like ``['UAL']:`` removed.

    A rate limit wins, then a network failure (after one, yfinance reports further tickers
    as "possibly delisted"), then the last error, then the last warning.
    """
    useful = [(level, " ".join(m.split())) for level, m in messages]
    useful = [(level, m) for level, m in useful if m and not re.fullmatch(r"\d+ Failed downloads?:", m)]
    errors = [m for level, m in useful if level >= logging.ERROR] or [m for _, m in useful]
    for kind in (_RATE_LIMIT, _NO_NETWORK):
        found = [m for m in errors if kind.search(m)] or [m for _, m in useful if kind.search(m)]
        if found:
            errors = found
            break
    return re.sub(r"^\[[^\]]*\]:\s*", "", errors[-1]) if errors else ""


@contextmanager
def _capture(logger_name: str) -> Iterator[list[tuple[int, str]]]:
    """Collect the level and text of WARNING and ERROR records of a logger while the block runs,
    and silence the Python warnings the library's own code raises (e.g. pandas deprecations),
    which are for its maintainers, not our users."""
    messages: list[tuple[int, str]] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append((record.levelno, record.getMessage()))

    handler = _Collect(logging.WARNING)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=rf"{re.escape(logger_name)}(\.|$)")
            yield messages
    finally:
        logger.removeHandler(handler)


def _yfinance_version() -> str | None:
    try:
        return metadata.version("yfinance")
    except metadata.PackageNotFoundError:
        return None
