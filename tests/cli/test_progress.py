"""Progress bars on stderr (only on a terminal, never with --format json) and short failure lines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from incident_impact.cli import cli, common
from incident_impact.cli.common import failure_line, short_reason

SESSIONS = pd.bdate_range("2016-01-04", "2017-06-30")


@pytest.fixture
def events(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("INCIDENT_IMPACT_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(3)
    market = rng.normal(0.0005, 0.008, len(SESSIONS))
    folder = tmp_path / "prices"
    folder.mkdir()
    series = {"GSPC": 2000 * np.cumprod(1 + market)}
    for i, ticker in enumerate(("AAA", "BBB")):
        series[ticker] = 50 * np.cumprod(1 + 0.0002 + 1.1 * market + rng.normal(0, 0.012, len(SESSIONS)))
    for ticker, prices in series.items():
        pd.DataFrame({"date": SESSIONS.strftime("%Y-%m-%d"), "adj_close": prices}).to_csv(folder / f"{ticker}.csv",
                                                                                         index=False)
    path = tmp_path / "events.csv"
    path.write_text("event_id,ticker,event_date\na,AAA,2017-03-01\nb,BBB,2017-04-03\nghost,NOPE,2017-04-03\n")
    return ["study", "--events", str(path), "--data-dir", str(folder), "--no-report"]


def test_no_progress_bar_when_stderr_is_not_a_terminal(events):
    out = CliRunner().invoke(cli, [*events, "--placebo", "20", "--seed", "1"])
    assert out.exit_code == 3, out.output
    assert "studying" not in out.stderr and "placebo [" not in out.stderr


def test_progress_bar_on_a_terminal_but_never_with_json(events, monkeypatch):
    monkeypatch.setattr(common, "show_progress", lambda fmt=None: fmt != "json")
    shown = []
    real = common.click.progressbar

    def spy(*args, **kwargs):
        shown.append(kwargs.get("label"))
        return real(*args, **kwargs)

    monkeypatch.setattr(common.click, "progressbar", spy)
    out = CliRunner().invoke(cli, [*events, "--placebo", "20", "--seed", "1"])
    assert out.exit_code == 3, out.output
    assert shown == ["placebo"]  # the catalog loop has no incident here; the placebo loop has two events
    shown.clear()
    out = CliRunner().invoke(cli, [*events, "--placebo", "20", "--seed", "1", "--format", "json"])
    json.loads(out.stdout)
    assert shown == []


def test_failures_are_one_short_line_and_verbose_gives_the_full_text(events):
    out = CliRunner().invoke(cli, events)
    lines = [line for line in out.stderr.splitlines() if line.startswith("not studied")]
    assert len(lines) == 1 and len(lines[0]) < 120, lines
    verbose = CliRunner().invoke(cli, [*events, "--verbose"])
    assert any("ghost" in line and len(line) > len(lines[0]) for line in verbose.stderr.splitlines())


def test_short_reason():
    long = ("no prices for KDP: cache has no KDP; bundled sample has no KDP; Yahoo Finance download failed "
            "(no network? DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com')). "
            "Use --data-dir FOLDER with KDP.csv or check the ticker.")
    assert short_reason(long) == "KDP: no prices (network unreachable)"
    assert short_reason("something else") == "something else"
    row = {"event_id": "e", "ticker": "KDP", "reason": long, "detail": long + " more"}
    assert failure_line(row, False) == "e: KDP: no prices (network unreachable)"
    assert failure_line(row, True).endswith("more")
