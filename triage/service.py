"""Ticket operations: import history, triage a ticket and keep the decision, read them back."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import func, insert, inspect, or_, select
from sqlalchemy.orm import Session, make_transient_to_detached

from kb.tables import Article
from common.db import valid_id
from common.errors import NotFound, ValidationError
from triage import sla
from triage.surges import from_blob, to_blob
from triage.tables import Ticket, TicketVector, TriageDecision, ticket_text

if TYPE_CHECKING:  # the engine reads feedback, which uses this module
    from triage.engine import TriageEngine

TICKET_FIELDS = ("external_id", "subject", "body", "channel", "meta", "category", "tier", "priority", "created_at")
# What one ticket may say, wherever it comes from (the API's request schema states the same limits).
MAX_SUBJECT = 1000
MAX_TEXT = 20000


def _parse_time(value) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"created_at {value!r} is not an ISO-8601 time", field="created_at") from exc
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    try:
        parsed.astimezone(timezone.utc)  # as it is stored
    except OverflowError:
        raise ValidationError(f"created_at {value!r} is out of range once converted to UTC",
                              field="created_at") from None
    return parsed


FIRST_TIER = {"l1", "tier1", "tier 1", "tier-1", "1", "level 1", "level1"}


def is_first_tier(tier: str | None) -> bool:
    return tier is not None and tier.strip().lower() in FIRST_TIER


def _history_status(article: str | None, tier: str | None, category: str | None) -> str:
    """Past tickets resolved by an article are resolved; tier-2 ones without one were escalated."""
    if article:
        return "resolved"
    if tier and not is_first_tier(tier):
        return "escalated"
    return "resolved" if category else "new"


def import_tickets(*, session: Session, records: list[dict]) -> dict:
    """Store past tickets in bulk. Records carry subject, body and optional labels; a ``article``
    naming an unknown article is counted and dropped rather than failing the whole import. A record
    with neither subject nor body says nothing to learn from: it is skipped, and its position (1 =
    the first record) listed in ``skipped_empty``."""
    known = set(session.scalars(select(Article.id)))
    existing_ext = set(session.scalars(select(Ticket.external_id).where(Ticket.external_id.is_not(None))))
    rows, positions, unknown_articles, skipped_dupes, empty = [], [], 0, 0, []
    now = datetime.now(timezone.utc)
    for n, rec in enumerate(records, 1):
        if not ticket_text(rec.get("subject") or "", rec.get("body") or "").strip():
            empty.append(n)
            continue
        ext = rec.get("external_id")
        if ext and ext in existing_ext:
            skipped_dupes += 1
            continue
        if ext:
            existing_ext.add(ext)
        article = rec.get("article") or None
        if article and article not in known:
            unknown_articles += 1
            article = None
        positions.append(n)
        rows.append({
            "external_id": ext, "subject": rec.get("subject") or "", "body": rec.get("body") or "",
            "channel": rec.get("channel"), "meta": rec.get("meta") or {},
            "created_at": _parse_time(rec.get("created_at")) or now,
            "category": rec.get("category") or None, "tier": rec.get("tier") or None,
            "priority": rec.get("priority") or None,
            "status": _history_status(article, rec.get("tier"), rec.get("category")),
            "resolved_by_article_id": article, "source": "import",
        })
    _check_lengths(rows, positions)
    for start in range(0, len(rows), 2000):
        session.execute(insert(Ticket), rows[start:start + 2000])
    session.commit()
    return {"imported": len(rows), "skipped_existing": skipped_dupes, "unknown_articles": unknown_articles,
            "skipped_empty": empty}


def _check_lengths(rows: list[dict], positions: list[int]) -> None:
    """Refuse the import, naming the ticket (its position among the records) and field, when a
    value is longer than its column (PostgreSQL would refuse the whole insert with an SQL error;
    SQLite would store it)."""
    for name in ("external_id", "channel", "category", "tier", "priority"):
        limit = Ticket.__table__.c[name].type.length
        for n, row in zip(positions, rows):
            value = row[name]
            if value is not None and len(str(value)) > limit:
                raise ValidationError(f"ticket {n} of the import: {name} is longer than {limit} characters "
                                      f"({str(value)[:40]!r}...); nothing was imported", field=name)


VECTOR_READ_CHUNK = 5_000  # ticket ids per query when stored vectors are read back


def ticket_vectors(*, session: Session, encoder, encoder_name: str | None, ids: list[int],
                   texts: list[str]) -> np.ndarray:
    """The vectors of stored tickets (``ids`` with their ``texts``): those stored under
    ``encoder_name`` when the tickets were triaged, the others (imported history) encoded."""
    stored: dict[int, np.ndarray] = {}
    if encoder_name:
        for start in range(0, len(ids), VECTOR_READ_CHUNK):
            stored.update((tid, from_blob(blob)) for tid, blob in session.execute(
                select(TicketVector.ticket_id, TicketVector.vector).where(
                    TicketVector.encoder == encoder_name,
                    TicketVector.ticket_id.in_(ids[start:start + VECTOR_READ_CHUNK]))))
    missing = [i for i, tid in enumerate(ids) if tid not in stored]
    encoded = encoder.encode([texts[i] for i in missing]) if missing else None
    dim = encoded.shape[1] if encoded is not None else len(next(iter(stored.values())))
    out = np.empty((len(ids), dim), dtype=np.float32)
    for i, tid in enumerate(ids):
        if tid in stored:
            out[i] = stored[tid]
    if missing:
        out[missing] = encoded
    return out


def get_ticket_or_raise(*, session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id) if valid_id(ticket_id) else None
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}", field="ticket_id")
    return ticket


def get_decision_or_raise(*, session: Session, decision_id: int) -> TriageDecision:
    decision = session.get(TriageDecision, decision_id) if valid_id(decision_id) else None
    if decision is None:
        raise NotFound(f"no triage decision with id {decision_id}", field="decision_id")
    return decision


def triage_ticket(*, session: Session, engine: TriageEngine, fields: dict, k: int | None = None,
                  api_key: str | None = None) -> tuple[Ticket, TriageDecision]:
    """Store the ticket, decide on it and store the decision, in one transaction."""
    [pair] = triage_tickets(session=session, engine=engine, items=[fields], k=k, api_key=api_key)
    return pair


def triage_tickets(*, session: Session, engine: TriageEngine, items: list[dict], k: int | None = None,
                   api_key: str | None = None) -> list[tuple[Ticket, TriageDecision]]:
    """Store the tickets, decide on them in one batch and store the decisions, all in one
    transaction (a batch is several times faster per ticket than one call each). ``api_key``: the
    name of the caller's key, kept with each decision for audit."""
    if not items:
        return []
    for n, f in enumerate(items):
        _check_text(f, prefix=f"tickets.{n}." if len(items) > 1 else "")
    now = datetime.now(timezone.utc)
    tickets = [Ticket(subject=f.get("subject") or "", body=f.get("body") or "", channel=f.get("channel"),
                      meta=f.get("meta") or {}, external_id=f.get("external_id"), source="api",
                      created_at=_parse_time(f.get("created_at")) or now, status="new")
               for f in items]
    texts = [t.text for t in tickets]
    vectors, in_context = engine.encode_tickets(texts)
    decided = engine.decide(texts, k=k, vectors=vectors, in_context=in_context, arrivals=[t.created_at for t in tickets],
                            metadata=[{**(t.meta or {}), "channel": t.channel} for t in tickets])
    _insert(session, tickets)
    session.connection().execute(insert(TicketVector.__table__), [
        {"ticket_id": t.id, "encoder": engine.settings.encoder, "created_at": t.created_at, "vector": to_blob(v)}
        for t, v in zip(tickets, vectors)])
    in_force, ranked = engine.sla_terms, engine.priority_order()  # as of decide's reload check
    dues = [sla.due_times(in_force, created_at=t.created_at, plan=sla.plan_of(t.meta), priority=d["priority"],
                          ranked=ranked) for t, d in zip(tickets, decided)]
    decided_at = datetime.now(timezone.utc)
    decisions = [TriageDecision(
        ticket_id=ticket.id, first_response_due=due[0], resolution_due=due[1], model_version_id=d["model_version"], category=d["category"],
        category_confidence=d["category_confidence"], top_categories=d["top_categories"], tier=d["tier"],
        tier_confidence=d["tier_confidence"], priority=d["priority"], priority_confidence=d["priority_confidence"],
        priority_reason=d["priority_reason"], route=d["route"], queue=d["queue"], reason=d["reason"],
        suggestions=d["suggestions"], gap=d["gap"], api_key=api_key, created_at=decided_at,
        related={"similar_tickets": d["similar_tickets"], "surge": d["surge"], "parts": d["parts"],
                 "escalate": d["escalate"]},
    ) for ticket, d, due in zip(tickets, decided, dues)]
    _insert(session, decisions)
    session.commit()
    engine.remember(tickets, vectors)
    return list(zip(tickets, decisions))


def _insert(session: Session, rows: list) -> None:
    """Store new ORM objects with Core INSERTs (one statement per table, RETURNING the ids) instead of
    the unit of work's flush, which costs about twice as much on the triage path (docs/benchmarks.md);
    each object gets its id and joins ``session`` as if flushed, so later changes to it are written
    on commit. Columns are stored as the objects hold them: a column left unset is NULL, not its default."""
    if not rows:
        return
    if not session.get_bind().dialect.insert_returning:  # SQLite before 3.35: the unit of work
        session.add_all(rows)
        session.flush()
        return
    mapper = inspect(type(rows[0]))
    table = mapper.local_table
    columns = [(prop.key, prop.columns[0].key) for prop in mapper.column_attrs if prop.key != "id"]
    values = [{column: getattr(row, key) for key, column in columns} for row in rows]
    ids = session.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), values).scalars().all()
    for row, new_id in zip(rows, ids):
        for key, _column in columns:  # columns left unset (None) become loaded, not expired
            if key not in row.__dict__:
                setattr(row, key, None)
        row.id = new_id
        make_transient_to_detached(row)
        session.add(row)


def _check_text(fields: dict, prefix: str = "") -> None:
    """A ticket to triage says something, within the limits, without NUL characters."""
    for name, limit in (("subject", MAX_SUBJECT), ("body", MAX_TEXT)):
        value = fields.get(name) or ""
        if not isinstance(value, str):
            raise ValidationError(f"{prefix}{name} must be text", field=prefix + name)
        if len(value) > limit:
            raise ValidationError(f"{prefix}{name} is longer than {limit} characters ({len(value)})",
                                  field=prefix + name)
        if "\x00" in value:
            raise ValidationError(f"{prefix}{name} must not contain NUL characters", field=prefix + name)
    if not (fields.get("body") or "").strip():
        raise ValidationError(f"{prefix}body must not be blank: the ticket's text is what is triaged",
                              field=prefix + "body")


def recent_decisions(*, session: Session, route: str | None = None, category: str | None = None,
                     tier: str | None = None, gap: bool | None = None, surge: bool | None = None, limit: int = 50,
                     offset: int = 0) -> tuple[list[tuple[Ticket, TriageDecision]], int]:
    """The newest decisions first, with their tickets, filtered by route, category, tier, gap and
    surge (a decision flagged as part of one); and how many match in all."""
    if route is not None and route not in ("auto", "review"):
        raise ValidationError("route must be auto or review", field="route")
    query = select(TriageDecision).join(Ticket, Ticket.id == TriageDecision.ticket_id)
    for column, value in ((TriageDecision.route, route), (TriageDecision.category, category),
                          (TriageDecision.tier, tier), (TriageDecision.gap, gap)):
        if value is not None:
            query = query.where(column == value)
    if surge is not None:
        flagged = TriageDecision.related[("surge", "flag")].as_boolean()
        query = query.where(flagged.is_(True) if surge else or_(flagged.is_(None), flagged.is_(False)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    decisions = list(session.scalars(query.order_by(TriageDecision.created_at.desc(), TriageDecision.id.desc())
                                     .limit(limit).offset(offset)))
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(
        Ticket.id.in_([d.ticket_id for d in decisions])))} if decisions else {}
    return [(tickets[d.ticket_id], d) for d in decisions], total


LABEL_COLUMNS = {"category": (Ticket.category, TriageDecision.category), "tier": (Ticket.tier, TriageDecision.tier),
                 "priority": (Ticket.priority, TriageDecision.priority)}


def labels_in_use(*, session: Session, parts=("category", "tier")) -> dict[str, list[str]]:
    """The labels of ``parts`` that stored tickets and decisions carry (what a correction may pick)."""
    out = {}
    for part in parts:
        columns = LABEL_COLUMNS[part]
        found: set[str] = set()
        for column in columns:
            found |= set(session.scalars(select(column).where(column.is_not(None)).distinct()))
        out[part] = sorted(found)
    return out


def find_by_external_id(*, session: Session, external_id: str) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.external_id == external_id).order_by(Ticket.id)))


def decision_view(ticket: Ticket, decision: TriageDecision) -> dict:
    """The JSON shape of a stored decision."""
    return {
        "id": decision.id, "ticket_id": ticket.id, "model_version": decision.model_version_id,
        "category": decision.category, "category_confidence": decision.category_confidence,
        "top_categories": decision.top_categories, "tier": decision.tier,
        "tier_confidence": decision.tier_confidence, "priority": decision.priority,
        "priority_confidence": decision.priority_confidence, "priority_reason": decision.priority_reason,
        "escalate": bool((decision.related or {}).get("escalate")),
        "first_response_due": decision.first_response_due.isoformat() if decision.first_response_due else None,
        "resolution_due": decision.resolution_due.isoformat() if decision.resolution_due else None,
        "route": decision.route, "queue": decision.queue,
        "reason": decision.reason, "suggestions": decision.suggestions, "gap": decision.gap,
        "similar_tickets": (decision.related or {}).get("similar_tickets", []),
        "surge": (decision.related or {}).get("surge"),
        "multi_issue": bool((decision.related or {}).get("parts")),
        "parts": (decision.related or {}).get("parts", []),
        "created_at": decision.created_at.isoformat() if decision.created_at else None,
        "api_key": decision.api_key,
    }
