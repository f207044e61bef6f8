"""The catalog-wide study: per-incident verdicts with BH, counts, the answer, the CLI and the study report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from markupsafe import escape
from scipy import stats

from conftest import SyntheticSource, open_page, synthetic_prices
from incident_impact.catalog import TimelineEvent, adhoc_incident, load_catalog
from incident_impact.catalog_study import study_incidents
from incident_impact.cli import cli
from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import TEST_NAMES, run_study
from incident_impact.report import write_study_report
from incident_impact.report.study_figures import forest_figure
from incident_impact.verdict import CONFOUNDED, GAIN, HARM, INCONCLUSIVE, NO_EFFECT, verdict_frame

SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")


def _incident(ticker: str, date: str, iid: str, **changes):
    return dataclasses.replace(adhoc_incident(ticker, date), id=iid, name=f"{iid} name", **changes)


@pytest.fixture(scope="module")
def incidents():
    acme = _incident("ACME", "2017-04-10", "acme-2017", claimed_impact="$1bn wiped",
                     timeline=(TimelineEvent(dt.date(2017, 4, 7), "other-news", "Fuel prices jump."),
                               TimelineEvent(dt.date(2017, 4, 10), "incident", "Video.")))
    return [
        acme,
        _incident("DAL", "2016-11-15", "dal-2016"),
        _incident("ACME", "2016-09-01", "acme-2016"),
        _incident("NOPE", "2016-09-01", "nope-2016"),
        dataclasses.replace(acme, id="private-2017", ticker=None, company="Private Co"),
    ]


@pytest.fixture(scope="module")
def study(incidents):
    return study_incidents(incidents, source=SyntheticSource(synthetic_prices(), {}))


def test_studied_and_not_studied_are_all_listed(study):
    assert list(study.analyses) == ["acme-2017", "dal-2016", "acme-2016"]
    assert study.n_events == 3
    failures = study.failures.set_index("event_id")["reason"]
    assert list(failures.index) == ["nope-2016"]  # missing data: a failure
    assert "no prices for NOPE" in failures["nope-2016"]
    # a private company cannot be studied by nature: not applicable, no failure of the run
    not_applicable = study.not_applicable.set_index("event_id")["reason"]
    assert list(not_applicable.index) == ["private-2017"] and "not listed" in not_applicable["private-2017"]


def test_the_study_reuses_each_incident_analysis(study):
    for eid, analysis in study.analyses.items():
        own = analysis.result.car_table
        joint = study.study[eid].car_table
        np.testing.assert_allclose(joint[["car", "se"]].to_numpy(), own.loc[joint.index, ["car", "se"]].to_numpy(),
                                   rtol=0, atol=1e-12)


def test_verdict_table_is_bh_on_the_window(study):
    for window in study.windows:
        table = study.verdict_table(window)
        cars = study.study.car_frame(window)
        ref = verdict_frame(cars, bound=study.bound)
        pd.testing.assert_series_equal(table["verdict"], ref["verdict"], check_names=False)
        p = 2 * stats.t.sf(np.abs(cars["car"] / cars["se"]), cars["df"])
        order = np.argsort(p)
        q = np.minimum.accumulate((p[order] * 3 / np.arange(1, 4))[::-1])[::-1]
        np.testing.assert_allclose(table["p_bh"].to_numpy()[order], np.minimum(q, 1), rtol=1e-12)
        counts = study.counts(window)
        assert list(counts.index) == [HARM, GAIN, NO_EFFECT, INCONCLUSIVE, CONFOUNDED] and counts.sum() == 3
        clean = table[~table["confounded"]]["verdict"].value_counts()
        assert all(counts[v] == clean.get(v, 0) for v in (HARM, GAIN, NO_EFFECT, INCONCLUSIVE))
    # ACME's -4 % shock on day 0: CAR[0,+1] far below zero
    assert study.verdict_table((0, 1)).at["acme-2017", "car"] < -0.02
    assert study.verdict_table((0, 1)).at["acme-2017", "claimed_impact"] == "$1bn wiped"
    assert "other-news on 2017-04-07 (day -1)" in study.verdict_table((-1, 1)).at["acme-2017", "confounders"]
    # the news on day -1 confounds [-1,+1] only
    assert study.verdict_table((-1, 1))["confounded"].to_dict() == {"acme-2017": True, "dal-2016": False,
                                                                     "acme-2016": False}
    assert not study.verdict_table((0, 1))["confounded"].any()


def test_answer_states_counts_means_and_tests(study):
    w = study.headline_window
    text = study.answer()
    counts = study.counts()
    table = study.verdict_table()
    tests = study.tests()
    assert text.startswith(f"Of 3 incidents with price data, {counts[HARM]} showed significant harm")
    assert f"the other {counts[INCONCLUSIVE]} were inconclusive" in text
    assert f"The mean CAR[0,+1] was {100 * table['car'].mean():+.2f} %" in text
    assert f"cross-sectional t = {tests.at['cs_t', 'statistic']:.2f}" in text
    assert "1 event(s) could not be studied" in text and "1 incident(s) cannot be studied by nature" in text
    assert w == (0, 1)


def test_caar_path_by_hand(study):
    ar = study.study.abnormal_returns
    wide = ar.pivot(index="rel_day", columns="event_id", values="ar")
    cum = wide.cumsum()
    path = study.caar_path
    np.testing.assert_allclose(path["caar"], cum.mean(axis=1), atol=1e-14)
    np.testing.assert_allclose(path["se"], cum.std(axis=1, ddof=1) / np.sqrt(3), atol=1e-14)
    np.testing.assert_allclose(path["upper"] - path["caar"], stats.t.ppf(0.975, 2) * path["se"], atol=1e-14)


def _cs_t(cars: np.ndarray) -> float:
    return cars.mean() / (cars.std(ddof=1) / np.sqrt(len(cars)))


@pytest.mark.parametrize("include", [False, True])
def test_confounded_incidents_are_counted_apart(incidents, include):
    """acme-2017 has other news on day -1: in [-1,+1] it keeps its verdict but is counted as
    confounded, and the tests run on the two clean events unless include_confounded."""
    source = SyntheticSource(synthetic_prices(), {})
    cs = study_incidents(incidents, source=source, include_confounded=include, peers=False, robustness=False)
    table = cs.verdict_table((-1, 1))
    counts = cs.counts((-1, 1))
    assert counts[CONFOUNDED] == 1 and table.at["acme-2017", "verdict"] in (HARM, GAIN, NO_EFFECT, INCONCLUSIVE)
    assert counts.drop(CONFOUNDED).sum() == (3 if include else 2)
    tests = cs.tests((-1, 1))
    sample = table if include else table[~table["confounded"]]
    assert tests.at["cs_t", "n_events"] == len(sample)
    assert tests.at["cs_t", "statistic"] == pytest.approx(_cs_t(sample["car"].to_numpy()), rel=1e-12)
    other = cs.tests((-1, 1), clean=include)
    assert other.at["cs_t", "n_events"] == (2 if include else 3)
    text = cs.answer((-1, 1))
    if include:
        assert "counting the 1 with other news inside [-1,+1] (confounded) as well" in text
    else:
        assert "1 had other news that can move the stock" in text and "of the other 2, " in text
    assert "of the clean sample" in text and "of all incidents" in text
    body = cs.to_dict()
    assert body["headline_window"] == "[0,+1]" and body["include_confounded"] is include
    window = next(w for w in body["windows"] if w["window"] == "[-1,+1]")
    assert window["counts"]["confounded"] == 1
    assert {v["event_id"]: v["confounded"] for v in window["verdicts"]}["acme-2017"] is True
    traces = {t["name"]: list(t["y"]) for t in forest_figure(cs, (-1, 1))["data"]}
    if include:
        assert "confounded (counted apart)" not in traces
    else:
        assert traces["confounded (counted apart)"] == [table.at["acme-2017", "name"]]
    # nothing is confounded in [0,+1]: the clean sample is every event and the answer says nothing of it
    assert cs.counts()[CONFOUNDED] == 0 and "confounded" not in cs.answer()


def test_bad_input(incidents):
    source = SyntheticSource(synthetic_prices(), {})
    with pytest.raises(IncidentImpactError, match="bound must be positive"):
        study_incidents(incidents, source=source, bound=0)
    empty = study_incidents(incidents[3:], source=source)
    assert empty.study is None and empty.n_events == 0 and len(empty.failures) + len(empty.not_applicable) == 2
    body = empty.to_dict()  # was an IndexError: no window, so no headline, no long run, no responses
    assert body["windows"] == [] and body["recovery"] is None and body["response"] is None
    with pytest.raises(IncidentImpactError, match="no event could be studied"):
        empty.verdict_table()


def test_to_dict_is_plain_json(study):
    body = json.loads(json.dumps(study.to_dict()))
    assert [w["window"] for w in body["windows"]] == ["[0,+1]", "[-1,+1]", "[0,+5]"]
    first = body["windows"][0]
    assert first["answer"] == study.answer() and sum(first["counts"].values()) == 3
    assert [t["test"] for t in first["tests"]] == list(TEST_NAMES)
    assert {f["event_id"] for f in body["failures"]} == {"nope-2016"}
    assert {f["event_id"] for f in body["not_applicable"]} == {"private-2017"}
    assert all(f["detail"] for f in body["failures"])


# ----------------------------------------------------------------------------- the `study` command
def _prices_folder(tmp_path, panel):
    wide, market, _ = panel
    folder = tmp_path / "prices"
    folder.mkdir()
    for name, ret in [*wide.items(), ("GSPC", market)]:
        pd.DataFrame({"date": wide.index.strftime("%Y-%m-%d"), "adj_close": 50 * np.cumprod(1 + ret.to_numpy())}) \
            .to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_study_command_on_an_events_file(tmp_path, panel):
    wide, market, events = panel
    folder = _prices_folder(tmp_path, panel)
    ev = events.assign(event_date=events.event_date.dt.strftime("%Y-%m-%d"))
    ev = pd.concat([ev, pd.DataFrame({"event_id": ["ghost"], "ticker": ["NOPE"], "event_date": ["2015-06-01"]})])
    path = tmp_path / "events.csv"
    ev.to_csv(path, index=False)
    runner = CliRunner()
    report = tmp_path / "out" / "study.html"
    args = ["study", "--events", str(path), "--data-dir", str(folder), "--offline", "--window", "0,1",
            "--report", str(report)]
    out = runner.invoke(cli, [*args, "--format", "json"])
    assert out.exit_code == 3, out.output  # partial failure: the ghost event
    body = json.loads(out.stdout)
    assert [f["event_id"] for f in body["failures"]] == ["ghost"] and "NOPE" in body["failures"][0]["reason"]
    tests = {t["test"]: t for t in body["windows"][0]["tests"]}
    assert list(tests) == list(TEST_NAMES)
    # the prices round-trip through CSV; the tests equal the library's on the original returns
    ref = run_study(wide, market, events, windows=[(0, 1)]).tests((0, 1))
    for name in ("cs_t", "bmp", "patell", "corrado", "kp_bmp"):
        assert tests[name]["statistic"] == pytest.approx(ref.at[name, "statistic"], rel=1e-6), name
    assert tests["sq"]["statistic"] is None
    assert report.exists() and os.listdir(report.parent) == ["study.html"]  # no incident reports for user events
    assert "study report written to" in out.stderr and "exit status 3" in out.stderr
    table = runner.invoke(cli, [*args, "--no-report"])
    assert table.exit_code == 3
    assert "generalized_sign" in table.stdout and "a-2" in table.stdout and "Of 6 incidents" in table.stdout
    assert "not studied: ghost" in table.stderr
    csv_out = runner.invoke(cli, [*args, "--format", "csv", "--no-report"])
    assert csv_out.stdout.splitlines()[0].startswith("window,event_id,ticker,name,category,day0,car,se")
    ok = runner.invoke(cli, ["study", "--events", str(path), "--data-dir", str(folder), "--offline", "--no-report",
                             "--window", "0,1", "--format", "json"], catch_exceptions=False)
    assert ok.exit_code == 3
    clean = tmp_path / "clean.csv"
    ev.iloc[:-1].to_csv(clean, index=False)
    assert runner.invoke(cli, ["study", "--events", str(clean), "--data-dir", str(folder), "--offline",
                               "--no-report"]).exit_code == 0
    nothing = runner.invoke(cli, ["study", "--events", str(path), "--data-dir", str(tmp_path), "--offline", "--no-report"])
    assert nothing.exit_code == 1 and "no event could be studied" in nothing.stderr


@pytest.mark.parametrize("args, code, message", [
    (["study"], 2, "name incidents"),
    (["study", "--all", "--bound", "0"], 2, "--bound"),
    (["study", "--category", "nonsense"], 1, "unknown category 'nonsense'"),
    (["study", "--year", "1990"], 1, "no incident matches year 1990"),
])
def test_study_bad_input(args, code, message):
    out = CliRunner().invoke(cli, [*args, "--offline", "--no-report"])
    assert out.exit_code == code and message in out.stderr, out.output
    assert "Traceback" not in out.output


def test_study_report_has_the_answer_table_links_and_claims(study, tmp_path):
    path = write_study_report(study, tmp_path / "study.html", links={"acme-2017": "acme-2017.html"})
    html = path.read_text(encoding="utf-8")
    assert str(escape(study.answer())) in html
    assert '<a href="acme-2017.html">acme-2017 name</a>' in html
    assert "$1bn wiped" in html and "nope-2016" in html
    # private-2017 is now in study.not_applicable (the study report lists it once the renderer shows that list)
    assert html.count('id="fig-forest-') == 3 and 'id="fig-caar"' in html


@pytest.mark.browser
def test_study_report_in_chromium_sorts_and_draws(chromium, study, tmp_path):
    path = write_study_report(study, tmp_path / "study.html")
    page, seen = open_page(chromium, path, ("fig-forest-0", "fig-caar"))
    errors = seen["errors"]
    cars = "() => Array.from(document.querySelectorAll('#verdicts tbody tr')).map(r => parseFloat(r.cells[3].dataset.sort))"
    page.click("#verdicts th:nth-child(4)")
    ascending = page.evaluate(cars)
    assert ascending == sorted(ascending) and len(ascending) == 3
    page.click("#verdicts th:nth-child(4)")
    assert page.evaluate(cars) == sorted(ascending, reverse=True)
    assert page.evaluate("document.getElementById('fig-forest-0').data.length") >= 1
    assert errors == []


# ----------------------------------------------------------------------------- real data
@pytest.mark.realdata
@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
def test_study_all_catalog_incidents_on_real_data(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENT_IMPACT_CACHE_DIR", str(tmp_path))
    report = tmp_path / "reports" / "study.html"
    out = CliRunner().invoke(cli, ["study", "--all", "--data-dir", str(Path(SHARED) / "prices"), "--offline",
                                   "--format", "json", "--report", str(report), "--no-incident-reports"])
    assert out.exit_code == 3, out.output  # private companies and missing files: partial
    body = json.loads(out.stdout)
    catalog = list(load_catalog())
    prices = Path(SHARED) / "prices"

    def has_file(ticker):
        return (prices / f"{ticker.lstrip('^')}.csv").exists()

    # every catalog incident is either studied or listed with a reason, and the reasons follow the files
    failed = {f["event_id"]: f["reason"] for f in body["failures"]}
    not_applicable = {f["event_id"]: f["reason"] for f in body["not_applicable"]}
    assert body["n_events"] + len(failed) + len(not_applicable) == len(catalog)
    for inc in catalog:
        if not inc.is_listed:  # private: not applicable, no failure
            assert "not listed" in not_applicable[inc.id] and inc.id not in failed
        elif not any(has_file(t) for t in (inc.ticker, *inc.former_tickers)):
            assert f"no prices for {inc.ticker}" in failed[inc.id]
    # Peloton's 2019 advert came weeks after its IPO: no estimation year, not applicable
    assert "listed after the incident" in not_applicable["peloton-gift-that-gives-back-2019"]
    assert len(not_applicable) == 4 and len(failed) == 8  # 3 private + Peloton; 8 missing or short files
    assert all("curl" not in r for r in failed.values())  # one short line each; the full text is "detail"
    assert body["n_events"] >= 40
    first = body["windows"][0]
    assert first["window"] == "[0,+1]"
    assert body["headline_window"] == "[0,+1]"
    # McDonald's 2012 reported earnings on day +1: confounded, counted apart, never among the harm
    verdicts = {v["event_id"]: v for v in first["verdicts"]}
    assert verdicts["mcdonalds-mcdstories-2012"]["confounded"] is True
    assert len(verdicts) == body["n_events"] == sum(first["counts"].values())
    assert first["counts"]["confounded"] == sum(v["confounded"] for v in verdicts.values())
    clean = [v for v in verdicts.values() if not v["confounded"]]
    assert first["counts"]["significant harm"] == sum(v["verdict"] == "significant harm" for v in clean)
    # the cross-sectional t of the clean sample recomputed from the per-incident CARs the same JSON lists
    cars = np.array([v["car"] for v in clean])
    tests = {t["test"]: t for t in first["tests"]}
    assert tests["cs_t"]["statistic"] == pytest.approx(cars.mean() / (cars.std(ddof=1) / np.sqrt(len(cars))), rel=1e-9)
    assert tests["cs_t"]["p_value"] == pytest.approx(2 * stats.t.sf(abs(tests["cs_t"]["statistic"]), len(cars) - 1), rel=1e-9)
    assert report.exists()


def test_incident_reports_of_a_study_share_its_headline_window(study):
    for analysis in study.analyses.values():
        assert analysis.headline_window == study.headline_window == (0, 1)
        assert analysis.verdict().startswith("CAR[0,+1] = ")


def test_plain_answer_uses_the_pooled_estimate(study):
    pooled = study.pooled()
    text = study.plain()
    assert pooled.n == 3 and not pooled.reason
    assert f"did {100 * abs(pooled.estimate):.1f} % {'worse' if pooled.estimate < 0 else 'better'} than expected" in text
    assert f"between {100 * pooled.prediction_lower:+.1f} % and {100 * pooled.prediction_upper:+.1f} %" in text
    assert f"The simple mean ({100 * study.verdict_table()['car'].mean():+.1f} %" in text
    body = study.to_dict()
    assert body["windows"][0]["pooled"]["estimate"] == pytest.approx(pooled.estimate)
    assert set(body["windows"][0]["pooled"]) >= {"method", "estimate", "se", "ci_lower", "ci_upper", "tau2", "i2",
                                                  "prediction_lower", "prediction_upper", "equivalence_p", "n"}
    assert {"recovery", "response", "drivers"} <= set(body)
