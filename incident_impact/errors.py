"""One exception family for every failure a user can cause or meet.

The CLI turns an :class:`IncidentImpactError` into a one-line message and a non-zero exit
status; anything else escaping the library is a bug.
"""

from __future__ import annotations


class IncidentImpactError(Exception):
    """Base class: a problem with the user's input or data, explained in one line."""


class UnknownIncidentError(IncidentImpactError, KeyError):
    """An incident id that is not in the catalog; the message suggests close ids."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class CatalogError(IncidentImpactError):
    """A malformed incident catalog or user incident file."""


class PriceDataError(IncidentImpactError):
    """Price data is missing, malformed or does not cover the requested dates."""


class TickerNotFoundError(PriceDataError):
    """No source has prices for this ticker."""


class DownloadError(PriceDataError):
    """A download failed (network, rate limit, empty answer); the cache is left untouched."""


class InsufficientDataError(IncidentImpactError):
    """Too few observations for the requested estimation or event window."""


class CalendarError(IncidentImpactError):
    """An unknown exchange or a date the exchange calendar cannot map to a session."""


class SalesDataError(IncidentImpactError):
    """A sales file or series that cannot be analysed: unparseable dates, irregular spacing, gaps, too short."""


class ReportError(IncidentImpactError, OSError):
    """A report cannot be written (its folder is a file, no permission, a full disk); an OSError too."""
