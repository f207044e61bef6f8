"""The loop engine: the single-event reference path (:func:`.event.study_event`) once per event.

Readable and slow (its Kolari-Pynnönen step is quadratic in the events); the batch engine
(:mod:`.batch`) must give its numbers to 1e-10 and the same failures (``tests/eventstudy/test_batch.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError
from . import statistics as st
from .event import study_event
from .inputs import benchmark_of, screen_events
from .overlaps import find_overlaps, overlap_message
from .results import EventStudyResult
from .spec import EventStudySpec
from .study_results import FAILURE_COLUMNS, StudyResult, TestInputs
from .windows import Window, format_window


class LoopEngine:
    """:class:`~.study_results.StudyEngine` over per-event :class:`~.results.EventStudyResult` objects."""

    name = "loop"

    def __init__(self, results: dict[str, EventStudyResult], events: pd.DataFrame):
        self._results = results
        self._events = events
        self._tickers = dict(zip(events["event_id"], events["ticker"], strict=True))

    @property
    def results(self) -> Mapping[str, EventStudyResult]:
        return self._results

    def abnormal_returns(self) -> pd.DataFrame:
        frames = []
        for eid, res in self._results.items():
            frame = res.event[["rel_day", "return", "benchmark", "expected", "ar", "ar_se"]].copy()
            frame["sar"] = frame["ar"] / frame["ar_se"]
            frame.insert(0, "ticker", self._tickers[eid])
            frame.insert(0, "event_id", eid)
            frames.append(frame.reset_index())
        cols = ["date", "event_id", "ticker", "rel_day", "return", "benchmark", "expected", "ar", "ar_se", "sar"]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)

    def cars(self) -> pd.DataFrame:
        extra = [c for c in self._events.columns if c not in ("event_id", "ticker", "event_date")]
        info = self._events.set_index("event_id")
        rows = []
        for eid, res in self._results.items():
            table = res.car_table
            for window in res.windows:
                row = table.loc[format_window(window)].to_dict()
                rows.append(
                    {
                        "event_id": eid,
                        "ticker": self._tickers[eid],
                        "event_date": res.event_date,
                        "day0": res.day0,
                        "window": format_window(window),
                        "start": window[0],
                        "end": window[1],
                        "n_days": int(row["n_days"]),
                        "car": row["car"],
                        "se": row["se"],
                        "scar": row["car"] / row["se"],
                        "t_stat": row["t_stat"],
                        "df": int(row["df"]),
                        "p_value": row["p_value"],
                        "sq_p_value": res.sq_test(window).p_value,
                        "sigma": float(np.sqrt(res.fitted.sigma2)),
                        **{c: info.at[eid, c] for c in extra},
                    }
                )
        return pd.DataFrame(rows)

    def _having(self, window: Window) -> list[tuple[EventStudyResult, float, float]]:
        out = []
        for res in self._results.values():
            try:
                car, se = res.car(window)
            except IncidentImpactError:
                continue
            out.append((res, car, se))
        return out

    def window_cars(self, window: Window) -> tuple[np.ndarray, np.ndarray]:
        having = self._having(window)
        return np.array([c for _, c, _ in having], dtype=float), np.array([s for _, _, s in having], dtype=float)

    def test_inputs(self, window: Window) -> TestInputs | None:
        inputs = self._having(window)
        if not inputs:
            return None
        car = np.array([c for _, c, _ in inputs])
        se = np.array([s for _, _, s in inputs])
        resid = pd.concat({i: r.estimation["ar"] for i, (r, _, _) in enumerate(inputs)}, axis=1, sort=True)
        # KP: a pair's residual correlation counts by the share of event-window dates it shares
        win_dates = [
            set(r.event.index[(r.event["rel_day"] >= window[0]) & (r.event["rel_day"] <= window[1])])
            for r, _, _ in inputs
        ]
        L = window[1] - window[0] + 1
        weights = np.array([[len(a & b) / L for b in win_dates] for a in win_dates])
        rbar, _ = st.mean_pairwise_correlation(resid, pair_weights=weights)
        # Corrado: ARs of the estimation window and the CAR window, aligned by relative day
        panel = pd.concat(
            {
                i: pd.concat(
                    [
                        r.estimation.set_index("rel_day")["ar"],
                        r.event.set_index("rel_day")["ar"].loc[window[0] : window[1]],
                    ]
                )
                for i, (r, _, _) in enumerate(inputs)
            },
            axis=1,
        ).sort_index()
        return TestInputs(
            car=car,
            se=se,
            df=np.array([r.fitted.df for r, _, _ in inputs], dtype=float),
            rbar=rbar,
            ar_panel=panel.to_numpy().T,
            window_mask=(panel.index >= window[0]) & (panel.index <= window[1]),
            share_positive=np.array([(r.estimation["ar"] > 0).mean() for r, _, _ in inputs]),
            sq=inputs[0][0].sq_test(window) if len(inputs) == 1 else None,
        )

    def rank_test(self, window: Window, inputs: TestInputs) -> st.TestResult:
        return st.corrado(inputs.ar_panel, inputs.window_mask)


def failure_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(FAILURE_COLUMNS))


def run_loop(
    table: pd.DataFrame, wide: pd.DataFrame, benches: Mapping[str, pd.Series], spec: EventStudySpec
) -> StudyResult:
    """The study of :func:`~.study.run_study` with the loop engine (inputs already checked: ``table``
    by :func:`~.inputs.events_table`, ``wide`` by :func:`~.inputs.wide_returns`, ``benches`` by
    :func:`~.inputs.benchmark_map`). Overlapping event periods are listed, not warned about (the
    caller warns once)."""
    keys, reasons = screen_events(table, wide, benches, spec.model)
    results: dict[str, EventStudyResult] = {}
    used_bench: dict[str, pd.Series | None] = {}
    failures = []
    for row, key, reason in zip(table.itertuples(), keys, reasons, strict=True):
        bench = benchmark_of(benches, key)
        if reason is None:
            try:
                results[str(row.event_id)] = study_event(
                    wide[row.ticker].dropna(), bench, row.event_date, spec, str(row.event_id)
                )
                used_bench[str(row.event_id)] = bench
                continue
            except IncidentImpactError as exc:
                reason = str(exc)
        failures.append(
            {"event_id": row.event_id, "ticker": row.ticker, "event_date": row.event_date, "reason": reason}
        )
    tickers = dict(zip(table["event_id"], table["ticker"], strict=True))
    overlaps = find_overlaps(
        list(results),
        [tickers[e] for e in results],
        [r.event.index[0] for r in results.values()],
        [r.event.index[-1] for r in results.values()],
    )
    message = overlap_message(overlaps)
    return StudyResult(
        spec,
        table,
        failure_frame(failures),
        LoopEngine(results, table),
        overlaps,
        (message,) if message else (),
        used_bench,
        wide,
    )
