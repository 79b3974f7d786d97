"""``kbtriage`` reports: content gaps, surges under way, how each article performs as a
suggestion, and how triage did in production. Each builds its report, writes it whole as JSON
with --out, and prints a summary (the printing is in ``cli.formatting``)."""
from __future__ import annotations

import click

from cli.common import open_runtime
from cli.formatting import (
    echo_article_report,
    echo_gaps,
    echo_surges,
    echo_triage_report,
    write_json,
)


@click.command()
@click.option("--since", type=click.DateTime(), default=None, help="Only tickets created on or after this date.")
@click.option("--min-size", type=click.IntRange(1, 1000), default=3, show_default=True,
              help="Smallest cluster worth reporting.")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the full report as JSON here; a summary is printed either way.")
def gaps(since, min_size, limit, out_path):
    """Content gaps for KB editors: clusters of tickets that no article answers (flagged as gaps,
    suggestion rejected, or escalated without an article), biggest and most recent first."""
    from datetime import timezone

    from application.gaps import report

    rt = open_runtime()
    with rt.db.session() as session:
        result = report(session=session, store=rt.store, encoder=rt.cached_encoder,
                        since=since.replace(tzinfo=timezone.utc) if since else None, min_size=min_size, limit=limit,
                        encoder_name=rt.settings.encoder)
    if out_path:
        write_json(out_path, result)
    echo_gaps(result)


@click.command()
@click.option("--min-size", type=click.IntRange(2, 1000), default=None,
              help="Smallest group worth reporting (default: the surge_min_tickets setting).")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the full report as JSON here; a summary is printed either way.")
def surges(min_size, limit, out_path):
    """Surges under way: groups of similar tickets that came in the last window (surge_window_minutes)
    far above their kind's rate over the last 7 days, biggest first."""
    from triage.surges import report

    rt = open_runtime()
    rt.engine.current()
    with rt.db.session() as session:
        result = report(session=session, memory=rt.engine.surges, store=rt.store, min_size=min_size, limit=limit)
    if out_path:
        write_json(out_path, result)
    echo_surges(result)


@click.command("article-report")
@click.option("--since", type=click.DateTime(), default=None, help="Only decisions and feedback on or after this date.")
@click.option("--sort", type=click.Choice(["suggested", "rejected", "resolution_rate", "article_id"]),
              default="suggested", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the full report (every article) as JSON here; a summary is printed either way.")
def article_report(since, sort, limit, out_path):
    """How each article performs as a suggestion (suggested, accepted, rejected by reason,
    resolution rate), articles never suggested, and near-duplicate articles."""
    from datetime import timezone

    from application.article_report import article_report as build

    rt = open_runtime()
    with rt.db.session() as session:
        result = build(session=session, store=rt.store, since=since.replace(tzinfo=timezone.utc) if since else None,
                       sort=sort, limit=limit if not out_path else 10**9)
    if out_path:
        write_json(out_path, result)
    echo_article_report(result, limit)


@click.command("triage-report")
@click.option("--since", type=click.DateTime(), default=None, help="Only decisions made on or after this date.")
@click.option("--until", type=click.DateTime(), default=None, help="Only decisions made before this date.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the full report as JSON here; a summary is printed either way.")
def triage_report_cmd(since, until, out_path):
    """How triage did in production, judged by agents' feedback: live category accuracy, auto-route
    precision per category against its target, tier corrections, suggestion hit rates, first-contact
    resolution."""
    from triage.report import triage_report

    rt = open_runtime()
    with rt.db.session() as session:  # naive dates are taken as UTC by the report
        result = triage_report(session=session, default_precision=rt.settings.route_precision,
                               since=since, until=until)
    if out_path:
        write_json(out_path, result)
    echo_triage_report(result)
