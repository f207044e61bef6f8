"""incident-impact: did a social-media disaster move the company's stock or sales?

The public API::

    from incident_impact import load_catalog, analyze, event_study
    result = analyze("united-airlines-flight-3411-2017")
    print(result.summary())
"""

__all__ = ["__version__", "analyze", "event_study", "load_catalog", "sales_impact"]


def __getattr__(name: str):
    """Import the heavy modules only when their names are used (keeps the CLI start fast); the version is
    read from the installed metadata on first use (``importlib.metadata`` costs ~10 ms at start-up)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("incident-impact")
        except PackageNotFoundError:  # running from a source tree without installation
            return "0+unknown"
    if name == "analyze":
        from .analysis import analyze

        return analyze
    if name == "event_study":
        from .eventstudy import event_study

        return event_study
    if name == "load_catalog":
        from .catalog import load_catalog

        return load_catalog
    if name == "sales_impact":
        from .sales import sales_impact

        return sales_impact
    raise AttributeError(name)
