"""Daily price sources behind one small interface (see :mod:`incident_impact.prices.base`)."""
