"""Table exports (incident_impact/export.py): CSV and XLSX round trips, LaTeX headers and escaping,
unknown suffixes, atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import IncidentImpactError
from incident_impact.export import FORMATS, export_tables, study_tables


@pytest.fixture
def tables():
    windows = pd.DataFrame({"car": [-0.0123, 0.045], "p_value": [0.031, 0.7], "verdict": ["harm", "inconclusive"]},
                           index=pd.Index(["[0,+1]", "[-1,+1]"], name="window"))
    tests = pd.DataFrame({"statistic": [1.5, np.nan], "n_events": [40, 40], "note": ["rbar = 0.01", "N < 2 & 5 % off"]},
                         index=pd.Index(["bmp", "sq_test"], name="test"))
    return {"windows": windows, "tests [0,+1]": tests}


def test_csv_round_trip(tmp_path, tables):
    path = export_tables(tables, tmp_path / "out.csv")
    back = pd.read_csv(path)
    assert back.columns[0] == "table" and back["table"].tolist() == ["windows"] * 2 + ["tests [0,+1]"] * 2
    w = back[back["table"] == "windows"].dropna(axis=1, how="all")
    assert w["window"].tolist() == ["[0,+1]", "[-1,+1]"] and w["verdict"].tolist() == ["harm", "inconclusive"]
    np.testing.assert_allclose(w["car"], [-0.0123, 0.045])
    t = back[back["table"] == "tests [0,+1]"]
    assert t["test"].tolist() == ["bmp", "sq_test"] and np.isnan(t["statistic"].iloc[1])


def test_csv_cells_never_start_a_formula(tmp_path):
    export_tables({"t": pd.DataFrame({"x": ["=1+1", "ok", "-cmd"]})}, tmp_path / "f.csv")
    assert pd.read_csv(tmp_path / "f.csv")["x"].tolist() == ["'=1+1", "ok", "'-cmd"]


def test_xlsx_round_trip_one_sheet_per_table(tmp_path, tables):
    path = export_tables(tables, tmp_path / "out.xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["windows", "tests _0,+1_"]  # [ ] are not allowed in sheet names
    w = sheets["windows"]
    assert w.columns.tolist() == ["window", "car", "p_value", "verdict"]
    np.testing.assert_allclose(w["p_value"], [0.031, 0.7])
    assert sheets["tests _0,+1_"]["note"].tolist() == ["rbar = 0.01", "N < 2 & 5 % off"]


def test_latex_has_headers_and_escapes(tmp_path, tables):
    text = export_tables(tables, tmp_path / "out.tex").read_text()
    assert "\\toprule" in text and "\\midrule" in text and "\\bottomrule" in text
    assert "window & car & p\\_value & verdict \\\\" in text
    assert "test & statistic & n\\_events & note \\\\" in text
    assert "N < 2 \\& 5 \\% off" in text and "sq\\_test" in text
    assert "\\paragraph{tests [0,+1]}" in text
    for line in text.splitlines():
        if not line.startswith("%"):
            bare = line.replace("\\&", "").replace("\\%", "").replace("\\_", "")
            assert "%" not in bare and "_" not in bare, line


def test_unknown_suffix_and_bad_input(tmp_path, tables):
    with pytest.raises(IncidentImpactError, match=r"\.json.*\.csv, \.xlsx, \.tex"):
        export_tables(tables, tmp_path / "out.json")
    with pytest.raises(IncidentImpactError, match="no suffix"):
        export_tables(tables, tmp_path / "out")
    with pytest.raises(IncidentImpactError, match="non-empty"):
        export_tables({}, tmp_path / "out.csv")
    with pytest.raises(IncidentImpactError, match="does not exist"):
        export_tables(tables, tmp_path / "nope" / "out.csv")
    assert FORMATS == (".csv", ".xlsx", ".tex")


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, tables, monkeypatch):
    path = tmp_path / "out.csv"
    path.write_text("old\n")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(IncidentImpactError, match="No space left"):
        export_tables(tables, path)
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["out.csv"]  # no temp file left


def test_study_tables(tmp_path):
    rng = np.random.default_rng(1)
    dates = pd.bdate_range("2018-01-01", periods=400)
    market = pd.Series(rng.normal(0, 0.01, 400), index=dates)
    wide = pd.DataFrame({t: market + rng.normal(0, 0.02, 400) for t in "ABC"}, index=dates)
    events = pd.DataFrame({"event_id": list("ABC"), "ticker": list("ABC"), "event_date": dates[[300, 320, 340]]})
    from incident_impact.eventstudy import run_study

    study = run_study(wide, market, events, windows=[(0, 1), (-1, 1)])
    tables = study_tables(study, bootstrap=19, seed=3)
    assert list(tables) == ["caar", "cars", "tests [0,+1]", "tests [-1,+1]"]
    assert "bootstrap_p_value" in tables["tests [0,+1]"].columns
    sheets = pd.read_excel(export_tables(tables, tmp_path / "s.xlsx"), sheet_name=None)
    assert sheets["tests _0,+1_"]["test"].tolist() == study.tests((0, 1)).index.tolist()
