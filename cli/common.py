"""Helpers shared by the ``kbtriage`` command modules: the runtime a command works on, the
translation of kb-triage's errors into click's error output, and the notes a command prints.

Command modules import these from here, never from ``cli.main``, which imports them in turn."""
from __future__ import annotations

import re

import click

from common import config
from common.errors import KBTriageError
from common.files import BadFile

# The exit status of a command refused for bad input (a file that cannot be read as what it should
# be, an output path that cannot be written), as click gives to a bad option: 1 is any other error.
BAD_INPUT = 2

# What the file-reading commands' --help says about their input (docs/cli.md#input-files has more).
CSV_INPUT = ("CSV has a header line naming the columns and is separated by ',', ';' or tab, as the header "
             "line shows; a value holding the separator or a line break is in double quotes. Text is UTF-8 "
             "(a byte-order mark is fine) or Windows-1252 as Excel saves it, which is said on standard error.")
BAD_INPUT_HELP = ("A bad file (ragged CSV rows, a line that is not JSON, a missing column, no rows) is refused "
                  "before anything is done, naming the file and the line, with exit status 2.")


def open_runtime():
    from application.runtime import Runtime

    rt = Runtime(config.load()).start()
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(rt.close)
    return rt


def fail(exc: KBTriageError):
    """Raise click's error for ``exc``: one line on standard error (what went wrong, and the option or
    field), exit status 2 for a bad file (:data:`BAD_INPUT`), 1 otherwise."""
    field = f" [{exc.field}]" if exc.field else ""
    error = click.ClickException(re.sub(r"\s*[\r\n]+\s*", " ", f"{exc.message}{field}"))
    if isinstance(exc, BadFile):
        error.exit_code = BAD_INPUT
    raise error


def note(message: str) -> None:
    """A note for the person at the terminal (how a file was read), on standard error."""
    click.echo(message, err=True)
