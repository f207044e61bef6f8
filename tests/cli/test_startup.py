"""The command line starts fast: `analyze --no-report` imports neither plotly nor scipy.stats nor statsmodels."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("plotly", "scipy.stats", "statsmodels")

SCRIPT = """
import json, sys
from incident_impact.cli import cli
try:
    cli(sys.argv[1:], prog_name="incident-impact")
except SystemExit:
    pass
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("plotly", "statsmodels") or m.startswith("scipy.stats"))
sys.stderr.write("\\nHEAVY " + json.dumps(heavy) + "\\n")
"""


def _heavy_after(tmp_path, *args, script: str = SCRIPT) -> list[str]:
    """The modules ``script``'s filter lists after the command line ``args`` ran in a fresh interpreter."""
    env = {**os.environ, "INCIDENT_IMPACT_OFFLINE": "1", "INCIDENT_IMPACT_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("INCIDENT_IMPACT_DATA_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
    )
    line = [x for x in proc.stderr.splitlines() if x.startswith("HEAVY ")][-1]
    return json.loads(line[len("HEAVY ") :])


def test_importing_the_cli_imports_nothing_heavy(tmp_path):
    assert _heavy_after(tmp_path, "--help") == []


def test_analyze_without_report_imports_nothing_heavy(tmp_path):
    assert _heavy_after(tmp_path, "analyze", "pepsi-kendall-jenner-ad-2017", "--offline", "--no-report") == []
    assert (
        _heavy_after(
            tmp_path, "analyze", "pepsi-kendall-jenner-ad-2017", "--offline", "--no-report", "--format", "json"
        )
        == []
    )


LAZY_SCRIPT = SCRIPT.replace(
    'm.split(".")[0] in ("plotly", "statsmodels") or m.startswith("scipy.stats")',
    'm == "exchange_calendars" or m in ("incident_impact.aftermath.drivers", "incident_impact.aftermath.longrun", '
    '"incident_impact.aftermath.literature", "incident_impact.aftermath.pooled", "incident_impact.eventstudy.study", '
    '"incident_impact.eventstudy.outofcore", "incident_impact.eventstudy.batch", "incident_impact.eventstudy.placebo")',
)


def test_analyze_skips_the_calendar_build_and_study_modules_once_cached(tmp_path):
    """Issue 15: the second run reads the calendar's sessions from the cache folder (no exchange_calendars),
    and one incident imports none of the multi-event modules."""
    args = ("analyze", "pepsi-kendall-jenner-ad-2017", "--offline", "--no-report")
    found = [_heavy_after(tmp_path, *args, script=LAZY_SCRIPT) for _ in range(2)]
    assert found == [["exchange_calendars"], []]


GO_SCRIPT = SCRIPT.replace(
    'm.split(".")[0] in ("plotly", "statsmodels") or m.startswith("scipy.stats")',
    'm in ("plotly.graph_objects", "plotly.subplots", "plotly.express") or m.startswith("plotly.graph_objs.") '
    'or m.startswith("plotly.validators")',
)


def test_analyze_with_its_report_builds_no_graph_objects(tmp_path):
    """Issue 15: the report's figures are plain figure dicts rendered by ``plotly.io.to_html(validate=False)``, so
    ``analyze`` with its report imports neither ``plotly.graph_objects`` nor ``plotly.subplots`` nor any of the
    graph-object classes and validators (``plotly.graph_objs`` itself, a lazy package, is imported by plotly.io)."""
    report = tmp_path / "r.html"
    args = ("analyze", "pepsi-kendall-jenner-ad-2017", "--offline", "--report", str(report))
    assert _heavy_after(tmp_path, *args, script=GO_SCRIPT) == []

    page = report.read_text(encoding="utf-8")
    assert all(f'id="{div}"' in page for div in ("fig-prices", "fig-car", "fig-recovery"))


def test_sales_with_its_report_builds_no_graph_objects(tmp_path):
    """The sales figures (three stacked panels, the placebo strip) are figure dicts as well."""
    from conftest import weekly_sales_csv

    sales = weekly_sales_csv(tmp_path / "weekly.csv")
    report = tmp_path / "s.html"
    args = ("sales", "--sales", str(sales), "--date", "2016-02-28", "--control", "category", "--report", str(report))
    assert _heavy_after(tmp_path, *args, script=GO_SCRIPT) == []
    page = report.read_text(encoding="utf-8")
    assert 'id="fig-sales"' in page and 'id="fig-sales-placebos"' in page
