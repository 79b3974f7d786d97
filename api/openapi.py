"""The OpenAPI 3.1 document, built from the same pydantic models that validate requests."""
from __future__ import annotations

from functools import lru_cache

from api import schemas
from triage.feedback import KINDS as FEEDBACK_KINDS

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message", "field"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "field": {"type": ["string", "null"]}}}}}

SUGGESTION = {"type": "object", "properties": {
    "article_id": {"type": "string"}, "title": {"type": ["string", "null"]},
    "url": {"type": ["string", "null"], "description": "the article's page, where one was given"},
    "score": {"type": "number", "description": "0..1: once the model has learnt from resolved tickets, the "
                                               "calibrated probability that the article resolves the ticket; "
                                               "before that, the hybrid (dense + BM25) match score"},
    "passage": {"type": ["string", "null"], "description": "best-matching passage of the article"},
    "rejected_for_similar_ticket": {"type": "number", "description": "present when agents rejected this article "
                                    "for a similar ticket (cosine to the closest one); its score was lowered"},
    "cosine": {"type": "number", "description": "search results: the dense part of the hybrid score"},
    "lexical": {"type": "number", "description": "search results: the saturated BM25 part, bm25/(bm25+5)"}}}

DECISION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "model_version": {"type": ["integer", "null"]},
    "category": {"type": ["string", "null"]}, "category_confidence": {"type": ["number", "null"]},
    "top_categories": {"type": "array", "items": {"type": "object", "properties": {
        "category": {"type": "string"}, "confidence": {"type": "number"}}}},
    "tier": {"type": ["string", "null"]}, "tier_confidence": {"type": ["number", "null"]},
    "priority": {"type": ["string", "null"], "description": "the desk's own priority label when a priority model "
                 "learned them (kbtriage import-tickets --priority-column), else P1-P4 from ITIL's impact x urgency "
                 "rules"},
    "priority_confidence": {"type": ["number", "null"], "description": "calibrated; null when from the rules"},
    "priority_reason": {"type": ["string", "null"], "description": "why, in words a person reads; for a ticket "
                        "of the top priority also why it was escalated or not, e.g. 'escalated: P1 at 0.93 ≥ "
                        "threshold 0.88 for target 0.95'"},
    "escalate": {"type": "boolean", "description": "true: the learned priority is the most urgent label at a "
                 "confidence at or above the version's escalation threshold (chosen on validation tickets for "
                 "the target precision; GET /v1/routing, priority.escalation); never true without a priority "
                 "model (the rules' P1-P4 have no calibrated confidence)"},
    "route": {"type": "string", "enum": ["auto", "review"]}, "queue": {"type": ["string", "null"]},
    "reason": {"type": "string"}, "suggestions": {"type": "array", "items": SUGGESTION},
    "gap": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"},
    "similar_tickets": {"type": "array", "description": "the most similar tickets of the last 7 days (cosine "
                        "0.75 or more), most similar first", "items": {"type": "object", "properties": {
                            "ticket_id": {"type": "integer"}, "created_at": {"type": "string"},
                            "similarity": {"type": "number"}}}},
    "surge": {"type": ["object", "null"], "description": "the surge test: similar tickets in the window (this one "
              "included), how many the last 7 days' rate leads one to expect, and whether that is a surge",
              "properties": {"similar_in_window": {"type": "integer"}, "window_minutes": {"type": "number"},
                             "expected": {"type": "number"}, "flag": {"type": "boolean"},
                             "ticket_ids": {"type": "array", "items": {"type": "integer"}},
                             "joined": {"type": ["object", "null"], "description": "set when the ticket joins a "
                                        "surge through a very similar ticket of the window that passes the test: that "
                                        "ticket's id, its similar tickets in the window and the count expected",
                                        "properties": {"ticket_id": {"type": "integer"},
                                                       "similar_in_window": {"type": "integer"},
                                                       "expected": {"type": "number"}}}}},
    "api_key": {"type": ["string", "null"], "description": "the name of the API key the decision was asked with"},
    "first_response_due": {"type": ["string", "null"], "format": "date-time"},
    "resolution_due": {"type": ["string", "null"], "format": "date-time"},
    "multi_issue": {"type": "boolean", "description": "the ticket holds two or more distinct requests"},
    "parts": {"type": "array", "description": "when multi_issue: each request, in the ticket's order, decided as a "
              "ticket of its own (open a child ticket for each)", "items": {"type": "object", "properties": {
                  "text": {"type": "string"}, "category": {"type": ["string", "null"]},
                  "category_confidence": {"type": ["number", "null"]}, "tier": {"type": ["string", "null"]},
                  "tier_confidence": {"type": ["number", "null"]}, "priority": {"type": ["string", "null"]},
                  "priority_confidence": {"type": ["number", "null"]}, "route": {"type": "string"},
                  "suggestions": {"type": "array", "items": SUGGESTION}, "gap": {"type": "boolean"}}}}}}

ARTICLE = {"type": "object", "properties": {
    "id": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"},
    "category": {"type": ["string", "null"]}, "tags": {"type": "array", "items": {"type": "string"}},
    "url": {"type": ["string", "null"]}, "updated_at": {"type": "string", "format": "date-time"}}}

_TEXT_OR_NULL = {"type": ["string", "null"]}
# What triage/feedback.py's view() answers for a stored event (POST /v1/feedback, a ticket's record).
FEEDBACK = {"type": "object", "required": [
    "id", "ticket_id", "decision_id", "kind", "article_id", "reason", "value", "first_touch", "agent_id",
    "model_version", "idempotency_key", "api_key", "created_at"], "properties": {
    "id": {"type": "integer"}, "ticket_id": {"type": "integer"}, "decision_id": {"type": ["integer", "null"]},
    "kind": {"type": "string", "enum": list(FEEDBACK_KINDS)}, "article_id": _TEXT_OR_NULL,
    "reason": {"type": ["string", "null"], "description": "why a suggestion was rejected (or an escalation's)"},
    "value": {**_TEXT_OR_NULL, "description": "a correction's category or tier"},
    "first_touch": {"type": ["boolean", "null"]}, "agent_id": _TEXT_OR_NULL,
    "model_version": {"type": ["integer", "null"], "description": "the version that made the decision"},
    "idempotency_key": _TEXT_OR_NULL,
    "api_key": {**_TEXT_OR_NULL, "description": "the name of the API key the event came with"},
    "created_at": {"type": ["string", "null"], "format": "date-time"}}}

MODEL_VERSION = {"type": "object", "properties": {
    "version": {"type": "integer"}, "status": {"type": "string"}, "encoder": {"type": ["string", "null"]},
    "report": {"type": "object"}, "created_at": {"type": "string"}, "activated_at": {"type": ["string", "null"]}}}

GAP_REPORT = {"type": "object", "properties": {
    "candidates": {"type": "integer"},
    "clustered": {"type": "integer", "description": "the newest candidates, clustered (5,000 at most)"},
    "assigned": {"type": "integer", "description": "older candidates that joined a cluster"},
    "clusters": {"type": "array", "items": {"type": "object", "properties": {
        "size": {"type": "integer"}, "latest": {"type": ["string", "null"]},
        "terms": {"type": "array", "items": {"type": "string"}}, "proposed_title": {"type": "string"},
        "reasons": {"type": "object"}, "representative_tickets": {"type": "array", "items": {"type": "object"}},
        "nearest_article": {"type": ["object", "null"]}, "ticket_ids": {"type": "array", "items": {"type": "integer"}}}}}}}

SURGE_REPORT = {"type": "object", "properties": {
    "window_minutes": {"type": "number"}, "tickets_in_window": {"type": "integer"},
    "surges": {"type": "array", "items": {"type": "object", "properties": {
        "size": {"type": "integer"}, "expected": {"type": "number"},
        "first_seen": {"type": "string"}, "last_seen": {"type": "string"},
        "proposed_title": {"type": "string"}, "terms": {"type": "array", "items": {"type": "string"}},
        "categories": {"type": "object"}, "gaps": {"type": "integer"}, "auto_routed": {"type": "integer"},
        "nearest_article": {"type": ["object", "null"]},
        "representative_tickets": {"type": "array", "items": {"type": "object"}},
        "ticket_ids": {"type": "array", "items": {"type": "integer"}}}}}}}

ARTICLE_REPORT = {"type": "object", "properties": {
    "since": {"type": ["string", "null"]}, "articles_total": {"type": "integer"}, "decisions": {"type": "integer"},
    "matching": {"type": "integer", "description": "articles that pass contains and category (articles is a page "
                                                   "of them)"},
    "categories": {"type": "array", "items": {"type": "string"},
                   "description": "every article's category, for the category filter"},
    "articles": {"type": "array", "items": {"type": "object", "properties": {
        "article_id": {"type": "string"}, "title": {"type": "string"}, "category": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"]}, "suggested": {"type": "integer"},
        "suggested_first": {"type": "integer"}, "accepted": {"type": "integer"}, "rejected": {"type": "integer"},
        "rejected_by_reason": {"type": "object", "additionalProperties": {"type": "integer"}},
        "resolved": {"type": "integer"},
        "resolution_rate": {"type": ["number", "null"],
                            "description": "of the tickets it was suggested for, the share it resolved"}}}},
    "never_suggested": {"type": "array", "items": {"type": "object"}},
    "near_duplicates": {"type": "array", "items": {"type": "object", "properties": {
        "articles": {"type": "array", "items": {"type": "object"}}, "similarity": {"type": "number"}}}}}}

LIVE_PRECISION = {"type": "object", "description": "judged = decisions agents confirmed or corrected", "properties": {
    "judged": {"type": "integer"}, "confirmed": {"type": "integer"}, "corrected": {"type": "integer"},
    "precision": {"type": ["number", "null"]},
    "interval": {"type": ["array", "null"], "items": {"type": "number"}, "description": "95% Wilson interval"}}}

_SLA_CLOCK = {"type": "object", "properties": {
    "met": {"type": "integer", "description": "stopped (responded / resolved) by its due time"},
    "breached": {"type": "integer", "description": "stopped after its due time, or still running past it"},
    "running": {"type": "integer", "description": "not stopped and not yet due: not counted"},
    "attainment": {"type": ["number", "null"], "description": "met / (met + breached); null when none counted"}}}
_SLA_ATTAINMENT = {"type": "object", "description": "SLA attainment over the tickets whose latest decision in the "
                   "window carries due times", "properties": {
                       "tickets": {"type": "integer"}, "first_response": _SLA_CLOCK, "resolution": _SLA_CLOCK}}

TRIAGE_REPORT = {"type": "object", "properties": {
    "since": {"type": ["string", "null"]}, "until": {"type": ["string", "null"]}, "decisions": {"type": "integer"},
    "routes": {"type": "object", "additionalProperties": {"type": "integer"}},
    "auto_route_rate": {"type": ["number", "null"]},
    "category_accuracy": LIVE_PRECISION,
    "calibration": {"type": "object", "description": "do the stated category confidences hold live?", "properties": {
        "judged": {"type": "integer"}, "ece": {"type": ["number", "null"]},
        "bins": {"type": "array", "items": {"type": "object", "properties": {
            "confidence": {"type": "array", "items": {"type": "number"}}, "decisions": {"type": "integer"},
            "mean_confidence": {"type": "number"}, "accuracy": {"type": "number"}}}}}},
    "auto_route": {"allOf": [LIVE_PRECISION, {"type": "object", "properties": {
        "target_precision": {"type": "number"},
        "below_target": {"type": "array", "items": {"type": "string"},
                         "description": "categories whose auto-routed precision is clearly under their target"}}}]},
    "tier_accuracy": {"allOf": [LIVE_PRECISION, {"type": "object", "properties": {
        "predicted_l1_escalated": {"type": "integer"}}}]},
    "suggestions": {"type": "object", "properties": {
        "answered_by_article": {"type": "integer"},
        "answered_at_rank": {"type": "object", "additionalProperties": {"type": "integer"}},
        "answered_by_unsuggested_article": {"type": "integer"}, "hit@1": {"type": ["number", "null"]},
        "hit@3": {"type": ["number", "null"]},
        "rejected_by_reason": {"type": "object", "additionalProperties": {"type": "integer"}}}},
    "first_contact_resolution": {"type": "object", "properties": {
        "tickets_with_outcome": {"type": "integer"}, "resolved_on_first_touch": {"type": "integer"},
        "rate": {"type": ["number", "null"]}}},
    "gaps": {"type": "object", "properties": {"flagged": {"type": "integer"},
                                              "answered_by_article_after_all": {"type": "integer"}}},
    "sla": {"allOf": [_SLA_ATTAINMENT, {"type": "object", "properties": {
        "now": {"type": "string", "format": "date-time", "description": "when running clocks were judged"},
        "priorities": {"type": "array", "items": {"allOf": [
            {"type": "object", "properties": {"level": {"type": "string", "enum": ["P1", "P2", "P3", "P4"]}}},
            _SLA_ATTAINMENT]}},
        "categories": {"type": "array", "items": {"allOf": [
            {"type": "object", "properties": {"category": {"type": "string"}}}, _SLA_ATTAINMENT]}}}}]},
    "categories": {"type": "array", "items": {"type": "object", "properties": {
        "category": {"type": "string"}, "decisions": {"type": "integer"}, "auto_routed": {"type": "integer"},
        "accuracy": LIVE_PRECISION,
        "auto_route": {"allOf": [LIVE_PRECISION, {"type": "object", "properties": {
            "target_precision": {"type": ["number", "null"]},
            "status": {"type": "string", "enum": ["ok", "watch", "below_target", "no_feedback", "not_routed"]}}}]}}}},
    "model_versions": {"type": "array", "items": {"type": "object"}}}}

_PERIOD_PRECISION = {"type": "object", "properties": {
    "start": {"type": "string", "format": "date-time"}, "auto_routed": {"type": "integer"},
    "judged": {"type": "integer"}, "confirmed": {"type": "integer"},
    "precision": {"type": ["number", "null"], "description": "null: no judged auto-routed decision in the period"}}}

TRENDS = {"type": "object", "required": ["live_precision", "learning_curve", "gaps"], "properties": {
    "live_precision": {"type": "object", "description": "per category, the precision of its auto-routed decisions "
                       "in each period, judged by agents' feedback as in the triage report", "properties": {
                           "every": {"type": "string", "enum": ["day", "week"]},
                           "periods": {"type": "array", "items": {"type": "string", "format": "date-time"},
                                       "description": "the periods' starts (UTC), oldest first"},
                           "categories": {"type": "array", "items": {"type": "object", "properties": {
                               "category": {"type": "string"}, "target_precision": {"type": ["number", "null"]},
                               "points": {"type": "array", "items": _PERIOD_PRECISION}}}}}},
    "learning_curve": {"type": "array", "description": "each trained version, oldest first, with the tickets it "
                       "learned from and its validation figures", "items": {"type": "object", "properties": {
                           "version": {"type": "integer"}, "status": {"type": "string"},
                           "created_at": {"type": ["string", "null"]}, "tickets": {"type": ["integer", "null"]},
                           "validated_on": {"type": ["integer", "null"]},
                           "category_accuracy": {"type": ["number", "null"]},
                           "category_macro_f1": {"type": ["number", "null"]},
                           "tier_accuracy": {"type": ["number", "null"]}}}},
    "gaps": {"type": "object", "description": "the content-gap worklist's clusters: their tickets per week over the "
             "12 weeks up to the newest of them, and how many came earlier", "properties": {
                 "weeks": {"type": "array", "items": {"type": "string", "format": "date-time"}},
                 "clusters": {"type": "array", "items": {"type": "object", "properties": {
                     "proposed_title": {"type": "string"}, "counts": {"type": "array", "items": {"type": "integer"}},
                     "earlier": {"type": "integer"}}}}}}}}

ROUTING_CLASS = {"type": "object", "properties": {
    "target_precision": {"type": ["number", "null"]}, "rule": {"type": "boolean"},
    "basis": {"type": "string", "enum": ["class", "all classes", "calibration", "off"],
              "description": "class: its own validation tickets; all classes: too few of its own, the threshold "
                             "that reaches the target over every class; calibration (rules only): the class's "
                             "calibrated confidences needed a higher threshold to average the target; off: a rule "
                             "switched auto-routing off"},
    "threshold": {"type": ["number", "null"], "description": "null: never auto-routed"},
    "predicted": {"type": "integer", "description": "validation tickets predicted as this class"},
    "precision": {"type": ["number", "null"]}, "coverage": {"type": ["number", "null"]}}}

ROUTING_RULE = {"type": "object", "properties": {
    "part": {"type": "string", "enum": ["category", "tier", "priority"]}, "label": {"type": "string"},
    "target_precision": {"type": ["number", "null"]}, "auto_route": {"type": "boolean"},
    "updated_by": {"type": ["string", "null"]}, "updated_at": {"type": "string"},
    "effect": {"oneOf": [{"$ref": "#/components/schemas/RoutingClass"}, {"type": "null"}],
               "description": "PUT: what the rule does on the active version's validation tickets"}}}

_ROUTING_PART = {"type": ["object", "null"], "properties": {
    "threshold": {"type": ["number", "null"]}, "precision": {"type": ["number", "null"]},
    "coverage": {"type": ["number", "null"]},
    "classes": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/RoutingClass"}}}}

ESCALATION = {"type": ["object", "null"], "description": "auto-escalation of the top priority: the lowest "
              "confidence at which validation tickets predicted as it reach the target precision", "properties": {
    "label": {"type": ["string", "null"]}, "target_precision": {"type": ["number", "null"]},
    "rule": {"type": "boolean"}, "threshold": {"type": ["number", "null"], "description": "null: escalation off"},
    "basis": {"type": "string", "description": "class: a threshold from the tickets predicted as the label; "
              "else why escalation is off (not reached, too few, rare, off by a rule)"},
    "precision": {"type": ["number", "null"], "description": "of the validation tickets escalated, the share "
                  "truly of the top priority"},
    "coverage": {"type": ["number", "null"], "description": "of the validation tickets truly of the top "
                 "priority, the share escalated"},
    "predicted": {"type": "integer"}, "support": {"type": "integer"}}}

ROUTING = {"type": "object", "properties": {
    "default_target_precision": {"type": "number"}, "model_version": {"type": ["integer", "null"]},
    "familiarity_threshold": {"type": ["number", "null"], "description": "tickets whose mean similarity to "
                              "their 5 nearest labelled tickets is below this go to review (a new kind of request)"},
    "rules": {"type": "array", "items": {"$ref": "#/components/schemas/RoutingRule"}},
    "category": _ROUTING_PART, "tier": _ROUTING_PART,
    "priority": {**_ROUTING_PART, "properties": {**_ROUTING_PART["properties"], "escalation": ESCALATION}},
    "live_auto_route": {"type": "object", "properties": {
        "since": {"type": "string"},
        "categories": {"type": "object", "additionalProperties": {"type": "object"},
                       "description": "per category: judged, confirmed, corrected, precision, interval, "
                                      "target_precision, status (as in the triage report)"}}}}}

JOB = {"type": "object", "properties": {
    "id": {"type": "integer"}, "trigger": {"type": "string"}, "promote": {"type": "string"},
    "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
    "progress": {"type": "array", "items": {"type": "string"}}, "worker": {"type": ["string", "null"]},
    "model_version": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]},
    "created_at": {"type": "string"}, "started_at": {"type": ["string", "null"]},
    "finished_at": {"type": ["string", "null"]}}}


API_KEY = {"type": "object", "properties": {
    "name": {"type": "string"}, "role": {"type": "string", "enum": ["intake", "agent", "editor", "admin"]},
    "prefix": {"type": "string"}, "state": {"type": "string", "enum": ["active", "expired", "revoked"]},
    "created_at": {"type": "string"}, "revoked_at": {"type": ["string", "null"]},
    "expires_at": {"type": ["string", "null"]}, "last_used_at": {"type": ["string", "null"]}}}
TICKET_RECORD = {"type": "object", "properties": {
    "id": {"type": "integer"}, "external_id": {"type": ["string", "null"]}, "subject": {"type": "string"},
    "body": {"type": "string"}, "channel": {"type": ["string", "null"]}, "meta": {"type": "object"},
    "created_at": {"type": "string"}, "category": {"type": ["string", "null"]}, "tier": {"type": ["string", "null"]},
    "status": {"type": "string"}, "resolved_by_article_id": {"type": ["string", "null"]}, "source": {"type": "string"},
    "decisions": {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}},
    "feedback": {"type": "array", "items": {"$ref": "#/components/schemas/Feedback"}}}}
ERASURE = {"type": "object", "properties": {
    "tickets": {"type": "integer"}, "decisions": {"type": "integer"}, "feedback": {"type": "integer"},
    "cached_vectors": {"type": "integer", "description": "cached embeddings deleted (every encoder's)"},
    "pruned_versions": {"type": "array", "items": {"type": "integer"},
                        "description": "model versions deleted because they may hold the tickets"},
    "serving_version": {"type": ["integer", "null"],
                        "description": "the version that serves until the retraining job replaces it (then deleted)"},
    "retrain_job": {"type": ["integer", "null"]}}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


FEEDBACK_ANSWER = {"anyOf": [_ref("Feedback"), {
    "type": "object", "required": ["events", "created"], "properties": {
        "events": {"type": "array", "items": _ref("Feedback")},
        "created": {"type": "array", "items": {"type": "boolean"}}}}]}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _resp(status, desc, schema=None):
    return {str(status): {"description": desc, **(_json(schema) if schema else {})}}


ERRORS = {**_resp(404, "unknown id", _ref("Error")), **_resp(422, "invalid input: the field named as sent (a "
                                                                "batch's tickets.N.field, an object's meta.key)",
                                                                _ref("Error"))}
TOO_LARGE = _resp(413, "the request body is larger than the service accepts (8 MiB)", _ref("Error"))
INTERNAL = _resp(500, "an unexpected error on the service's side; it has been logged", _ref("Error"))
# Endpoints that search the article index: after an encoder change, until the index is rebuilt.
STALE = _resp(409, "index_stale: the article index was built with another encoder; the service rebuilds it "
                   "when it starts (while it does, the message gives the progress and a Retry-After header "
                   "says when to try again), or run `kbtriage reindex`", _ref("Error"))


def _query_params(model):
    schema = model.model_json_schema()
    return [{"name": name, "in": "query", "required": name in schema.get("required", []), "schema": prop}
            for name, prop in schema["properties"].items()]


def _path_param(name, kind="string"):
    schema = {"type": kind, **({"minimum": 1, "maximum": 2**31 - 1} if kind == "integer" else {})}  # 32-bit ids
    return {"name": name, "in": "path", "required": True, "schema": schema}


@lru_cache(maxsize=4)
def openapi_document(open_access: bool = False, max_batch: int = 500) -> dict:
    """The document for a deployment: ``open_access``, no key is needed yet (no active key, none
    required), stated as an optional security requirement; ``max_batch``, KBTRIAGE_MAX_BATCH."""
    components = {"Error": ERROR, "Decision": DECISION, "Article": ARTICLE, "Feedback": FEEDBACK,
                  "ModelVersion": MODEL_VERSION, "Job": JOB, "GapReport": GAP_REPORT, "SurgeReport": SURGE_REPORT,
                  "ArticleReport": ARTICLE_REPORT, "TriageReport": TRIAGE_REPORT, "Trends": TRENDS,
                  "Routing": ROUTING, "RoutingRule": ROUTING_RULE,
                  "RoutingClass": ROUTING_CLASS, "TicketRecord": TICKET_RECORD}
    for model in (schemas.TriageRequest, schemas.TriageBatch, schemas.ArticleCreate, schemas.ArticleUpdate,
                  schemas.ArticleReplace, schemas.FeedbackRequest,
                  schemas.FeedbackBatch, schemas.TrainRequest, schemas.RoutingRuleRequest, schemas.EraseRequest, schemas.ApiKeyCreate,
                  schemas.GapsHandled, schemas.SlaPolicyRequest, schemas.PriorityMatrixRequest):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["TriageBatch"]["properties"]["tickets"]["maxItems"] = max_batch
    paths = {
        "/healthz": {"get": {"summary": "Liveness and what serves: status ok, or degraded with the problems named "
                                        "(a model version or index from another encoder)",
                             "responses": _resp(200, "ok or degraded", {"type": "object"})}},
        "/readyz": {"get": {"summary": "Readiness for a load balancer: 200 {ready: true} when this process can decide "
                                       "tickets; 503 {ready: false, reasons} with Retry-After while the database does "
                                       "not answer, no model version is active or the index is being rebuilt",
                            "responses": {**_resp(200, "ready", {"type": "object"}),
                                          **_resp(503, "not ready, with the reasons", {"type": "object"})}}},
        "/v1/triage": {"post": {"summary": "Triage a ticket and store the decision",
                                "requestBody": {"required": True, **_json(_ref("TriageRequest"))},
                                "responses": {**_resp(201, "the decision", _ref("Decision")), **STALE, **ERRORS}}},
        "/v1/triage/batch": {"post": {
            "summary": "Triage up to KBTRIAGE_MAX_BATCH (500) tickets in one call; all stored, or none when one "
                       "is invalid (the error names it: tickets.N.field)",
            "requestBody": {"required": True, **_json(_ref("TriageBatch"))},
            "responses": {**_resp(201, "the decisions, in the order of the tickets", {
                "type": "object", "properties": {"decisions": {"type": "array", "items": _ref("Decision")}}}),
                **STALE, **ERRORS}}},
        "/v1/decisions": {"get": {
            "summary": "Recent decisions, newest first, filtered by route, category, tier and gap (the queue)",
            "parameters": _query_params(schemas.DecisionListQuery),
            "responses": {**_resp(200, "a page of decisions", {"type": "object", "properties": {
                "items": {"type": "array", "items": _ref("Decision")}, "total": {"type": "integer"},
                "limit": {"type": "integer"}, "offset": {"type": "integer"}}}), **ERRORS}}},
        "/v1/triage/{decision_id}": {"get": {"summary": "A stored decision",
                                             "parameters": [_path_param("decision_id", "integer")],
                                             "responses": {**_resp(200, "the decision", _ref("Decision")), **ERRORS}}},
        "/v1/articles": {
            "get": {"summary": "List articles", "parameters": _query_params(schemas.ArticleListQuery),
                    "responses": {**_resp(200, "a page of articles", {"type": "object", "properties": {
                        "items": {"type": "array", "items": _ref("Article")}, "total": {"type": "integer"},
                        "limit": {"type": "integer"}, "offset": {"type": "integer"}}}), **ERRORS}},
            "post": {"summary": "Create an article (indexed at once)",
                     "requestBody": {"required": True, **_json(_ref("ArticleCreate"))},
                     "responses": {**_resp(201, "created", _ref("Article")),
                                   **_resp(409, "id already exists", _ref("Error")), **ERRORS}}},
        "/v1/articles/{article_id}": {
            "parameters": [_path_param("article_id")],
            "get": {"summary": "One article", "responses": {**_resp(200, "the article", _ref("Article")), **ERRORS}},
            "put": {"summary": "Replace an article's fields (title required)",
                    "requestBody": {"required": True, **_json(_ref("ArticleReplace"))},
                    "responses": {**_resp(200, "updated", _ref("Article")), **ERRORS}},
            "patch": {"summary": "Change some fields of an article",
                      "requestBody": {"required": True, **_json(_ref("ArticleUpdate"))},
                      "responses": {**_resp(200, "updated", _ref("Article")), **ERRORS}},
            "delete": {"summary": "Delete an article (and its passages from the index)",
                       "responses": {**_resp(204, "deleted"), **ERRORS}}},
        "/v1/tickets": {"get": {
            "summary": "Tickets with your external id, each with everything kept about it (as GET /v1/tickets/{ticket_id})",
            "parameters": _query_params(schemas.TicketQuery),
            "responses": {**_resp(200, "the tickets (none: an empty list)", {"type": "object", "properties": {
                "items": {"type": "array", "items": _ref("TicketRecord")}}}), **ERRORS}}},
        "/v1/tickets/{ticket_id}": {"get": {
            "summary": "Everything kept about a ticket: its fields, triage decisions and agents' feedback (an agent "
                       "console's history, or a customer's request for their data)",
            "parameters": [_path_param("ticket_id", "integer")],
            "responses": {**_resp(200, "the ticket", _ref("TicketRecord")), **ERRORS}}, "delete": {
            "summary": "Erase a ticket everywhere (admin): its row, decisions, feedback and cached vectors at once; "
                       "model versions that may hold it are deleted, and a training job replaces the serving one",
            "parameters": [_path_param("ticket_id", "integer")],
            "responses": {**_resp(200, "what was erased", ERASURE), **ERRORS}}},
        "/v1/tickets/erase": {"post": {
            "summary": "Erase tickets by id, external id or creation time (a retention period), as DELETE "
                       "/v1/tickets/{ticket_id} does for one; an unknown id erases nothing",
            "requestBody": {"required": True, **_json(_ref("EraseRequest"))},
            "responses": {**_resp(200, "what was erased", ERASURE), **ERRORS}}},
        "/v1/search": {"get": {"summary": "Search article passages", "parameters": _query_params(schemas.SearchQuery),
                               "responses": {**_resp(200, "matches", {"type": "object", "properties": {
                                   "query": {"type": "string"}, "results": {"type": "array", "items": SUGGESTION}}}),
                                   **STALE, **ERRORS}}},
        "/v1/gaps": {"get": {"summary": "Content gaps: clusters of tickets no article answers, biggest first",
                             "parameters": _query_params(schemas.GapsQuery),
                             "responses": {**_resp(200, "the worklist", _ref("GapReport")), **ERRORS}}},
        "/v1/gaps/handled": {"post": {
            "summary": "An editor dealt with a content gap: its cluster's tickets leave the worklist",
            "requestBody": {"required": True, **_json(_ref("GapsHandled"))},
            "responses": {**_resp(200, "how many tickets were marked", {
                "type": "object", "properties": {"handled": {"type": "integer"}}}), **ERRORS}}},
        "/v1/surges": {"get": {"summary": "Surges under way: groups of similar tickets in the last window, far "
                                          "above their kind's rate over the last 7 days, biggest first",
                               "parameters": _query_params(schemas.SurgesQuery),
                               "responses": {**_resp(200, "the surges", _ref("SurgeReport")), **ERRORS}}},
        "/v1/reports/articles": {"get": {
            "summary": "Article report: suggested, accepted, rejected by reason, resolution rate; never suggested; "
                       "near-duplicates", "parameters": _query_params(schemas.ArticleReportQuery),
            "responses": {**_resp(200, "the report", _ref("ArticleReport")), **ERRORS}}},
        "/v1/reports/trends": {"get": {
            "summary": "Reports over time: live auto-route precision per category per day or week, the learning curve "
                       "of model versions, content-gap clusters' tickets per week",
            "parameters": _query_params(schemas.TrendsQuery),
            "responses": {**_resp(200, "the trends", _ref("Trends")), **ERRORS}}},
        "/v1/reports/triage": {"get": {
            "summary": "Triage report: live category accuracy and auto-route precision per category against its "
                       "target, tier corrections, suggestion hit rates, first-contact resolution, from agents' feedback",
            "parameters": _query_params(schemas.TriageReportQuery),
            "responses": {**_resp(200, "the report", _ref("TriageReport")), **ERRORS}}},
        "/v1/feedback": {"post": {
            "summary": "Record agent feedback (one event, or {events: [...]}); idempotency_key makes retries safe",
            "requestBody": {"required": True, **_json({"oneOf": [_ref("FeedbackRequest"), _ref("FeedbackBatch")]})},
            "responses": {**_resp(201, "stored: the event, or for {events: [...]} the events and whether each was "
                                        "new (false: already stored under its idempotency key)", FEEDBACK_ANSWER),
                          **_resp(200, "already stored under its idempotency key: the event, or for {events: "
                                       "[...]} the events when every one was", FEEDBACK_ANSWER),
                          **_resp(409, "idempotency key reused for another event", _ref("Error")), **ERRORS}}},
        "/v1/models": {"get": {"summary": "Model versions with their reports",
                               "responses": _resp(200, "versions", {"type": "object", "properties": {
                                   "items": {"type": "array", "items": _ref("ModelVersion")}}})}},
        "/v1/models/train": {"post": {"summary": "Queue a training job; returns at once",
                                      "requestBody": {"required": False, **_json(_ref("TrainRequest"))},
                                      "responses": {**_resp(202, "job accepted", _ref("Job")), **ERRORS}}},
        "/v1/models/{version}/activate": {"post": {"summary": "Promote or roll back to a version",
                                                   "parameters": [_path_param("version", "integer")],
                                                   "responses": {**_resp(200, "now active", _ref("ModelVersion")),
                                                                 **_resp(409, "the version is training, failed or "
                                                                              "its files are missing", _ref("Error")),
                                                                 **ERRORS}}},
        "/v1/queue": {"get": {
            "summary": "Open tickets (not resolved) riskiest first for their SLA: breached before the rest, then "
                       "minutes left to the running clock (first response until a response, then resolution) divided "
                       "by the priority's weight (P1 4, P2 3, P3 2, P4 1)",
            "parameters": _query_params(schemas.QueueQuery),
            "responses": {**_resp(200, "a page of the queue", {"type": "object", "properties": {
                "items": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"},
                "now": {"type": "string", "format": "date-time"}}}), **ERRORS}}},
        "/v1/sla/policies": {"get": {
            "summary": "The SLA policies stored, and the built-in targets that serve where none matches",
            "responses": _resp(200, "policies", {"type": "object"})}},
        "/v1/sla/policies/{plan}/{priority}": {
            "parameters": [_path_param("plan"), _path_param("priority")],
            "put": {"summary": "Set the first-response and resolution targets, in minutes, for a customer plan ('*' "
                               "for any) and a priority (the desk's label or P1-P4); applies to tickets triaged "
                               "from now on",
                    "requestBody": {"required": True, **_json(_ref("SlaPolicyRequest"))},
                    "responses": {**_resp(200, "the policy", {"type": "object"}), **ERRORS}},
            "delete": {"summary": "Remove the policy", "responses": {**_resp(204, "removed"), **ERRORS}}},
        "/v1/priority/matrix": {
            "get": {"summary": "The impact x urgency matrix that decides priority where no priority model is "
                               "trained: the team's, or ITIL's (default true), with who changed it and when",
                    "responses": _resp(200, "the matrix", {"type": "object"})},
            "put": {"summary": "Set the team's matrix: every impact (wide, some, one) x urgency (high, medium, low) "
                               "cell a level P1-P4; decisions follow it at once, their reason naming the cell",
                    "requestBody": {"required": True, **_json(_ref("PriorityMatrixRequest"))},
                    "responses": {**_resp(200, "the matrix stored", {"type": "object"}), **ERRORS}}},
        "/v1/routing": {"get": {
            "summary": "Auto-routing policy: the deployment's target precision, the rules, and per category and tier "
                       "the active version's thresholds with the precision and coverage they reach on validation data; "
                       "live_auto_route: per category, the precision agents' feedback shows over the last live_days",
            "parameters": _query_params(schemas.RoutingQuery),
            "responses": {**_resp(200, "the policy in force", _ref("Routing")), **ERRORS}}},
        "/v1/routing/rules/{part}/{label}": {
            "parameters": [{**_path_param("part"), "schema": {"type": "string", "enum": ["category", "tier", "priority"]}},
                           _path_param("label")],
            "put": {"summary": "Set one category's or tier's target precision, or switch its auto-routing off (a "
                               "priority label's: its escalation when it is the top priority); "
                               "applies to the next decisions without retraining",
                    "requestBody": {"required": True, **_json(_ref("RoutingRuleRequest"))},
                    "responses": {**_resp(200, "the rule and its effect on validation data", _ref("RoutingRule")),
                                  **ERRORS}},
            "delete": {"summary": "Remove the rule: the deployment's target applies again",
                       "responses": {**_resp(204, "removed"), **ERRORS}}},
        "/v1/api-keys": {
            "get": {"summary": "Every API key: name, role, first characters, state, expiry, last use (admin; the "
                               "first key comes from `kbtriage api-key create` on the server)",
                    "responses": {**_resp(200, "the keys", {"type": "object", "properties": {
                        "items": {"type": "array", "items": API_KEY}}}), **ERRORS}},
            "post": {"summary": "Create a key; the answer holds the key itself, the only time it is shown",
                     "requestBody": {"required": True, **_json(_ref("ApiKeyCreate"))},
                     "responses": {**_resp(201, "created", {**API_KEY, "properties": {
                         **API_KEY["properties"], "key": {"type": "string"}}}),
                         **_resp(409, "a key with this name exists", _ref("Error")), **ERRORS}}},
        "/v1/api-keys/{name}": {"delete": {
            "summary": "Revoke a key at once (not the last usable admin key: 409)",
            "parameters": [_path_param("name")],
            "responses": {**_resp(200, "revoked", API_KEY), **_resp(409, "the last usable admin key", _ref("Error")),
                          **ERRORS}}},
        "/v1/jobs/{job_id}": {"get": {"summary": "A training job's progress and outcome",
                                      "parameters": [_path_param("job_id", "integer")],
                                      "responses": {**_resp(200, "the job", _ref("Job")), **ERRORS}}},
        "/metrics": {"get": {"summary": "Prometheus metrics: request latency by endpoint and status, decisions by "
                                        "route and gap, feedback events by kind, active model version, indexed passages, "
                                        "passages left to embed during an index rebuild, whether the service is degraded",
                             "responses": _resp(200, "text exposition format")}},
        "/v1/openapi.json": {"get": {"summary": "This document", "responses": _resp(200, "OpenAPI 3.1", {"type": "object"})}},
    }
    for path, ops in paths.items():
        for method, op in ops.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            op["responses"].update({**(TOO_LARGE if "requestBody" in op else {}), **INTERNAL})
            if path in ("/healthz", "/readyz", "/v1/openapi.json"):
                op["security"] = []  # public
            else:
                op["responses"].update({**_resp(401, "no API key, or an unknown or revoked one", _ref("Error")),
                                        **_resp(403, "the key's role does not allow this", _ref("Error"))})
    return {"openapi": "3.1.0",
            "info": {"title": "kb-triage", "version": "1", "description":
                     "Knowledge-base assisted ticket triage. Errors are JSON: {error: {code, message, field}}. "
                     "Once an API key exists, every endpoint but /healthz, /readyz and this document needs one, with a role "
                     "(intake < agent < editor < admin; kbtriage api-key create)."},
            "paths": paths,
            "components": {"schemas": components, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
            "security": [{"bearer": []}, {"apiKey": []}, *([{}] if open_access else [])]}
