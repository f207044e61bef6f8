"""Multi-event studies: many events (possibly several per firm), one model, the full test battery.

:func:`run_study` checks the inputs once (:mod:`.inputs`, :class:`~.spec.EventStudySpec`), picks the
engine (:mod:`.batch`, the default, or :mod:`.loop`, the single-event reference path once per
event) and issues at most one :class:`~.overlaps.OverlappingEventsWarning`. Results are keyed by
``event_id`` (never by firm: one firm may have several events).

>>> result = run_study(returns, index_returns, events, windows=[(0, 1)])   # doctest: +SKIP
>>> result.tests((0, 1))                                                  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import pandas as pd

from ..errors import IncidentImpactError
from .batch import BatchUnsupported, run_batch
from .inputs import BenchmarkInput, benchmark_map, events_table, screen_events, wide_returns
from .loop import run_loop
from .models import NormalReturnModel
from .overlaps import OverlappingEventsWarning
from .spec import EventStudySpec
from .study_results import StudyResult
from .windows import Window

__all__ = ["ENGINES", "OverlappingEventsWarning", "StudyResult", "run_study", "wide_returns"]

ENGINES = ("batch", "loop")


def run_study(
    returns: pd.DataFrame,
    benchmark: BenchmarkInput,
    events: pd.DataFrame,
    *,
    model: str | NormalReturnModel | None = None,
    estimation: Window | str | None = None,
    windows: Iterable[Window | str] | None = None,
    factors: pd.DataFrame | None = None,
    min_estimation_obs: int | None = None,
    engine: str = "batch",
    spec: EventStudySpec | None = None,
) -> StudyResult:
    """Event study of many events with the full test battery.

    Parameters
    ----------
    returns : simple daily returns, wide (date index x one column per ticker) or long
        (columns ``date, ticker, return``). Each must span one session (the library cannot tell
        a return taken across a missing session from given returns; ``PriceHistory.returns()``
        drops them).
    benchmark : one Series for every event, or a frame (or mapping) with one column per
        benchmark name chosen by the events' ``benchmark`` column; None for models without one.
    events : columns ``event_id, ticker, event_date`` (day-0 session, read by the rule of
        :func:`~incident_impact.eventstudy.event_study`: ISO dates, Timestamps or dates, the date as
        written in its own zone; ``10/04/2017`` is an error), optional ``benchmark``; other
        columns are carried into :attr:`StudyResult.cars` (event characteristics).
    model, estimation, windows, factors, min_estimation_obs : as in
        :func:`~incident_impact.eventstudy.event_study` (defaults ``market``, ``(-250, -11)``,
        ``DEFAULT_WINDOWS``, none, 120), applied to every event.
    engine : ``"batch"`` (default): all events at once with array operations
        (:mod:`.batch`), for every model; it falls back to ``"loop"`` when the returns have
        duplicate dates or a benchmark series or the factor table is malformed (then every
        event fails with the reference path's reason). ``"loop"``: the single-event reference
        path once per event. Both give the same numbers (to floating-point rounding) and the same
        failures.
    spec : an :class:`~.spec.EventStudySpec` with the options; options given as well override it.

    Returns
    -------
    StudyResult
        Its ``spec`` holds the options used. Events that cannot be studied (unknown ticker or
        benchmark, too little estimation data, no window with data) are listed in ``failures``
        with the reason. Events of one firm with overlapping event periods are kept, listed in
        ``overlaps``, and raise one :class:`OverlappingEventsWarning` for the whole study.

    Raises
    ------
    IncidentImpactError
        Duplicate event ids, a malformed events table or returns, an unknown model or engine,
        windows that cannot be read or overlap the estimation window.
    """
    if engine not in ENGINES:
        raise IncidentImpactError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    spec = EventStudySpec.from_options(
        spec,
        model=model,
        estimation=estimation,
        windows=windows,
        min_estimation_obs=min_estimation_obs,
        factors=factors,
    )
    table = events_table(events)
    wide = wide_returns(returns)
    benches = benchmark_map(benchmark)
    result = None
    if engine == "batch":
        try:
            keys, reasons = screen_events(table, wide, benches, spec.model, verify=False)
            result = run_batch(table, wide, benches, keys, reasons, spec)
        except BatchUnsupported:
            pass
    if result is None:
        result = run_loop(table, wide, benches, spec)
    for message in result.warnings:
        warnings.warn(message, OverlappingEventsWarning, stacklevel=2)
    return result
