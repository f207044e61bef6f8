"""Template context of the reports' "after the disaster" sections.

The incident report's **Recovery** section (with *The company's response* and *When did the market
learn?*) reads :attr:`IncidentAnalysis.aftermath <incident_impact.analysis.IncidentAnalysis.aftermath>`;
the study report's **Pooled**, **Recovery**, **Response** and **Drivers** sections read
:meth:`CatalogStudy.pooled`, :meth:`~CatalogStudy.literature`, :attr:`~CatalogStudy.long_run`,
:attr:`~CatalogStudy.responses` and a :class:`~incident_impact.aftermath.drivers.CarDrivers`.

Everything here is plain data (numbers, and text that Jinja2 escapes); the figures go through
:func:`.figures.figure_html`. Column names of the analysis frames never reach the page: the
templates label every column in words, and the notes are translated by :func:`plain_names`.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, cast

import pandas as pd

from .figures import figure_html, recovery_figure
from .study_figures import mean_recovery_path, pooled_figure, recovery_path_figure

if TYPE_CHECKING:
    from ..aftermath.drivers import CarDrivers
    from ..analysis import IncidentAnalysis
    from ..catalog_study import CatalogStudy

#: Attribute names that the analyses' notes mention -> the words the report uses (longest first).
_NAMES = (
    ("sq_p_value_estimation", "the SQ p against the estimation window alone"),
    ("placebo_p_value", "the placebo p"),
    ("sq_p_value", "the SQ p"),
    ("p_value", "the p-value"),
)
#: Covariates of the drivers regression -> the report's words.
COVARIATE_LABELS = {
    "Intercept": "Intercept (the reference incident)",
    "category": "Category",
    "platform": "Platform",
    "response_kind": "Kind of first response",
    "response_delay_days": "Days until the first response",
    "log_market_value": "Market value (log)",
    "volatility": "Daily volatility before the incident",
    "region": "Listing region",
    "year": "Year",
}


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _value(x):
    """``x`` as a float, or None when missing (so the templates show a dash)."""
    return float(x) if _finite(x) else None


#: Whole phrases of notes that point at Python objects -> the report's words.
_PHRASES = (("see each event's sq_p_value in .cars", "see each incident's SQ p in its own report"),)


def plain_names(text: str) -> str:
    """A note with the analyses' attribute names replaced by the words the report uses."""
    for phrase, words in _PHRASES:
        text = text.replace(phrase, words)
    for name, words in _NAMES:
        text = re.sub(rf"\b{name}\b", words, text)
    return text


def _date(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        return pd.Timestamp(value).date().isoformat()
    except (TypeError, ValueError):
        return str(value)


# ----------------------------------------------------------------- incident
def _recovered_text(row) -> str:
    hurt = row["hurt"]
    if hurt is None or (isinstance(hurt, float) and math.isnan(hurt)):
        return "not judged (MDE unknown)"
    if not hurt:
        return "never fell below −MDE"
    return "not recovered" if pd.isna(row["recovered_by"]) else f"by day +{int(row['recovered_by'])}"


def _horizon_rows(recovery) -> list[dict]:
    rows = []
    for label, r in recovery.horizons.iterrows():
        rows.append(
            {
                "window": label,
                "observable": bool(r["observable"]),
                "reason": r["reason"] or "",
                "car": _value(r["car"]),
                "se": _value(r["se"]),
                "p_value": _value(r["p_value"]),
                "sq_p_value": _value(r["sq_p_value"]),
                "n_sq_windows": int(r["n_sq_windows"]),
                "n_sq_independent": int(r["n_sq_independent"]),
                "placebo_p_value": _value(r["placebo_p_value"]),
                "n_placebo": int(r["n_placebo"]),
                "recovered": _recovered_text(r) if r["observable"] else "",
                "confounders": r["confounders"] or "",
            }
        )
    return rows


def _facts(recovery) -> list[tuple[str, str]]:
    if recovery.trough_day is None:
        return [("Path", "no abnormal-return path could be observed after day 0")]
    trough = f"{100 * recovery.trough_car:+.2f} % on day +{recovery.trough_day}"
    if recovery.half_life_sessions is not None:
        half = f"{recovery.half_life_sessions} sessions after the trough to regain half the loss"
    elif recovery.trough_car < 0:
        half = f"half the loss not regained within {recovery.path_end} sessions"
    else:
        half = "no loss to regain"
    source = "the MDE of the headline window" if recovery.mde_source == "given" else recovery.mde_source
    mde = f"{100 * recovery.mde:.2f} % ({source})" if _finite(recovery.mde) else source
    return [
        ("Trough", trough),
        ("Half-life", half),
        ("Recovered by", recovery.status),
        ("Threshold of “recovered”", f"the CAR stays above −{mde}" if _finite(recovery.mde) else mde),
        ("Data end", f"{recovery.data_end.date().isoformat()} (path to day +{recovery.path_end})"),
    ]


def _responses(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for r in frame.to_dict("records"):
        rows.append(
            {
                "date": _date(r["date"]),
                "kind": r["kind"],
                "description": r["description"],
                "rel_day": None if pd.isna(r["rel_day"]) else int(r["rel_day"]),
                "car": _value(r["car"]),
                "p_value": _value(r["p_value"]),
                "before_car": _value(r["before_car"]),
                "after_window": "" if pd.isna(r["after_window"]) else r["after_window"],
                "after_car": _value(r["after_car"]),
                "after_p_value": _value(r["after_p_value"]),
                "after": r["after"] or "",
                "reason": r["reason"] or "",
            }
        )
    return rows


def _candidates(learning) -> list[dict]:
    rows = []
    for r in learning.candidates.to_dict("records"):
        rows.append(
            {
                "label": r["label"],
                "kind": r["kind"],
                "description": r["description"],
                "date": _date(r["date"]),
                "rel_day": None if r["rel_day"] is None or pd.isna(r["rel_day"]) else int(r["rel_day"]),
                "window": r["window"] or "",
                "car": _value(r["car"]),
                "t_stat": _value(r["t_stat"]),
                "p_value": _value(r["p_value"]),
                "cum_window": r["cum_window"] or "",
                "cum_car": _value(r["cum_car"]),
                "reason": r["reason"] or "",
                "largest": learning.max_window is not None and r["window"] == learning.max_window,
            }
        )
    return rows


def incident_aftermath_context(analysis: IncidentAnalysis) -> dict:
    """Everything the incident report's Recovery section shows, under the name ``aftermath``."""
    after = analysis.aftermath
    if after is None:
        return {
            "computed": False,
            "reason": "not computed for this report (the analysis was run without the months after the incident)",
        }
    reasons = after.reasons
    out: dict = {
        "computed": True,
        "recovery": None,
        "responses": _responses(after.responses),
        "response_reason": "" if len(after.responses) else reasons.get("response", "no response event in the timeline"),
        "learning": None,
        "learning_reason": reasons.get("learning", ""),
    }
    rec = after.recovery
    if rec is None:
        out["recovery_reason"] = reasons.get("recovery", "not computed")
    else:
        fig = recovery_figure(rec, after.responses, analysis.stock.ticker)
        last = rec.path.iloc[-1] if len(rec.path) else None
        caption = (
            f"Cumulative abnormal return of {analysis.stock.ticker} from day 0 ({rec.day0.date().isoformat()}) "
            f"to day +{rec.path_end} with its 95 % band"
        )
        if last is not None:
            caption += (
                f"; CAR[0,+{int(last.rel_day)}] = {100 * last.car:+.2f} % (95 %: {100 * last.lower:+.2f} % to "
                f"{100 * last.upper:+.2f} %)"
            )
        caption += (
            ". Dotted vertical lines: the horizons; dotted horizontal line: −MDE, above which the stock "
            "counts as recovered; stars: the company's responses, labelled by kind. The band assumes "
            "independent normal abnormal returns and is too narrow over long windows if volatility clusters."
        )
        out["recovery"] = {
            "sentence": rec.sentence(),
            "status": rec.status,
            "facts": _facts(rec),
            "horizons": _horizon_rows(rec),
            "any_placebo": bool((rec.horizons["n_placebo"] > 0).any()),
            "notes": [plain_names(n) for n in rec.notes],
            "figure": figure_html(fig, "fig-recovery"),
            "caption": caption,
            "model": rec.model,
        }
    if after.learning is not None:
        learning = after.learning
        out["learning"] = {
            "sentence": learning.sentence(),
            "rows": _candidates(learning),
            "notes": [plain_names(n) for n in learning.notes],
        }
    return out


# ----------------------------------------------------------------- study
def _pooled_row(label: str, g) -> dict:
    return {
        "label": label,
        "n": int(g.n),
        "estimate": _value(g.estimate),
        "ci_lower": _value(g.ci_lower),
        "ci_upper": _value(g.ci_upper),
        "tau": _value(g.tau),
        "tau2": _value(g.tau2),
        "i2": _value(g.i2),
        "q_p_value": _value(g.q_p_value),
        "prediction_lower": _value(g.prediction_lower),
        "prediction_upper": _value(g.prediction_upper),
        "equivalence_p": _value(g.equivalence_p),
        "reason": g.reason,
    }


def pooled_context(study: CatalogStudy) -> dict | None:
    """The study report's Pooled section (headline window): sentence, table, figure, literature."""
    if not study.windows:
        return None
    window = study.headline_window
    pooled = study.pooled(window)
    literature = study.literature(window)
    rows = [_pooled_row("All incidents", pooled)] + [_pooled_row(name, g) for name, g in pooled.groups]
    lit = []
    for r in literature.rows.to_dict("records"):
        covers = r["covers"]
        lit.append(
            {
                "study": r["study"],
                "sample": r["sample"],
                "their_window": r["their_window"],
                "their_text": r["their_text"],
                "significance": r["significance"],
                "match": {
                    "same": "same window",
                    "approximate": "about the same window",
                    "different": "another window",
                }.get(r["window_match"], r["window_match"]),
                "covers": "—"
                if covers is None or (isinstance(covers, float) and math.isnan(covers))
                else ("yes" if covers else "no"),
                "notes": r["notes"] or "",
            }
        )
    figure = figure_html(pooled_figure(pooled), "fig-pooled") if not pooled.reason else None
    return {
        "window": pooled.window,
        "sentence": pooled.sentence(),
        "rows": rows,
        "level": f"{100 * pooled.level:g} %",
        "bound": pooled.bound,
        "method": pooled.method,
        "notes": list(pooled.notes),
        "figure": figure,
        "literature": {"sentence": literature.sentence, "selection": literature.selection, "rows": lit},
    }


def longrun_context(study: CatalogStudy) -> dict | None:
    """The study report's Recovery section: the long-run table, recovery counts and the mean path."""
    long_run = study.long_run
    path = mean_recovery_path(study)
    if long_run is None and path.empty:
        return None
    rows = []
    if long_run is not None:
        frame = long_run.to_frame()
        for label, r in frame.iterrows():
            rec = (
                # one row: the recovery table is indexed by the (unique) window labels
                cast(pd.Series, long_run.recovery.loc[cast(str, label)])
                if long_run.recovery is not None and label in long_run.recovery.index
                else None
            )
            rows.append(
                {
                    "window": label,
                    "n": int(r["n_events"]),
                    "mean_bhar": _value(r["mean_bhar"]),
                    "median_bhar": _value(r["median_bhar"]),
                    "p_t": _value(r["p_bhar_t"]),
                    "p_skew": _value(r["p_bhar_skew_t"]),
                    "p_boot": _value(r["p_bhar_skew_boot"]),
                    "ct_alpha": _value(r["ct_alpha_window"]),
                    "ct_p": _value(r["ct_p_hac"]),
                    "ct_firms": _value(r["ct_mean_firms"]),
                    "share": _value(r.get("share_recovered")),
                    "n_recovered": None if rec is None else int(rec["n_recovered"]),
                    "n_hurt": None if rec is None else int(rec["n_hurt"]),
                    "n_never_hurt": None if rec is None else int(rec["n_never_hurt"]),
                    "n_observable": None if rec is None else int(rec["n_observable"]),
                }
            )
    figure = caption = None
    if not path.empty:
        figure = figure_html(recovery_path_figure(path), "fig-recovery-mean")
        end = path.iloc[-1]
        caption = (
            f"Mean cumulative abnormal return from day 0 across {int(path['n'].max())} incidents' recovery "
            f"paths, by trading day after day 0, with the 95 % band from the cross-sectional standard error "
            f"(mean ± t × s.d. / √n); incidents whose data end earlier drop out, so day +{int(end.rel_day)} "
            f"averages {int(end.n)} incident{'s' if int(end.n) != 1 else ''}: "
            f"{100 * end['mean']:+.2f} %."
        )
    return {
        "rows": rows,
        "notes": [plain_names(n) for n in (long_run.notes if long_run is not None else ())],
        "figure": figure,
        "caption": caption,
    }


def responses_context(study: CatalogStudy) -> dict | None:
    """The study report's Response section (:class:`~incident_impact.aftermath.response.ResponseSummary`)."""
    summary = study.responses
    if summary is None:
        return None
    by_kind = [
        {
            "kind": kind,
            "n": int(r["n"]),
            "mean_car": _value(r["mean_car"]),
            "t": _value(r["cs_t"]),
            "p_value": _value(r["p_value"]),
        }
        for kind, r in summary.by_kind.iterrows()
    ]
    if summary.reason:
        test = f"Does the kind of response matter? Not tested: {summary.reason}."
    else:
        test = (
            f"Does the kind of response matter? Kruskal-Wallis test of the standardised CAR[r,r+1] across the "
            f"kinds with at least two incidents: H = {summary.kind_test_statistic:.2f}, "
            f"p = {summary.kind_test_p_value:.3f}."
        )
    return {
        "n": summary.n_incidents,
        "without": summary.n_without_response,
        "after": [(k, int(v)) for k, v in summary.after_counts.items()],
        "by_kind": by_kind,
        "test": test,
    }


def _term_label(term: str, reference: dict) -> str:
    match = re.fullmatch(r"(.+?)\[(.*)\]", term)
    if match:
        cov, level = match.groups()
        ref = reference.get(cov)
        return f"{COVARIATE_LABELS.get(cov, cov)}: {level}" + (f" (against {ref})" if ref else "")
    return COVARIATE_LABELS.get(term, term)


def _drivers_words(text: str, labels: dict[str, str]) -> str:
    """``text`` with the regression's term and covariate names in the report's words."""
    for name in sorted(labels, key=len, reverse=True):
        if "[" in name or "_" in name:
            text = text.replace(name, labels[name])
    return text


def drivers_context(drivers: CarDrivers | None) -> dict | None:
    """The study report's Drivers section (only when the study was run with ``--explain``)."""
    if drivers is None:
        return None
    refs = {str(k): str(v) for k, v in drivers.reference_levels.items()}
    labels = {str(t): _term_label(str(t), refs) for t in drivers.terms.index}
    labels |= {k: v.lower() for k, v in COVARIATE_LABELS.items() if "_" in k}
    rows = []
    if not drivers.reason:
        for term, r in drivers.terms.iterrows():
            rows.append(
                {
                    "term": _term_label(str(term), refs),
                    "coef": _value(r["coef"]),
                    "se": _value(r["se"]),
                    "t": _value(r["t"]),
                    "p_value": _value(r["p_value"]),
                    "p_perm": _value(r["p_perm"]),
                    "mde": _value(r["mde"]),
                }
            )
    kind = (
        "all permutations enumerated"
        if drivers.exact
        else f"{drivers.permutations} random permutations, seed {drivers.seed}"
    )
    return {
        "sentence": _drivers_words(drivers.sentence(), labels),
        "power": drivers.power_sentence(),
        "rows": rows,
        "n": drivers.n,
        "permutations": kind,
        "r2": _value(drivers.r2),
        "notes": [_drivers_words(n, labels) for n in drivers.notes],
        "outcome": "CAR" if drivers.outcome == "car" else drivers.outcome,
    }
