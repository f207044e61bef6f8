"""What an event study is asked to do, checked once: :class:`EventStudySpec`.

``event_study``, ``run_study``, ``run_study_parquet``, ``placebo_test`` and ``abnormal_volume``
build one spec from their options (or take ``spec=``) and every result keeps it as ``result.spec``,
so a later step (placebo dates, a robustness rerun) reuses the same model, windows, minimum
estimation size and factor table without being told again.

>>> spec = EventStudySpec(model="market", windows=["0,1", (-1, 1), (0, 1)])
>>> spec.windows
((0, 1), (-1, 1))
>>> spec.replace(model="mean").model.name
'mean'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import IncidentImpactError
from .models import NormalReturnModel, get_model
from .windows import (
    DEFAULT_ESTIMATION,
    DEFAULT_WINDOWS,
    MIN_ESTIMATION_OBS,
    Window,
    format_window,
    normalize_windows,
    parse_window,
)


@dataclass(frozen=True)
class EventStudySpec:
    """A validated, immutable event-study specification.

    Attributes
    ----------
    model : the normal-return model (a name such as ``"market"`` is looked up on construction).
    estimation : estimation window in relative sessions, inclusive; it must end before the first
        event window starts.
    windows : event windows, read by :func:`~.windows.parse_window`, duplicates dropped, order kept.
    min_estimation_obs : fewest estimation returns accepted (a whole number >= 0).
    factors : the daily factor table of the ``ff3``, ``carhart`` and ``ff5`` models (decimals, see
        :func:`~.factors.read_french_factors`), or None. Kept by reference, left out of ``==`` and
        ``hash``; whether a model finds the columns it needs is checked per event (a missing table
        makes each event fail with the reason, as for missing prices).

    Build it directly, or with :meth:`from_options` (None means "keep the base spec's value");
    :meth:`replace` returns a changed, re-validated copy.
    """

    model: NormalReturnModel = field(default_factory=lambda: get_model("market"))
    estimation: Window = DEFAULT_ESTIMATION
    windows: tuple[Window, ...] = DEFAULT_WINDOWS
    min_estimation_obs: int = MIN_ESTIMATION_OBS
    factors: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        model = get_model(self.model)  # a str on input is allowed
        estimation = parse_window(self.estimation)
        windows = normalize_windows(self.windows)
        n = self.min_estimation_obs
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
            raise IncidentImpactError(f"min_estimation_obs must be a whole number of returns >= 0, not {n!r}")
        if self.factors is not None and not isinstance(self.factors, pd.DataFrame):
            raise IncidentImpactError("factors must be a DataFrame of daily factor returns (see read_french_factors)")
        first = min(w[0] for w in windows)
        if estimation[1] >= first:
            raise IncidentImpactError(
                f"the estimation window {format_window(estimation)} overlaps the event window starting at day "
                f"{first}; end it before day {first}"
            )
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "estimation", estimation)
        object.__setattr__(self, "windows", windows)
        object.__setattr__(self, "min_estimation_obs", int(n))

    # ------------------------------------------------------------ building
    @classmethod
    def from_options(
        cls,
        spec: EventStudySpec | None = None,
        *,
        model: str | NormalReturnModel | None = None,
        estimation: Window | str | None = None,
        windows: Iterable[Window | str] | None = None,
        min_estimation_obs: int | None = None,
        factors: pd.DataFrame | None = None,
    ) -> EventStudySpec:
        """``spec`` (default: the defaults) with every option that is not None put in its place."""
        if spec is not None and not isinstance(spec, EventStudySpec):
            raise IncidentImpactError(f"spec must be an EventStudySpec, not {type(spec).__name__}")
        changes: dict[str, Any] = {
            k: v
            for k, v in (
                ("model", model),
                ("estimation", estimation),
                ("windows", windows),
                ("min_estimation_obs", min_estimation_obs),
                ("factors", factors),
            )
            if v is not None
        }
        if spec is None:
            return cls(**changes)
        return spec.replace(**changes) if changes else spec

    def replace(self, **changes: Any) -> EventStudySpec:
        """A copy with ``changes`` (field names as keys), validated again."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise IncidentImpactError(f"EventStudySpec has no field(s) {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------ derived
    @property
    def model_name(self) -> str:
        return self.model.name

    @property
    def event_period(self) -> Window:
        """First and last relative day of the windows (the rows each result keeps)."""
        return min(w[0] for w in self.windows), max(w[1] for w in self.windows)

    def describe(self) -> str:
        """One line: model, estimation window, windows and minimum estimation size."""
        factors = "" if self.factors is None else f", factors {len(self.factors.columns)} columns"
        windows = " ".join(format_window(w) for w in self.windows)
        return (
            f"{self.model.name} model, estimation {format_window(self.estimation)} (at least "
            f"{self.min_estimation_obs} returns), windows {windows}{factors}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``model, estimation, windows, min_estimation_obs, factors`` (the factor columns or None)."""
        return {
            "model": self.model.name,
            "estimation": list(self.estimation),
            "windows": [list(w) for w in self.windows],
            "min_estimation_obs": self.min_estimation_obs,
            "factors": None if self.factors is None else [str(c) for c in self.factors.columns],
        }
