"""Every public result behaves in a notebook: a short repr, a compact _repr_html_, summary(),
to_frame() and to_dict() (JSON-serialisable)."""

from __future__ import annotations

import json

import pandas as pd

from conftest import SyntheticSource, synthetic_prices, weekly_sales_csv
from incident_impact.catalog_study import study_incidents


def _check_protocol(result, max_lines: int = 6) -> None:
    text = repr(result)
    assert 2 <= len(text.splitlines()) <= max_lines and ".summary()" in text
    html = result._repr_html_()
    assert html.startswith("<div>") and html.endswith("</div>") and len(html) < 200_000
    assert "<script" not in html.lower()
    assert isinstance(result.summary(), str) and len(result.summary()) > len(text)
    assert isinstance(result.to_frame(), pd.DataFrame) and len(result.to_frame())
    json.dumps(result.to_dict(), allow_nan=False)


def test_incident_analysis_protocol(make_incident_analysis):
    analysis = make_incident_analysis()
    _check_protocol(analysis)
    frame = analysis.to_frame()
    assert list(frame.index) == list(analysis.result.car_table.index)
    assert (frame["car"] == analysis.result.car_table["car"]).all()
    assert (frame["verdict"] == analysis.verdicts()["verdict"]).all()
    assert frame.at["[-1,+1]", "confounded"] and not frame.at["[0,+1]", "confounded"]  # news on day -1
    assert "headline CAR[0,+1] = " in repr(analysis) and "(confounded)" not in repr(analysis)
    assert analysis.spec is analysis.result.spec and analysis.spec.model.name == "market"
    assert analysis.spec.windows == analysis.result.windows


def test_catalog_study_protocol(make_incident_analysis):
    incident = make_incident_analysis().incident
    study = study_incidents([incident], source=SyntheticSource(synthetic_prices(), {}), peers=False, robustness=False)
    _check_protocol(study)
    frame = study.to_frame()
    assert frame.index.names == ["window", "event_id"]
    assert len(frame) == len(study.windows) * study.n_events
    assert "1 event(s) studied, 0 not" in repr(study)
    assert study.spec == study.study.spec and study.spec.windows == study.windows
    assert study.analyses[incident.id].spec.estimation == study.spec.estimation


def test_a_large_verdict_table_is_cut_in_html():
    from incident_impact.display import html_block

    html = html_block("t", ["s"], pd.DataFrame({"x": range(100)}))
    assert html.count("<tr") == 21 and "80 more rows" in html


def test_sales_impact_protocol(tmp_path):

    from incident_impact.sales import read_sales_csv, sales_impact

    path = weekly_sales_csv(tmp_path / "weekly.csv")
    res = sales_impact(read_sales_csv(path), "2016-02-28", controls=["category"], seasonal=None, placebos=5,
                       repetitions=200)
    _check_protocol(res)
    assert res.spec.design == "structural"
    assert repr(res).startswith("SalesImpact: the incident on 2016-02-28: structural design, post-period 2016-02-28 ..")
