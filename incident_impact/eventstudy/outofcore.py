"""Multi-event studies over a returns panel larger than memory: DuckDB reads a Parquet dataset.

DuckDB (``pip install "incident-impact[duckdb]"``) scans the Parquet files out of core (only the
event tickers' rows are read, with filter pushdown, sorting and spilling to disk as needed) and
does the relational part of an event study: it joins each stock with its benchmark (and factor)
dates, numbers every firm's joined sessions (``row_number() OVER (PARTITION BY ticker ORDER BY
date)``), places each event's day 0 with an ``ASOF JOIN`` (first joined session on or after the
event date) and keeps only the sessions ``day 0 + estimation start .. day 0 + last window day``
of each event, plus each firm's first and last session (for the reference path's messages).
Those few rows — about 260 per event, whatever the size of the panel — go to
:func:`~incident_impact.eventstudy.run_study`, so the result is the in-memory study's to the last
digit, same failures included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError
from .inputs import BenchmarkInput, benchmark_map, check_series, events_table, pick_benchmark, wanted_benchmarks
from .models import NormalReturnModel
from .spec import EventStudySpec
from .study import run_study
from .study_results import StudyResult
from .windows import Window

__all__ = ["event_rows", "run_study_parquet"]

_QUERY = """
WITH panel AS MATERIALIZED (
    SELECT CAST(p.date AS TIMESTAMP) AS date, CAST(p.ticker AS VARCHAR) AS ticker, CAST(p."return" AS DOUBLE) AS ret
    FROM read_parquet($path, hive_partitioning = $hive) AS p
    WHERE CAST(p.ticker AS VARCHAR) IN (SELECT ticker FROM ev) AND isfinite(CAST(p."return" AS DOUBLE))
),
keyed AS (SELECT DISTINCT ticker, key FROM ev WHERE key IS NOT NULL),
joined AS (
    SELECT k.key, p.ticker, p.date,
           row_number() OVER (PARTITION BY k.key, p.ticker ORDER BY p.date) - 1 AS k,
           count(*) OVER (PARTITION BY k.key, p.ticker) AS n
    FROM panel AS p JOIN keyed AS k ON p.ticker = k.ticker {aux_join}
),
day0 AS (
    SELECT e.ticker, e.key, j.k AS k0
    FROM ev AS e ASOF JOIN joined AS j ON e.ticker = j.ticker AND e.key = j.key AND e.event_date <= j.date
),
wanted AS (
    SELECT j.ticker, j.date FROM joined AS j JOIN day0 AS d ON j.ticker = d.ticker AND j.key = d.key
    WHERE j.k BETWEEN d.k0 + $lo AND d.k0 + $hi
    UNION SELECT ticker, date FROM joined WHERE k = 0 OR k = n - 1
    UNION SELECT ticker, min(date) FROM panel GROUP BY ticker
)
SELECT p.date, p.ticker, p.ret AS "return"
FROM panel AS p SEMI JOIN wanted AS w ON p.ticker = w.ticker AND p.date = w.date
ORDER BY p.ticker, p.date
"""


def _source(path: str | Path) -> tuple[str, bool]:
    """``read_parquet`` argument and whether it is a hive-partitioned folder. A URL (``s3://...``,
    ``gs://...``, ``https://...``) that names no ``.parquet`` file and has no glob is read as a folder
    (DuckDB's httpfs extension reads it; credentials as DuckDB takes them)."""
    text = str(path)
    if "://" in text:
        if text.endswith(".parquet") or any(c in text for c in "*?["):
            return text, False
        return text.rstrip("/") + "/**/*.parquet", True
    path = Path(path)
    if path.is_dir():
        return str(path / "**" / "*.parquet"), True
    if not path.exists() and not any(c in str(path) for c in "*?["):
        raise IncidentImpactError(f"no Parquet dataset at {path}")
    return str(path), False


def _valid_dates(
    model: NormalReturnModel, events: pd.DataFrame, benches: Mapping[str, pd.Series], factors: pd.DataFrame | None
) -> tuple[list[str | None], pd.DataFrame | None]:
    """Each event's benchmark key (None: it has none) and the (key, date) pairs whose benchmark and
    factor values are finite (None when the model uses neither)."""
    wanted = wanted_benchmarks(events)
    picks = {v: pick_benchmark(benches, v) for v in set(wanted)}
    keys: list[str | None]
    if model.needs_benchmark:
        keys = [None if picks[v][1] is None else (picks[v][0] or "") for v in wanted]
    else:
        keys = [""] * len(events)
    if not model.needs_benchmark and not model.factor_columns:
        return keys, None
    series = [pd.DataFrame({"key": pd.Series(dtype=str), "date": pd.Series(dtype="datetime64[us]")})]
    for key in dict.fromkeys(k for k in keys if k is not None):
        try:
            cols = [check_series(benches[key], "benchmark returns")] if model.needs_benchmark else []
            cols += [check_series(factors[c], f"factor {c}") for c in model.factor_columns]  # type: ignore[index]
        except (IncidentImpactError, TypeError, KeyError):
            continue  # no joined dates: run_study reports the reference path's reason
        ok = pd.concat(cols, axis=1, join="inner").replace([np.inf, -np.inf], np.nan).dropna().index
        series.append(pd.DataFrame({"key": key, "date": ok.astype("datetime64[us]")}))
    return keys, pd.concat(series, ignore_index=True)


def event_rows(
    path: str | Path,
    events: pd.DataFrame,
    benchmark: BenchmarkInput = None,
    *,
    model: str | NormalReturnModel | None = None,
    estimation: Window | str | None = None,
    windows: Iterable[Window | str] | None = None,
    factors: pd.DataFrame | None = None,
    connection: Any = None,
    spec: EventStudySpec | None = None,
) -> pd.DataFrame:
    """The rows of the Parquet returns dataset at ``path`` (columns ``date, ticker, return``; a file,
    a glob or a hive-partitioned folder) that a study of ``events`` needs, as a long frame
    ``date, ticker, return`` (see the module docstring). ``connection``: a DuckDB connection to use
    (e.g. with ``memory_limit`` or ``temp_directory`` set); default a fresh in-memory one. The options
    (or ``spec``, :class:`~.spec.EventStudySpec`) are ``run_study``'s."""
    try:
        import duckdb
    except ImportError:
        raise IncidentImpactError('the Parquet path needs DuckDB: pip install "incident-impact[duckdb]"') from None
    spec = EventStudySpec.from_options(spec, model=model, estimation=estimation, windows=windows, factors=factors)
    table = events_table(events)
    keys, valid = _valid_dates(spec.model, table, benchmark_map(benchmark), spec.factors)
    source, hive = _source(path)
    con = connection or duckdb.connect()
    con.register(
        "ev",
        pd.DataFrame(
            {"ticker": table["ticker"], "key": keys, "event_date": table["event_date"].astype("datetime64[us]")}
        ),
    )
    aux_join = ""
    if valid is not None:
        con.register("aux", valid)
        aux_join = "JOIN aux AS a ON a.key = k.key AND a.date = p.date"
    try:
        rows = con.execute(
            _QUERY.format(aux_join=aux_join),
            {"path": source, "hive": hive, "lo": spec.estimation[0], "hi": spec.event_period[1]},
        ).df()
    except duckdb.Error as exc:
        raise IncidentImpactError(f"cannot read the returns at {path}: {str(exc).splitlines()[0]}") from None
    finally:
        for name in ("ev", "aux"):
            if name == "ev" or valid is not None:
                con.unregister(name)
    rows["date"] = pd.to_datetime(rows["date"])
    return rows


def run_study_parquet(
    path: str | Path,
    benchmark: BenchmarkInput,
    events: pd.DataFrame,
    *,
    connection: Any = None,
    engine: str = "batch",
    spec: EventStudySpec | None = None,
    model: str | NormalReturnModel | None = None,
    estimation: Window | str | None = None,
    windows: Iterable[Window | str] | None = None,
    factors: pd.DataFrame | None = None,
    min_estimation_obs: int | None = None,
) -> StudyResult:
    """:func:`~incident_impact.eventstudy.run_study` on a Parquet returns dataset (long: ``date, ticker,
    return``) read out of core by DuckDB. The options (or ``spec``) and ``engine`` are ``run_study``'s;
    ``connection`` as in :func:`event_rows`. The result's ``returns`` hold only the rows read (placebo
    dates need the whole history in memory)."""
    spec = EventStudySpec.from_options(
        spec,
        model=model,
        estimation=estimation,
        windows=windows,
        min_estimation_obs=min_estimation_obs,
        factors=factors,
    )
    rows = event_rows(path, events, benchmark, connection=connection, spec=spec)
    return run_study(rows, benchmark, events, engine=engine, spec=spec)
