"""Multi-event studies on a Dask cluster: one task per partition of a Parquet returns dataset.

:func:`run_study_dask` runs :func:`~incident_impact.eventstudy.run_study` over a returns dataset
(``date, ticker, return``) stored as Parquet partitions that split the **tickers** (e.g. hive folders
``bucket=000/ .. bucket=099/`` by a hash of the ticker; every ticker's rows in one partition):

1. one small task per partition lists its tickers (DuckDB), and each event goes to the partition
   holding its ticker (a ticker found in two partitions is refused: partition by ticker, not by date);
2. one task per partition runs the out-of-core path (:func:`~.outofcore.run_study_parquet`: DuckDB,
   then the batch engine) on that partition's files and events alone: fits, abnormal returns, CARs,
   variances, SQ p-values and failures are each event's own business, so they are exactly the
   in-memory study's;
3. the cross-sectional tests are computed centrally from the per-event inputs the tasks return
   (:class:`PartitionSummary`): CARs, variances and degrees of freedom; Corrado's per-day rank sums
   (they add up across partitions); and the estimation residuals with their dates, from which the
   Kolari-Pynnönen correlations are computed for every pair of events whose windows share dates —
   pairs across partitions included — on the union of the partitions' dates (:mod:`.batch_pairs`).

The result is a :class:`~.study_results.StudyResult` equal to the batch engine's on every number
(``tests/eventstudy/test_distributed.py``: 1e-10). The scheduler is Dask's (``dask.distributed``); a plain
in-process loop runs the same tasks when no client is given to :func:`run_study_partitions`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError
from . import statistics as st
from .batch_pairs import ResidualPairs, rbar
from .batch_rank import corrado_from_sums, rank_sums
from .inputs import BenchmarkInput, events_table
from .models import NormalReturnModel
from .overlaps import empty_overlaps, overlap_message
from .results import EventStudyResult
from .spec import EventStudySpec
from .study_results import FAILURE_COLUMNS, StudyResult, TestInputs, battery
from .windows import Window

__all__ = ["PartitionSummary", "StudySummary", "find_partitions", "run_study_dask", "run_study_partitions"]


# --------------------------------------------------------------------------- per partition
@dataclass
class WindowInputs:
    """One partition's events that have a window: rows of the summary, CARs, variances, window ARs,
    window dates (grid positions), Corrado's per-day sums (None: ties, use the panels) and the window
    ARs' standard errors (for the standardized rank tests)."""

    rows: np.ndarray
    car: np.ndarray
    var: np.ndarray
    win_ar: np.ndarray
    wpos: np.ndarray
    ranks: tuple[np.ndarray, np.ndarray] | None
    win_se: np.ndarray


@dataclass
class PartitionSummary:
    """What the central step needs of one partition's study (all per-event arrays in the events' order).

    ``positions``: each studied event's row in the whole events table; ``grid``: the partition's dates;
    ``est_pos`` / ``est_ar``: estimation dates (positions in ``grid``, -1 where absent) and residuals;
    ``df``, ``sigma2``, ``share_positive``: per event (``sigma2`` the residual variance); ``windows``:
    :class:`WindowInputs` per window; ``failures`` / ``overlaps``: the partition's; ``result``: its whole
    :class:`StudyResult` (None when only the summary was kept); ``seconds``: the task's wall time.
    """

    positions: np.ndarray
    grid: np.ndarray
    est_pos: np.ndarray
    est_ar: np.ndarray
    df: np.ndarray
    sigma2: np.ndarray
    share_positive: np.ndarray
    windows: dict[Window, WindowInputs]
    failures: pd.DataFrame
    overlaps: pd.DataFrame
    result: StudyResult | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def summarize(result: StudyResult, positions: np.ndarray, keep_result: bool = True) -> PartitionSummary:
    """The :class:`PartitionSummary` of a batch-engine study whose studied events are the rows
    ``positions`` of the whole events table."""
    engine = result.engine
    fit = getattr(engine, "fit", None)
    windows: dict[Window, WindowInputs] = {}
    if fit is None or fit.n == 0:
        T = result.spec.estimation[1] - result.spec.estimation[0] + 1
        empty = np.empty((0, T))
        for w in result.spec.windows:
            L = w[1] - w[0] + 1
            windows[w] = WindowInputs(
                np.empty(0, np.int64),
                np.empty(0),
                np.empty(0),
                np.empty((0, L)),
                np.empty((0, L), np.int64),
                None,
                np.empty((0, L)),
            )
        return PartitionSummary(
            np.empty(0, np.int64),
            np.empty(0, "datetime64[ns]"),
            empty.astype(np.int64),
            empty,
            np.empty(0),
            np.empty(0),
            np.empty(0),
            windows,
            result.failures,
            result.overlaps,
            result if keep_result else None,
        )
    for w in result.spec.windows:
        windows[w] = window_inputs(fit, w)
    return PartitionSummary(
        np.asarray(positions, dtype=np.int64),
        fit.arrays.grid,
        fit.arrays.pos[fit.rows, fit.est].astype(np.int32),
        fit.est_ar,
        fit.df.astype(float),
        fit.sigma2,
        fit.share_positive,
        windows,
        result.failures,
        result.overlaps,
        result if keep_result else None,
    )


def window_inputs(fit, window: Window) -> WindowInputs:
    """:class:`WindowInputs` of a batch fit's events that have ``window``."""
    idx = np.flatnonzero(fit.has(window))
    car, var = (fit.take(v, idx) for v in fit.car(window))
    cols = fit.window_cols(window)
    return WindowInputs(
        idx,
        car,
        var,
        fit.take(fit.ar, idx)[:, cols],
        fit.arrays.pos[fit.rows[idx], cols],
        rank_sums(fit, idx, window) if len(idx) else None,
        fit.take(fit.ar_se, idx)[:, cols.start - fit.span.start : cols.stop - fit.span.start],
    )


def _partition_tickers(source: str) -> list[str]:
    import duckdb

    from .outofcore import _source

    path, hive = _source(source)
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT CAST(ticker AS VARCHAR) FROM read_parquet($p, hive_partitioning = $h)",
            {"p": path, "h": hive},
        ).fetchall()
    except duckdb.Error as exc:
        raise IncidentImpactError(f"cannot read the returns at {source}: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    return sorted(r[0] for r in rows)


def study_partition(
    source: str,
    benchmark: BenchmarkInput,
    events: pd.DataFrame,
    positions: np.ndarray,
    spec: EventStudySpec,
    keep_result: bool = True,
    connection_config: dict | None = None,
) -> PartitionSummary:
    """One task: the study of ``events`` (rows ``positions`` of the whole table) on the partition
    ``source`` alone (DuckDB + batch engine), summarized for the central step."""
    import duckdb

    from .outofcore import run_study_parquet

    start = time.perf_counter()
    con = duckdb.connect(config=connection_config or {})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the overlap warning is issued once, centrally
            result = run_study_parquet(source, benchmark, events, spec=spec, connection=con)
    finally:
        con.close()
    index = {e: p for e, p in zip(events["event_id"].astype(str), positions, strict=True)}
    summary = summarize(result, np.array([index[e] for e in result.event_ids], dtype=np.int64), keep_result)
    summary.seconds = time.perf_counter() - start
    return summary


def find_partitions(path: str | Path) -> list[str]:
    """The partitions of a dataset folder: its hive sub-folders (``key=value``), else its Parquet files.
    A remote dataset (``s3://...``) is not listed here: give ``partitions=`` (its folders' URLs)."""
    if "://" in str(path):
        raise IncidentImpactError(
            f"list the partitions of the remote dataset {path} with partitions=[...] "
            "(e.g. [f'{path}/bucket={k:03d}' for k in range(100)])"
        )
    path = Path(path)
    if not path.is_dir():
        raise IncidentImpactError(f"no partitioned Parquet dataset (a folder) at {path}")
    parts = sorted(str(p) for p in path.iterdir() if p.is_dir() and "=" in p.name)
    parts = parts or sorted(str(p) for p in path.glob("*.parquet"))
    if not parts:
        raise IncidentImpactError(f"no Parquet partitions in {path}")
    return parts


# --------------------------------------------------------------------------- central step
class StudySummary:
    """The partitions' summaries pooled: the tests across all events (every pair of events whose
    windows share dates in the Kolari-Pynnönen ``rbar``, across partitions)."""

    def __init__(
        self,
        spec: EventStudySpec,
        parts: Sequence[PartitionSummary],
        n_failures: int = 0,
        timings: dict[str, float] | None = None,
    ):
        self.spec = spec
        self.all_parts = list(parts)
        self.parts = [p for p in parts if len(p.positions)]
        self.n_partitions = len(parts)
        self.n_failures = n_failures
        self.timings = timings or {}
        pos = np.concatenate([p.positions for p in self.parts]) if self.parts else np.empty(0, np.int64)
        self.order = np.argsort(pos, kind="stable")  # concatenated rows -> event order
        self.rank = np.empty(len(pos), dtype=np.int64)  # concatenated row -> place in event order
        self.rank[self.order] = np.arange(len(pos))
        self.offsets = np.cumsum([0] + [len(p.positions) for p in self.parts])
        self.n_events = len(pos)
        self.kp_pairs = 0

    # the union of the partitions' dates, and every position mapped onto it
    def _grid(self) -> tuple[np.ndarray, list[np.ndarray]]:
        if not hasattr(self, "_grid_maps"):
            grid = np.unique(np.concatenate([p.grid for p in self.parts])) if self.parts else np.empty(0)
            self._grid_maps = grid, [np.searchsorted(grid, p.grid) for p in self.parts]
        return self._grid_maps

    @staticmethod
    def _map(mapping: np.ndarray, pos: np.ndarray) -> np.ndarray:
        return np.where(pos >= 0, mapping[np.maximum(pos, 0)], -1)

    def _ordered(self, pieces: list[np.ndarray]) -> np.ndarray:
        """Per-event arrays of the partitions (concatenated rows) in event order."""
        return np.concatenate(pieces)[self.order]

    @property
    def pairs(self) -> ResidualPairs:
        """Every event's estimation residuals and dates (on the union of the partitions' dates), in event
        order. Built once; the partitions' own copies are then dropped (one copy in memory)."""
        if not hasattr(self, "_pairs"):
            _, maps = self._grid()
            T = self.spec.estimation[1] - self.spec.estimation[0] + 1
            pos = np.empty((self.n_events, T), dtype=np.int32)
            res = np.empty((self.n_events, T))
            for o, m, p in zip(self.offsets, maps, self.parts, strict=False):
                at = self.rank[o : o + len(p.positions)]
                pos[at] = self._map(m, p.est_pos)
                res[at] = p.est_ar
                p.est_pos = p.est_ar = None  # type: ignore[assignment]
            self._pairs = ResidualPairs(pos, res)
        return self._pairs

    def _window(self, window: Window) -> tuple[np.ndarray, list]:
        """Rows (in event order) of the events that have ``window``, and each partition's inputs."""
        for p in self.parts:
            if window not in p.windows:
                if p.result is None:
                    raise IncidentImpactError(
                        f"window {window} was not among the study's windows and the partitions' results were not kept"
                    )
                p.windows[window] = window_inputs(p.result.engine.fit, window)  # type: ignore[attr-defined]
        inputs = [p.windows[window] for p in self.parts]
        pieces = [self.rank[o + w.rows] for o, w in zip(self.offsets, inputs, strict=False)]
        rows = np.concatenate(pieces or [np.empty(0, np.int64)])
        return rows, inputs

    def test_inputs(self, window: Window) -> TestInputs | None:
        rows, inputs = self._window(window)
        if not len(rows):
            return None
        order = np.argsort(rows, kind="stable")
        idx = rows[order]

        def cat(get: Callable[[int, PartitionSummary, WindowInputs], np.ndarray]) -> np.ndarray:
            pairs = enumerate(zip(self.parts, inputs, strict=True))
            return np.concatenate([get(k, p, w) for k, (p, w) in pairs])[order]

        car, var = cat(lambda k, p, w: w.car), cat(lambda k, p, w: w.var)
        df = cat(lambda k, p, w: p.df[w.rows])
        share = cat(lambda k, p, w: p.share_positive[w.rows])
        _, maps = self._grid()
        wpos = np.concatenate([self._map(maps[k], w.wpos) for k, w in enumerate(inputs)])[order]
        r = rbar(self.pairs, idx, wpos, window[0] - self.spec.estimation[0])
        self.kp_pairs = self.pairs.n_pairs
        sq = None
        if len(idx) == 1:
            first = self.pairs.res[idx[0]]
            sq = st.sq(car, first[np.isfinite(first)], window[1] - window[0] + 1)
        return TestInputs(
            car=car, se=np.sqrt(var), df=df, rbar=r, ar_panel=None, window_mask=None, share_positive=share, sq=sq
        )

    def estimation_panel(self, window: Window) -> np.ndarray:
        rows, _ = self._window(window)
        return self.pairs.res[np.sort(rows)]

    def rank_test(self, window: Window) -> st.TestResult:
        rows, inputs = self._window(window)
        L = window[1] - window[0] + 1
        if all(w.ranks is not None for w in inputs if len(w.rows)):
            parts = [w.ranks for w in inputs if len(w.rows)]
            sums, counts = sum(p[0] for p in parts), sum(p[1] for p in parts)
            res = corrado_from_sums(sums, counts, L, len(rows))
            if res is not None:
                return res
        order = np.argsort(rows, kind="stable")
        est = self.pairs.res[rows[order]]
        win = np.concatenate([w.win_ar for w in inputs])[order]
        mask = np.r_[np.zeros(est.shape[1], dtype=bool), np.ones(L, dtype=bool)]
        return st.corrado(np.concatenate([est, win], axis=1), mask)

    def standardized_rank_tests(self, window: Window, x: TestInputs) -> tuple[st.TestResult, st.TestResult]:
        """``(corrado_zivney, grank)`` from every event's estimation residuals over its ``sigma`` and
        its window ARs over their standard errors (:func:`~.statistics.corrado_zivney`,
        :func:`~.statistics.grank`)."""
        rows, inputs = self._window(window)
        order = np.argsort(rows, kind="stable")
        idx = rows[order]
        sigma2 = self._ordered([p.sigma2 for p in self.parts])
        est_sar = self.pairs.res[idx] / np.sqrt(sigma2[idx])[:, None]
        win_sar = (np.concatenate([w.win_ar for w in inputs]) / np.concatenate([w.win_se for w in inputs]))[order]
        return st.corrado_zivney(est_sar, win_sar), st.grank(est_sar, x.car / x.se)

    def tests(self, window: Window) -> pd.DataFrame:
        """The tests of :data:`~.statistics.TEST_NAMES` over ``window``, as :meth:`StudyResult.tests`
        computes them (:func:`~.study_results.battery`)."""
        x = self.test_inputs(window)
        if x is None:
            return st.results_frame([])
        return st.results_frame(battery(x, self.rank_test(window), self.standardized_rank_tests(window, x)))


class _Results(Mapping[str, EventStudyResult]):
    def __init__(self, parts: list[StudyResult], ids: list[str], owner: dict[str, int]):
        self._parts, self._ids, self._owner = parts, ids, owner

    def __getitem__(self, event_id: str) -> EventStudyResult:
        return self._parts[self._owner[event_id]].results[event_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._owner


class DistributedEngine:
    """:class:`~.study_results.StudyEngine` over the partitions' batch studies: per-event tables from
    the partitions (put in event order), tests from the pooled :class:`StudySummary`."""

    name = "dask"

    def __init__(self, summary: StudySummary, table: pd.DataFrame):
        self.summary = summary
        self.parts = [p.result for p in summary.parts]
        if any(p is None for p in self.parts):
            raise IncidentImpactError("the partitions' results were not kept (keep_results=False)")
        position = {e: i for i, e in enumerate(table["event_id"])}
        owner = {e: k for k, p in enumerate(self.parts) for e in p.event_ids}  # type: ignore[union-attr]
        ids = sorted(owner, key=position.__getitem__)
        self._position = position
        self._results = _Results(self.parts, ids, owner)  # type: ignore[arg-type]

    @property
    def results(self) -> Mapping[str, EventStudyResult]:
        return self._results

    def _concat(self, frames: list[pd.DataFrame], windows: bool = False) -> pd.DataFrame:
        """The partitions' tidy tables as one, rows in event order (then window order)."""
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame()
        out = pd.concat(frames, ignore_index=True)
        event = out["event_id"].map(self._position).to_numpy()
        keys = (_window_rank(out, self.summary.spec.windows), event) if windows else (event,)
        return out.iloc[np.lexsort(keys)].reset_index(drop=True)

    def abnormal_returns(self) -> pd.DataFrame:
        return self._concat([p.engine.abnormal_returns() for p in self.parts])  # type: ignore[union-attr]

    def cars(self) -> pd.DataFrame:
        return self._concat([p.engine.cars() for p in self.parts], windows=True)  # type: ignore[union-attr]

    def window_cars(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        rows, inputs = self.summary._window(window)
        order = np.argsort(rows, kind="stable")
        car = np.concatenate([w.car for w in inputs] or [np.empty(0)])[order]
        var = np.concatenate([w.var for w in inputs] or [np.empty(0)])[order]
        return car, np.sqrt(var)

    def test_inputs(self, window: Window) -> TestInputs | None:
        return self.summary.test_inputs(window)

    def rank_test(self, window: Window, inputs: TestInputs) -> st.TestResult:
        return self.summary.rank_test(window)

    def estimation_panel(self, window: Window) -> np.ndarray:
        return self.summary.estimation_panel(window)


def _window_rank(frame: pd.DataFrame, windows: tuple[Window, ...]) -> np.ndarray:
    index = {w: k for k, w in enumerate(windows)}
    return np.array([index[(s, e)] for s, e in zip(frame["start"], frame["end"], strict=True)], dtype=np.int64)


# --------------------------------------------------------------------------- drivers
def _assign(table: pd.DataFrame, tickers: list[list[str]], parts: list[str]) -> list[np.ndarray]:
    """Rows of ``table`` per partition (events of unknown tickers go to the first partition, which
    fails them with the reference path's reason); a ticker in two partitions is refused."""
    home: dict[str, int] = {}
    for k, names in enumerate(tickers):
        for t in names:
            if t in home:
                raise IncidentImpactError(
                    f"ticker {t!r} is in two partitions ({parts[home[t]]} and {parts[k]}): the distributed path "
                    "needs partitions that split the tickers (e.g. hive folders by a ticker bucket), not the dates"
                )
            home[t] = k
    where = np.array([home.get(t, 0) for t in table["ticker"]], dtype=np.int64)
    return [np.flatnonzero(where == k) for k in range(len(parts))]


def run_study_partitions(
    path: str | Path,
    benchmark: BenchmarkInput,
    events: pd.DataFrame,
    *,
    client: Any = None,
    spec: EventStudySpec | None = None,
    partitions: Sequence[str] | None = None,
    keep_results: bool = False,
    connection_config: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> StudySummary:
    """The tasks of :func:`run_study_dask` and their pooled :class:`StudySummary` (the tests across all
    events), without building the per-event tables centrally: the form for very many events.
    ``client``: a ``dask.distributed.Client`` (None: the tasks run one after the other in this process).
    ``keep_results``: keep each partition's whole :class:`StudyResult` in the summary.
    ``bucket_of`` is accepted and ignored (partitions are read from the folder)."""
    options.pop("bucket_of", None)
    spec = EventStudySpec.from_options(spec, **options)
    table = events_table(events)
    parts = list(partitions) if partitions is not None else find_partitions(path)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if client is None:
        tickers = [_partition_tickers(p) for p in parts]
    else:
        tickers = client.gather(client.map(_partition_tickers, parts, pure=False))
    timings["listing tickers"] = time.perf_counter() - start
    rows = _assign(table, tickers, parts)
    jobs = [(parts[k], table.iloc[r].reset_index(drop=True), r) for k, r in enumerate(rows) if len(r)]
    start = time.perf_counter()
    summaries: list[PartitionSummary] = []
    if client is None:
        for src, ev, r in jobs:
            summaries.append(study_partition(src, benchmark, ev, r, spec, keep_results, connection_config))
            if progress:
                progress(len(summaries), len(jobs))
    else:
        from dask.distributed import as_completed

        bench = client.scatter([benchmark], broadcast=True)[0] if benchmark is not None else None
        futures = [
            client.submit(study_partition, src, bench, ev, r, spec, keep_results, connection_config, pure=False)
            for src, ev, r in jobs
        ]
        done: dict[Any, PartitionSummary] = {}
        for fut in as_completed(futures):
            done[fut.key] = fut.result()
            fut.release()
            if progress:
                progress(len(done), len(jobs))
        summaries = [done[f.key] for f in futures]
    timings["partition studies (wall)"] = time.perf_counter() - start
    timings["partition studies (sum of tasks)"] = sum(s.seconds for s in summaries)
    n_failures = sum(len(s.failures) for s in summaries)
    summary = StudySummary(spec, summaries, n_failures, timings)
    summary.table = table  # type: ignore[attr-defined]
    return summary


def run_study_dask(
    path: str | Path,
    benchmark: BenchmarkInput,
    events: pd.DataFrame,
    *,
    client: Any = None,
    spec: EventStudySpec | None = None,
    partitions: Sequence[str] | None = None,
    model: str | NormalReturnModel | None = None,
    estimation: Window | str | None = None,
    windows: Iterable[Window | str] | None = None,
    factors: pd.DataFrame | None = None,
    min_estimation_obs: int | None = None,
    connection_config: dict | None = None,
) -> StudyResult:
    """:func:`~incident_impact.eventstudy.run_study` over a Parquet returns dataset partitioned by ticker,
    one Dask task per partition (see the module docstring).

    Parameters
    ----------
    path : a folder of partitions: hive sub-folders (``bucket=007/...``), else Parquet files; each
        partition holds whole tickers (``date, ticker, return``). Every worker must be able to read it
        (a shared file system, or an ``s3://`` / ``gs://`` folder that DuckDB reads with ``httpfs``).
    benchmark, events, model, estimation, windows, factors, min_estimation_obs, spec : as in ``run_study``.
    client : a ``dask.distributed.Client``; default the current one (``distributed.get_client()``).
    partitions : the partitions to read (paths); default :func:`find_partitions` of ``path``.
    connection_config : DuckDB settings of each task's connection (e.g. ``{"memory_limit": "2GB"}``).

    Returns
    -------
    StudyResult
        With the same numbers and failures as the batch engine on the whole panel (its ``engine.name``
        is ``"dask"``; ``returns`` holds the rows the tasks read).
    """
    if client is None:
        from distributed import get_client

        try:
            client = get_client()
        except ValueError:
            raise IncidentImpactError("run_study_dask needs a dask.distributed Client (none is running)") from None
    spec = EventStudySpec.from_options(
        spec,
        model=model,
        estimation=estimation,
        windows=windows,
        min_estimation_obs=min_estimation_obs,
        factors=factors,
    )
    summary = run_study_partitions(
        path,
        benchmark,
        events,
        client=client,
        spec=spec,
        partitions=partitions,
        keep_results=True,
        connection_config=connection_config,
    )
    return combine(summary, summary.table)  # type: ignore[attr-defined]


def combine(summary: StudySummary, table: pd.DataFrame) -> StudyResult:
    """The :class:`StudyResult` of the partitions' studies (kept whole) in ``summary``."""
    position = {e: i for i, e in enumerate(table["event_id"])}
    results = [p.result for p in summary.parts]
    all_results = [p.result for p in summary.all_parts]
    failures = [f for f in (s.failures for s in summary.all_parts) if len(f)]
    if failures:
        fail = pd.concat(failures, ignore_index=True)
        fail = fail.iloc[np.argsort(fail["event_id"].map(position).to_numpy(), kind="stable")].reset_index(drop=True)
    else:
        fail = pd.DataFrame(columns=list(FAILURE_COLUMNS))
    overlaps = [o for o in (s.overlaps for s in summary.all_parts) if len(o)]
    if overlaps:
        ov = pd.concat(overlaps, ignore_index=True)
        keys = (ov["event_id_2"].map(position).to_numpy(), ov["event_id_1"].map(position).to_numpy())
        ov = ov.iloc[np.lexsort(keys)].reset_index(drop=True)
    else:
        ov = empty_overlaps()
    message = overlap_message(ov)
    engine = DistributedEngine(summary, table)
    used: dict[str, pd.Series | None] = {}
    for r in results:
        used.update(r.benchmarks)  # type: ignore[union-attr]
    used = {e: used[e] for e in engine.results}
    frames = [r.returns for r in all_results if r is not None and r.returns is not None]
    returns = pd.concat(frames, axis=1).sort_index().sort_index(axis=1) if frames else None
    result = StudyResult(summary.spec, table, fail, engine, ov, (message,) if message else (), used, returns)
    for m in result.warnings:
        from .overlaps import OverlappingEventsWarning

        warnings.warn(m, OverlappingEventsWarning, stacklevel=3)
    return result
