"""The catalog-wide study: of N real incidents, how many moved the stock?

Each catalog incident is analysed on its own (:func:`incident_impact.analysis.analyze`: verdict,
money, peers, robustness, confounders); the analysed events, with any events of the user's own,
then go through one multi-event study (:func:`incident_impact.eventstudy.run_study`) for the
cross-sectional tests on CAAR. Per-incident significance is judged on Benjamini-Hochberg (1995)
adjusted p-values across the incidents of a window, so "k incidents showed significant harm"
controls the false discovery rate rather than counting 5 % false alarms per incident.
Incidents that cannot be studied are listed with the reason, never silently dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .analysis import IncidentAnalysis, analyze, load_study_data
from .catalog import Incident
from .distributions import t_ppf
from .errors import IncidentImpactError
from .eventstudy import (DEFAULT_ESTIMATION, MIN_ESTIMATION_OBS, StudyResult, format_window, parse_window,
                         run_study)
from .eventstudy.windows import Window
from .money import format_money
from .prices import PriceSource
from .verdict import DEFAULT_BOUND, GAIN, HARM, INCONCLUSIVE, NO_EFFECT, VERDICT_TEXT, verdict_frame

#: Default windows of a catalog study: the headline window first.
STUDY_WINDOWS: tuple[Window, ...] = ((0, 1), (-1, 1), (0, 5))
_FAILURE_COLUMNS = ["event_id", "ticker", "event_date", "reason"]


@dataclass(frozen=True, eq=False)
class CatalogStudy:
    """Per-incident verdicts and the cross-sectional tests of a multi-incident study.

    Attributes
    ----------
    analyses : the incidents analysed, keyed by id (in catalog order).
    study : the multi-event study of every analysed event (None when none could be studied).
    failures : events not studied: ``event_id, ticker, event_date, reason``.
    excluded : incidents dropped for confounding news inside a window: ``event_id, reason``.
    bound, alpha : materiality bound and level of the verdicts.
    """

    analyses: Mapping[str, IncidentAnalysis]
    study: StudyResult | None
    failures: pd.DataFrame
    excluded: pd.DataFrame
    bound: float = DEFAULT_BOUND
    alpha: float = 0.05

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

    def verdict_table(self, window: Window | str | None = None) -> pd.DataFrame:
        """One row per studied event over ``window`` (default: the headline window), indexed by
        ``event_id``: ``ticker, name, category, day0, car, se, df, p_value, p_bh, tost_p_value, mde,
        verdict, depends_on_model, value_change, value_change_lower, value_change_upper, claimed_impact, confounders``.

        ``verdict`` judges significance on ``p_bh`` (BH across the events of this window) and
        equivalence on the unadjusted TOST; ``depends_on_model`` tells whether the incident's own
        robustness table (unadjusted verdicts) disagrees across specifications in this window.
        """
        window = self._window(window)
        cars = self.study.car_frame(window)
        table = verdict_frame(cars, bound=self.bound, alpha=self.alpha)
        table.insert(0, "ticker", cars["ticker"])
        table.insert(1, "day0", cars["day0"].dt.date)
        label = format_window(window)
        info = {}
        for eid in table.index:
            analysis = self.analyses.get(eid)
            row = {"name": eid, "category": "", "claimed_impact": "", "confounders": "", "depends_on_model": None,
                   "value_change": np.nan, "value_change_lower": np.nan, "value_change_upper": np.nan}
            if analysis is not None:
                inc = analysis.incident
                flagged = analysis.confounders
                flagged = flagged[flagged["window"] == label]
                row |= {"name": inc.name, "category": inc.category, "claimed_impact": inc.claimed_impact,
                        "confounders": "; ".join(f"{r.kind} on {r.date} (day {r.rel_day:+d})" for r in flagged.itertuples())}
                if analysis.robustness is not None:
                    row["depends_on_model"] = analysis.robustness.depends_on_choice(label)
                own = analysis.verdicts().loc[label]
                if "value_change" in own:
                    row |= own[["value_change", "value_change_lower", "value_change_upper"]].to_dict()
            info[eid] = row
        extra = pd.DataFrame.from_dict(info, orient="index")
        table = table.join(extra)
        order = ["ticker", "name", "category", "day0", "car", "se", "df", "p_value", "p_bh", "tost_p_value", "mde",
                 "verdict", "depends_on_model", "value_change", "value_change_lower", "value_change_upper",
                 "claimed_impact", "confounders"]
        return table[order].rename_axis("event_id")

    def counts(self, window: Window | str | None = None) -> pd.Series:
        """Number of events per verdict class (all four, zeros included)."""
        found = self.verdict_table(window)["verdict"].value_counts()
        return pd.Series({v: int(found.get(v, 0)) for v in (HARM, GAIN, NO_EFFECT, INCONCLUSIVE)}, name="events")

    def tests(self, window: Window | str | None = None) -> pd.DataFrame:
        """The cross-sectional tests of :meth:`StudyResult.tests` over ``window``."""
        return self.study.tests(self._window(window))

    @cached_property
    def caar_path(self) -> pd.DataFrame:
        """By relative day ``k`` of the event period: ``n_events, caar, se, lower, upper``, where
        ``caar`` is the mean over events of the CAR cumulated from the first event day to ``k`` and
        ``se`` its cross-sectional standard error ``sd / sqrt(N)`` (95 % band from Student's t)."""
        ar = self.study.abnormal_returns.sort_values(["event_id", "rel_day"])
        ar = ar.assign(car=ar.groupby("event_id")["ar"].cumsum())
        path = ar.groupby("rel_day")["car"].agg(n_events="size", caar="mean", sd="std")
        path["se"] = path["sd"] / np.sqrt(path["n_events"])
        half = t_ppf(0.975, (path["n_events"] - 1).clip(lower=1)) * path["se"]
        path["lower"], path["upper"] = path["caar"] - half, path["caar"] + half
        return path[["n_events", "caar", "se", "lower", "upper"]]

    def answer(self, window: Window | str | None = None) -> str:
        """The plain-language answer to "did the disasters move the stock?" over ``window``."""
        window = self._window(window)
        label = format_window(window)
        table = self.verdict_table(window)
        counts = self.counts(window)
        n = len(table)
        tests = self.tests(window)
        cs, bmp = tests.loc["cs_t"], tests.loc["bmp"]
        parts = [
            f"Of {n} incident{'s' if n != 1 else ''} with price data, {counts[HARM]} showed significant harm "
            f"(CAR{label} below zero at {100 * self.alpha:g} % after the Benjamini-Hochberg adjustment across incidents), "
            f"{counts[GAIN]} a significant gain, and {counts[NO_EFFECT]} no material effect "
            f"(|CAR{label}| < {100 * self.bound:g} % shown by two one-sided tests); the other {counts[INCONCLUSIVE]} "
            "were inconclusive (too noisy to tell either way).",
            f"The mean CAR{label} was {100 * table['car'].mean():+.2f} % (median {100 * table['car'].median():+.2f} %; "
            f"cross-sectional t = {cs.statistic:.2f}, p = {cs.p_value:.3f}; BMP p = {bmp.p_value:.3f}).",
        ]
        known = table["value_change"].dropna()
        if len(known):
            low, high = known.idxmin(), known.idxmax()
            parts.append(f"Where the market value is known ({len(known)} incident{'s' if len(known) != 1 else ''}), "
                         f"the value change ranged from {format_money(known[low])} ({table.at[low, 'name']}) "
                         f"to {format_money(known[high])} ({table.at[high, 'name']}).")
        if len(self.failures):
            parts.append(f"{len(self.failures)} event(s) could not be studied (private company, too short a history "
                         "or no price data) and are listed with the reason.")
        if len(self.excluded):
            parts.append(f"{len(self.excluded)} incident(s) were excluded because other news fell inside a window.")
        return " ".join(parts)

    def to_dict(self) -> dict:
        """JSON-ready: settings, per-window verdicts, counts, tests and answers, failures and exclusions."""
        windows = []
        for w in self.windows:
            table = self.verdict_table(w).reset_index()
            table["day0"] = table["day0"].astype(str)
            windows.append({
                "window": format_window(w),
                "answer": self.answer(w),
                "counts": self.counts(w).to_dict(),
                "verdicts": _records(table),
                "tests": _records(self.tests(w).reset_index(names="test")),
            })
        return {
            "model": self.study.model if self.study is not None else None,
            "bound": self.bound,
            "alpha": self.alpha,
            "n_events": self.n_events,
            "windows": windows,
            "failures": _records(self.failures.astype({"event_date": str})),
            "excluded": _records(self.excluded),
            "warnings": list(self.study.warnings) if self.study is not None else [],
        }

    def summary(self) -> str:
        """Plain text: the answer, the verdict table and the tests of each window, then what was left out."""
        if self.study is None:
            return "No event could be studied."
        lines = [f"Model {self.study.model}, estimation {format_window(self.study.estimation_window)}: "
                 f"{self.n_events} event(s) studied", ""]
        for w in self.windows:
            label = format_window(w)
            table = self.verdict_table(w)
            counts = self.counts(w)
            lines += [f"Window {label}", self.answer(w), ""]
            shown = pd.DataFrame({
                "ticker": table["ticker"], "CAR %": (100 * table["car"]).round(2), "SE %": (100 * table["se"]).round(2),
                "p": table["p_value"].round(4), "p BH": table["p_bh"].round(4), "TOST p": table["tost_p_value"].round(4),
                "MDE %": (100 * table["mde"]).round(2), "verdict": table["verdict"],
            })
            lines += [shown.to_string(), ""]
            lines += ["Verdict counts: " + ", ".join(f"{VERDICT_TEXT[k]} {v}" for k, v in counts.items()), ""]
            tests = self.tests(w)[["statistic", "p_value", "n_events"]].round(4)
            lines += [tests.to_string(), ""]
        return "\n".join(lines).rstrip()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN as None (valid JSON)."""
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


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
    exclude_confounded: bool = False,
    peers: bool = True,
    robustness: bool = True,
) -> CatalogStudy:
    """Analyse each incident, then study them together.

    Parameters
    ----------
    incidents : catalog incidents (private companies and incidents without data become failures).
    user_events : rows ``event_id, ticker, event_date`` (day-0 session), optional ``benchmark``.
    source, model, estimation, windows, factors, min_estimation_obs, bound, peers, robustness :
        as in :func:`incident_impact.analysis.analyze`.
    alpha : level of the tests and of the BH false discovery rate.
    exclude_confounded : leave out incidents with a confounder (earnings, ex-dividend, downgrade,
        other news) inside any window; they are listed in ``excluded``.
    """
    if not bound > 0:
        raise IncidentImpactError(f"the materiality bound must be positive, got {bound}")
    estimation = parse_window(estimation)
    windows = tuple(dict.fromkeys(parse_window(w) for w in windows))
    analyses: dict[str, IncidentAnalysis] = {}
    failures, excluded = [], []
    for inc in incidents:
        try:
            analysis = analyze(inc, source=source, model=model, estimation=estimation, windows=windows, factors=factors,
                               headline=windows[0],
                               min_estimation_obs=min_estimation_obs, bound=bound, peers=peers, robustness=robustness)
        except IncidentImpactError as exc:
            failures.append({"event_id": inc.id, "ticker": inc.ticker or "", "event_date": inc.incident_date.isoformat(),
                             "reason": str(exc)})
            continue
        if exclude_confounded and len(analysis.confounders):
            excluded.append({"event_id": inc.id, "reason": "; ".join(analysis.confounder_messages())})
            continue
        analyses[inc.id] = analysis
    returns, benches, events = {}, {}, []
    for eid, a in analyses.items():
        returns[a.stock.ticker] = a.stock.returns().combine_first(returns.get(a.stock.ticker, pd.Series(dtype=float)))
        benches[a.benchmark_ticker] = a.benchmark.returns().combine_first(benches.get(a.benchmark_ticker, pd.Series(dtype=float)))
        events.append({"event_id": eid, "ticker": a.stock.ticker, "event_date": a.day0, "benchmark": a.benchmark_ticker})
    user_events = list(user_events)
    if user_events:
        u_returns, u_benches, u_events, u_failures = load_study_data([], user_events, source, estimation, windows)
        for store, more in ((returns, u_returns), (benches, u_benches)):
            for key, series in more.items():
                store[key] = series.combine_first(store.get(key, pd.Series(dtype=float)))
        events += u_events
        failures += u_failures
    study = None
    if events:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            study = run_study(pd.DataFrame(returns), pd.DataFrame(benches), pd.DataFrame(events), model=model,
                              estimation=estimation, windows=windows, factors=factors,
                              min_estimation_obs=min_estimation_obs)
        failures += [{**r, "event_date": str(pd.Timestamp(r["event_date"]).date())}
                     for r in study.failures.to_dict("records")]
        if study.n_events == 0:
            study = None
    return CatalogStudy(analyses, study, pd.DataFrame(failures, columns=_FAILURE_COLUMNS),
                        pd.DataFrame(excluded, columns=["event_id", "reason"]), bound, alpha)
