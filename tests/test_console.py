"""The web console through Flask's test client: what a request gets back and what is then stored.
The same pages are driven in a real browser in tests/test_console_browser.py."""
import html
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from api.app import create_app
from application import access
from tests.conftest import demo_runtime
from models import jobs, registry
from triage import routing, sla
from triage import service as triage_service
from triage.tables import FeedbackEvent, SlaPolicy, Ticket, TriageDecision

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def console_runtime(tmp_path_factory):
    rt = demo_runtime(tmp_path_factory.mktemp("console"), 300, versions=2)
    yield rt
    rt.close()


@pytest.fixture
def web(console_runtime):
    app = create_app(runtime=console_runtime, start_worker=False)
    return app.test_client()


def token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def count(rt, model, *where) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def said(r) -> str:
    """The page's text as a person reads it (entities decoded)."""
    return html.unescape(r.get_data(as_text=True))


@contextmanager
def signed_in(web, rt, name: str, role: str):
    """A person with a new key of ``role`` signed in on ``web``; the key is revoked afterwards, which
    opens the console again as the open demo."""
    with rt.db.session() as s:
        _, key = access.create(session=s, name=name, role=role)
    try:
        sign_in = web.get("/console/sign-in")
        assert web.post("/console/sign-in", data={"csrf_token": token(sign_in), "key": key}).status_code == 302
        yield key
    finally:
        with rt.db.session() as s:
            access.revoke(session=s, name=name)


def triage(web, body: str, subject: str = "") -> int:
    r = web.post("/console/triage", data={"csrf_token": token(web.get("/console/")), "subject": subject, "body": body})
    assert r.status_code == 302, r.get_data(as_text=True)
    return int(r.headers["Location"].rsplit("/", 1)[1])


def test_pages_forbid_inline_script_and_framing(web):
    r = web.get("/console/")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    html = r.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # every script is a served file
    with web.get("/console/static/console/console.js") as script:
        assert script.status_code == 200 and "keydown" in script.get_data(as_text=True)


def test_hostile_ticket_text_is_shown_as_text(web, console_runtime):
    decision_id = triage(web, HOSTILE + " my card payment was declined twice", subject=HOSTILE)
    html = web.get(f"/console/decisions/{decision_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<img src=x" not in html and "<script>alert" not in html
    queue = web.get("/console/").get_data(as_text=True)
    assert "&lt;script&gt;" in queue and "<script>alert" not in queue


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(web, console_runtime):
    before = count(console_runtime, TriageDecision)
    r = web.post("/console/triage", data={"body": "the vpn drops every hour"})
    assert r.status_code == 400 and "reload the page" in r.get_data(as_text=True)
    r = web.post("/console/triage", data={"csrf_token": "forged", "body": "the vpn drops every hour"})
    assert r.status_code == 400
    assert count(console_runtime, TriageDecision) == before
    # The JSON API authenticates each request with a key instead, and needs no token.
    assert web.post("/v1/triage", json={"body": "the vpn drops every hour"}).status_code == 201


def test_feedback_from_a_page_is_recorded_once_however_often_it_is_sent(web, console_runtime):
    decision_id = triage(web, "I was charged twice for the same card payment")
    page = web.get(f"/console/decisions/{decision_id}")
    html = page.get_data(as_text=True)
    article = re.search(r'name="article_id" value="([^"]+)"', html).group(1)
    action = re.search(r'name="action_key" value="([^"]+)"', html).group(1)
    form = {"csrf_token": token(page), "kind": "accepted", "article_id": article, "action_key": action}
    for _ in range(3):  # a double (or triple) click
        assert web.post(f"/console/decisions/{decision_id}/feedback", data=form).status_code == 302
    assert count(console_runtime, FeedbackEvent, FeedbackEvent.decision_id == decision_id,
                 FeedbackEvent.kind == "accepted") == 1
    again = web.get(f"/console/decisions/{decision_id}").get_data(as_text=True)
    assert "Already recorded" in again and f"accepted {article}" in again


def test_bad_feedback_is_named_and_nothing_is_stored(web, console_runtime):
    decision_id = triage(web, "how do I export my board to a spreadsheet")
    page = web.get(f"/console/decisions/{decision_id}")
    before = count(console_runtime, FeedbackEvent)
    for form, expected in [({"kind": "rejected", "article_id": "no-such-article", "reason": "outdated"}, "no-such-article"),
                       ({"kind": "rejected", "article_id": "", "reason": "outdated"}, "names the suggested article"),
                       ({"kind": "deleted"}, "kind must be one of")]:
        r = web.post(f"/console/decisions/{decision_id}/feedback", data={"csrf_token": token(page), **form},
                     follow_redirects=True)
        assert r.status_code == 200 and "Not recorded" in said(r)
        assert expected in said(r)
    assert count(console_runtime, FeedbackEvent) == before
    assert web.get("/console/decisions/99999").status_code == 404
    assert web.get("/console/?route=sideways").status_code == 422
    assert web.get("/console/?offset=-1").status_code == 422


def test_the_queue_filters_by_route_and_gap(web, console_runtime):
    triage(web, "my card got stuck in the cash machine and it kept it")
    for route in ("auto", "review"):
        html = web.get(f"/console/?route={route}").get_data(as_text=True)
        shown = re.findall(r'class="badge (auto|review)"', html)
        assert set(shown) <= {route}
        assert f"({count(console_runtime, TriageDecision, TriageDecision.route == route)})" in html


def test_roles_once_keys_exist(web, console_runtime):
    with console_runtime.db.session() as s:
        _, agent = access.create(session=s, name="amy", role="agent")
        _, admin = access.create(session=s, name="lee", role="admin")
        _, intake = access.create(session=s, name="mailbox", role="intake")
    try:
        r = web.get("/console/models")
        assert r.status_code == 302 and "/console/sign-in" in r.headers["Location"]
        sign_in = web.get("/console/sign-in?next=/console/models")
        r = web.post("/console/sign-in", data={"csrf_token": token(sign_in), "key": intake, "next": "/console/models"})
        assert r.status_code == 403 and "needs 'agent'" in said(r)  # machines use the API
        r = web.post("/console/sign-in", data={"csrf_token": token(sign_in), "key": "kbt_wrong"})
        assert r.status_code == 401
        r = web.post("/console/sign-in", data={"csrf_token": token(sign_in), "key": agent, "next": "/console/models"})
        assert r.status_code == 302 and r.headers["Location"] == "/console/models"
        cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and agent not in cookie
        assert web.get("/console/").status_code == 200
        for page in ("/console/models", "/console/routing", "/console/gaps", "/console/articles"):
            r = web.get(page)
            assert r.status_code == 403 and "has role 'agent'" in said(r), page
        queue = web.get("/console/")
        for action in ("/console/models/train", "/console/models/1/activate", "/console/routing/category/billing"):
            r = web.post(action, data={"csrf_token": token(queue), "action": "off"})
            assert r.status_code == 403, action  # the lead's actions, not only their pages
        assert 'href="/console/models"' not in web.get("/console/").get_data(as_text=True)

        # Signing in starts a new session, with a new CSRF token: take the form again.
        sign_in = web.get("/console/sign-in")
        r = web.post("/console/sign-in", data={"csrf_token": token(sign_in), "key": admin})
        assert r.status_code == 302
        assert web.get("/console/models").status_code == 200 and web.get("/console/routing").status_code == 200
        with console_runtime.db.session() as s:
            access.revoke(session=s, name="lee")
        r = web.get("/console/models")  # revoked since: sign in again
        assert r.status_code == 302 and "/console/sign-in" in r.headers["Location"]
        sign_in = web.get("/console/sign-in")
        r = web.post("/console/sign-in", data={"csrf_token": token(sign_in), "key": agent, "next": "https://evil.example/"})
        assert r.headers["Location"] == "/console/"  # never sent elsewhere after sign-in
    finally:
        with console_runtime.db.session() as s:
            for name in ("amy", "mailbox"):
                access.revoke(session=s, name=name)


def test_article_report_exports_csv_a_spreadsheet_cannot_run(web, console_runtime):
    r = web.get("/console/articles.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    header, *rows = r.get_data(as_text=True).splitlines()
    assert header.startswith("article_id,title,suggested,suggested_first,accepted,rejected,")
    assert rows and all(not row.startswith(("=", "+", "-", "@")) for row in rows)


def test_a_lead_sets_routing_rules_from_the_routing_page(web, console_runtime):
    page = web.get("/console/routing")
    assert page.status_code == 200
    label = re.search(r'action="/console/routing/category/([^"]+)"', page.get_data(as_text=True)).group(1)

    def post(**form):
        return web.post(f"/console/routing/category/{label}", data={"csrf_token": token(page), **form},
                        follow_redirects=True)

    def rule():
        with console_runtime.db.session() as s:
            return routing.rules(session=s)["category"].get(label)

    assert post(action="set", target_precision="0.99").status_code == 200
    assert rule()["target_precision"] == 0.99 and rule()["auto_route"] is True
    r = post(action="off")
    assert r.status_code == 200 and "never auto-routed" in said(r) and rule()["auto_route"] is False
    for form, status, expected in [({"action": "set", "target_precision": "high"}, 422, "must be a number"),
                                   ({"action": "set", "target_precision": "1.5"}, 422, "between"),
                                   ({"action": "explode"}, 422, "action must be")]:
        r = post(**form)
        assert r.status_code == status and expected in said(r), form
    assert rule()["auto_route"] is False  # nothing changed by the refused forms
    assert post(action="reset").status_code == 200 and rule() is None
    r = web.post("/console/routing/category/no_such_label", data={"csrf_token": token(page), "action": "off"})
    assert r.status_code == 404


def test_a_lead_trains_and_rolls_back_from_the_models_page(web, console_runtime):
    page = web.get("/console/models")
    html = said(page)
    with console_runtime.db.session() as s:
        active, retired = [v.id for v in registry.list_versions(session=s)[:2]]
    assert f"Roll back to version {retired}" in html
    r = web.post(f"/console/models/{retired}/activate", data={"csrf_token": token(page)}, follow_redirects=True)
    assert r.status_code == 200 and f"Model version {retired} now serves" in said(r)
    with console_runtime.db.session() as s:
        assert registry.active(session=s).id == retired
    assert web.post("/console/models/99999/activate", data={"csrf_token": token(page)}).status_code == 404
    r = web.post(f"/console/models/{active}/activate", data={"csrf_token": token(page)})
    assert r.status_code == 302

    r = web.post("/console/models/train", data={"csrf_token": token(page), "promote": "never"}, follow_redirects=True)
    assert r.status_code == 200 and "Training job" in said(r)
    with console_runtime.db.session() as s:
        job = jobs.pending(session=s)
        assert (job.status, job.trigger, job.promote) == ("queued", "console", "never")
    state = web.get(f"/console/jobs/{job.id}").get_json()
    assert state["status"] == "queued" and state["id"] == job.id
    assert web.get("/console/jobs/99999").status_code == 404
    r = web.post("/console/models/train", data={"csrf_token": token(page), "promote": "sometimes"})
    assert r.status_code == 422


def test_the_routing_page_draws_the_live_reliability_diagram(web, console_runtime):
    decision_id = triage(web, "someone used my card without my permission")
    page = web.get(f"/console/decisions/{decision_id}")
    value = re.search(r'id="category-value".*?<option value="([^"]+)"', page.get_data(as_text=True), re.S).group(1)
    web.post(f"/console/decisions/{decision_id}/feedback",
             data={"csrf_token": token(page), "kind": "category_corrected", "value": value})
    html = web.get("/console/routing").get_data(as_text=True)
    svg = re.search(r"<svg role=\"img\".*?</svg>", html, re.S).group(0)
    assert "Reliability of the stated category confidence" in svg
    assert svg.count("<circle") >= 1 and "decisions judged by feedback" in html


def test_an_editor_writes_previews_changes_and_deletes_an_article(web, console_runtime):
    page = web.get("/console/articles/new?title=Refund%20a%20double%20charge&body=Customers%20asked")
    html = said(page)
    assert 'value="Refund a double charge"' in html and "Customers asked" in html
    form = {"csrf_token": token(page), "id": "refund-double-charge", "title": "Refund a double charge",
            "category": "billing", "tags": "refund, card", "url": "https://help.example.com/refund",
            "body": "If a card payment was taken twice, open Billing, choose the payment and press Refund."}
    preview = web.post("/console/articles/new", data={**form, "action": "preview"})
    assert preview.status_code == 200 and "Not saved yet" in said(preview) and "press Refund" in said(preview)
    with console_runtime.db.session() as s:
        from kb import service as kb_service

        assert kb_service.get(session=s, article_id="refund-double-charge") is None  # a preview saves nothing
    r = web.post("/console/articles/new", data={**form, "action": "save"})
    assert r.status_code == 302 and r.headers["Location"] == "/console/articles/refund-double-charge/edit"
    with console_runtime.db.session() as s:
        article = kb_service.get(session=s, article_id="refund-double-charge")
        assert (article.category, article.tags, article.url) == ("billing", ["refund", "card"],
                                                                 "https://help.example.com/refund")
    hits = web.get("/v1/search?q=card+payment+taken+twice+refund&k=5").get_json()
    assert "refund-double-charge" in [h["article_id"] for h in hits["results"]]  # indexed at once

    again = web.post("/console/articles/new", data={**form, "action": "save"})
    assert again.status_code == 409 and "already exists" in said(again)
    for bad, field in [({"id": "no spaces allowed"}, "id must start"), ({"title": "   "}, "title must say"),
                       ({"url": "javascript:alert(1)"}, "http(s) address"), ({"body": "x" * 200001}, "body is longer")]:
        r = web.post("/console/articles/new", data={**form, "id": "another-one", **bad, "action": "save"})
        assert r.status_code == 422 and field in said(r), bad

    edit = web.get("/console/articles/refund-double-charge/edit")
    r = web.post("/console/articles/refund-double-charge/edit",
                 data={**form, "csrf_token": token(edit), "title": "Refund a payment taken twice", "action": "save"})
    assert r.status_code == 302
    with console_runtime.db.session() as s:
        assert kb_service.get(session=s, article_id="refund-double-charge").title == "Refund a payment taken twice"
    r = web.post("/console/articles/refund-double-charge/delete", data={"csrf_token": token(edit)})
    assert r.status_code == 302
    with console_runtime.db.session() as s:
        assert kb_service.get(session=s, article_id="refund-double-charge") is None
    assert web.get("/console/articles/refund-double-charge/edit").status_code == 404


def test_signing_out_ends_the_session_and_every_copy_of_its_cookie(web, console_runtime):
    with signed_in(web, console_runtime, "sam", "agent"):
        queue = web.get("/console/")
        copied = web.get_cookie("kbtriage_console").value  # someone copies the cookie
        assert web.post("/console/sign-out", data={"csrf_token": token(queue)}).status_code == 302
        thief = create_app(runtime=console_runtime, start_worker=False).test_client()
        thief.set_cookie("kbtriage_console", copied)
        r = thief.get("/console/")
        assert r.status_code == 302 and "/console/sign-in" in r.headers["Location"]
        before = count(console_runtime, TriageDecision)
        thief.set_cookie("kbtriage_console", copied)  # the answer above cleared it; the thief keeps a copy
        r = thief.post("/console/triage", data={"csrf_token": token(queue), "body": "sent with a stolen cookie"})
        assert r.status_code == 302 and "/console/sign-in" in r.headers["Location"]
        assert count(console_runtime, TriageDecision) == before  # nothing triaged with the copied cookie


def test_a_form_sent_after_the_session_lapsed_comes_back_to_its_page(web, console_runtime):
    with console_runtime.db.session() as s:
        _, key = access.create(session=s, name="kim", role="agent")
    try:
        sign_in = web.get("/console/sign-in")
        web.post("/console/sign-in", data={"csrf_token": token(sign_in), "key": key})
        page = web.get("/console/decisions/1")
        with web.session_transaction() as session:
            session["opened_at"] = 0  # a session from long ago
        r = web.post("/console/decisions/1/feedback", data={"csrf_token": token(page), "kind": "escalated"},
                     headers={"Referer": "http://localhost/console/decisions/1"})
        assert r.status_code == 302 and "next=/console/decisions/1" in r.headers["Location"]
    finally:
        with console_runtime.db.session() as s:
            access.revoke(session=s, name="kim")


def test_bad_input_on_console_pages_gets_a_page_never_a_500(web, console_runtime):
    for path, status in [("/console/?offset=²", 422), ("/console/gaps?min_size=¹", 422),
                         ("/console/articles?sort=bogus", 422), ("/console/articles?sort=", 422),
                         ("/console/nope", 404), ("/console/decisions/abc", 404),
                         ("/console/decisions/1/feedback", 405)]:
        r = web.get(path)
        assert r.status_code == status and r.mimetype == "text/html", (path, r.status_code)
        assert "Content-Security-Policy" in r.headers
    page = web.get("/console/sign-in")
    r = web.post("/console/sign-in", data={"csrf_token": token(page), "key": "", "next": "/console/\r\nX: y"})
    assert r.status_code == 401 and "enter your API key" in said(r)
    # A rejected paste stays in the box with what to fix.
    long = "x" * 20001
    r = web.post("/console/triage", data={"csrf_token": token(web.get("/console/")), "body": long})
    assert r.status_code == 422 and "longer than 20000 characters" in said(r) and long in said(r)
    decision_id = triage(web, "please fix my invoice address")
    page = web.get(f"/console/decisions/{decision_id}")
    before = count(console_runtime, FeedbackEvent)
    for value in ("x" * 201, "bil\x00ling"):
        r = web.post(f"/console/decisions/{decision_id}/feedback", follow_redirects=True,
                     data={"csrf_token": token(page), "kind": "tier_corrected", "value": value})
        assert "Not recorded" in said(r) and "value must be text of at most 200" in said(r)
    assert count(console_runtime, FeedbackEvent) == before


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy(console_runtime):
    from dataclasses import replace

    behind = create_app(runtime=console_runtime, start_worker=False)
    trusted = type(console_runtime)(replace(console_runtime.settings, proxy_hops=1))
    try:
        for runtime, secure in ((console_runtime, False), (trusted.start(), True)):
            app = behind if runtime is console_runtime else create_app(runtime=runtime, start_worker=False)
            web = app.test_client()
            r = web.get("/console/sign-in", headers={"X-Forwarded-Proto": "https"})
            assert ("Secure" in r.headers.get("Set-Cookie", "")) is secure
    finally:
        trusted.close()


def test_an_editor_marks_a_gap_handled_and_its_tickets_leave_the_worklist(web, console_runtime):
    page = web.get("/console/gaps")
    html = page.get_data(as_text=True)
    candidates = int(re.search(r"(\d+) candidate tickets", html).group(1))
    ids = re.search(r'name="ticket_ids" value="([^"]+)"', html).group(1)
    with web.get("/console/gaps.csv") as export:
        rows = export.get_data(as_text=True).splitlines()
    assert rows[0] == "proposed_title,size,latest,terms,nearest_article,ticket_ids"
    assert ids.replace(",", " ") in rows[1]  # the first cluster, with its tickets
    for bad, status in (("12,abc", 422), ("999999999", 404), ("", 422)):
        r = web.post("/console/gaps/handled", data={"csrf_token": token(page), "ticket_ids": bad})
        assert r.status_code == status, bad
    assert int(re.search(r"(\d+) candidate tickets", web.get("/console/gaps").get_data(as_text=True)).group(1)) \
        == candidates  # the refused forms marked nothing
    r = web.post("/console/gaps/handled", data={"csrf_token": token(page), "ticket_ids": ids}, follow_redirects=True)
    n = len(ids.split(","))
    assert r.status_code == 200 and f"Marked handled: {n} tickets" in said(r)
    assert int(re.search(r"(\d+) candidate tickets", said(r)).group(1)) == candidates - n
    with console_runtime.db.session() as s:
        from triage.tables import Ticket

        marked = s.scalars(select(Ticket).where(Ticket.id.in_([int(i) for i in ids.split(",")]))).all()
        assert {t.gap_handled_by for t in marked} == {"console"} and all(t.gap_handled_at for t in marked)


def test_live_precision_over_time_is_drawn_per_category_with_its_figures(web, console_runtime):
    from datetime import timedelta

    from application.trends import period_starts

    ids = [triage(web, body) for body in ("my card payment was declined at the shop",
                                          "the card payment failed again at checkout",
                                          "card declined when paying online last month")]
    with console_runtime.db.session() as s:
        rows = s.scalars(select(TriageDecision).where(TriageDecision.id.in_(ids)).order_by(TriageDecision.id)).all()
        for d in rows:
            d.route, d.category = "auto", "billing"  # as an intake system's auto-routed tickets
        rows[2].created_at -= timedelta(weeks=2)
        s.commit()
    page = web.get(f"/console/decisions/{ids[0]}")
    send = {"csrf_token": token(page)}
    web.post(f"/console/decisions/{ids[0]}/feedback", data={**send, "kind": "escalated"})  # confirmed
    web.post(f"/console/decisions/{ids[1]}/feedback", data={**send, "kind": "category_corrected", "value": "bugs"})
    web.post(f"/console/decisions/{ids[2]}/feedback", data={**send, "kind": "resolved", "first_touch": "yes"})
    with console_runtime.db.session() as s:
        old = s.get(TriageDecision, ids[2]).created_at
        s.execute(FeedbackEvent.__table__.update().where(FeedbackEvent.decision_id == ids[2])
                  .values(created_at=old + timedelta(minutes=5)))
        s.commit()

    html = said(web.get("/console/routing"))
    figure = re.search(r'<figure class="chart" data-testid="precision-over-time">.*?</figure>', html, re.S).group(0)
    assert "Live precision of billing per week" in figure and "billing · target 0.95" in figure
    rows = re.findall(r"<tr><td>(\d\d \w\w\w)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td></tr>", figure)
    weeks = [w.strftime("%d %b") for w in period_starts(every="week", count=12, last=old + timedelta(weeks=2))]
    expected = {weeks[-3]: ("1", "1", "1", "1.00"), weeks[-1]: ("2", "2", "1", "0.50")}
    assert {r[0]: r[1:] for r in rows} == expected  # the old week and this one; weeks without any are left out
    marks = re.findall(r"<path d=\"[^\"]+\" fill=\"#0072B2\"[^>]*><title>([^<]+)</title>", figure)
    assert marks == [f"billing, week of {weeks[-3]}: 1.00 (1 of 1 judged)",
                     f"billing, week of {weeks[-1]}: 0.50 (1 of 2 judged)"]
    assert '<line x1="40"' in figure and 'stroke-dasharray="5 4"' in figure  # the target line

    daily = said(web.get("/console/routing?every=day"))
    assert "Live precision of billing per day" in daily and "0.50" in daily
    for bad in ("?every=month", "?periods=0", "?periods=53"):
        r = web.get("/console/routing" + bad)
        assert r.status_code == 422 and r.mimetype == "text/html", bad


def test_the_models_page_draws_the_learning_curve_of_the_versions(web, console_runtime):
    with console_runtime.db.session() as s:
        versions = sorted(registry.list_versions(session=s), key=lambda v: v.id)
        figures = [(v.id, v.report["tickets"], v.report["category"]["validation"]["accuracy"]) for v in versions]
    html = said(web.get("/console/models"))
    figure = re.search(r'<figure class="chart" data-testid="learning-curve">.*?</figure>', html, re.S).group(0)
    marks = re.findall(r"<title>(version \d+, \d+ tickets: category accuracy [\d.]+)</title>", figure)
    assert marks == [f"version {v}, {n} tickets: category accuracy {acc}" for v, n, acc in figures]
    for name in ("category accuracy", "category macro-F1", "tier accuracy"):
        assert f"</svg> {name}</li>" in figure  # the legend names each series
    for v, n, acc in figures:
        assert re.search(rf"<tr><td>{v} <span class=\"muted\">\w+</span></td><td>{n}</td><td>\d+</td><td>{acc}</td>", figure)


def test_each_content_gap_shows_its_tickets_per_week(web, console_runtime):
    html = said(web.get("/console/gaps"))
    cards = re.findall(r'<article class="card".*?</article>', html, re.S)
    assert cards
    newest = []
    for card in cards:
        size = int(re.search(r'<span class="muted">(\d+) tickets</span>', card).group(1))
        bars = [int(n) for n in re.findall(r"<rect [^>]*><title>week of \d\d \w\w\w: (\d+) tickets</title>", card)]
        earlier = re.search(r"; (\d+) before \d\d \w\w\w\.</figcaption>", card)
        assert len(bars) == 12 and sum(bars) + (int(earlier.group(1)) if earlier else 0) == size
        newest.append(bars[-1])
    assert max(newest) > 0  # the weeks end with the newest ticket of any cluster


def test_the_models_page_puts_two_versions_per_class_tables_side_by_side(web, console_runtime):
    with console_runtime.db.session() as s:
        active = registry.active(session=s)
        other = next(v for v in registry.list_versions(session=s) if v.id != active.id)
        mine, theirs = (v.report["category"]["validation"]["per_class"] for v in (active, other))
    html = said(web.get(f"/console/models?compare={other.id}"))
    table = re.search(r'<table data-testid="per-class-category">.*?</table>', html, re.S).group(0)
    assert f"Category: version {active.id} and version {other.id}" in table
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table, re.S))
    assert set(rows) == set(mine) | set(theirs)
    for label, cells in rows.items():
        figures = re.findall(r"<td>([^<]+)</td>", cells)
        a, b = mine[label], theirs[label]
        assert figures == [str(a["precision"]), str(a["recall"]), str(a["f1"]), str(a["support"]),
                           str(b["precision"]), str(b["recall"]), str(b["f1"]), str(b["support"]),
                           f"{round(b['f1'] - a['f1'], 4):+.4f}"], label
    assert '<table data-testid="per-class-tier">' in html
    assert f'<option value="{other.id}" selected>' in html
    assert web.get("/console/models?compare=99999").status_code == 404
    assert web.get("/console/models?compare=abc").status_code == 422


def test_the_article_preview_renders_markdown_and_runs_nothing_from_the_text(web, console_runtime):
    page = web.get("/console/articles/new")
    body = ("# Refund a *double* charge\n\nOpen **Billing**, press `Refund <now>` and read "
            "[the policy](https://help.example.com/refunds?a=1&b=2).\n\n- first step\n- second step\n\n"
            "1. one\n2. two\n\n> a quoted **tip**\n\n```\n<img src=x onerror=alert(2)>\n```\n\n"
            + HOSTILE + " [click](javascript:alert(3)) <a href=\"https://evil.example\">x</a>")
    r = web.post("/console/articles/new", data={"csrf_token": token(page), "id": "refund-preview", "title": "Refunds",
                                                 "body": body, "action": "preview"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    shown = re.search(r'<div class="rendered" data-testid="markdown-preview">(.*?)</div>', html, re.S).group(1)
    assert "<h3>Refund a <em>double</em> charge</h3>" in shown
    assert "Open <strong>Billing</strong>, press <code>Refund &lt;now&gt;</code>" in shown
    assert '<a href="https://help.example.com/refunds?a=1&amp;b=2" rel="noopener noreferrer">the policy</a>' in shown
    assert "<ul><li>first step</li><li>second step</li></ul>" in shown and "<ol><li>one</li><li>two</li></ol>" in shown
    assert "<blockquote><p>a quoted <strong>tip</strong></p></blockquote>" in shown
    assert "<pre><code>&lt;img src=x onerror=alert(2)&gt;</code></pre>" in shown
    # The text's own markup is text: no tag, attribute or link of its making reaches the page.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in shown
    assert "[click](javascript:alert(3))" in shown and "&lt;a href=&#34;https://evil.example&#34;&gt;" in shown
    assert set(re.findall(r"<(\w+)", shown)) <= {"h3", "p", "em", "strong", "code", "a", "ul", "ol", "li", "blockquote",
                                                 "pre"}
    assert re.findall(r'href="([^"]+)"', shown) == ["https://help.example.com/refunds?a=1&amp;b=2"]
    assert "Not saved yet" in html and "passages agents will see" in html
    with console_runtime.db.session() as s:
        from kb import service as kb_service

        assert kb_service.get(session=s, article_id="refund-preview") is None


def test_the_article_report_filters_by_text_and_category_and_exports_what_it_shows(web, console_runtime):
    with console_runtime.db.session() as s:
        from kb.tables import Article

        articles = s.execute(select(Article.id, Article.title, Article.category)).all()
    word = articles[0].title.split()[0]
    expected = {a.id for a in articles if word.casefold() in a.title.casefold() or word.casefold() in a.id.casefold()}
    r = said(web.get(f"/console/articles?contains={word.upper()}"))
    table = re.search(r'<table data-testid="article-report">.*?</table>', r, re.S).group(0)
    shown = set(re.findall(r'<span class="muted">([^<]+)</span></td>', table))
    assert shown == expected and f"{len(expected)} of {len(articles)} articles match" in r
    category = articles[0].category
    r = said(web.get(f"/console/articles?category={category}&sort=article_id"))
    table = re.search(r'<table data-testid="article-report">.*?</table>', r, re.S).group(0)
    in_category = sorted(a.id for a in articles if a.category == category)
    assert re.findall(r'<span class="muted">([^<]+)</span></td>', table) == in_category
    with web.get(f"/console/articles.csv?category={category}&sort=article_id") as export:
        assert [row.split(",")[0] for row in export.get_data(as_text=True).splitlines()[1:]] == in_category
    r = said(web.get("/console/articles?contains=no+article+says+this"))
    assert f"0 of {len(articles)} articles match" in r and "No article matches." in r
    r = web.get("/console/articles?contains=" + "x" * 201)
    assert r.status_code == 422 and "contains must be at most 200 characters" in said(r)


def test_the_queue_exports_what_it_shows_as_csv(web, console_runtime):
    import csv
    import io

    decision_id = triage(web, "the invoice total is wrong again", subject='=HYPERLINK("https://evil.example","x")')
    assert 'href="/console/queue.csv"' in web.get("/console/").get_data(as_text=True)
    with web.get("/console/queue.csv") as r:
        assert r.status_code == 200 and r.mimetype == "text/csv"
        assert "attachment" in r.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == count(console_runtime, TriageDecision)
    newest = rows[0]  # newest first, as the queue shows them
    assert newest["decision_id"] == str(decision_id)
    assert newest["subject"] == '\'=HYPERLINK("https://evil.example","x")'  # a spreadsheet shows it, never runs it
    with console_runtime.db.session() as s:
        d = s.get(TriageDecision, decision_id)
        assert (newest["category"], newest["tier"], newest["route"]) == (d.category, d.tier or "", d.route)
    page = web.get("/console/?route=review&gap=no")
    assert 'href="/console/queue.csv?route=review&amp;gap=no"' in page.get_data(as_text=True)
    with web.get("/console/queue.csv?route=review&gap=no") as r:
        rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert rows and {(r["route"], r["gap"]) for r in rows} == {("review", "no")}
    assert len(rows) == count(console_runtime, TriageDecision, TriageDecision.route == "review",
                              TriageDecision.gap.is_(False))
    assert web.get("/console/queue.csv?gap=maybe").status_code == 422


def test_the_routing_page_never_says_none(web, console_runtime):
    page = said(web.get("/console/routing"))
    labels = re.findall(r'action="/console/routing/category/([^"]+)"', page)
    label = next(lbl for lbl in labels if lbl != "billing")
    decision_id = triage(web, "the export button does nothing in the report view")
    with console_runtime.db.session() as s:
        d = s.get(TriageDecision, decision_id)
        d.route, d.category = "auto", label  # auto-routed, and no agent has said anything about it yet
        s.commit()
    page = said(web.get("/console/routing"))
    main = page[page.index("<main"):]
    assert "None" not in main
    row = re.search(rf"<tr>\s*<td>{label}</td>(.*?)</tr>", main, re.S).group(1)
    assert "<td>none yet</td><td>no feedback</td>" in row
    assert "<td>—</td>" in main  # validation figures a class does not have


OUTAGE = "Since 9:00 all our users cannot log in to the portal, nobody can work"
TWO_REQUESTS = ("I can't log in with SSO, it loops back to the sign-in page after Okta approves me.\n\n"
                "Also, I was charged twice for this month's invoice, please refund the extra charge.")


def triage_with_plan(rt, body: str, plan: str) -> tuple[int, int]:
    """A ticket as the intake system sends it, with the customer's plan (the console's box has none)."""
    with rt.db.session() as s:
        ticket, decision = triage_service.triage_ticket(session=s, engine=rt.engine,
                                                        fields={"subject": body[:40], "body": body,
                                                                "meta": {"plan": plan}})
        return ticket.id, decision.id


def sla_rows(web, query: str = "") -> list[int]:
    """The decision ids of the SLA page's rows, top to bottom."""
    page = web.get(f"/console/sla{query}").get_data(as_text=True)
    return [int(n) for n in re.findall(r'action="/console/sla/(\d+)/resolved"', page)]


def test_the_sla_page_lists_open_tickets_by_risk_and_its_buttons_stop_the_clocks(web, console_runtime):
    ticket_id, decision_id = triage_with_plan(console_runtime, OUTAGE, "enterprise")
    other_ticket, other_id = triage_with_plan(console_runtime, "How do I change my profile picture?", "starter")
    api_order = [i["decision_id"] for i in web.get("/v1/queue?limit=500").get_json()["items"]]
    rows = sla_rows(web)
    assert set(rows) == set(api_order[:50]) and {decision_id, other_id} <= set(rows)
    mine = [d for d in api_order if d in (decision_id, other_id)]
    assert [d for d in rows if d in mine] == mine  # as GET /v1/queue orders them
    page = web.get("/console/sla")
    text = said(page)
    assert page.status_code == 200 and "enterprise" in text and "starter" in text and "left" in text
    assert 'aria-current="page">SLA</a>' in page.get_data(as_text=True)
    with console_runtime.db.session() as s:
        level = sla.level(s.get(TriageDecision, decision_id).priority)
        other_level = sla.level(s.get(TriageDecision, other_id).priority)
    assert decision_id in sla_rows(web, f"?priority={level}")
    assert all(sla.level(i["priority"]) == level
               for i in web.get("/v1/queue?limit=500").get_json()["items"] if i["decision_id"] in
               sla_rows(web, f"?priority={level}"))
    if other_level != level:
        assert other_id not in sla_rows(web, f"?priority={level}")
    csv_rows = web.get(f"/console/sla.csv?priority={level}").get_data(as_text=True).splitlines()
    assert csv_rows[0].startswith("ticket_id,decision_id,subject,priority,level,plan")
    assert any(row.startswith(f"{ticket_id},{decision_id},") and ",enterprise," in row for row in csv_rows[1:])
    assert web.get("/console/sla?priority=" + "x" * 51).status_code == 422

    # Responded (sent twice: one event) stops the first-response clock; resolution runs on.
    form = {"csrf_token": token(page), "action_key": re.search(r'name="action_key" value="(\w+)"', text).group(1),
            "back": f"/console/sla?priority={level}"}
    for _ in range(2):
        r = web.post(f"/console/sla/{decision_id}/responded", data=form)
        assert r.status_code == 302 and r.headers["Location"] == f"/console/sla?priority={level}"
    assert count(console_runtime, FeedbackEvent, FeedbackEvent.decision_id == decision_id,
                 FeedbackEvent.kind == "responded") == 1
    with console_runtime.db.session() as s:
        assert s.get(Ticket, ticket_id).responded_at is not None
    item = next(i for i in web.get("/v1/queue?limit=500").get_json()["items"] if i["decision_id"] == decision_id)
    assert item["clock"] == "resolution" and item["responded_at"]
    after = web.get("/console/sla").get_data(as_text=True)
    assert f'/console/sla/{decision_id}/responded"' not in after and "stopped, in time" in html.unescape(after)
    assert f'/console/sla/{other_id}/responded"' in after
    # Resolved takes the ticket out of the queue; the decision page says both clocks stopped.
    assert web.post(f"/console/sla/{decision_id}/resolved", data=form).status_code == 302
    assert decision_id not in sla_rows(web) and other_id in sla_rows(web)
    decision_page = said(web.get(f"/console/decisions/{decision_id}"))
    assert "First response due" in decision_page and decision_page.count("stopped, in time") == 2
    assert web.post(f"/console/sla/{decision_id}/escalated", data=form).status_code == 404  # only the two clocks


def test_an_admin_sets_and_removes_sla_policies_and_bad_input_is_named_beside_its_field(web, console_runtime):
    page = web.get("/console/sla/policies")
    assert page.status_code == 200 and "Built-in targets" in said(page)
    before = count(console_runtime, SlaPolicy)
    base = {"csrf_token": token(page), "action": "set", "plan": "enterprise", "priority": "P1"}
    for bad, field, message in [({"first_response_minutes": "ten", "resolution_minutes": "120"},
                                 "first_response_minutes", "first_response_minutes must be a whole number"),
                                ({"first_response_minutes": "0", "resolution_minutes": "120"},
                                 "first_response_minutes", "from 1 to"),
                                ({"first_response_minutes": "60", "resolution_minutes": "30"},
                                 "resolution_minutes", "must not be shorter"),
                                ({"plan": " ", "first_response_minutes": "15", "resolution_minutes": "120"},
                                 "plan", "plan must be text")]:
        r = web.post("/console/sla/policies", data={**base, **bad})
        assert r.status_code == 422, bad
        error = re.search(rf'id="{field}-error"[^>]*>([^<]+)<', r.get_data(as_text=True))
        assert error and message in html.unescape(error.group(1)), (bad, r.get_data(as_text=True)[-1500:])
        assert 'aria-invalid="true"' in r.get_data(as_text=True)
    assert count(console_runtime, SlaPolicy) == before  # nothing stored

    r = web.post("/console/sla/policies", data={**base, "first_response_minutes": "15", "resolution_minutes": "120"},
                 follow_redirects=True)
    assert r.status_code == 200 and "first response within 15 min" in said(r)
    with console_runtime.db.session() as s:
        stored = s.scalar(select(SlaPolicy).where(SlaPolicy.plan == "enterprise", SlaPolicy.priority == "P1"))
        assert (stored.first_response_minutes, stored.resolution_minutes) == (15, 120)
    assert web.get("/v1/sla/policies").get_json()["policies"][0]["first_response_minutes"] == 15

    # An agent sees the policies but cannot set or remove one (the API's PUT and DELETE need admin).
    with signed_in(web, console_runtime, "sla-agent", "agent"):
        page = web.get("/console/sla/policies")
        assert page.status_code == 200 and "Set a policy" not in said(page) and "enterprise" in said(page)
        for action in ({"action": "set", "first_response_minutes": "1", "resolution_minutes": "2"},
                       {"action": "delete"}):
            r = web.post("/console/sla/policies", data={"csrf_token": token(page), "plan": "enterprise",
                                                         "priority": "P1", **action})
            assert r.status_code == 403 and "has role 'agent'" in said(r)
        assert web.get("/console/sla").status_code == 200  # the queue is an agent's page
        with console_runtime.db.session() as s:
            stored = s.scalar(select(SlaPolicy).where(SlaPolicy.plan == "enterprise", SlaPolicy.priority == "P1"))
            assert (stored.first_response_minutes, stored.resolution_minutes) == (15, 120)

    page = web.get("/console/sla/policies")
    r = web.post("/console/sla/policies", data={"csrf_token": token(page), "action": "delete", "plan": "enterprise",
                                                 "priority": "P1"}, follow_redirects=True)
    assert r.status_code == 200 and "is removed" in said(r)
    assert count(console_runtime, SlaPolicy) == before
    r = web.post("/console/sla/policies", data={"csrf_token": token(page), "action": "delete", "plan": "enterprise",
                                                 "priority": "P1"})
    assert r.status_code == 404 and "no SLA policy for plan 'enterprise'" in said(r)


def test_a_split_ticket_shows_each_part_in_order_with_its_decision(web, console_runtime):
    decision_id = triage(web, TWO_REQUESTS, subject="Two problems")
    with console_runtime.db.session() as s:
        d = s.get(TriageDecision, decision_id)
        parts = d.related["parts"]
        due = d.first_response_due
    assert len(parts) == 2
    page = said(web.get(f"/console/decisions/{decision_id}"))
    assert "2 requests in this ticket" in page
    shown = re.findall(r'data-testid="ticket-part">\s*<div class="ticket-text">([^<]*)</div>(.*?)</li>', page, re.S)
    assert [text for text, _ in shown] == [p["text"] for p in parts]  # in the ticket's order
    for (_, facts), part in zip(shown, parts):
        assert f"<dt>Category</dt><dd>{part['category']}" in facts and f"<dt>Tier</dt><dd>{part['tier']}" in facts
        assert f"<dt>Priority</dt><dd>{part['priority']}" in facts
        assert all(s["article_id"] in facts for s in part["suggestions"]) and part["suggestions"]
    assert "First response due" in page and f"{due:%Y-%m-%d %H:%M} UTC" in page and " left" in page
    single = said(web.get(f"/console/decisions/{triage(web, 'my card payment was declined twice')}"))
    assert "requests in this ticket" not in single


def test_the_decision_page_shows_the_priority_label_once_with_its_confidence_and_reason(web, console_runtime):
    decision_id = triage(web, "Since this morning all our users cannot log in, nobody can work", subject="Locked out")
    with console_runtime.db.session() as s:
        d = s.get(TriageDecision, decision_id)
        label, confidence, reason = d.priority, d.priority_confidence, d.priority_reason
    assert label and reason and reason.startswith(label)  # the stored reason names its label first
    page = said(web.get(f"/console/decisions/{decision_id}"))
    shown = html.unescape(re.search(r"<dt>Priority</dt><dd>(.*?)</dd>", page, re.S).group(1))
    text = re.sub(r"<[^>]+>", "", shown)
    assert len(re.findall(rf"\b{re.escape(label)}\b", text)) == 1, text
    assert text.startswith(label) and (confidence is None or f"({confidence:.2f})" in text)
    why = reason[len(label):].lstrip(":").strip()
    why = re.sub(r"^\(\d\.\d+\)\s*", "", why)
    assert why and why in text  # the whole reason, only without its leading label


def test_sla_policies_take_business_hours_and_a_time_zone_and_bad_ones_are_named_beside_their_field(
        web, console_runtime):
    page = web.get("/console/sla/policies")
    base = {"csrf_token": token(page), "action": "set", "plan": "hours-plan", "priority": "P2",
            "first_response_minutes": "60", "resolution_minutes": "480"}
    before = count(console_runtime, SlaPolicy)
    for bad, field, message in [({"business_hours": "weekdays 9 to 5"}, "business_hours", "must read like"),
                                ({"business_hours": "Mon-Fri 17:00-09:00"}, "business_hours", "end after they start"),
                                ({"business_hours": "Mon-Fri 09:00-17:00", "timezone": "Mars/Olympus"}, "timezone",
                                 "unknown time zone 'Mars/Olympus'"),
                                ({"timezone": "Europe/Berlin"}, "timezone", "timezone needs business_hours")]:
        r = web.post("/console/sla/policies", data={**base, **bad})
        body = r.get_data(as_text=True)
        assert r.status_code == 422, bad
        error = re.search(rf'id="{field}-error"[^>]*>([^<]+)<', body)
        assert error and message in html.unescape(error.group(1)), (bad, body[-2000:])
        assert re.search(rf'id="policy-{field}"[^>]*aria-invalid="true"', body, re.S)
        for name, value in bad.items():  # what the person typed stays in the form
            assert re.search(rf'id="policy-{name}" name="{name}" value="{re.escape(html.escape(value))}"', body)
    assert count(console_runtime, SlaPolicy) == before

    r = web.post("/console/sla/policies", data={**base, "business_hours": "mon-fri 9:00-17:30",
                                                 "timezone": "Europe/Berlin"}, follow_redirects=True)
    assert r.status_code == 200
    assert "counted in business hours Mon-Fri 09:00-17:30 (Europe/Berlin)" in said(r)
    row = re.search(r'<tr data-testid="sla-policy">\s*<td>hours-plan</td>(.*?)</tr>', r.get_data(as_text=True), re.S)
    assert row and "<td>Mon-Fri 09:00-17:30</td><td>Europe/Berlin</td>" in row.group(1)
    stored = [p for p in web.get("/v1/sla/policies").get_json()["policies"] if p["plan"] == "hours-plan"]
    assert [(p["business_hours"], p["timezone"]) for p in stored] == [("Mon-Fri 09:00-17:30", "Europe/Berlin")]

    # Empty fields: around the clock again, as the API without the keys.
    page = web.get("/console/sla/policies")
    r = web.post("/console/sla/policies", data={**base, "csrf_token": token(page), "business_hours": "",
                                                 "timezone": ""}, follow_redirects=True)
    assert "counted around the clock" in said(r)
    with console_runtime.db.session() as s:
        stored = s.scalar(select(SlaPolicy).where(SlaPolicy.plan == "hours-plan"))
        assert (stored.business_hours, stored.timezone) == (None, None)
        s.delete(stored)
        s.commit()
