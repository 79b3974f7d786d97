"""Helpers shared by the ``kbtriage`` command modules: the runtime a command works on, and the
translation of kb-triage's errors into click's error output.

Command modules import these from here, never from ``cli.main``, which imports them in turn."""
from __future__ import annotations

import click

from common import config
from common.errors import KBTriageError


def open_runtime():
    from application.runtime import Runtime

    rt = Runtime(config.load()).start()
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(rt.close)
    return rt


def fail(exc: KBTriageError):
    field = f" [{exc.field}]" if exc.field else ""
    raise click.ClickException(f"{exc.message}{field}")
