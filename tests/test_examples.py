"""The researcher's example script runs end to end (synthetic prices always; the real ones when available)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPT = EXAMPLES / "study_two_models.py"


def run(folder) -> str:
    out = subprocess.run([sys.executable, str(SCRIPT), str(folder)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_example_on_synthetic_prices(tmp_path):
    events = pd.read_csv(EXAMPLES / "events.csv")
    dates = pd.bdate_range("2008-01-01", "2019-12-31")
    rng = np.random.default_rng(2)
    market = rng.normal(0.0004, 0.01, len(dates))
    for ticker in [*events["ticker"].unique(), "GSPC"]:
        ret = market if ticker == "GSPC" else 1.1 * market + rng.normal(0, 0.015, len(dates))
        pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "adj_close": 30 * np.cumprod(1 + ret)}).to_csv(
            tmp_path / f"{ticker}.csv", index=False)
    text = run(tmp_path)
    assert "=== market model: 8 events" in text and "=== market-adjusted model: 8 events" in text
    for name in ("cs_t", "time_series_t", "patell", "bmp", "kp_bmp", "corrado", "generalized_sign", "wilcoxon", "sq"):
        assert name in text
    assert "slope =" in text


SHARED = os.environ.get("INCIDENT_IMPACT_SHARED_DATA")


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED, reason="real-data tests need INCIDENT_IMPACT_SHARED_DATA=../shared/data")
def test_example_on_real_prices():
    text = run(Path(SHARED) / "prices")
    assert "=== market model: 8 events" in text and "not analysed" not in text
