"""The HTML report: content, escaping, atomic writes, and the page in a real offline Chromium."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re

import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import open_page
from incident_impact.eventstudy import format_window
from incident_impact.money import MarketValue, SharesOutstanding, format_money
from incident_impact.report import figures, render, render_incident_report, write_report
from incident_impact.report import page as report_page
from markupsafe import escape
from plotly.offline import get_plotlyjs

FROZEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
PAYLOAD = '<script>alert(1)</script> "quoted"'
#: A chunk from the middle of plotly.min.js, to count how often the bundle is inlined.
PLOTLY_MARKER = get_plotlyjs()[2_400_000:2_400_200]


def without_plotlyjs(html: str) -> str:
    """The page with the inlined bundle cut out (it contains URLs in its own code)."""
    return html.replace(get_plotlyjs(), "")


@pytest.fixture(scope="module")
def analysis(make_incident_analysis):
    return make_incident_analysis()


@pytest.fixture(scope="module")
def evil(make_incident_analysis):
    return make_incident_analysis(
        name=f"Evil {PAYLOAD}",
        summary=f"summary {PAYLOAD}",
        claimed_impact=f"claimed {PAYLOAD}",
        sources=("javascript:alert(1)", 'https://example.com/"><script>alert(1)</script>'),
        description=f"event {PAYLOAD}",
        event_source="javascript:alert(1)",
    )


@pytest.fixture(scope="module")
def html(analysis):
    return render_incident_report(analysis, generated_at=FROZEN)


@pytest.fixture(scope="module")
def evil_html(evil):
    return render_incident_report(evil, generated_at=FROZEN)


# ----------------------------------------------------------------- content
def test_header_verdict_and_facts(html, analysis):
    inc = analysis.incident
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert f"<title>{inc.name} — incident-impact report</title>" in html
    assert "generated 2026-01-02 03:04:05 UTC" in html
    assert f"incident-impact {report_page.tool_version()}" in html
    assert f'<p class="plain" id="plain">{escape(analysis.plain())}</p>' in html
    assert f'<p class="verdict" id="verdict">{escape(analysis.verdict())}</p>' in html
    assert html.index('id="plain"') < html.index('id="verdict"')
    # a glossary for readers who are not statisticians
    assert 'id="h-glossary"' in html and "<dt>MDE</dt>" in html and "<dt>Equivalence test (TOST)</dt>" in html
    for text in (inc.company, inc.category, inc.summary, inc.claimed_impact, inc.confidence, ", ".join(inc.peers)):
        assert text in html
    assert f"{analysis.day0.date()} (XNYS session)" in html
    # the verdict comes before the first figure, the figures before the tables
    assert (
        html.index('class="verdict"')
        < html.index('id="fig-prices"')
        < html.index('id="fig-car"')
        < html.index('id="h-windows"')
    )


def test_plotlyjs_inlined_once_and_nothing_loaded_from_the_network(html):
    assert html.count(PLOTLY_MARKER) == 1
    body = without_plotlyjs(html)
    assert "<link" not in body
    assert "url(" not in body
    tags_with_src = re.findall(r"<[a-z]+\b[^>]*\bsrc\s*=[^>]*>", body, flags=re.I)
    assert tags_with_src == []
    assert html.count("<script>window.PlotlyConfig") == 1
    assert body.count('{"displaylogo": false, "responsive": true}') == 3  # prices, CAR, recovery


def test_window_table_and_model(html, analysis):
    table = analysis.result.car_table
    for label in table.index:
        assert f'<th scope="row">{label}' in html
    headline = format_window(analysis.headline_window)
    row = table.loc[headline]
    assert f'<tr class="headline"><th scope="row">{headline} <span class="small">(headline)</span></th>' in html
    assert f"{100 * row.car:+.2f} %" in html
    assert html.count('class="headline"') == 1
    info = analysis.result.estimation_info
    assert f"{info['start']} to {info['end']} ({info['n_obs']} returns" in html
    assert 'beta</th><td class="n">' in html and f"{analysis.result.params['beta']:.3f}" in html
    assert analysis.result.fitted.model.description in html


def test_robustness_peers_and_money_sections(html, analysis, make_incident_analysis):
    checks = analysis.robustness
    assert str(escape(checks.statement())) in html
    for spec in checks.results:
        assert f'<th scope="row">{escape(spec)}</th>' in html
    frame = checks.to_frame()
    cell = frame.loc[("market-adjusted (^GSPC)", "[0,0]")]
    assert f'{100 * cell.car:+.2f} % <span class="small">(p {cell.p_value:.3f})</span><br>{cell.verdict}' in html
    assert '<tr class="firm"><th scope="row">ACME (the firm)</th>' in html
    dal = analysis.peers["DAL"].car_table.loc["[0,0]"]
    assert f'<th scope="row">DAL</th><td class="n">{100 * dal.car:+.2f} %' in html
    assert "AAL not studied: no prices for AAL" in html
    assert "Effect in money unknown: shares outstanding unknown" in html
    valued = dataclasses.replace(
        analysis, market_value=MarketValue(pd.Timestamp("2017-04-07"), 50.0, SharesOutstanding(2e6, "10-K"))
    )
    page = render_incident_report(valued, generated_at=FROZEN)
    change = valued.verdicts().loc["[-1,+1]"]
    assert "Value change (95 % CI)" in page and format_money(change["value_change"]) in page
    assert "Effect in money: CAR × the market value $100M on 2017-04-07" in page


def test_sources_timeline_and_notes(html, analysis):
    for url in analysis.incident.sources:
        assert f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(url)}</a>' in html
    for event in analysis.incident.timeline:
        assert event.description in html
    assert "(possible confounder)" in html
    assert analysis.notes, "the fixture is meant to carry a data note"
    for note in analysis.notes:
        assert f"<li>{note}</li>" in html
    assert 'id="data-notes"' in html and "Data notes" in html
    assert analysis.stock.source in html and analysis.benchmark.source in html


def test_no_notes_says_so(make_incident_analysis):
    quiet = make_incident_analysis(stock_notes=())
    assert not quiet.notes
    html = render_incident_report(quiet, generated_at=FROZEN)
    assert "No data notes" in html and 'class="warning"' not in html


def test_ar_table_alternative(html, analysis):
    details = html[html.index("<details>") : html.index("</details>")]
    ar = analysis.result.abnormal_returns
    assert details.count("<tr><td>") == len(ar)
    first = ar.iloc[0]
    assert f'<td>{ar.index[0].date()}</td><td class="n">{int(first.rel_day)}</td>' in details
    assert f"{100 * first.ar:+.2f} %" in details


def test_figures_and_accessibility(html):
    assert html.count('role="img"') == 3
    for fig_id, cap in (("fig-prices", "cap-prices"), ("fig-car", "cap-car"), ("fig-recovery", "cap-recovery")):
        assert f'<div role="img" aria-labelledby="{cap}"><div' in html
        assert f'id="{fig_id}"' in html
        assert f'<figcaption id="{cap}">' in html
    headings = [int(h) for h in re.findall(r"<h([1-6])\b", html)]
    assert headings[0] == 1 and headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(headings, headings[1:], strict=False))


def test_rendering_is_deterministic(analysis, html):
    assert render_incident_report(analysis, generated_at=FROZEN) == html


# ----------------------------------------------------------------- figures
def test_price_figure(analysis):
    fig = go.Figure(figures.price_figure(analysis))
    names = [t.name for t in fig.data]
    assert names == [analysis.stock.ticker, "^GSPC", "timeline events", "possible confounders"]
    stock = fig.data[0]
    x = list(stock.x)
    day0 = analysis.result.day0
    assert x.index(day0) == figures.SESSIONS_BEFORE
    assert stock.y[x.index(day0) - 1] == pytest.approx(100)
    assert fig.data[1].y[x.index(day0) - 1] == pytest.approx(100)
    assert x[-1] == analysis.stock.data.index[-1]
    in_view = [e for e in analysis.incident.timeline if pd.Timestamp(e.date) >= x[0]]
    assert len(in_view) < len(analysis.incident.timeline)
    assert list(fig.data[2].x) == sorted({pd.Timestamp(e.date) for e in in_view if not e.is_confounder})
    assert list(fig.data[3].x) == sorted({pd.Timestamp(e.date) for e in in_view if e.is_confounder})
    # one marker per date; its hover text lists every event of that date
    day0_text = fig.data[2].hovertext[list(fig.data[2].x).index(day0)]
    assert day0_text.count("<br>") == 1 and "incident" in day0_text and "response" in day0_text
    assert fig.data[3].marker.symbol != fig.data[2].marker.symbol
    dashes = {s.line.dash for s in fig.layout.shapes if s.type == "line"}
    assert {"solid", "dot"} <= dashes
    assert len([s for s in fig.layout.shapes if s.type == "rect"]) == 2  # estimation window, event period


def test_car_figure(analysis):
    fig = go.Figure(figures.car_figure(analysis))
    bars, band, car = fig.data
    ar = analysis.result.abnormal_returns
    path = analysis.result.car_path()
    assert bars.type == "bar" and list(bars.x) == list(ar["rel_day"])
    assert list(bars.y) == pytest.approx(list(100 * ar["ar"]))
    assert list(car.y) == pytest.approx(list(100 * path["car"]))
    assert band.fill == "toself" and len(band.y) == 2 * len(path)
    assert max(band.y) == pytest.approx(100 * path["upper"].max())
    assert min(band.y) == pytest.approx(100 * path["lower"].min())


def string_titles(fig: dict, path: str = "") -> list[str]:
    """Where ``fig`` holds a title given as a bare string (plotly.js 3 reads only ``title.text``; graph
    objects converted such strings, plain figure dicts reach plotly.js as they are)."""
    found = []
    for key, value in fig.items() if isinstance(fig, dict) else enumerate(fig) if isinstance(fig, list) else ():
        if key == "title" and isinstance(value, str):
            found.append(f"{path}/{key}")
        elif isinstance(value, (dict, list)):
            found += string_titles(value, f"{path}/{key}")
    return found


def assert_valid_figure(fig: dict) -> go.Figure:
    """``fig`` is a plain figure dict that plotly's graph objects accept property by property (a typo in
    a property name or a bad value raises here, as the pages are rendered with ``validate=False``)."""
    assert isinstance(fig, dict) and set(fig) == {"data", "layout"}
    assert all(isinstance(trace, dict) and "type" in trace for trace in fig["data"])
    assert string_titles(fig) == []
    checked = go.Figure(fig)  # validate=True: raises on any unknown property or invalid value
    assert len(checked.data) == len(fig["data"])
    return checked


def test_figures_are_valid_plotly_figure_dicts(analysis, evil):
    """Issue 15: the incident report's figures are plain dicts (no ``plotly.graph_objects`` on the report
    path); graph objects validate every one of them here."""
    for a in (analysis, evil):
        price, car = figures.price_figure(a), figures.car_figure(a)
        recovery = figures.recovery_figure(a.aftermath.recovery, a.aftermath.responses, a.stock.ticker)
        for fig in (price, car, recovery):
            assert_valid_figure(fig)
            assert fig["layout"]["template"] == figures.template()
        assert [t["type"] for t in car["data"]] == ["bar", "scatter", "scatter"]
    assert_valid_figure({"data": [figures.band_trace([1, 2], [0, 0], [1, 1], "band")], "layout": {}})


def test_template_is_the_one_graph_objects_built():
    """The figures carry the template a graph-objects figure had with ``template=THEME``: plotly's default
    template with :data:`figures.THEME` merged over it (the same zero lines, title spacing and hover labels)."""
    built = go.Figure().update_layout(template=figures.THEME).layout.template.to_plotly_json()
    assert figures.template() == built


def test_figure_html_renders_a_dict_without_validation(analysis):
    fig = figures.car_figure(analysis)
    snippet = figures.figure_html(fig, "fig-x")
    assert snippet.count("Plotly.newPlot") == 1 and '"fig-x"' in snippet and '"displaylogo": false' in snippet
    assert '"title":{"text":"relative trading day (0 = day 0)"}' in snippet
    assert figures.figure_html(go.Figure(fig), "fig-x").count("Plotly.newPlot") == 1  # graph objects still work


def test_plotly_labels_are_escaped(evil):
    fig = go.Figure(figures.price_figure(evil))
    texts = [t for trace in fig.data[2:] for t in trace.hovertext]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in t for t in texts)
    assert not any("<script" in t for t in texts)


# ----------------------------------------------------------------- escaping
def test_autoescape_applies_to_j2_templates():
    env = report_page.environment()
    assert env.autoescape(render.TEMPLATE) is True
    assert env.autoescape("base.html.j2") is True


def test_malicious_text_is_escaped(evil_html):
    lowered = evil_html.lower()
    assert "<script>alert" not in lowered
    assert 'href="javascript:' not in lowered
    assert (
        "<title>Evil &lt;script&gt;alert(1)&lt;/script&gt; &#34;quoted&#34; — incident-impact report</title>"
        in evil_html
    )
    assert "claimed &lt;script&gt;alert(1)&lt;/script&gt;" in evil_html
    assert "<li>javascript:alert(1)</li>" in evil_html
    # an http URL with quotes stays a link, its quotes escaped inside the attribute
    assert (
        '<a href="https://example.com/&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" rel="noopener noreferrer">'
        in evil_html
    )


def test_only_http_urls_are_links():
    assert report_page.http_url(" https://x.org/a ") == "https://x.org/a"
    assert report_page.http_url("HTTP://x.org") == "HTTP://x.org"
    for bad in ("javascript:alert(1)", "data:text/html,hi", "//x.org", "ftp://x.org", "", None):
        assert report_page.http_url(bad) is None


# ----------------------------------------------------------------- writing
def test_write_report_creates_folders_and_returns_path(analysis, html, tmp_path):
    target = tmp_path / "a" / "b" / "report.html"
    assert write_report(analysis, target, generated_at=FROZEN) == target
    assert target.read_text(encoding="utf-8") == html
    assert os.listdir(target.parent) == ["report.html"]


@pytest.fixture
def old_report(tmp_path):
    """An earlier report at ``tmp_path/report.html`` that a failed write must leave as it was."""
    target = tmp_path / "report.html"
    target.write_text("old report", encoding="utf-8")
    return target


def test_failed_render_keeps_the_old_report(analysis, tmp_path, monkeypatch, old_report):
    target = old_report

    def boom(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(render, "render_incident_report", boom)
    with pytest.raises(RuntimeError, match="render failed"):
        write_report(analysis, target)
    assert target.read_text(encoding="utf-8") == "old report"
    assert os.listdir(tmp_path) == ["report.html"]


def test_failed_replace_removes_the_temp_file(analysis, tmp_path, monkeypatch, old_report):
    target = old_report

    def boom(src, dst):
        assert os.path.getsize(src) > 4_000_000  # the complete report was written first
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_report(analysis, target)
    assert target.read_text(encoding="utf-8") == "old report"
    assert os.listdir(tmp_path) == ["report.html"]


# ----------------------------------------------------------------- browser
TRACE_COUNTS = "id => document.getElementById(id).data.length"


@pytest.mark.browser
def test_report_renders_offline_in_chromium(chromium, analysis, tmp_path):
    path = write_report(analysis, tmp_path / "report.html", generated_at=FROZEN)
    page, seen = open_page(chromium, path)
    try:
        assert seen == {"errors": [], "requests": [], "dialogs": []}
        assert page.title() == f"{analysis.incident.name} — incident-impact report"
        assert page.evaluate(TRACE_COUNTS, "fig-prices") == len(figures.price_figure(analysis)["data"]) == 4
        assert page.evaluate(TRACE_COUNTS, "fig-car") == len(figures.car_figure(analysis)["data"]) == 3
        assert page.locator(".modebar-btn--logo").count() == 0
        links = page.eval_on_selector_all("a[href^=http]", "as => as.map(a => a.rel)")
        assert links and set(links) == {"noopener noreferrer"}
    finally:
        page.context.close()


@pytest.mark.browser
def test_malicious_report_runs_no_script(chromium, evil, tmp_path):
    path = write_report(evil, tmp_path / "evil.html", generated_at=FROZEN)
    page, seen = open_page(chromium, path)
    try:
        # hover the day-0 event marker: its malicious description shows as plain text
        page.hover("#fig-prices .scatterlayer .trace:nth-child(3) .point:nth-child(2)", force=True)
        assert "event <script>alert(1)</script>" in page.text_content("#fig-prices .hoverlayer")
        assert seen == {"errors": [], "requests": [], "dialogs": []}
        assert page.locator("script:not([src])").count() == 5  # PlotlyConfig, plotly.js, three figures
        assert page.locator("a[href^='javascript:' i]").count() == 0
        assert "<script>alert(1)</script>" in page.locator("h1").inner_text()
    finally:
        page.context.close()


def test_window_table_carries_the_verdicts(make_incident_analysis):
    analysis = make_incident_analysis()
    html = render_incident_report(analysis)
    verdicts = analysis.verdicts()
    assert "Equivalence p" in html and "MDE" in html
    for label, row in verdicts.iterrows():
        assert f'{report_page.pvalue(row.p_value)}</td><td class="verdict-col">{row.text}</td>' in html, label
        assert f"{100 * row.mde:.2f} %</td>" in html
    assert verdicts.loc["[0,0]", "text"] == "significant harm"  # the synthetic -4 % day-0 shock


def test_confounders_are_shown(make_incident_analysis):
    html = render_incident_report(make_incident_analysis())
    assert "Other news inside the windows" in html
    assert "other-news on 2017-04-07 (day -1) falls inside [-1,+1], [-5,+5]: Fuel prices jump." in html


def test_compiled_templates_are_cached_and_change_nothing(analysis, tmp_path, monkeypatch):
    """Issue 15: the compiled templates are kept in the cache folder; a page rendered from them is the
    page compiled afresh, byte for byte."""
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    fresh = report_page._template_cache
    monkeypatch.setattr(report_page, "_template_cache", lambda: None)
    report_page.environment.cache_clear()
    expected = render_incident_report(analysis, generated_at=when)
    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(report_page, "_template_cache", fresh)
    for _ in range(2):  # compiled and written, then read back in a "new process"
        report_page.environment.cache_clear()
        assert render_incident_report(analysis, generated_at=when) == expected
    assert len(list((tmp_path / "templates").glob("__jinja2_*.cache"))) == 3  # incident, base, glossary
    report_page.environment.cache_clear()
