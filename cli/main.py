"""The ``kbtriage`` command line: load data, train, triage files, run the service.

This module is the entry point (the console script ``kbtriage = "cli.main:main"``): the click
group ``main`` and the registration of the commands, which live in modules by area:

- ``cli.data``: import-articles, import-tickets, init-demo, reindex, erase-tickets
- ``cli.training``: train, worker
- ``cli.triage_file``: triage
- ``cli.reports``: gaps, surges, article-report, triage-report
- ``cli.admin``: the api-key and routing groups
- ``cli.serve``: serve

They share ``cli.common`` (the runtime, error output) and ``cli.formatting`` (what the reports
print); none imports this module. Heavy imports stay inside the command functions, so that the
command line starts fast."""
from __future__ import annotations

import click
from sqlalchemy import exc as sqlalchemy_exc

from cli import admin, backup, data, priority, reports, serve, sla, training, triage_file
from cli.common import fail
from common.errors import KBTriageError


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KBTriageError as exc:
            fail(exc)
        except (sqlalchemy_exc.OperationalError, sqlalchemy_exc.InterfaceError) as exc:
            # The database is away or refuses us: one line, not a traceback.
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise click.ClickException(f"the database does not answer: {reason} [DATABASE_URL]") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kb-triage")
def main():
    """kb-triage: knowledge-base assisted ticket triage.

    Settings come from the environment: KBTRIAGE_HOME (data directory, default ~/.kbtriage),
    DATABASE_URL (default: SQLite in the data directory), KBTRIAGE_ENCODER (a sentence-transformers
    model path or name; default: the packaged all-MiniLM-L6-v2).
    """


for _command in (
    data.import_articles, data.import_tickets, data.init_demo, data.reindex, data.erase_tickets,
    training.train, training.worker,
    triage_file.triage_cmd,
    reports.gaps, reports.surges, reports.article_report, reports.triage_report_cmd,
    admin.api_key, admin.routing, sla.sla, sla.queue, priority.priority,
    serve.serve,
    backup.backup, backup.restore,
):
    main.add_command(_command)
del _command


if __name__ == "__main__":  # pragma: no cover
    main()
