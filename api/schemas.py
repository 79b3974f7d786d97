"""Request bodies accepted by the HTTP API (pydantic), also the source of the OpenAPI document."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_TEXT = 20000
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
ShortText = Annotated[str, StringConstraints(max_length=500)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TicketFields(Strict):
    """A ticket to triage. ``body`` is required; everything else is optional."""

    subject: Annotated[str, StringConstraints(max_length=1000)] = ""
    body: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
    channel: Annotated[str, StringConstraints(max_length=50)] | None = None
    external_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    meta: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=50)


class TriageRequest(TicketFields):
    """A ticket to triage and how many articles to suggest."""

    k: int = Field(default=3, ge=1, le=20)


class TriageBatch(Strict):
    """Tickets to triage together (all stored, or none when one is invalid)."""

    tickets: list[TicketFields] = Field(min_length=1, max_length=5000)
    k: int = Field(default=3, ge=1, le=20)


class ArticleCreate(Strict):
    id: Id
    title: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    body: Annotated[str, StringConstraints(max_length=200000)] = ""
    category: Annotated[str, StringConstraints(max_length=200)] | None = None
    tags: list[Annotated[str, StringConstraints(max_length=100)]] = Field(default_factory=list, max_length=50)


class ArticleUpdate(Strict):
    """Fields to change; the id comes from the URL."""

    title: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    body: Annotated[str, StringConstraints(max_length=200000)] | None = None
    category: Annotated[str, StringConstraints(max_length=200)] | None = None
    tags: list[Annotated[str, StringConstraints(max_length=100)]] | None = Field(default=None, max_length=50)


class FeedbackRequest(Strict):
    """One piece of agent feedback on a decision (or directly on a ticket)."""

    kind: Literal["accepted", "rejected", "category_corrected", "tier_corrected", "resolved", "escalated"]
    decision_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    ticket_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    article_id: Id | None = None
    reason: Literal["not_related", "related_but_not_answered", "outdated"] | None = None
    value: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    first_touch: bool | None = None
    agent_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _target(self):
        if self.decision_id is None and self.ticket_id is None:
            raise ValueError("give decision_id or ticket_id")
        return self


class FeedbackBatch(Strict):
    events: list[FeedbackRequest] = Field(min_length=1, max_length=500)


class SearchQuery(Strict):
    q: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
    k: int = Field(default=5, ge=1, le=50)


class ArticleListQuery(Strict):
    category: Annotated[str, StringConstraints(max_length=200)] | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10**9)


class GapsQuery(Strict):
    since: datetime | None = Field(default=None, description="only tickets created at or after this time (ISO-8601)")
    min_size: int = Field(default=3, ge=1, le=1000)
    limit: int = Field(default=20, ge=1, le=200)


class SurgesQuery(Strict):
    min_size: int | None = Field(default=None, ge=2, le=1000,
                                 description="smallest group worth reporting (default: the service's surge_min_tickets)")
    limit: int = Field(default=20, ge=1, le=200)


class ArticleReportQuery(Strict):
    since: datetime | None = Field(default=None, description="only decisions and feedback at or after this time (ISO-8601)")
    sort: Literal["suggested", "rejected", "resolution_rate", "article_id"] = "suggested"
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class TriageReportQuery(Strict):
    since: datetime | None = Field(default=None, description="only decisions made at or after this time (ISO-8601)")
    until: datetime | None = Field(default=None, description="only decisions made before this time (ISO-8601)")


class RoutingQuery(Strict):
    live_days: int = Field(default=30, ge=0, le=3650,
                           description="also show each category's live auto-route precision over these days (0: no)")


class TrainRequest(Strict):
    """Options of a training job. ``auto`` promotes only when the guardrail passes."""

    promote: Literal["auto", "always", "never"] = "auto"


class TicketQuery(Strict):
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="your ticket id, as given to triage or import")


class ApiKeyCreate(Strict):
    """A new API key: the caller's name, its role, and optionally how many days it is valid."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")]
    role: Literal["intake", "agent", "editor", "admin"]
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class EraseRequest(Strict):
    """Tickets to erase everywhere kb-triage keeps them: by id, by your external id, and/or every
    ticket created before a time (a retention period). Unknown ids erase nothing (404)."""

    ticket_ids: list[int] = Field(default_factory=list, max_length=1000)
    external_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=1000)
    created_before: datetime | None = Field(default=None, description="erase every ticket created before this time")

    @model_validator(mode="after")
    def _names_tickets(self):
        if not self.ticket_ids and not self.external_ids and self.created_before is None:
            raise ValueError("name the tickets to erase: ticket_ids, external_ids or created_before")
        return self


class RoutingRuleRequest(Strict):
    """A routing rule for one category or tier (the URL names it): the precision its tickets must
    reach on validation data before they are auto-routed (required unless ``auto_route`` is false),
    or ``auto_route: false``."""

    target_precision: float | None = Field(default=None, ge=0.5, le=1.0)
    auto_route: bool = True
    updated_by: Annotated[str, StringConstraints(max_length=200)] | None = None
