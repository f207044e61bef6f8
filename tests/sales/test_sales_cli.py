"""`incident-impact sales`: output formats, one-line errors, and the sales report (page and section)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

from incident_impact.report.sales import placebo_figure, render_sales_report, sales_figure
from incident_impact.sales import read_sales_csv, sales_impact
from conftest import weekly_sales_csv


@pytest.fixture
def sales_csv(tmp_path):
    return weekly_sales_csv(tmp_path / "weekly.csv")


@pytest.fixture
def run(cli_in_tmp):
    return cli_in_tmp


COMMON = ("--seasonal", "none", "--placebos", "5", "--repetitions", "300")


def test_table_output_matches_the_library_and_writes_a_report(run, sales_csv, tmp_path):
    res = run("sales", "--sales", sales_csv, "--date", "2016-02-28", "--control", "category", *COMMON)
    assert res.exit_code == 0, res.stderr
    direct = sales_impact(read_sales_csv(sales_csv), "2016-02-28", controls=["category"], seasonal=None, placebos=5,
                          repetitions=300)
    assert res.stdout.strip() == direct.summary()
    assert "significant harm" in res.stdout and "in-time placebos (5" in res.stdout
    assert res.stdout.startswith("Sales were ") and " below what the pre-incident pattern and the control series" in res.stdout
    report = tmp_path / "reports" / "sales-2016-02-28-sales.html"
    assert f"report written to {report.relative_to(tmp_path)}" in res.stderr
    assert report.exists() and 'id="fig-sales"' in report.read_text()


def test_json_and_csv(run, sales_csv):
    res = run("sales", "--sales", sales_csv, "--date", "2016-02-28", "--design", "did", "--log", "--format", "json",
              "--no-report", *COMMON)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["design"] == "did" and out["controls"] == ["category"] and out["spec"]["log"] is True
    assert out["effects"]["average"]["relative"] == pytest.approx(-0.2, abs=0.03)
    res = run("sales", "--sales", sales_csv, "--date", "2016-02-28", "--format", "csv", "--no-report", *COMMON)
    lines = res.stdout.splitlines()
    assert lines[0].startswith("date,period,observed,predicted") and len(lines) == 81
    assert lines[-1].startswith("2016-07-10,post,")


def test_incident_id_needs_dates_that_cover_it(run, sales_csv):
    res = run("sales", "united-airlines-flight-3411-2017", "--sales", sales_csv, "--no-report", *COMMON)
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith("Error: the incident (2017-04-") and "after the last sales period (2016-07-10)" in res.stderr


@pytest.mark.parametrize("args, message", [
    (("--date", "2016-02-28", "--column", "units"), "Error: no column 'units' in the sales data"),
    (("--date", "2016-02-28", "--frequency", "M"), "Error: --frequency M does not match the data, which are spaced W"),
    (("--date", "2016-02-28", "--design", "its", "--control", "category"), "Error: the its design uses the sales series alone"),
    (("--date", "2015-01-20",), "Error: the pre-period has 3 periods"),
    (("--date", "2016-02-28", "--level-sd", "wide"), "Invalid value for --level-sd: 'wide' is neither a number nor 'mle'"),
    (("--date", "2016-02-28", "--seasonal", "yearly"), "Invalid value for --seasonal"),
    ((), "name an incident"),
])
def test_errors_are_one_line(run, sales_csv, args, message):
    res = run("sales", "--sales", sales_csv, "--no-report", *COMMON, *args)
    assert res.exit_code in (1, 2) and message in res.stderr and "Traceback" not in res.stderr


def test_irregular_file_is_a_clear_error(run, tmp_path):
    path = tmp_path / "gappy.csv"
    path.write_text("date,sales\n2020-01-05,1\n2020-01-12,2\n2020-01-26,3\n2020-02-02,4\n")
    res = run("sales", "--sales", path, "--date", "2020-01-20", "--no-report")
    assert res.exit_code == 1
    assert res.stderr.strip() == ("Error: irregular spacing: 2020-01-26 follows 2020-01-12 (14 days; the usual step is 7 days): "
                                  "the period 2020-01-19 between them is missing. "
                                  "Use daily, weekly, monthly, quarterly or annual data without gaps.")


# ---------------------------------------------------------------- report
@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(22)
    index = pd.date_range("2018-01-01", periods=48, freq="MS")
    donors = 100 + rng.normal(0, 1, (48, 3)).cumsum(axis=0)
    y = donors @ np.array([0.5, 0.5, 0.0]) + rng.normal(0, 0.5, 48)
    y[36:] += 6
    table = pd.DataFrame(np.column_stack([y, donors]), index=index, columns=["sales", "<b>north</b>", "south", "west"])
    return sales_impact(table, "2021-01-15", design="synthetic", seasonal=None, placebos=4, repetitions=300)


def test_sales_figure_panels_hold_the_result(result):
    """A plain figure dict (no plotly.graph_objects on the report path) that plotly validates: three stacked
    panels sharing the bottom x axis, each trace in its panel, the incident line in all three."""
    import plotly.graph_objects as go

    fig = go.Figure(sales_figure(result))  # validate=True: raises on an unknown property or invalid value
    names = [t.name for t in fig.data]
    assert names.count("observed sales") == 1 and "pointwise effect" in names and "cumulative effect" in names
    cumulative = next(t for t in fig.data if t.name == "cumulative effect")
    assert list(cumulative.y) == pytest.approx(result.series["cumulative"].dropna().tolist())
    assert (cumulative.xaxis, cumulative.yaxis) == ("x3", "y3")
    observed = next(t for t in fig.data if t.name == "observed sales")
    assert len(observed.x) == 48 and (observed.xaxis, observed.yaxis) == ("x", "y")
    layout = fig.layout
    assert layout.xaxis.matches == layout.xaxis2.matches == "x3" and layout.xaxis3.matches is None
    assert layout.yaxis.domain[1] == 1 and layout.yaxis3.domain[0] == 0 and layout.yaxis2.domain[0] > layout.yaxis3.domain[1]
    assert [a.text for a in layout.annotations] == ["Sales and counterfactual", "Pointwise effect", "Cumulative effect"]
    incident = [s for s in layout.shapes if s.x0 == s.x1]
    assert [s.xref for s in incident] == ["x", "x2", "x3"] and len(layout.shapes) == 5


def test_placebo_strip_escapes_labels(result):
    import plotly.graph_objects as go

    fig = go.Figure(placebo_figure(result))
    space = next(t for t in fig.data if t.name == "in-space placebos")
    assert "&lt;b&gt;north&lt;/b&gt;" in space.text and len(space.x) == 3
    real = [t for t in fig.data if t.name == "real effect"]
    assert real[0].x[0] == pytest.approx(100 * result.relative_effect)


def test_sales_page(result):
    page = render_sales_report(result)
    assert page.count("<section") == 1 and "<title>Sales impact of the incident on 2021-01-15" in page
    assert str(escape(result.verdict_text())) in page
    assert "<b>north</b>" not in page.split("<script>")[0] and "synthetic-control weight of &lt;b&gt;north&lt;/b&gt;" in page
    section = page[page.index('<section aria-labelledby="h-sales"'):page.index("</section>")]
    assert "sigma2" not in section and "beta." not in section and "weight." not in section and "level_sd" not in section
    assert section.index(str(escape(result.plain_sentence()))) < section.index(str(escape(result.verdict_text())))
    assert page.count('id="fig-sales"') == 1 and 'id="fig-sales-placebos"' in page
    assert "in-space placebos (3, 12 periods each)" in page


def test_incident_report_with_a_sales_section(make_incident_analysis, result):
    from plotly.offline import get_plotlyjs

    from incident_impact.report import render_incident_report

    analysis = make_incident_analysis()
    page = render_incident_report(analysis, sales=result)
    assert page.count(get_plotlyjs()[2_400_000:2_400_200]) == 1
    assert page.count('<section aria-labelledby="h-sales" id="sales">') == 1 and page.count("<h1>") == 1
    assert page.index('id="h-windows"') < page.index('id="h-sales"') < page.index('id="h-timeline"')
    assert "h-sales" not in render_incident_report(analysis)


def test_analyze_with_sales_puts_both_in_one_report(run, tmp_path):
    sessions = pd.bdate_range("2015-06-01", "2016-06-30")
    rng = np.random.default_rng(23)
    market = rng.normal(0.0004, 0.01, len(sessions))
    folder = tmp_path / "prices"
    folder.mkdir()
    for ticker, r in (("GSPC", market), ("ACME", 1.1 * market + rng.normal(0, 0.01, len(sessions)))):
        pd.DataFrame({"date": sessions.strftime("%Y-%m-%d"), "adj_close": 50 * np.cumprod(1 + r)}).to_csv(
            folder / f"{ticker}.csv", index=False)
    weeks = pd.date_range("2014-06-01", "2016-06-26", freq="W-SUN")
    category = 500 + rng.normal(0, 5, len(weeks)).cumsum()
    brand = 0.4 * category + rng.normal(0, 2, len(weeks))
    brand[weeks >= "2016-03-15"] *= 0.85
    sales_path = tmp_path / "acme.csv"
    pd.DataFrame({"date": weeks.strftime("%Y-%m-%d"), "brand": brand, "category": category}).to_csv(sales_path, index=False)
    res = run("analyze", "--ticker", "ACME", "--date", "2016-03-15", "--data-dir", folder, "--offline",
              "--sales", sales_path, *COMMON, "--format", "json", "--report", tmp_path / "both.html")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["sales"]["effects"]["average"]["relative"] == pytest.approx(-0.15, abs=0.04)
    assert out["sales"]["post_period"][0] == "2016-03-20"
    page = (tmp_path / "both.html").read_text()
    assert 'id="h-car"' in page and 'id="h-sales"' in page


@pytest.mark.browser
def test_sales_section_draws_in_chromium(chromium, make_incident_analysis, result, tmp_path):
    from conftest import open_page
    from incident_impact.report import write_report

    path = write_report(make_incident_analysis(), tmp_path / "with-sales.html", sales=result)
    page, seen = open_page(chromium, path, ("fig-prices", "fig-car", "fig-sales", "fig-sales-placebos"))
    errors = seen["errors"]
    drawn = page.evaluate("id => document.getElementById(id).data.map(t => t.name)", "fig-sales")
    assert drawn == [t["name"] for t in sales_figure(result)["data"]]
    assert page.locator("#h-sales").count() == 1 and errors == []
