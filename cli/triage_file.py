"""``kbtriage triage``: triage a whole file of tickets batch by batch, keeping what a stopped run
(Ctrl-C, or SIGTERM) finished so that ``--resume`` goes on from there."""
from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from cli.common import BAD_INPUT_HELP, CSV_INPUT, note, open_runtime
from common.errors import KBTriageError
from common.files import BadFile


@click.command("triage", epilog=f"{CSV_INPUT} JSON Lines (.jsonl): one JSON object per line. {BAD_INPUT_HELP} "
                                f"No ticket is triaged and --out is not written then.")
@click.argument("path", type=click.Path())
@click.option("--text-column", default="text", show_default=True, help="Column with the ticket text.")
@click.option("--subject-column", default=None, help="Column with the subject line, if any.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write results here (.csv or .jsonl); default: CSV on standard output.")
@click.option("-k", "k", type=click.IntRange(1, 50), default=3, show_default=True, help="Articles to suggest.")
@click.option("--batch-size", type=click.IntRange(1, 4096), default=256, show_default=True)
@click.option("--resume", is_flag=True,
              help="Go on from where a stopped run into the same --out left off, keeping the tickets it finished.")
def triage_cmd(path, text_column, subject_column, out_path, k, batch_size, resume):
    """Triage every ticket in a CSV, JSONL or JSON file (PATH, or - for CSV on standard input;
    nested JSON fields by dotted path, as for import-tickets). The output keeps
    the input columns and adds category, category_confidence, tier, tier_confidence, priority,
    priority_confidence (blank when priority comes from the impact x urgency rules), route, queue,
    reason, suggested_articles (ids, best first, ';'-separated), suggestion_scores, gap, multi_issue
    (true when the ticket holds several requests) and parts (each request's category, ';'-separated).

    Files of any length are triaged batch by batch in bounded memory. --out appears only when every
    ticket is done; a stopped run keeps what it finished beside it, for --resume."""
    from tqdm import tqdm

    from triage import backlog
    from triage.importers import RowFile

    source = RowFile.open(path, note=note)
    source.require({"--text-column": text_column, "--subject-column": subject_column})
    out = Path(out_path) if out_path else None
    if out is not None:
        _check_writable(out, out_path)
    rt = open_runtime()
    with tqdm(total=source.count, desc="triage", unit="ticket", file=sys.stderr,
              disable=source.count == 0 or None) as bar, _stopped_by_sigterm():
        try:
            result = backlog.triage_file(engine=rt.engine, source=source, text_column=text_column,
                                         subject_column=subject_column, k=k, batch_size=batch_size, out=out,
                                         resume=resume, done=bar.update,
                                         note=lambda message: bar.write(message, file=sys.stderr))
        except KBTriageError:
            raise  # refused before a ticket was decided: nothing to go on with
        except (Exception, KeyboardInterrupt):
            stopped = backlog.stopped_run(out) if out else None
            if stopped:
                click.echo(f"\nstopped after {stopped.tickets} tickets; they are kept: run the same command "
                           f"with --resume to go on", err=True)
            raise
    if out:
        resumed = f", {result.resumed} of them from the stopped run" if result.resumed else ""
        click.echo(f"triaged {result.tickets} tickets -> {out_path} ({result.auto} auto-routed, "
                   f"{result.gaps} gaps{resumed})", err=True)


def _check_writable(out: Path, given: str) -> None:
    """Refuse an --out whose folder is missing or not writable before any ticket is triaged (the
    output is written beside it first, and renamed when done)."""
    folder = out.parent
    if not folder.is_dir():
        raise BadFile(f"{given}: no folder {str(folder)!r} to write it in", field="--out")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadFile(f"{given}: the folder {str(folder)!r} is not writable", field="--out")


@contextmanager
def _stopped_by_sigterm():
    """SIGTERM (kill, a service manager stopping the job) stops the run as Ctrl-C does, so that it
    says what it kept instead of vanishing."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
