"""Request bodies accepted by the HTTP API (pydantic), also the source of the OpenAPI document."""
from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt,
                      StringConstraints, model_validator)
from pydantic_core import PydanticCustomError

from application.access import ApiKey
from application.article_report import MAX_FILTER
from application.trends import MAX_PERIODS, PERIODS
from common.db import as_utc
from common.errors import ValidationError
from kb.rules import HTTP_URL, MAX_BODY, MAX_TITLE
from kb.markup import BODY_FORMATS
from kb.tables import Article
from triage.feedback import CORRECTED_LENGTH, CORRECTIONS
from triage.service import MAX_SUBJECT, MAX_TEXT
from triage.tables import FeedbackEvent, RoutingRule, Ticket


def stored_in(*columns) -> int:
    """The length a text field may have: what the narrowest of the ``String(n)`` columns it is
    stored in holds (PostgreSQL refuses a longer value; SQLite would keep it silently)."""
    return min(column.type.length for column in columns)


# Text fields are checked as sent (length and pattern, as the document states them), then stripped
# of surrounding whitespace: stripping first would let a value past its length limit through.
ID_PATTERN = r"^\s*[A-Za-z0-9][A-Za-z0-9_.:\-]*\s*$"
Id = Annotated[str, StringConstraints(min_length=1, max_length=stored_in(Article.id), pattern=ID_PATTERN),
               AfterValidator(str.strip)]
KEY_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$"


NO_NUL = r"^[^\x00]*$"
SAYS_SOMETHING = r"^[^\x00]*[^\s\x00][^\x00]*$"
# What a pattern means, in the words of the error a user reads (pydantic would quote the pattern).
PATTERN_MESSAGES = {NO_NUL: "must not contain NUL characters",
                    SAYS_SOMETHING: "must not be blank or contain NUL characters",
                    HTTP_URL.pattern: "must be an http(s) address",
                    ID_PATTERN: "must start with a letter or digit and hold only letters, digits and _.:-",
                    KEY_NAME_PATTERN: "must start with a letter or digit and hold only letters, digits and _.@-"}
# Where agents (and customers) read an article: its help-center page.
Url = Annotated[str, StringConstraints(max_length=stored_in(Article.url), pattern=HTTP_URL.pattern)]


def text(max_length: int):
    """Text up to ``max_length`` characters, surrounding whitespace stripped. NUL characters are
    refused (PostgreSQL cannot store them), and the document says so with the pattern."""
    return Annotated[str, StringConstraints(max_length=max_length, pattern=NO_NUL), AfterValidator(str.strip)]


def non_blank(max_length: int):
    """:func:`text` that must say something: text that is only whitespace is refused too."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length, pattern=SAYS_SOMETHING),
                     AfterValidator(str.strip)]


# An article named in feedback: any id the knowledge base holds (an imported one, such as
# Banking77's "reverted_card_payment?", may hold characters a new one may not; kb/rules.py).
ArticleRef = non_blank(stored_in(Article.id))


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


def _integer(value):
    """Where the document says integer, a JSON body must send a number: pydantic alone would read
    "3" as 3 and true as 1. An integer-valued number such as 1.0 is one, as in JSON Schema."""
    if isinstance(value, (str, bytes, bool)):
        raise PydanticCustomError("int_type", "Input should be a valid integer (a number, not text or true/false)")
    return value


# The types of a JSON body's numbers and booleans, as the OpenAPI document states them. Query
# parameters are text by nature and keep pydantic's reading of "3" as 3 (plain int and bool).
Integer = Annotated[int, BeforeValidator(_integer)]


def integer(**bounds):
    """:data:`Integer` within ``bounds`` (ge, le), for a list's items or a union's member: there the
    bounds must come before the validator, or the document states them as "ge" and "le", which
    JSON Schema does not know (and the bounds go unsaid)."""
    return Annotated[int, Field(**bounds), BeforeValidator(_integer)]


TicketId = integer(ge=1, le=2**31 - 1)  # 32-bit, as the database keeps ids
Number = StrictFloat  # an int or a float; not text, not true/false
Boolean = StrictBool  # true or false; not "yes", "false" or 1


# Arrays and objects inside one another: the deepest body the API takes has 4 levels (a batch's
# ticket's meta); far deeper, Python's JSON parser would run out of stack.
MAX_DEPTH = 32


def json_document(raw: bytes):
    """A request body's JSON document. Refused (ValidationError): what is not JSON, a document
    nested more than MAX_DEPTH levels deep, a number that is not finite (NaN, Infinity, or one
    too large for a float such as 1e400, which JSON parsers read as infinity), naming its field."""
    too_deep = ValidationError(f"request body nests arrays and objects more than {MAX_DEPTH} levels deep",
                               field="body", code="invalid_json")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:  # also bytes that are no UTF-8
        raise ValidationError(f"request body is not valid JSON: {exc}", field="body", code="invalid_json") from None
    stack = [(data, (), 0)]
    while stack:  # no recursion: the document may be as deep as the parser allowed
        value, path, depth = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            field = ".".join(path) or "body"
            raise ValidationError(f"{field}: numbers must be finite (NaN, Infinity and numbers beyond "
                                  "1.8e308 are refused)", field=field, code="invalid")
        if isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise too_deep
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(reversed([(v, (*path, str(k)), depth + 1) for k, v in items]))
    return data


class Strict(BaseModel):
    # NaN and infinities are no JSON (Python's json module reads them, and 1e400 as infinity).
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FieldError(ValueError):
    """A rule between fields, broken: the error response names ``field``, not the whole body."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class TicketFields(Strict):
    """A ticket to triage. ``body`` is required; everything else is optional."""

    subject: text(MAX_SUBJECT) = ""
    body: non_blank(MAX_TEXT)
    channel: text(stored_in(Ticket.channel)) | None = None
    external_id: text(stored_in(Ticket.external_id)) | None = None
    meta: dict[text(100), text(2000) | StrictInt | StrictFloat | StrictBool | None] = Field(
        default_factory=dict, max_length=50, json_schema_extra={"propertyNames": {"maxLength": 100, "pattern": NO_NUL}})


class TriageRequest(TicketFields):
    """A ticket to triage and how many articles to suggest."""

    k: Integer = Field(default=3, ge=1, le=20)


class TriageBatch(Strict):
    """Tickets to triage together (all stored, or none when one is invalid)."""

    tickets: list[TicketFields] = Field(min_length=1, max_length=5000)
    k: Integer = Field(default=3, ge=1, le=20)


class ArticleCreate(Strict):
    id: Id
    title: non_blank(MAX_TITLE)
    body: text(MAX_BODY) = ""
    # "html": the body is converted to text; left out, it is when it starts with an HTML element.
    body_format: Literal[BODY_FORMATS] = None
    category: text(stored_in(Article.category)) | None = None
    tags: list[text(100)] = Field(default_factory=list, max_length=50)
    url: Url | None = None


class ArticleUpdate(Strict):
    """Fields to change (PATCH); the id comes from the URL. A field left out keeps its value; only
    ``category`` and ``url`` may be null (none)."""

    # Left out: None, never validated; given: a value of the type, so null is refused for the field.
    title: non_blank(MAX_TITLE) = None
    body: text(MAX_BODY) = None
    body_format: Literal[BODY_FORMATS] = None  # of ``body``, as for a new article
    category: text(stored_in(Article.category)) | None = None
    tags: list[text(100)] = Field(default=None, max_length=50)
    url: Url | None = None


class ArticleReplace(ArticleUpdate):
    """An article's fields (PUT): ``title`` is required; fields left out keep their current value."""

    title: non_blank(MAX_TITLE)


def _when_kind(kinds: list[str], then: dict, otherwise: dict | None = None) -> dict:
    rule = {"if": {"properties": {"kind": {"enum": kinds}}}, "then": then}
    return {**rule, "else": otherwise} if otherwise else rule


_NULL = {"type": "null"}
# A correction's value is also written on the ticket, in a narrower column for tiers.
MAX_VALUE = {kind: min(stored_in(FeedbackEvent.value), limit) for kind, limit in CORRECTED_LENGTH.items()}
# The rules of triage/feedback.py between kind and the other fields, stated for the OpenAPI document
# (that module checks them for every way in: API, CLI, import).
FEEDBACK_RULES = {
    "anyOf": [{"required": ["decision_id"]}, {"required": ["ticket_id"]}],
    "allOf": [
        _when_kind(["accepted", "rejected"], {"required": ["article_id"], "properties": {"article_id": {"type": "string"}}}),
        _when_kind(["escalated"], {"properties": {"article_id": _NULL}}),
        _when_kind(["rejected"], {"required": ["reason"], "properties": {"reason": {"type": "string"}}}),
        _when_kind(["accepted", *CORRECTIONS, "responded", "resolved"], {"properties": {"reason": _NULL}}),
        _when_kind(list(CORRECTIONS),
                   {"required": ["value"], "properties": {"value": {"type": "string"}}},
                   {"properties": {"value": _NULL}}),
        *(_when_kind([kind], {"properties": {"value": {"maxLength": limit}}}) for kind, limit in MAX_VALUE.items()),
        _when_kind(["resolved"], {}, {"properties": {"first_touch": _NULL}}),
    ]}


class FeedbackRequest(Strict):
    """One piece of agent feedback on a decision (or directly on a ticket)."""

    model_config = ConfigDict(json_schema_extra=FEEDBACK_RULES)

    kind: Literal["accepted", "rejected", "category_corrected", "tier_corrected", "priority_corrected", "responded",
                  "resolved", "escalated"]
    # Left out: None, never validated; given: a positive integer (null is refused).
    decision_id: Integer = Field(default=None, ge=1, le=2**31 - 1)
    ticket_id: Integer = Field(default=None, ge=1, le=2**31 - 1)
    article_id: ArticleRef | None = None
    reason: Literal["not_related", "related_but_not_answered", "outdated"] | None = None
    value: non_blank(stored_in(FeedbackEvent.value)) | None = None
    first_touch: Boolean | None = None
    agent_id: text(stored_in(FeedbackEvent.agent_id)) | None = None
    idempotency_key: non_blank(stored_in(FeedbackEvent.idempotency_key)) | None = None

    @model_validator(mode="before")
    @classmethod
    def _value_fits(cls, data):
        """A correction's value fits the ticket's column (a tier holds 20 characters), as sent."""
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            limit = MAX_VALUE.get(data.get("kind"))
            if limit is not None and len(data["value"]) > limit:
                raise FieldError("value", f"String should have at most {limit} characters for {data['kind']}")
        return data

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
    category: text(stored_in(Ticket.category)) | None = None
    tier: text(stored_in(Ticket.tier)) | None = None
    gap: bool | None = Field(default=None, description="true: only decisions that flagged a content gap; false: none")
    surge: bool | None = Field(default=None, description="true: only decisions flagged as part of a surge; false: none")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10**9)


class QueueQuery(Strict):
    """Open tickets by SLA risk."""

    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10**9)
    priority: text(50) | None = Field(default=None, description="only tickets of this level (P1-P4) or label")


Level = Literal["P1", "P2", "P3", "P4"]


class MatrixRow(Strict):
    """One impact's row of the matrix: the level for each urgency."""

    high: Level
    medium: Level
    low: Level


class PriorityMatrix(Strict):
    """Impact (how many are affected) x urgency (is work blocked): a level in every cell."""

    wide: MatrixRow
    some: MatrixRow
    one: MatrixRow


class PriorityMatrixRequest(Strict):
    """The team's impact x urgency matrix for tickets without a priority model: every impact (wide,
    some, one) with every urgency (high, medium, low) and a level P1-P4 in each cell."""

    matrix: PriorityMatrix
    updated_by: text(200) | None = None


class SlaPolicyRequest(Strict):
    """The targets for one plan and priority (the URL names them; plan '*' for any plan)."""

    first_response_minutes: Integer = Field(ge=1, le=366 * 24 * 60)
    resolution_minutes: Integer = Field(ge=1, le=366 * 24 * 60)
    business_hours: text(100) | None = Field(default=None, description="open hours such as 'Mon-Fri 09:00-17:00': "
                                             "the clocks run only then; absent: around the clock")
    timezone: text(64) | None = Field(default=None, description="IANA time zone of business_hours (default UTC)")
    updated_by: text(200) | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.resolution_minutes < self.first_response_minutes:
            raise FieldError("resolution_minutes", "must not be shorter than first_response_minutes")
        return self


class ArticleListQuery(Strict):
    category: text(200) | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10**9)


class GapsHandled(Strict):
    """The tickets of a content-gap cluster an editor dealt with: they leave the worklist."""

    ticket_ids: list[TicketId] = Field(min_length=1, max_length=5000)
    handled_by: text(stored_in(Ticket.gap_handled_by)) | None = None


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
    contains: non_blank(MAX_FILTER) | None = Field(
        default=None, description="only articles with these characters in their id or title, any case (matching "
                                  "counts them; never_suggested and near_duplicates still cover every article)")
    category: non_blank(stored_in(Article.category)) | None = Field(
        default=None, description="only articles of this category, exactly (the answer's categories lists them)")


class TrendsQuery(Strict):
    """Reports over time: live precision per category, the learning curve, content gaps per week."""

    every: Literal[tuple(PERIODS)] = Field(default="week", description="live precision per day or per week (UTC; "
                                                                        "weeks start on Monday)")
    periods: int = Field(default=12, ge=1, le=MAX_PERIODS, description="how many days or weeks of live precision, "
                                                                        "the current one included")
    min_size: int = Field(default=3, ge=1, le=1000, description="smallest content-gap cluster counted")
    limit: int = Field(default=20, ge=1, le=200, description="content-gap clusters, biggest first")


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

    name: Annotated[str, StringConstraints(min_length=1, max_length=stored_in(ApiKey.name),
                                           pattern=KEY_NAME_PATTERN)]
    role: Literal["intake", "agent", "editor", "admin"]
    expires_in_days: integer(ge=1, le=3650) | None = None


class EraseRequest(Strict):
    """Tickets to erase everywhere kb-triage keeps them: by id, by your external id, and/or every
    ticket created before a time (a retention period). Unknown ids erase nothing (404)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["ticket_ids"], "properties": {"ticket_ids": {"minItems": 1}}},
        {"required": ["external_ids"], "properties": {"external_ids": {"minItems": 1}}},
        {"required": ["created_before"], "properties": {"created_before": {"type": "string"}}}]})

    ticket_ids: list[TicketId] = Field(default_factory=list, max_length=1000)
    external_ids: list[non_blank(stored_in(Ticket.external_id))] = Field(
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

    target_precision: Number | None = Field(default=None, ge=0.5, le=1.0)
    auto_route: Boolean = True
    updated_by: text(stored_in(RoutingRule.updated_by)) | None = None

    @model_validator(mode="after")
    def _needs_target(self):
        if self.auto_route and self.target_precision is None:
            raise FieldError("target_precision", "a rule that keeps auto-routing on needs target_precision")
        return self
