"""One headline everywhere, said in plain words, with every reason to doubt it (issue: verdicts a
reader can trust): the default window, --headline, windows that disagree, confounders (ex-dividend
days only without adjusted prices), suspicious prices and errors that name the series at fault."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import SyntheticSource, synthetic_prices
from incident_impact.analysis import analyze
from incident_impact.catalog import TimelineEvent, adhoc_incident
from incident_impact.cli import cli
from incident_impact.errors import PriceDataError
from incident_impact.plain import p_text, possessive, stock_sentence, window_phrase
from incident_impact.prices.base import NO_ADJUSTED_NOTE
from incident_impact.verdict import GAIN, HARM, HEADLINE_WINDOW, INCONCLUSIVE, NO_EFFECT


# ----------------------------------------------------------------- the plain sentence
@pytest.mark.parametrize("window, text", [
    ((0, 0), "in the first trading session after the news"),
    ((0, 1), "in the first two trading sessions after the news"),
    ((0, 5), "in the first six trading sessions after the news"),
    ((-1, 1), "in the three trading sessions around the news (one before the first session after it to one after)"),
    ((2, 4), "from trading session 3 to 5 after the news"),
    ((-3, -1), "in the three trading sessions ending one before the news"),
])
def test_window_phrase(window, text):
    assert window_phrase(window) == text


def test_possessive_and_p_text():
    assert possessive("Target") == "Target's" and possessive("McDonald's") == "McDonald's"
    assert possessive("Levi Strauss") == "Levi Strauss'"
    assert [p_text(p) for p in (0.0004, 0.003, 0.0499, 0.41)] == ["p < 0.001", "p = 0.003", "p = 0.050", "p = 0.41"]


@pytest.mark.parametrize("verdict, car, must", [
    (HARM, -0.063, ["did 6.3 % worse than expected", "p = 0.011", "most likely hurt the share price", "$4.7bn"]),
    (GAIN, 0.05, ["did 5.0 % better than expected", "most likely helped the share price"]),
    (NO_EFFECT, 0.003, ["did 0.3 % better", "rule out an effect larger than 2.0 % either way", "no material difference"]),
    (INCONCLUSIVE, -0.004, ["did 0.4 % worse", "p = 0.68", "as large as 2.8 % could easily have gone unnoticed"]),
])
def test_stock_sentence_by_verdict(verdict, car, must):
    p = {HARM: 0.011, GAIN: 0.02, NO_EFFECT: 0.9, INCONCLUSIVE: 0.68}[verdict]
    text = stock_sentence("Target's stock", (0, 1), car=car, ci_lower=car - 0.02, ci_upper=car + 0.02, p_value=p,
                          verdict=verdict, mde=0.028, bound=0.02, expectation="given how the market moved",
                          money="about $4.7bn of market value" if verdict == HARM else "")
    for piece in must:
        assert piece in text
    assert text.startswith("Target's stock did") and "in the first two trading sessions after the news" in text
    assert f"95 % interval {100 * (car - 0.02):+.1f} % to {100 * (car + 0.02):+.1f} %" in text


# ----------------------------------------------------------------- the analysis
def _incident(*timeline: TimelineEvent):
    return dataclasses.replace(
        adhoc_incident("ACME", "2017-04-10"), id="acme-2017", company="ACME Air",
        timeline=(TimelineEvent(dt.date(2017, 4, 10), "incident", "Video."), *timeline))


def _source(frames=None, notes=None):
    return SyntheticSource(frames or synthetic_prices(), notes or {})


def test_default_headline_is_day0_and_day1_and_is_added_to_the_windows():
    a = analyze(_incident(), source=_source(), peers=False, robustness=False, windows=[(0, 5)])
    assert HEADLINE_WINDOW == (0, 1) and a.headline_window == (0, 1)
    assert list(a.result.car_table.index) == ["[0,+1]", "[0,+5]"]
    head = a.to_dict()["headline"]
    row = a.result.car_table.loc["[0,+1]"]
    assert head["window"] == "[0,+1]" and head["car"] == row.car and head["p_value"] == row.p_value
    assert head["sentence"].startswith("CAR[0,+1] = ") and head["plain"].startswith("ACME Air's stock did")
    other = analyze(_incident(), source=_source(), peers=False, robustness=False, headline="0,5")
    assert other.headline_window == (0, 5) and other.verdict().startswith("CAR[0,+5] = ")


def test_windows_that_disagree_with_the_headline_are_named():
    """ACME's -4 % on day 0 (s.d. 1.2 %) is significant over [0,0]; a headline over [2,5] is not."""
    a = analyze(_incident(), source=_source(), peers=False, robustness=False, headline=(2, 5),
                windows=[(0, 0), (2, 5)])
    table = a.verdicts()
    assert table.at["[0,0]", "verdict"] == HARM and table.at["[+2,+5]", "verdict"] != HARM
    assert (f"Other windows differ: the headline is not significant but [0,0] significant harm "
            f"({p_text(table.at['[0,0]', 'p_value'])})") in a.verdict()
    assert "Over other windows ([0,0]) the study finds a significant move" in a.plain()


def test_earnings_inside_the_headline_make_it_confounded():
    a = analyze(_incident(TimelineEvent(dt.date(2017, 4, 11), "earnings", "Q1 results.")), source=_source(),
                peers=False, robustness=False)
    assert a.is_confounded() and a.is_confounded("0,5") and not a.is_confounded("-5,-1")
    assert "Confounded: earnings on 2017-04-11 (day +1) inside [0,+1]" in a.verdict()
    assert "Careful: other news that can move the stock fell in the same days (earnings on 2017-04-11 (day +1))" \
        in a.plain()
    body = a.to_dict()
    assert body["headline"]["confounded"] is True
    assert {v["window"]: v["confounded"] for v in body["verdicts"]}["[-5,+5]"] is True


def test_an_ex_dividend_day_confounds_only_returns_without_dividends():
    ex_div = TimelineEvent(dt.date(2017, 4, 11), "ex-dividend", "Quarterly dividend.")
    adjusted = analyze(_incident(ex_div), source=_source(), peers=False, robustness=False)
    assert not adjusted.is_confounded() and adjusted.confounders.empty
    unadjusted = analyze(_incident(ex_div), source=_source(notes={"ACME": (NO_ADJUSTED_NOTE,)}),
                         peers=False, robustness=False)
    assert unadjusted.is_confounded() and list(unadjusted.confounders["kind"].unique()) == ["ex-dividend"]


def test_a_split_like_price_is_said_in_the_headline():
    frames = synthetic_prices()
    acme = frames["ACME"].copy()
    # an unadjusted 1:10 split on day +1: that session's price is exactly a tenth of day 0's
    acme.loc["2017-04-11":, "adj_close"] *= acme.at[pd.Timestamp("2017-04-10"), "adj_close"] / acme.at[
        pd.Timestamp("2017-04-11"), "adj_close"] / 10
    frames["ACME"] = acme
    a = analyze(_incident(), source=_source(frames), peers=False, robustness=False)
    assert a.result.car_table.at["[0,+1]", "car"] < -0.8  # the number itself is what the file says ...
    assert "Rests on suspicious prices: ACME: return of" in a.verdict()  # ... and the verdict says why to doubt it
    assert a.plain().startswith("Do not trust this result yet: it rests on prices that look wrong (ACME: return of")
    assert "on 2017-04-11 looks like an unadjusted 10-for-1 split" in a.to_dict()["headline"]["suspect_data"]
    clean = analyze(_incident(), source=_source(), peers=False, robustness=False)
    assert clean.to_dict()["headline"]["suspect_data"] == "" and "Do not trust" not in clean.plain()


def test_a_benchmark_that_ends_early_is_named_with_a_way_out():
    frames = synthetic_prices()
    frames["^GSPC"] = frames["^GSPC"].loc[:"2017-03-31"]
    with pytest.raises(PriceDataError, match=r"the benchmark \^GSPC's prices in synthetic prices of \^GSPC end on "
                                             r"2017-03-31, before day 0 .*--benchmark SPY"):
        analyze(_incident(), source=_source(frames), peers=False, robustness=False)
    frames = synthetic_prices()
    frames["ACME"] = frames["ACME"].loc[:"2017-04-11"]
    with pytest.raises(PriceDataError, match=r"the stock ACME's prices .* end on 2017-04-11, before the last event "
                                             r"window ends \(2017-04-10 \.\. 2017-04-18\)"):
        analyze(_incident(), source=_source(frames), peers=False, robustness=False)


# ----------------------------------------------------------------- the command line
@pytest.mark.parametrize("value, message", [
    ("x", "cannot read the window 'x'"),
    ("3,1", "starts after it ends"),
    ("-20,1", "the headline window [-20,+1] overlaps the estimation window [-250,-11]"),
])
def test_a_bad_headline_is_a_usage_error(value, message):
    for command in (["analyze", "pepsi-kendall-jenner-ad-2017"], ["study", "pepsi-kendall-jenner-ad-2017"]):
        res = CliRunner().invoke(cli, [*command, "--headline", value, "--offline", "--no-report"])
        assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output


def test_analyze_and_study_share_the_headline(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["pepsi-kendall-jenner-ad-2017", "--offline", "--format", "json", "--no-peers", "--no-robustness"]
    one = json.loads(CliRunner().invoke(cli, ["analyze", *args, "--no-report"]).stdout)
    many = json.loads(CliRunner().invoke(cli, ["study", *args]).stdout)
    assert many["headline_window"] == one["headline"]["window"] == "[0,+1]"
    first = many["windows"][0]
    assert first["window"] == "[0,+1]"
    assert first["verdicts"][0]["car"] == pytest.approx(one["headline"]["car"], rel=1e-12)
    assert first["verdicts"][0]["confounded"] is one["headline"]["confounded"] is False
    # the study's incident reports go to their own folder: never over what `analyze` wrote
    assert (tmp_path / "reports" / "study-incidents" / "pepsi-kendall-jenner-ad-2017.html").exists()
    assert not (tmp_path / "reports" / "pepsi-kendall-jenner-ad-2017.html").exists()


def test_a_car_path_outside_the_event_period_says_how_to_get_it():
    from incident_impact.errors import IncidentImpactError

    a = analyze(_incident(), source=_source(), peers=False, robustness=False, windows=[(0, 1), (-1, 1)])
    with pytest.raises(IncidentImpactError, match=r"car_path\(-5\) starts outside this result's event period "
                                                  r"\[-1,\+1\].*add a window starting at day -5"):
        a.result.car_path(-5)
    with pytest.raises(IncidentImpactError, match=r"the window \[0,\+5\] is outside this result's event period"):
        a.result.car((0, 5))
    assert list(a.result.car_path(-1)["rel_day"]) == [-1, 0, 1]


def test_stock_subject_reads_well():
    from incident_impact.plain import stock_subject

    assert stock_subject("Target Corporation") == "Target Corporation's stock"
    assert stock_subject("McDonald's") == "McDonald's stock"
    assert stock_subject("United Continental Holdings (United Airlines)") == \
        "The stock of United Continental Holdings (United Airlines)"
