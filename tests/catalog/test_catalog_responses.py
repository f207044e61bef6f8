"""Typed response events in the packaged timelines (issue 14 item 3): the company's own reaction.

Every response row has a response kind, a date close to day 0 and a source: either one of the
incident's sources (``incidents.csv``, the same list as the research file), or, when the research
names no URL for it, an empty ``source`` with the stored public page it rests on cited in the
description.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from incident_impact.catalog import CONFOUNDER_KINDS, EVENT_KINDS, RESPONSE_KINDS, TimelineEvent, load_catalog

#: Responses that precede day 0, with the reason (anything else must fall on or after the incident event).
BEFORE_DAY0 = {
    ("mcdonalds-mcdstories-2012", dt.date(2012, 1, 18)): "the promotion was stopped days before the press coverage",
    ("adidas-ye-termination-2022", dt.date(2022, 10, 6)): "the 'under review' statement predates the termination",
    ("netflix-cuties-cancelnetflix-2020", dt.date(2020, 8, 20)): "the poster apology came before the film's release",
}
MAX_DAYS_AFTER = 120
MIN_INCIDENTS_WITH_RESPONSE = 44
#: Rows still typed with the generic ``response`` kind (none: every response has its precise kind).
GENERIC: set = set()
URL = re.compile(r"https?://\S+")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def responses(catalog):
    return [(inc, ev) for inc in catalog for ev in inc.timeline if ev.kind in RESPONSE_KINDS]


def test_response_kinds_are_event_kinds_and_never_confounders():
    assert RESPONSE_KINDS <= set(EVENT_KINDS)
    assert not RESPONSE_KINDS & CONFOUNDER_KINDS
    assert {"statement", "apology", "withdrawal", "dismissal", "standing-firm", "response"} == RESPONSE_KINDS
    for kind in RESPONSE_KINDS:
        assert not TimelineEvent(dt.date(2020, 1, 2), kind, "x").is_confounder


def test_every_response_row_has_a_response_kind_and_a_description(catalog):
    rows = responses(catalog)
    assert rows
    for inc, ev in rows:
        assert ev.kind in RESPONSE_KINDS and ev.description, inc.id
        assert ev not in inc.confounders


def test_generic_response_kind_is_the_documented_exception(catalog):
    generic = {(inc.id, ev.date) for inc, ev in responses(catalog) if ev.kind == "response"}
    assert generic == GENERIC


def test_response_dates_are_near_day0(catalog):
    for inc, ev in responses(catalog):
        start = inc.day0_event.date
        if (inc.id, ev.date) in BEFORE_DAY0:
            assert ev.date < start
            continue
        assert start <= ev.date <= start + dt.timedelta(days=MAX_DAYS_AFTER), (inc.id, ev.date)


def test_timed_responses_carry_their_zone(catalog):
    for inc, ev in responses(catalog):
        if ev.time is not None:
            assert ev.timezone, inc.id


def test_every_response_row_has_a_source(catalog):
    for inc, ev in responses(catalog):
        if ev.source:
            assert ev.source in inc.sources, (inc.id, ev.date, ev.kind)
        else:
            assert URL.search(ev.description), f"{inc.id} {ev.date} {ev.kind}: no source and no cited page"


def test_at_least_n_incidents_have_a_response(catalog):
    with_response = {inc.id for inc, _ in responses(catalog)}
    assert len(with_response) >= MIN_INCIDENTS_WITH_RESPONSE


def test_known_responses(catalog):
    kinds = lambda i: {(ev.kind, ev.date) for ev in catalog[i].timeline}  # noqa: E731
    assert ("standing-firm", dt.date(2018, 9, 5)) in kinds("nike-kaepernick-just-do-it-2018")
    assert ("dismissal", dt.date(2022, 10, 25)) in kinds("adidas-ye-termination-2022")
    assert {("withdrawal", dt.date(2017, 4, 5)), ("apology", dt.date(2017, 4, 5))} <= kinds("pepsi-kendall-jenner-ad-2017")
    assert ("standing-firm", dt.date(2019, 12, 4)) in kinds("peloton-gift-that-gives-back-2019")
    jpm = next(ev for ev in catalog["jpmorgan-askjpm-2013"].timeline if ev.kind == "withdrawal")
    assert (jpm.time, jpm.timezone) == (dt.time(20, 0), "America/New_York")  # after the close: day +1


@pytest.mark.realdata
def test_sources_are_research_urls():
    folder = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")
    if not folder:
        pytest.skip("set INCIDENT_IMPACT_SHARED_DATA=../shared/data to compare with the research file")
    research = pd.read_csv(Path(folder) / "incidents_research.csv", dtype=str, keep_default_na=False).set_index("id")
    for inc, ev in responses(load_catalog()):
        if ev.source:
            assert ev.source in research.loc[inc.id, "source_urls"].split(";"), (inc.id, ev.date, ev.kind)
