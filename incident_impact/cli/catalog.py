"""`list` and `show`: browse the incident catalog."""

from __future__ import annotations

import click

from .common import echo, emit_json, emit_rows, format_option, incidents_option, load_catalog, note, timelines_option
from .group import cli


@cli.command("list")
@click.option("--category", help="Only this category (e.g. boycott, 'advertising backlash').")
@click.option("--platform", help="Only incidents on this platform (e.g. Twitter).")
@click.option("--year", type=int, help="Only incidents of this year.")
@format_option("table", "json", "csv")
@incidents_option
@timelines_option
def list_cmd(category, platform, year, fmt, incidents, timelines) -> None:
    """List catalog incidents."""
    catalog = load_catalog(incidents, timelines).filter(category=category, platform=platform, year=year)
    rows = [
        {
            "id": i.id,
            "date": i.incident_date.isoformat(),
            "ticker": i.ticker or "(private)",
            "category": i.category,
            "platforms": ";".join(i.platforms),
            "company": i.company,
        }
        for i in catalog
    ]
    emit_rows(rows, fmt)
    note(f"{len(rows)} incident(s)")


@cli.command()
@click.argument("incident_id")
@format_option("table", "json")
@incidents_option
@timelines_option
def show(incident_id, fmt, incidents, timelines) -> None:
    """Show one incident's facts and timeline."""
    inc = load_catalog(incidents, timelines)[incident_id]
    if fmt == "json":
        emit_json(inc.to_dict())
        return
    facts = [
        ("id", inc.id),
        ("name", inc.name),
        ("company", inc.company),
        ("ticker", f"{inc.ticker} ({inc.exchange}, {inc.currency})" if inc.is_listed else "(private company)"),
        ("benchmark", inc.benchmark),
        ("peers", ", ".join(inc.peers)),
        ("category", inc.category),
        ("platforms", ", ".join(inc.platforms)),
        ("confidence", inc.confidence),
        ("listing", inc.listing_note),
        ("summary", inc.summary),
        ("press claim", inc.claimed_impact),
    ]
    width = max(len(k) for k, _ in facts)
    echo("\n".join(f"{k:<{width}}  {v}" for k, v in facts if v))
    echo("\nTimeline")
    for ev in inc.timeline:
        when = ev.date.isoformat() + (f" {ev.time.strftime('%H:%M')} {ev.timezone or ''}".rstrip() if ev.time else "")
        echo(f"  {when:<28} {ev.kind:<11} {ev.description}")
    echo("\nSources")
    echo("\n".join(f"  {s}" for s in inc.sources))
