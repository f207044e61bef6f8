"""Self-contained HTML reports (plotly figures, Jinja2 templates, no network access).

>>> from incident_impact.report import write_report
>>> write_report(analysis, "reports/united-2017.html")   # doctest: +SKIP
"""

from .render import render_incident_report, render_study_report, write_report, write_study_report

__all__ = ["render_incident_report", "render_study_report", "write_report", "write_study_report"]
