"""What kb-triage keeps about one ticket, as one record: its fields, its triage decisions and
agents' feedback (what an agent's view shows, and what a customer's request for their data gets)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage import feedback
from triage.service import decision_view
from triage.tables import FeedbackEvent, Ticket, TriageDecision


def ticket_record(*, session: Session, ticket: Ticket) -> dict:
    """Everything kb-triage keeps about a ticket: its fields, its decisions and agents' feedback
    (what an agent console shows, and what a customer's request for their data gets)."""
    decisions = session.scalars(select(TriageDecision).where(TriageDecision.ticket_id == ticket.id)
                                .order_by(TriageDecision.id))
    events = session.scalars(select(FeedbackEvent).where(FeedbackEvent.ticket_id == ticket.id)
                             .order_by(FeedbackEvent.id))
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"id": ticket.id, "external_id": ticket.external_id, "subject": ticket.subject, "body": ticket.body,
            "channel": ticket.channel, "meta": ticket.meta, "created_at": iso(ticket.created_at),
            "category": ticket.category, "tier": ticket.tier, "status": ticket.status,
            "resolved_by_article_id": ticket.resolved_by_article_id, "source": ticket.source,
            "decisions": [decision_view(ticket, d) for d in decisions],
            "feedback": [feedback.view(e) for e in events]}
