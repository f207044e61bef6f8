"""Sales input: CSV formats, regular spacing, placing the incident, and clear errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from incident_impact.errors import IncidentImpactError, SalesDataError, UnknownIncidentError
from incident_impact.sales import read_sales_csv, sales_impact
from incident_impact.sales.data import frequency_of, post_start


def write(tmp_path, text: str):
    path = tmp_path / "sales.csv"
    path.write_text(text)
    return path


def test_sales_data_error_is_a_library_error():
    assert issubclass(SalesDataError, IncidentImpactError)


@pytest.mark.parametrize("text, first, rule", [
    ("date,sales\n2020-01-05,1\n2020-01-12,2\n2020-01-19,3\n", "2020-01-05", "W-SUN"),
    ("Date,sales\n2020-01-31,1\n2020-02-29,2\n2020-03-31,3\n", "2020-01-31", "ME"),
    ("year,month,sales\n2019,11,1\n2019,12,2\n2020,1,3\n", "2019-11-01", "MS"),
    ("year,quarter,sales\n2019,3,1\n2019,4,2\n2020,1,3\n", "2019-07-01", "QS-JUL"),
    ("year,sales\n1990,1\n1991,2\n1992,3\n", "1990-01-01", "YS-JAN"),
    ("time,sales\n1980.0,1\n1980.08333333333,2\n1980.16666666667,3\n", "1980-01-01", "MS"),
])
def test_time_columns_give_a_regular_date_index(tmp_path, text, first, rule):
    table = read_sales_csv(write(tmp_path, text))
    assert table.index[0] == pd.Timestamp(first)
    assert table.index.freqstr == rule
    assert table["sales"].tolist() == [1.0, 2.0, 3.0]


def test_period_numbers_and_unsorted_rows(tmp_path):
    table = read_sales_csv(write(tmp_path, "t,y,x\n2,3,30\n0,1,10\n1,2,20\n"))
    assert list(table.index) == [0, 1, 2] and table["x"].tolist() == [10, 20, 30]
    assert frequency_of(table.index).letter is None


@pytest.mark.parametrize("text, message", [
    ("date,sales\n2020-01-05,1\n2020-13-45,2\n2020-01-19,3\n", "unparseable date '2020-13-45' in column 'date', data row 2"),
    ("date,sales\n2020-01-05,1\n2020-01-12,2\n2020-01-26,3\n2020-02-02,4\n", "irregular spacing: 2020-01-26 follows 2020-01-12 (14 days"),
    ("date,sales\n2020-01-05,1\n2020-01-05,2\n2020-01-19,3\n", "duplicate dates"),
    ("date,sales\n2020-01-05,1\n2020-01-12,n/a!\n2020-01-19,3\n", "non-numeric value 'n/a!' in column 'sales', data row 2"),
    ("store,sales\na,1\nb,2\nc,3\n", "has no time column"),
    ("date\n2020-01-05\n2020-01-12\n2020-01-19\n", "no value column"),
    ("date,sales\n2020-01-05,1\n2020-01-12,2\n", "at least 3 dated values"),
    ("year,month,sales\n2019,13,1\n2019,12,2\n2020,1,3\n", "unparseable year/month in data row 1"),
    ("t,y\n0,1\n2,2\n3,3\n", "irregular spacing: period 2 follows 0"),
])
def test_bad_files_give_one_clear_error(tmp_path, text, message):
    with pytest.raises(SalesDataError, match=message.replace("(", r"\(").replace("?", r"\?")):
        read_sales_csv(write(tmp_path, text))


def test_missing_file_and_frequency_mismatch(tmp_path):
    with pytest.raises(SalesDataError, match="cannot read sales file"):
        read_sales_csv(tmp_path / "nope.csv")
    with pytest.raises(SalesDataError, match="--frequency W does not match the data, which are spaced M"):
        read_sales_csv(write(tmp_path, "year,month,sales\n2019,11,1\n2019,12,2\n2020,1,3\n"), frequency="W")


def test_post_start_is_the_period_containing_the_incident():
    starts = pd.date_range("2020-01-01", periods=6, freq="MS")
    ends = pd.date_range("2020-01-31", periods=6, freq="ME")
    weeks = pd.date_range("2020-01-05", periods=6, freq="W-SUN")  # labels are the weeks' last days
    assert post_start(starts, "2020-03-15") == 2 and post_start(starts, "2020-03-01") == 2
    assert post_start(ends, "2020-03-15") == 2 and post_start(ends, "2020-03-31") == 2 and post_start(ends, "2020-04-01") == 3
    assert post_start(weeks, "2020-01-13") == 2 and post_start(weeks, "2020-01-19") == 2
    assert post_start(pd.RangeIndex(0, 10), 4) == 4
    with pytest.raises(SalesDataError, match="numbered periods"):
        post_start(pd.RangeIndex(0, 10), "2020-01-01")


@pytest.fixture
def monthly():
    rng = np.random.default_rng(3)
    index = pd.date_range("2015-01-01", periods=60, freq="MS")
    control = 100 + rng.normal(0, 2, 60).cumsum()
    return pd.DataFrame({"brand": 0.5 * control + rng.normal(0, 1, 60), "category": control}, index=index)


@pytest.mark.parametrize("kwargs, message", [
    (dict(incident="2014-06-01"), r"the incident \(2014-06-01\) is not after the first sales period \(2015-01-01\)"),
    (dict(incident="2021-06-01"), r"is after the last sales period \(2019-12-01\)"),
    (dict(incident="2015-05-01", seasonal=None), r"the pre-period has 4 periods; the structural design with 1 controls needs at least 8"),
    (dict(incident="2016-06-01", seasonal=12), r"pre-period has 17 periods; the structural design with 1 controls, seasonal period 12 needs at least 24"),
    (dict(incident="2018-01-01", column="units"), r"no column 'units'"),
    (dict(incident="2018-01-01", controls=["brand"]), r"control 'brand' is not a column"),
    (dict(incident="2018-01-01", design="magic"), r"unknown design 'magic'"),
    (dict(incident="2018-01-01", design="its", controls=["category"]), r"the its design uses the sales series alone"),
    (dict(incident="2018-01-01", design="did", controls=[]), r"the did design needs at least one control"),
    (dict(incident="2018-01-01", post_periods=40), r"post_periods must be between 1 and 24"),
    (dict(incident="2018-01-01", level_sd=0), r"level s.d. must be a positive finite number"),
    (dict(incident="2018-01-01", bound=5), r"bound must be in \(0, 1\)"),
])
def test_bad_requests_give_one_clear_error(monthly, kwargs, message):
    with pytest.raises(SalesDataError, match=message):
        sales_impact(monthly, **{"placebos": 0, "repetitions": 200, **kwargs})


def test_missing_values_and_logs_of_non_positive_sales(monthly):
    gappy = monthly.copy()
    gappy.loc["2016-03-01", "category"] = np.nan
    with pytest.raises(SalesDataError, match="control 'category' has a missing value at 2016-03-01"):
        sales_impact(gappy, "2018-01-01", placebos=0)
    gappy = monthly.copy()
    gappy.loc["2018-03-01", "brand"] = np.nan
    with pytest.raises(SalesDataError, match="the sales column 'brand' has a missing value at 2018-03-01"):
        sales_impact(gappy, "2018-01-01", placebos=0)
    negative = monthly.copy()
    negative.loc["2016-03-01", "brand"] = -1.0
    with pytest.raises(SalesDataError, match="cannot be modelled in logs"):
        sales_impact(negative, "2018-01-01", log=True, placebos=0)
    flat = monthly.assign(category=5.0)
    with pytest.raises(SalesDataError, match="constant in the pre-period"):
        sales_impact(flat, "2018-01-01", placebos=0, seasonal=None)


def test_incident_by_catalog_id(monthly):
    with pytest.raises(UnknownIncidentError):
        sales_impact(monthly, "no-such-incident-2099", placebos=0)
    from incident_impact.catalog import load_catalog

    incident = next(i for i in load_catalog() if pd.Timestamp(2015, 7, 1) <= pd.Timestamp(i.incident_date) <= pd.Timestamp(2019, 1, 1))
    shifted = monthly.set_axis(pd.date_range(pd.Timestamp(incident.incident_date).to_period("M").to_timestamp()
                                             - pd.DateOffset(months=36), periods=60, freq="MS"))
    res = sales_impact(shifted, incident.id, placebos=0, repetitions=200, seasonal=None)
    assert res.incident is incident and res.label == incident.id
    assert res.post_period[0] == pd.Timestamp(incident.incident_date).to_period("M").to_timestamp()
    assert res.n_pre == 36
