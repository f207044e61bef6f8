"""Kenneth French daily factor files: percent -> decimal, dates, column names."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import IncidentImpactError
from incident_impact.eventstudy import read_french_factors


def test_percent_to_decimal_and_french_headers(tmp_path):
    path = tmp_path / "F-F.csv"
    path.write_text(",Mkt-RF,SMB,HML,RF,Mom\n20170410,0.07,-0.25,0.10,0.003,-1.2\n20170411,-0.15,0.4,0.0,0.003,0.5\n")
    f = read_french_factors(path)
    assert list(f.columns) == ["mkt_rf", "smb", "hml", "rf", "mom"]
    assert f.index[0] == pd.Timestamp("2017-04-10") and f.index.name == "date"
    assert f.loc["2017-04-10", "mkt_rf"] == pytest.approx(0.0007)
    assert f.loc["2017-04-11", "mom"] == pytest.approx(0.005)
    assert f.loc["2017-04-10", "rf"] == pytest.approx(0.00003)


def test_duplicate_dates_and_unreadable_files(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("date,mkt_rf,rf\n2017-04-10,1,0\n2017-04-10,2,0\n")
    with pytest.raises(IncidentImpactError, match="duplicate dates"):
        read_french_factors(path)
    with pytest.raises(IncidentImpactError, match="cannot read"):
        read_french_factors(tmp_path / "missing.csv")


@pytest.mark.parametrize("dates, bad, row", [
    (["20170410", "2017041x"], "2017041x", 2),
    (["2017-04-10", "2017-04-11", "10/04/2017"], "10/04/2017", 3),
    (["2017-04-10", "2017-02-30"], "2017-02-30", 2),
])
def test_an_unreadable_date_is_named_whole(tmp_path, dates, bad, row):
    """The message names the value and its row and ends with the advice (it was cut mid-sentence)."""
    path = tmp_path / "f.csv"
    path.write_text("date,mkt_rf,rf\n" + "".join(f"{d},1,0\n" for d in dates))
    with pytest.raises(IncidentImpactError) as info:
        read_french_factors(path)
    assert str(info.value) == f"the factor table has an unreadable date {bad!r} in data row {row} (use YYYYMMDD or YYYY-MM-DD)"


SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
def test_the_shared_factor_file():
    path = Path(SHARED) / "factors" / "ff_daily.csv"
    raw = pd.read_csv(path)
    f = read_french_factors(path)
    assert set(f.columns) == {"mkt_rf", "smb", "hml", "rmw", "cma", "rf", "mom"}
    np.testing.assert_allclose(f["smb"].to_numpy(), raw["smb"].to_numpy() / 100)
    assert f.index.is_monotonic_increasing and f["mkt_rf"].abs().median() < 0.02  # decimals, not percent
