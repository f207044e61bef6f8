"""analyze() and the JSON contract of the months after the incident: recovery, response, learning."""

from __future__ import annotations

import json

import numpy as np
import pytest

from incident_impact.eventstudy import event_study


def test_analysis_carries_recovery_response_and_learning(make_incident_analysis):
    analysis = make_incident_analysis()
    after = analysis.aftermath
    assert after is not None and after.recovery is not None
    body = json.loads(json.dumps(analysis.to_dict(), allow_nan=False, default=str))
    rec = body["recovery"]
    assert [h["window"] for h in rec["horizons"]] == ["[0,+20]", "[0,+60]", "[0,+120]"]
    assert {"window", "car", "se", "p_value", "sq_p_value"} <= set(rec["horizons"][0])
    assert {"trough_day", "trough_car", "half_life_sessions", "recovered_by"} <= set(rec)
    # the horizons' CARs are the event study's over the same windows, on the whole history
    direct = event_study(after.stock_returns, after.benchmark_returns, analysis.day0, windows=[(0, 20), (0, 60)])
    for h, label in zip(rec["horizons"][:2], ["[0,+20]", "[0,+60]"]):
        assert h["car"] == pytest.approx(direct.car_table.loc[label, "car"], abs=1e-12)
    # the CEO apologised at 20:00 New York time on day 0: after the close, so the response is day +1
    response = body["response"]["events"]
    assert [(r["kind"], r["rel_day"]) for r in response] == [("response", 1)]
    ar = direct.abnormal_returns.set_index("rel_day")["ar"]
    assert response[0]["car"] == pytest.approx(ar.loc[1:2].sum(), abs=1e-12)
    # the recovery's MDE is the headline window's
    assert after.recovery.mde == pytest.approx(analysis.verdicts().loc["[0,+1]", "mde"])
    assert "learning" in body and ("candidates" in body["learning"] or body["learning"]["reason"])
    assert "Persistence and recovery" in analysis.summary()


def test_aftermath_can_be_skipped(make_incident_analysis):
    from incident_impact.analysis import analyze

    incident = make_incident_analysis().incident
    from conftest import SyntheticSource, synthetic_prices

    plain = analyze(incident, source=SyntheticSource(synthetic_prices(), {}), aftermath=False, peers=False,
                    robustness=False)
    body = plain.to_dict()
    assert plain.aftermath is None and body["recovery"] is None and body["response"] is None
    assert np.isfinite(body["headline"]["car"])
