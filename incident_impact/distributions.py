"""Student t, noncentral t and normal tail functions on :mod:`scipy.special`.

The same values as ``scipy.stats.t`` / ``nct`` / ``norm`` (the same Cephes/Boost routines underneath),
without importing :mod:`scipy.stats`, which takes most of a second: the one-incident command line
stays fast. Upper tails use symmetry (``sf(x) = cdf(-x)``) so small p-values keep their precision.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def t_cdf(x, df):
    """``P(T <= x)`` for ``T ~ t(df)``."""
    return special.stdtr(df, x)


def t_sf(x, df):
    """``P(T > x)`` for ``T ~ t(df)``."""
    return special.stdtr(df, -np.asarray(x, dtype=float))


def t_ppf(q, df):
    """The ``q`` quantile of ``t(df)``."""
    return special.stdtrit(df, q)


def nct_cdf(x, df, nc):
    """``P(T' <= x)`` for the noncentral ``T' ~ t(df, nc)``."""
    return special.nctdtr(df, nc, x)


def norm_sf(x):
    """``P(Z > x)`` for a standard normal ``Z``."""
    return special.ndtr(-np.asarray(x, dtype=float))
