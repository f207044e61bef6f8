"""Hostile incident files against the HTML report, in a real headless Chromium.

A malicious incidents/timelines CSV (script tags, event-handler attributes, ``javascript:`` and
``data:`` URLs, quotes that try to leave attributes, ``</script>`` and ``<!--`` aimed at the JSON
that plotly embeds in ``<script>`` blocks, template syntax, JS line terminators) is loaded the
way a user loads one (``load_catalog(incidents_csv, timelines_csv)``), analysed with prices from a
data folder, written as a report and opened offline: no script from the data may run, no link
may carry a non-http URL, and every payload must show as plain text. Report file names derived
from ids stay inside the output folder and never collide; report writing is atomic even when
the writer is killed.
"""

from __future__ import annotations

import os
import random
import re
import signal
import stat
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape
from conftest import synthetic_prices
from conftest import open_page
from test_report import FROZEN

from incident_impact.analysis import analyze
from incident_impact.catalog import load_catalog
from incident_impact.cli import cli
from incident_impact.errors import IncidentImpactError, ReportError
from incident_impact.prices import PriceResolver
from incident_impact.report import render, write_report
from incident_impact.report import page as report_page
from conftest import write_rows

#: Markup and script aimed at every context a text can land in; each would set window.__pwned.
PAYLOADS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    '"><svg/onload=window.__pwned=3>',
    "'><iframe srcdoc=\"<script>parent.__pwned=4</script>\"></iframe>",
    "</script><script>window.__pwned=5</script>",
    "<!--<script>window.__pwned=6//",
    "</title></head><body onload=window.__pwned=7>",
    "{{ 7*7 }}{% if true %}jinja{% endif %}",
    "line\u2028sep\u2029para",
    '<a href="javascript:window.__pwned=8">click me</a>',
    "<style>body{display:none}</style>",
    '<base href="http://evil.example/"><meta http-equiv="refresh" content="0,url=javascript:window.__pwned=9">',
    "<details open ontoggle=window.__pwned=10>",
    "`${window.__pwned=11}`",
]
#: URLs for the sources column and the timeline's source column (';' separates sources).
URLS = [
    "javascript:window.__pwned=20",
    " JaVaScRiPt:window.__pwned=21",
    "java\tscript:window.__pwned=22",
    "data:text/html,<script>window.__pwned=23</script>",
    "vbscript:msgbox(24)",
    '"https://example.com/"onmouseover="window.__pwned=25"',
    "https://example.com/\"onmouseover='window.__pwned=26'",
    "https://example.com/?q=<script>window.__pwned=27</script>",
    "//evil.example/28",
    "https://example.com/ok",
]
SCRIPT_TAGS_OF_THE_PAGE = 5  # PlotlyConfig, plotly.js, one per figure (prices, CAR, recovery)




def hostile_files(folder: Path, incident_id: str = "evil-2017", ticker: str = "ACME") -> tuple[Path, Path]:
    """An incidents and a timelines CSV with a payload in every text column."""
    text = " | ".join(PAYLOADS)
    incident = {
        "id": incident_id, "ticker": ticker, "incident_date": "2017-04-10", "name": f"Evil {PAYLOADS[0]} {PAYLOADS[4]}",
        "company": f"ACME {PAYLOADS[1]}", "former_tickers": "<B>OLD</B>", "peers": "<SCRIPT>X</SCRIPT>;DAL",
        "category": f"cat {PAYLOADS[2]}", "platforms": f"{PAYLOADS[3]};X", "summary": text, "claimed_impact": text,
        "listing_note": f"{PAYLOADS[6]} {PAYLOADS[11]}", "sources": ";".join(URLS), "confidence": "high",
    }
    events = [
        {"incident_id": incident_id, "date": "2017-04-10", "time": "", "timezone": "", "kind": "incident",
         "description": text, "source": URLS[0]},
        {"incident_id": incident_id, "date": "2017-04-07", "time": "", "timezone": "", "kind": "other-news",
         "description": f"confounder {PAYLOADS[4]} {PAYLOADS[5]}", "source": URLS[5]},
        {"incident_id": incident_id, "date": "2017-04-11", "time": "18:30", "timezone": "America/New_York",
         "kind": "response", "description": f"{PAYLOADS[9]} {PAYLOADS[13]}", "source": URLS[7]},
    ]
    return write_rows(folder / "incidents.csv", [incident]), write_rows(folder / "timelines.csv", events)


@pytest.fixture(scope="module")
def prices_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("prices")
    for ticker, frame in synthetic_prices().items():
        frame.to_csv(folder / f"{ticker.lstrip('^')}.csv", index_label="date")
    return folder


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, prices_dir):
    folder = tmp_path_factory.mktemp("hostile")
    incident = load_catalog(*hostile_files(folder))["evil-2017"]
    source = PriceResolver(prices_dir, cache=None, use_sample=False, download=False)
    return analyze(incident, source=source)


@pytest.fixture(scope="module")
def hostile_html(hostile) -> str:
    return render.render_incident_report(hostile, generated_at=FROZEN)


@pytest.fixture(scope="module")
def html(make_incident_analysis) -> str:
    """A report of harmless text, for comparison."""
    return render.render_incident_report(make_incident_analysis(), generated_at=FROZEN)


# ----------------------------------------------------------------- the HTML text
def test_the_file_reached_the_report_unchanged(hostile):
    inc = hostile.incident
    assert inc.summary == " | ".join(PAYLOADS) and inc.sources == tuple(u.strip() for u in URLS)
    assert inc.peers == ("<SCRIPT>X</SCRIPT>", "DAL")
    assert hostile.peer_failures  # the hostile peer ticker is refused, with a reason shown in the report


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's tokenizer sees them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_no_payload_survives_as_markup(hostile_html, html):
    hostile, plain = Tags(hostile_html).tags, Tags(html).tags
    assert {t for t, _ in hostile} <= {t for t, _ in plain}  # the data adds no kind of element
    assert sum(t == "script" for t, _ in hostile) == SCRIPT_TAGS_OF_THE_PAGE
    assert not [(t, a) for t, attrs in hostile for a in attrs if a.startswith("on")]
    hrefs = [attrs["href"] for t, attrs in hostile if "href" in attrs]
    assert all(h.startswith(("https://", "http://", "#")) for h in hrefs), hrefs
    assert "https://example.com/ok" in hrefs
    assert "https://example.com/\"onmouseover='window.__pwned=26'" in hrefs  # the quote stayed inside the attribute
    body = hostile_html.replace(report_page.plotly_js(), "")
    assert body.count("window.__pwned=") > 20  # the payloads are there, as text
    assert "{{ 7*7 }}" in body  # data is never rendered as a template


def test_plotly_json_cannot_close_its_script_block(hostile_html):
    for block in hostile_html.split("<script")[3:]:  # the figures' scripts
        script = block.split("</script>", 1)[0]
        assert "<!--" not in script and "<script" not in script.lower()
        assert "\u2028" not in script and "\u2029" not in script


# ----------------------------------------------------------------- in Chromium
ON_ATTRIBUTES = """() => Array.from(document.querySelectorAll('*')).flatMap(
    el => Array.from(el.attributes).filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name))"""
LINKS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), a.protocol])"


@pytest.mark.browser
def test_hostile_report_runs_no_script_in_chromium(chromium, hostile, tmp_path):
    path = write_report(hostile, tmp_path / "evil.html", generated_at=FROZEN)
    page, seen = open_page(chromium, path, ("fig-prices", "fig-car", "fig-recovery"))
    try:
        page.hover("#fig-prices .scatterlayer .trace:nth-child(3) .point", force=True)  # the event markers' labels
        hover = page.text_content("#fig-prices .hoverlayer") or ""
        page.hover("#fig-recovery .scatterlayer .trace:nth-child(4) .point", force=True)  # the response's star
        response_hover = page.text_content("#fig-recovery .hoverlayer") or ""
        page.click("details summary")  # open the data table
        page.mouse.move(600, 450)
        page.mouse.wheel(0, 20_000)  # scroll through the page
        time.sleep(0.2)
        assert page.evaluate("() => window.__pwned") is None
        assert page.evaluate("() => parent.__pwned") is None
        assert seen == {"errors": [], "requests": [], "dialogs": []}
        assert page.locator("script").count() == SCRIPT_TAGS_OF_THE_PAGE
        assert page.locator("img, iframe, base, meta[http-equiv], details[open][ontoggle]").count() == 0
        assert page.evaluate(ON_ATTRIBUTES) == []
        links = page.evaluate(LINKS)
        assert links and all(proto in ("http:", "https:") or href.startswith("#") for href, proto in links), links
        assert {href for href, _ in links if href.startswith("http")} == {
            "https://example.com/ok", "https://example.com/\"onmouseover='window.__pwned=26'",
            "https://example.com/?q=<script>window.__pwned=27</script>"}
        assert page.title() == f"Evil {PAYLOADS[0]} {PAYLOADS[4]} — incident-impact report"
        assert page.locator("h1").inner_text() == f"Evil {PAYLOADS[0]} {PAYLOADS[4]}"
        text = page.locator("main").inner_text()
        for payload in (*PAYLOADS[:6], PAYLOADS[7], PAYLOADS[9], "javascript:window.__pwned=20", "vbscript:msgbox(24)"):
            assert payload in text, payload
        assert "incident: <script>window.__pwned=1</script>" in hover  # plotly shows the label as text
        assert f"response: {PAYLOADS[9]}" in response_hover and page.locator("#fig-recovery a").count() == 0
        assert page.locator("footer").is_visible() and page.locator("#fig-car .main-svg").count() >= 1
    finally:
        page.context.close()


@pytest.mark.browser
def test_hostile_study_report_runs_no_script_in_chromium(chromium, tmp_path, monkeypatch, prices_dir):
    """The same file through ``incident-impact study``: the study report (forest plot, sortable
    table, claims, confounders) and the incident report it links to."""
    monkeypatch.chdir(tmp_path)
    incidents, timelines = hostile_files(tmp_path)
    run = CliRunner().invoke(cli, ["study", "evil-2017", "--incidents", str(incidents), "--timelines", str(timelines),
                                   "--data-dir", str(prices_dir), "--offline", "--no-peers", "--format", "json"])
    assert run.exit_code == 0, run.output
    page = chromium.new_context(offline=True).new_page()
    seen = []
    page.on("pageerror", lambda exc: seen.append(str(exc)))
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
    try:
        page.goto((tmp_path / "reports" / "study.html").as_uri())
        page.wait_for_selector("#fig-forest-0 .main-svg")
        for heading in page.locator("th[aria-sort]").all()[:4]:
            heading.click()  # the sorting script handles the hostile cells
        page.mouse.wheel(0, 20_000)
        time.sleep(0.2)
        assert page.evaluate("() => window.__pwned") is None and seen == []
        assert page.evaluate(ON_ATTRIBUTES) == []
        assert page.locator("img, iframe, base, meta[http-equiv]").count() == 0
        links = page.evaluate(LINKS)
        assert {href for href, _ in links if not href.startswith("#")} == {"study-incidents/evil-2017.html"}
        assert f"Evil {PAYLOADS[0]} {PAYLOADS[4]}" in page.locator("main").inner_text()
        page.locator("a[href='study-incidents/evil-2017.html']").first.click()  # the linked incident report, hostile too
        page.wait_for_selector("#fig-car .main-svg")
        assert page.evaluate("() => window.__pwned") is None and seen == []
    finally:
        page.context.close()


# ----------------------------------------------------------------- hostile tickers
@pytest.mark.parametrize("ticker", ["<SCRIPT>", "../../ETC/PASSWD", "A;B", "A B", "..", "\u202eLIAM"])
def test_hostile_ticker_is_refused_before_any_file_is_read(tmp_path, prices_dir, ticker):
    incident = load_catalog(*hostile_files(tmp_path, ticker=ticker)).__iter__().__next__()
    with pytest.raises(IncidentImpactError) as info:
        analyze(incident, source=PriceResolver(prices_dir, cache=None, use_sample=False, download=False))
    assert "\n" not in str(info.value)


# ----------------------------------------------------------------- file names from ids
HOSTILE_IDS = ["../../escape", "..", ".", "/etc/passwd", "..\\..\\win", "a/../../b", "a/b", "a-b", "study",
               ".hidden", "~root", "%2e%2e%2fx", "\u2024\u2024/x", "x" * 300]


@pytest.fixture
def hostile_ids_csv(tmp_path) -> Path:
    return write_rows(tmp_path / "ids.csv", [{"id": i, "ticker": "ACME", "incident_date": "2017-04-10", "name": f"incident {i}"}
                                              for i in HOSTILE_IDS])


def test_analyze_report_names_stay_in_the_folder_and_are_distinct(tmp_path, monkeypatch, prices_dir, hostile_ids_csv):
    monkeypatch.chdir(tmp_path)
    written = {}
    for incident_id in HOSTILE_IDS[:9]:
        run = CliRunner().invoke(cli, ["analyze", incident_id, "--incidents", str(hostile_ids_csv), "--data-dir",
                                       str(prices_dir), "--offline", "--format", "json"])
        assert run.exit_code == 0, run.output
        path = (tmp_path / run.stderr.rsplit("report written to ", 1)[1].strip()).resolve()
        assert path.parent == (tmp_path / "reports").resolve() and not path.name.startswith(".")
        written[incident_id] = path
        assert f"<h1>{escape(f'incident {incident_id}')}</h1>" in path.read_text(encoding="utf-8")
    assert len(set(written.values())) == len(written)  # no two ids share a report
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ids.csv", "reports"]


def test_study_incident_reports_stay_beside_the_study_report_and_are_distinct(tmp_path, monkeypatch, prices_dir,
                                                                             hostile_ids_csv):
    monkeypatch.chdir(tmp_path)
    ids = ["..", ".", "a/b", "a-b", "study", "../../escape", ".hidden"]  # stems that used to collide
    run = CliRunner().invoke(cli, ["study", *ids, "--incidents", str(hostile_ids_csv), "--data-dir", str(prices_dir),
                                   "--offline", "--no-peers", "--format", "json"])
    assert run.exit_code == 0, run.output
    reports = tmp_path / "reports"
    assert sorted(p.name for p in reports.iterdir()) == ["plotly.min.js", "study-incidents", "study.html"]
    files = sorted(p.name for p in (reports / "study-incidents").iterdir())
    assert len({f.casefold() for f in files}) == len(ids), files
    for name in files:  # every incident report loads the one shared plotly.js, relative to itself
        assert '<script src="../plotly.min.js" charset="utf-8"></script>' in (reports / "study-incidents" / name).read_text(encoding="utf-8")
    assert not any(name.startswith(".") for name in files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ids.csv", "reports"]
    study_html = (reports / "study.html").read_text(encoding="utf-8")
    for incident_id in ids:  # each link leads to that incident's own report
        name = escape(f"incident {incident_id}")
        link = re.search(rf'<a href="([^"]+)">{re.escape(name)}</a>', study_html).group(1)
        assert (reports / link).read_text(encoding="utf-8").count(f"<h1>{name}</h1>") == 1, incident_id


# ----------------------------------------------------------------- atomic writes
def _fork(child) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            child()
        finally:
            os._exit(0)
    return pid


def test_report_writer_killed_at_random_moments_leaves_a_whole_report(tmp_path):
    """The target always holds one complete report, the old or a new one, never a torn mix."""
    target = tmp_path / "report.html"
    versions = [f"<!DOCTYPE html><html><body>version {i} {'x' * 6_000_000}</body></html>\n" for i in range(2)]
    target.write_text(versions[0], encoding="utf-8")
    rng = random.Random(7)
    for _ in range(12):
        def child():
            for i in range(1000):
                report_page.write_html(versions[i % 2], target)

        pid = _fork(child)
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert target.read_text(encoding="utf-8") in versions
    for leftover in tmp_path.glob(".report.html.*.tmp"):  # a killed writer's hidden temporary file
        assert leftover.stat().st_size <= len(versions[0])
    report_page.write_html(versions[1], target)  # a rerun completes
    assert target.read_text(encoding="utf-8") == versions[1]


def test_concurrent_report_writers_leave_one_whole_report(tmp_path):
    target = tmp_path / "report.html"
    versions = [f"<html>writer {i} {'y' * 2_000_000}</html>\n" for i in range(4)]
    pids = [_fork(lambda v=v: [report_page.write_html(v, target) for _ in range(5)]) for v in versions]
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0
    assert target.read_text(encoding="utf-8") in versions
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.parametrize("where", ["a-file/report.html", "a-file/deeper/report.html", "/proc/report.html"])
def test_unwritable_report_path_is_one_clear_error(tmp_path, where):
    (tmp_path / "a-file").write_text("not a folder")
    target = tmp_path / where
    with pytest.raises(ReportError, match=r"^cannot write the report .*report\.html: ") as info:
        report_page.write_html("<!DOCTYPE html><html></html>", target)
    assert isinstance(info.value, IncidentImpactError) and isinstance(info.value, OSError)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"] and (tmp_path / "a-file").read_text() == "not a folder"


# ----------------------------------------------------------------- targets that are not regular files (issue 12)
def test_a_fifo_target_is_written_through(tmp_path):
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    report_page.write_html("<html>through</html>\n", fifo)
    reader.join(timeout=30)
    assert got == ["<html>through</html>\n"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["fifo"]


@pytest.mark.parametrize("make, kind", [
    (lambda p: p.mkdir(), "a folder"),
    (lambda p: os.mknod(p, 0o600 | stat.S_IFBLK, os.makedev(7, 200)), "not a regular file"),
    (lambda p: os.mknod(p, 0o600 | stat.S_IFCHR, os.makedev(1, 1)), "not a regular file"),  # /dev/mem
    (lambda p: p.symlink_to(p.parent / "nowhere" / "x.html"), "broken symbolic link"),
])
def test_other_special_targets_are_refused_and_left_alone(tmp_path, make, kind):
    target = tmp_path / "target"
    try:
        make(target)
    except PermissionError:
        pytest.skip("cannot create device nodes here")
    before = os.lstat(target)
    with pytest.raises(ReportError, match=rf"^cannot write the report .*target: .*{kind}"):
        report_page.write_html("<html></html>", target)
    after = os.lstat(target)
    assert (after.st_mode, after.st_rdev, after.st_ino) == (before.st_mode, before.st_rdev, before.st_ino)
    assert [p.name for p in tmp_path.iterdir()] == ["target"]


def test_stale_temp_files_of_killed_writers_are_removed(tmp_path):
    old = [tmp_path / ".report.html.0badc0de.tmp", tmp_path / ".other.html.12345678.tmp"]
    young = tmp_path / ".report.html.feedf00d.tmp"  # perhaps a writer at work right now
    foreign = [tmp_path / ".keep.html.tmp", tmp_path / "user.0badc0de.tmp", tmp_path / ".x.html.NOTHEX12.tmp"]
    for path in (*old, young, *foreign):
        path.write_text("partial")
    hour_ago = time.time() - 2 * 3600
    for path in (*old, *foreign):
        os.utime(path, (hour_ago, hour_ago))
    report_page.write_html("<html></html>", tmp_path / "report.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["report.html", young.name, *(p.name for p in foreign)])


# ----------------------------------------------------------------- quotes in plotly labels (issue 12)
QUOTED = 'He said "sorry" & <b>left</b> \'now\''


def test_plotly_labels_are_escaped_once():
    from incident_impact.catalog import TimelineEvent
    from incident_impact.report import figures

    label = figures._event_label(TimelineEvent(__import__("datetime").date(2017, 4, 10), "incident", QUOTED))
    assert label == "2017-04-10 · incident: He said \"sorry\" &amp; &lt;b&gt;left&lt;/b&gt; 'now'"


@pytest.mark.browser
def test_quotes_show_as_quotes_in_hover_labels_and_the_forest_plot(chromium, make_incident_analysis, tmp_path, monkeypatch,
                                                                   prices_dir):
    path = write_report(make_incident_analysis(description=QUOTED), tmp_path / "q.html", generated_at=FROZEN)
    page, seen = open_page(chromium, path)
    try:
        page.locator("#fig-prices .scatterlayer .trace:nth-child(3) .point").nth(1).hover(force=True)  # 2017-04-10
        hover = page.text_content("#fig-prices .hoverlayer") or ""
        assert QUOTED in hover and "&quot;" not in hover and "&#x27;" not in hover
        assert page.evaluate("() => window.__pwned") is None and seen["errors"] == []
    finally:
        page.context.close()
    monkeypatch.chdir(tmp_path)
    incidents = write_rows(tmp_path / "inc.csv", [{"id": "q-2017", "ticker": "ACME", "incident_date": "2017-04-10",
                                                  "name": QUOTED}])
    run = CliRunner().invoke(cli, ["study", "q-2017", "--incidents", str(incidents), "--data-dir", str(prices_dir),
                                   "--offline", "--no-peers", "--no-robustness", "--no-incident-reports"])
    assert run.exit_code == 0, run.output
    page = chromium.new_context(offline=True).new_page()
    try:
        page.goto((tmp_path / "reports" / "study.html").as_uri())
        page.wait_for_selector("#fig-forest-0 .main-svg")
        ticks = page.locator("#fig-forest-0 .ytick text").all_text_contents()
        assert QUOTED in ticks, ticks
    finally:
        page.context.close()
