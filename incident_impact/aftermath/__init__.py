"""After the incident: how the stock and the company fared in the sessions and months that followed."""

from .learning import MarketLearning, market_learning
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
from .recovery import Recovery, RecoveryMetrics, recovery, recovery_metrics
from .pooled import PooledEffect, pooled_effect
from .drivers import CarDrivers, explain_cars, incident_characteristics
from .literature import LITERATURE, LiteratureComparison, compare_with_literature
