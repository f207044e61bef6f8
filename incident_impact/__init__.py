"""incident-impact."""
