"""Request bodies accepted by the HTTP API (pydantic), also the source of the OpenAPI document."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt,
                      StringConstraints, model_validator)

from common.db import as_utc
from kb.importers import HTTP_URL
from kb.service import MAX_BODY, MAX_TITLE
from kb.markup import BODY_FORMATS
from triage.service import MAX_SUBJECT, MAX_TEXT
# Text fields are checked as sent (length and pattern, as the document states them), then stripped
# of surrounding whitespace: stripping first would let a value past its length limit through.
Id = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^\s*[A-Za-z0-9][A-Za-z0-9_.:\-]*\s*$"),
               AfterValidator(str.strip)]


NO_NUL = r"^[^\x00]*$"
SAYS_SOMETHING = r"^[^\x00]*[^\s\x00][^\x00]*$"
PATTERN_MESSAGES = {NO_NUL: "must not contain NUL characters",
                    SAYS_SOMETHING: "must not be blank or contain NUL characters",
                    HTTP_URL.pattern: "must be an http(s) address"}
# Where agents (and customers) read an article: its help-center page.
Url = Annotated[str, StringConstraints(max_length=2000, pattern=HTTP_URL.pattern)]


def text(max_length: int):
    """Text up to ``max_length`` characters, surrounding whitespace stripped. NUL characters are
    refused (PostgreSQL cannot store them), and the document says so with the pattern."""
    return Annotated[str, StringConstraints(max_length=max_length, pattern=NO_NUL), AfterValidator(str.strip)]


def non_blank(max_length: int):
    """:func:`text` that must say something: text that is only whitespace is refused too."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length, pattern=SAYS_SOMETHING),
                     AfterValidator(str.strip)]


def _iso_8601(value):
    """Times come as ISO-8601 text. pydantic alone would also read a number as seconds since 1970,
    so that a slip like ``created_before: 1700000000`` would pick a time nobody meant."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.match(r"\s*\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected an ISO-8601 date or time, e.g. 2026-11-24 or 2026-11-24T09:30:00Z")
    return value


def _in_range(value: datetime) -> datetime:
    try:
        as_utc(value)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_in_range)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(ValueError):
    """A rule between fields, broken: the error response names ``field``, not the whole body."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class TicketFields(Strict):
    """A ticket to triage. ``body`` is required; everything else is optional."""

    subject: text(MAX_SUBJECT) = ""
    body: non_blank(MAX_TEXT)
    channel: text(50) | None = None
    external_id: text(200) | None = None
    meta: dict[text(100), text(2000) | StrictInt | StrictFloat | StrictBool | None] = Field(
        default_factory=dict, max_length=50, json_schema_extra={"propertyNames": {"maxLength": 100, "pattern": NO_NUL}})


class TriageRequest(TicketFields):
    """A ticket to triage and how many articles to suggest."""

    k: int = Field(default=3, ge=1, le=20)


class TriageBatch(Strict):
    """Tickets to triage together (all stored, or none when one is invalid)."""

    tickets: list[TicketFields] = Field(min_length=1, max_length=5000)
    k: int = Field(default=3, ge=1, le=20)


class ArticleCreate(Strict):
    id: Id
    title: non_blank(MAX_TITLE)
    body: text(MAX_BODY) = ""
    # "html": the body is converted to text; left out, it is when it starts with an HTML element.
    body_format: Literal[BODY_FORMATS] = None
    category: text(200) | None = None
    tags: list[text(100)] = Field(default_factory=list, max_length=50)
    url: Url | None = None


class ArticleUpdate(Strict):
    """Fields to change (PATCH); the id comes from the URL. A field left out keeps its value; only
    ``category`` and ``url`` may be null (none)."""

    # Left out: None, never validated; given: a value of the type, so null is refused for the field.
    title: non_blank(MAX_TITLE) = None
    body: text(MAX_BODY) = None
    body_format: Literal[BODY_FORMATS] = None  # of ``body``, as for a new article
    category: text(200) | None = None
    tags: list[text(100)] = Field(default=None, max_length=50)
    url: Url | None = None


class ArticleReplace(ArticleUpdate):
    """An article's fields (PUT): ``title`` is required; fields left out keep their current value."""

    title: non_blank(MAX_TITLE)


def _when_kind(kinds: list[str], then: dict, otherwise: dict | None = None) -> dict:
    rule = {"if": {"properties": {"kind": {"enum": kinds}}}, "then": then}
    return {**rule, "else": otherwise} if otherwise else rule


_NULL = {"type": "null"}
# The rules of triage/feedback.py between kind and the other fields, stated for the OpenAPI document
# (that module checks them for every way in: API, CLI, import).
FEEDBACK_RULES = {
    "anyOf": [{"required": ["decision_id"]}, {"required": ["ticket_id"]}],
    "allOf": [
        _when_kind(["accepted", "rejected"], {"required": ["article_id"], "properties": {"article_id": {"type": "string"}}}),
        _when_kind(["escalated"], {"properties": {"article_id": _NULL}}),
        _when_kind(["rejected"], {"required": ["reason"], "properties": {"reason": {"type": "string"}}}),
        _when_kind(["accepted", "category_corrected", "tier_corrected", "resolved"], {"properties": {"reason": _NULL}}),
        _when_kind(["category_corrected", "tier_corrected"],
                   {"required": ["value"], "properties": {"value": {"type": "string"}}},
                   {"properties": {"value": _NULL}}),
        _when_kind(["resolved"], {}, {"properties": {"first_touch": _NULL}}),
    ]}


class FeedbackRequest(Strict):
    """One piece of agent feedback on a decision (or directly on a ticket)."""

    model_config = ConfigDict(json_schema_extra=FEEDBACK_RULES)

    kind: Literal["accepted", "rejected", "category_corrected", "tier_corrected", "resolved", "escalated"]
    # Left out: None, never validated; given: a positive integer (null is refused).
    decision_id: int = Field(default=None, ge=1, le=2**31 - 1)
    ticket_id: int = Field(default=None, ge=1, le=2**31 - 1)
    article_id: Id | None = None
    reason: Literal["not_related", "related_but_not_answered", "outdated"] | None = None
    value: non_blank(200) | None = None
    first_touch: bool | None = None
    agent_id: text(200) | None = None
    idempotency_key: non_blank(200) | None = None

    @model_validator(mode="after")
    def _target(self):
        if self.decision_id is None and self.ticket_id is None:
            raise FieldError("decision_id", "give decision_id or ticket_id")
        return self


class FeedbackBatch(Strict):
    events: list[FeedbackRequest] = Field(min_length=1, max_length=500)


class SearchQuery(Strict):
    q: non_blank(MAX_TEXT)
    k: int = Field(default=5, ge=1, le=50)


class DecisionListQuery(Strict):
    """The queue: recent decisions, newest first (what the console's queue shows)."""

    route: Literal["auto", "review"] | None = None
    category: text(200) | None = None
    tier: text(20) | None = None
    gap: bool | None = Field(default=None, description="true: only decisions that flagged a content gap; false: none")
    surge: bool | None = Field(default=None, description="true: only decisions flagged as part of a surge; false: none")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10**9)


class ArticleListQuery(Strict):
    category: text(200) | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10**9)


class GapsHandled(Strict):
    """The tickets of a content-gap cluster an editor dealt with: they leave the worklist."""

    ticket_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=5000)
    handled_by: text(200) | None = None


class GapsQuery(Strict):
    since: IsoDateTime | None = Field(default=None, description="only tickets created at or after this time (ISO-8601)")
    min_size: int = Field(default=3, ge=1, le=1000)
    limit: int = Field(default=20, ge=1, le=200)


class SurgesQuery(Strict):
    min_size: int | None = Field(default=None, ge=2, le=1000,
                                 description="smallest group worth reporting (default: the service's surge_min_tickets)")
    limit: int = Field(default=20, ge=1, le=200)


class ArticleReportQuery(Strict):
    since: IsoDateTime | None = Field(default=None, description="only decisions and feedback at or after this time (ISO-8601)")
    sort: Literal["suggested", "rejected", "resolution_rate", "article_id"] = "suggested"
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class TriageReportQuery(Strict):
    since: IsoDateTime | None = Field(default=None, description="only decisions made at or after this time (ISO-8601)")
    until: IsoDateTime | None = Field(default=None, description="only decisions made before this time (ISO-8601)")


class RoutingQuery(Strict):
    live_days: int = Field(default=30, ge=0, le=3650,
                           description="also show each category's live auto-route precision over these days (0: no)")


class TrainRequest(Strict):
    """Options of a training job. ``auto`` promotes only when the guardrail passes."""

    promote: Literal["auto", "always", "never"] = "auto"


class TicketQuery(Strict):
    external_id: non_blank(200) = Field(
        description="your ticket id, as given to triage or import")


class ApiKeyCreate(Strict):
    """A new API key: the caller's name, its role, and optionally how many days it is valid."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")]
    role: Literal["intake", "agent", "editor", "admin"]
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class EraseRequest(Strict):
    """Tickets to erase everywhere kb-triage keeps them: by id, by your external id, and/or every
    ticket created before a time (a retention period). Unknown ids erase nothing (404)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["ticket_ids"], "properties": {"ticket_ids": {"minItems": 1}}},
        {"required": ["external_ids"], "properties": {"external_ids": {"minItems": 1}}},
        {"required": ["created_before"], "properties": {"created_before": {"type": "string"}}}]})

    ticket_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(default_factory=list, max_length=1000)
    external_ids: list[non_blank(200)] = Field(
        default_factory=list, max_length=1000)
    created_before: IsoDateTime | None = Field(default=None, description="erase every ticket created before this time")

    @model_validator(mode="after")
    def _names_tickets(self):
        if not self.ticket_ids and not self.external_ids and self.created_before is None:
            raise FieldError("ticket_ids", "name the tickets to erase: ticket_ids, external_ids or created_before")
        return self


class RoutingRuleRequest(Strict):
    """A routing rule for one category or tier (the URL names it): the precision its tickets must
    reach on validation data before they are auto-routed (required unless ``auto_route`` is false),
    or ``auto_route: false``."""

    # The rule between the fields, stated for the OpenAPI document too: unless auto_route is false,
    # target_precision is a number.
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"auto_route": {"const": False}}, "required": ["auto_route"]},
        "else": {"required": ["target_precision"], "properties": {"target_precision": {"type": "number"}}}})

    target_precision: float | None = Field(default=None, ge=0.5, le=1.0)
    auto_route: bool = True
    updated_by: text(200) | None = None

    @model_validator(mode="after")
    def _needs_target(self):
        if self.auto_route and self.target_precision is None:
            raise FieldError("target_precision", "a rule that keeps auto-routing on needs target_precision")
        return self
