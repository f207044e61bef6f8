"""Pick the source of each ticker's prices: data folder, cache, bundled sample, then Yahoo."""

from __future__ import annotations

import datetime as dt
import os
from os import PathLike
from pathlib import Path

from ..errors import DownloadError, PriceDataError, TickerNotFoundError
from .base import DateLike, PriceHistory, PriceSource, file_stem, to_timestamp
from .cache import PriceCache
from .csvdir import CSVDirSource
from .sample import SampleSource
from .yahoo import YahooSource

#: Environment variable naming the default data folder.
DATA_DIR_ENV = "INCIDENT_IMPACT_DATA_DIR"
#: Set to ``1`` to never download.
OFFLINE_ENV = "INCIDENT_IMPACT_OFFLINE"

# the default cache (B008: built once, as a default argument was); its folder is resolved at use, not here
_DEFAULT_CACHE = PriceCache()

#: Downloads that failed in this process: ticker -> (short cause, full text); see :func:`download_errors`.
_DOWNLOAD_ERRORS: dict[str, tuple[str, str]] = {}


def download_errors() -> dict[str, tuple[str, str]]:
    """The downloads that failed so far (prices or share counts), by ticker: ``(short cause, full text)``,
    e.g. ``("network unreachable", "download of KDP failed: DNSError(...curl: (6) ...)")``. The command
    line prints one line per ticker, the full text with ``--verbose``."""
    return dict(_DOWNLOAD_ERRORS)


def forget_download_errors() -> None:
    _DOWNLOAD_ERRORS.clear()


def _note_download_error(ticker: str, exc: Exception) -> None:
    short = getattr(exc, "reason", None) or str(exc)
    _DOWNLOAD_ERRORS.setdefault(
        ticker, (short if len(short) <= 60 else "download failed", getattr(exc, "detail", None) or str(exc))
    )


class PriceResolver:
    """A :class:`~incident_impact.prices.base.PriceSource` that tries several sources in turn.

    For each ticker:

    1. the data folder: when it has the ticker's file, that file is authoritative and is
       returned even if it does not cover the dates (the analysis reports short histories);
       a missing folder or a malformed file raises :class:`PriceDataError`;
    2. the download cache, when it has every requested date;
    3. the bundled sample, when it covers the dates;
    4. a download (unless ``download`` is False or ``INCIDENT_IMPACT_OFFLINE=1``);
    5. when the download fails or is off, the longest partial history from (2) or (3), with a note.

    :attr:`PriceHistory.source` tells which one served the ticker. Callers pass session dates.

    Parameters
    ----------
    data_dir : folder of ``TICKER.csv`` files (default ``$INCIDENT_IMPACT_DATA_DIR``).
    cache : the download cache (None: none; the default folder is resolved at use).
    use_sample : whether to fall back on the bundled sample.
    download : True for Yahoo Finance (into ``cache``), False for never, or any
        :class:`PriceSource` to download from instead.
    """

    name = "price resolver"

    def __init__(
        self,
        data_dir: str | PathLike[str] | None = None,
        *,
        cache: PriceCache | None = _DEFAULT_CACHE,
        use_sample: bool = True,
        download: bool | PriceSource = True,
    ) -> None:
        data_dir = data_dir or os.environ.get(DATA_DIR_ENV) or None
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.cache = cache
        self.sample = SampleSource() if use_sample else None
        if isinstance(download, bool):
            self.downloader: PriceSource | None = YahooSource(cache=cache) if download else None
        else:
            self.downloader = download

    def load(self, ticker: str, start: DateLike | None = None, end: DateLike | None = None) -> PriceHistory:
        """Prices of ``ticker`` within ``[start, end]`` from the first source that has them.

        Raises
        ------
        TickerNotFoundError
            When no source has anything, with one line saying what was tried and why it failed.
        PriceDataError
            When the data folder is missing or its file for the ticker is malformed.
        """
        stem = file_stem(ticker)
        tried: list[str] = []
        partial: list[PriceHistory] = []
        damage = None
        if self.data_dir is not None:
            try:
                return CSVDirSource(self.data_dir, name=f"data dir {self.data_dir}").load(ticker, start, end)
            except TickerNotFoundError:
                tried.append(f"data dir {self.data_dir} has no {stem}.csv")
        if self.cache is not None:
            hit = self.cache.lookup(ticker, start, end)
            damage = self.cache.damage(ticker) if hit is None else None
            if damage:
                tried.append(
                    f"the cache entry of {ticker} is damaged ({damage}); it will be downloaded again when online"
                )
            elif hit is None:
                tried.append(f"cache has no {ticker}")
            elif hit.complete:
                return hit.history
            else:
                partial.append(hit.history)
                tried.append(f"cache has {ticker} only for {_span(hit.span)}")
        if self.sample is not None:
            try:
                span = self.sample.span(ticker)  # the file's span, without building a checked history
            except TickerNotFoundError:
                tried.append(f"bundled sample has no {ticker}")
            else:
                history = self.sample.load(ticker, start, end)
                if (
                    span is not None
                    and (start is None or span[0] <= to_timestamp(start))
                    and (end is None or span[1] >= to_timestamp(end))
                ):
                    return history
                partial.append(history)
                tried.append(f"bundled sample has {ticker} only for {_span(span)}")
        full = None  # the full text of a download error (for --verbose and JSON ``detail``)
        cause = "not in the local data"
        if self.downloader is None:
            tried.append("downloads are off")
            cause = "not in the local data; downloads off"
        elif os.environ.get(OFFLINE_ENV) == "1":
            tried.append(f"no download ({OFFLINE_ENV}=1)")
            cause = "not in the local data; downloads off"
        else:
            try:
                history = self.downloader.load(ticker, start, end)
            except DownloadError as exc:
                short = getattr(exc, "reason", None) or str(exc)
                _note_download_error(ticker, exc)
                tried.append(f"{self.downloader.name} download failed ({short})")
                full = (
                    len(tried) - 1,
                    f"{self.downloader.name} download failed ({getattr(exc, 'detail', None) or exc})",
                )
                cause = short if len(short) <= 60 else f"{self.downloader.name} download failed"
            except PriceDataError as exc:  # e.g. Yahoo does not know the ticker
                tried.append(str(exc))
                cause = f"unknown to {self.downloader.name}"
            else:
                if damage:
                    history = history.with_notes(
                        f"the cache entry of {ticker} was damaged ({damage}) and was downloaded again"
                    )
                return history
        details = list(tried)
        if full is not None:
            details[full[0]] = full[1]
        usable = [h for h in partial if h.data["adj_close"].notna().any()]
        if usable:
            best = max(usable, key=lambda h: int(h.data["adj_close"].notna().sum()))
            wanted = f"{_day(start)}..{_day(end)}"
            note = f"only {_span(best.valid_span())} of the requested {wanted}: {'; '.join(tried)}"
            return best.with_notes(note)
        error = TickerNotFoundError(
            f"no prices for {ticker}: {'; '.join(tried)}. Use --data-dir FOLDER with {stem}.csv or check the ticker."
        )
        # extra fields read back with getattr (errors.py does not declare them)
        error.detail = (  # type: ignore[attr-defined]
            f"no prices for {ticker}: {'; '.join(details)}. Use --data-dir FOLDER with {stem}.csv or check the ticker."
        )
        error.summary = f"{ticker}: no prices ({cause})"  # type: ignore[attr-defined]
        raise error

    def shares_outstanding(self, ticker: str, on: DateLike) -> tuple[float, dt.date]:
        """Shares outstanding of ``ticker`` on or before ``on`` from the downloader (Yahoo Finance).

        Raises
        ------
        DownloadError
            When downloads are off, the downloader cannot tell, or the download fails.
        """
        if self.downloader is None or os.environ.get(OFFLINE_ENV) == "1":
            raise DownloadError(f"shares outstanding of {ticker}: downloads are off")
        lookup = getattr(self.downloader, "shares_outstanding", None)
        if lookup is None:
            raise DownloadError(f"shares outstanding of {ticker}: {self.downloader.name} does not report them")
        try:
            return lookup(ticker, on)
        except DownloadError as exc:
            _note_download_error(ticker, exc)
            raise


def _day(value: DateLike | None) -> str:
    return "(open)" if value is None else f"{to_timestamp(value):%Y-%m-%d}"


def _span(span: tuple | None) -> str:
    return "no valid date" if span is None else f"{_day(span[0])}..{_day(span[1])}"
