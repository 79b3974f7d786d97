"""The ``kbtriage`` command line: load data, train, triage files, run the service."""
from __future__ import annotations

import json
import signal
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import click

from common import config
from application.access import ROLES
from common.errors import KBTriageError, ValidationError, some_of


def _runtime():
    from application.runtime import Runtime

    rt = Runtime(config.load()).start()
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(rt.close)
    return rt


def _fail(exc: KBTriageError):
    field = f" [{exc.field}]" if exc.field else ""
    raise click.ClickException(f"{exc.message}{field}")


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KBTriageError as exc:
            _fail(exc)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kb-triage")
def main():
    """kb-triage: knowledge-base assisted ticket triage.

    Settings come from the environment: KBTRIAGE_HOME (data directory, default ~/.kbtriage),
    DATABASE_URL (default: SQLite in the data directory), KBTRIAGE_ENCODER (a sentence-transformers
    model path or name; default: the packaged all-MiniLM-L6-v2).
    """


@main.command("import-articles")
@click.argument("path", type=click.Path(exists=True))
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

    rt = _runtime()
    left_out: dict[str, str] = {}
    items = read_articles(path, left_out=left_out.__setitem__)
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


@main.command("import-tickets")
@click.argument("path", type=click.Path())
@click.option("--text-column", required=True, help="Column with the ticket text (body).")
@click.option("--subject-column", default=None, help="Column with the subject line, if any.")
@click.option("--category-column", default=None, help="Column with the category label.")
@click.option("--tier-column", default=None, help="Column with the tier label (e.g. L1/L2).")
@click.option("--article-column", default=None,
              help="Column with the id of the article that resolved the ticket (feedback history).")
@click.option("--id-column", default=None, help="Column with your ticket id; re-imports skip known ids.")
@click.option("--created-column", default=None, help="Column with the creation time (ISO-8601).")
@click.option("--channel-column", default=None, help="Column with the channel (email, chat...).")
def import_tickets(path, text_column, subject_column, category_column, tier_column, article_column,
                   id_column, created_column, channel_column):
    """Import past tickets from a CSV, JSONL or JSON file (PATH, or - for standard input). A JSON
    file may be a help desk's export page (Zendesk's {"tickets": [...]}, ServiceNow's
    {"result": [...]}, Freshdesk's list); a field nested in an object is named by its dotted path
    (--channel-column via.channel)."""
    from triage import service
    from triage.importers import read_rows, require_columns, value

    columns, rows = read_rows(path)
    mapping = {"--text-column": text_column, "--subject-column": subject_column,
               "--category-column": category_column, "--tier-column": tier_column,
               "--article-column": article_column, "--id-column": id_column,
               "--created-column": created_column, "--channel-column": channel_column}
    require_columns(columns, mapping, path)
    used = {c for c in mapping.values() if c}

    def get(row, col):
        found = value(row, col)
        return str(found).strip() if found not in (None, "") else None

    records = [{
        "body": get(r, text_column) or "", "subject": get(r, subject_column) or "",
        "category": get(r, category_column), "tier": get(r, tier_column), "article": get(r, article_column),
        "external_id": get(r, id_column), "created_at": get(r, created_column),
        "channel": get(r, channel_column), "meta": {k: v for k, v in r.items() if k not in used and v not in (None, "")},
    } for r in rows]
    rt = _runtime()
    with rt.db.session() as session:
        counts = service.import_tickets(session=session, records=records)
    empty = counts["skipped_empty"]
    click.echo(f"tickets: {counts['imported']} imported, {counts['skipped_existing']} already present"
               + (f", {counts['unknown_articles']} referenced unknown articles (link dropped)"
                  if counts["unknown_articles"] else "")
               + (f", {len(empty)} skipped with no text (rows {some_of(empty)})" if empty else ""))


@main.command()
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the job and print its report, or print the job id and return at once.")
@click.option("--promote", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="auto: activate only if not worse than the active version on the validation slice.")
def train(wait, promote):
    """Train the category, tier and article models from everything stored (with agents'
    corrections), evaluate on the validation slice, and activate the new version if it passes the
    guardrail. Runs as a training job: in this process when no worker took it first."""
    from application.worker import run as run_job
    from models import jobs
    from models.tables import ModelVersion, TrainingJob

    rt = _runtime()
    with rt.db.session() as session:
        job_id = jobs.enqueue(session=session, trigger="cli", promote=promote).id
    if not wait:
        click.echo(job_id)
        return
    started = time.perf_counter()
    with rt.db.session() as session:
        claimed = jobs.claim_next(session=session, worker=jobs.worker_name()) == job_id
    if claimed:
        shown = 0

        def echo_new():
            nonlocal shown
            with rt.db.session() as s:
                progress = s.get(TrainingJob, job_id).progress
            for line in progress[shown:]:
                click.echo(f"  {line}", err=True)
            shown = len(progress)

        import threading

        done = threading.Event()
        runner = threading.Thread(target=lambda: (run_job(rt, job_id), done.set()), daemon=True)
        runner.start()
        while not done.wait(0.5):
            echo_new()
        echo_new()
    else:
        click.echo(f"job {job_id} is being run by a worker; waiting", err=True)
        while True:
            with rt.db.session() as session:
                if session.get(TrainingJob, job_id).status in ("succeeded", "failed"):
                    break
            time.sleep(1)
    with rt.db.session() as session:
        job = session.get(TrainingJob, job_id)
        if job.status == "failed":
            raise click.ClickException(f"training failed: {job.error}")
        version = session.get(ModelVersion, job.model_version_id)
        click.echo(json.dumps({"version": version.id, "status": version.status, "report": version.report}, indent=2))
    click.echo(f"trained in {time.perf_counter() - started:.1f} s", err=True)


@main.command()
@click.option("--once", is_flag=True, help="Run at most one queued job, then exit.")
@click.option("--poll", type=click.FloatRange(0.1, 60), default=1.0, show_default=True, help="Seconds between polls.")
def worker(once, poll):
    """Run training jobs from the queue in the database. Start one or more of these when several
    service processes share a PostgreSQL database (and set KBTRIAGE_WORKER=external for them);
    each job is claimed by exactly one worker."""
    from application.startup import recover
    from application.worker import Worker

    rt = _runtime()
    recover(rt, wait=True)
    w = Worker(rt, poll_seconds=poll)
    if once:
        click.echo("ran a job" if w.run_once() else "queue empty", err=True)
        return
    click.echo(f"worker {w.name} polling every {poll} s", err=True)
    w.run_forever()


@main.command("triage")
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
    the input columns and adds category, category_confidence, tier, tier_confidence, route, queue,
    reason, suggested_articles (ids, best first, ';'-separated), suggestion_scores and gap.

    Files of any length are triaged batch by batch in bounded memory. --out appears only when every
    ticket is done; a stopped run keeps what it finished beside it, for --resume."""
    from tqdm import tqdm

    from triage import backlog
    from triage.importers import RowFile, require_columns

    source = RowFile.open(path)
    require_columns(source.fields, {"--text-column": text_column, "--subject-column": subject_column}, path)
    out = Path(out_path) if out_path else None
    rt = _runtime()
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


@main.command()
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

    rt = _runtime()
    with rt.db.session() as session:
        result = report(session=session, store=rt.store, encoder=rt.cached_encoder,
                        since=since.replace(tzinfo=timezone.utc) if since else None, min_size=min_size, limit=limit,
                        encoder_name=rt.settings.encoder)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    older = result["candidates"] - result["clustered"]
    click.echo(f"{result['candidates']} candidate tickets, {len(result['clusters'])} clusters"
               + (f" (the newest {result['clustered']} clustered; {result['assigned']} of the {older} older ones "
                  f"joined a cluster)" if older else ""))
    for n, c in enumerate(result["clusters"], 1):
        near = c["nearest_article"]
        click.echo(f"{n:>2}. {c['size']:>4} tickets  latest {(c['latest'] or '')[:10]}  {c['proposed_title']!r}")
        click.echo(f"      terms: {', '.join(c['terms'])}")
        if near:
            click.echo(f"      nearest article: {near['article_id']} ({near['score']:.2f})")
        click.echo(f"      e.g. {c['representative_tickets'][0]['text'][:110]!r}")


@main.command()
@click.option("--min-size", type=click.IntRange(2, 1000), default=None,
              help="Smallest group worth reporting (default: the surge_min_tickets setting).")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the full report as JSON here; a summary is printed either way.")
def surges(min_size, limit, out_path):
    """Surges under way: groups of similar tickets that came in the last window (surge_window_minutes)
    far above their kind's rate over the last 7 days, biggest first."""
    from triage.surges import report

    rt = _runtime()
    rt.engine.current()
    with rt.db.session() as session:
        result = report(session=session, memory=rt.engine.surges, store=rt.store, min_size=min_size, limit=limit)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    click.echo(f"{result['tickets_in_window']} tickets in the last {result['window_minutes']:g} min, "
               f"{len(result['surges'])} surges")
    for n, c in enumerate(result["surges"], 1):
        click.echo(f"{n:>2}. {c['size']:>4} tickets (about {c['expected']:g} expected)  since {c['first_seen'][:16]}  "
                   f"{c['proposed_title']!r}")
        click.echo(f"      terms: {', '.join(c['terms'])}; categories: {c['categories']}")
        if c["nearest_article"]:
            click.echo(f"      nearest article: {c['nearest_article']['article_id']} ({c['nearest_article']['score']:.2f})")


@main.command("erase-tickets")
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
    rt = _runtime()
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


@main.command("article-report")
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

    rt = _runtime()
    with rt.db.session() as session:
        result = build(session=session, store=rt.store, since=since.replace(tzinfo=timezone.utc) if since else None,
                       sort=sort, limit=limit if not out_path else 10**9)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    click.echo(f"{result['articles_total']} articles, {result['decisions']} decisions")
    click.echo(f"{'article':<32} {'suggested':>9} {'accepted':>8} {'rejected':>8} {'resolved':>8} {'rate':>6}")
    for r in result["articles"][:limit]:
        rate = "-" if r["resolution_rate"] is None else f"{r['resolution_rate']:.2f}"
        click.echo(f"{r['article_id'][:32]:<32} {r['suggested']:>9} {r['accepted']:>8} {r['rejected']:>8} "
                   f"{r['resolved']:>8} {rate:>6}")
    click.echo(f"never suggested: {len(result['never_suggested'])}")
    for pair in result["near_duplicates"]:
        a, b = pair["articles"]
        click.echo(f"near-duplicates ({pair['similarity']:.2f}): {a['article_id']} / {b['article_id']}")


@main.command("triage-report")
@click.option("--since", type=click.DateTime(), default=None, help="Only decisions made on or after this date.")
@click.option("--until", type=click.DateTime(), default=None, help="Only decisions made before this date.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write the full report as JSON here; a summary is printed either way.")
def triage_report_cmd(since, until, out_path):
    """How triage did in production, judged by agents' feedback: live category accuracy, auto-route
    precision per category against its target, tier corrections, suggestion hit rates, first-contact
    resolution."""
    from triage.report import triage_report

    rt = _runtime()
    with rt.db.session() as session:  # naive dates are taken as UTC by the report
        result = triage_report(session=session, default_precision=rt.settings.route_precision,
                               since=since, until=until)
    if out_path:
        with open(out_path, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)

    def judged(row: dict) -> str:
        if not row["judged"]:
            return "no feedback yet"
        low, high = row["interval"]
        return f"{row['precision']:.3f} ({low:.3f}-{high:.3f}) over {row['judged']} judged"

    routes = result["routes"]
    click.echo(f"{result['decisions']} decisions: {routes.get('auto', 0)} auto-routed, {routes.get('review', 0)} "
               f"to review")
    click.echo(f"category accuracy: {judged(result['category_accuracy'])}")
    if result["calibration"]["judged"]:
        click.echo(f"calibration: ECE {result['calibration']['ece']:.3f} between stated confidence and live accuracy")
    auto = result["auto_route"]
    click.echo(f"auto-route precision: {judged(auto)} (target {auto['target_precision']})")
    click.echo(f"tier accuracy: {judged(result['tier_accuracy'])}")
    sug = result["suggestions"]
    if sug["answered_by_article"]:
        click.echo(f"suggestions: hit@1 {sug['hit@1']:.3f}, hit@3 {sug['hit@3']:.3f} over "
                   f"{sug['answered_by_article']} tickets an article answered")
    fcr = result["first_contact_resolution"]
    if fcr["tickets_with_outcome"]:
        click.echo(f"first-contact resolution: {fcr['rate']:.3f} of {fcr['tickets_with_outcome']} tickets")
    flagged = [row for status in ("below_target", "watch") for row in result["categories"]
               if row["auto_route"]["status"] == status]
    for row in flagged[:15]:
        click.echo(f"{row['auto_route']['status'].replace('_', ' ')}: category '{row['category']}' auto-routed "
                   f"{judged(row['auto_route'])}, target {row['auto_route']['target_precision']}")
    if len(flagged) > 15:
        click.echo(f"... and {len(flagged) - 15} more below target or to watch (--out FILE has them all)")


@main.group("api-key")
def api_key():
    """API keys: one per caller, each with a role (intake < agent < editor < admin). The API is
    open until the first key exists (or KBTRIAGE_REQUIRE_API_KEY=1)."""


@api_key.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="intake: triage and read; agent: + feedback; editor: + articles, gaps, reports; "
                   "admin: + routing rules and models.")
@click.option("--expires-days", type=int, default=None,
              help="The key stops working this many days from now (default: when revoked).")
def api_key_create(name, role, expires_days):
    """Create a key for NAME and print it; only its hash is stored, so keep it now."""
    from application import access

    with _runtime().db.session() as session:
        row, key = access.create(session=session, name=name, role=role, expires_in_days=expires_days)
        until = f", expires {row.expires_at.isoformat()[:19]} UTC" if row.expires_at else ""
        click.echo(f"created key {row.name!r} ({row.role}{until}); it is shown only once:", err=True)
    click.echo(key)


@api_key.command("list")
def api_key_list():
    """Every key: name, role, first characters, created, state, expiry and last use."""
    from application import access

    with _runtime().db.session() as session:
        rows = [access.view(r) for r in access.list_keys(session=session)]
    if not rows:
        click.echo("no API keys: the API is open unless KBTRIAGE_REQUIRE_API_KEY is set")
    for r in rows:
        if r["state"] == "revoked":
            state = f"revoked {r['revoked_at'][:19]}"
        elif r["state"] == "expired":
            state = f"expired {r['expires_at'][:19]}"
        else:
            state = f"active  expires {r['expires_at'][:19]}" if r["expires_at"] else "active"
        used = f"  last used {r['last_used_at'][:16]}" if r["last_used_at"] else "  never used"
        click.echo(f"{r['name']:<24} {r['role']:<7} {r['prefix']}...  created {r['created_at'][:19]}  {state}{used}")


@api_key.command("revoke")
@click.argument("name")
def api_key_revoke(name):
    """Revoke the key named NAME; it stops working at once."""
    from application import access

    with _runtime().db.session() as session:
        access.revoke(session=session, name=name)
    click.echo(f"revoked key {name!r}")


@main.group()
def routing():
    """Auto-routing policy: the precision target per category or tier, applied without retraining."""


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}"


@routing.command("show")
@click.option("--part", type=click.Choice(["category", "tier"]), default=None, help="Only this part.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole policy as JSON.")
@click.option("--live-days", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="Beside each category, the live precision of its auto-routed decisions over these days, "
                   "judged by agents' feedback (0: leave it out).")
def routing_show(part, as_json, live_days):
    """The deployment's target, the rules, and per class the active version's threshold with the
    precision and coverage it reaches on validation tickets (and, for categories, live)."""
    from triage import routing as policy

    view = policy.policy_in_force(_runtime().engine, live_days=live_days)
    live = (view.get("live_auto_route") or {}).get("categories", {})
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    click.echo(f"model version {view['model_version']}, default target precision {view['default_target_precision']}")
    for name in [part] if part else ["category", "tier"]:
        table = view[name]
        if not table:
            click.echo(f"{name}: no model")
            continue
        click.echo(f"{name}: validation precision {_fmt(table['precision'])}, coverage {_fmt(table['coverage'])}")
        width = max([len(label) for label in table["classes"]] + [5])
        click.echo(f"  {'label':<{width}} {'target':>6} {'basis':>11} {'threshold':>9} {'predicted':>9} "
                   f"{'precision':>9} {'coverage':>8}" + ("   live precision (judged)" if name == "category" and live else ""))
        for label, row in sorted(table["classes"].items()):
            target = "off" if row.get("basis") == "off" else _fmt(row.get("target_precision"))
            mark = "*" if row.get("rule") else " "
            now = live.get(label) if name == "category" else None
            seen = f"   {_fmt(now['precision'])} ({now['judged']}) {now['status']}" if now and now["judged"] else ""
            click.echo(f"{mark} {label:<{width}} {target:>6} {row.get('basis', ''):>11} {_fmt(row.get('threshold')):>9} "
                       f"{row.get('predicted', ''):>9} {_fmt(row.get('precision')):>9} {_fmt(row.get('coverage')):>8}"
                       + seen)
    if view["rules"]:
        click.echo("* a routing rule applies")


@routing.command("set")
@click.argument("part", type=click.Choice(["category", "tier"]))
@click.argument("label")
@click.option("--precision", type=float, default=None, help="Target precision for this class (0.5-1.0).")
@click.option("--off", is_flag=True, help="Never auto-route this class.")
@click.option("--by", "updated_by", default=None, help="Who made the change (kept with the rule).")
def routing_set(part, label, precision, off, updated_by):
    """Set LABEL's target precision (or --off) for PART (category or tier)."""
    from triage import routing as policy

    if off == (precision is not None):
        raise ValidationError("give exactly one of --precision and --off", field="precision")
    row = policy.put_rule(_runtime().engine, part=part, label=label, target_precision=precision,
                          auto_route=not off, updated_by=updated_by)["effect"]
    click.echo(f"{part} {label!r}: " + ("auto-routing off" if off else f"target precision {precision}"))
    if row and row.get("basis") != "off":
        click.echo(f"on validation tickets: threshold {row['threshold']}, precision {row['precision']}, "
                   f"coverage {row['coverage']} of {row['predicted']} ({row['basis']})")


@routing.command("reset")
@click.argument("part", type=click.Choice(["category", "tier"]))
@click.argument("label")
def routing_reset(part, label):
    """Remove LABEL's rule: the deployment's target precision applies again."""
    from triage import routing as policy

    policy.remove_rule(_runtime().engine, part=part, label=label)
    click.echo(f"{part} {label!r}: rule removed")


@main.command()
def reindex():
    """Bring the article index in step with the database: add missing passages, drop deleted ones,
    and embed every passage again if the index was built with another encoder (run it after
    changing KBTRIAGE_ENCODER, then `kbtriage train`; the service also does it when it starts)."""
    rt = _runtime()
    with rt.db.session() as s:
        click.echo(json.dumps(rt.store.sync(session=s)))


@main.command("init-demo")
@click.option("--force-train", is_flag=True, help="Retrain even when a model is already active.")
def init_demo(force_train):
    """Load the bundled demo help desk (KB articles and past tickets) and train on it.
    Safe to run again: known articles and tickets are left alone."""
    from application.demo import load_demo

    rt = _runtime()
    load_demo(rt, force_train=force_train, echo=lambda m: click.echo(m, err=True))


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default 8080).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Load the demo data and train on first start when the database is empty.")
def serve(host, port, threads, demo):
    """Run the HTTP API (waitress)."""
    import waitress

    from api.app import create_app
    from application.demo import is_empty, load_demo

    rt = _runtime()
    if demo and is_empty(rt):
        load_demo(rt, force_train=False, echo=lambda m: click.echo(m, err=True))
    app = create_app(runtime=rt)
    host = host or rt.settings.host
    port = port or rt.settings.port
    click.echo(f"kb-triage listening on http://{host}:{port} (data in {rt.settings.home})", err=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="kb-triage")


if __name__ == "__main__":  # pragma: no cover
    main()
