"""No-effect and power battery for the default sales model; writes a section of validation/sales_results.md.

Run from the repository root:  nice python validation/sales_battery.py [--seeds 8] [--label AFTER]

Five shapes of sales series *without* control series (the hard case: nothing else to explain the
pattern), each with 8 seeds (20261200 + 100 * shape + seed), 2 % multiplicative noise, the incident at
75 % of the series:

* monthly linear trend, +1.2 %/month, 48 months;
* monthly trend (+1.2 %/month) with yearly seasonality (amplitude 10 %, peak in December), 48 months;
* weekly random walk with drift (log steps N(0.3 %, 1 %)), 104 weeks;
* quarterly trend (+3 %/quarter) with seasonality (-8, +2, 0, +6 %), 40 quarters;
* monthly AR(1) noise around a constant level (phi 0.6, innovations 2 %), 48 months.

Each series is run twice through ``incident-impact sales --sales FILE --date D --format json --no-report``
with the default options (in-process, click's test runner): as generated (no effect: every
"significant" verdict is a false positive) and with sales x 0.85 from the incident on (a real -15 %
level drop: "significant harm" is a hit). ``unreliable model`` counts as not significant for the
first and as not found for the second.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from incident_impact.cli import cli

OUT = Path(__file__).with_name("sales_results.md")
SHAPES = ("monthly trend", "monthly trend + season", "weekly random walk", "quarterly trend + season", "monthly AR(1)")
SIGNIFICANT = ("significant harm", "significant gain")


def make_series(shape: str, seed: int, drop: float = 0.0) -> tuple[pd.Series, pd.Timestamp]:
    """One battery series (see the module docstring) and its incident date; ``drop`` = 0.15 cuts sales by 15 %."""
    rng = np.random.default_rng(20261200 + 100 * SHAPES.index(shape) + seed)
    if shape == "monthly trend":
        n, freq = 48, "MS"
        log_level = np.log(1.012) * np.arange(n)
    elif shape == "monthly trend + season":
        n, freq = 48, "MS"
        log_level = np.log(1.012) * np.arange(n) + np.log1p(0.1 * np.cos(2 * np.pi * (np.arange(n) - 11) / 12))
    elif shape == "weekly random walk":
        n, freq = 104, "W-SUN"
        log_level = np.cumsum(rng.normal(0.003, 0.01, n))
    elif shape == "quarterly trend + season":
        n, freq = 40, "QS-JAN"
        log_level = np.log(1.03) * np.arange(n) + np.log1p(np.tile([-0.08, 0.02, 0.0, 0.06], n // 4))
    elif shape == "monthly AR(1)":
        n, freq = 48, "MS"
        e = np.empty(n)
        e[0] = rng.normal(0, 0.02 / np.sqrt(1 - 0.36))
        for t in range(1, n):
            e[t] = 0.6 * e[t - 1] + rng.normal(0, 0.02)
        log_level = e
    else:
        raise ValueError(shape)
    noise = 0.0 if shape == "monthly AR(1)" else rng.normal(0, 0.02, n)
    y = 1000 * np.exp(log_level + noise)
    n_pre = int(round(0.75 * n))
    y[n_pre:] *= 1 - drop
    index = pd.date_range("2016-01-01" if freq != "W-SUN" else "2016-01-03", periods=n, freq=freq)
    return pd.Series(y, index=index, name="sales"), index[n_pre]


def run_cli(series: pd.Series, date: pd.Timestamp, folder: Path) -> dict:
    """``incident-impact sales --sales FILE --date D --format json --no-report`` with default options."""
    path = folder / "battery.csv"
    series.rename_axis("date").reset_index().assign(date=lambda f: f["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    res = CliRunner().invoke(cli, ["sales", "--sales", str(path), "--date", date.strftime("%Y-%m-%d"),
                                   "--format", "json", "--no-report"])
    if res.exit_code != 0:
        return {"verdict": f"error: {res.stderr.strip()[:80]}"}
    out = json.loads(res.stdout)
    verdict = out["verdict"]["verdict"] if out.get("verdict") else "none"
    return {"verdict": verdict, "relative": out["effects"]["average"]["relative"],
            "spec": out.get("choice", {}).get("chosen") if isinstance(out.get("choice"), dict) else None,
            "placebos": out["placebos"]["in_time"]["n"], "fpr": out["placebos"]["in_time"]["false_positive_rate"],
            "as_large": out["placebos"]["in_time"]["n_as_large"], "model_verdict": (out["verdict"] or {}).get("model_verdict")}


def battery(seeds: int, drops=(0.0, 0.15)) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for drop in drops:
            for shape in SHAPES:
                for seed in range(seeds):
                    series, date = make_series(shape, seed, drop)
                    rows.append({"drop": drop, "shape": shape, "seed": seed, **run_cli(series, date, Path(tmp))})
                    print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def table(frame: pd.DataFrame, label: str) -> list[str]:
    lines = [f"| {label}: shape | no effect: called significant | no effect: verdicts | -15 %: found as significant harm "
             "| -15 %: verdicts |", "|---|---|---|---|---|"]
    for shape in (*SHAPES, "all"):
        part = frame if shape == "all" else frame[frame["shape"] == shape]
        null, drop = part[part["drop"] == 0], part[part["drop"] > 0]

        def counts(sub):
            return ", ".join(f"{k} {v}" for k, v in Counter(sub["verdict"]).most_common())

        lines.append(f"| {shape} | {null['verdict'].isin(SIGNIFICANT).sum()} of {len(null)} | {counts(null)} | "
                     f"{(drop['verdict'] == 'significant harm').sum()} of {len(drop)} | {counts(drop)} |")
    return lines


def write_section(lines: list[str], heading: str, out: Path) -> None:
    """Replace (or append) the ``## heading`` section of ``out``, keeping every other section."""
    text = out.read_text() if out.exists() else ""
    block = "\n".join([f"## {heading}", "", *lines, ""]) + "\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    out.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--label", default="AFTER", help="BEFORE or AFTER: which table of the section to write")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--csv", type=Path, help="also write one row per run here")
    args = parser.parse_args()
    t0 = time.time()
    frame = battery(args.seeds)
    if args.csv:
        frame.to_csv(args.csv, index=False)
    lines = [f"Generated by `validation/sales_battery.py --seeds {args.seeds} --label {args.label}` in "
             f"{round(time.time() - t0)} s: {len(frame) // 2} series without an effect and the same series with a "
             "-15 % level drop, default options of `incident-impact sales` (no control series). See the script's "
             "docstring for the shapes. `unreliable model` counts as not significant (no effect) and as not found "
             "(-15 %).", "", *table(frame, args.label)]
    write_section(lines, f"Sales battery: default options ({args.label})", args.out)
    print("\n".join(lines))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
