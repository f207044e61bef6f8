"""Issue 12: nothing is touched outside the outputs asked for, and JSON always parses.

Report targets that are not regular files (FIFOs, devices, folders), one JSON document on stdout even
when the report cannot be written, no ``NaN``/``Infinity`` in any JSON, report names that never
collide (also on case-insensitive file systems), no terminal escape sequences from a user's files,
CSV cells that cannot start a formula, and one-line usage errors instead of internal errors.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from incident_impact.cli.common import csv_cell, dumps, report_stems, safe_stem, terminal_safe
from conftest import write_rows
from test_cli import data_dir, run  # noqa: F401  (fixtures)

ADHOC = ("analyze", "--ticker", "UAL", "--date", "2017-04-10", "--no-peers", "--no-robustness")


def reject(constant):
    raise ValueError(f"non-standard JSON constant {constant}")


def strict(text: str):
    """The one JSON document of ``text``, read by a parser that refuses NaN and Infinity."""
    return json.loads(text, parse_constant=reject)




def events_csv(folder: Path, ids) -> Path:
    return write_rows(folder / "events.csv", [{"event_id": i, "ticker": "UAL", "event_date": "2017-04-10"} for i in ids])


# ----------------------------------------------------------------- 5. report targets that are not regular files
def test_report_into_a_fifo_is_written_through_and_the_fifo_stays(run, data_dir, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    res = run(*ADHOC, "--data-dir", data_dir, "--report", fifo)
    reader.join(timeout=60)
    assert res.exit_code == 0, res.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received[0].startswith(b"<!DOCTYPE html>") and received[0].rstrip().endswith(b"</html>")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == ["pipe", "prices"]  # no temp file, no reports/


def _device(path: Path, minor: int) -> Path:
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        with open(path, "rb"):
            pass
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a usable device node here: {exc}")
    return path


def test_report_into_a_null_device_is_written_through_not_replaced(run, data_dir, tmp_path):
    null = _device(tmp_path / "null", 3)  # a copy of /dev/null
    res = run(*ADHOC, "--data-dir", data_dir, "--report", null)
    assert res.exit_code == 0, res.output
    info = os.lstat(null)
    assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)
    assert not list(tmp_path.glob(".null.*"))


def test_report_into_another_device_or_a_folder_is_refused(run, data_dir, tmp_path):
    zero = _device(tmp_path / "zero", 5)  # /dev/zero: a device that is no sink
    res = run(*ADHOC, "--data-dir", data_dir, "--report", zero)
    assert res.exit_code == 1
    assert "cannot write the report" in res.stderr and "not a regular file" in res.stderr
    assert stat.S_ISCHR(os.lstat(zero).st_mode) and os.lstat(zero).st_rdev == os.makedev(1, 5)
    assert res.stdout.startswith("UAL event on 2017-04-10")  # the result is still printed


def test_report_through_a_symlink_updates_the_file_it_points_to(run, data_dir, tmp_path):
    target = tmp_path / "real.html"
    target.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(target)
    res = run(*ADHOC, "--data-dir", data_dir, "--report", link)
    assert res.exit_code == 0, res.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# ----------------------------------------------------------------- 6. one JSON document, meaningful exit status
@pytest.mark.parametrize("command", ["analyze", "study"])
def test_report_failure_gives_one_json_document_with_the_error(run, data_dir, tmp_path, command):
    (tmp_path / "a-file").write_text("not a folder")
    if command == "analyze":
        args = [*ADHOC, "--data-dir", data_dir]
    else:
        args = ["study", "--events", events_csv(tmp_path, ["ual-2017"]), "--data-dir", data_dir, "--no-peers", "--no-robustness"]
    res = run(*args, "--format", "json", "--report", tmp_path / "a-file" / "report.html")
    assert res.exit_code == 1
    body = strict(res.stdout)  # exactly one document: a second one would make this fail
    assert body["errors"] == [{"error": body["errors"][0]["error"], "error_type": "ReportError"}]
    assert body["errors"][0]["error"].startswith("cannot write the report ")
    assert "a-file" in body["errors"][0]["error"]
    assert ("verdicts" in body) if command == "analyze" else (body["n_events"] == 1)
    assert res.stderr.strip().splitlines()[-1].startswith("Error: cannot write the report ")
    assert (tmp_path / "a-file").read_text() == "not a folder"


def test_report_failure_in_table_format_prints_the_result_and_exits_1(run, data_dir, tmp_path):
    (tmp_path / "a-file").write_text("x")
    res = run(*ADHOC, "--data-dir", data_dir, "--report", tmp_path / "a-file" / "r.html")
    assert res.exit_code == 1
    assert res.stdout.startswith("UAL event on 2017-04-10 (adhoc-ual-2017-04-10)")
    assert "Error: cannot write the report" in res.stderr and "report written" not in res.stderr


def test_written_report_has_no_errors_entry(run, data_dir):
    res = run(*ADHOC, "--data-dir", data_dir, "--format", "json")
    assert res.exit_code == 0, res.output
    assert "errors" not in strict(res.stdout)


# ----------------------------------------------------------------- 7. no NaN or Infinity in JSON
def test_dumps_writes_null_for_non_finite_numbers_and_plain_python_for_numpy():
    import numpy as np
    import pandas as pd

    text = dumps({"a": float("nan"), "b": [float("inf"), -np.inf, np.float64(1.5), np.int64(3)], "c": np.array([1.0, np.nan]),
                  "d": pd.Timestamp("2017-04-10"), "e": np.bool_(True), "f": pd.NaT, "g": (1, 2)})
    assert strict(text) == {"a": None, "b": [None, None, 1.5, 3], "c": [1.0, None], "d": "2017-04-10T00:00:00", "e": True,
                            "f": None, "g": [1, 2]}


@pytest.mark.parametrize("option", [["--bound", "inf"], ["--bound", "nan"], ["--shares", "inf"], ["--shares", "nan"]])
def test_non_finite_options_are_usage_errors(run, data_dir, option):
    res = run(*ADHOC, "--data-dir", data_dir, "--no-report", *option)
    assert res.exit_code == 2, res.output
    assert option[0] in res.stderr and "finite" in res.stderr and "Traceback" not in res.output


@pytest.fixture
def with_close(data_dir):
    """UAL with an as-traded close (the market value needs one)."""
    import pandas as pd

    frame = pd.read_csv(data_dir / "UAL.csv")
    frame["Close"] = frame["Adj Close"] * 1.1
    frame.to_csv(data_dir / "UAL.csv", index=False)
    return data_dir


def test_an_infinite_market_value_is_null_in_json(run, with_close):
    data_dir = with_close
    res = run(*ADHOC, "--data-dir", data_dir, "--no-report", "--format", "json", "--shares", "1e308")
    assert res.exit_code == 0, res.output
    body = strict(res.stdout)
    assert body["verdicts"] and all(v["value_change"] is None for v in body["verdicts"])


def test_huge_share_count_in_an_incidents_file_still_gives_strict_json(run, with_close, tmp_path):
    data_dir = with_close
    incidents = write_rows(tmp_path / "inc.csv", [{"id": "huge-2017", "ticker": "UAL", "incident_date": "2017-04-10",
                                                   "name": "huge", "shares_outstanding": "1e308"}])
    res = run("analyze", "huge-2017", "--incidents", incidents, "--data-dir", data_dir, "--no-peers", "--no-robustness",
              "--no-report", "--format", "json")
    assert res.exit_code == 0, res.output
    assert all(v["value_change"] is None for v in strict(res.stdout)["verdicts"])
    for command in (["list"], ["show", "huge-2017"]):
        out = run(*command, "--incidents", incidents, "--format", "json")
        assert out.exit_code == 0 and strict(out.stdout)
    res = run("study", "huge-2017", "--incidents", incidents, "--data-dir", data_dir, "--no-peers", "--no-robustness",
              "--no-report", "--format", "json")
    assert res.exit_code == 0, res.output
    assert strict(res.stdout)["n_events"] == 1


# ----------------------------------------------------------------- 8. report names never collide
def test_a_hashed_stem_never_equals_another_ids_stem():
    hashed = safe_stem("col/a")
    assert hashed == "col-a-" + hashlib.sha256(b"col/a").hexdigest()[:8]
    assert safe_stem(hashed) != hashed  # the id that looks like a hashed stem is hashed too
    assert safe_stem("Foo").casefold() != safe_stem("foo").casefold() == "foo"
    assert safe_stem("FOO").casefold() != safe_stem("Foo").casefold()
    assert safe_stem("con") != "con" and safe_stem("LPT1.x") != "LPT1.x"  # reserved device names on Windows


def test_report_stems_are_distinct_ignoring_case_even_when_hashes_collide(monkeypatch):
    ids = ["col/a", safe_stem("col/a"), "Foo", "foo", "FOO", "study", "Study", "a-b", "a/b"]
    stems = report_stems(ids, reserved={"study"})
    assert len({s.casefold() for s in stems.values()} | {"study"}) == len(ids) + 1
    import incident_impact.cli.common as common

    monkeypatch.setattr(common, "safe_stem", lambda text, reserved=frozenset(): "same")  # forced collisions
    stems = report_stems(["x", "y", "z"], reserved={"same"})
    assert len({s.casefold() for s in stems.values()} | {"same"}) == 4


def test_study_writes_one_report_per_id_and_links_each_to_its_own(run, data_dir, tmp_path):
    import re

    ids = ["col/a", safe_stem("col/a"), "Foo", "foo", "Study"]
    incidents = write_rows(tmp_path / "inc.csv", [{"id": i, "ticker": "UAL", "incident_date": "2017-04-10",
                                                   "name": f"incident {i}"} for i in ids])
    res = run("study", *ids, "--incidents", incidents, "--data-dir", data_dir, "--no-peers", "--no-robustness")
    assert res.exit_code == 0, res.output
    reports = tmp_path / "reports"
    names = [p.name for p in reports.rglob("*.html")]
    assert len({n.casefold() for n in names}) == len(ids) + 1 == len(names)
    study_html = (reports / "study.html").read_text(encoding="utf-8")
    links = {name: href for href, name in re.findall(r'<a href="([^"]+)">incident ([^<]+)</a>', study_html)}
    assert sorted(links) == sorted(ids)
    for incident_id, href in links.items():  # each link leads to that incident's own report
        assert f"<h1>incident {incident_id}</h1>" in (reports / href).read_text(encoding="utf-8")


# ----------------------------------------------------------------- 9. terminal escapes and CSV formulas
HOSTILE = "Evil\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;title\x07\x1b[2J\x1b[1A\r\u202eKCAH\u2066x\u2069\x9b31m\x7f end"


def test_terminal_safe_makes_control_characters_visible_and_inert():
    text = terminal_safe(HOSTILE + "\nline two\tcol")
    assert not any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in text)
    assert not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert text.startswith("Evil\\x1b]52;c;cm0gLXJmIH4=\\x07") and "\\u202eKCAH" in text and text.endswith("\nline two\tcol")
    assert terminal_safe("Société — ok ✓") == "Société — ok ✓"


@pytest.fixture
def hostile_incident(tmp_path):
    incidents = write_rows(tmp_path / "inc.csv", [{
        "id": "evil-2017", "ticker": "UAL", "incident_date": "2017-04-10", "name": HOSTILE, "company": HOSTILE,
        "summary": HOSTILE, "claimed_impact": HOSTILE, "category": "other", "platforms": "X",
    }])
    timelines = write_rows(tmp_path / "tl.csv", [{"incident_id": "evil-2017", "date": "2017-04-10", "time": "",
                                                  "timezone": "", "kind": "incident", "description": HOSTILE}])
    return incidents, timelines


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F
            or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]


@pytest.mark.parametrize("command", [
    ["show", "evil-2017"], ["list"], ["list", "--format", "csv"],
    ["analyze", "evil-2017", "--no-peers", "--no-robustness", "--no-report"],
    ["study", "evil-2017", "--no-peers", "--no-robustness", "--no-report"],
    ["study", "evil-2017", "--no-peers", "--no-robustness", "--no-report", "--format", "csv"],
])
def test_no_control_character_from_a_users_file_reaches_the_terminal(run, data_dir, hostile_incident, command):
    incidents, timelines = hostile_incident
    extra = ["--data-dir", data_dir] if command[0] in ("analyze", "study") else []
    res = run(*command, "--incidents", incidents, "--timelines", timelines, *extra)
    assert res.exit_code == 0, res.output
    assert _raw_controls(res.stdout) == [] and _raw_controls(res.stderr) == []
    if command[0] != "study":  # the study's table has no names
        assert "Evil\\x1b]52;c;" in res.stdout


def test_json_keeps_the_exact_text(run, hostile_incident):
    incidents, timelines = hostile_incident
    res = run("show", "evil-2017", "--incidents", incidents, "--timelines", timelines, "--format", "json")
    assert strict(res.stdout)["name"] == HOSTILE


def test_an_error_naming_hostile_text_is_inert(run, tmp_path):
    res = run("show", "x\x1b]0;pwned\x07")
    assert res.exit_code == 1 and _raw_controls(res.stderr) == []
    res = run("show", "x\x1b]0;pwned\x07", "--format", "json")
    assert strict(res.stdout)["error_type"] == "UnknownIncidentError"


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-2.5", "-2.5"), ("+3", "+3"), ("-1e-5", "-1e-5"), ("plain", "plain"), ("", ""),
    (-0.5, -0.5), (None, None),
])
def test_csv_cells_cannot_start_a_formula(value, cell):
    assert csv_cell(value) == cell


def test_list_csv_neutralises_formulas(run, tmp_path):
    incidents = write_rows(tmp_path / "inc.csv", [{"id": "f-2017", "ticker": "UAL", "incident_date": "2017-04-10",
                                                   "name": "f", "company": "=cmd|' /C calc'!A0", "platforms": "@x;-y"}])
    res = run("list", "--incidents", incidents, "--format", "csv")
    row = [r for r in csv.DictReader(res.stdout.splitlines()) if r["id"] == "f-2017"][0]
    assert row["company"] == "'=cmd|' /C calc'!A0" and row["platforms"] == "'@x;-y"


# ----------------------------------------------------------------- 10, 11, 12. usage errors instead of internal errors
def test_negative_placebo_seed_is_a_usage_error(run, data_dir, tmp_path):
    res = run("study", "--events", events_csv(tmp_path, ["e"]), "--data-dir", data_dir, "--no-report", "--placebo", "3",
              "--seed", "-1")
    assert res.exit_code == 2 and "--seed" in res.stderr and "internal error" not in res.output


@pytest.mark.parametrize("value", ["0", "1", "2", "-5"])
def test_too_small_min_estimation_is_a_usage_error(run, data_dir, value):
    res = run(*ADHOC, "--data-dir", data_dir, "--no-report", "--estimation", "-12,-11", "--min-estimation", value)
    assert res.exit_code == 2, res.output
    assert "--min-estimation" in res.stderr and "RuntimeWarning" not in res.stderr


def test_min_estimation_must_exceed_the_models_parameters(run, data_dir):
    res = run(*ADHOC, "--data-dir", data_dir, "--no-report", "--min-estimation", "3", "--model", "mean")
    assert res.exit_code == 0, res.output
    res = run(*ADHOC, "--data-dir", data_dir, "--no-report", "--estimation", "-13,-11", "--min-estimation", "3")
    assert res.exit_code == 0 and "Warning" not in res.stderr, res.output


def test_timelines_without_incidents_is_a_usage_error(run, tmp_path):
    timelines = write_rows(tmp_path / "tl.csv", [{"incident_id": "x", "date": "2017-04-10", "time": "", "timezone": "",
                                                  "kind": "incident", "description": "d"}])
    for command in (["list"], ["show", "united-airlines-flight-3411-2017"]):
        res = run(*command, "--timelines", timelines)
        assert res.exit_code == 2 and "--timelines needs --incidents" in res.stderr


@pytest.fixture
def long_data_dir(data_dir):
    """UAL and GSPC prices on business days up to mid 2018 (the fall-back night of 2017 inside)."""
    import numpy as np
    import pandas as pd

    from test_cli import write_prices

    dates = pd.bdate_range("2016-01-04", "2018-06-29")
    rng = np.random.default_rng(3)
    market = rng.normal(0.0005, 0.008, len(dates))
    write_prices(data_dir, "GSPC", 2000 * np.cumprod(1 + market), dates=dates)
    write_prices(data_dir, "UAL", 60 * np.cumprod(1 + 1.2 * market + rng.normal(0, 0.015, len(dates))), dates=dates)
    return data_dir


@pytest.mark.parametrize("date, time, tz, day0", [
    ("2017-11-05", "01:30", "America/New_York", "2017-11-06"),  # 01:30 happens twice; both readings: Monday's session
    ("2017-03-12", "02:30", "America/New_York", "2017-03-13"),  # 02:30 never happens; both readings: Monday's session
    ("2017-04-10", "16:30+05:00", None, "2017-04-10"),  # an explicit offset: 07:30 in New York, before the open
    ("2017-04-10", "16:30", None, "2017-04-11"),  # no offset: the exchange's zone, after the close
])
def test_daylight_saving_edges_through_the_cli(run, long_data_dir, date, time, tz, day0):
    args = [*ADHOC[:3], "--date", date, "--time", time, *(["--tz", tz] if tz else []), *ADHOC[5:]]
    res = run(*args, "--data-dir", long_data_dir, "--no-report", "--format", "json")
    assert res.exit_code == 0, res.output
    assert strict(res.stdout)["incident"]["day0"] == day0


def test_offset_and_tz_together_is_one_clear_error(run, data_dir):
    res = run(*ADHOC, "--data-dir", data_dir, "--no-report", "--time", "16:30+05:00", "--tz", "America/New_York")
    assert res.exit_code == 1 and "UTC offset" in res.stderr and "unknown time zone" not in res.stderr


def test_python_warnings_are_one_line_each(run, tmp_path):
    incidents = tmp_path / "latin1.csv"
    incidents.write_bytes("id,ticker,incident_date,name\nx-2017,UAL,2017-04-10,Société\n".encode("latin-1"))
    res = run("list", "--incidents", incidents, "--format", "json")
    assert res.exit_code == 0, res.output
    assert [line for line in res.stderr.splitlines() if "UTF-8" in line] == [f"warning: {incidents} is not UTF-8; reading it as Latin-1"]
    assert "UserWarning" not in res.stderr and "warnings.warn" not in res.stderr
    assert [r["company"] for r in strict(res.stdout) if r["id"] == "x-2017"] == ["UAL"]  # company defaults to the ticker
