"""The offline price sample bundled with the package (from skfolio, BSD-3-Clause).

PEP, PG, JPM, KO and ^GSPC (as ``GSPC.csv``), adjusted daily prices 2012-01-03 .. 2022-12-28;
see ``datasets/sample-prices/README.md`` for provenance and checks.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .base import DateLike, PriceHistory
from .csvdir import CSVDirSource

LABEL = "bundled sample (skfolio, BSD-3-Clause)"


class SampleSource(CSVDirSource):
    """The bundled sample as a :class:`~incident_impact.prices.csvdir.CSVDirSource`."""

    def __init__(self) -> None:
        super().__init__(Path(str(resources.files("incident_impact.datasets") / "sample-prices")), name=LABEL)

    def label(self, path: Path) -> str:
        """Every sample history has the same :attr:`PriceHistory.source`: :data:`LABEL`."""
        return self.name

    def load(self, ticker: str, start: DateLike | None = None, end: DateLike | None = None) -> PriceHistory:
        """Like :meth:`CSVDirSource.load`, with a note on the sample's rounding."""
        history = super().load(ticker, start, end)
        note = "bundled offline sample: prices rounded to 2-3 decimals by skfolio"
        return history.with_notes(note)
