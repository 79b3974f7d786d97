"""The console's pages: a handler per page, as thin as an API view. Each calls the same application
and domain functions as the API and renders a template; every action is a form with a CSRF token,
and feedback carries an idempotency key made when the page was drawn, so a double click records
one event."""
from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from application import article_report as article_reports
from application import gaps as gap_worklist
from application import trends
from application.feedback import record_feedback
from common.db import as_utc
from common.errors import KBTriageError, NotFound, ValidationError
from console import auth, comparison, markdown, pictures
from kb import service as kb_service
from kb.chunking import chunk_article
from models import jobs, registry
from triage import feedback, records, report, routing, sla
from triage import service as triage_service

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static",
               static_url_path="/static")
rt = auth.runtime
QUEUE_PAGE = 50
ACTIONS = ("accepted", "rejected", "category_corrected", "tier_corrected", "resolved", "escalated")


@bp.app_context_processor
def _navigation():
    return {"may": auth.may, "user": g.get("console_user"), "role": g.get("console_role")}


@bp.errorhandler(KBTriageError)
def _domain_error(exc: KBTriageError):
    return page_error(exc.message, current_app.extensions["console.status_of"](exc))


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return page_error("This form has expired or did not come from this console; reload the page and try again.", 400)


def wants_page() -> bool:
    """Whether an error on this request is answered with a console page (not the API's JSON)."""
    return request.path == "/console" or request.path.startswith("/console/")


def page_error(message: str, status: int):
    return render_template("console/error.html", message=message, status=status), status


def http_error(exc: HTTPException):
    """Routing and protocol errors under /console/ (no such page, a form too large...) as a page."""
    messages = {404: "No such page.", 405: "This address does not take that kind of request; go back and use "
                "the page's own buttons.", 413: "That was too much to send at once."}
    response, status = page_error(messages.get(exc.code, exc.description or exc.name), exc.code or 500)
    return response, status, {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}


@bp.get("/sign-in")
def sign_in_page():
    return render_template("console/sign_in.html", next=_safe_next(request.args.get("next")))


@bp.post("/sign-in")
def sign_in():
    try:
        row = auth.sign_in(request.form.get("key", ""))
    except KBTriageError as exc:
        return render_template("console/sign_in.html", next=_safe_next(request.form.get("next")),
                               error=exc.message), 401 if exc.code != "forbidden" else 403
    flash(f"Signed in as {row.name} ({row.role}).")
    return redirect(_safe_next(request.form.get("next")) or url_for("console.queue"))


@bp.post("/sign-out")
def sign_out():
    auth.sign_out()
    return redirect(url_for("console.sign_in_page"))


def _safe_next(value: str | None) -> str | None:
    """Only a path of this console: never send a person elsewhere after sign-in."""
    if not value or not value.startswith("/console/") or any(c in value for c in "\\\x00\r\n\t") \
            or not value.isprintable():
        return None
    return value


@bp.get("/")
@auth.needs("agent")
def queue():
    return _queue_page()


def _queue_filters() -> dict:
    """The queue's filters as the form sent them, for triage.service.recent_decisions."""
    return {**{name: (request.args.get(name) or None) for name in ("route", "category", "tier")},
            **{name: _yes_no(name) for name in ("gap", "surge")}}


def _queue_page(draft: dict | None = None, error: str | None = None, status: int = 200):
    filters = {name: (request.args.get(name) or None) for name in ("route", "category", "tier")}
    offset = _int_arg("offset", 0, 0, 10**9)
    with rt().db.session() as session:
        rows, total = triage_service.recent_decisions(session=session, limit=QUEUE_PAGE, offset=offset,
                                                      **_queue_filters())
        labels = triage_service.labels_in_use(session=session)
    now = datetime.now(timezone.utc)
    items = [{"decision": d, "ticket": t, "age": _age(now, d.created_at)} for t, d in rows]
    shown = {**filters, "gap": request.args.get("gap", ""), "surge": request.args.get("surge", "")}
    older = (url_for("console.queue", offset=offset + QUEUE_PAGE, **{k: v for k, v in shown.items() if v})
             if offset + QUEUE_PAGE < total else None)
    csv_url = url_for("console.queue_csv", **{k: v for k, v in shown.items() if v})
    return render_template("console/queue.html", items=items, total=total, filters=shown, labels=labels, older=older,
                           csv_url=csv_url, draft=draft or {}, error=error), status


QUEUE_CSV_ROWS = 10000  # the newest decisions a download holds


@bp.get("/queue.csv")
@auth.needs("agent")
def queue_csv():
    """The queue as shown (its filters), newest first, up to QUEUE_CSV_ROWS decisions."""
    with rt().db.session() as session:
        rows, _ = triage_service.recent_decisions(session=session, limit=QUEUE_CSV_ROWS, **_queue_filters())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["decision_id", "ticket_id", "created_at", "subject", "category", "category_confidence", "tier",
                     "route", "queue", "gap", "surge"])
    for t, d in rows:
        surge = bool(((d.related or {}).get("surge") or {}).get("flag"))
        writer.writerow([d.id, t.id, d.created_at.isoformat() if d.created_at else "", _cell(t.subject),
                         _cell(d.category), "" if d.category_confidence is None else round(d.category_confidence, 4),
                         _cell(d.tier), d.route, _cell(d.queue), "yes" if d.gap else "no", "yes" if surge else "no"])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=queue.csv"})


@bp.post("/triage")
@auth.needs("agent")
def triage_ticket():
    fields = {"subject": request.form.get("subject", ""), "body": request.form.get("body", "")}
    try:
        with rt().db.session() as session:
            ticket, decision = triage_service.triage_ticket(session=session, engine=rt().engine, fields=fields,
                                                            api_key=g.get("console_user"))
            decision_id = decision.id
    except ValidationError as exc:  # the pasted text stays in the box, with what to fix
        return _queue_page(draft=fields, error=f"Not triaged: {exc.message}", status=422)
    return redirect(url_for("console.decision", decision_id=decision_id))


@bp.get("/decisions/<int:decision_id>")
@auth.needs("agent")
def decision(decision_id: int):
    with rt().db.session() as session:
        found = triage_service.get_decision_or_raise(session=session, decision_id=decision_id)
        ticket = triage_service.get_ticket_or_raise(session=session, ticket_id=found.ticket_id)
        view = triage_service.decision_view(ticket, found)
        events = records.ticket_record(session=session, ticket=ticket)["feedback"]
        labels = triage_service.labels_in_use(session=session)
    now = datetime.now(timezone.utc)
    stopped = {name: _iso(getattr(ticket, name)) for name in ("responded_at", "resolved_at")}
    clocks = {"first_response": _clock(view["first_response_due"], now, stopped["responded_at"]),
              "resolution": _clock(view["resolution_due"], now, stopped["resolved_at"])}
    return render_template("console/decision.html", d=view, ticket=ticket, events=events, labels=labels,
                           reasons=feedback.REJECT_REASONS, action_key=uuid.uuid4().hex, clocks=clocks,
                           priority_why=_priority_why(view["priority"], view.get("priority_reason")))


def _priority_why(label: str | None, reason: str | None) -> str | None:
    """The priority's reason without the label (and confidence) it starts with ("P2 (0.83) from the
    wording...", "P1: many affected..."), which the page already shows beside the priority."""
    if not reason or not label:
        return reason
    lead = re.match(rf"{re.escape(label)}(?: \(\d(?:\.\d+)?\))?:?\s+", reason)
    return reason[lead.end():] if lead else reason


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None


@bp.post("/decisions/<int:decision_id>/feedback")
@auth.needs("agent")
def decision_feedback(decision_id: int):
    _record_action(decision_id, request.form)
    return redirect(url_for("console.decision", decision_id=decision_id))


def _record_action(decision_id: int, form) -> None:
    """One button's feedback on a decision, through the same code as POST /v1/feedback; what
    happened is flashed on the page the person goes back to."""
    kind = form.get("kind", "")
    event = {"kind": kind, "decision_id": decision_id, "article_id": form.get("article_id") or None,
             "reason": form.get("reason") or None, "value": form.get("value", "").strip() or None,
             "first_touch": (form.get("first_touch") == "yes") if kind == "resolved" else None,
             "agent_id": g.get("console_user") or "console", "api_key": g.get("console_user"),
             "idempotency_key": _action_key(form.get("action_key"), kind, form, decision_id)}
    try:
        with rt().db.session() as session:
            [(_, created)] = record_feedback(session=session, settings=rt().settings, events=[event])
    except KBTriageError as exc:
        flash(f"Not recorded: {exc.message}", "error")
        return
    flash(_said(event) if created else "Already recorded (the same action was sent twice).")


def _action_key(page_key: str | None, kind: str, form, decision_id: int) -> str | None:
    """One idempotency key per action drawn on a page: the same button sent twice is one event
    (a page of many tickets, the SLA queue, draws one button per decision)."""
    if not page_key or not page_key.isalnum() or len(page_key) > 64:
        return None
    part = form.get("article_id") or form.get("value") or ""
    return f"console:{page_key}:{decision_id}:{kind}:{part}"[:200]


def _said(event: dict) -> str:
    return {"accepted": f"Accepted article {event['article_id']}.",
            "rejected": f"Rejected article {event['article_id']} ({event['reason']}).",
            "category_corrected": f"Category corrected to {event['value']}.",
            "tier_corrected": f"Tier corrected to {event['value']}.",
            "resolved": "Marked resolved" + (" on first touch." if event["first_touch"] else "."),
            "responded": "Marked responded: the first-response clock stopped.",
            "escalated": "Escalated."}.get(event["kind"], "Recorded.")


@bp.get("/gaps")
@auth.needs("editor")
def gaps():
    with rt().db.session() as session:
        worklist = gap_worklist.report(session=session, store=rt().store, encoder=rt().cached_encoder,
                                       min_size=_int_arg("min_size", 3, 1, 1000), limit=50,
                                       encoder_name=rt().settings.encoder)
        weekly = pictures.gap_weeks(trends.gap_clusters_over_time(session=session, clusters=worklist["clusters"]))
    return render_template("console/gaps.html", worklist=worklist, weekly=weekly, draft_body=_draft_body)


@bp.post("/gaps/handled")
@auth.needs("editor")
def gaps_handled():
    raw = request.form.get("ticket_ids", "")
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValidationError("ticket_ids must be ticket ids separated by commas", field="ticket_ids") from None
    with rt().db.session() as session:
        n = gap_worklist.mark_handled(session=session, ticket_ids=ids, handled_by=g.get("console_user") or "console")
    flash(f"Marked handled: {n} tickets left the worklist.")
    return redirect(url_for("console.gaps"))


@bp.get("/gaps.csv")
@auth.needs("editor")
def gaps_csv():
    with rt().db.session() as session:
        worklist = gap_worklist.report(session=session, store=rt().store, encoder=rt().cached_encoder, limit=200,
                                       min_size=_int_arg("min_size", 3, 1, 1000), encoder_name=rt().settings.encoder)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["proposed_title", "size", "latest", "terms", "nearest_article", "ticket_ids"])
    for c in worklist["clusters"]:
        nearest = (c.get("nearest_article") or {}).get("article_id") or ""
        writer.writerow([_cell(c["proposed_title"]), c["size"], c["latest"] or "", _cell(" ".join(c["terms"])),
                         _cell(nearest), " ".join(str(i) for i in c["ticket_ids"])])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=content-gaps.csv"})


def _draft_body(cluster: dict) -> str:
    """A new article's first draft for a gap: what the tickets asked, in their own words."""
    asked = "\n".join(f"- {' '.join(t['text'].split())}" for t in cluster["representative_tickets"])
    return f"Customers asked:\n\n{asked}\n\n## Answer\n\n"


@bp.get("/articles")
@auth.needs("editor")
def articles():
    sort = request.args.get("sort", "suggested")
    with rt().db.session() as session:
        data = article_reports.article_report(session=session, store=rt().store, sort=sort, limit=500,
                                              **_article_filters())
        triage = report.triage_report(session=session, default_precision=rt().settings.route_precision)
    filters = _article_filters()
    return render_template("console/articles.html", data=data, triage=triage, sort=sort, sorts=article_reports.SORTS,
                           reasons=feedback.REJECT_REASONS, filters=filters,
                           csv_url=url_for("console.articles_csv", sort=sort,
                                                            **{k: v for k, v in filters.items() if v}))


def _article_filters() -> dict:
    """The article report's filters as the page's form sent them (an empty field: no filter)."""
    return {name: request.args.get(name) or None for name in ("contains", "category")}


@bp.get("/articles.csv")
@auth.needs("editor")
def articles_csv():
    with rt().db.session() as session:
        data = article_reports.article_report(session=session, store=rt().store, limit=100000,
                                              sort=request.args.get("sort", "suggested"), **_article_filters())
    out = io.StringIO()
    writer = csv.writer(out)
    reasons = list(feedback.REJECT_REASONS)
    writer.writerow(["article_id", "title", "suggested", "suggested_first", "accepted", "rejected",
                     *[f"rejected_{r}" for r in reasons], "resolved", "resolution_rate"])
    for row in data["articles"]:
        writer.writerow([_cell(row["article_id"]), _cell(row.get("title")), row["suggested"], row["suggested_first"],
                         row["accepted"], row["rejected"], *[row["rejected_by_reason"][r] for r in reasons],
                         row["resolved"], row["resolution_rate"]])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=article-report.csv"})


def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.get("/articles/new")
@auth.needs("editor")
def new_article():
    draft = {"id": "", "title": request.args.get("title", "")[:500], "body": request.args.get("body", "")[:20000],
             "category": request.args.get("category", ""), "tags": "", "url": ""}
    return render_template("console/article_edit.html", article=draft, new=True, preview=None)


@bp.post("/articles/new")
@auth.needs("editor")
def create_article():
    item = _article_form()
    if _preview_or_save() == "preview":
        return _preview(item, new=True)
    with rt().db.session() as session:
        article = kb_service.create_article(session=session, store=rt().store, item=item,
                                            chunk_words=rt().settings.chunk_words)
        flash(f"Article {article.id} created and indexed: suggestions can use it now.")
        return redirect(url_for("console.edit_article", article_id=article.id))


@bp.get("/articles/<article_id>/edit")
@auth.needs("editor")
def edit_article(article_id: str):
    with rt().db.session() as session:
        a = kb_service.get_or_raise(session=session, article_id=article_id)
        article = {"id": a.id, "title": a.title, "body": a.body, "category": a.category or "",
                   "tags": ", ".join(a.tags or []), "url": a.url or ""}
    return render_template("console/article_edit.html", article=article, new=False, preview=None)


@bp.post("/articles/<article_id>/edit")
@auth.needs("editor")
def update_article(article_id: str):
    item = {**_article_form(), "id": article_id}
    if _preview_or_save() == "preview":
        return _preview(item, new=False)
    changes = {k: v for k, v in item.items() if k != "id"}
    with rt().db.session() as session:
        kb_service.update_article(session=session, store=rt().store, article_id=article_id, changes=changes,
                                  chunk_words=rt().settings.chunk_words)
    flash(f"Article {article_id} saved and indexed again.")
    return redirect(url_for("console.edit_article", article_id=article_id))


@bp.post("/articles/<article_id>/delete")
@auth.needs("editor")
def delete_article(article_id: str):
    with rt().db.session() as session:
        kb_service.delete(session=session, store=rt().store, article_id=article_id)
    flash(f"Article {article_id} deleted; it is no longer suggested.")
    return redirect(url_for("console.articles"))


def _preview_or_save() -> str:
    action = request.form.get("action")
    if action not in ("preview", "save"):
        raise ValidationError("action must be preview or save", field="action")
    return action


def _article_form() -> dict:
    form = request.form
    tags = [t.strip() for t in form.get("tags", "").split(",") if t.strip()]
    return {"id": form.get("id", "").strip(), "title": form.get("title", "").strip(), "body": form.get("body", ""),
            "category": form.get("category", "").strip() or None, "tags": tags,
            "url": form.get("url", "").strip() or None, "body_format": "text"}


def _preview(item: dict, *, new: bool):
    """The article as agents will meet it in suggestions: the passages it is cut into."""
    kb_service.check_article({**item, "id": item["id"] or "preview"}, new_id=new)
    passages = chunk_article(item["title"], item["body"], words=rt().settings.chunk_words)
    shown = {**item, "tags": ", ".join(item["tags"]), "category": item["category"] or "", "url": item["url"] or ""}
    return render_template("console/article_edit.html", article=shown, new=new, preview=passages,
                           rendered=markdown.render(item["body"]))


@bp.get("/models")
@auth.needs("admin")
def models():
    with rt().db.session() as session:
        versions = registry.list_versions(session=session)
        job = jobs.pending(session=session)
        job = jobs.view(job) if job else None
        curve = trends.learning_curve(session=session)
    # The active version's per-class tables beside another's: the one asked for, else the newest other.
    left = next((v for v in versions if v.status == "active"), versions[0] if versions else None)
    asked = _int_arg("compare", 0, 0, 2**31 - 1)
    right = next((v for v in versions if v.id == asked), None) if asked else \
        next((v for v in versions if v is not left and v.report), None)
    if asked and right is None:
        raise NotFound(f"no model version {asked}", field="compare")
    return render_template("console/models.html", versions=versions, job=job, promote=jobs.PROMOTE,
                           curve=curve, curve_chart=pictures.learning_curve(curve), left=left, right=right,
                           per_class=comparison.side_by_side(left, right) if left else {})


@bp.post("/models/train")
@auth.needs("admin")
def train_model():
    promote = request.form.get("promote", "auto")
    with rt().db.session() as session:
        waiting = jobs.pending(session=session)
        job = jobs.enqueue(session=session, trigger="console", promote=promote)
        if waiting is not None and waiting.id == job.id:  # one job waits at a time, as it was asked for
            flash(f"Training job {job.id} was already {job.status} (asked by {job.trigger}, promote {job.promote}); "
                  "it stays as it is.")
        else:
            flash(f"Training job {job.id} is queued; its progress shows below.")
    return redirect(url_for("console.models"))


@bp.get("/jobs/<int:job_id>")
@auth.needs("admin")
def job_progress(job_id: int):
    """The job's state as JSON, for the models page to follow it live."""
    with rt().db.session() as session:
        return jobs.view(jobs.get_or_raise(session=session, job_id=job_id))


@bp.post("/models/<int:version_id>/activate")
@auth.needs("admin")
def activate_model(version_id: int):
    with rt().db.session() as session:
        registry.activate(session=session, version_id=version_id)
    rt().engine.invalidate()  # this process serves it from the next request; others within seconds
    flash(f"Model version {version_id} now serves every new ticket.")
    return redirect(url_for("console.models"))


@bp.get("/routing")
@auth.needs("admin")
def routing_page():
    policy = report.policy_in_force(rt().engine, live_days=30)
    rules = {(r["part"], r["label"]): r for r in policy["rules"]}
    every = request.args.get("every") or "week"
    with rt().db.session() as session:
        calibration = report.triage_report(session=session, default_precision=rt().settings.route_precision)["calibration"]
        over_time = trends.live_precision_over_time(session=session, default_precision=rt().settings.route_precision,
                                                    every=every, periods=_int_arg("periods", 12, 1, trends.MAX_PERIODS))
    return render_template("console/routing.html", policy=policy, parts=routing.PARTS, rules=rules,
                           calibration=calibration, over_time=over_time,
                           precision_charts=pictures.live_precision(over_time))


@bp.post("/routing/<part>/<path:label>")
@auth.needs("admin")
def routing_rule(part: str, label: str):
    action = request.form.get("action")
    if action == "reset":
        routing.remove_rule(rt().engine, part=part, label=label)
        flash(f"The rule for {part} {label} is removed: the default target applies again.")
    elif action in ("set", "off"):
        target = None
        if action == "set":
            raw = request.form.get("target_precision", "")
            try:
                target = float(raw)
            except ValueError:
                raise ValidationError(f"target_precision must be a number from 0.5 to 1.0, not {raw[:40]!r}",
                                      field="target_precision") from None
        routing.put_rule(rt().engine, part=part, label=label, target_precision=target, auto_route=action == "set",
                         updated_by=g.get("console_user") or "console")
        flash(f"{part.capitalize()} {label}: " + (f"target precision {target:g}." if action == "set"
                                                   else "never auto-routed."))
    else:
        raise ValidationError("action must be set, off or reset", field="action")
    return redirect(url_for("console.routing_page"))


SLA_PAGE = 50


def _sla_filters() -> dict:
    """The SLA queue's filter as the form sent it (an empty field: every priority)."""
    return {"priority": request.args.get("priority") or None}


@bp.get("/sla")
@auth.needs("agent")
def sla_queue():
    """Open tickets by SLA risk, as GET /v1/queue orders them, with both clocks in words."""
    offset = _int_arg("offset", 0, 0, 10**9)
    with rt().db.session() as session:
        found = sla.queue(session=session, limit=SLA_PAGE, offset=offset, **_sla_filters())
    now = datetime.fromisoformat(found["now"])
    items = [{**i, "first_response": _clock(i["first_response_due"], now, i["responded_at"]),
              "resolution": _clock(i["resolution_due"], now)} for i in found["items"]]
    shown = {k: v for k, v in _sla_filters().items() if v}
    more = url_for("console.sla_queue", offset=offset + SLA_PAGE, **shown) \
        if offset + SLA_PAGE < found["total"] else None
    return render_template("console/sla.html", items=items, total=found["total"], filters=shown, more=more,
                           levels=list(sla.WEIGHT), csv_url=url_for("console.sla_csv", **shown),
                           action_key=uuid.uuid4().hex, back=request.full_path.rstrip("?"))


@bp.post("/sla/<int:decision_id>/<any(responded, resolved):kind>")
@auth.needs("agent")
def sla_action(decision_id: int, kind: str):
    """Responded or resolved from the SLA queue: the clocks stop, and the person stays on the queue."""
    _record_action(decision_id, {**request.form.to_dict(), "kind": kind})
    back = _safe_next(request.form.get("back"))
    return redirect(back if back and back.startswith("/console/sla") else url_for("console.sla_queue"))


SLA_CSV_ROWS = 10000  # the riskiest open tickets a download holds


@bp.get("/sla.csv")
@auth.needs("agent")
def sla_csv():
    """The SLA queue as shown (its filter), riskiest first, up to SLA_CSV_ROWS tickets."""
    with rt().db.session() as session:
        found = sla.queue(session=session, limit=SLA_CSV_ROWS, **_sla_filters())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ticket_id", "decision_id", "subject", "priority", "level", "plan", "category", "tier", "status",
                     "clock", "due", "minutes_left", "breached", "first_response_due", "resolution_due",
                     "responded_at"])
    for i in found["items"]:
        writer.writerow([i["ticket_id"], i["decision_id"], _cell(i["subject"]), _cell(i["priority"]), i["level"],
                         _cell(i["plan"]), _cell(i["category"]), _cell(i["tier"]), _cell(i["status"]), i["clock"],
                         i["due"], i["minutes_left"], "yes" if i["breached"] else "no", i["first_response_due"],
                         i["resolution_due"], i["responded_at"] or ""])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=sla-queue.csv"})


def _clock(due: str | None, now: datetime, stopped: str | None = None) -> dict:
    """A due time in words: time left, "breached N min ago", or stopped (met or late)."""
    if not due:
        return {"due": None, "text": "no target", "breached": False}
    at = as_utc(datetime.fromisoformat(due))
    if stopped:
        late = as_utc(datetime.fromisoformat(stopped)) > at
        return {"due": at, "text": "stopped, " + ("late" if late else "in time"), "breached": late, "stopped": True}
    minutes = (at - now).total_seconds() / 60
    if minutes < 0:
        return {"due": at, "text": f"breached {_duration(-minutes)} ago", "breached": True}
    return {"due": at, "text": f"{_duration(minutes)} left", "breached": False}


def _duration(minutes: float) -> str:
    whole = int(minutes)
    if whole < 60:
        return f"{whole} min"
    if whole < 48 * 60:
        return f"{whole // 60} h {whole % 60} min"
    return f"{whole // 1440} d {whole % 1440 // 60} h"


@bp.get("/sla/policies")
@auth.needs("agent")
def sla_policies():
    return _sla_policies_page()


def _sla_policies_page(form: dict | None = None, errors: dict | None = None, status: int = 200):
    with rt().db.session() as session:
        stored = [sla.view(p) for p in sla.policies(session=session)]
    return render_template("console/sla_policies.html", policies=stored, built_in=sla.defaults_view(),
                           form=form or {"plan": sla.ANY_PLAN}, errors=errors or {},
                           max_minutes=sla.MAX_MINUTES), status


@bp.post("/sla/policies")
@auth.needs("admin")  # as the API's PUT and DELETE /v1/sla/policies/<plan>/<priority>
def sla_policy():
    """Set or remove the targets of one plan and priority; bad input is named beside its field."""
    form = {name: request.form.get(name, "").strip() for name in
            ("plan", "priority", "first_response_minutes", "resolution_minutes", "business_hours", "timezone")}
    action = request.form.get("action")
    try:
        with rt().db.session() as session:
            if action == "delete":
                sla.delete_policy(session=session, plan=form["plan"], priority=form["priority"])
                flash(f"The policy for plan '{form['plan']}', priority '{form['priority']}' is removed: "
                      "the next less specific one applies to tickets triaged from now on.")
            elif action == "set":
                minutes = {name: _minutes(form[name], name) for name in ("first_response_minutes",
                                                                          "resolution_minutes")}
                # An empty field: around the clock (business_hours), UTC (timezone), as the API's absent keys.
                stored = sla.set_policy(session=session, plan=form["plan"], priority=form["priority"],
                                        business_hours=form["business_hours"] or None,
                                        timezone=form["timezone"] or None,
                                        updated_by=g.get("console_user") or "console", **minutes)
                hours = (f"in business hours {stored.business_hours} ({stored.timezone})" if stored.business_hours
                         else "around the clock")
                flash(f"Plan '{form['plan']}', priority '{form['priority']}': first response within "
                      f"{minutes['first_response_minutes']} min, resolution within {minutes['resolution_minutes']} "
                      f"min, counted {hours}, for tickets triaged from now on.")
            else:
                raise ValidationError("action must be set or delete", field="action")
    except (ValidationError, NotFound) as exc:
        return _sla_policies_page(form=form, errors={exc.field or "plan": exc.message},
                                  status=current_app.extensions["console.status_of"](exc))
    rt().engine.invalidate()  # this process's next decision uses it; others follow the change feed
    return redirect(url_for("console.sla_policies"))


def _minutes(raw: str, name: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ValidationError(f"{name} must be a whole number of minutes from 1 to {sla.MAX_MINUTES}", field=name)
    return int(raw)


def _yes_no(name: str) -> bool | None:
    raw = request.args.get(name, "")
    if raw not in ("", "yes", "no"):
        raise ValidationError(f"{name} must be yes or no", field=name)
    return {"yes": True, "no": False}.get(raw)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ValidationError(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def _age(now: datetime, then: datetime | None) -> str:
    if then is None:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
