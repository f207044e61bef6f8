"""Prices from a folder of CSV files, one ``TICKER.csv`` per ticker."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from ..errors import PriceDataError, TickerNotFoundError
from .base import DateLike, PriceHistory, file_stem, make_history, parse_price_file


class CSVDirSource:
    """A folder of daily price files (the shared format or Yahoo's CSV export).

    The file of ``ticker`` is ``file_stem(ticker) + ".csv"``, matched case-insensitively;
    an index such as ``^GSPC`` may be stored as ``GSPC.csv`` or ``^GSPC.csv``.

    Parameters
    ----------
    folder : the folder holding the files.
    name : label of the source in messages (default ``"CSV folder <folder>"``).
    """

    def __init__(self, folder: str | PathLike[str], *, name: str | None = None) -> None:
        self.folder = Path(folder)
        self.name = name or f"CSV folder {self.folder}"

    def find(self, ticker: str) -> Path | None:
        """The file holding ``ticker``, or None.

        Raises
        ------
        PriceDataError
            When the folder does not exist, or several files match the ticker.
        """
        wanted = {f"{file_stem(ticker)}.csv".lower(), f"{ticker}.csv".lower()}
        if not self.folder.is_dir():
            raise PriceDataError(f"price folder {self.folder} does not exist or is not a folder")
        try:
            matches = sorted(p for p in self.folder.iterdir() if p.name.lower() in wanted and p.is_file())
        except OSError as exc:
            raise PriceDataError(f"price folder {self.folder} cannot be read: {exc.strerror or exc}") from exc
        if len(matches) > 1:
            names = " and ".join(p.name for p in matches)
            raise PriceDataError(f"{self.folder}: both {names} hold {ticker}; keep one")
        return matches[0] if matches else None

    def label(self, path: Path) -> str:
        """The :attr:`PriceHistory.source` of a history read from ``path``."""
        return f"{self.name} ({path.name})"

    def load(self, ticker: str, start: DateLike | None = None, end: DateLike | None = None) -> PriceHistory:
        """Rows of ``ticker`` within ``[start, end]`` (inclusive; all rows when None).

        Raises
        ------
        TickerNotFoundError
            When the folder has no file for the ticker.
        PriceDataError
            When the folder is missing or the file is malformed.
        """
        path = self.find(ticker)
        if path is None:
            raise TickerNotFoundError(f"no {file_stem(ticker)}.csv for {ticker} in {self.name}")
        frame, notes, digest = parse_price_file(path, ticker, self.label(path))
        return make_history(ticker, frame, self.label(path), notes, start, end, path=path, sha256=digest)

    def span(self, ticker: str) -> tuple | None:
        """First and last date with a valid ``adj_close`` in ``ticker``'s file (None: no valid price).

        Raises :class:`TickerNotFoundError` when the folder has no file for the ticker."""
        path = self.find(ticker)
        if path is None:
            raise TickerNotFoundError(f"no {file_stem(ticker)}.csv for {ticker} in {self.name}")
        frame, _, _ = parse_price_file(path, ticker, self.label(path))
        valid = frame.index[frame["adj_close"].notna()]
        return (valid[0], valid[-1]) if len(valid) else None
