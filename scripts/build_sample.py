"""Regenerate ``datasets/sample-prices/`` from the price data bundled in an installed skfolio.

skfolio (BSD-3-Clause) ships ``skfolio/datasets/data/sp500_dataset.csv.gz`` (adjusted daily
prices of 20 large caps, 3 decimals) and ``sp500_index.csv.gz`` (S&P 500 daily close). This
script copies PEP, PG, JPM, KO and the index (as GSPC.csv) from 2012-01-01 on, verbatim, in
the format ``date,adj_close``, plus skfolio's licence. skfolio is needed only to run this
script, never by incident-impact itself.

With ``--check FOLDER`` (a folder of ``TICKER.csv`` files such as the shared real data) it
prints the largest absolute difference of daily returns per ticker on common dates.

Usage: ``python scripts/build_sample.py [--check ../shared/data/prices]``
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
from pathlib import Path

import pandas as pd

TICKERS = ("PEP", "PG", "JPM", "KO")
START = "2012-01-01"
OUT = Path(__file__).resolve().parent.parent / "datasets" / "sample-prices"


def build(out: Path = OUT) -> dict[str, pd.Series]:
    """Write the sample files to ``out``; return each file's prices."""
    dist = importlib.metadata.distribution("skfolio")
    data = Path(dist.locate_file("skfolio/datasets/data"))
    stocks = pd.read_csv(data / "sp500_dataset.csv.gz", dtype=str, index_col="Date")
    index = pd.read_csv(data / "sp500_index.csv.gz", dtype=str, index_col="Date")
    columns = {t: stocks[t] for t in TICKERS} | {"GSPC": index["SP500"]}
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, column in columns.items():
        column = column.loc[column.index >= START]  # ISO dates compare as text
        if column.isna().any() or not column.index.is_monotonic_increasing:
            raise SystemExit(f"{name}: unexpected missing values or order in skfolio's data")
        column.rename("adj_close").rename_axis("date").to_csv(out / f"{name}.csv", lineterminator="\n")
        written[name] = pd.to_numeric(column).set_axis(pd.to_datetime(column.index))
        print(f"wrote {name}.csv: {len(column)} rows, {column.index[0]}..{column.index[-1]}")
    licence = next(f for f in dist.files if f.name.upper().startswith("LICEN"))
    (out / "LICENSE-skfolio.txt").write_text(Path(dist.locate_file(licence)).read_text())
    print(f"from skfolio {dist.version}: {data}")
    return written


def check(sample: dict[str, pd.Series], folder: Path) -> dict[str, float]:
    """Largest absolute daily-return difference between the sample and ``folder/TICKER.csv``."""
    worst = {}
    for name, prices in sample.items():
        ref = pd.read_csv(folder / f"{name}.csv", index_col="date", parse_dates=True)["adj_close"]
        both = pd.concat([prices.pct_change(), ref.pct_change()], axis=1, join="inner").dropna()
        diff = (both.iloc[:, 0] - both.iloc[:, 1]).abs()
        worst[name] = float(diff.max())
        span = ref.loc[prices.index[0] : prices.index[-1]].index
        print(
            f"{name}: {len(both)} common returns, max |diff| {diff.max():.2e} on {diff.idxmax():%Y-%m-%d}; "
            f"dates only in sample: {len(prices.index.difference(ref.index))}, only in reference: "
            f"{len(span.difference(prices.index))}"
        )
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", type=Path, help="folder of TICKER.csv files to compare returns with")
    args = parser.parse_args(argv)
    written = build()
    if args.check:
        check(written, args.check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
