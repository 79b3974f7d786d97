"""HTTP endpoints: translate requests into service calls and results into JSON, nothing more."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, jsonify, request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from api import errors, metrics, schemas
from api.openapi import openapi_document
from application import access
from application.feedback import record_feedback
from application import article_report as article_reports
from application import gaps as gap_worklist
from application import trends
from application.runtime import NO_ACTIVE_VERSION
from kb import service as kb_service
from common.errors import Forbidden, ValidationError
from models import jobs, registry
from triage import erasure, feedback, priority_settings, records, report, routing, sla, surges
from triage import service as triage_service

v1 = Blueprint("v1", __name__, url_prefix="/v1")


def rt():
    return current_app.extensions["kbtriage"]


def caller() -> str | None:
    """The name of the API key the request came with (None while keys are off)."""
    return g.get("api_key")


def request_json(*, optional: bool = False) -> dict:
    """The JSON object of the request (checked by :func:`api.schemas.json_document`); ``optional``:
    an empty body is {}."""
    if optional and not request.get_data():
        return {}
    if not request.is_json:
        raise ValidationError("request body must be JSON (Content-Type: application/json)", field="body",
                              code="invalid_json")
    data = schemas.json_document(request.get_data())
    if not isinstance(data, dict):
        raise ValidationError("request body must be a JSON object", field="body", code="invalid_json")
    return data


def validated(model: type[BaseModel], data: dict):
    """``data`` validated by ``model``; refused, the error names the field as the request wrote it."""
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise errors.invalid(exc, data) from None


def parse_body(model: type[BaseModel], *, optional: bool = False):
    """The JSON object of the request, validated by ``model``; ``optional``: an empty body is {}."""
    return validated(model, request_json(optional=optional))


def parse_query(model: type[BaseModel]):
    return validated(model, request.args.to_dict())


def article_view(a, with_body: bool = True) -> dict:
    out = {"id": a.id, "title": a.title, "category": a.category, "tags": a.tags, "url": a.url,
           "updated_at": a.updated_at.isoformat() if a.updated_at else None}
    if with_body:
        out["body"] = a.body
    return out


@v1.post("/triage")
def triage():
    req = parse_body(schemas.TriageRequest)
    with rt().db.session() as session:
        ticket, decision = triage_service.triage_ticket(session=session, engine=rt().engine,
                                                        fields=req.model_dump(), k=req.k, api_key=caller())
        view = triage_service.decision_view(ticket, decision)
    metrics.current().decided([view])
    return jsonify(view), 201


@v1.post("/triage/batch")
def triage_batch():
    req = parse_body(schemas.TriageBatch)
    if len(req.tickets) > rt().settings.max_batch:
        raise ValidationError(f"at most {rt().settings.max_batch} tickets per batch (KBTRIAGE_MAX_BATCH)",
                              field="tickets")
    with rt().db.session() as session:
        pairs = triage_service.triage_tickets(session=session, engine=rt().engine,
                                              items=[t.model_dump() for t in req.tickets], k=req.k,
                                              api_key=caller())
        views_ = [triage_service.decision_view(t, d) for t, d in pairs]
    metrics.current().decided(views_)
    return jsonify({"decisions": views_}), 201


@v1.get("/decisions")
def list_decisions():
    q = parse_query(schemas.DecisionListQuery)
    with rt().db.session() as session:
        rows, total = triage_service.recent_decisions(session=session, route=q.route, category=q.category or None,
                                                      tier=q.tier or None, gap=q.gap, surge=q.surge, limit=q.limit,
                                                      offset=q.offset)
        items = [triage_service.decision_view(t, d) for t, d in rows]
    return jsonify({"items": items, "total": total, "limit": q.limit, "offset": q.offset})


@v1.get("/triage/<int:decision_id>")
def get_triage(decision_id: int):
    with rt().db.session() as session:
        decision = triage_service.get_decision_or_raise(session=session, decision_id=decision_id)
        ticket = triage_service.get_ticket_or_raise(session=session, ticket_id=decision.ticket_id)
        return jsonify(triage_service.decision_view(ticket, decision))


@v1.get("/articles")
def list_articles():
    q = parse_query(schemas.ArticleListQuery)
    with rt().db.session() as session:
        rows, total = kb_service.list_articles(session=session, category=q.category, limit=q.limit, offset=q.offset)
        return jsonify({"items": [article_view(a, with_body=False) for a in rows], "total": total,
                        "limit": q.limit, "offset": q.offset})


@v1.post("/articles")
def create_article():
    req = parse_body(schemas.ArticleCreate)
    with rt().db.session() as session:
        article = kb_service.create_article(session=session, store=rt().store, item=req.model_dump(),
                                            chunk_words=rt().settings.chunk_words)
        return jsonify(article_view(article)), 201


@v1.get("/articles/<article_id>")
def get_article(article_id: str):
    with rt().db.session() as session:
        return jsonify(article_view(kb_service.get_or_raise(session=session, article_id=article_id)))


@v1.route("/articles/<article_id>", methods=["PUT", "PATCH"])
def update_article(article_id: str):
    req = parse_body(schemas.ArticleReplace if request.method == "PUT" else schemas.ArticleUpdate)
    with rt().db.session() as session:
        article = kb_service.update_article(session=session, store=rt().store, article_id=article_id,
                                            changes=req.model_dump(exclude_unset=True),
                                            chunk_words=rt().settings.chunk_words)
        return jsonify(article_view(article))


@v1.delete("/articles/<article_id>")
def delete_article(article_id: str):
    with rt().db.session() as session:
        kb_service.delete(session=session, store=rt().store, article_id=article_id)
    return "", 204


@v1.get("/tickets/<int:ticket_id>")
def get_ticket(ticket_id: int):
    with rt().db.session() as session:
        ticket = triage_service.get_ticket_or_raise(session=session, ticket_id=ticket_id)
        return jsonify(records.ticket_record(session=session, ticket=ticket))


@v1.get("/tickets")
def find_tickets():
    q = parse_query(schemas.TicketQuery)
    with rt().db.session() as session:
        found = triage_service.find_by_external_id(session=session, external_id=q.external_id)
        return jsonify({"items": [records.ticket_record(session=session, ticket=t) for t in found]})


def _erase(*, ticket_ids=(), external_ids=(), created_before=None) -> dict:
    with rt().db.session() as session:
        selection = erasure.select_tickets(session=session, ticket_ids=ticket_ids, external_ids=external_ids,
                                           created_before=created_before)
        return erasure.erase(session=session, selection=selection, embedding_cache=rt().cached_encoder,
                             models_dir=rt().settings.models_dir, engine=rt().engine, by=caller() or "api")


@v1.delete("/tickets/<int:ticket_id>")
def erase_ticket(ticket_id: int):
    with rt().db.session() as session:  # an unknown id is named as the path names it
        triage_service.get_ticket_or_raise(session=session, ticket_id=ticket_id)
    return jsonify(_erase(ticket_ids=[ticket_id]))


@v1.post("/tickets/erase")
def erase_tickets():
    req = parse_body(schemas.EraseRequest)
    return jsonify(_erase(ticket_ids=req.ticket_ids, external_ids=req.external_ids,
                          created_before=req.created_before))


@v1.get("/search")
def search():
    q = parse_query(schemas.SearchQuery)
    vectors = rt().encoder.encode([q.q])
    with rt().db.session() as session:
        [hits] = kb_service.search_passages(session=session, store=rt().store, vectors=vectors, texts=[q.q],
                                              k=q.k)
    return jsonify({"query": q.q, "results": [{**h, "score": round(h["score"], 4)} for h in hits]})


@v1.get("/gaps")
def gaps():
    q = parse_query(schemas.GapsQuery)
    with rt().db.session() as session:
        return jsonify(gap_worklist.report(session=session, store=rt().store, encoder=rt().cached_encoder,
                                      since=q.since, min_size=q.min_size, limit=q.limit,
                                      encoder_name=rt().settings.encoder))


@v1.post("/gaps/handled")
def gaps_handled():
    req = parse_body(schemas.GapsHandled)
    with rt().db.session() as session:
        return jsonify({"handled": gap_worklist.mark_handled(session=session, ticket_ids=req.ticket_ids,
                                                             handled_by=req.handled_by or caller())})


@v1.get("/surges")
def get_surges():
    q = parse_query(schemas.SurgesQuery)
    engine = rt().engine
    engine.current()  # takes other processes' new tickets
    with rt().db.session() as session:
        return jsonify(surges.report(session=session, memory=engine.surges, store=rt().store,
                                     min_size=q.min_size, limit=q.limit))


@v1.get("/reports/articles")
def article_report():
    q = parse_query(schemas.ArticleReportQuery)
    with rt().db.session() as session:
        return jsonify(article_reports.article_report(session=session, store=rt().store, since=q.since, sort=q.sort,
                                                limit=q.limit, offset=q.offset, contains=q.contains,
                                                category=q.category))


@v1.get("/reports/trends")
def trends_report():
    q = parse_query(schemas.TrendsQuery)
    with rt().db.session() as session:
        worklist = gap_worklist.report(session=session, store=rt().store, encoder=rt().cached_encoder,
                                       min_size=q.min_size, limit=q.limit, encoder_name=rt().settings.encoder)
        return jsonify({
            "live_precision": trends.live_precision_over_time(
                session=session, default_precision=rt().settings.route_precision, every=q.every, periods=q.periods),
            "learning_curve": trends.learning_curve(session=session),
            "gaps": trends.gap_clusters_over_time(session=session, clusters=worklist["clusters"])})


@v1.get("/reports/triage")
def triage_report():
    q = parse_query(schemas.TriageReportQuery)
    with rt().db.session() as session:
        return jsonify(report.triage_report(session=session, default_precision=rt().settings.route_precision,
                                            since=q.since, until=q.until))


@v1.post("/feedback")
def post_feedback():
    data = request_json()
    batch = "events" in data
    req = validated(schemas.FeedbackBatch if batch else schemas.FeedbackRequest, data)
    events = [{**e.model_dump(), "api_key": caller()} for e in (req.events if batch else [req])]
    with rt().db.session() as session:
        results = record_feedback(session=session, settings=rt().settings, events=events, batch=batch)
        views_ = [feedback.view(e) for e, _ in results]
        created = any(c for _, c in results)
        metrics.current().recorded([v for v, (_, c) in zip(views_, results) if c])
    if batch:
        return jsonify({"events": views_, "created": [c for _, c in results]}), 201 if created else 200
    return jsonify(views_[0]), 201 if created else 200


def version_view(v) -> dict:
    return {"version": v.id, "status": v.status, "encoder": v.encoder, "report": v.report,
            "created_at": v.created_at.isoformat() if v.created_at else None,
            "activated_at": v.activated_at.isoformat() if v.activated_at else None}


@v1.get("/models")
def list_models():
    with rt().db.session() as session:
        return jsonify({"items": [version_view(v) for v in registry.list_versions(session=session)]})


@v1.post("/models/train")
def start_training():
    req = parse_body(schemas.TrainRequest, optional=True)
    with rt().db.session() as session:
        return jsonify(jobs.view(jobs.enqueue(session=session, trigger="api", promote=req.promote))), 202


@v1.post("/models/<int:version_id>/activate")
def activate_model(version_id: int):
    with rt().db.session() as session:
        version = registry.activate(session=session, version_id=version_id)
        rt().engine.invalidate()  # this process serves it from the next request; others within seconds
        return jsonify(version_view(version))


@v1.get("/jobs/<int:job_id>")
def get_job(job_id: int):
    with rt().db.session() as session:
        return jsonify(jobs.view(jobs.get_or_raise(session=session, job_id=job_id)))


@v1.get("/queue")
def get_queue():
    """Open tickets, riskiest for their SLA first."""
    q = parse_query(schemas.QueueQuery)
    with rt().db.session() as session:
        return jsonify({**sla.queue(session=session, limit=q.limit, offset=q.offset, priority=q.priority),
                        "limit": q.limit,
                        "offset": q.offset})


@v1.get("/sla/policies")
def get_sla_policies():
    with rt().db.session() as session:
        return jsonify({"policies": [sla.view(p) for p in sla.policies(session=session)],
                        "built_in": sla.defaults_view()})


@v1.put("/sla/policies/<plan>/<priority>")
def put_sla_policy(plan: str, priority: str):
    req = parse_body(schemas.SlaPolicyRequest)
    with rt().db.session() as session:
        stored = sla.view(sla.set_policy(session=session, plan=plan, priority=priority, **req.model_dump()))
    rt().engine.invalidate()  # this process's next decision uses it; others follow the change feed
    return jsonify(stored)


@v1.delete("/sla/policies/<plan>/<priority>")
def delete_sla_policy(plan: str, priority: str):
    with rt().db.session() as session:
        sla.delete_policy(session=session, plan=plan, priority=priority)
    rt().engine.invalidate()
    return "", 204


@v1.get("/priority/matrix")
def get_priority_matrix():
    with rt().db.session() as session:
        return jsonify(priority_settings.matrix(session=session))


@v1.put("/priority/matrix")
def put_priority_matrix():
    req = parse_body(schemas.PriorityMatrixRequest)
    with rt().db.session() as session:
        # Kept with the matrix: who changed it (the caller's key when they do not say).
        stored = priority_settings.set_matrix(session=session, value=req.matrix.model_dump(), by=req.updated_by or caller())
    rt().engine.invalidate()  # this process decides by it at once; others within the engine's reload
    return jsonify(stored)


@v1.get("/routing")
def get_routing():
    q = parse_query(schemas.RoutingQuery)
    return jsonify(report.policy_in_force(rt().engine, live_days=q.live_days))


@v1.put("/routing/rules/<part>/<path:label>")
def put_routing_rule(part: str, label: str):
    req = parse_body(schemas.RoutingRuleRequest)
    return jsonify(routing.put_rule(rt().engine, part=part, label=label, **req.model_dump()))


@v1.delete("/routing/rules/<part>/<path:label>")
def delete_routing_rule(part: str, label: str):
    routing.remove_rule(rt().engine, part=part, label=label)
    return "", 204


def _require_a_key() -> None:
    """Keys are managed over the API only by a caller with a key: while none exists the API is
    open, and the first key must come from the server's CLI."""
    if caller() is None:
        raise Forbidden("create the first API key with `kbtriage api-key create NAME --role admin` on the server; "
                        "then manage keys here with an admin key", field="Authorization")


@v1.get("/api-keys")
def list_api_keys():
    _require_a_key()
    with rt().db.session() as session:
        return jsonify({"items": [access.view(k) for k in access.list_keys(session=session)]})


@v1.post("/api-keys")
def create_api_key():
    _require_a_key()
    req = parse_body(schemas.ApiKeyCreate)
    with rt().db.session() as session:
        row, key = access.create(session=session, name=req.name, role=req.role, expires_in_days=req.expires_in_days)
        return jsonify({**access.view(row), "key": key}), 201


@v1.delete("/api-keys/<name>")
def revoke_api_key(name: str):
    _require_a_key()
    with rt().db.session() as session:
        return jsonify(access.view(access.revoke(session=session, name=name, keep_an_admin=True)))


@v1.get("/openapi.json")
def openapi():
    with rt().db.session() as session:
        open_access = not access.checking(session=session, required=rt().settings.require_api_key)
    return jsonify(openapi_document(open_access, rt().settings.max_batch))


def healthz():
    """Up, and what serves: the status is ``degraded`` (still 200) when no model version is active
    (every ticket goes to review) or the active version or the article index cannot be used with
    the configured encoder, with the problems named."""
    with rt().db.session() as session:
        active = registry.active(session=session)
    problems = ([] if active else [NO_ACTIVE_VERSION]) + rt().problems()
    return jsonify({"status": "degraded" if problems else "ok", "model_version": active.id if active else None,
                    "indexed_passages": rt().store.count(), "encoder": rt().settings.encoder,
                    **({"problems": problems} if problems else {})})


READY_RETRY_SECONDS = 5


def readyz():
    """Readiness for load balancers: 200 when this process can decide tickets; 503 with the
    reasons (and Retry-After) while the database is away, no version is active or the index is
    being rebuilt. No key needed, like /healthz; it names no data."""
    reasons = rt().readiness()
    body = jsonify({"ready": not reasons, **({"reasons": reasons} if reasons else {})})
    if reasons:
        return body, 503, {"Retry-After": str(READY_RETRY_SECONDS)}
    return body


def register(app: Flask) -> None:
    app.register_blueprint(v1)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
