"""``kbtriage`` commands that put data in and take it out: import articles and tickets, load the
demo help desk, rebuild the article index, and erase tickets."""
from __future__ import annotations

import json
from collections import Counter

import click

from cli.common import BAD_INPUT_HELP, CSV_INPUT, note, open_runtime
from common.errors import ValidationError, some_of


@click.command("import-articles", epilog=f"{CSV_INPUT} {BAD_INPUT_HELP} Nothing is imported then.")
@click.argument("path", type=click.Path())
@click.option("--prune", is_flag=True,
              help="PATH is the whole knowledge base: delete the articles it does not hold.")
def import_articles(path, prune):
    """Import KB articles from PATH: a folder of Markdown files with front matter (id, title,
    category, tags, url), HTML pages, a JSONL/CSV file with id,title,body[,category,tags,body_format,url],
    or the JSON of a help desk's knowledge-base API (Zendesk Guide articles, Freshdesk solution
    articles, ServiceNow kb_knowledge), or a folder of such files. HTML bodies are turned into
    text. Changed articles are updated (and re-indexed), unchanged ones left alone; articles the
    export marks as drafts or not published are left out, and taken out of the index if they were
    in it. With --prune, articles that PATH does not hold (deleted in the help desk) are deleted
    too."""
    from kb import service
    from kb.importers import read_articles

    left_out: dict[str, str] = {}
    items = read_articles(path, left_out=left_out.__setitem__, note=note)
    rt = open_runtime()
    if prune and not items:
        raise ValidationError(f"{path} holds no published article: --prune would delete every article",
                              field="--prune")
    with rt.db.session() as session:
        counts = service.upsert_many(session=session, store=rt.store, items=items,
                                     chunk_words=rt.settings.chunk_words)
        absent = service.all_ids(session=session) - {i["id"] for i in items} - set(left_out) if prune else set()
        withdrawn = service.delete_many(session=session, store=rt.store, article_ids=left_out)
        pruned = service.delete_many(session=session, store=rt.store, article_ids=absent)
    click.echo(f"articles: {counts['created']} created, {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged ({rt.store.index().count()} passages indexed)")
    if left_out:
        reasons = ", ".join(f"{n} {why}" for why, n in Counter(left_out.values()).most_common())
        click.echo(f"not imported, not published ({reasons}): {some_of(list(left_out))}"
                   + (f"; taken out of the index, where an earlier import had put them: {some_of(withdrawn)}"
                      if withdrawn else ""))
    if pruned:
        click.echo(f"deleted {len(pruned)} articles that {path} does not hold (--prune): {some_of(pruned)}")


@click.command("import-tickets", epilog=f"{CSV_INPUT} JSON Lines (.jsonl): one JSON object per line. "
                                         f"{BAD_INPUT_HELP} A ticket that the import would refuse (a created "
                                         f"time that is not ISO-8601, a value longer than its column) is named "
                                         f"the same way. Nothing is imported then.")
@click.argument("path", type=click.Path())
@click.option("--text-column", required=True, help="Column with the ticket text (body).")
@click.option("--subject-column", default=None, help="Column with the subject line, if any.")
@click.option("--category-column", default=None, help="Column with the category label.")
@click.option("--tier-column", default=None, help="Column with the tier label (e.g. L1/L2).")
@click.option("--priority-column", default=None,
              help="Column with the ticket's priority label, any label set (P1-P4, Blocker ... Trivial, "
                   "High/Medium/Low): a priority model learns it.")
@click.option("--article-column", default=None,
              help="Column with the id of the article that resolved the ticket (feedback history).")
@click.option("--id-column", default=None, help="Column with your ticket id; re-imports skip known ids.")
@click.option("--created-column", default=None, help="Column with the creation time (ISO-8601).")
@click.option("--channel-column", default=None, help="Column with the channel (email, chat...).")
@click.option("--feature-column", "feature_columns", multiple=True,
              help="A column the priority model reads beside the text (a region, a customer segment), one-hot "
                   "by value; repeat for several. The plan (column plan) and the channel are read anyway. "
                   "Triage passes a column of the same name (file column, or the API's meta).")
@click.option("--priority-order", default=None,
              help="The order of your priority labels, most urgent first, comma-separated (e.g. "
                   "\"Blocker,Critical,Major,Minor,Trivial\"); every label in --priority-column must be one of "
                   "them. Stored for the desk: training ranks by it (which label is escalated, how queues sort). "
                   "Default: ranked by the labels' words.")
def import_tickets(path, text_column, subject_column, category_column, tier_column, priority_column, article_column,
                   id_column, created_column, channel_column, feature_columns, priority_order):
    """Import past tickets from a CSV, JSONL or JSON file (PATH, or - for standard input). A JSON
    file may be a help desk's export page (Zendesk's {"tickets": [...]}, ServiceNow's
    {"result": [...]}, Freshdesk's list); a field nested in an object is named by its dotted path
    (--channel-column via.channel)."""
    from triage import service
    from triage.importers import RowFile, check_records, value
    from common.errors import ValidationError
    from common.files import BadFile
    from triage import priority_settings
    from triage.priority import FEATURE_COLUMNS_KEY

    ranked = None
    if priority_order is not None:
        if not priority_column:
            raise click.BadParameter("needs --priority-column: the labels it orders", param_hint="--priority-order")
        try:
            ranked = priority_settings.parse_order(priority_order, field="--priority-order")
        except ValidationError as exc:
            raise click.BadParameter(exc.message, param_hint="--priority-order") from None
    source = RowFile.open(path, note=note)
    mapping = {"--text-column": text_column, "--subject-column": subject_column,
               "--category-column": category_column, "--tier-column": tier_column,
               "--priority-column": priority_column,
               "--article-column": article_column, "--id-column": id_column,
               "--created-column": created_column, "--channel-column": channel_column}
    source.require(mapping)
    for column in feature_columns:
        source.require({"--feature-column": column})
    used = {c for c in mapping.values() if c}
    marked = {FEATURE_COLUMNS_KEY: list(dict.fromkeys(feature_columns))} if feature_columns else {}
    wheres, rows = zip(*source.numbered())

    def get(row, col):
        found = value(row, col)
        return str(found).strip() if found not in (None, "") else None

    records = [{
        "body": get(r, text_column) or "", "subject": get(r, subject_column) or "",
        "category": get(r, category_column), "tier": get(r, tier_column), "article": get(r, article_column),
        "priority": get(r, priority_column),
        "external_id": get(r, id_column), "created_at": get(r, created_column),
        "channel": get(r, channel_column), "meta": {**{k: v for k, v in r.items() if k not in used and v not in (None, "")},
                 **{c: get(r, c) for c in feature_columns if get(r, c) is not None}, **marked},
    } for r in rows]
    try:
        check_records(records, wheres)
    except BadFile as exc:  # named by the option that chose the column, as the user wrote it
        exc.field = RECORD_OPTIONS.get(exc.field, exc.field)
        raise
    if ranked is not None:
        for where, record in zip(wheres, records):
            if record["priority"] is not None and record["priority"] not in ranked:
                raise BadFile(f"{where}: priority {record['priority']!r} is not in --priority-order "
                              f"({', '.join(ranked)}); nothing was imported", field="--priority-order")
    rt = open_runtime()
    with rt.db.session() as session:
        counts = service.import_tickets(session=session, records=records)
        if ranked is not None:
            priority_settings.set_order(session=session, labels=ranked, by="kbtriage import-tickets")
    empty = counts["skipped_empty"]
    click.echo(f"tickets: {counts['imported']} imported, {counts['skipped_existing']} already present"
               + (f", {counts['unknown_articles']} referenced unknown articles (link dropped)"
                  if counts["unknown_articles"] else "")
               + (f", {len(empty)} skipped with no text (rows {some_of(empty)})" if empty else ""))


# A ticket record's field, and the import-tickets option that names its column.
RECORD_OPTIONS = {"created_at": "--created-column", "tier": "--tier-column", "category": "--category-column",
                  "priority": "--priority-column", "external_id": "--id-column", "channel": "--channel-column"}


@click.command("init-demo")
@click.option("--force-train", is_flag=True, help="Retrain even when a model is already active.")
def init_demo(force_train):
    """Load the bundled demo help desk (KB articles and past tickets) and train on it.
    Safe to run again: known articles and tickets are left alone."""
    from application.demo import load_demo

    rt = open_runtime()
    load_demo(rt, force_train=force_train, echo=lambda m: click.echo(m, err=True))


@click.command()
def reindex():
    """Bring the article index in step with the database: add missing passages, drop deleted ones,
    and embed every passage again if the index was built with another encoder (run it after
    changing KBTRIAGE_ENCODER, then `kbtriage train`; the service also does it when it starts)."""
    rt = open_runtime()
    with rt.db.session() as s:
        click.echo(json.dumps(rt.store.sync(session=s)))


@click.command("erase-tickets")
@click.option("--id", "ticket_ids", type=int, multiple=True, help="A ticket id (repeat for several).")
@click.option("--external-id", "external_ids", multiple=True, help="Your ticket id (repeat for several).")
@click.option("--before", type=click.DateTime(), default=None,
              help="Every ticket created before this date (a retention period), UTC.")
@click.option("--dry-run", is_flag=True, help="Say how many tickets would be erased, and erase nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_tickets(ticket_ids, external_ids, before, dry_run, yes):
    """Erase tickets everywhere kb-triage keeps them (a customer's erasure request, or a retention
    period): the tickets, their decisions and feedback, their cached vectors, and the model versions
    that may hold them; a training job replaces the serving version. Unknown ids erase nothing."""
    from datetime import timezone

    from triage import erasure

    before = before.replace(tzinfo=timezone.utc) if before else None
    rt = open_runtime()
    with rt.db.session() as session:
        selection = erasure.select_tickets(session=session, ticket_ids=ticket_ids, external_ids=external_ids,
                                           created_before=before)
        n = len(selection.ticket_ids)
        if dry_run or not n:
            click.echo(f"{n} tickets would be erased" if dry_run else "no tickets to erase")
            return
        if not yes:
            click.confirm(f"Erase {n} tickets and every trace of them? This cannot be undone", abort=True)
        result = erasure.erase(session=session, selection=selection, embedding_cache=rt.cached_encoder,
                               models_dir=rt.settings.models_dir, engine=rt.engine, by="cli")
    click.echo(json.dumps(result))
    if result["retrain_job"] is not None:
        click.echo(f"training job {result['retrain_job']} replaces model version {result['serving_version']}; "
                   "run `kbtriage worker --once` where no worker runs", err=True)
