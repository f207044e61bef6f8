"""Did the incident change sales? Counterfactuals for sales series, with placebos and a verdict.

>>> from incident_impact.sales import read_sales_csv, sales_impact
>>> table = read_sales_csv("weekly_sales.csv")                       # doctest: +SKIP
>>> res = sales_impact(table, "bud-light-dylan-mulvaney-2023", column="brand", controls=["category"])  # doctest: +SKIP
>>> print(res.summary())                                             # doctest: +SKIP
"""

from .data import read_sales_csv
from .effect import Counterfactual, Effect
from .impact import sales_impact
from .placebo import Placebos
from .results import SalesImpact
from .spec import DESIGNS, ModelSpec
from .synthetic import simplex_weights

__all__ = [
    "DESIGNS",
    "Counterfactual",
    "Effect",
    "ModelSpec",
    "Placebos",
    "SalesImpact",
    "read_sales_csv",
    "sales_impact",
    "simplex_weights",
]
