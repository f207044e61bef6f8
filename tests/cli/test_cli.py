"""The command line through click's runner: data on stdout, one-line errors on stderr, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from incident_impact.eventstudy import event_study

SESSIONS = pd.bdate_range("2016-01-04", "2017-06-30")


def write_prices(folder, ticker, prices, dates=SESSIONS, yahoo=False):
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "adj_close": prices})
    if yahoo:
        frame = frame.rename(columns={"date": "Date", "adj_close": "Adj Close"})
    frame.to_csv(folder / f"{ticker}.csv", index=False)


@pytest.fixture
def data_dir(tmp_path):
    rng = np.random.default_rng(7)
    market = rng.normal(0.0005, 0.008, len(SESSIONS))
    stock = 0.0002 + 1.4 * market + rng.normal(0, 0.015, len(SESSIONS))
    folder = tmp_path / "prices"
    folder.mkdir()
    write_prices(folder, "GSPC", 2000 * np.cumprod(1 + market))
    write_prices(folder, "UAL", 60 * np.cumprod(1 + stock), yahoo=True)
    return folder


@pytest.fixture
def run(offline_cli):
    return offline_cli


def returns(folder, ticker):
    frame = pd.read_csv(folder / f"{ticker}.csv")
    frame.columns = ["date", "adj_close"]
    return frame.set_index(pd.to_datetime(frame["date"]))["adj_close"].pct_change().dropna()


def test_adhoc_analysis_json_matches_the_library(run, data_dir):
    res = run("analyze", "--ticker", "UAL", "--date", "2017-04-10", "--data-dir", data_dir, "--format", "json", "--no-report")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    direct = event_study(returns(data_dir, "UAL"), returns(data_dir, "GSPC"), "2017-04-10")
    assert out["incident"]["ticker"] == "UAL" and out["incident"]["benchmark"] == "^GSPC"
    assert out["incident"]["day0"] == "2017-04-10"
    assert out["model"] == "market"
    assert out["estimation"] == direct.estimation_info
    assert out["params"]["beta"] == pytest.approx(direct.params["beta"], rel=1e-12)
    assert set(out["params"]) == {"alpha", "beta", "sigma", "r_squared"}
    assert [(w["start"], w["end"]) for w in out["windows"]] == [(0, 0), (0, 1), (-1, 1), (0, 5), (-5, 5)]
    for w, (_, row) in zip(out["windows"], direct.car_table.iterrows()):
        assert w["car"] == pytest.approx(row.car, rel=1e-12)
        assert w["t_stat"] == pytest.approx(row.t_stat, rel=1e-12)
        assert w["p_value"] == pytest.approx(row.p_value, rel=1e-12)
    assert {"date", "rel_day", "return", "expected", "ar", "car"} <= set(out["abnormal_returns"][0])
    assert len(out["abnormal_returns"]) == 11
    assert out["verdict"].startswith("CAR[0,+1] = ")
    # one headline: [0,+1] by default, with every number the table prints (SQ p included)
    head = out["headline"]
    row = direct.car_table.loc["[0,+1]"]
    assert head["window"] == "[0,+1]" and head["sentence"] == out["verdict"]
    assert head["car"] == pytest.approx(row.car, rel=1e-12) and head["p_value"] == pytest.approx(row.p_value, rel=1e-12)
    assert head["sq_p_value"] == pytest.approx(direct.sq_test((0, 1)).p_value, rel=1e-12)
    assert head["confounded"] is False and head["plain"].startswith("UAL's stock did")
    for w in out["windows"]:
        assert w["sq_p_value"] == pytest.approx(direct.sq_test((w["start"], w["end"])).p_value, rel=1e-12)


def test_after_close_time_and_weekend_move_day0(run, data_dir):
    res = run("analyze", "--ticker", "UAL", "--date", "2017-04-10", "--time", "16:30", "--tz", "America/New_York",
              "--data-dir", data_dir, "--format", "json", "--no-report")
    assert json.loads(res.stdout)["incident"]["day0"] == "2017-04-11"
    res = run("analyze", "--ticker", "UAL", "--date", "2017-04-08", "--data-dir", data_dir, "--format", "json", "--no-report")
    assert json.loads(res.stdout)["incident"]["day0"] == "2017-04-10"


def test_table_output_and_report(run, data_dir, tmp_path):
    res = run("analyze", "--ticker", "UAL", "--date", "2017-04-10", "--data-dir", data_dir,
              "--window", "0,2", "--window", "-3,3", "--model", "market-adjusted", "--headline", "0,2")
    assert res.exit_code == 0, res.stderr
    assert "[0,+2]" in res.stdout and "[-3,+3]" in res.stdout and "[-1,+1]" not in res.stdout and "[0,+1]" not in res.stdout
    assert "Verdict: CAR[0,+2]" in res.stdout
    assert "report written to reports/adhoc-ual-2017-04-10.html" in res.stderr
    assert (tmp_path / "reports" / "adhoc-ual-2017-04-10.html").stat().st_size > 100_000
    assert "report written" not in res.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["analyze", "united-airlines-2017"], "united-airlines-flight-3411-2017"),
        (["analyze", "--ticker", "ZZZZ", "--date", "2017-04-10"], "no prices for ZZZZ"),
        (["analyze", "--ticker", "UAL", "--date", "2016-03-01"], "estimation window [-250,-11] has"),
        (["analyze", "--ticker", "UAL", "--date", "2019-01-10"], "outside the data"),
        (["analyze", "--ticker", "UAL", "--date", "2017-04-10", "--benchmark", "OTHER"], "share no dates"),
        (["analyze", "--ticker", "UAL", "--date", "2017-04-10", "--time", "26:00"], "cannot read the time"),
        (["analyze", "--ticker", "UAL", "--date", "2017-04-10", "--window", "5,1"], "starts after it ends"),
        (["analyze", "uber-deleteuber-2017"], "not listed"),
        (["show", "pepsi-kendal"], "pepsi-kendall-jenner-ad-2017"),
    ],
)
def test_errors_are_one_line_with_exit_status_1(run, data_dir, args, message):
    rng = np.random.default_rng(1)
    write_prices(data_dir, "OTHER", 100 * np.cumprod(1 + rng.normal(0, 0.01, 100)), dates=pd.date_range("2016-06-04", periods=100, freq="W-SAT"))
    res = run(*args, "--data-dir", data_dir, "--no-report") if args[0] == "analyze" else run(*args)
    assert res.exit_code == 1, res.output
    assert message in res.stderr
    assert "Traceback" not in res.output
    assert res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content, message",
    [
        ("date,adj_close\n2017-01-03,10\n2017-01-03,11\n", "duplicate"),
        ("date,adj_close\nyesterday,10\n", "date"),
        ("when,price\n2017-01-03,10\n", "date"),
        ("date,adj_close\n2017-01-03,-5\n", "negative"),
    ],
)
def test_malformed_price_files(run, data_dir, content, message):
    (data_dir / "UAL.csv").write_text(content)
    res = run("analyze", "--ticker", "UAL", "--date", "2017-04-10", "--data-dir", data_dir, "--no-report")
    assert res.exit_code == 1
    assert message in res.stderr.lower()
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    "args",
    [
        ["analyze"],
        ["analyze", "pepsi-kendall-jenner-ad-2017", "--ticker", "PEP"],
        ["analyze", "pepsi-kendall-jenner-ad-2017", "--date", "2017-04-04"],
        ["analyze", "pepsi-kendall-jenner-ad-2017", "--model", "capm"],
        ["list", "--format", "xml"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2(run, args):
    res = run(*args)
    assert res.exit_code == 2
    assert "Traceback" not in res.output


def test_list_and_show(run):
    res = run("list", "--format", "json")
    rows = json.loads(res.stdout)
    assert len(rows) == 55
    assert "55 incident(s)" in res.stderr
    res = run("list", "--category", "boycott", "--format", "csv")
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "id,date,ticker,category,platforms,company"
    assert all(",boycott," in line for line in lines[1:]) and len(lines) > 3
    res = run("list", "--year", "2017")
    assert "united-airlines-flight-3411-2017" in res.stdout and "nike-kaepernick" not in res.stdout
    res = run("show", "united-airlines-flight-3411-2017")
    assert res.exit_code == 0
    assert "UAL" in res.stdout and "Timeline" in res.stdout and "2017-04-10" in res.stdout
    res = run("show", "united-airlines-flight-3411-2017", "--format", "json")
    assert json.loads(res.stdout)["ticker"] == "UAL"


def test_bundled_sample_runs_the_readme_command_offline(run, tmp_path):
    res = run("analyze", "pepsi-kendall-jenner-ad-2017")
    assert res.exit_code == 0, res.stderr
    assert "bundled sample" in res.stdout
    assert "Verdict: CAR[0,+1]" in res.stdout
    assert res.stdout.splitlines()[2].startswith("PepsiCo's stock did")  # plain words first
    assert (tmp_path / "reports" / "pepsi-kendall-jenner-ad-2017.html").exists()


def test_bound_option_sets_the_equivalence_test(run, data_dir):
    base = ["analyze", "--ticker", "UAL", "--date", "2017-04-10", "--data-dir", data_dir, "--format", "json", "--no-report"]
    wide = json.loads(run(*base, "--bound", "50").stdout)
    assert {v["bound"] for v in wide["verdicts"]} == {0.5}
    assert {v["verdict"] for v in wide["verdicts"]} <= {"no material effect", "significant harm", "significant gain"}
    res = run(*base, "--bound", "0")
    assert res.exit_code == 2 and "--bound" in res.stderr


@pytest.mark.parametrize("args, kind", [
    (["analyze", "no-such-incident", "--format", "json"], "UnknownIncidentError"),
    (["show", "no-such-incident", "--format", "json"], "UnknownIncidentError"),
    (["study", "--category", "nonsense", "--format", "json", "--no-report"], "CatalogError"),
])
def test_json_format_reports_errors_as_json_on_stdout(run, args, kind):
    out = run(*args)
    assert out.exit_code == 1
    body = json.loads(out.stdout)
    assert body["error_type"] == kind and body["exit_status"] == 1
    assert body["error"] in out.stderr  # the one line on stderr stays
    table = run(*[a for a in args if a not in ("--format", "json")])
    assert table.exit_code == 1 and table.stdout == ""  # stdout carries only data
