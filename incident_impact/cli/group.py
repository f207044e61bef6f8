"""The click group every command registers on; library errors become one line on stderr."""

from __future__ import annotations

import warnings

import click

from ..errors import IncidentImpactError
from .common import ARGV_KEY, FORMAT_KEY, JSON_WRITTEN_KEY, dumps, note, terminal_safe

#: Exit status of a batch command when some, but not all, items failed.
PARTIAL_FAILURE = 3


class _Group(click.Group):
    """Turns library errors into one line on stderr and exit status 1 (no traceback); with
    ``--format json`` the error is also written to stdout as ``{"error", "error_type", "exit_status"}``
    (unless the result already went there: stdout holds one JSON document). Python warnings become one
    ``warning:`` line each; numerical RuntimeWarnings (numpy's "divide by zero") only with ``--debug``."""

    def make_context(self, info_name, args, parent=None, **extra):
        """The context, remembering the command line as typed (for the manifest of JSON outputs and reports)."""
        typed = list(args)
        ctx = super().make_context(info_name, args, parent=parent, **extra)
        ctx.meta[ARGV_KEY] = [a for a in typed if a != "--debug"]
        return ctx

    def invoke(self, ctx: click.Context):
        with warnings.catch_warnings():
            if not ctx.params.get("debug"):  # the group's options are read; ctx.obj is set later
                warnings.showwarning = _show_warning
                warnings.simplefilter("ignore", RuntimeWarning)
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except IncidentImpactError as exc:
            _json_error(ctx, str(exc), type(exc).__name__)
            raise click.ClickException(terminal_safe(str(exc))) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: still one line, with a way to see more
            if ctx.obj and ctx.obj.get("debug"):
                raise
            message = (
                f"internal error: {type(exc).__name__}: {exc} "
                "(rerun with --debug for the traceback and please report it)"
            )
            _json_error(ctx, message, "InternalError")
            raise click.ClickException(terminal_safe(message)) from None


def _json_error(ctx: click.Context, message: str, kind: str) -> None:
    if ctx.meta.get(FORMAT_KEY) == "json" and not ctx.meta.get(JSON_WRITTEN_KEY):
        click.echo(dumps({"error": message, "error_type": kind, "exit_status": 1}))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A Python warning as one line on stderr (no file name, no source line)."""
    note(f"warning: {message}")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="incident-impact", prog_name="incident-impact")  # looked up on --version only
@click.option("--debug", is_flag=True, help="Show Python tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Did a social-media disaster move the company's stock? Event studies on a catalog of real incidents."""
    ctx.obj = {"debug": debug}
