"""Checking what the caller hands to an event study: return series, return panels, events and benchmarks.

Every engine (the single-event path, the loop, the batch engine, placebo dates, the Parquet path)
reads its inputs through these functions, so a malformed table gets the same one-line
:class:`~incident_impact.errors.IncidentImpactError` whichever path meets it. Windows are read by
:func:`.windows.normalize_windows`, options by :class:`.spec.EventStudySpec`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError, InsufficientDataError
from .models import NormalReturnModel
from .windows import datetime_indexed, event_sessions

#: What ``run_study`` accepts as benchmark returns.
BenchmarkInput = pd.Series | pd.DataFrame | Mapping[str, pd.Series] | None


def check_series(series: pd.Series, what: str) -> pd.Series:
    """``series`` sorted by a tz-naive date index, as floats; duplicate dates, a non-date index or
    text raise an :class:`~incident_impact.errors.IncidentImpactError` naming ``what``."""
    if not isinstance(series, pd.Series):
        raise IncidentImpactError(f"{what} must be a pandas Series indexed by date")
    series = datetime_indexed(series, what)
    dup = series.index[series.index.duplicated()]
    if len(dup):
        raise IncidentImpactError(f"{what} has duplicate dates, first {dup[0].date()}; remove them before the study")
    try:
        return series.sort_index().astype(float)
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(f"{what} must be numbers: {exc}") from None


def joined_returns(
    returns: pd.Series, benchmark: pd.Series | None, factors: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Inner join of stock and benchmark returns (and factor columns) on date, rows with a missing value dropped.

    Columns ``return`` and ``benchmark`` (the latter absent when ``benchmark`` is None), then
    the columns of ``factors`` when given.
    """
    parts = {"return": check_series(returns, "returns")}
    if benchmark is not None:
        parts["benchmark"] = check_series(benchmark, "benchmark returns")
    if factors is not None:
        for col in factors.columns:
            parts[str(col)] = check_series(factors[col], f"factor {col}")
    data = pd.concat(parts, axis=1, join="inner").replace([np.inf, -np.inf], np.nan).dropna()
    data.index.name = "date"
    return data


def model_dates(
    returns: pd.Series, benchmark: pd.Series | None, model: NormalReturnModel, factors: pd.DataFrame | None
) -> pd.DatetimeIndex:
    """The sessions of the joined series ``model`` uses (stock, benchmark and/or factors)."""
    cols = list(model.factor_columns)
    if cols and factors is None:
        raise IncidentImpactError(f"the {model.name} model needs a factor table")
    if cols and factors is not None:
        missing = [c for c in cols if c not in factors.columns]
        if missing:
            raise IncidentImpactError(
                f"the factor table lacks the column(s) {', '.join(missing)} needed by {model.name}"
            )
    return pd.DatetimeIndex(
        joined_returns(
            returns.dropna(),
            benchmark if model.needs_benchmark else None,
            factors[cols] if cols and factors is not None else None,
        ).index
    )


def wide_returns(returns: pd.DataFrame) -> pd.DataFrame:
    """Returns as a (date x ticker) frame: a long table ``date, ticker, return`` is pivoted,
    a wide one is checked (dates on the index, one column per ticker)."""
    if not isinstance(returns, pd.DataFrame):
        raise IncidentImpactError("returns must be a DataFrame: wide (date x ticker) or long (date, ticker, return)")
    if all(c in returns.columns for c in ("date", "ticker", "return")):  # not set(columns): slow for 10^4 tickers
        long = returns[["date", "ticker", "return"]].copy()
        try:
            long["date"] = pd.to_datetime(long["date"])
        except (ValueError, TypeError) as exc:
            raise IncidentImpactError(f"cannot read the returns' dates: {exc}") from None
        long["ticker"] = long["ticker"].astype(str)
        dup = long.duplicated(["date", "ticker"])
        if dup.any():
            row = long[dup].iloc[0]
            raise IncidentImpactError(f"returns have two rows for {row['ticker']} on {row['date'].date()}")
        returns = long.pivot(index="date", columns="ticker", values="return")
    if isinstance(returns.columns, pd.MultiIndex):
        raise IncidentImpactError(
            "the returns have several column levels; give one column per ticker "
            "(e.g. returns.droplevel(0, axis=1)) or a long table date, ticker, return"
        )
    if returns.empty:
        raise InsufficientDataError("the returns table is empty: give simple daily returns, one column per ticker")
    wide = datetime_indexed(returns, "wide returns")
    wide.columns = wide.columns.astype(str)
    if not wide.columns.is_unique:
        twice = wide.columns[wide.columns.duplicated()][0]
        raise IncidentImpactError(f"the returns have two columns {twice!r}; give one column per ticker")
    try:
        return wide.sort_index().astype(float)
    except (ValueError, TypeError) as exc:
        raise IncidentImpactError(
            f"the returns must be numbers (decimal returns; NaN for a missing day): {exc}"
        ) from None


def events_table(events: pd.DataFrame) -> pd.DataFrame:
    """The events table checked: columns ``event_id, ticker, event_date`` (ids and tickers as text,
    unique ids, dates read by :func:`.windows.event_session`) and any other columns, index 0..N-1."""
    if not isinstance(events, pd.DataFrame):
        raise IncidentImpactError("events must be a DataFrame with columns event_id, ticker, event_date")
    missing = [c for c in ("event_id", "ticker", "event_date") if c not in events.columns]
    if missing:
        raise IncidentImpactError(f"the events table lacks the column(s) {', '.join(missing)}")
    table = events.reset_index(drop=True).copy()
    table["event_id"] = table["event_id"].astype(str)
    table["ticker"] = table["ticker"].astype(str)
    dup = table["event_id"][table["event_id"].duplicated()].unique()
    if len(dup):
        raise IncidentImpactError(f"duplicate event ids: {', '.join(map(str, dup[:5]))}; every event needs its own id")
    if table.empty:
        raise IncidentImpactError("the events table is empty")
    table["event_date"] = event_sessions(table["event_date"], table["event_id"])
    return table


def benchmark_map(benchmark: BenchmarkInput) -> dict[str, pd.Series]:
    """Benchmark returns by name: ``""`` for one unnamed Series, a frame's or a mapping's columns."""
    if benchmark is None:
        return {}
    if isinstance(benchmark, pd.Series):
        return {"": benchmark}
    if isinstance(benchmark, pd.DataFrame):
        frame = datetime_indexed(benchmark, "benchmark returns")
        return {str(c): frame[c].dropna() for c in frame.columns}
    if isinstance(benchmark, Mapping):
        return {str(k): v for k, v in benchmark.items()}
    raise IncidentImpactError("benchmark must be a Series, a DataFrame with one column per benchmark, or None")


def pick_benchmark(benchmarks: Mapping[str, pd.Series], wanted: Any) -> tuple[str | None, pd.Series | None, str | None]:
    """``(name, series, failure reason)`` of the benchmark an event names (``wanted``: the value of its
    ``benchmark`` column, or None); with no name, the only benchmark given, if any."""
    if isinstance(wanted, str) and wanted.strip():
        if wanted in benchmarks:
            return wanted, benchmarks[wanted], None
        if "" in benchmarks and len(benchmarks) == 1:
            return None, None, f"unknown benchmark {wanted!r} (one unnamed benchmark series was given)"
        return None, None, f"unknown benchmark {wanted!r}; known: {', '.join(sorted(benchmarks)) or 'none'}"
    if len(benchmarks) == 1:
        name, series = next(iter(benchmarks.items()))
        return name or None, series, None
    if not benchmarks:
        return None, None, None
    return None, None, "several benchmark columns were given; name one in the events' benchmark column"


def wanted_benchmarks(table: pd.DataFrame) -> list[str | None]:
    """The benchmark each event of ``table`` names (None where it names none)."""
    values = table["benchmark"].tolist() if "benchmark" in table.columns else [None] * len(table)
    return [v if isinstance(v, str) and v.strip() else None for v in values]


def no_returns_reason(ticker: str) -> str:
    return f"unknown ticker {ticker!r}: no returns"


def has_returns(wide: pd.DataFrame, ticker: str) -> bool:
    """Whether ``wide`` has a column ``ticker`` with at least one return."""
    return ticker in wide.columns and bool(wide[ticker].notna().any())


def screen_events(
    table: pd.DataFrame,
    wide: pd.DataFrame,
    benches: Mapping[str, pd.Series],
    model: NormalReturnModel,
    verify: bool = True,
) -> tuple[list[str | None], list[str | None]]:
    """Per event of ``table``: the key of its benchmark in ``benches`` (None: no benchmark) and why it
    cannot be studied at all (None: it can). Benchmark names are resolved once each; a ticker's
    returns are looked at for every event when ``verify``, else only for events with a reason
    (the batch engine checks the others' data itself)."""
    wanted = wanted_benchmarks(table)
    rules = {}  # per benchmark name wanted: (key, reason)
    for want in set(wanted):
        name, bench, reason = pick_benchmark(benches, want)
        if reason is None and model.needs_benchmark and bench is None:
            reason = f"the {model.name} model needs benchmark returns"
        rules[want] = (None if bench is None else (name or ""), reason)
    keys = [rules[want][0] for want in wanted]
    reasons = [rules[want][1] for want in wanted]
    tickers = table["ticker"].tolist()
    columns = set(wide.columns.tolist())  # a list first: iterating a text Index is ten times slower
    for i, ticker in enumerate(tickers):
        if ticker not in columns or ((verify or reasons[i]) and not has_returns(wide, ticker)):
            reasons[i] = no_returns_reason(ticker)
    return keys, reasons


def benchmark_of(benches: Mapping[str, pd.Series], key: str | None) -> pd.Series | None:
    """The benchmark series of a key from :func:`screen_events` (None: none)."""
    return None if key is None else benches[key]


def column(wide: pd.DataFrame, ticker: str, what: str = "returns") -> pd.Series:
    """``wide[ticker]`` or an error naming the missing ticker."""
    if ticker not in wide.columns:
        raise IncidentImpactError(f"the {what} have no column {ticker!r}")
    return wide[ticker]


__all__: Sequence[str] = (
    "BenchmarkInput",
    "benchmark_map",
    "benchmark_of",
    "check_series",
    "column",
    "events_table",
    "has_returns",
    "joined_returns",
    "model_dates",
    "no_returns_reason",
    "pick_benchmark",
    "screen_events",
    "wanted_benchmarks",
    "wide_returns",
)
