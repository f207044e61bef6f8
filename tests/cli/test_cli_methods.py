"""The method battery on the command line: every model name, --bootstrap, --outcome and --export."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from incident_impact.cli import cli
from incident_impact.eventstudy.models import MODELS

PEPSI = ["pepsi-kendall-jenner-ad-2017", "--offline", "--no-peers", "--no-robustness", "--no-report"]


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_every_library_model_is_a_cli_choice():
    out = run("analyze", "--help").output
    for name in MODELS:
        assert name in out
    assert {"garch", "egarch", "scholes-williams", "dimson"} <= set(MODELS)


def test_export_writes_the_tables_in_each_format(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for suffix in ("csv", "xlsx", "tex"):
        res = run("analyze", *PEPSI, "--no-aftermath", "--export", f"t.{suffix}")
        assert res.exit_code == 0, res.output
    sheets = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None)
    assert list(sheets) == ["windows"] and "verdict" in sheets["windows"].columns
    assert "[0,+1]" in (tmp_path / "t.csv").read_text() and "\\toprule" in (tmp_path / "t.tex").read_text()
    bad = run("analyze", *PEPSI, "--export", "t.doc")
    assert bad.exit_code == 2 and "use a file ending in .csv, .xlsx, .tex" in bad.output


def test_outcome_volume_without_a_volume_column_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run("analyze", *PEPSI, "--no-aftermath", "--outcome", "volume")
    assert res.exit_code == 1 and "no trading volume for PEP" in res.output and "Traceback" not in res.output


def test_outcome_volatility_in_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run("analyze", *PEPSI, "--no-aftermath", "--outcome", "volatility", "--format", "json")
    body = json.loads(res.stdout)
    assert set(body["outcome"]["volatility"]) == {"[0,0]", "[0,+1]", "[-1,+1]", "[0,+5]", "[-5,+5]"}


def test_study_bootstrap_p_values_are_reproducible(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["study", "pepsi-kendall-jenner-ad-2017", "--events", str(_events(tmp_path)), "--offline", "--no-peers",
            "--no-robustness", "--no-report", "--format", "json", "--bootstrap", "199", "--seed", "5"]
    first, second = (json.loads(run(*args).stdout) for _ in range(2))
    tests = {t["test"]: t for t in first["windows"][0]["tests"]}
    assert 0 <= tests["cs_t"]["bootstrap_p_value"] <= 1 and tests["corrado"]["bootstrap_p_value"] is None
    assert first["windows"][0]["tests"] == second["windows"][0]["tests"]


def _events(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("event_id,ticker,event_date\nko-2016,KO,2016-05-10\npg-2018,PG,2018-03-14\njpm-2015,JPM,2015-06-02\n")
    return path
