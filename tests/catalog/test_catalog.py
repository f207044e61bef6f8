"""The incident catalog: packaged data, lookups and filters, user files and their errors."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from incident_impact.calendar import day0
from incident_impact.catalog import (
    CONFOUNDER_KINDS,
    EVENT_KINDS,
    INCIDENT_COLUMNS,
    RESPONSE_KINDS,
    TIMELINE_COLUMNS,
    Catalog,
    TimelineEvent,
    adhoc_incident,
    load_catalog,
)
from incident_impact.errors import CatalogError, UnknownIncidentError

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
CATEGORIES = {
    "customer-service video", "advertising backlash", "product-related viral post", "boycott",
    "executive/celebrity post", "data/privacy scandal", "other",
}
MICS = {"XNYS", "XNAS", "XSTO", "XPAR", "XETR", "XSWX", "XAMS", "XLON", "XHKG", "XMAD", "XNSE"}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def research() -> pd.DataFrame:
    folder = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
    if not folder:
        pytest.skip("set INCIDENT_IMPACT_SHARED_DATA=../shared/data to compare with the research file")
    return pd.read_csv(Path(folder) / "incidents_research.csv", dtype=str, keep_default_na=False).set_index("id")


def shares_substring(text: str, original: str, length: int = 60) -> bool:
    """True if ``text`` contains any ``length``-character run of ``original`` (case-insensitive)."""
    text, original = text.lower(), original.lower()
    if len(original) < length:
        return original == text
    return any(original[i:i + length] in text for i in range(len(original) - length + 1))


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


# --------------------------------------------------------------------------- packaged data


def test_packaged_files_have_the_documented_columns():
    for name, columns in (("incidents.csv", INCIDENT_COLUMNS), ("timelines.csv", TIMELINE_COLUMNS)):
        with open(DATASETS / name, encoding="utf-8") as fh:
            assert tuple(next(csv.reader(fh))) == columns


def test_catalog_has_55_incidents_with_unique_ids(catalog):
    assert len(catalog) == 55
    assert len(set(catalog.ids)) == 55
    assert list(catalog) == [catalog[i] for i in catalog.ids]


@pytest.mark.realdata
def test_ids_equal_the_research_file(catalog, research):
    assert list(catalog.ids) == list(research.index)


@pytest.mark.realdata
def test_facts_carry_over_from_the_research_file(catalog, research):
    for inc in catalog:
        row = research.loc[inc.id]
        assert (inc.ticker or "") == row.ticker
        assert (inc.benchmark or "") == row.market_index
        assert ";".join(inc.peers) == row.peer_tickers
        assert inc.incident_date.isoformat() == row.incident_date
        assert inc.category == row.category
        assert inc.confidence == row.confidence
        assert ";".join(inc.sources) == row.source_urls


def test_every_incident_has_exactly_one_incident_event_on_its_date(catalog):
    for inc in catalog:
        anchors = [e for e in inc.timeline if e.kind == "incident"]
        assert len(anchors) == 1, inc.id
        assert inc.day0_event is anchors[0]
        assert inc.day0_event.date == inc.incident_date
        assert inc.day0_event.description


@pytest.mark.realdata
def test_day0_equals_the_research_reaction_date(catalog, research):
    listed = [inc for inc in catalog if inc.is_listed]
    assert len(listed) == 52
    for inc in listed:
        ev = inc.day0_event
        session = day0(ev.date, ev.time, ev.timezone, inc.exchange)
        assert session == pd.Timestamp(research.loc[inc.id, "first_trading_reaction_date"]), inc.id


def test_evening_news_rolls_to_the_next_session(catalog):
    pepsi = catalog["pepsi-kendall-jenner-ad-2017"]
    ev = pepsi.day0_event
    assert (ev.time, ev.timezone) == (dt.time(20, 0), "America/New_York")
    assert day0(ev.date, ev.time, ev.timezone, pepsi.exchange) == pd.Timestamp("2017-04-05")
    jaguar = catalog["jaguar-copy-nothing-rebrand-2024"]  # NSE closed on 2024-11-20
    ev = jaguar.day0_event
    assert day0(ev.date, ev.time, ev.timezone, jaguar.exchange) == pd.Timestamp("2024-11-21")


def test_listing_fields(catalog):
    private = [inc for inc in catalog if not inc.is_listed]
    assert {i.id for i in private} == {
        "dolce-gabbana-china-chopsticks-2018", "goya-boycott-unanue-2020", "uber-deleteuber-2017",
    }
    for inc in private:
        assert (inc.exchange, inc.currency, inc.benchmark) == (None, None, None)
    for inc in catalog:
        if inc.is_listed:
            assert inc.exchange in MICS and inc.currency and inc.benchmark, inc.id
        assert inc.category in CATEGORIES
        assert inc.confidence in {"high", "medium", "low"}
        assert inc.platforms and inc.sources and inc.summary, inc.id
        assert all(s.startswith("http") for s in inc.sources)
    assert catalog["pepsi-kendall-jenner-ad-2017"].exchange == "XNYS"
    assert catalog["united-breaks-guitars-2009"].exchange == "XNAS"
    assert catalog["facebook-cambridge-analytica-2018"].ticker == "META"
    assert "FB" in catalog["facebook-cambridge-analytica-2018"].listing_note


def test_packaged_timeline_rows_are_complete(catalog):
    for inc in catalog:
        assert list(inc.timeline) == sorted(inc.timeline, key=lambda e: (e.date, e.time or dt.time.min))
        for ev in inc.timeline:
            assert ev.kind in EVENT_KINDS and ev.description
            if ev.time is not None:
                assert ev.timezone, f"{inc.id}: a packaged time needs its zone"
            if ev.source:
                assert ev.source in inc.sources, f"{inc.id}: timeline source not among the incident's sources"


def test_at_least_12_fuller_timelines(catalog):
    fuller = [
        inc.id for inc in catalog
        if {e.kind for e in inc.timeline} & {"first-post", "viral-peak"}
        and {e.kind for e in inc.timeline} & RESPONSE_KINDS
    ]
    assert len(fuller) >= 12
    assert "united-airlines-flight-3411-2017" in fuller
    united = {e.kind for e in catalog["united-airlines-flight-3411-2017"].timeline}
    assert {"first-post", "viral-peak", "statement", "apology"} <= united


def test_at_least_8_incidents_with_confounders(catalog):
    confounded = {inc.id for inc in catalog if inc.confounders}
    assert len(confounded) >= 8
    ko = catalog["coca-cola-ronaldo-press-conference-2021"]
    assert [(e.kind, e.date) for e in ko.confounders] == [("ex-dividend", dt.date(2021, 6, 14))]
    target = catalog["target-pride-merchandise-2023"]
    assert ("earnings", dt.date(2023, 5, 17)) in [(e.kind, e.date) for e in target.confounders]
    assert all(e.kind in CONFOUNDER_KINDS for inc in catalog for e in inc.confounders)


@pytest.mark.realdata
def test_summaries_are_not_copied_from_the_research_file(catalog, research):
    assert not shares_substring("x" * 100, "y" * 80)
    assert shares_substring("prefix " + "a quick brown fox " * 5, "a quick brown fox " * 4)
    for inc in catalog:
        original = research.loc[inc.id, "short_description"]
        assert inc.summary.lower() != original.lower()
        assert not shares_substring(inc.summary, original), inc.id
        claim = research.loc[inc.id, "claimed_impact"]
        assert not shares_substring(inc.claimed_impact, claim), inc.id


# --------------------------------------------------------------------------- lookups


def test_unknown_id_suggests_close_ids(catalog):
    with pytest.raises(UnknownIncidentError, match="united-airlines-flight-3411-2017") as info:
        catalog["united-airlines-2017"]
    assert isinstance(info.value, KeyError)
    with pytest.raises(UnknownIncidentError) as info:
        catalog["peloton"]
    assert "peloton-gift-that-gives-back-2019" in str(info.value)
    assert "peloton-and-just-like-that-2021" in str(info.value)
    with pytest.raises(UnknownIncidentError, match="unknown incident 'zzzz'"):
        catalog["zzzz"]


def test_lookup_contains_and_case(catalog):
    assert "seaworld-blackfish-2013" in catalog
    assert "nope" not in catalog
    assert catalog["SeaWorld-Blackfish-2013"].ticker == "PRKS"


def test_filter_by_category_platform_and_year(catalog):
    boycotts = catalog.filter(category="BOYCOTT")
    assert isinstance(boycotts, Catalog) and len(boycotts) == 10
    assert all(i.category == "boycott" for i in boycotts)
    weibo_2018 = catalog.filter(platform="weibo", year=2018)
    assert set(weibo_2018.ids) == {
        "dolce-gabbana-china-chopsticks-2018", "mercedes-dalai-lama-instagram-2018", "marriott-china-tibet-survey-2018",
    }
    assert catalog.filter(year=2009).ids == (
        "united-breaks-guitars-2009", "dominos-youtube-prank-video-2009",
    )
    assert len(catalog.filter()) == 55
    assert len(catalog.filter(category="boycott", year=1990)) == 0


def test_unknown_category_lists_the_valid_ones(catalog):
    with pytest.raises(CatalogError, match="unknown category 'boycot'.*advertising backlash.*boycott"):
        catalog.filter(category="boycot")
    assert set(catalog.categories) == CATEGORIES


def test_to_frame_and_to_dict(catalog):
    frame = catalog.to_frame()
    assert list(frame.columns) == [
        "id", "name", "company", "ticker", "exchange", "category", "platforms", "incident_date", "confidence",
    ]
    assert len(frame) == 55
    row = frame.set_index("id").loc["nike-kaepernick-just-do-it-2018"]
    assert row.ticker == "NKE" and row.incident_date == pd.Timestamp("2018-09-03")
    data = json.loads(json.dumps(catalog["coca-cola-ronaldo-press-conference-2021"].to_dict()))
    assert data["incident_date"] == "2021-06-14"
    anchor = next(e for e in data["timeline"] if e["kind"] == "incident")
    assert (anchor["time"], anchor["timezone"]) == ("09:43", "America/New_York")


def test_timeline_event_is_frozen_and_validated():
    ev = TimelineEvent(dt.date(2020, 1, 2), "earnings", "Q4 results")
    assert ev.is_confounder
    assert not TimelineEvent(dt.date(2020, 1, 2), "apology", "sorry").is_confounder
    with pytest.raises(AttributeError):
        ev.kind = "apology"
    with pytest.raises(CatalogError, match="unknown timeline kind"):
        TimelineEvent(dt.date(2020, 1, 2), "rumour", "x")


# --------------------------------------------------------------------------- user files


def test_minimal_user_file_gets_defaults_and_an_incident_event(tmp_path):
    path = write_csv(tmp_path / "mine.csv", [
        {"id": "my-event", "ticker": "na", "incident_date": "2021-03-05"},
        {"id": "private-one", "ticker": "", "incident_date": "2021-03-06"},
    ])
    mine = load_catalog(path)
    inc = mine["my-event"]
    assert inc.ticker == "NA"  # not turned into a missing value
    assert (inc.exchange, inc.benchmark, inc.currency) == ("XNYS", "^GSPC", "USD")
    assert inc.day0_event.date == dt.date(2021, 3, 5) and inc.day0_event.time is None
    assert not mine["private-one"].is_listed and mine["private-one"].exchange is None


def test_user_timelines_and_merge(tmp_path):
    incidents = write_csv(tmp_path / "inc.csv", [
        {"id": "nike-kaepernick-just-do-it-2018", "ticker": "NKE", "incident_date": "2018-09-03",
         "exchange": "XNYS", "benchmark": ""},
        {"id": "new-one", "ticker": "ABC", "incident_date": "2022-06-01", "exchange": "XLON", "benchmark": "^FTSE"},
    ])
    timelines = write_csv(tmp_path / "tl.csv", [
        {"incident_id": "new-one", "date": "2022-06-01", "time": "18:00", "timezone": "", "kind": "Incident",
         "description": "after the London close", "source": ""},
        {"incident_id": "new-one", "date": "2022-06-03", "time": "", "timezone": "", "kind": "downgrade",
         "description": "broker downgrade", "source": "https://example.com/d"},
    ])
    mine = load_catalog(incidents, timelines)
    new = mine["new-one"]
    assert new.currency is None  # only US listings default to USD
    assert new.day0_event.timezone is None  # = the exchange's zone
    assert day0(new.day0_event.date, new.day0_event.time, new.day0_event.timezone, new.exchange) == pd.Timestamp("2022-06-06")
    assert [e.kind for e in new.confounders] == ["downgrade"]
    merged = load_catalog().merged(mine)
    assert len(merged) == 56 and merged.ids[-1] == "new-one"
    assert merged.ids.index("nike-kaepernick-just-do-it-2018") == load_catalog().ids.index("nike-kaepernick-just-do-it-2018")
    assert merged["nike-kaepernick-just-do-it-2018"].summary == ""  # the user's row wins


INC_HEADER = {"id": "a", "ticker": "AAA", "incident_date": "2020-01-02"}


@pytest.mark.parametrize(
    ("incidents", "timelines", "message"),
    [
        ([{"id": "a", "incident_date": "2020-01-02"}], None, r"missing required column\(s\) ticker"),
        ([INC_HEADER, {"id": "b", "ticker": "B", "incident_date": "02/01/2020"}], None,
         r"row 3 \(b\): cannot read the incident_date '02/01/2020'"),
        ([INC_HEADER, INC_HEADER], None, r"inc\.csv row 3: duplicate id 'a' \(first at row 2\)"),
        ([{**INC_HEADER, "confidence": "sure"}], None, r"row 2 \(a\): confidence 'sure'"),
        ([INC_HEADER], [{"incident_id": "a", "date": "2020-01-02", "kind": "rumour"}], r"tl\.csv row 2: unknown kind 'rumour'"),
        ([INC_HEADER], [{"incident_id": "zz", "date": "2020-01-02", "kind": "incident"}],
         r"tl\.csv row 2: incident_id 'zz' is not in"),
        ([INC_HEADER], [{"incident_id": "a", "date": "2020-01-02", "kind": "incident"},
                        {"incident_id": "a", "date": "2020-01-02", "kind": "incident"}],
         r"tl\.csv row 3: second 'incident' event for 'a' \(first at row 2\)"),
        ([INC_HEADER], [{"incident_id": "a", "date": "2020-01-03", "kind": "incident"}],
         r"row 2: the 'incident' event of 'a' is dated 2020-01-03, but its incident_date is 2020-01-02"),
        ([INC_HEADER], [{"incident_id": "a", "date": "2020-1-2x", "kind": "apology"}], r"row 2: cannot read the date"),
        ([INC_HEADER], [{"incident_id": "a", "date": "2020-01-02", "kind": "incident", "time": "25:61"}],
         r"row 2: cannot read the time '25:61'"),
        ([INC_HEADER], [{"incident_id": "a", "date": "2020-01-02", "kind": "incident", "time": "10:00",
                         "timezone": "Mars/Olympus"}], r"row 2: unknown timezone 'Mars/Olympus'"),
        ([{"id": "p", "ticker": "", "incident_date": "2020-01-02"}],
         [{"incident_id": "p", "date": "2020-01-02", "kind": "incident", "time": "10:00"}],
         r"row 2: time 10:00 has no timezone and the incident has no exchange"),
        ([INC_HEADER], [{"incident_id": "a", "kind": "incident"}], r"tl\.csv: missing required column\(s\) date"),
    ],
)
def test_bad_user_files_name_the_file_and_row(tmp_path, incidents, timelines, message):
    inc_path = write_csv(tmp_path / "inc.csv", incidents)
    tl_path = write_csv(tmp_path / "tl.csv", timelines) if timelines else None
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(inc_path, tl_path)
    assert "\n" not in str(info.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(CatalogError, match="cannot read .*nothing.csv"):
        load_catalog(tmp_path / "nothing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CatalogError, match="empty.csv is empty"):
        load_catalog(tmp_path / "empty.csv")


def test_latin1_file_is_read_with_a_warning(tmp_path):
    path = write_csv(tmp_path / "latin.csv", [{**INC_HEADER, "name": "Caf\u00e9 boycott"}], encoding="latin-1")
    with pytest.warns(UserWarning, match="not UTF-8"):
        mine = load_catalog(path)
    assert mine["a"].name == "Caf\u00e9 boycott"


def test_utf8_bom_and_unknown_columns(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("id,ticker,incident_date,notes\na,AAA,2020-01-02,x\n", encoding="utf-8-sig")
    with pytest.warns(UserWarning, match="ignoring unknown column.*notes"):
        assert load_catalog(path).ids == ("a",)


# --------------------------------------------------------------------------- ad hoc


def test_adhoc_incident():
    inc = adhoc_incident("ual", "2017-04-10", time="16:30", tz="America/New_York", peers=["dal", "LUV"])
    assert inc.id == "adhoc-ual-2017-04-10"
    assert (inc.ticker, inc.exchange, inc.benchmark, inc.currency) == ("UAL", "XNYS", "^GSPC", "USD")
    assert inc.peers == ("DAL", "LUV")
    ev = inc.day0_event
    assert (ev.date, ev.time, ev.timezone) == (dt.date(2017, 4, 10), dt.time(16, 30), "America/New_York")
    assert day0(ev.date, ev.time, ev.timezone, inc.exchange) == pd.Timestamp("2017-04-11")
    london = adhoc_incident("BRBY.L", dt.date(2019, 2, 17), exchange="xlon", benchmark="^FTSE", name="Hoodie")
    assert (london.id, london.exchange, london.currency, london.name) == ("adhoc-brby-l-2019-02-17", "XLON", None, "Hoodie")
    with pytest.raises(CatalogError, match="cannot read the date"):
        adhoc_incident("UAL", "April 10")
    with pytest.raises(CatalogError, match="cannot read the time"):
        adhoc_incident("UAL", "2017-04-10", time="half past four")
