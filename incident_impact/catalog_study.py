"""The catalog-wide study: of N real incidents, how many moved the stock?

Each catalog incident is analysed on its own (:func:`incident_impact.analysis.analyze`: verdict,
money, peers, robustness, confounders); the analysed events, with any events of the user's own,
then go through one multi-event study (:func:`incident_impact.eventstudy.run_study`) for the
cross-sectional tests on CAAR. Per-incident significance is judged on Benjamini-Hochberg (1995)
adjusted p-values across the incidents of a window, so "k incidents showed significant harm"
controls the false discovery rate rather than counting 5 % false alarms per incident.
Incidents that cannot be studied are listed with the reason, never silently dropped.

An incident whose window also holds other news that can move the stock (earnings, an analyst
action, other company news; see :attr:`IncidentAnalysis.confounders`) is *confounded* in that
window: its numbers are shown, but it is counted apart, and the answer and the cross-sectional
tests use the clean sample (the other incidents) unless ``include_confounded`` makes every
incident the headline; the figures of the other sample are always given beside them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd

from .aftermath import (
    CarDrivers,
    LiteratureComparison,
    LongRunStudy,
    PooledEffect,
    compare_with_literature,
    explain_cars,
    incident_characteristics,
    longrun_study,
    pooled_effect,
)
from .aftermath.response import ResponseSummary, response_summary
from .analysis import IncidentAnalysis, analyze
from .catalog import Incident
from .display import html_block, short_repr
from .distributions import t_ppf
from .errors import IncidentImpactError, TickerNotFoundError
from .eventstudy import (
    DEFAULT_ESTIMATION,
    MIN_ESTIMATION_OBS,
    StudyResult,
    format_window,
    parse_window,
    run_study,
)
from .eventstudy.spec import EventStudySpec
from .eventstudy.volatility import abnormal_volatility
from .eventstudy.volume import volume_series, volume_study
from .eventstudy.windows import Window
from .loading import load_study_data, merge_returns, not_applicable_reason
from .money import format_money
from .plain import p_text, window_phrase
from .prices import PriceSource
from .verdict import (
    CONFOUNDED,
    DEFAULT_BOUND,
    GAIN,
    HARM,
    HEADLINE_WINDOW,
    INCONCLUSIVE,
    NO_EFFECT,
    VERDICT_TEXT,
    verdict_frame,
)

#: Default windows of a catalog study: the headline window first.
STUDY_WINDOWS: tuple[Window, ...] = (HEADLINE_WINDOW, (-1, 1), (0, 5))
_FAILURE_COLUMNS = ["event_id", "ticker", "event_date", "reason", "detail"]


@dataclass(frozen=True, eq=False)
class CatalogStudy:
    """Per-incident verdicts and the cross-sectional tests of a multi-incident study.

    Attributes
    ----------
    analyses : the incidents analysed, keyed by id (in catalog order).
    study : the multi-event study of every analysed event (None when none could be studied).
    failures : events not studied for want of data or by an error (missing or short price files,
        failed downloads): ``event_id, ticker, event_date, reason, detail`` (``reason`` one short
        line, ``detail`` the full text, e.g. the network error).
    clean : per window, the multi-event study of the events not confounded in it (None when
        every event is confounded there).
    bound, alpha : materiality bound and level of the verdicts.
    include_confounded : whether the headline figures (answer, tests, counts) use every event
        rather than the clean sample.
    not_applicable : incidents that cannot be studied by nature, with the reason (same columns as
        ``failures``): a private company (no ticker), or a company listed after the incident (its
        first price comes after the estimation window's first session, so that window cannot exist).
        They are no failure of the run.
    bootstrap : ``(B, seed, kind)``: every test table also has bootstrap p-values from ``B`` resamples
        that keep the cross-sectional dependence (see :meth:`StudyResult.tests`); None: not computed.
    """

    analyses: Mapping[str, IncidentAnalysis]
    study: StudyResult | None
    failures: pd.DataFrame
    clean: Mapping[Window, StudyResult | None]
    bound: float = DEFAULT_BOUND
    alpha: float = 0.05
    include_confounded: bool = False
    not_applicable: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_FAILURE_COLUMNS))
    bootstrap: tuple[int, int | None, str] | None = None

    @property
    def spec(self) -> EventStudySpec | None:
        """The event-study specification every incident was studied with (None when none was)."""
        return None if self.study is None else self.study.spec

    @property
    def windows(self) -> tuple[Window, ...]:
        return self.study.windows if self.study is not None else ()

    @property
    def headline_window(self) -> Window:
        return self.windows[0]

    @property
    def n_events(self) -> int:
        return 0 if self.study is None else self.study.n_events

    def _window(self, window: Window | str | None) -> Window:
        if not self.windows:
            raise IncidentImpactError("no event could be studied, so there are no windows")
        return self.headline_window if window is None else parse_window(window)

    def _studied(self) -> StudyResult:
        """The study of every event; raises as :meth:`_window` does when no event could be studied."""
        if self.study is None:
            raise IncidentImpactError("no event could be studied, so there are no windows")
        return self.study

    def verdict_table(self, window: Window | str | None = None) -> pd.DataFrame:
        """One row per studied event over ``window`` (default: the headline window), indexed by
        ``event_id``: ``ticker, name, category, day0, car, se, df, p_value, p_bh, tost_p_value, mde,
        verdict, confounded, depends_on_model, value_change, value_change_lower, value_change_upper,
        claimed_impact, confounders``.

        ``verdict`` judges significance on ``p_bh`` (BH across every event of this window,
        confounded ones included, so an incident's verdict does not depend on the sample counted)
        and equivalence on the unadjusted TOST; ``confounded`` tells whether other news that can
        move the stock falls inside the window; ``depends_on_model`` whether the incident's own
        robustness table (unadjusted verdicts) disagrees across specifications in this window.
        """
        window = self._window(window)
        cars = self._studied().car_frame(window)
        table = verdict_frame(cars, bound=self.bound, alpha=self.alpha)
        table.insert(0, "ticker", cars["ticker"])
        table.insert(1, "day0", cars["day0"].dt.date)
        label = format_window(window)
        info = {}
        for eid in table.index:
            analysis = self.analyses.get(eid)
            row: dict[Hashable, Any] = {
                "name": eid,
                "category": "",
                "claimed_impact": "",
                "confounders": "",
                "depends_on_model": None,
                "confounded": False,
                "value_change": np.nan,
                "value_change_lower": np.nan,
                "value_change_upper": np.nan,
            }
            if analysis is not None:
                inc = analysis.incident
                flagged = analysis.confounders
                flagged = flagged[flagged["window"] == label]
                row |= {
                    "name": inc.name,
                    "category": inc.category,
                    "claimed_impact": inc.claimed_impact,
                    "confounded": bool(len(flagged)),
                    "confounders": "; ".join(
                        f"{r.kind} on {r.date} (day {r.rel_day:+d})" for r in flagged.itertuples()
                    ),
                }
                if analysis.robustness is not None:
                    row["depends_on_model"] = analysis.robustness.depends_on_choice(label)
                own = analysis.verdicts().loc[label]
                if "value_change" in own:
                    row |= own[["value_change", "value_change_lower", "value_change_upper"]].to_dict()
            info[eid] = row
        extra = pd.DataFrame.from_dict(info, orient="index")
        table = table.join(extra)
        order = [
            "ticker",
            "name",
            "category",
            "day0",
            "car",
            "se",
            "df",
            "p_value",
            "p_bh",
            "tost_p_value",
            "mde",
            "verdict",
            "confounded",
            "depends_on_model",
            "value_change",
            "value_change_lower",
            "value_change_upper",
            "claimed_impact",
            "confounders",
        ]
        return table[order].rename_axis("event_id")

    def counts(self, window: Window | str | None = None) -> pd.Series:
        """Number of events per verdict class, zeros included: the four verdicts of the headline
        sample, and ``confounded``, the events with other news inside ``window`` (counted apart by
        default, so the five add up to the events studied; with ``include_confounded`` they are also
        in the four verdicts)."""
        table = self.verdict_table(window)
        counted = table if self.include_confounded else table[~table["confounded"]]
        found = counted["verdict"].value_counts()
        counts = {v: int(found.get(v, 0)) for v in (HARM, GAIN, NO_EFFECT, INCONCLUSIVE)}
        return pd.Series(counts | {CONFOUNDED: int(table["confounded"].sum())}, name="events")

    def sample_study(self, window: Window | str | None = None, *, clean: bool | None = None) -> StudyResult | None:
        """The multi-event study behind the headline figures of ``window``: the clean sample's
        (``clean=True``), every event's (``clean=False``) or the default's (None: clean unless
        ``include_confounded``)."""
        window = self._window(window)
        clean = (not self.include_confounded) if clean is None else clean
        return self.clean.get(window) if clean else self.study

    def tests(self, window: Window | str | None = None, *, clean: bool | None = None) -> pd.DataFrame:
        """The cross-sectional tests of :meth:`StudyResult.tests` over ``window``, on the clean sample
        or on every event (see :meth:`sample_study`), with bootstrap p-values when :attr:`bootstrap`
        is set; NaN rows with the reason when the sample is empty."""
        window = self._window(window)
        study = self.sample_study(window, clean=clean)
        if study is None:
            return (
                self._studied()
                .tests(window)
                .assign(statistic=np.nan, p_value=np.nan, n_events=0, note="no event without other news in this window")
            )
        if self.bootstrap is None:
            return study.tests(window)
        n, seed, kind = self.bootstrap
        return study.tests(window, bootstrap=n, seed=seed, kind=kind)

    @cached_property
    def caar_path(self) -> pd.DataFrame:
        """By relative day ``k`` of the event period: ``n_events, caar, se, lower, upper``, where
        ``caar`` is the mean over events of the CAR cumulated from the first event day to ``k`` and
        ``se`` its cross-sectional standard error ``sd / sqrt(N)`` (95 % band from Student's t); over the
        headline sample of the headline window (the clean one by default)."""
        study = self.sample_study() or self._studied()
        ar = study.abnormal_returns.sort_values(["event_id", "rel_day"])
        ar = ar.assign(car=ar.groupby("event_id")["ar"].cumsum())
        # named aggregation gives a DataFrame (pandas-stubs types SeriesGroupBy.agg as a Series)
        path = cast(pd.DataFrame, ar.groupby("rel_day")["car"].agg(n_events="size", caar="mean", sd="std"))
        path["se"] = path["sd"] / np.sqrt(path["n_events"])
        half = t_ppf(0.975, (path["n_events"] - 1).clip(lower=1)) * path["se"]
        path["lower"], path["upper"] = path["caar"] - half, path["caar"] + half
        return path[["n_events", "caar", "se", "lower", "upper"]]

    def _sample_line(self, table: pd.DataFrame, tests: pd.DataFrame, label: str, what: str) -> str:
        cs, bmp = tests.loc["cs_t"], tests.loc["bmp"]
        what = f" {what}" if what else ""
        return (
            f"The mean CAR{label}{what} was {100 * table['car'].mean():+.2f} % "
            f"(median {100 * table['car'].median():+.2f} %; "
            f"cross-sectional t = {cs.statistic:.2f}, p = {cs.p_value:.3f}; BMP p = {bmp.p_value:.3f})."
        )

    def answer(self, window: Window | str | None = None) -> str:
        """The statistical answer to "did the disasters move the stock?" over ``window``: the verdict
        counts and mean CAR of the headline sample (clean by default), the other sample's mean beside it."""
        window = self._window(window)
        label = format_window(window)
        table = self.verdict_table(window)
        counts = self.counts(window)
        n, n_conf = len(table), counts[CONFOUNDED]
        clean_table = table[~table["confounded"]]
        head_table = table if self.include_confounded else clean_table
        parts = [f"Of {n} incident{'s' if n != 1 else ''} with price data, "]
        if n_conf and not self.include_confounded:
            parts[0] += (
                f"{n_conf} had other news that can move the stock (earnings, analyst actions, company news) "
                f"inside {label} and are counted apart as confounded; of the other {len(clean_table)}, "
            )
        elif n_conf:
            parts[0] += f"counting the {n_conf} with other news inside {label} (confounded) as well, "
        parts[0] += (
            f"{counts[HARM]} showed significant harm (CAR{label} below zero at {100 * self.alpha:g} % after the "
            f"Benjamini-Hochberg adjustment across incidents), {counts[GAIN]} a significant gain, and "
            f"{counts[NO_EFFECT]} no material effect (|CAR{label}| < {100 * self.bound:g} % shown by two one-sided "
            f"tests); the other {counts[INCONCLUSIVE]} were inconclusive (too noisy to tell either way)."
        )
        if len(head_table) >= 2:
            what = "" if not n_conf else ("of all incidents" if self.include_confounded else "of the clean sample")
            parts.append(self._sample_line(head_table, self.tests(window), label, what))
        if n_conf and len(table) >= 2:
            other = table if not self.include_confounded else clean_table
            if len(other) >= 2:
                what = (
                    "of all incidents, confounded ones included,"
                    if not self.include_confounded
                    else "of the clean sample (confounded incidents left out)"
                )
                parts.append(self._sample_line(other, self.tests(window, clean=self.include_confounded), label, what))
        known = head_table["value_change"].dropna()
        if len(known):
            # event ids are strings (catalog ids, the events CSV read with dtype=str)
            low, high = cast(str, known.idxmin()), cast(str, known.idxmax())
            names = table["name"]
            parts.append(
                f"Where the market value is known ({len(known)} incident{'s' if len(known) != 1 else ''}), "
                f"the value change ranged from {format_money(known[low])} ({names[low]}) "
                f"to {format_money(known[high])} ({names[high]})."
            )
        if len(self.not_applicable):
            parts.append(
                f"{len(self.not_applicable)} incident(s) cannot be studied by nature (a private company, or "
                "one listed after the incident) and are listed as not applicable."
            )
        if len(self.failures):
            parts.append(
                f"{len(self.failures)} event(s) could not be studied (too short a history or no price "
                "data) and are listed with the reason."
            )
        return " ".join(parts)

    def plain(self, window: Window | str | None = None) -> str:
        """The answer in plain words for a reader who is not a statistician (headline sample)."""
        window = self._window(window)
        label = format_window(window)
        table = self.verdict_table(window)
        counts = self.counts(window)
        sample = table if self.include_confounded else table[~table["confounded"]]
        n = len(sample)
        if n == 0:
            return (
                f"Every studied incident had other news that can move the stock inside {label}, so the study "
                "cannot separate the incidents' effect from that news."
            )
        moved = counts[HARM] + counts[GAIN]
        where = window_phrase(window)
        text = (
            f"{where[0].upper()}{where[1:]}, {moved} of the {n} incidents"
            f"{'' if self.include_confounded or not counts[CONFOUNDED] else ' without other news in those days'} "
            f"moved their company's stock by more than its ordinary ups and downs ({counts[HARM]} down, "
            f"{counts[GAIN]} up); for {counts[INCONCLUSIVE]} the stock was too volatile to tell, and "
            f"{counts[NO_EFFECT]} showed no material effect."
        )
        pooled = self.pooled(window) if n >= 3 else None
        if pooled is not None and not pooled.reason:
            est, lo, hi = pooled.estimate, pooled.ci_lower, pooled.ci_upper
            sure = (
                "not distinguishable from no effect"
                if lo < 0 < hi
                else f"a {'fall' if est < 0 else 'rise'} that is unlikely to be chance"
            )
            text += (
                f" The average incident (each weighted by how precisely its stock's move is measured) did "
                f"{100 * abs(est):.1f} % {'worse' if est < 0 else 'better'} than expected (95 % interval "
                f"{100 * lo:+.1f} % to {100 * hi:+.1f} %): {sure}"
            )
            text += (
                f", and an average effect as large as {100 * self.bound:g} % either way is ruled out."
                if pooled.equivalence_p < self.alpha
                else "."
            )
            text += (
                f" Incidents differ, though: a new one's effect would typically lie between "
                f"{100 * pooled.prediction_lower:+.1f} % and {100 * pooled.prediction_upper:+.1f} %."
            )
            cs_p = cast(float, self.tests(window).at["cs_t", "p_value"])  # one cell: a number
            mean = sample["car"].mean()
            text += (
                f" The simple mean ({100 * mean:+.1f} %, {p_text(cs_p)}) gives the most volatile stocks "
                "as much weight as the others."
            )
        if counts[CONFOUNDED] and not self.include_confounded:
            text += (
                f" {counts[CONFOUNDED]} more had earnings or other news in the same days and are counted apart, "
                "because their moves cannot be put on the incident alone."
            )
        return text

    def to_dict(self) -> dict:
        """JSON-ready: settings, the headline window, per-window plain and statistical answers,
        counts (with ``confounded``), verdicts (each with ``confounded``), the tests of the headline
        sample (``tests``) and of the other sample (``tests_other``), the pooled random-effects estimate
        (``pooled``) and the literature beside it; the failures; ``recovery`` (long-horizon tests across
        incidents and each incident's recovery), ``response``, and ``drivers`` (None: :meth:`drivers` is
        costly, ask for it)."""
        windows = []
        for w in self.windows:
            table = self.verdict_table(w).reset_index()
            table["day0"] = table["day0"].astype(str)
            windows.append(
                {
                    "window": format_window(w),
                    "plain": self.plain(w),
                    "answer": self.answer(w),
                    "counts": self.counts(w).to_dict(),
                    "verdicts": _records(table),
                    "sample": "all incidents" if self.include_confounded else "clean (confounded incidents apart)",
                    "tests": _records(self.tests(w).reset_index(names="test")),
                    "tests_other": _records(self.tests(w, clean=self.include_confounded).reset_index(names="test")),
                    "pooled": self.pooled(w).to_dict(),
                    "literature": self.literature(w).to_dict(),
                }
            )
        return {
            "model": self.study.model if self.study is not None else None,
            "bound": self.bound,
            "alpha": self.alpha,
            "headline_window": format_window(self.headline_window) if self.windows else None,
            "include_confounded": self.include_confounded,
            "n_events": self.n_events,
            "windows": windows,
            "failures": _records(self.failures.astype({"event_date": str})),
            "not_applicable": _records(self.not_applicable.astype({"event_date": str})),
            "warnings": list(self.study.warnings) if self.study is not None else [],
            "recovery": None
            if self.long_run is None
            else {
                **self.long_run.to_dict(),
                "incidents": {
                    eid: a.aftermath.recovery.to_dict()
                    for eid, a in self.analyses.items()
                    if a.aftermath is not None and a.aftermath.recovery is not None
                },
            },
            "response": None if self.responses is None else self.responses.to_dict(),
            "drivers": None,
        }

    def _sample_table(self, window: Window, clean: bool | None) -> pd.DataFrame:
        table = self.verdict_table(window)
        clean = (not self.include_confounded) if clean is None else clean
        return table[~table["confounded"]] if clean else table

    def pooled(
        self, window: Window | str | None = None, *, method: str = "DL", clean: bool | None = None
    ) -> PooledEffect:
        """Random-effects pooled CAR of ``window`` over the headline sample (clean unless
        ``include_confounded``; ``clean`` overrides), with the same per category: the direct test of
        "rarely affected" (see :func:`incident_impact.aftermath.pooled_effect`)."""
        window = self._window(window)
        table = self._sample_table(window, clean)
        return pooled_effect(
            table["car"],
            table["se"],
            method=method,
            bound=self.bound,
            by=table["category"].replace("", np.nan),
            window=format_window(window),
        )

    def drivers(
        self,
        window: Window | str | None = None,
        *,
        permutations: int = 9999,
        seed: int = 20260514,
        clean: bool | None = None,
    ) -> CarDrivers:
        """What makes an incident matter: the CARs of ``window`` regressed on the incidents'
        characteristics (HC3 errors, Freedman-Lane permutation p; :func:`incident_impact.aftermath.explain_cars`).
        Events of a user's file have no characteristics and are left out."""
        window = self._window(window)
        table = self._sample_table(window, clean)
        frame = table[["car", "se"]].join(incident_characteristics(self.analyses), how="inner")
        return explain_cars(frame, permutations=permutations, seed=seed)

    def literature(self, window: Window | str | None = None) -> LiteratureComparison:
        """The pooled estimate of ``window`` beside the published studies, and what the catalog is
        (selected on fame)."""
        window = self._window(window)
        return compare_with_literature(self.pooled(window), window)

    @cached_property
    def long_run(self) -> LongRunStudy | None:
        """BHAR (conventional, skewness-adjusted and bootstrapped t; Lyon, Barber & Tsai 1999), the
        calendar-time portfolio alpha and the share recovered over [0,+20/+60/+120], across the
        incidents of the headline sample (clean by default) with a long history; None when none has one."""
        if not self.windows:
            return None
        table = self._sample_table(self.headline_window, None)
        chosen = {
            eid: (self.analyses[eid], after)
            for eid in table.index
            if eid in self.analyses and (after := self.analyses[eid].aftermath) is not None
        }
        if not chosen:
            return None
        returns: dict[str, pd.Series] = {}
        benches: dict[str, pd.Series] = {}
        events: list[dict] = []
        for eid, (a, after) in chosen.items():
            merge_returns(returns, a.stock.ticker, after.stock_returns)
            merge_returns(benches, a.benchmark_ticker, after.benchmark_returns)
            events.append({"event_id": eid, "ticker": a.stock.ticker, "day0": a.day0, "benchmark": a.benchmark_ticker})
        recoveries = {eid: after.recovery for eid, (_, after) in chosen.items() if after.recovery is not None}
        try:
            return longrun_study(
                pd.DataFrame(returns), pd.DataFrame(benches), pd.DataFrame(events), recoveries=recoveries
            )
        except IncidentImpactError:
            return None

    @cached_property
    def responses(self) -> ResponseSummary | None:
        """After the companies' responses: did stocks keep falling, stabilise or recover, and does the
        kind of response matter? (first observable response of each incident of the headline sample)."""
        if not self.windows:
            return None
        table = self._sample_table(self.headline_window, None)
        effects, without = {}, 0
        for eid in table.index:
            after = self.analyses[eid].aftermath if eid in self.analyses else None
            if after is None:
                continue
            if len(after.responses):
                effects[eid] = after.responses
            else:
                without += 1
        return response_summary(effects, without) if effects else None

    def outcome(self, outcome: str) -> dict:
        """Another outcome than returns across the studied incidents: ``"volume"`` (abnormal log volume,
        every test of :meth:`StudyResult.tests`, Campbell & Wasley 1996) or ``"volatility"`` (abnormal
        volatility per window over the headline sample). ``{"outcome", "text", "data", "table"}``."""
        if self.study is None:
            raise IncidentImpactError("no event could be studied, so there is no outcome to add")
        if outcome == "volume":
            volumes = pd.DataFrame({a.stock.ticker: volume_series(a.stock) for a in self.analyses.values()})
            events = pd.DataFrame(
                [{"event_id": eid, "ticker": a.stock.ticker, "event_date": a.day0} for eid, a in self.analyses.items()]
            )
            res = volume_study(volumes, events, spec=self.study.spec.replace(model="mean"))
            tables = {format_window(w): res.tests(w) for w in res.windows}
            text = "Abnormal trading volume across incidents (log volume, mean model)\n" + "\n".join(
                f"{label}\n{t[['statistic', 'p_value', 'n_events']].round(4).to_string()}"
                for label, t in tables.items()
            )
            return {
                "outcome": "volume",
                "text": text,
                "data": {k: _records(t.reset_index(names="test")) for k, t in tables.items()},
                "table": pd.concat(tables, names=["window", "test"]),
            }
        if outcome == "volatility":
            found = {format_window(w): abnormal_volatility(self.sample_study(w) or self.study, w) for w in self.windows}
            text = "Abnormal volatility across incidents\n" + "\n".join(f"{k}: {v.summary()}" for k, v in found.items())
            return {
                "outcome": "volatility",
                "text": text,
                "data": {k: v.to_dict() for k, v in found.items()},
                "table": pd.concat({k: v.tests() for k, v in found.items()}, names=["window", "test"]),
            }
        raise IncidentImpactError(f"unknown outcome {outcome!r}; choose returns, volume or volatility")

    def to_frame(self) -> pd.DataFrame:
        """Every window's :meth:`verdict_table`, stacked: indexed by ``(window, event_id)``."""
        if not self.windows:
            return pd.DataFrame()
        return pd.concat({format_window(w): self.verdict_table(w) for w in self.windows}, names=["window", "event_id"])

    def __repr__(self) -> str:
        if self.study is None:
            return short_repr("CatalogStudy", ["no event could be studied", f"{len(self.failures)} not studied"])
        counts = self.counts()
        return short_repr(
            "CatalogStudy",
            [
                f"{self.n_events} event(s) studied, {len(self.failures)} not; model {self.study.model}",
                f"headline window {format_window(self.headline_window)}: "
                + ", ".join(f"{k} {v}" for k, v in counts.items()),
            ],
        )

    def _repr_html_(self) -> str:
        if self.study is None:
            return html_block("Catalog study", ["No event could be studied."], self.failures)
        return html_block("Catalog study", [self.plain(), self.answer()], self.verdict_table())

    def summary(self) -> str:
        """Plain text: the answer, the verdict table and the tests of each window, then what was left out."""
        if self.study is None:
            return "No event could be studied."
        lines = [
            self.plain(),
            "",
            f"Model {self.study.model}, estimation {format_window(self.study.estimation_window)}: "
            f"{self.n_events} event(s) studied; headline window {format_window(self.headline_window)}",
            "",
        ]
        for w in self.windows:
            label = format_window(w)
            table = self.verdict_table(w)
            counts = self.counts(w)
            lines += [f"Window {label}", self.answer(w), ""]
            shown = pd.DataFrame(
                {
                    "ticker": table["ticker"],
                    "CAR %": (100 * table["car"]).round(2),
                    "SE %": (100 * table["se"]).round(2),
                    "p": table["p_value"].round(4),
                    "p BH": table["p_bh"].round(4),
                    "TOST p": table["tost_p_value"].round(4),
                    "MDE %": (100 * table["mde"]).round(2),
                    "verdict": table["verdict"],
                    "other news": table["confounders"].where(table["confounded"], ""),
                }
            )
            lines += [shown.to_string(), ""]
            lines += ["Verdict counts: " + ", ".join(f"{VERDICT_TEXT[str(k)]} {v}" for k, v in counts.items()), ""]
            tests = self.tests(w)
            tests = tests[[c for c in ("statistic", "p_value", "bootstrap_p_value", "n_events") if c in tests]].round(4)
            sample = "every incident" if self.include_confounded else "incidents without other news in the window"
            lines += [f"Tests across incidents ({sample}):", tests.to_string(), ""]
            lines += ["Pooled (random effects): " + self.pooled(w).sentence(), ""]
            if w == self.headline_window:
                comparison = self.literature(w)
                lines += [comparison.sentence, comparison.selection, ""]
        if self.long_run is not None:
            lines += [self.long_run.summary(), ""]
        if self.responses is not None:
            lines += ["After the companies' responses", self.responses.summary(), ""]
        return "\n".join(lines).rstrip()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN as None (valid JSON)."""
    return [
        {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def read_events_csv(path: str) -> list[dict]:
    """Rows of a user's events CSV (``event_id, ticker, event_date`` and optional ``benchmark``) as dicts."""
    try:
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig").fillna("")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise IncidentImpactError(f"cannot read the events file {path}: {exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("event_id", "ticker", "event_date") if c not in frame.columns]
    if missing:
        raise IncidentImpactError(f"the events file {path} lacks the column(s) {', '.join(missing)}")
    dup = frame["event_id"][frame["event_id"].duplicated()]
    if len(dup):
        raise IncidentImpactError(f"duplicate event ids in {path}: {', '.join(dup.unique()[:5])}")
    return frame.to_dict("records")


def study_incidents(
    incidents: Iterable[Incident],
    *,
    user_events: Iterable[dict] = (),
    source: PriceSource,
    model: str = "market",
    estimation: Window | str = DEFAULT_ESTIMATION,
    windows: Iterable[Window | str] = STUDY_WINDOWS,
    factors: pd.DataFrame | None = None,
    min_estimation_obs: int = MIN_ESTIMATION_OBS,
    bound: float = DEFAULT_BOUND,
    alpha: float = 0.05,
    include_confounded: bool = False,
    peers: bool = True,
    robustness: bool = True,
    progress: Callable[[str], None] | None = None,
) -> CatalogStudy:
    """Analyse each incident, then study them together.

    Parameters
    ----------
    incidents : catalog incidents (private companies and companies listed after the incident are
        not applicable; incidents without data become failures).
    user_events : rows ``event_id, ticker, event_date`` (day-0 session), optional ``benchmark``.
    source, model, estimation, windows, factors, min_estimation_obs, bound, peers, robustness :
        as in :func:`incident_impact.analysis.analyze`.
    alpha : level of the tests and of the BH false discovery rate.
    include_confounded : make every incident the headline sample (answer, counts, tests); by
        default incidents with other news inside a window are counted apart in that window.
    progress : called with each incident's id once it is analysed (or failed), e.g. to move a
        progress bar.
    """
    if not bound > 0:
        raise IncidentImpactError(f"the materiality bound must be positive, got {bound}")
    estimation = parse_window(estimation)
    study_windows: tuple[Window, ...] = tuple(dict.fromkeys(parse_window(w) for w in windows))
    analyses: dict[str, IncidentAnalysis] = {}
    failures: list[dict] = []
    not_applicable: list[dict] = []
    for inc in incidents:
        try:
            analysis = analyze(
                inc,
                source=source,
                model=model,
                estimation=estimation,
                windows=study_windows,
                factors=factors,
                headline=study_windows[0],
                min_estimation_obs=min_estimation_obs,
                bound=bound,
                peers=peers,
                robustness=robustness,
            )
        except IncidentImpactError as exc:
            row = {
                "event_id": inc.id,
                "ticker": inc.ticker or "",
                "event_date": inc.incident_date.isoformat(),
                "reason": str(exc),
                "detail": getattr(exc, "detail", None) or str(exc),
            }
            # no prices at all is missing data; a private company or a late listing is no failure
            why = None if isinstance(exc, TickerNotFoundError) else not_applicable_reason(source, inc, estimation)
            if why:
                not_applicable.append(row | {"reason": f"{inc.id}: {why}"})
            else:
                failures.append(row)
            continue
        finally:
            if progress is not None:
                progress(inc.id)
        analyses[inc.id] = analysis
    returns: dict[str, pd.Series] = {}
    benches: dict[str, pd.Series] = {}
    events: list[dict] = []
    for eid, a in analyses.items():
        merge_returns(returns, a.stock.ticker, a.stock.returns())
        merge_returns(benches, a.benchmark_ticker, a.benchmark.returns())
        events.append(
            {"event_id": eid, "ticker": a.stock.ticker, "event_date": a.day0, "benchmark": a.benchmark_ticker}
        )
    user_events = list(user_events)
    if user_events:
        u_returns, u_benches, u_events, u_failures = load_study_data([], user_events, source, estimation, study_windows)
        for store, more in ((returns, u_returns), (benches, u_benches)):
            for key, series in more.items():
                merge_returns(store, key, series)
        events += u_events
        failures += u_failures

    def study_of(chosen: list[dict], over: tuple[Window, ...]) -> StudyResult | None:
        if not chosen:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run_study(
                pd.DataFrame(returns),
                pd.DataFrame(benches),
                pd.DataFrame(chosen),
                model=model,
                estimation=estimation,
                windows=over,
                factors=factors,
                min_estimation_obs=min_estimation_obs,
            )

    study, clean = study_of(events, study_windows), {}
    if study is not None:
        failures += [
            {**r, "event_date": str(pd.Timestamp(r["event_date"]).date())} for r in study.failures.to_dict("records")
        ]
        if study.n_events == 0:
            study = None
    if study is not None:
        for w in study_windows:
            keep = [
                e
                for e in events
                if e["event_id"] in study.event_ids
                and not (e["event_id"] in analyses and analyses[e["event_id"]].is_confounded(w))
            ]
            clean[w] = study if len(keep) == study.n_events else study_of(keep, study_windows)
    failures = [{**r, "detail": r.get("detail") or r.get("reason")} for r in failures]
    return CatalogStudy(
        analyses,
        study,
        pd.DataFrame(failures, columns=_FAILURE_COLUMNS),
        clean,
        bound,
        alpha,
        include_confounded,
        pd.DataFrame(not_applicable, columns=_FAILURE_COLUMNS),
    )
