"""How results show in a notebook: a short ``repr`` and a compact ``_repr_html_``.

Every public result (an incident's analysis, a catalog study, an event study, a sales impact)
answers in a few lines when printed and as one small HTML block in Jupyter; the full text is
``summary()``, the tables ``to_frame()`` and the JSON-ready form ``to_dict()``.
"""

from __future__ import annotations

from html import escape

import pandas as pd

HINT = ".summary() for the full text, .to_frame() for the table, .to_dict() for JSON"


def short_repr(kind: str, lines: list[str]) -> str:
    """``<kind>: first line`` then the other lines indented, then the hint."""
    head, *rest = lines
    return "\n".join([f"{kind}: {head}", *(f"  {line}" for line in rest), f"  ({HINT})"])


def html_block(title: str, sentences: list[str], table: pd.DataFrame | None = None, max_rows: int = 20) -> str:
    """A title, paragraphs and at most ``max_rows`` rows of ``table`` as escaped HTML."""
    parts = [f"<div><strong>{escape(title)}</strong>"]
    parts += [f"<p>{escape(s)}</p>" for s in sentences if s]
    if table is not None and len(table):
        shown = table.head(max_rows)
        parts.append(shown.to_html(float_format=lambda x: f"{x:.4g}", escape=True, border=0))
        if len(table) > max_rows:
            parts.append(f"<p>… {len(table) - max_rows} more rows: use .to_frame()</p>")
    parts.append("</div>")
    return "".join(parts)
