"""Results as plain JSON data: the one conversion every JSON output, manifest and report block uses."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping


def plain(value):
    """``value`` as plain JSON data: numpy and pandas scalars as Python numbers, arrays and tuples as
    lists, dates as ISO strings, NaN, infinities and NaT as None; anything else unknown as its ``str``."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, Mapping):
        return {str(k) if not isinstance(k, str) else k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    import numpy as np
    import pandas as pd

    if value is pd.NaT:
        return None
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, (pd.Timestamp, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (pd.Series, pd.Index)):
        return [plain(v) for v in value.tolist()]
    return str(value)
