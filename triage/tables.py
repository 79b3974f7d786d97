"""Ticket-side tables: tickets, triage decisions, agent feedback events, routing rules, SLA policies and
priority settings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kb.markup import body_text
from common.db import Base, utcnow
from triage.email_text import message_text


def ticket_text(subject: str | None, body: str) -> str:
    """A ticket's subject and body as the models see them (training, triage and feedback alike):
    an HTML body (Freshdesk's description, an HTML email) as text (:mod:`kb.markup`), without an
    email's quoted thread, signature and disclaimer (:mod:`triage.email_text`)."""
    body = message_text(body_text(body))
    return f"{subject}\n{body}".strip() if subject else body


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str | None] = mapped_column(String(50), nullable=True)
    meta: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    category: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    tier: Mapped[str | None] = mapped_column(String(20), nullable=True)
    priority: Mapped[str | None] = mapped_column(String(50), nullable=True)  # the desk's own label, if any
    status: Mapped[str] = mapped_column(String(20), default="new")
    resolved_by_article_id: Mapped[str | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source: Mapped[str] = mapped_column(String(20), default="api")
    # A KB editor dealt with the content gap this ticket pointed at (an article written or extended):
    # it leaves the gap worklist.
    gap_handled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    gap_handled_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The SLA clocks (triage/sla.py): an agent's first response to the customer, and resolution.
    responded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)

    @property
    def text(self) -> str:
        """Subject and body as the models see them."""
        return ticket_text(self.subject, self.body)


class TriageDecision(Base):
    """What the models said about a ticket, by which model version; kept for audit and feedback."""

    __tablename__ = "triage_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True
    )
    category: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    top_categories: Mapped[list] = mapped_column(default=list)
    tier: Mapped[str | None] = mapped_column(String(20), nullable=True)
    tier_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    priority: Mapped[str | None] = mapped_column(String(50), nullable=True)
    priority_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: from the rules
    priority_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # When the SLA policy for the ticket's plan and priority wants a first response and resolution.
    first_response_due: Mapped[datetime | None] = mapped_column(nullable=True)
    resolution_due: Mapped[datetime | None] = mapped_column(nullable=True)
    route: Mapped[str] = mapped_column(String(20))
    queue: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    suggestions: Mapped[list] = mapped_column(default=list)
    gap: Mapped[bool] = mapped_column(Boolean, default=False)
    # Similar recent tickets and the surge test (triage/surges.py), as the decision saw them.
    related: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    api_key: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the caller's key name, if any


class TicketVector(Base):
    """A triaged ticket's vector under the encoder that made it, kept for the surge test: other
    processes read new tickets' vectors from here instead of encoding them again."""

    __tablename__ = "ticket_vectors"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    encoder: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(index=True)  # the ticket's
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class FeedbackEvent(Base):
    """One thing an agent told us: a suggestion accepted or rejected, a correction, an outcome."""

    __tablename__ = "feedback_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("triage_decisions.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(40), index=True)
    article_id: Mapped[str | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    value: Mapped[str | None] = mapped_column(String(200), nullable=True)
    first_touch: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    api_key: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the caller's key name, if any


class RoutingRule(Base):
    """A deployment's own auto-route policy for one category or tier: the precision its tickets
    must reach before they are routed without a person, or auto-routing switched off for it."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("part", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    part: Mapped[str] = mapped_column(String(20))  # "category" or "tier"
    label: Mapped[str] = mapped_column(String(200))
    target_precision: Mapped[float | None] = mapped_column(Float, nullable=True)
    auto_route: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SlaPolicy(Base):
    """A service-level target: for tickets of a customer plan ('*': any plan) and a priority (the
    desk's label or a level P1-P4), the minutes to a first response and to resolution."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("plan", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan: Mapped[str] = mapped_column(String(100), default="*")
    priority: Mapped[str] = mapped_column(String(50))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    # Open hours such as 'Mon-Fri 09:00-17:00' in ``timezone`` (IANA, UTC when empty): the clocks run
    # only then (triage.business_hours). Empty: around the clock.
    business_hours: Mapped[str | None] = mapped_column(String(100), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PrioritySetting(Base):
    """A desk's priority configuration, one row per setting (triage/priority_settings.py): the
    order of its labels ('order', most urgent first) and the impact x urgency matrix ('matrix')."""

    __tablename__ = "priority_settings"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[dict] = mapped_column(default=dict)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Erasure(Base):
    """A record that tickets were erased (when, by whom, how they were chosen, how many), kept as
    evidence for the data-protection log; it holds no ticket content."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    requested_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    criteria: Mapped[dict] = mapped_column(default=dict)
    counts: Mapped[dict] = mapped_column(default=dict)
