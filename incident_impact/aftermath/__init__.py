"""After the incident: how the stock and the company fared in the sessions and months that followed."""

from .drivers import CarDrivers, explain_cars, incident_characteristics
from .learning import MarketLearning, market_learning
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
from .recovery import Recovery, RecoveryMetrics, recovery, recovery_metrics

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
