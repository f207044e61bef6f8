"""Project data shipped with the package: the incident catalog and the offline price sample (see README.md)."""
