"""Shared pieces of the command line: error handling, output formats and options used by several commands."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

import click

from ..eventstudy.models import MODELS
from ..eventstudy.windows import DEFAULT_ESTIMATION, MIN_ESTIMATION_OBS, format_window
from ..jsondata import plain

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

#: Key of ``ctx.meta`` holding the output format, so errors can be reported as JSON too.
FORMAT_KEY = "incident_impact.format"
#: Key of ``ctx.meta`` set once a JSON document went to stdout (an error after it must not add a second one).
JSON_WRITTEN_KEY = "incident_impact.json_written"
#: Key of ``ctx.meta`` holding the command line as typed (program name left out), for the manifest.
ARGV_KEY = "incident_impact.argv"


def format_option(*choices: str, help: str | None = None):
    """``--format`` with these choices (default ``table``); the choice is remembered for error output."""

    def remember(ctx: click.Context, param: click.Parameter, value: str) -> str:
        ctx.meta[FORMAT_KEY] = value
        return value

    return click.option(
        "--format", "fmt", type=click.Choice(choices), default="table", show_default=True, callback=remember, help=help
    )


# ----------------------------------------------------------------- the terminal
#: C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every character that could steer a terminal written out visibly (``\\x1b``, ``\\u202e``).

    An escape sequence loses its ESC and shows as text, so a file cannot set the title, clear the
    screen, write the clipboard (OSC 52) or move the cursor over a printed verdict, and bidi
    overrides cannot reorder what is shown. Newlines and tabs stay. JSON needs none of this:
    ``json.dumps`` escapes the same characters itself.
    """
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` through :func:`terminal_safe`: every command writes to the terminal through this."""
    click.echo(terminal_safe(str(message)), err=err, nl=nl)


def note(message: str) -> None:
    """A message for the user on stderr (stdout carries only data)."""
    echo(message, err=True)


# ----------------------------------------------------------------- JSON
def dumps(data) -> str:
    """Standard JSON (never ``NaN`` or ``Infinity``, which strict parsers refuse): see :func:`plain`."""
    return json.dumps(plain(data), indent=2, allow_nan=False)


def emit_json(data, errors: Iterable[Exception] = ()) -> None:
    """Write ``data`` as the one JSON document of stdout; ``errors`` (outputs that could not be written,
    e.g. the report) are added as ``"errors": [{"error", "error_type"}]``."""
    listed = [{"error": str(e), "error_type": type(e).__name__} for e in errors]
    if listed:
        data = {**data, "errors": listed}
    echo(dumps(data))
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[JSON_WRITTEN_KEY] = True


# ----------------------------------------------------------------- outputs that may fail
def attempt(errors: list, write, *args, **kwargs):
    """``write(*args, **kwargs)``; a library error (e.g. a report that cannot be written) is appended
    to ``errors`` and None returned, so the result is still printed (see :func:`fail_on`)."""
    from ..errors import IncidentImpactError

    try:
        return write(*args, **kwargs)
    except IncidentImpactError as exc:
        errors.append(exc)
        return None


def fail_on(errors: list) -> None:
    """After the output: each error as one line on stderr, then exit status 1."""
    for exc in errors:
        note(f"Error: {exc}")
    if errors:
        raise click.exceptions.Exit(1)


def load_catalog(incidents: str | None, timelines: str | None):
    """The bundled catalog, merged with the user's incident file when given."""
    from ..catalog import load_catalog as read_catalog

    if timelines and not incidents:
        raise click.UsageError("--timelines needs --incidents: it holds the timelines of the incidents in that file")
    catalog = read_catalog()
    if incidents:
        catalog = catalog.merged(read_catalog(incidents, timelines))
    return catalog


def emit_rows(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in r.items()} for r in rows)
        echo(buf.getvalue(), nl=False)
    else:
        echo(table(rows))


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value):
    """A CSV cell a spreadsheet will not run: text starting with ``=``, ``+``, ``-``, ``@``, tab or
    carriage return gets a leading ``'`` (OWASP's advice), unless it is a plain number such as ``-2.5``."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    text = [[("" if r[c] is None else str(r[c])) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in text)) for i, c in enumerate(cols)]
    line = lambda cells: "  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths])] + [line(t) for t in text])


incidents_option = click.option(
    "--incidents",
    type=click.Path(exists=True, dir_okay=False),
    envvar="INCIDENT_IMPACT_INCIDENTS",
    help="A CSV of your own incidents (schema in datasets/README.md), added to the catalog.",
)
timelines_option = click.option(
    "--timelines", type=click.Path(exists=True, dir_okay=False), help="Timeline CSV for --incidents."
)


estimation_option = click.option(
    "--estimation",
    default=format_window(DEFAULT_ESTIMATION).strip("[]"),
    show_default=True,
    help="Estimation window in relative sessions.",
)


def _check_min_estimation(ctx: click.Context, param: click.Parameter, value):
    """``--min-estimation`` must leave the model at least one degree of freedom (a usage error, not a
    division by zero). Checked by whichever of ``--model`` and ``--min-estimation`` is read second."""
    ctx.params[param.name] = value
    model, least = ctx.params.get("model"), ctx.params.get("min_estimation")
    if model is not None and least is not None:
        params = MODELS[model].param_names
        needed = len(params) + 1 if params else 2
        if least < needed:
            raise click.BadParameter(
                f"{least} is too few for the {model} model ({len(params)} parameter(s)): at least {needed} estimation "
                "returns are needed to estimate the residual variance",
                ctx=ctx,
                param_hint="'--min-estimation'",
            )
    return value


min_estimation_option = click.option(
    "--min-estimation",
    default=MIN_ESTIMATION_OBS,
    show_default=True,
    type=int,
    callback=_check_min_estimation,
    help="Fewest estimation returns accepted (at least the model's parameters + 1).",
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="INCIDENT_IMPACT_DATA_DIR",
    show_envvar=True,
    help="Folder of TICKER.csv price files, used before the cache, the bundled sample and Yahoo.",
)
offline_option = click.option(
    "--offline", is_flag=True, envvar="INCIDENT_IMPACT_OFFLINE", help="Never download; use local data only."
)


#: Names Windows keeps for devices, with any extension.
_WINDOWS_DEVICES = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?", re.IGNORECASE)
#: The tail :func:`safe_stem` adds: an id that ends like this is hashed too, so no two stems meet.
_HASHED = re.compile(r"-[0-9a-f]{8}$")


def safe_stem(text: str, reserved: frozenset[str] | set[str] = frozenset()) -> str:
    """A file name stem for an id that cannot leave its folder (``[a-z0-9._-]``, no leading dot,
    at most 120 characters). An id that had to change (other characters, upper case, a Windows
    device name), that already ends like a hashed stem (``-`` and 8 hex digits), or whose stem is
    ``reserved`` (compared ignoring case) gets ``-`` and 8 hex digits of its sha256. So an unchanged
    id never meets a hashed one, and ids differing only in case never share a file, even on a file
    system that ignores case (macOS, Windows)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")[:120].lower() or "incident"
    if (
        stem != text
        or _HASHED.search(stem)
        or _WINDOWS_DEVICES.fullmatch(stem)
        or stem.casefold() in {r.casefold() for r in reserved}
    ):
        stem = f"{stem[:111].rstrip('.-')}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return stem


def report_stems(ids: Iterable[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """A distinct :func:`safe_stem` for each id, distinct ignoring case from each other and from
    ``reserved``; should two hashes ever meet, the later id gets more digits of its hash."""
    reserved = {r.casefold() for r in reserved}
    taken, stems = set(reserved), {}
    for text in dict.fromkeys(ids):
        stem = safe_stem(text, reserved=reserved)
        digest = hashlib.sha256(text.encode()).hexdigest()
        digits = 8
        while stem.casefold() in taken:
            digits += 8
            stem = f"{safe_stem(text, reserved=reserved)[:111]}-{digest[:digits]}"
        taken.add(stem.casefold())
        stems[text] = stem
    return stems


def num(value):
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 10)
    return value


model_option = click.option(
    "--model",
    type=click.Choice(list(MODELS)),
    default="market",
    show_default=True,
    callback=_check_min_estimation,
    help="Normal-return model; ff3, carhart and ff5 need --factors; garch and egarch (arch package) need at least "
    "100 estimation returns; scholes-williams and dimson for thinly traded listings.",
)


class FiniteFloatRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan``, ``inf`` and numbers that overflow to them."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


factors_option = click.option(
    "--factors",
    "factors_file",
    type=click.Path(exists=True, dir_okay=False),
    envvar="INCIDENT_IMPACT_FACTORS",
    help="Daily factor CSV in percent (Kenneth French's: date, mkt_rf, smb, hml, rmw, cma, mom, rf).",
)
bound_option = click.option(
    "--bound",
    default=2.0,
    show_default=True,
    type=FiniteFloatRange(min=0, min_open=True),
    help="Materiality bound in percent: the equivalence test asks whether |CAR| < bound.",
)


def read_factors(path: str | None):
    """The factor table of ``--factors``, or None (the file's sha256 goes into the manifest)."""
    if not path:
        return None
    from ..eventstudy import read_french_factors
    from ..manifest import record_file

    try:
        record_file(path, "factors")
    except OSError:
        pass  # read_french_factors says what is wrong with the file
    return read_french_factors(path)


# ----------------------------------------------------------------- reproducibility and progress
verbose_option = click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Show the full text of each failure (e.g. the network error), not one short line per ticker.",
)


def start_run() -> None:
    """A command that reads data starts a new record of the files it reads (for its manifest)."""
    from ..manifest import forget_reads
    from ..prices.resolve import forget_download_errors

    forget_reads()
    forget_download_errors()


def report_download_errors(verbose: bool, skip: Iterable[str] = ()) -> None:
    """One line per ticker whose download failed (``KDP: download failed (network unreachable)``), or one
    line per cause naming the tickers when more than five failed; with ``verbose`` each ticker's full
    error text instead. Tickers in ``skip`` (already named by a failure line) are left out unless ``verbose``."""
    from ..prices.resolve import download_errors

    skip = set(skip)
    failed = {t: v for t, v in download_errors().items() if verbose or t not in skip}
    if verbose or len(failed) <= 5:
        for ticker, (short, full) in failed.items():
            note(f"{ticker}: {full}" if verbose else f"{ticker}: download failed ({short})")
        return
    by_cause: dict[str, list[str]] = {}
    for ticker, (short, _) in failed.items():
        by_cause.setdefault(short, []).append(ticker)
    for cause, tickers in by_cause.items():  # many tickers: one line per cause
        note(f"download failed ({cause}) for {len(tickers)} ticker(s): {', '.join(tickers)} (--verbose for the errors)")


def run_manifest(result=None, *, seeds: dict | None = None) -> dict:
    """The manifest of the running command (:func:`incident_impact.manifest.build_manifest`): its
    command line as typed, its options as parsed, the files read, the seeds and the Monte-Carlo errors
    of ``result`` (the JSON-ready body)."""
    from ..manifest import build_manifest

    ctx = click.get_current_context()
    argv = ctx.meta.get(ARGV_KEY)
    if argv is None:
        argv = [ctx.info_name]
    command = cast(str, ctx.info_name)  # a running command always has its name
    return build_manifest(command, argv, dict(ctx.params), result=result, seeds=seeds)


def with_manifest(body: dict, *, seeds: dict | None = None) -> dict:
    """``body`` (a JSON-ready result) with its ``manifest`` added."""
    body = plain(body)
    return {**body, "manifest": run_manifest(body, seeds=seeds)}


def call_with_manifest(write, *args, block: dict | None = None, **kwargs):
    """``write(*args, **kwargs)`` passing ``manifest=block`` (the dict a report embeds as
    ``<script type="application/json" id="manifest">``) when the writer accepts it."""
    import inspect

    if block is not None:
        try:
            accepts = "manifest" in inspect.signature(write).parameters
        except (TypeError, ValueError):
            accepts = False
        if accepts:
            kwargs["manifest"] = block
    return write(*args, **kwargs)


def show_progress(fmt: str | None = None) -> bool:
    """Whether a progress bar goes to stderr: only when stderr is a terminal, never with ``--format json``."""
    import sys

    if fmt == "json":
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A ``click.progressbar`` on stderr when :func:`show_progress`, else nothing; ``step(label)`` moves it."""

    def __init__(self, length: int, label: str, fmt: str | None = None) -> None:
        import sys

        # its items are the labels shown (str); click types a bar built from a length as ProgressBar[int]
        self._bar: ProgressBar[Any] | None = None
        if length > 0 and show_progress(fmt):
            self._bar = click.progressbar(
                length=length,
                label=label,
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda item: terminal_safe(item) if item else None,
            )

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def step(self, item: str | None = None) -> None:
        if self._bar is not None:
            self._bar.update(1, item)


def failure_line(row: Mapping, verbose: bool) -> str:
    """One line for a failure row (``event_id, ticker, reason, detail``): the short reason, or with
    ``verbose`` the full text (e.g. the network error)."""
    reason = str((row.get("detail") if verbose else None) or row.get("reason") or "")
    eid = row.get("event_id", "")
    if not verbose:
        reason = short_reason(reason, row.get("ticker") or "")
    return reason if reason.startswith(f"{eid}:") else f"{eid}: {reason}"


_NO_PRICES = re.compile(r"^no prices for (?P<ticker>\S+?): (?P<tried>.*)$", re.S)


def short_reason(reason: str, ticker: str = "") -> str:
    """A failure reason in one short line: ``KDP: no prices (network unreachable)`` for "no prices for
    KDP: data dir ... has no KDP.csv; ...; Yahoo Finance download failed (network unreachable). Use ...";
    any other reason unchanged."""
    found = _NO_PRICES.match(reason)
    if not found:
        return reason
    tried = found["tried"]
    if "network unreachable" in tried or "no network?" in tried:
        cause = "network unreachable"
    elif "rate-limited" in tried:
        cause = "rate-limited"
    elif "downloads are off" in tried or "no download (" in tried:
        cause = "not in the local data; downloads off"
    elif "download failed" in tried:
        cause = "download failed"
    else:
        cause = "not in the local data"
    return f"{found['ticker']}: no prices ({cause})"


no_peers_option = click.option("--no-peers", is_flag=True, help="Skip the peers' event studies (spillover).")
no_robustness_option = click.option("--no-robustness", is_flag=True, help="Skip the robustness table across models.")


def _parse_headline(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--headline S,E`` as a window (a usage error, exit 2, when malformed); default [0,+1]."""
    from ..errors import IncidentImpactError
    from ..eventstudy import parse_window
    from ..verdict import HEADLINE_WINDOW

    if value is None:
        return HEADLINE_WINDOW
    try:
        return parse_window(value)
    except IncidentImpactError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


headline_option = click.option(
    "--headline",
    callback=_parse_headline,
    metavar="S,E",
    help="The window of the headline verdict and plain-words answer (default 0,1: day 0 and day +1); "
    "added to the windows when missing.",
)


def check_headline(headline, estimation: str) -> None:
    """A usage error (exit 2) when the headline window overlaps the estimation window."""
    from ..errors import IncidentImpactError
    from ..eventstudy import format_window, parse_window

    try:
        est = parse_window(estimation)
    except IncidentImpactError as exc:
        raise click.BadParameter(str(exc), param_hint="'--estimation'") from None
    if est[0] <= headline[1] and headline[0] <= est[1]:
        raise click.BadParameter(
            f"the headline window {format_window(headline)} overlaps the estimation window {format_window(est)}",
            param_hint="'--headline'",
        )


def with_headline(headline, windows: tuple) -> tuple:
    """``windows`` with the headline window first, each window once."""
    return tuple(dict.fromkeys((headline, *windows)))


outcome_option = click.option(
    "--outcome",
    type=click.Choice(["returns", "volume", "volatility"]),
    default="returns",
    show_default=True,
    help="Also study abnormal trading volume (Campbell & Wasley 1996; needs a volume column) or abnormal return "
    "volatility (event-window variance against the model's); the verdicts stay on returns.",
)


def _check_export(ctx: click.Context, param: click.Parameter, value):
    """``--export FILE``: the suffix must be .csv, .xlsx or .tex (a usage error otherwise)."""
    if value is None:
        return None
    from ..errors import IncidentImpactError
    from ..export import export_format

    try:
        export_format(value)
    except IncidentImpactError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


export_option = click.option(
    "--export",
    "export_path",
    callback=_check_export,
    metavar="FILE",
    help="Also write the tables the terminal shows to FILE: .csv, .xlsx (one sheet per table) or .tex (LaTeX).",
)
