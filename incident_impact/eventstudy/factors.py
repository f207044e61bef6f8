"""Daily factor returns (Kenneth French's data library) for the ``ff3``, ``carhart`` and ``ff5`` models.

French's files give returns in **percent per day**; :func:`read_french_factors` divides by 100 so
that factors, the risk-free rate and stock returns are all decimals. Column names are
normalized to ``mkt_rf, smb, hml, rmw, cma, mom, rf`` (``Mkt-RF`` -> ``mkt_rf``, ``Mom``/``UMD``
-> ``mom``); the index is a ``DatetimeIndex`` named ``date``.
"""

from __future__ import annotations

import re
from os import PathLike

import pandas as pd

from ..errors import IncidentImpactError

_ALIASES = {
    "mktrf": "mkt_rf",
    "mkt": "mkt_rf",
    "umd": "mom",
    "mom": "mom",
    "smb": "smb",
    "hml": "hml",
    "rmw": "rmw",
    "cma": "cma",
    "rf": "rf",
}


def _column(name: str) -> str:
    key = re.sub(r"[^a-z]", "", str(name).lower())
    return _ALIASES.get(key, str(name).strip().lower())


def normalize_factors(frame: pd.DataFrame, percent: bool = True) -> pd.DataFrame:
    """Rename columns to ``mkt_rf, smb, hml, rmw, cma, mom, rf``, index by date, and divide by
    100 when ``percent`` (French's convention)."""
    frame = frame.rename(columns=_column)
    if "date" in frame.columns:
        raw = frame.pop("date").astype(str).str.strip()
        fmt = "%Y%m%d" if raw.str.fullmatch(r"\d{8}").all() else "ISO8601"  # never a guess at 04/01/2017
        dates = pd.to_datetime(raw, format=fmt, errors="coerce")
        bad = dates.isna() & raw.ne("") & raw.str.lower().ne("nan")
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise IncidentImpactError(
                f"the factor table has an unreadable date {raw.iloc[row]!r} "
                f"in data row {row + 1} "
                "(use YYYYMMDD or YYYY-MM-DD)"
            )
        frame.index = pd.DatetimeIndex(dates)
        if frame.index.hasnans:
            raise IncidentImpactError("the factor table has rows without a date")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise IncidentImpactError("the factor table needs a date column or a date index")
    frame.index.name = "date"
    frame = frame.apply(pd.to_numeric, errors="coerce").sort_index()
    if frame.index.duplicated().any():
        first = frame.index[frame.index.duplicated()][0]
        raise IncidentImpactError(f"the factor table has duplicate dates, first {first.date()}")
    return frame / 100 if percent else frame


def read_french_factors(path: str | PathLike, percent: bool = True) -> pd.DataFrame:
    """Read a daily factor CSV (``date`` as ``YYYY-MM-DD`` or French's ``YYYYMMDD``; factor columns
    in percent unless ``percent=False``) into decimals indexed by date."""
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise IncidentImpactError(f"cannot read the factor file {path}: {' '.join(str(exc).split())}") from None
    first = frame.columns[0]
    if first.lower().strip() != "date":
        frame = frame.rename(columns={first: "date"})
    return normalize_factors(frame, percent)
