"""Exit status 3 means a real failure (missing data, failed downloads); incidents that cannot be studied
by nature (a private company, a company listed after the incident) are "not applicable"."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from incident_impact.catalog_study import study_incidents
from incident_impact.cli import cli

from conftest import SyntheticSource, synthetic_prices

SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
SHARED = str(Path(SHARED).resolve()) if SHARED else None  # the tests change the working folder


def test_a_late_listing_is_not_applicable_a_short_file_is_not(incidents_for_listing):
    late, frames = incidents_for_listing
    study = study_incidents([late], source=SyntheticSource(frames, {}))
    assert study.failures.empty
    assert list(study.not_applicable["event_id"]) == [late.id]
    assert "listed after the incident" in study.not_applicable["reason"].iloc[0]


@pytest.fixture
def incidents_for_listing():
    from incident_impact.catalog import adhoc_incident

    frames = synthetic_prices()
    frames = {**frames, "ACME": frames["ACME"].loc["2017-02-01":]}  # first price ~2 months before day 0
    late = dataclasses.replace(adhoc_incident("ACME", "2017-04-10"), id="late-2017", peers=())
    return late, frames


needs_shared = pytest.mark.skipif(not SHARED, reason="real prices need INCIDENT_IMPACT_SHARED_DATA=../shared/data")


@pytest.fixture
def study_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)

    def invoke(*ids):
        out = CliRunner().invoke(cli, ["study", *ids, "--data-dir", str(Path(SHARED) / "prices"), "--offline",
                                       "--no-report", "--no-peers", "--no-robustness", "--format", "json"])
        return out, json.loads(out.stdout)

    return invoke


@needs_shared
def test_private_and_late_listed_incidents_do_not_make_exit_3(study_cli):
    out, body = study_cli("united-airlines-flight-3411-2017", "dolce-gabbana-china-chopsticks-2018",
                          "peloton-gift-that-gives-back-2019")
    assert out.exit_code == 0, out.output
    assert body["failures"] == []
    reasons = {f["event_id"]: f["reason"] for f in body["not_applicable"]}
    assert "not listed" in reasons["dolce-gabbana-china-chopsticks-2018"]
    assert "listed after the incident" in reasons["peloton-gift-that-gives-back-2019"]


@needs_shared
def test_missing_data_still_makes_exit_3(study_cli):
    out, body = study_cli("united-airlines-flight-3411-2017", "kenneth-cole-cairo-tweet-2011")
    assert out.exit_code == 3, out.output
    assert [f["event_id"] for f in body["failures"]] == ["kenneth-cole-cairo-tweet-2011"]
    assert body["failures"][0]["detail"]
