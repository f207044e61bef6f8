"""The reports' "after the disaster" sections, the shared plotly.min.js of a study, the size of a
study's reports, and the tables at desktop and phone widths in a real headless Chromium.

Every number a new section shows is checked against the object it comes from (the same
:class:`~incident_impact.aftermath.recovery.Recovery`, responses frame, :class:`MarketLearning`,
:class:`PooledEffect`, :class:`LongRunStudy`, :class:`ResponseSummary` and :class:`CarDrivers`),
and hostile text from the data is shown as text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from click.testing import CliRunner
from conftest import SyntheticSource, open_page, synthetic_prices
from incident_impact.aftermath.drivers import DEFAULT_COVARIATES, explain_cars
from incident_impact.analysis import analyze
from incident_impact.catalog import TimelineEvent, adhoc_incident
from incident_impact.catalog_study import study_incidents
from incident_impact.cli import cli
from incident_impact.cli.study import _write_reports
from incident_impact.report import (
    figures,
    render_incident_report,
    render_study_report,
    write_report,
    write_study_report,
)
from incident_impact.report import page as report_page
from incident_impact.report.aftermath import COVARIATE_LABELS, plain_names
from incident_impact.report.figures import recovery_figure
from incident_impact.report.glossary import GLOSSARY
from incident_impact.report.study_figures import (
    caar_figure,
    forest_figure,
    mean_recovery_path,
    pooled_figure,
    recovery_path_figure,
)
from markupsafe import escape
from plotly.offline import get_plotlyjs

FROZEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
PAYLOAD = '<script>window.__pwned=1</script> "q" & <b>bold</b>'
PLOTLY_BUNDLE = get_plotlyjs()
SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
#: Python attribute names that must never reach a page as column labels or in notes.
ATTRIBUTE_NAMES = (
    "sq_p_value",
    "placebo_p_value",
    "p_value",
    "n_sq_windows",
    "half_life_sessions",
    "recovered_by",
    "after_window",
    "after_car",
    "mean_bhar",
    "p_bhar",
    "ct_alpha",
    "equivalence_p",
    "tau2",
    "prediction_lower",
    "response_delay_days",
    "log_market_value",
    "response_kind",
    "p_perm",
)


def text_of(html: str) -> str:
    """The page without the plotly snippets (whose JSON carries trace data) and plotly.js."""
    html = html.replace(PLOTLY_BUNDLE, "")
    return re.sub(r"<script.*?</script>", "", html, flags=re.S)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def analysis(make_incident_analysis):
    return make_incident_analysis()


@pytest.fixture(scope="module")
def html(analysis):
    return render_incident_report(analysis, generated_at=FROZEN)


def _incident(ticker, date, iid, category="", responses=(), **changes):
    inc = adhoc_incident(ticker, date)
    timeline = inc.timeline + tuple(TimelineEvent(d, kind, text) for d, kind, text in responses)
    return dataclasses.replace(inc, id=iid, name=f"{iid} name", category=category, timeline=timeline, **changes)


@pytest.fixture(scope="module")
def study():
    """Seven incidents on the synthetic ACME and DAL prices: two categories of three or more,
    responses of two kinds twice each (so every study section has numbers)."""
    d = dt.date
    incidents = [
        _incident("ACME", "2016-09-01", "acme-2016a", "brand", [(d(2016, 9, 2), "apology", "Sorry.")]),
        _incident("ACME", "2016-11-15", "acme-2016b", "brand", [(d(2016, 11, 16), "apology", "Sorry again.")]),
        _incident("ACME", "2017-02-01", "acme-2017a", "brand", [(d(2017, 2, 3), "statement", "We review.")]),
        _incident(
            "ACME",
            "2017-04-10",
            "acme-2017b",
            f"service {PAYLOAD}",
            [(d(2017, 4, 11), "statement", f"hostile {PAYLOAD}")],
        ),
        _incident("DAL", "2016-10-03", "dal-2016", f"service {PAYLOAD}"),
        _incident("DAL", "2017-03-01", "dal-2017", f"service {PAYLOAD}"),
        _incident("DAL", "2017-06-01", "dal-2017b", "brand"),
    ]
    return study_incidents(incidents, source=SyntheticSource(synthetic_prices(), {}))


@pytest.fixture(scope="module")
def drivers():
    """A real :class:`CarDrivers` on 30 made-up incidents (categorical and numeric covariates)."""
    rng = np.random.default_rng(3)
    n = 30
    frame = pd.DataFrame(
        {
            "car": rng.normal(0, 0.02, n),
            "se": np.full(n, 0.01),
            "category": rng.choice(["brand", "service", f"other {PAYLOAD}"], n),
            "log_market_value": rng.normal(24, 1, n),
            "year": rng.integers(2012, 2023, n).astype(float),
        },
        index=[f"e{i}" for i in range(n)],
    )
    return explain_cars(frame, covariates=("category", "log_market_value", "year"), permutations=99, seed=1)


@pytest.fixture(scope="module")
def study_html(study, drivers):
    return render_study_report(study, generated_at=FROZEN, drivers=drivers)


# ----------------------------------------------------------------------------- incident: recovery
def test_recovery_section_shows_the_recovery_object(analysis, html):
    rec = analysis.aftermath.recovery
    page = text_of(html)
    assert 'id="h-recovery"' in html and "Recovery: did the effect last?" in page
    assert str(escape(rec.sentence()[0].upper() + rec.sentence()[1:])) in page
    assert str(escape(rec.status)) in page and f"{100 * rec.trough_car:+.2f} % on day +{rec.trough_day}" in page
    section = page.split('id="recovery-horizons"', 1)[1].split("</table>", 1)[0]
    for label, row in rec.horizons.iterrows():
        assert f'<th scope="row">{label}</th>' in section
        assert f"{100 * row.car:+.2f} %" in section and f"{100 * row.se:.2f} %" in section
        assert report_page.pvalue(row.sq_p_value) in section
        assert f"({int(row.n_sq_windows)}; {int(row.n_sq_independent)} apart)" in section
    for header in ("Window", "CAR", "SE", "p", "SQ p (reference windows)", "Recovered", "Other news inside"):
        assert f'<th scope="col">{header}</th>' in section
    assert "Placebo p" not in section  # no placebo run: no empty column


def test_recovery_figure_is_the_path_with_band_and_responses(analysis, html):
    rec, responses = analysis.aftermath.recovery, analysis.aftermath.responses
    fig = go.Figure(recovery_figure(rec, responses, "ACME"))
    names = [t.name for t in fig.data]
    assert names == ["95 % band of the CAR", "CAR of ACME from day 0", "trough", "company responses"]
    car = fig.data[1]
    assert list(car.x) == list(rec.path["rel_day"]) and np.allclose(car.y, 100 * rec.path["car"])
    assert max(car.x) == rec.path_end == 120
    assert np.allclose(fig.data[0].y[: len(rec.path)], 100 * rec.path["upper"])
    marker = fig.data[3]
    assert list(marker.x) == [int(r) for r in responses["rel_day"]] and list(marker.text) == list(responses["kind"])
    assert 'id="fig-recovery"' in html


def test_response_and_learning_subsections(analysis, html):
    after = analysis.aftermath
    page = text_of(html)
    table = page.split('id="responses"', 1)[1].split("</table>", 1)[0]
    for r in after.responses.itertuples():
        assert r.date in table and r.kind in table and str(escape(r.description)) in table
        assert f"{100 * r.car:+.2f} %" in table and report_page.pvalue(r.p_value) in table
        assert r.after in table and f"{r.after_window}: {100 * r.after_car:+.2f} %" in table
    for header in ("Date", "Kind", "Description", "CAR[r,r+1]", "p", "Then the stock…"):
        assert f'<th scope="col">{header}</th>' in table
    learning = after.learning
    assert str(escape(learning.sentence()[0].upper() + learning.sentence()[1:])) in page
    rows = page.split('id="learning"', 1)[1].split("</table>", 1)[0]
    for c in learning.candidates.itertuples():
        assert c.label in rows and f"{100 * c.car:+.2f} %" in rows
    assert "(largest)" in rows


def test_no_attribute_names_reach_the_incident_page(html):
    page = text_of(html)
    for name in ATTRIBUTE_NAMES:
        assert not re.search(rf"\b{name}\b", page), name
    assert (
        plain_names("sq_p_value_estimation and p_value")
        == "the SQ p against the estimation window alone and the p-value"
    )


def test_not_yet_observable_and_no_response_are_said():
    frames = synthetic_prices(day0="2017-10-16")
    inc = dataclasses.replace(adhoc_incident("ACME", "2017-10-16"), id="late-2017", name="Late incident")
    analysis = analyze(inc, source=SyntheticSource(frames, {}))
    page = text_of(render_incident_report(analysis, generated_at=FROZEN))
    row = analysis.aftermath.recovery.horizons.loc["[0,+120]"]
    assert not row.observable and row.reason.startswith("not yet observable")
    assert str(escape(row.reason)) in page
    assert "Not computed: no response event in the timeline." in page
    assert "Not computed: fewer than two dated timeline events to compare." in page


def test_an_analysis_without_aftermath_says_so(analysis):
    page = text_of(render_incident_report(dataclasses.replace(analysis, aftermath=None), generated_at=FROZEN))
    assert "Recovery: did the effect last?" in page and "Not computed: not computed for this report" in page
    assert 'id="fig-recovery"' not in page


def test_hostile_response_text_is_escaped_in_table_and_figure():
    frames = synthetic_prices()
    inc = _incident("ACME", "2017-04-10", "evil-2017", responses=[(dt.date(2017, 4, 11), "apology", f"resp {PAYLOAD}")])
    analysis = analyze(inc, source=SyntheticSource(frames, {}))
    html = render_incident_report(analysis, generated_at=FROZEN)
    assert "<script>window.__pwned" not in html.replace(PLOTLY_BUNDLE, "")
    assert str(escape(f"resp {PAYLOAD}")) in html
    fig = go.Figure(recovery_figure(analysis.aftermath.recovery, analysis.aftermath.responses, "ACME"))
    hover = fig.data[-1].hovertext[0]
    assert "&lt;script&gt;" in hover and "<script>" not in hover and "<b>" not in hover


def test_study_figures_are_valid_plotly_figure_dicts(study):
    """Issue 15: the study's figures are plain dicts too (with the incident figures' template); graph
    objects validate every property of each, and no title is a bare string (plotly.js 3 reads title.text)."""
    figs = [forest_figure(study, w) for w in study.windows] + [caar_figure(study), pooled_figure(study.pooled())]
    figs.append(recovery_path_figure(mean_recovery_path(study)))
    for fig in figs:
        assert set(fig) == {"data", "layout"} and all("type" in t for t in fig["data"])
        assert fig["layout"]["template"] == figures.template()
        assert '"title":"' not in json.dumps(fig, default=str, separators=(",", ":"))
        assert len(go.Figure(fig).data) == len(fig["data"])  # validate=True: raises on an unknown property
    forest = go.Figure(figs[0])
    assert [s.type for s in forest.layout.shapes] == ["rect", "line"] and forest.layout.annotations[
        0
    ].yref == "y domain"


def test_glossary_has_the_new_terms(html, study_html):
    terms = {t for t, _ in GLOSSARY}
    for term in ("BHAR", "Prediction interval", "I²", "Half-life", "Recovered by", "Calendar-time portfolio"):
        assert term in terms
        assert f"<dt>{term}</dt>" in html and f"<dt>{term}</dt>" in study_html


# ----------------------------------------------------------------------------- study sections
def test_pooled_section_and_literature(study, study_html):
    pooled = study.pooled()
    assert not pooled.reason and {name for name, _ in pooled.groups} == {"brand", f"service {PAYLOAD}"}
    page = text_of(study_html)
    assert str(escape(pooled.sentence())) in page
    table = page.split('id="pooled"', 1)[1].split("</table>", 1)[0]
    for label, g in [("All incidents", pooled), *pooled.groups]:
        assert f'<th scope="row">{escape(label)}</th>' in table
        assert (
            f"{100 * g.estimate:+.2f} %" in table and f"{100 * g.ci_lower:+.2f} % to {100 * g.ci_upper:+.2f} %" in table
        )
        assert f"{100 * g.prediction_lower:+.2f} % to {100 * g.prediction_upper:+.2f} %" in table
        assert f"{100 * g.i2:.0f} %" in table and report_page.pvalue(g.equivalence_p) in table
        assert f"{1e4 * g.tau2:.2f} %²" in table
    literature = study.literature()
    assert str(escape(literature.sentence)) in page and str(escape(literature.selection)) in page
    for study_name in literature.rows["study"]:
        assert str(escape(study_name)) in page
    fig = go.Figure(pooled_figure(pooled))
    assert [t.type for t in fig.data] == ["bar", "scatter"] and fig.data[1].marker.symbol == "diamond"
    assert fig.data[1].x[0] == pytest.approx(100 * pooled.estimate)
    assert fig.data[0].base[0] == pytest.approx(100 * pooled.prediction_lower)
    assert all("<script>" not in y for y in fig.data[1].y) and any("&lt;script&gt;" in y for y in fig.data[1].y)
    assert 'id="fig-pooled"' in study_html


def test_recovery_section_of_the_study(study, study_html):
    long_run = study.long_run
    page = text_of(study_html)
    table = page.split('id="longrun"', 1)[1].split("</table>", 1)[0]
    frame = long_run.to_frame()
    for label, r in frame.iterrows():
        assert f'<th scope="row">{label}</th>' in table
        assert f"{100 * r.mean_bhar:+.2f} %" in table and report_page.pvalue(r.p_bhar_skew_t) in table
        assert report_page.pvalue(r.p_bhar_skew_boot) in table and f"{100 * r.ct_alpha_window:+.2f} %" in table
    for header in (
        "Mean BHAR",
        "p (t-test)",
        "p (skewness-adjusted)",
        "p (bootstrap)",
        "Calendar-time abnormal return",
        "Recovered",
    ):
        assert f'<th scope="col">{header}</th>' in table
    shares = long_run.recovery
    for _label, r in shares.iterrows():
        if r.n_hurt:
            assert f"({int(r.n_recovered)} of {int(r.n_hurt)} that fell below −MDE" in table
    # the mean path: mean and cross-sectional band of the incidents' recovery paths, by relative day
    path = mean_recovery_path(study)
    clean = study.verdict_table().query("~confounded").index
    cars = pd.concat([study.analyses[e].aftermath.recovery.path.set_index("rel_day")["car"] for e in clean], axis=1)
    assert np.allclose(path["mean"], cars.mean(axis=1)) and (path["n"] == cars.notna().sum(axis=1)).all()
    day = path.iloc[60]
    half = 2.4469118511449692 if day.n == 7 else None  # t(6) 97.5 %
    if half:
        assert day.upper - day["mean"] == pytest.approx(half * day.sd / np.sqrt(7))
    fig = go.Figure(recovery_path_figure(path))
    assert np.allclose(fig.data[1].y, 100 * path["mean"]) and 'id="fig-recovery-mean"' in study_html


def test_response_section_of_the_study(study, study_html):
    summary = study.responses
    page = text_of(study_html)
    assert (
        f"{summary.n_incidents} incidents with a response of the company ({summary.n_without_response} without one)"
        in page
    )
    after = page.split('id="response-after"', 1)[1].split("</table>", 1)[0]
    for kind in summary.after_counts.keys():
        assert f'<th scope="col">{kind[0].upper() + kind[1:]}</th>' in after
    assert "".join(f'<td class="n">{int(v)}</td>' for v in summary.after_counts) in after
    kinds = page.split('id="response-kinds"', 1)[1].split("</table>", 1)[0]
    for kind, r in summary.by_kind.iterrows():
        assert (
            f'<th scope="row">{kind}</th><td class="n">{int(r.n)}</td><td class="n">{100 * r.mean_car:+.2f} %' in kinds
        )
    assert (
        summary.reason == "" and f"H = {summary.kind_test_statistic:.2f}, p = {summary.kind_test_p_value:.3f}" in page
    )


def test_drivers_section_only_when_given(study, study_html, drivers):
    assert 'id="h-drivers"' not in render_study_report(study, generated_at=FROZEN)
    page = text_of(study_html)
    assert drivers.power_sentence() and str(escape(drivers.power_sentence())) in page
    table = page.split('id="drivers"', 1)[1].split("</table>", 1)[0]
    for _term, r in drivers.terms.iterrows():
        assert (
            f"{100 * r.coef:+.2f} pp" in table
            and report_page.pvalue(r.p_perm) in table
            and report_page.pvalue(r.p_value) in table
        )
    assert "Market value (log)" in table and "Category: " in table and "(against " in table
    assert "log_market_value" not in page and "category[" not in page
    assert "&lt;script&gt;" in table and "<script>window" not in table
    for header in ("Robust SE (HC3)", "p (HC3)", "p (permutation)"):
        assert f'<th scope="col">{header}</th>' in table
    assert set(COVARIATE_LABELS) >= set(DEFAULT_COVARIATES)  # every characteristic has a plain label


def test_no_attribute_names_reach_the_study_page(study_html):
    page = text_of(study_html)
    for name in ATTRIBUTE_NAMES:
        assert not re.search(rf"\b{name}\b", page), name


# ----------------------------------------------------------------------------- one plotly.min.js
def test_single_report_stays_self_contained(analysis, tmp_path):
    path = write_report(analysis, tmp_path / "one.html", generated_at=FROZEN)
    assert os.listdir(tmp_path) == ["one.html"]
    html = path.read_text(encoding="utf-8")
    assert html.count(PLOTLY_BUNDLE) == 1 and "<script src=" not in html


def test_a_study_shares_one_plotlyjs(study, tmp_path):
    report = tmp_path / "out" / "study.html"
    messages = _write_reports(study, report, True)
    assert any("study report written to" in m for m in messages)
    js_files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.js"))
    assert js_files == [Path("out/plotly.min.js")]
    assert (tmp_path / "out" / "plotly.min.js").read_text(encoding="utf-8") == PLOTLY_BUNDLE
    pages = [report, *sorted((tmp_path / "out" / "study-incidents").glob("*.html"))]
    assert len(pages) == 1 + len(study.analyses)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        src = "plotly.min.js" if page == report else "../plotly.min.js"
        assert f'<script src="{src}" charset="utf-8"></script>' in html, page
        assert PLOTLY_BUNDLE[1_000_000:1_000_200] not in html and len(html) < 400_000
        assert (page.parent / src).resolve() == (tmp_path / "out" / "plotly.min.js").resolve()


def test_write_plotlyjs_is_idempotent_and_repairs(tmp_path):
    target = tmp_path / "plotly.min.js"
    report_page.write_plotlyjs(target)
    first = target.stat()
    report_page.write_plotlyjs(target)
    assert target.stat().st_mtime_ns == first.st_mtime_ns  # not rewritten
    target.write_text("truncated", encoding="utf-8")
    report_page.write_plotlyjs(target)
    assert target.read_text(encoding="utf-8") == PLOTLY_BUNDLE
    assert os.listdir(tmp_path) == ["plotly.min.js"]  # no temporary file left


def test_directory_mode_and_stdout_inline(analysis, tmp_path):
    path = write_report(analysis, tmp_path / "a b" / "r.html", generated_at=FROZEN, plotlyjs="directory")
    assert '<script src="plotly.min.js"' in path.read_text(encoding="utf-8")
    assert (tmp_path / "a b" / "plotly.min.js").exists()
    assert (
        report_page.shared_plotlyjs(tmp_path / "x" / "deep" / "r.html", tmp_path / "plotly.min.js")
        == "../../plotly.min.js"
    )
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert report_page.shared_plotlyjs(fifo, "directory") is None  # written through: nothing to load beside it


@pytest.mark.browser
def test_shared_plotlyjs_pages_draw_offline(chromium, study, tmp_path):
    report = tmp_path / "study.html"
    _write_reports(study, report, True)
    page, seen = open_page(chromium, report, ("fig-forest-0", "fig-caar", "fig-pooled", "fig-recovery-mean"))
    try:
        assert seen == {"errors": [], "requests": [], "dialogs": []}
        assert page.evaluate("typeof Plotly") == "object"
    finally:
        page.context.close()
    incident = next((tmp_path / "study-incidents").glob("acme-2017b*.html"))
    page, seen = open_page(chromium, incident, ("fig-prices", "fig-car", "fig-recovery"))
    try:
        assert seen == {"errors": [], "requests": [], "dialogs": []}
        assert page.evaluate("document.getElementById('fig-recovery').data.length") == 4
        assert page.evaluate("window.__pwned") is None
    finally:
        page.context.close()


# ----------------------------------------------------------------------------- tables at 1280 and 390 px
def _page(chromium, path: Path, width: int, figures: tuple[str, ...]):
    context = chromium.new_context(offline=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    for div in figures:
        page.wait_for_selector(f"#{div} .main-svg")
    return page, errors


def _assert_columns_visible(page, table: str, shots: Path, name: str, whole: bool) -> None:
    """The verdict and value cells of ``table`` lie inside the 1280 px viewport and inside the visible
    part of the table's scroll container (nothing to scroll to see them); with ``whole``, the whole
    table fits (the container has nothing to scroll at all)."""
    locator = page.locator(f"{table}")
    locator.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"{name}-1280.png"))
    frame = page.locator(table).locator("xpath=..").bounding_box()
    for cls in ("verdict-col", "value-col"):
        cells = page.locator(f"{table} .{cls}")
        assert cells.count(), (name, cls)
        for i in range(cells.count()):
            box = cells.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280, (name, cls, i, box)
            assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 0.5, (name, cls, i, box, frame)
    wrapper = page.evaluate(
        f"() => {{ const t = document.querySelector('{table}'); const w = t.parentElement; "
        "return [w.scrollWidth, w.clientWidth, w.scrollLeft]; }"
    )
    assert wrapper[2] == 0
    if whole:
        assert wrapper[0] <= wrapper[1] + 1, (name, wrapper)  # nothing to scroll to at 1280 px


@pytest.mark.browser
def test_tables_fit_at_1280_and_phone_width(chromium, study, analysis, tmp_path):
    from incident_impact.money import MarketValue, SharesOutstanding

    shots = tmp_path / "screenshots"
    shots.mkdir()
    report = tmp_path / "study.html"
    links = {eid: f"incidents/{eid}.html" for eid in study.analyses}
    write_study_report(study, report, links=links, generated_at=FROZEN, plotlyjs="directory")
    valued = dataclasses.replace(
        analysis,
        market_value=MarketValue(
            pd.Timestamp("2017-04-07"), 50.0, SharesOutstanding(2.5e9, "test filing", dt.date(2017, 3, 31))
        ),
    )
    incident = write_report(valued, tmp_path / "incident.html", generated_at=FROZEN, plotlyjs="directory")
    study_figs = ("fig-forest-0", "fig-caar", "fig-pooled", "fig-recovery-mean")
    incident_figs = ("fig-prices", "fig-car", "fig-recovery")

    page, errors = _page(chromium, report, 1280, study_figs)
    try:
        _assert_columns_visible(page, "#verdicts", shots, "study-verdicts", whole=False)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 1281 and errors == []
    finally:
        page.context.close()
    page, errors = _page(chromium, incident, 1280, incident_figs)
    try:
        assert page.locator("#windows .value-col").count() == 1 + len(valued.result.car_table)
        _assert_columns_visible(page, "#windows", shots, "incident-windows", whole=True)
        page.locator("#recovery-horizons").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "incident-recovery-1280.png"))
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 1281 and errors == []
    finally:
        page.context.close()

    for path, figs, name in ((report, study_figs, "study"), (incident, incident_figs, "incident")):
        page, errors = _page(chromium, path, 390, figs)
        try:
            page.screenshot(path=str(shots / f"{name}-390-full.png"), full_page=True)
            width = page.evaluate("window.innerWidth")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= width + 1, name
            # wide tables scroll inside their own container, and their text wraps
            table = "#verdicts" if name == "study" else "#windows"
            page.locator(table).scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"{name}-390-table.png"))
            box = page.locator(table).locator("xpath=..").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
            assert (
                page.evaluate(f"getComputedStyle(document.querySelector('{table}').parentElement).overflowX") == "auto"
            )
            assert errors == []
        finally:
            page.context.close()
    assert len(list(shots.glob("*.png"))) == 7


# ----------------------------------------------------------------------------- size budget (real data)
@pytest.mark.realdata
@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
def test_study_of_the_catalog_fits_the_size_budget(tmp_path, monkeypatch):
    """`incident-impact study --all --data-dir ../shared/data/prices` writes at most 15 MB: one
    plotly.min.js beside the study report instead of 4.8 MB inlined in each of 44 pages."""
    prices = Path(SHARED).resolve() / "prices"  # before the chdir: the variable may be relative
    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(cli, ["study", "--all", "--data-dir", str(prices), "--offline"])
    assert out.exit_code == 3, out.output  # private companies and missing files: partial
    reports = tmp_path / "reports"
    files = [p for p in reports.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert total <= 15 * 1024 * 1024, f"{total / 1e6:.1f} MB"
    assert [p.name for p in files if p.suffix == ".js"] == ["plotly.min.js"]
    incidents = list((reports / "study-incidents").glob("*.html"))
    assert len(incidents) >= 40
    assert all('<script src="../plotly.min.js"' in p.read_text(encoding="utf-8") for p in incidents)
