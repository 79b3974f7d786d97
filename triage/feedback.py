"""Agent feedback on triage decisions: record it once, apply it to the ticket, feed retraining."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import service as kb_service
from kb.suggest import REJECTION_REASONS
from common import change_feed
from common.db import utcnow
from common.errors import Conflict, NotFound, ValidationError, some_of
from triage import sla
from triage.priority import RULE_LABELS
from triage.service import get_decision_or_raise, get_ticket_or_raise, labels_in_use
from triage.tables import FeedbackEvent, Ticket, TriageDecision, ticket_text

KINDS = ("accepted", "rejected", "category_corrected", "tier_corrected", "priority_corrected", "responded", "resolved",
         "escalated")
CORRECTIONS = ("category_corrected", "tier_corrected", "priority_corrected")  # they carry the corrected value
REJECT_REASONS = ("not_related", "related_but_not_answered", "outdated")


TEXT_FIELDS = (("value", 200), ("agent_id", 200), ("idempotency_key", 200), ("article_id", 200))
# A correction is also written on the ticket, whose tier column is narrower than the event's value.
CORRECTED_LENGTH = {"category_corrected": Ticket.__table__.c.category.type.length,
                    "tier_corrected": Ticket.__table__.c.tier.type.length,
                    "priority_corrected": Ticket.__table__.c.priority.type.length}


def _check(event: dict, session: Session) -> tuple[Ticket, TriageDecision | None]:
    for name, limit in TEXT_FIELDS:  # what the columns hold, for every entry point (the API states the same)
        given = event.get(name)
        if given is not None and (not isinstance(given, str) or len(given) > limit or "\x00" in given
                                  or given != given.strip()):
            raise ValidationError(f"{name} must be text of at most {limit} characters, without NUL characters "
                                  "or surrounding spaces", field=name)
    kind = event["kind"]
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}", field="kind")
    decision = None
    if event.get("decision_id") is not None:
        decision = get_decision_or_raise(session=session, decision_id=event["decision_id"])
    ticket_id = event.get("ticket_id")
    if ticket_id is None and decision is None:
        raise ValidationError("give decision_id or ticket_id", field="decision_id")
    if decision is not None and ticket_id is not None and ticket_id != decision.ticket_id:
        raise ValidationError(f"decision {decision.id} belongs to ticket {decision.ticket_id}, not {ticket_id}",
                              field="ticket_id")
    ticket = get_ticket_or_raise(session=session, ticket_id=ticket_id if ticket_id is not None else decision.ticket_id)
    article_id = event.get("article_id")
    if kind in ("accepted", "rejected") and not article_id:
        raise ValidationError(f"{kind} feedback names the suggested article", field="article_id")
    if article_id:
        kb_service.get_or_raise(session=session, article_id=article_id)
    reason = event.get("reason")
    if kind == "rejected":
        if reason not in REJECT_REASONS:
            raise ValidationError(f"reason must be one of {', '.join(REJECT_REASONS)}", field="reason")
    elif reason is not None and kind != "escalated":
        raise ValidationError(f"reason applies to rejected (and escalated) feedback, not {kind}", field="reason")
    if kind in CORRECTIONS and not (event.get("value") or "").strip():
        raise ValidationError(f"{kind} needs the corrected value", field="value")
    limit = CORRECTED_LENGTH.get(kind)
    if limit is not None and len(event["value"]) > limit:  # the ticket's column holds no more
        raise ValidationError(f"value: a {kind.split('_')[0]} has at most {limit} characters", field="value")
    if kind == "priority_corrected":
        _check_priority(session, event["value"])
    if kind not in CORRECTIONS and event.get("value") is not None:
        raise ValidationError(f"value applies to corrections, not {kind}", field="value")
    if kind == "escalated" and article_id:
        raise ValidationError("an escalated ticket was not resolved by an article", field="article_id")
    if event.get("first_touch") is not None and kind != "resolved":
        raise ValidationError("first_touch applies to resolved feedback only", field="first_touch")
    return ticket, decision


def _check_priority(session: Session, value: str) -> None:
    """A corrected priority must be one the desk uses: the rules' P1-P4 or a label its tickets or
    decisions carry.
    Priorities are a ranked scale, and the next training run would otherwise rank a typo or an
    invented label with the others, perhaps as the most urgent: the escalation label."""
    known = set(RULE_LABELS) | set(labels_in_use(session=session, parts=("priority",))["priority"])
    if value not in known:
        raise ValidationError(f"value: '{value}' is not a priority this desk uses; the priorities are "
                              f"{some_of(sorted(known), 20, str)}", field="value")


def record(*, session: Session, event: dict) -> tuple[FeedbackEvent, bool]:
    """Validate and store one event; returns (event, created). A repeated idempotency key returns
    the stored event unchanged, or a conflict when the payload differs."""
    key = event.get("idempotency_key")
    if key:
        existing = session.scalar(select(FeedbackEvent).where(FeedbackEvent.idempotency_key == key))
        if existing is not None:
            differs = _first_difference(existing, event)
            if differs:
                raise Conflict(f"idempotency_key was already used for another event: its {differs} differs",
                               field=differs)
            return existing, False
    ticket, decision = _check(event, session)
    row = FeedbackEvent(
        ticket_id=ticket.id, decision_id=decision.id if decision else None, kind=event["kind"],
        article_id=event.get("article_id"), reason=event.get("reason"), value=event.get("value"),
        first_touch=event.get("first_touch"), agent_id=event.get("agent_id"),
        model_version_id=decision.model_version_id if decision else None, idempotency_key=key,
        api_key=event.get("api_key"),
    )
    session.add(row)
    _apply(ticket, row)
    if row.kind == "priority_corrected":
        sla.retarget(session=session, ticket=ticket, priority=row.value)
    session.flush()
    if row.kind == "rejected":  # lowers the article for similar tickets on every replica
        change_feed.record(session, "rejection", [row.id])
    return row, True


SAME_EVENT = ("kind", "decision_id", "ticket_id", "article_id", "reason", "value", "first_touch", "agent_id")


def _first_difference(stored: FeedbackEvent, event: dict) -> str | None:
    """The first field in which ``event`` differs from the event stored under its idempotency key
    (a field the new event leaves out, such as ticket_id beside a decision_id, is not compared)."""
    for name in SAME_EVENT:
        given = event.get(name)
        if name == "ticket_id" and given is None:
            continue
        if (given if given != "" else None) != getattr(stored, name):
            return name
    return None


def record_many(*, session: Session, events: list[dict]) -> list[tuple[FeedbackEvent, bool]]:
    """All events or none: the first invalid one aborts the batch, naming its position."""
    out = []
    for n, event in enumerate(events):
        try:
            out.append(record(session=session, event=event))
        except (ValidationError, NotFound, Conflict) as exc:
            session.rollback()
            exc.field = f"events.{n}.{exc.field}" if exc.field else f"events.{n}"
            raise
    session.commit()
    return out


def _apply(ticket: Ticket, event: FeedbackEvent) -> None:
    """Reflect the event on the ticket, so that the next training run sees the corrected labels."""
    if event.kind == "category_corrected":
        ticket.category = event.value
    elif event.kind == "tier_corrected":
        ticket.tier = event.value
    elif event.kind == "priority_corrected":
        ticket.priority = event.value
    elif event.kind in ("resolved", "accepted") and event.article_id:
        ticket.resolved_by_article_id = event.article_id
        ticket.status = "resolved" if event.kind == "resolved" else ticket.status
    elif event.kind == "resolved":
        ticket.status = "resolved"
    elif event.kind == "escalated":
        ticket.status = "escalated"
        ticket.tier = ticket.tier or "L2"
    # The SLA clocks: a response to the customer (an answer, an article sent, the resolution), resolution.
    if event.kind in ("responded", "accepted", "resolved") and ticket.responded_at is None:
        ticket.responded_at = utcnow()
    if event.kind == "resolved" and ticket.resolved_at is None:
        ticket.resolved_at = utcnow()


def view(event: FeedbackEvent) -> dict:
    return {"id": event.id, "ticket_id": event.ticket_id, "decision_id": event.decision_id, "kind": event.kind,
            "article_id": event.article_id, "reason": event.reason, "value": event.value,
            "first_touch": event.first_touch, "agent_id": event.agent_id,
            "model_version": event.model_version_id, "idempotency_key": event.idempotency_key,
            "api_key": event.api_key,
            "created_at": event.created_at.isoformat() if event.created_at else None}


def rejections(*, session: Session, after_id: int = 0, limit: int | None = None,
               with_text: bool = True) -> list[tuple[int, int, str, str | None]]:
    """(event id, ticket id, article id, ticket text) of each rejection that counts against the
    article for similar tickets, recorded after event ``after_id`` (the newest ``limit``), oldest first.
    ``with_text=False`` gives None for the text and does not read the tickets (training has the
    tickets' embeddings already and needs only the ids)."""
    texts = (Ticket.subject, Ticket.body) if with_text else ()
    query = (select(FeedbackEvent.id, FeedbackEvent.ticket_id, FeedbackEvent.article_id, *texts)
             .where(FeedbackEvent.kind == "rejected", FeedbackEvent.reason.in_(REJECTION_REASONS),
                    FeedbackEvent.article_id.is_not(None), FeedbackEvent.id > after_id)
             .order_by(FeedbackEvent.id.desc()).limit(limit))
    if with_text:
        query = query.join(Ticket, Ticket.id == FeedbackEvent.ticket_id)
    return [(eid, tid, aid, ticket_text(*text) if with_text else None)
            for eid, tid, aid, *text in reversed(session.execute(query).all())]
