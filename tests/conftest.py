"""Shared fixtures."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from incident_impact.analysis import IncidentAnalysis, analyze
from incident_impact.calendar import get_calendar
from incident_impact.catalog import TimelineEvent, adhoc_incident
from incident_impact.cli import cli
from incident_impact.errors import TickerNotFoundError
from incident_impact.prices import PriceHistory
from incident_impact.prices.base import make_history


class SyntheticSource:
    """A :class:`~incident_impact.prices.PriceSource` over in-memory price frames."""

    name = "synthetic"

    def __init__(self, frames: dict[str, pd.DataFrame], notes: dict[str, tuple[str, ...]]):
        self.frames, self.notes = frames, notes

    def load(self, ticker, start=None, end=None) -> PriceHistory:
        if ticker not in self.frames:
            raise TickerNotFoundError(f"no prices for {ticker} in the synthetic source")
        return make_history(ticker, self.frames[ticker], f"synthetic prices of {ticker}", self.notes.get(ticker, ()), start, end)


def synthetic_prices(day0: str = "2017-04-10", seed: int = 7) -> dict[str, pd.DataFrame]:
    """XNYS-session prices of ``ACME`` (beta 1.2, -4 % abnormal on ``day0``), its peer ``DAL``
    (beta 1.0, +1 % abnormal on ``day0``) and ``^GSPC``; ACME's as-traded close is 50.0 on every day."""
    sessions = get_calendar("XNYS").sessions_in_range("2015-06-01", "2017-12-29")
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0004, 0.009, len(sessions))
    stock = 0.0001 + 1.2 * market + rng.normal(0, 0.012, len(sessions))
    peer = market + rng.normal(0, 0.01, len(sessions))
    stock[sessions.get_loc(pd.Timestamp(day0))] -= 0.04
    peer[sessions.get_loc(pd.Timestamp(day0))] += 0.01
    index = pd.DatetimeIndex(sessions, name="date")
    return {
        ticker: pd.DataFrame({"adj_close": level * np.cumprod(1 + r), "close": close, "volume": np.nan}, index=index)
        for ticker, level, r, close in (("ACME", 40.0, stock, 50.0), ("DAL", 30.0, peer, np.nan),
                                        ("^GSPC", 2000.0, market, np.nan))
    }


@pytest.fixture(scope="session")
def make_incident_analysis():
    """Factory of a real :class:`~incident_impact.analysis.IncidentAnalysis`, run by ``analyze()``
    on synthetic prices; keyword arguments replace the incident's texts (e.g. to test escaping).

    The incident is on 2017-04-10 (day 0, with the CEO's response the same evening); its
    timeline also has a first post, an in-view confounder (other news, 2017-04-07) and one
    far outside the price figure (earnings, 2016-10-18).
    """
    frames = synthetic_prices()

    def make(
        *,
        name: str = "ACME Air: passenger dragged off a flight",
        summary: str = "A video of a passenger removed from an overbooked ACME Air flight went viral.",
        claimed_impact: str = "Headlines said $1bn of market value vanished.",
        sources: tuple[str, ...] = ("https://example.com/acme-video", "https://example.org/news?a=1&b=2"),
        description: str = "Clips spread on Monday; day 0 is that session.",
        event_source: str | None = "https://example.com/acme-video",
        stock_notes: tuple[str, ...] = ("synthetic data: 2 sessions were filled in",),
    ) -> IncidentAnalysis:
        timeline = (
            TimelineEvent(dt.date(2016, 10, 18), "earnings", "Q3 results, far from the event."),
            TimelineEvent(dt.date(2017, 4, 7), "other-news", "Fuel prices jump.", source="https://example.com/fuel"),
            TimelineEvent(dt.date(2017, 4, 9), "first-post", "A passenger posts the video.", dt.time(18, 30), "America/Chicago"),
            TimelineEvent(dt.date(2017, 4, 10), "incident", description, source=event_source),
            TimelineEvent(dt.date(2017, 4, 10), "response", "The CEO apologises.", dt.time(20, 0), "America/New_York"),
        )
        incident = dataclasses.replace(
            adhoc_incident("ACME", "2017-04-10", peers=("DAL", "AAL")),
            id="acme-air-2017", name=name, company="ACME Air Holdings", category="customer-service video",
            platforms=("Twitter", "Facebook"), summary=summary, claimed_impact=claimed_impact, sources=sources,
            confidence="high", timeline=timeline,
        )
        return analyze(incident, source=SyntheticSource(frames, {"ACME": stock_notes}))

    return make


@pytest.fixture(scope="module")
def panel():
    """Five tickers with known betas and six events (two for AAA) on 700 business days."""
    n_days = 700
    rng = np.random.default_rng(11)
    dates = pd.bdate_range("2014-01-01", periods=n_days)
    market = pd.Series(rng.normal(0.0004, 0.01, n_days), index=dates)
    betas = {"AAA": 0.8, "BBB": 1.2, "CCC": 1.0, "DDD": 1.5, "EEE": 0.6}
    sig = {"AAA": 0.01, "BBB": 0.02, "CCC": 0.015, "DDD": 0.025, "EEE": 0.012}
    wide = pd.DataFrame({t: 0.0002 + b * market + rng.normal(0, sig[t], n_days) for t, b in betas.items()})
    events = pd.DataFrame({
        "event_id": ["a-1", "b-1", "c-1", "d-1", "e-1", "a-2"],
        "ticker": ["AAA", "BBB", "CCC", "DDD", "EEE", "AAA"],
        "event_date": [dates[i] for i in (300, 320, 320, 450, 600, 500)],
        "size": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })
    return wide, market, events


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def chromium():
    """One headless Debian Chromium for the module (never a Playwright-downloaded browser)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(chromium, path, figures=("fig-prices", "fig-car")):
    """Load ``path`` offline and wait until each of ``figures`` (div ids) is drawn; return the page and
    what it did (errors, non-file requests, dialogs)."""
    context = chromium.new_context(offline=True, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    seen = {"errors": [], "requests": [], "dialogs": []}
    page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
    page.on("console", lambda msg: seen["errors"].append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda req: None if req.url.startswith("file:") else seen["requests"].append(req.url))

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    for div in figures:
        page.wait_for_selector(f"#{div} .main-svg")
    return page, seen


# ---------------------------------------------------------------- shared by the CLI, report and sales tests
def write_rows(path, rows: list[dict]):
    """``rows`` as a CSV file at ``path`` (header from the first row); returns ``path``."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def weekly_sales_csv(path):
    """80 weeks of brand sales (30 % of a random-walk category, -20 % from week 60) and the category, as a
    CSV at ``path``; returns ``path``."""
    rng = np.random.default_rng(21)
    dates = pd.date_range("2015-01-04", periods=80, freq="W-SUN")
    category = 1000 + rng.normal(0, 10, 80).cumsum()
    brand = 0.3 * category + rng.normal(0, 3, 80)
    brand[60:] *= 0.8
    pd.DataFrame({"week": dates.strftime("%Y-%m-%d"), "brand": brand, "category": category}).to_csv(path, index=False)
    return path


@pytest.fixture
def cli_in_tmp(monkeypatch, tmp_path):
    """``invoke(*args)``: the command line run in ``tmp_path`` (arguments as text)."""
    monkeypatch.chdir(tmp_path)
    return lambda *args: CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def offline_cli(monkeypatch, tmp_path, cli_in_tmp):
    """:func:`cli_in_tmp` offline, with a fresh cache folder in ``tmp_path``."""
    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("INCIDENT_IMPACT_OFFLINE", "1")
    return cli_in_tmp
