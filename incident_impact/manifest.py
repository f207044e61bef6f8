"""The manifest of a run: what is needed to reproduce its numbers, and to check that they reproduce.

Every JSON output (``analyze``, ``study``, ``sales``) and every HTML report carries one::

    {
      "manifest_version": 1,
      "command": "analyze",                       # the subcommand
      "argv": ["analyze", "pepsi-...", "--offline", "--format", "json"],   # as typed, program name left out
      "options": {"incident_id": "pepsi-...", "offline": true, ...},       # as parsed by the command line
      "cwd": "/home/me/project",                  # relative paths in argv are relative to it
      "created_at": "2026-05-14T10:00:00+00:00",
      "versions": {"incident-impact": "0.9.0", "python": "3.11.7", "numpy": "2.4.6", "pandas": "3.1.1",
                   "scipy": "1.17.1", "statsmodels": "...", "exchange_calendars": "...", "plotly": "...",
                   "yfinance": "..."},          # None: not installed
      "files": [{"path": "/abs/PEP.csv", "kind": "prices", "sha256": "...", "source": "bundled sample ..."}],
      "day0_rule": "first session at or after the news, local date rule",
      "seeds": {"placebo": 7, "explain_permutations": 20260514, "longrun_bootstrap": 0, "market_learning": 0,
                "sales": 1},                   # the seeds that applied to this run
      "monte_carlo": [{"path": "placebo[0].share_beyond", "p": 0.12, "n": 200, "se": 0.023}],
      "environment": {"INCIDENT_IMPACT_OFFLINE": "1", ...}   # the variables that change what is read
    }

``files`` lists the bytes actually parsed (each price file of a data folder, the bundled sample, the
download cache, factor and sales files), hashed as read (:func:`incident_impact.prices.base.record_read`).
``monte_carlo`` gives the Monte-Carlo standard error ``sqrt(p (1 - p) / n)`` of every simulated p-value
of the result (placebo shares, the long-run bootstrap, the permutation p-values of ``--explain``, the
market-learning placebo p, the sales placebo shares).

:func:`verify` re-runs the manifest's command (offline unless asked otherwise) and compares: every data
file must have the recorded hash, and every number of the new result must equal the old one within a
relative 1e-9.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
import re
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from .jsondata import plain

MANIFEST_VERSION = 1
#: How day 0 is chosen (see :func:`incident_impact.calendar.day0`).
DAY0_RULE = "first session at or after the news, local date rule"
#: Distributions whose versions the manifest records (distribution name -> label).
PACKAGES = ("incident-impact", "numpy", "pandas", "scipy", "statsmodels", "exchange_calendars", "plotly", "yfinance")
#: Environment variables that change which data a run reads.
ENVIRONMENT = (
    "INCIDENT_IMPACT_OFFLINE",
    "INCIDENT_IMPACT_DATA_DIR",
    "INCIDENT_IMPACT_CACHE_DIR",
    "INCIDENT_IMPACT_FACTORS",
    "INCIDENT_IMPACT_INCIDENTS",
)
#: Seeds the library uses unless told otherwise (the long-run bootstrap, market learning's placebo draw).
DEFAULT_SEEDS = {"longrun_bootstrap": 0, "market_learning": 0}
#: Relative tolerance of :func:`compare`.
RTOL = 1e-9
#: The id of the ``<script type="application/json">`` block of an HTML report holding
#: ``{"manifest": ..., "result": ...}``.
REPORT_BLOCK_ID = "manifest"
#: Keys of a result that change from run to run by nature (never compared).
VOLATILE = {"manifest", "created_at", "generated_at", "errors", "downloaded_at"}


def package_versions() -> dict[str, str | None]:
    """Versions of Python and of :data:`PACKAGES` (from the installed metadata: nothing is imported)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def file_record(path: str | os.PathLike[str], kind: str, data: bytes | None = None) -> dict:
    """``{"path", "kind", "sha256"}`` of a file (its bytes ``data`` when already read)."""
    raw = Path(path).read_bytes() if data is None else data
    return {"path": str(Path(path).resolve()), "kind": kind, "sha256": hashlib.sha256(raw).hexdigest()}


def record_file(path: str | os.PathLike[str], kind: str, data: bytes | None = None) -> str:
    """Record that the bytes of ``path`` (or ``data``, the bytes parsed) were read as ``kind`` (``"sales"``,
    ``"factors"``, ...), for the manifest of this run; returns their sha256. Sales and factor readers call
    this with the bytes they parse."""
    from .prices.base import record_read

    rec = file_record(path, kind, data)
    record_read(path, rec["sha256"], kind)
    return rec["sha256"]


def files_read() -> list[dict]:
    """Every data file parsed so far in this process (see :func:`incident_impact.prices.base.files_read`)."""
    from .prices.base import files_read as read

    return read()


def forget_reads() -> None:
    from .prices.base import forget_reads as forget

    forget()


# ----------------------------------------------------------------- Monte-Carlo errors
def mc_se(p: float, n: int) -> float | None:
    """``sqrt(p (1 - p) / n)``: the Monte-Carlo standard error of a p-value estimated from ``n`` draws."""
    if p is None or n is None or not isinstance(p, (int, float)) or not math.isfinite(p) or not n or n <= 0:
        return None
    return math.sqrt(max(p * (1 - p), 0.0) / n)


def monte_carlo_errors(result: Any, *, boot: int | None = None) -> list[dict]:
    """The simulated p-values of a JSON-ready ``result`` with their Monte-Carlo standard errors:
    ``{"path", "p", "n", "se"}`` for placebo shares (``share_beyond`` over ``n_placebo``), market
    learning's ``corrected_p_value`` over ``n_placebo``, the long-run bootstrap ``p_bhar_skew_boot``
    (``boot`` resamples), the permutation p-values of ``--explain`` (over ``permutations``; exact
    enumerations have none) and the sales placebos (``share_as_large`` over ``n``)."""
    if boot is None:
        boot = 1000
    out: list[dict] = []

    def add(path: str, p, n) -> None:
        if isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p) and n:
            out.append({"path": path, "p": p, "n": int(n), "se": mc_se(p, int(n))})

    def walk(node, path: str, perms: int | None) -> None:
        if isinstance(node, Mapping):
            if "permutations" in node and isinstance(node.get("permutations"), int) and not node.get("exact"):
                perms = node["permutations"]
            if "share_beyond" in node and "n_placebo" in node:
                add(f"{path}.share_beyond", node["share_beyond"], node["n_placebo"])
            if "corrected_p_value" in node and "n_placebo" in node:
                add(f"{path}.corrected_p_value", node["corrected_p_value"], node["n_placebo"])
            if "share_as_large" in node and "n" in node:
                add(f"{path}.share_as_large", node["share_as_large"], node["n"])
            if "p_bhar_skew_boot" in node:
                add(f"{path}.p_bhar_skew_boot", node["p_bhar_skew_boot"], boot)
            if node.get("test") == "bhar_skew_boot" and "p_value" in node:
                add(f"{path}.p_value", node["p_value"], boot)
            for key, value in node.items():
                if key == "manifest":
                    continue
                if perms and isinstance(key, str) and key.endswith("p_perm"):
                    add(f"{path}.{key}", value, perms)
                walk(value, f"{path}.{key}" if path else str(key), perms)
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]", perms)

    walk(result, "", None)
    return out


# ----------------------------------------------------------------- the manifest
def build_manifest(
    command: str,
    argv: Iterable[str],
    options: Mapping[str, Any],
    *,
    result: Any = None,
    seeds: Mapping[str, Any] | None = None,
    files: Iterable[Mapping] | None = None,
) -> dict:
    """The manifest of a run of ``command`` (see the module docstring).

    Parameters
    ----------
    command : the subcommand (``analyze``, ``study``, ``sales``).
    argv : the arguments after the program name, as typed (``sys.argv[1:]``).
    options : the parsed options (JSON-ready values).
    result : the JSON-ready result, for ``monte_carlo``.
    seeds : the seeds that applied (defaults of the library are added: :data:`DEFAULT_SEEDS`).
    files : the data files read (default: every file parsed in this process, :func:`files_read`).
    """
    return {
        "manifest_version": MANIFEST_VERSION,
        "command": command,
        "argv": list(argv),
        "options": plain(dict(options)),
        "cwd": os.getcwd(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "files": [dict(f) for f in (files_read() if files is None else files)],
        "day0_rule": DAY0_RULE,
        "seeds": {**DEFAULT_SEEDS, **{k: v for k, v in (seeds or {}).items()}},
        "monte_carlo": monte_carlo_errors(plain(result)) if result is not None else [],
        "environment": {k: os.environ[k] for k in ENVIRONMENT if k in os.environ},
    }


def report_block(manifest: Mapping, result: Any) -> dict:
    """The dict an HTML report embeds as ``<script type="application/json" id="manifest">``:
    ``{"manifest": ..., "result": ...}`` (``result`` the command's JSON output without its manifest)."""
    body = {k: v for k, v in dict(result).items() if k != "manifest"} if isinstance(result, Mapping) else result
    return {"manifest": plain(dict(manifest)), "result": plain(body)}


def script_tag(block: Mapping) -> str:
    """``block`` as a ``<script type="application/json" id="manifest">`` element, safe inside HTML
    (``<``, ``>`` and ``&`` escaped as JSON unicode escapes, so no text can close the element)."""
    text = json.dumps(block, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{REPORT_BLOCK_ID}">{text}</script>'


_BLOCK = re.compile(r'<script[^>]*\bid=["\']?' + REPORT_BLOCK_ID + r'["\']?[^>]*>(.*?)</script>', re.S | re.I)


def read_saved(path: str | os.PathLike[str]) -> tuple[dict, Any]:
    """``(manifest, result)`` of a saved JSON result or HTML report.

    Raises :class:`~incident_impact.errors.IncidentImpactError` when the file holds no manifest."""
    from .errors import IncidentImpactError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IncidentImpactError(f"cannot read {path}: {exc}") from None
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            body = json.loads(text)
            if not isinstance(body, dict) or "manifest" not in body:
                raise IncidentImpactError(f"{path} holds no manifest (written by an older version, or not a result)")
            return body["manifest"], {k: v for k, v in body.items() if k != "manifest"}
        found = _BLOCK.search(text)
        if not found:
            raise IncidentImpactError(f'{path} holds no manifest block (<script id="{REPORT_BLOCK_ID}">)')
        block = json.loads(found.group(1))
    except json.JSONDecodeError as exc:
        raise IncidentImpactError(f"{path}: the manifest is not valid JSON ({exc})") from None
    if not isinstance(block, dict) or "manifest" not in block:
        raise IncidentImpactError(f"{path}: the manifest block has no manifest")
    return block["manifest"], block.get("result")


# ----------------------------------------------------------------- checking
def changed_files(manifest: Mapping) -> list[dict]:
    """The recorded files whose bytes now differ (or that are gone): ``{"path", "kind", "expected", "found"}``."""
    out = []
    for rec in manifest.get("files", []):
        path = Path(rec["path"])
        if str(rec["path"]).startswith("<"):
            continue
        try:
            found = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            found = None
        if found != rec.get("sha256"):
            out.append({"path": str(path), "kind": rec.get("kind"), "expected": rec.get("sha256"), "found": found})
    return out


def compare(old: Any, new: Any, path: str = "", rtol: float = RTOL, texts: list[str] | None = None) -> list[str]:
    """Where the numbers of ``new`` differ from those of ``old``: numbers beyond a relative ``rtol``, a
    number against None (an unknown), a missing key or a list of another length; keys of
    :data:`VOLATILE` are skipped. Each difference is ``"<path>: <old> != <new>"``, in document order.
    Differing text (a message naming a download that failed offline) is no difference of the numbers:
    it is appended to ``texts`` when given."""
    diffs: list[str] = []
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in old:
            if key in VOLATILE:
                continue
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                diffs.append(f"{sub}: missing in the rerun")
                continue
            diffs += compare(old[key], new[key], sub, rtol, texts)
        for key in new:
            if key not in old and key not in VOLATILE:
                diffs.append(f"{path}.{key}: new in the rerun" if path else f"{key}: new in the rerun")
        return diffs
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{path}: {len(old)} items != {len(new)} items"]
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            diffs += compare(a, b, f"{path}[{i}]", rtol, texts)
        return diffs
    if _number(old) and _number(new):
        a, b = float(old), float(new)
        if a == b or (math.isnan(a) and math.isnan(b)):
            return []
        if math.isfinite(a) and math.isfinite(b) and abs(a - b) <= rtol * max(abs(a), abs(b)):
            return []
        return [f"{path}: {old!r} != {new!r}"]
    if old == new:
        return []
    if _number(old) or _number(new) or isinstance(old, (Mapping, list)) or isinstance(new, (Mapping, list)):
        return [f"{path}: {_short(old)} != {_short(new)}"]
    if texts is not None:
        texts.append(f"{path}: {_short(old)} != {_short(new)}")
    return []


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def rerun_argv(manifest: Mapping, *, offline: bool = True) -> list[str]:
    """The arguments of the rerun: the recorded ones, ``--format json``, no report, and ``--offline``
    unless ``offline`` is False."""
    argv = list(manifest.get("argv") or [])
    command = manifest.get("command")
    if not argv or argv[0] != command:
        from .errors import IncidentImpactError

        raise IncidentImpactError("the manifest records no command line to rerun")
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--format", "--report"):
            skip = True
            continue
        if arg.startswith(("--format=", "--report=")) or arg in ("--no-report", "--verbose", "-v"):
            continue
        out.append(arg)
    out += ["--format", "json", "--no-report"]
    if offline and command in ("analyze", "study") and "--offline" not in out:
        out.append("--offline")
    return out


def environment_for(manifest: Mapping, *, offline: bool = True) -> dict[str, str]:
    """The environment of the rerun: this one with the recorded data variables (and offline)."""
    env = dict(os.environ)
    for key in ENVIRONMENT:
        env.pop(key, None)
    env.update({k: v for k, v in (manifest.get("environment") or {}).items() if k in ENVIRONMENT})
    if offline:
        env["INCIDENT_IMPACT_OFFLINE"] = "1"
    return env


def verify(path: str | os.PathLike[str], *, offline: bool = True, timeout: float | None = None) -> dict:
    """Re-run the command of the manifest saved in ``path`` (a JSON result or an HTML report) and compare.

    Returns ``{"ok", "reason", "changed_files", "differences", "argv", "compared"}``: ``ok`` is True
    when every recorded data file has its recorded sha256 and every number of the rerun's JSON equals
    the saved one within a relative :data:`RTOL`; ``reason`` names the first changed file or number.
    The rerun runs in a fresh process, in the recorded working folder, offline unless ``offline`` is False.
    """
    import subprocess

    manifest, saved = read_saved(path)
    argv = rerun_argv(manifest, offline=offline)
    changed = changed_files(manifest)
    report = {
        "ok": False,
        "reason": "",
        "changed_files": changed,
        "differences": [],
        "text_differences": [],
        "argv": argv,
        "compared": 0,
    }
    if changed:
        first = changed[0]
        what = (
            "is gone"
            if first["found"] is None
            else f"changed (sha256 {first['expected'][:12]}... -> {first['found'][:12]}...)"
        )
        report["reason"] = f"data file {first['path']} {what}"
        return report
    cwd = manifest.get("cwd") if manifest.get("cwd") and Path(manifest["cwd"]).is_dir() else None
    code = "import sys; from incident_impact.cli import cli; cli(sys.argv[1:], prog_name='incident-impact')"
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment_for(manifest, offline=offline),
        timeout=timeout,
    )
    try:
        new = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        report["reason"] = f"the rerun failed (exit status {proc.returncode}): {tail}"
        return report
    if (
        isinstance(new, dict)
        and "error" in new
        and "exit_status" in new
        and not (isinstance(saved, dict) and "error" in saved)
    ):
        report["reason"] = f"the rerun failed: {new['error']}"
        return report
    new_manifest = new.pop("manifest", None) if isinstance(new, dict) else None
    if new_manifest:
        moved = _files_differing(manifest.get("files", []), new_manifest.get("files", []))
        if moved:
            report["changed_files"] = moved
            report["reason"] = f"data file {moved[0]['path']} {moved[0]['what']}"
            return report
    texts: list[str] = []
    diffs = compare(saved, new, texts=texts)
    report["differences"] = diffs
    report["text_differences"] = texts
    report["compared"] = _count_numbers(saved)
    if diffs:
        report["reason"] = f"{len(diffs)} difference(s); first: {diffs[0]}"
        return report
    report["ok"] = True
    return report


def _files_differing(old: list[Mapping], new: list[Mapping]) -> list[dict]:
    """Files the rerun read with other bytes than the original run (or did not read, or read besides)."""
    before = {f["path"]: f.get("sha256") for f in old}
    after = {f["path"]: f.get("sha256") for f in new}
    out = []
    for path, sha in before.items():
        if path not in after:
            out.append({"path": path, "what": "was not read by the rerun"})
        elif after[path] != sha:
            out.append({"path": path, "what": "was read with other bytes by the rerun"})
    for path in after:
        if path not in before:
            out.append({"path": path, "what": "was read by the rerun only (another source served the prices)"})
    return out


def _count_numbers(node) -> int:
    if isinstance(node, Mapping):
        return sum(_count_numbers(v) for k, v in node.items() if k not in VOLATILE)
    if isinstance(node, list):
        return sum(_count_numbers(v) for v in node)
    return int(_number(node))
