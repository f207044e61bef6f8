"""After the incident: how the stock and the company fared in the sessions and months that followed.

The names of the study-level modules (``drivers``, ``literature``, ``longrun``, ``pooled``) are imported
on first use (PEP 562): one incident's aftermath needs only ``incident``, ``learning``, ``recovery`` and
``response``, and ``analyze`` would otherwise import the others for nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_getattr
from .learning import MarketLearning, market_learning
from .recovery import Recovery, RecoveryMetrics, recovery, recovery_metrics  # the function hides the module

if TYPE_CHECKING:
    from .drivers import CarDrivers, explain_cars, incident_characteristics
    from .literature import LITERATURE, LiteratureComparison, compare_with_literature
    from .longrun import (
        CalendarTimeResult,
        LongRunStudy,
        bhar_table,
        bootstrap_skewness_adjusted_t,
        calendar_time_alpha,
        lbt_skewness,
        longrun_study,
        recovery_shares,
        skewness_adjusted_t,
    )
    from .pooled import PooledEffect, pooled_effect

#: The module of each name imported on first use.
_MODULES = {
    "CarDrivers": "drivers",
    "explain_cars": "drivers",
    "incident_characteristics": "drivers",
    "LITERATURE": "literature",
    "LiteratureComparison": "literature",
    "compare_with_literature": "literature",
    "CalendarTimeResult": "longrun",
    "LongRunStudy": "longrun",
    "bhar_table": "longrun",
    "bootstrap_skewness_adjusted_t": "longrun",
    "calendar_time_alpha": "longrun",
    "lbt_skewness": "longrun",
    "longrun_study": "longrun",
    "recovery_shares": "longrun",
    "skewness_adjusted_t": "longrun",
    "PooledEffect": "pooled",
    "pooled_effect": "pooled",
}


__getattr__ = lazy_getattr(__name__, _MODULES)


__all__ = [
    "LITERATURE",
    "CalendarTimeResult",
    "CarDrivers",
    "LiteratureComparison",
    "LongRunStudy",
    "MarketLearning",
    "PooledEffect",
    "Recovery",
    "RecoveryMetrics",
    "bhar_table",
    "bootstrap_skewness_adjusted_t",
    "calendar_time_alpha",
    "compare_with_literature",
    "explain_cars",
    "incident_characteristics",
    "lbt_skewness",
    "longrun_study",
    "market_learning",
    "pooled_effect",
    "recovery",
    "recovery_metrics",
    "recovery_shares",
    "skewness_adjusted_t",
]
