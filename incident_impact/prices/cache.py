"""A local, crash-safe cache of downloaded prices: ``<stem>.csv`` plus ``<stem>.json`` metadata.

Writes go to a temporary file in the cache folder, are flushed and fsynced, then moved into
place with :func:`os.replace`; the metadata (with the data file's sha256) is written after
the data. A reader trusts the data only when its sha256 matches the metadata, so a torn or
foreign file is a cache miss, never an error, and readers need no lock (a reader that
catches a writer between the two replacements sees a miss). An ``fcntl.flock`` on
``<stem>.lock`` keeps two writers from interleaving the read-merge-write of one ticker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import pandas as pd

from ..errors import PriceDataError, TickerNotFoundError
from .base import DateLike, PriceHistory, conform, file_stem, make_history, parse_price_file, record_read, to_timestamp

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; atomic replacement still protects readers
    fcntl = None  # type: ignore[assignment]  # the module or None: the usual optional-import idiom

#: Environment variable naming the cache folder.
CACHE_DIR_ENV = "INCIDENT_IMPACT_CACHE_DIR"
#: Relative change of adj_close on overlapping dates below which two downloads count as equal.
_SAME = 1e-6


class CacheLookup(NamedTuple):
    """What :meth:`PriceCache.lookup` found."""

    history: PriceHistory  #: cached rows within the requested dates
    complete: bool  #: whether they are all the requested dates Yahoo has
    span: tuple[pd.Timestamp, pd.Timestamp] | None  #: first and last valid cached date


class PriceCache:
    """Downloaded prices kept on disk; also a :class:`~incident_impact.prices.base.PriceSource`.

    Parameters
    ----------
    folder : the cache folder. Default: ``$INCIDENT_IMPACT_CACHE_DIR`` when set, else
        ``platformdirs.user_cache_dir("incident-impact")/prices``; the default is resolved
        at each use, so the environment variable may be set after construction.
    """

    name = "download cache"

    def __init__(self, folder: str | PathLike[str] | None = None) -> None:
        self._folder = None if folder is None else Path(folder)

    @property
    def folder(self) -> Path:
        """The cache folder (not created until the first :meth:`put`)."""
        if self._folder is not None:
            return self._folder
        env = os.environ.get(CACHE_DIR_ENV)
        if env:
            return Path(env)
        import platformdirs

        return Path(platformdirs.user_cache_dir("incident-impact")) / "prices"

    def _path(self, ticker: str, suffix: str) -> Path:
        return self.folder / f"{file_stem(ticker.upper())}{suffix}"

    def _temp_files(self, stem: str) -> list[Path]:
        """Temporary files of ``stem`` (only a killed writer leaves them while nobody holds the lock)."""
        return [*self.folder.glob(f".{stem}.csv.*.tmp"), *self.folder.glob(f".{stem}.json.*.tmp")]

    def get(self, ticker: str) -> PriceHistory | None:
        """The whole cached history of ``ticker``, or None when absent, unreadable or corrupt."""
        entry = self._read(ticker)
        return None if entry is None else self._history(ticker, *entry)

    def lookup(self, ticker: str, start: DateLike | None, end: DateLike | None) -> CacheLookup | None:
        """The cached rows within ``[start, end]``, whether they are complete, and the cached span.

        Complete means the last price is on or after ``end`` and the first is on or before
        ``start``, or the download already asked Yahoo for ``start`` (the ticker listed later,
        so Yahoo has nothing earlier). None when nothing usable is cached.
        """
        entry = self._read(ticker)
        if entry is None:
            return None
        frame, meta = entry
        full = self._history(ticker, frame, meta)
        # meta "start" None: the download asked for all history
        asked_early = (
            start is not None
            and "start" in meta
            and (meta["start"] is None or to_timestamp(meta["start"]) <= to_timestamp(start))
        )
        complete = full.covers(start, end) or (asked_early and full.covers(None, end))
        return CacheLookup(self._history(ticker, frame, meta, start, end), complete, full.valid_span())

    def load(self, ticker: str, start: DateLike | None = None, end: DateLike | None = None) -> PriceHistory:
        """Cached rows of ``ticker`` within ``[start, end]``.

        Raises
        ------
        TickerNotFoundError
            When the cache holds nothing usable for the ticker.
        """
        entry = self._read(ticker)
        if entry is None:
            raise TickerNotFoundError(f"the download cache {self.folder} has no {ticker}")
        return self._history(ticker, *entry, start, end)

    def put(self, ticker: str, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
        """Store ``frame`` for ``ticker``, merged with the rows already cached.

        The result is the union of dates; on overlapping dates the new rows win (Yahoo
        re-adjusts history for new dividends and splits) except for their empty cells, which
        keep the earlier value, and the older rows are rescaled by the median adj_close ratio
        on the overlap so returns across the join stay right.
        Rows without any overlapping date are replaced rather than joined, since a gap of
        unknown length between them would pass for one day. Merges are noted in the metadata.

        Parameters
        ----------
        ticker : the ticker, as requested.
        frame : normalized price frame.
        meta : ``source``, ``downloaded_at`` (UTC ISO 8601), requested ``start``/``end``,
            ``yfinance_version`` and optional ``notes``; ``ticker``, ``rows`` and ``sha256``
            are filled in.
        """
        frame = conform(frame)
        stem = file_stem(ticker.upper())
        self.folder.mkdir(parents=True, exist_ok=True)
        with _lock(self._path(ticker, ".lock")):
            for stale in self._temp_files(stem):
                stale.unlink(missing_ok=True)
            notes = list(meta.get("notes", ()))
            old = self._read(ticker)
            if old is not None:
                frame, merge_notes = _merge(old[0], frame)
                notes += merge_notes
            data = frame.to_csv(index_label="date", date_format="%Y-%m-%d", lineterminator="\n").encode()
            record = {
                "downloaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                **meta,
                "ticker": ticker,
                "rows": len(frame),
                "sha256": hashlib.sha256(data).hexdigest(),
                "notes": notes,
            }
            _atomic_write(self._path(ticker, ".csv"), data)
            _atomic_write(self._path(ticker, ".json"), json.dumps(record, indent=2).encode())
            # what a rerun will parse: the manifest of this run names the cache file and its bytes
            record_read(
                self._path(ticker, ".csv"),
                record["sha256"],
                "prices (cache)",
                f"download cache ({self._path(ticker, '.csv').name})",
            )

    def clear(self, ticker: str | None = None) -> None:
        """Forget ``ticker`` (or every ticker). Lock files stay: removing one could let two writers in."""
        if not self.folder.is_dir():
            return
        if ticker is None:
            stems = {p.stem for pattern in ("*.lock", "*.json") for p in self.folder.glob(pattern)}
        else:
            stems = {file_stem(ticker.upper())}
        for stem in stems:
            with _lock(self.folder / f"{stem}.lock"):
                for path in (self.folder / f"{stem}.json", self.folder / f"{stem}.csv", *self._temp_files(stem)):
                    path.unlink(missing_ok=True)

    def damage(self, ticker: str) -> str | None:
        """Why the cache entry of ``ticker`` cannot be used (``"checksum mismatch"``, ``"metadata:
        unreadable start nan"``, ...), or None when it is sound or there is no entry at all. A damaged
        entry is a miss: the next download replaces it."""
        return self._inspect(ticker)[1]

    def _read(self, ticker: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
        """Frame and metadata when both are present and consistent, else None."""
        return self._inspect(ticker)[0]

    def _inspect(self, ticker: str) -> tuple[tuple[pd.DataFrame, dict[str, Any]] | None, str | None]:
        """``(entry, None)`` for a sound entry, ``(None, None)`` for none, ``(None, reason)`` for a damaged one."""
        csv_path, json_path = self._path(ticker, ".csv"), self._path(ticker, ".json")
        if not json_path.exists() and not csv_path.exists():
            return None, None
        try:
            meta = json.loads(json_path.read_bytes())
        except FileNotFoundError:
            return None, "metadata file missing"
        except (OSError, ValueError) as exc:
            return None, f"metadata unreadable ({type(exc).__name__})"
        try:
            data = csv_path.read_bytes()
        except OSError as exc:
            return None, f"data file unreadable ({exc.strerror or type(exc).__name__})"
        problem = _meta_problem(meta)
        if problem:
            return None, f"metadata: {problem}"
        if meta["sha256"] != hashlib.sha256(data).hexdigest():
            return None, "checksum mismatch: the data file is torn or was edited"
        if str(meta.get("ticker", "")).upper() != ticker.upper():  # e.g. GSPC vs ^GSPC share a stem: no entry
            return None, None
        try:
            frame, _, _ = parse_price_file(
                csv_path, ticker, f"download cache ({csv_path.name})", raw=data, kind="prices (cache)"
            )
        except PriceDataError as exc:
            return None, f"data file unreadable ({exc})"
        return (frame, {**meta, "_path": str(csv_path)}), None

    @staticmethod
    def _history(
        ticker: str,
        frame: pd.DataFrame,
        meta: dict[str, Any],
        start: DateLike | None = None,
        end: DateLike | None = None,
    ) -> PriceHistory:
        when = str(meta.get("downloaded_at", "?"))
        with suppress(ValueError):
            when = dt.datetime.fromisoformat(when).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
        source = f"{meta.get('source', 'download')} (cached {when})"
        return make_history(
            ticker,
            frame,
            source,
            tuple(meta.get("notes", ())),
            start,
            end,
            path=meta.get("_path"),
            sha256=meta.get("sha256"),
        )


def _meta_problem(meta: Any) -> str | None:
    """What is wrong with ``meta`` (not the shape :meth:`PriceCache.put` writes), or None."""
    if not isinstance(meta, dict):
        return "not an object"
    if not isinstance(meta.get("sha256"), str):
        return "no sha256"
    if not isinstance(meta.get("notes", []), list):
        return "notes is not a list"
    for key in ("start", "end"):  # None (all history) or a date string; NaN, "", numbers are damage
        value = meta.get(key)
        if value is None:
            continue
        try:
            if not isinstance(value, str) or pd.isna(to_timestamp(value)):
                raise ValueError
        except (ValueError, TypeError, OverflowError, AttributeError):  # AttributeError: NaT has no normalize
            return f"unreadable {key} {value!r}"
    return None


def _merge(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Union of two downloads of one ticker, the new one winning (see :meth:`PriceCache.put`)."""
    overlap = old.index.intersection(new.index)
    if len(overlap) == 0:
        return new, [
            f"earlier cached rows {old.index[0]:%Y-%m-%d}..{old.index[-1]:%Y-%m-%d} were replaced: "
            "they share no date with the new download"
        ]
    ratio = (new.loc[overlap, "adj_close"] / old.loc[overlap, "adj_close"]).dropna()
    if ratio.empty:
        if old.index.isin(new.index).all():
            return new, []
        return new, [
            "overlap with the earlier cached rows has no valid adj_close: returns across the join are uncertain"
        ]
    factor = float(ratio.median())
    notes = []
    if abs(factor - 1) > _SAME:
        old = old.assign(adj_close=old["adj_close"] * factor)
        notes.append(
            f"earlier cached adj_close rescaled by {factor:.6g} to the new download's adjustment "
            "(Yahoo re-adjusts history for dividends and splits)"
        )
    differing = int((np.abs(ratio / factor - 1) > _SAME).sum())
    if differing:
        notes.append(
            f"{differing} overlapping dates differ from the earlier download beyond a common factor; "
            "the new values were kept"
        )
    # the new rows win; a value the new download lacks (an empty cell) is kept from the earlier one
    filled = int((new.loc[overlap, "adj_close"].isna() & old.loc[overlap, "adj_close"].notna()).sum())
    if filled:
        notes.append(f"{filled} dates without adj_close in the new download kept their earlier cached value")
    return new.combine_first(old)[list(new.columns)], notes


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed); closing the descriptor releases it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_all(fh: BinaryIO, data: bytes) -> None:
    """Write ``data`` to ``fh`` (a seam: the crash test swaps in a slow writer)."""
    fh.write(data)


def _atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never a mix."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_all(fh, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    with suppress(OSError):  # make the rename durable; not possible on every platform
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
