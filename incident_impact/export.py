"""Tables of an analysis or a study written to CSV, Excel or LaTeX: ``export_tables(tables, path)``.

The format follows the file's suffix:

* ``.csv``: every table in one file, one block per table: a first column ``table`` names it (the
  columns are the union of the tables'), so the file reads back with ``pandas.read_csv``; cells
  that would start a spreadsheet formula (``= + - @``, tab, carriage return) get a leading ``'``;
* ``.xlsx``: one sheet per table (sheet names cut to Excel's 31 characters, ``[]:*?/\\`` replaced,
  made unique), through ``openpyxl``;
* ``.tex``: one booktabs ``tabular`` per table (``\\toprule``, ``\\midrule``, ``\\bottomrule``; needs
  ``\\usepackage{booktabs}``), each under a ``% table: NAME`` comment and a ``\\paragraph`` title,
  every cell and header escaped (``& % $ # _ { } ~ ^ \\``).

Writes are atomic: the file is written beside the target under a temporary name and moved into place
with :func:`os.replace`, so a failed export never leaves a half-written file. An unknown suffix is an
:class:`~incident_impact.errors.IncidentImpactError` naming the accepted ones.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import IncidentImpactError

#: Suffixes :func:`export_tables` accepts.
FORMATS = (".csv", ".xlsx", ".tex")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_RE = re.compile("|".join(re.escape(k) for k in _TEX_ESCAPES))


def export_format(path: str | os.PathLike[str]) -> str:
    """The format of ``path`` by its suffix (``.csv``, ``.xlsx`` or ``.tex``), else a clear error."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        shown = Path(path).suffix or "no suffix"
        raise IncidentImpactError(
            f"cannot export tables to {os.fspath(path)!r} ({shown}): use a file ending in " + ", ".join(FORMATS)
        )
    return suffix


def _check_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    if not isinstance(tables, Mapping) or not tables:
        raise IncidentImpactError("export_tables needs a non-empty mapping of table name -> DataFrame")
    out = {}
    for name, frame in tables.items():
        if not isinstance(frame, pd.DataFrame):
            raise IncidentImpactError(f"table {name!r} is not a DataFrame")
        out[str(name)] = frame
    return out


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a named index moved into the columns (an unnamed RangeIndex is dropped)."""
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame.reset_index(drop=True)
    return frame.reset_index()


def _safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _guard(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns with formula-starting cells prefixed by ``'``."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_safe_cell).astype(object)
    return out


def _csv_text(tables: dict[str, pd.DataFrame]) -> str:
    parts = []
    for name, frame in tables.items():
        flat = _flat(frame)
        flat.insert(0, "table", name)
        parts.append(flat)
    combined = pd.concat(parts, ignore_index=True, sort=False)
    combined = _guard(combined)
    return combined.to_csv(index=False, lineterminator="\n")


def _sheet_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "table"
        candidate, k = base[:31], 2
        while candidate.lower() in (o.lower() for o in out):
            suffix = f" ({k})"
            candidate, k = base[: 31 - len(suffix)] + suffix, k + 1
        out.append(candidate)
    return out


def _write_xlsx(tables: dict[str, pd.DataFrame], target: str) -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise IncidentImpactError("writing .xlsx needs openpyxl: pip install openpyxl") from None
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for sheet, (_, frame) in zip(_sheet_names(list(tables)), tables.items(), strict=True):
            flat = _flat(frame)
            flat = _guard(flat)
            for col in flat.columns:  # Excel has no time zones
                if isinstance(flat[col].dtype, pd.DatetimeTZDtype):
                    flat[col] = flat[col].dt.tz_localize(None)
            flat.to_excel(writer, sheet_name=sheet, index=False)


def tex_escape(value) -> str:
    """``value`` as LaTeX text: ``& % $ # _ { } ~ ^ \\`` escaped."""
    return _TEX_RE.sub(lambda m: _TEX_ESCAPES[m.group()], str(value))


def _tex_cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "$\\infty$" if v > 0 else "$-\\infty$"
        return f"{v:.4g}" if abs(v) >= 1e-4 or v == 0 else f"{v:.2e}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return tex_escape(value)


def _tex_text(tables: dict[str, pd.DataFrame]) -> str:
    lines = ["% tables written by incident-impact; needs \\usepackage{booktabs}", ""]
    for name, frame in tables.items():
        flat = _flat(frame)
        numeric = [
            pd.api.types.is_numeric_dtype(flat[c]) and not pd.api.types.is_bool_dtype(flat[c]) for c in flat.columns
        ]
        spec = "".join("r" if n else "l" for n in numeric) or "l"
        lines += [
            f"% table: {name}",
            f"\\paragraph{{{tex_escape(name)}}}",
            f"\\begin{{tabular}}{{{spec}}}",
            "\\toprule",
            " & ".join(tex_escape(c) for c in flat.columns) + " \\\\",
            "\\midrule",
        ]
        for row in flat.itertuples(index=False):
            lines.append(" & ".join(_tex_cell(v) for v in row) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}", ""]
    return "\n".join(lines)


def _atomic_write(path: Path, write) -> None:
    """``write(temp_path)`` then move the temp file onto ``path`` (:func:`os.replace`)."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise IncidentImpactError(
            f"cannot export to {os.fspath(path)!r}: the folder {os.fspath(folder)!r} does not exist"
        )
    if path.is_dir():
        raise IncidentImpactError(f"cannot export to {os.fspath(path)!r}: it is a folder")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise IncidentImpactError(f"cannot write {os.fspath(path)!r}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export_tables(tables: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> Path:
    """Write ``tables`` (name -> DataFrame, in order) to ``path`` in the format of its suffix
    (``.csv``, ``.xlsx``, ``.tex``; see the module docstring), atomically. A named index becomes the
    first column(s). Returns the path written."""
    fmt = export_format(path)
    frames = _check_tables(tables)
    target = Path(path)
    if fmt == ".csv":
        text = _csv_text(frames)
        _atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    elif fmt == ".tex":
        text = _tex_text(frames)
        _atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    else:
        _atomic_write(target, lambda tmp: _write_xlsx(frames, tmp))
    return target


def study_tables(
    study, windows=None, *, bootstrap: int | None = None, seed: int | None = None
) -> dict[str, pd.DataFrame]:
    """The tables of a :class:`~incident_impact.eventstudy.StudyResult` to export: ``caar`` (per
    window), ``cars`` (per event and window) and ``tests <window>`` for each window (with
    ``bootstrap_p_value`` when ``bootstrap`` is given). The CLI adds its verdict table in front."""
    from .eventstudy.windows import format_window, parse_window

    wins = [parse_window(w) for w in windows] if windows is not None else list(study.windows)
    tables = {"caar": study.caar, "cars": study.cars}
    for w in wins:
        tables[f"tests {format_window(w)}"] = study.tests(w, bootstrap=bootstrap, seed=seed)
    return tables
