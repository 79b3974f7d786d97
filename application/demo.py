"""Load the bundled demo help desk (written by scripts/make_demo_data.py) and train on it."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

import kb
from kb import service as kb_service
from kb.importers import read_articles
from kb.tables import Article
from models import registry
from application.training import train
from triage import service as triage_service
from triage import sla
from triage.tables import Ticket

DEMO_DIR = Path(kb.__file__).resolve().parent / "demo_data"
# The demo desk's service levels (plan, priority, minutes to first response, to resolution): enterprise
# customers are answered sooner, free ones later; other plans take the built-in targets (triage.sla).
DEMO_SLA = (("enterprise", "P1", 15, 4 * 60), ("enterprise", "P2", 60, 8 * 60), ("enterprise", "P3", 4 * 60, 2 * 24 * 60),
            ("free", "P3", 24 * 60, 5 * 24 * 60), ("free", "P4", 48 * 60, 10 * 24 * 60))


def is_empty(rt) -> bool:
    with rt.db.session() as session:
        return not session.scalar(select(func.count()).select_from(Article)) and \
            not session.scalar(select(func.count()).select_from(Ticket))


def demo_records() -> list[dict]:
    with open(DEMO_DIR / "tickets.csv", encoding="utf-8", newline="") as fh:
        return [{"external_id": r["ticket_id"], "subject": r["subject"], "body": r["body"],
                 "channel": r["channel"], "meta": {"plan": r["plan"]}, "created_at": r["created_at"],
                 "category": r["category"], "tier": r["tier"], "article": r["article_id"] or None,
                 "priority": r.get("priority") or None}
                for r in csv.DictReader(fh)]


def load_demo_sla(*, session) -> bool:
    """Store the demo's SLA policies unless the desk has policies of its own; whether it did."""
    if sla.policies(session=session):
        return False
    for plan, priority, first, resolution in DEMO_SLA:
        sla.set_policy(session=session, plan=plan, priority=priority, first_response_minutes=first,
                       resolution_minutes=resolution, updated_by="demo")
    return True


def load_demo(rt, *, force_train: bool = False, echo: Callable[[str], None] = print) -> None:
    """Import demo articles and tickets (idempotent) and train when no model is active."""
    with rt.db.session() as session:
        counts = kb_service.upsert_many(session=session, store=rt.store, items=read_articles(DEMO_DIR / "articles"),
                                        chunk_words=rt.settings.chunk_words)
        echo(f"demo articles: {counts['created']} created, {counts['updated']} updated, "
             f"{counts['unchanged']} unchanged")
        result = triage_service.import_tickets(session=session, records=demo_records())
        echo(f"demo tickets: {result['imported']} imported, {result['skipped_existing']} already present")
        if load_demo_sla(session=session):
            echo(f"demo SLA policies: {len(DEMO_SLA)} (the built-in targets serve the rest)")
        if force_train or registry.active(session=session) is None:
            version = train(session=session, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings,
                            progress=lambda m: echo(f"  {m}"))
            echo(f"demo model version {version.id} active")
