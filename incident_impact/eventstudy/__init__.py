"""Event-study statistics: pure functions on pandas objects, no I/O.

>>> from incident_impact.eventstudy import event_study
>>> result = event_study(stock_returns, index_returns, "2017-04-11")   # doctest: +SKIP
>>> result.car_table                                                    # doctest: +SKIP

Layout (each module imports only the ones above it in this list): ``windows`` (relative days,
windows), ``models`` and ``statistics`` (formulas), ``spec`` (:class:`EventStudySpec`), ``inputs``
(checking returns, events and benchmarks), ``results`` (:class:`EventStudyResult`), ``event`` (the
single-event path), ``overlaps``, ``study_results`` (:class:`StudyResult` and its engine protocol),
the engines ``loop`` and ``batch`` (``batch_panel``, ``batch_fit``, ``batch_pairs``, ``batch_rank``),
``study`` (:func:`run_study` picks the engine), then ``placebo``, ``outofcore``, ``volume``, ``volatility``
(abnormal volatility), ``bootstrap`` (resampled p-values), ``garch`` and ``thin`` (GARCH/EGARCH and
thin-trading models, fitted through ``fitting``).

The multi-event names (``run_study``, ``run_study_parquet``, the placebo tests, ``StudyResult``, ...) are
imported on first use (PEP 562): one incident's analysis never runs the engines, and importing them
(``study``, ``batch*``, ``loop``, ``outofcore``, ``placebo``) would only slow every command's start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_getattr
from .event import event_study, joined_returns
from .factors import read_french_factors
from .models import (
    FACTOR_COLUMNS,
    MODELS,
    FittedModel,
    ModelFitError,
    NormalReturnModel,
    get_model,
)
from .results import EventStudyResult
from .spec import EventStudySpec
from .statistics import TEST_NAMES, TestResult
from .volatility import AbnormalVolatility, abnormal_volatility
from .volume import OUTCOMES, abnormal_volume, log_volume, volume_series, volume_study
from .windows import (
    DEFAULT_ESTIMATION,
    DEFAULT_WINDOWS,
    MIN_ESTIMATION_OBS,
    format_window,
    normalize_windows,
    parse_window,
)

if TYPE_CHECKING:
    from .outofcore import run_study_parquet
    from .overlaps import OverlappingEventsWarning
    from .placebo import placebo_cars, placebo_test
    from .study import run_study, wide_returns
    from .study_results import StudyEngine, StudyResult, UnknownEventError

#: The module of each name imported on first use.
_MODULES = {
    "run_study_parquet": "outofcore",
    "OverlappingEventsWarning": "overlaps",
    "placebo_cars": "placebo",
    "placebo_test": "placebo",
    "run_study": "study",
    "wide_returns": "study",
    "StudyEngine": "study_results",
    "StudyResult": "study_results",
    "UnknownEventError": "study_results",
}


__getattr__ = lazy_getattr(__name__, _MODULES)


__all__ = [
    "DEFAULT_ESTIMATION",
    "DEFAULT_WINDOWS",
    "FACTOR_COLUMNS",
    "MIN_ESTIMATION_OBS",
    "MODELS",
    "OUTCOMES",
    "TEST_NAMES",
    "AbnormalVolatility",
    "EventStudyResult",
    "EventStudySpec",
    "FittedModel",
    "ModelFitError",
    "NormalReturnModel",
    "OverlappingEventsWarning",
    "StudyEngine",
    "StudyResult",
    "TestResult",
    "UnknownEventError",
    "abnormal_volatility",
    "abnormal_volume",
    "event_study",
    "format_window",
    "get_model",
    "joined_returns",
    "log_volume",
    "normalize_windows",
    "parse_window",
    "placebo_cars",
    "placebo_test",
    "read_french_factors",
    "run_study",
    "run_study_parquet",
    "volume_series",
    "volume_study",
    "wide_returns",
]
