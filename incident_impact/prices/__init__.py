"""Daily price sources behind one small interface (see :mod:`incident_impact.prices.base`).

:class:`PriceResolver` is the usual entry point: a data folder, then the download cache,
then the bundled sample, then Yahoo Finance. ``yfinance`` is imported only when a download
actually happens.
"""

from .base import PriceHistory, PriceSource, file_stem, read_price_csv
from .cache import CACHE_DIR_ENV, CacheLookup, PriceCache
from .csvdir import CSVDirSource
from .resolve import DATA_DIR_ENV, OFFLINE_ENV, PriceResolver
from .sample import SampleSource
from .yahoo import YahooSource

__all__ = [
    "CACHE_DIR_ENV",
    "DATA_DIR_ENV",
    "OFFLINE_ENV",
    "CSVDirSource",
    "CacheLookup",
    "PriceCache",
    "PriceHistory",
    "PriceResolver",
    "PriceSource",
    "SampleSource",
    "YahooSource",
    "file_stem",
    "read_price_csv",
]
