"""What every report page shares: number formatting, the Jinja2 environment, plotly.js (inlined
or one shared file) and the safe, atomic file writing. The incident, study and sales pages
(:mod:`.render`, :mod:`.sales`) build on it.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import sys
import time
import urllib.parse
from contextlib import suppress
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import plotly.offline
from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..errors import ReportError
from . import figures

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
#: The name of the shared plotly.js file (``plotlyjs="directory"``).
PLOTLY_FILE = "plotly.min.js"


# ----------------------------------------------------------------- formatting
#: What a report shows for a number that is missing (None or NaN).
MISSING = "—"


def _missing(value) -> bool:
    return value is None or value != value


def pct(value: float | None, digits: int = 2, signed: bool = True) -> str:
    """A fraction as percent: ``-0.0123`` -> ``"-1.23 %"`` (a dash when missing)."""
    return MISSING if value is None or _missing(value) else f"{100 * value:{'+' if signed else ''}.{digits}f} %"


def pp(value: float | None, digits: int = 2, signed: bool = True) -> str:
    """A fraction as percentage points: ``-0.0123`` -> ``"-1.23 pp"`` (a dash when missing)."""
    return MISSING if value is None or _missing(value) else f"{100 * value:{'+' if signed else ''}.{digits}f} pp"


def pct2(value: float | None, digits: int = 2) -> str:
    """A variance of fractions in squared percent: ``0.0004`` -> ``"4.00 %²"`` (a dash when missing)."""
    return MISSING if value is None or _missing(value) else f"{1e4 * value:.{digits}f} %²"


def num(value: float | None, digits: int = 3) -> str:
    return MISSING if value is None or _missing(value) else f"{value:.{digits}f}"


def pvalue(value: float | None) -> str:
    return MISSING if value is None or _missing(value) else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def upfirst(value: object) -> str:
    """``value`` with its first letter in upper case (Jinja's ``capitalize`` lowers the rest: CAR -> Car)."""
    text = str(value)
    return text[:1].upper() + text[1:]


def http_url(value: object) -> str | None:
    """``value`` stripped when it is an http(s) URL, else None (so it is shown as text, not linked)."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else None


def tool_version() -> str:
    try:
        return version("incident-impact")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _template_cache() -> FileSystemBytecodeCache | None:
    """Compiled templates kept in the cache folder (``templates/`` in ``$INCIDENT_IMPACT_CACHE_DIR``, else
    in the user's cache folder): compiling the report's templates takes a tenth of a second, a third of
    the report's own work. Jinja2 checks every cached template against its source (and Python version)
    and recompiles on any change; a folder that cannot be written only costs the compilation."""
    from ..prices.cache import CACHE_DIR_ENV

    root = os.environ.get(CACHE_DIR_ENV)
    if root:
        folder = Path(root) / "templates"
    else:
        import platformdirs

        folder = Path(platformdirs.user_cache_dir("incident-impact")) / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment: package templates, autoescape for ``.html`` and ``.j2``, strict undefined,
    compiled templates cached on disk (:func:`_template_cache`)."""
    env = Environment(
        loader=PackageLoader("incident_impact.report", "templates"),
        bytecode_cache=_template_cache(),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=pct, pp=pp, pct2=pct2, num=num, pvalue=pvalue, http_url=http_url, upfirst=upfirst)
    return env


@lru_cache(maxsize=1)
def plotly_js() -> Markup:
    """plotly.min.js bundled with plotly.py (about 4.8 MB)."""
    return Markup(plotly.offline.get_plotlyjs())


def figure_html(fig, div_id: str) -> Markup:
    """A plotly figure as an HTML ``<div>`` (plotly.js itself comes once per page)."""
    return Markup(figures.figure_html(fig, div_id, PLOTLY_CONFIG))


#: Shared plotly.js files this process wrote or checked: path -> (mtime_ns, size) at that time.
_PLOTLY_WRITTEN: dict[str, tuple[int, int]] = {}


def write_plotlyjs(path: str | os.PathLike[str]) -> Path:
    """Write the plotly.min.js bundled with plotly.py to ``path`` (atomically, never from the network)
    unless the file there already holds exactly it; return the path."""
    path = Path(path)
    text = plotly_js()
    key = os.path.abspath(path)
    with suppress(OSError):
        info = os.stat(path)
        if _PLOTLY_WRITTEN.get(key) == (info.st_mtime_ns, info.st_size):
            return path
        if info.st_size == len(text.encode("utf-8")) and path.read_text(encoding="utf-8") == text:
            _PLOTLY_WRITTEN[key] = (info.st_mtime_ns, info.st_size)
            return path
    write_html(str(text), path)
    with suppress(OSError):
        info = os.stat(path)
        _PLOTLY_WRITTEN[key] = (info.st_mtime_ns, info.st_size)
    return path


def shared_plotlyjs(report: str | os.PathLike[str], plotlyjs: str | os.PathLike[str] = "inline") -> str | None:
    """The relative URL by which the report at ``report`` loads a shared plotly.js, after writing that
    file; None to inline plotly.js.

    ``plotlyjs`` is ``"inline"`` (None), ``"directory"`` (``plotly.min.js`` beside the report, as
    plotly's ``include_plotlyjs="directory"``) or the path of the shared file (e.g. the study's
    ``plotly.min.js`` for the reports in ``<stem>-incidents/``: ``"../plotly.min.js"``). A report
    that is not written as a regular file (standard output, a FIFO) inlines plotly.js.
    """
    if isinstance(plotlyjs, str) and plotlyjs == "inline":
        return None
    report = Path(report)
    try:
        through, _ = _target(report)
    except OSError:
        return None  # write_html refuses the target and says why
    if through:
        return None
    # relative to the folder the caller named (a browser resolves the URL against the link, not its target)
    js = report.parent / PLOTLY_FILE if isinstance(plotlyjs, str) and plotlyjs == "directory" else Path(plotlyjs)
    try:
        relative = os.path.relpath(os.path.abspath(js), os.path.abspath(report.parent))
    except ValueError:  # another drive (Windows)
        return None
    write_plotlyjs(js)
    return urllib.parse.quote(Path(relative).as_posix())


#: A killed writer's temporary file (``.<name>.<8 hex>.tmp``) older than this many seconds is removed
#: by the next report written into its folder.
STALE_TEMP_AGE = 3600
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")
#: Linux character-device majors of terminals (tty, console and /dev/tty, pseudo-terminals).
_TTY_MAJORS = frozenset({4, 5, *range(136, 144)})


def write_html(html: str, path: str | os.PathLike[str]) -> Path:
    """Write ``html`` to ``path`` atomically; return the path.

    Parent folders are created. The HTML goes to a temporary file in the same folder that
    replaces ``path`` only once complete, so a failure leaves any earlier report untouched
    and no temporary file behind; temporary files that killed writers left in the folder
    more than :data:`STALE_TEMP_AGE` seconds ago are removed. A symbolic link to a file is
    followed (the file is replaced, the link kept). A target that is not a regular file is
    never replaced: a FIFO, the null device, a terminal or the process's own stdout/stderr
    are written through; a folder, any other device or a socket is refused.
    """
    path = Path(path)
    try:
        through, target = _target(path)
        if through:
            _write_through(html, path)
            return path
    except OSError as exc:
        raise _report_error(path, exc) from exc
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(target.parent)
        with open(tmp, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a folder that is a file, no permission, a full disk: the user's to fix
            raise _report_error(path, exc) from exc
        raise
    return path


def _report_error(path: Path, exc: OSError) -> ReportError:
    where = f" ({exc.filename})" if exc.filename else ""
    return ReportError(f"cannot write the report {path}: {exc.strerror or exc}{where}")


def _refuse(path: Path, what: str) -> OSError:
    return OSError(errno.EEXIST, f"it exists and is {what}; refusing to replace it (give another --report path)")


def _target(path: Path) -> tuple[bool, Path]:
    """``(write through, file to replace)`` for ``path``; raises OSError for a target to refuse."""
    try:
        info = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        if os.path.islink(path):
            raise _refuse(path, f"a broken symbolic link (to {os.readlink(path)})") from None
        return False, path
    except OSError:  # e.g. a parent that is a file: the write below says so
        return False, path
    if stat.S_ISREG(info.st_mode):
        if not os.path.islink(path):
            return False, path
        via_proc = os.readlink(path).startswith("/proc/") or os.path.realpath(path.parent).startswith("/proc/")
        return (True, path) if via_proc else (False, Path(os.path.realpath(path)))  # /dev/stdout into a file
    if stat.S_ISFIFO(info.st_mode):
        return True, path
    if stat.S_ISCHR(info.st_mode) and _is_sink(info):
        return True, path
    if stat.S_ISDIR(info.st_mode):
        raise _refuse(path, "a folder")
    raise _refuse(path, "not a regular file (a device or a socket)")


def _is_sink(info: os.stat_result) -> bool:
    """Whether a character device may take a report: the null device, a terminal, or one of the
    process's own standard streams. Any other device (``/dev/mem``, a watchdog) is not even opened."""
    if info.st_rdev == os.stat(os.devnull).st_rdev:
        return True
    for fd in (0, 1, 2):
        with suppress(OSError):
            if os.path.samestat(info, os.fstat(fd)):
                return True
    return sys.platform.startswith("linux") and os.major(info.st_rdev) in _TTY_MAJORS


def _write_through(html: str, path: Path) -> None:
    """Write into an existing FIFO, device or (via ``/proc``) file without replacing it."""
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        with suppress(OSError, ValueError):
            if stream.fileno() == fd and os.path.samestat(
                os.stat(path), os.fstat(fd)
            ):  # /dev/stdout: keep its position
                stream.flush()
                stream.buffer.write(html.encode("utf-8"))
                stream.flush()
                return
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | (os.O_TRUNC if stat.S_ISREG(os.stat(path).st_mode) else 0)
    with os.fdopen(os.open(path, flags), "w", encoding="utf-8", newline="\n") as fh:
        fh.write(html)


def _remove_stale_temps(folder: Path) -> None:
    """Remove temporary report files of killed writers (older than :data:`STALE_TEMP_AGE`) in ``folder``."""
    cutoff = time.time() - STALE_TEMP_AGE
    with suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with suppress(OSError):
                if (
                    _TEMP_NAME.fullmatch(entry.name)
                    and entry.is_file(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_mtime < cutoff
                ):
                    os.unlink(entry.path)


# ----------------------------------------------------------------- study context
