"""Event-study statistics: pure functions on pandas objects, no I/O.

>>> from incident_impact.eventstudy import event_study
>>> result = event_study(stock_returns, index_returns, "2017-04-11")   # doctest: +SKIP
>>> result.car_table                                                    # doctest: +SKIP
"""

from .event import event_study, joined_returns
from .factors import read_french_factors
from .models import FACTOR_COLUMNS, MODELS, FittedModel, NormalReturnModel, get_model
from .results import EventStudyResult
from .statistics import TEST_NAMES, TestResult
from .study import OverlappingEventsWarning, StudyResult, run_study, wide_returns
from .placebo import placebo_cars, placebo_test
from .outofcore import run_study_parquet
from .volume import abnormal_volume, log_volume
from .windows import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, MIN_ESTIMATION_OBS, format_window, parse_window

__all__ = [
    "FACTOR_COLUMNS",
    "TEST_NAMES",
    "OverlappingEventsWarning",
    "StudyResult",
    "TestResult",
    "abnormal_volume",
    "log_volume",
    "read_french_factors",
    "run_study",
    "run_study_parquet",
    "placebo_cars",
    "placebo_test",
    "wide_returns",
    "DEFAULT_ESTIMATION",
    "DEFAULT_WINDOWS",
    "MIN_ESTIMATION_OBS",
    "MODELS",
    "EventStudyResult",
    "FittedModel",
    "NormalReturnModel",
    "event_study",
    "format_window",
    "get_model",
    "joined_returns",
    "parse_window",
]
