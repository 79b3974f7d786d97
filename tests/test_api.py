"""The HTTP API through the Flask test client, against a real database, index and encoder."""
import os
import time

import pytest
from sqlalchemy import func, select

from triage.tables import FeedbackEvent, Ticket, TriageDecision


def count(app, table):
    with app.extensions["kbtriage"].db.session() as s:
        return s.scalar(select(func.count()).select_from(table))


def triage(client, body, **extra):
    r = client.post("/v1/triage", json={"body": body, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_triage_decides_suggests_and_stores(client, app):
    d = triage(client, "I forgot my password and the reset email never arrives, I can't sign in",
               subject="locked out", channel="email", meta={"plan": "team"})
    assert d["category"] == "login_sso"
    assert 0 < d["category_confidence"] <= 1
    assert len(d["top_categories"]) == 3 and d["top_categories"][0]["category"] == d["category"]
    assert d["tier"] in ("L1", "L2") and 0 < d["tier_confidence"] <= 1
    assert d["route"] in ("auto", "review") and d["reason"]
    assert 1 <= len(d["suggestions"]) <= 3
    assert all(s["passage"] and 0 <= s["score"] <= 1 for s in d["suggestions"])
    stored = client.get(f"/v1/triage/{d['id']}").get_json()
    assert stored == d
    with app.extensions["kbtriage"].db.session() as s:
        ticket = s.get(Ticket, d["ticket_id"])
        assert ticket.subject == "locked out" and ticket.meta == {"plan": "team"}


def test_batch_triage_matches_single_calls_and_is_all_or_nothing(client, app):
    texts = ["I forgot my password and the reset email never arrives, I can't sign in",
             "We were charged twice for the annual plan this month",
             "How do I export all my projects to a CSV file?"]
    single = [triage(client, t, k=2) for t in texts]
    before = count(app, TriageDecision)
    r = client.post("/v1/triage/batch", json={"tickets": [{"body": t, "channel": "email"} for t in texts], "k": 2})
    assert r.status_code == 201
    batch = r.get_json()["decisions"]
    assert count(app, TriageDecision) == before + 3
    for one, many in zip(single, batch):
        assert many["id"] != one["id"] and many["category"] == one["category"] and many["route"] == one["route"]
        assert many["category_confidence"] == pytest.approx(one["category_confidence"], abs=1e-3)
        assert [s["article_id"] for s in many["suggestions"]] == [s["article_id"] for s in one["suggestions"]]
        assert client.get(f"/v1/triage/{many['id']}").get_json() == many
    # one bad ticket: the error names it and nothing is stored
    bad = client.post("/v1/triage/batch", json={"tickets": [{"body": "fine"}, {"body": ""}]})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "tickets.1.body"
    for payload, field in [({"tickets": []}, "tickets"), ({"tickets": [{"body": "x", "k": 2}]}, "tickets.0.k"),
                           ({"tickets": "x"}, "tickets"), ({}, "tickets")]:
        assert client.post("/v1/triage/batch", json=payload).get_json()["error"]["field"] == field
    limit = app.extensions["kbtriage"].settings.max_batch
    too_many = client.post("/v1/triage/batch", json={"tickets": [{"body": "x"}] * (limit + 1)})
    assert too_many.status_code == 422 and too_many.get_json()["error"]["field"] == "tickets"
    assert count(app, TriageDecision) == before + 3


def metric(client, name, **labels):
    """The value of one sample on /metrics (0 when absent)."""
    body = client.get("/metrics").get_data(as_text=True)
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in body.splitlines():
        if line.startswith(f"{name}{{{want}}} " if labels else f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_decisions_feedback_and_requests(client, app):
    r = client.get("/metrics")
    assert r.status_code == 200 and r.content_type.startswith("text/plain")
    before = {route: metric(client, "kbtriage_decisions_total", gap="false", route=route) +
              metric(client, "kbtriage_decisions_total", gap="true", route=route) for route in ("auto", "review")}
    timed = metric(client, "kbtriage_http_request_duration_seconds_count", endpoint="v1.triage", method="POST",
                   status="201")
    d = triage(client, "We were charged twice for the annual plan this month")
    client.post("/v1/triage/batch", json={"tickets": [{"body": "charged twice again"}, {"body": "cannot sign in"}]})
    after = {route: metric(client, "kbtriage_decisions_total", gap="false", route=route) +
             metric(client, "kbtriage_decisions_total", gap="true", route=route) for route in ("auto", "review")}
    assert sum(after.values()) - sum(before.values()) == 3
    assert after[d["route"]] > before[d["route"]]
    assert metric(client, "kbtriage_http_request_duration_seconds_count", endpoint="v1.triage", method="POST",
                  status="201") == timed + 1
    events = metric(client, "kbtriage_feedback_events_total", kind="escalated")
    client.post("/v1/feedback", json={"decision_id": d["id"], "kind": "escalated", "idempotency_key": "m-1"})
    client.post("/v1/feedback", json={"decision_id": d["id"], "kind": "escalated", "idempotency_key": "m-1"})
    assert metric(client, "kbtriage_feedback_events_total", kind="escalated") == events + 1  # the retry is not new
    assert metric(client, "kbtriage_active_model_version") == client.get("/healthz").get_json()["model_version"]
    refused = metric(client, "kbtriage_http_request_duration_seconds_count", endpoint="v1.triage", method="POST",
                     status="422")
    assert client.post("/v1/triage", json={}).status_code == 422
    assert metric(client, "kbtriage_http_request_duration_seconds_count", endpoint="v1.triage", method="POST",
                  status="422") == refused + 1  # a bad request is timed with its status


def test_uncovered_ticket_is_flagged_as_a_gap(client):
    d = triage(client, "Please quote me for a custom on-premise mainframe COBOL connector for our "
                       "warehouse robots, including hardware installation at our site in Antarctica.")
    assert d["gap"] is True


@pytest.mark.parametrize("payload,field", [
    ({}, "body"),
    ({"body": ""}, "body"),
    ({"body": 42}, "body"),
    ({"body": "x" * 20001}, "body"),
    ({"body": "ok", "k": 0}, "k"),
    ({"body": "ok", "k": "three"}, "k"),
    ({"body": "ok", "priority": "high"}, "priority"),
    ({"body": "ok", "meta": {"nested": {"a": 1}}}, "meta.nested"),
    ({"body": "   "}, "body"),
    ({"body": "printer\x00 broken"}, "body"),  # PostgreSQL cannot store NUL: refused, not a 500
    ({"body": "ok", "subject": "a\x00"}, "subject"),
    ({"body": "ok", "meta": {"order": "0" * 2001}}, "meta.order"),  # not read as the number 0
    ({"body": "vpn drops" + "\n" * 20000}, "body"),  # the limit is on the text as sent (found by fuzzing)
])
def test_invalid_triage_requests_get_field_errors_and_store_nothing(client, app, payload, field):
    before = count(app, Ticket), count(app, TriageDecision)
    r = client.post("/v1/triage", json=payload)
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "invalid" and err["field"].startswith(field) and err["message"]
    assert (count(app, Ticket), count(app, TriageDecision)) == before


def test_non_json_and_unknown_routes_are_json_errors(client):
    r = client.post("/v1/triage", data="body=hello", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_json"
    r = client.post("/v1/triage", json=["a list"])
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "body"
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.get("/v1/triage/999999")
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "decision_id"
    for path in ("/v1/triage/99999999999999999999999", "/v1/jobs/99999999999999999999"):
        assert client.get(path).status_code == 404
    assert client.post("/v1/models/99999999999999999999/activate").status_code == 404
    r = client.post("/v1/feedback", json={"kind": "escalated", "ticket_id": 10**30})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "ticket_id"
    r = client.delete("/v1/triage")
    assert r.status_code == 405 and "error" in r.get_json() and r.headers["Allow"]


def test_refused_changes_leave_things_as_they_were(client):
    """Requests the fuzzing test turned up as 500s or as silently misread: each is refused with the
    field named, and nothing changes."""
    before = client.get("/v1/articles/reset-password").get_json()
    for method in (client.put, client.patch):
        for body in ({"title": None}, {"title": "Reset", "body": None}, {"title": "Reset", "tags": None}):
            r = method("/v1/articles/reset-password", json=body)
            assert r.status_code == 422 and r.get_json()["error"]["field"] in body, (method, body)
    r = client.put("/v1/articles/reset-password", json={"body": "no title"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "title"
    assert client.get("/v1/articles/reset-password").get_json() == before
    # A number is not a time: it would have been read as seconds since 1970.
    for cutoff in (1700000000, "1700000000", "0001-01-01T00:00:00+08:47"):
        r = client.post("/v1/tickets/erase", json={"created_before": cutoff})
        assert r.status_code == 422 and r.get_json()["error"]["field"] == "created_before", cutoff
    r = client.get("/v1/reports/triage?since=1700000000")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "since"
    r = client.post("/v1/feedback", json={"kind": "resolved"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "decision_id"


def test_article_crud_is_visible_to_search_at_once(client):
    art = {"id": " teleport-setup\n", "title": "  Configure the teleporter integration ",
           "body": "Open Integrations, choose Teleporter, paste your quantum key and press Sync.",
           "category": "integrations", "tags": ["teleporter"], "url": "https://help.example.com/a/teleport"}
    r = client.post("/v1/articles", json=art)
    # Surrounding whitespace is stripped (after the length and pattern checks)
    assert r.status_code == 201 and r.get_json()["id"] == "teleport-setup"
    assert r.get_json()["title"] == "Configure the teleporter integration"
    assert client.post("/v1/articles", json=art).status_code == 409
    hits = client.get("/v1/search", query_string={"q": "teleporter quantum key sync"}).get_json()["results"]
    assert hits[0]["article_id"] == "teleport-setup" and hits[0]["url"] == "https://help.example.com/a/teleport"
    suggested = triage(client, "How do I sync the teleporter with my quantum key?")["suggestions"][0]
    assert suggested["article_id"] == "teleport-setup" and suggested["url"] == "https://help.example.com/a/teleport"
    r = client.patch("/v1/articles/teleport-setup", json={"url": "ftp://files/teleport"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "url"

    r = client.patch("/v1/articles/teleport-setup", json={"body": "Teleporter now needs a banana token."})
    assert r.status_code == 200 and "banana" in r.get_json()["body"]
    hits = client.get("/v1/search", query_string={"q": "banana token teleporter"}).get_json()["results"]
    assert hits[0]["article_id"] == "teleport-setup" and "banana" in hits[0]["passage"]
    assert client.put("/v1/articles/teleport-setup", json={"body": "no title"}).status_code == 422
    # An HTML body (as a help desk's KB keeps it) is stored and indexed as text
    r = client.patch("/v1/articles/teleport-setup", json={
        "body": "<h2>Banana tokens</h2><p>Open <b>Settings</b>&nbsp;&gt; Tokens.</p><ul><li><p>Copy it</p></li>"
                "<li>Paste it</li></ul><script>track()</script>"})
    assert r.get_json()["body"] == "## Banana tokens\n\nOpen Settings > Tokens.\n\n- Copy it\n- Paste it"
    r = client.patch("/v1/articles/teleport-setup", json={"body": "<p>kept as written</p>", "body_format": "text"})
    assert r.get_json()["body"] == "<p>kept as written</p>"
    r = client.patch("/v1/articles/teleport-setup", json={"body": "x", "body_format": "pdf"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "body_format"
    r = client.patch("/v1/articles/teleport-setup", json={"url": None})
    assert r.status_code == 200 and r.get_json()["url"] is None

    listed = client.get("/v1/articles", query_string={"category": "integrations", "limit": 500}).get_json()
    assert "teleport-setup" in [a["id"] for a in listed["items"]]
    assert client.delete("/v1/articles/teleport-setup").status_code == 204
    assert client.get("/v1/articles/teleport-setup").status_code == 404
    hits = client.get("/v1/search", query_string={"q": "teleporter quantum key"}).get_json()["results"]
    assert "teleport-setup" not in [h["article_id"] for h in hits]
    assert client.post("/v1/articles", json={"id": "bad id!", "title": "t"}).get_json()["error"]["field"] == "id"
    assert client.get("/v1/search").get_json()["error"]["field"] == "q"


def test_feedback_is_validated_applied_and_idempotent(client, app):
    d = triage(client, "The invoice for October charged us for 40 seats but we only have 25")
    art = d["suggestions"][0]["article_id"]
    events_before = count(app, FeedbackEvent)

    bad = [({"kind": "rejected", "decision_id": d["id"], "article_id": art, "reason": "meh"}, "reason", 422),
           ({"kind": "rejected", "decision_id": d["id"], "article_id": art}, "reason", 422),
           ({"kind": "accepted", "decision_id": 999999, "article_id": art}, "decision_id", 404),
           ({"kind": "accepted", "decision_id": d["id"], "article_id": "no-such-article"}, "article_id", 404),
           ({"kind": "category_corrected", "decision_id": d["id"]}, "value", 422),
           ({"kind": "resolved", "decision_id": d["id"], "ticket_id": d["ticket_id"] + 1000}, "ticket_id", 422),
           ({"kind": "escalated"}, "", 422),
           ({"kind": "teleported", "decision_id": d["id"]}, "kind", 422)]
    for payload, field, status in bad:
        r = client.post("/v1/feedback", json=payload)
        assert r.status_code == status, (payload, r.get_json())
        assert (r.get_json()["error"]["field"] or "").startswith(field), (payload, r.get_json())
    assert count(app, FeedbackEvent) == events_before

    ok = {"kind": "rejected", "decision_id": d["id"], "article_id": art, "reason": "not_related",
          "agent_id": "agent-7", "idempotency_key": f"rej-{d['id']}"}
    first = client.post("/v1/feedback", json=ok)
    assert first.status_code == 201
    assert first.get_json()["model_version"] == d["model_version"]
    again = client.post("/v1/feedback", json=ok)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert client.post("/v1/feedback", json={**ok, "kind": "accepted", "reason": None}).status_code == 409
    # The same key with any other payload is refused, naming the field that differs (it used to
    # answer 200 with the old event and drop the new one).
    for change, field in [({"agent_id": "agent-8"}, "agent_id"), ({"reason": "outdated"}, "reason")]:
        r = client.post("/v1/feedback", json={**ok, **change})
        assert r.status_code == 409 and r.get_json()["error"]["field"] == field, r.get_json()
    assert count(app, FeedbackEvent) == events_before + 1

    r = client.post("/v1/feedback", json={"kind": "category_corrected", "decision_id": d["id"], "value": "account_admin"})
    assert r.status_code == 201
    with app.extensions["kbtriage"].db.session() as s:
        assert s.get(Ticket, d["ticket_id"]).category == "account_admin"


def test_a_ticket_reads_back_with_its_decisions_and_feedback(client):
    r = client.post("/v1/triage", json={"body": "The shared calendar shows meetings an hour late", "external_id": "ZD-7788",
                                        "channel": "email"})
    d = r.get_json()
    art = d["suggestions"][0]["article_id"]
    assert client.post("/v1/feedback", json={"kind": "accepted", "decision_id": d["id"], "article_id": art}).status_code == 201

    record = client.get(f"/v1/tickets/{d['ticket_id']}").get_json()
    assert record["external_id"] == "ZD-7788" and record["channel"] == "email" and "an hour late" in record["body"]
    assert [x["id"] for x in record["decisions"]] == [d["id"]] and record["decisions"][0]["route"] == d["route"]
    assert [(e["kind"], e["article_id"]) for e in record["feedback"]] == [("accepted", art)]
    assert client.get("/v1/tickets", query_string={"external_id": "ZD-7788"}).get_json()["items"] == [record]
    assert client.get("/v1/tickets", query_string={"external_id": "ZD-0000"}).get_json() == {"items": []}
    r = client.get("/v1/tickets/99999999")
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "ticket_id"
    for query in ({}, {"external_id": ""}, {"external_id": "x" * 201}, {"external_id": "a", "extra": "1"}):
        r = client.get("/v1/tickets", query_string=query)
        assert r.status_code == 422 and r.get_json()["error"]["field"] in ("external_id", "extra"), query


def test_feedback_batch_is_all_or_nothing(client, app):
    d = triage(client, "push notifications stopped on my android phone")
    art = d["suggestions"][0]["article_id"]
    before = count(app, FeedbackEvent)
    batch = {"events": [{"kind": "accepted", "decision_id": d["id"], "article_id": art},
                        {"kind": "rejected", "decision_id": d["id"], "article_id": art, "reason": "bogus"}]}
    r = client.post("/v1/feedback", json=batch)
    assert r.status_code == 422 and r.get_json()["error"]["field"].startswith("events.1")
    assert count(app, FeedbackEvent) == before
    batch["events"][1]["reason"] = "outdated"
    r = client.post("/v1/feedback", json=batch)
    assert r.status_code == 201 and len(r.get_json()["events"]) == 2
    assert count(app, FeedbackEvent) == before + 2


def wait_for_job(client, job_id, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").get_json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_training_job_versions_and_rollback(client):
    versions = client.get("/v1/models").get_json()["items"]
    active = [v for v in versions if v["status"] == "active"]
    assert len(active) == 1 and "category" in active[0]["report"]
    assert client.post("/v1/models/train", json={"promote": "sometimes"}).get_json()["error"]["field"] == "promote"
    job = client.post("/v1/models/train", json={"promote": "always"})
    assert job.status_code == 202 and job.get_json()["status"] in ("queued", "running")
    done = wait_for_job(client, job.get_json()["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"] and done["worker"]
    # The service's embedded worker trained in a child process: its memory left with it.
    [line] = [m for m in done["progress"] if m.startswith("training in process ")]
    assert int(line.split()[3]) != os.getpid()
    assert line.endswith(f"niceness {max(10, os.getpriority(os.PRIO_PROCESS, 0))})")  # requests come first
    new = done["model_version"]
    assert new > active[0]["version"]
    assert client.get("/healthz").get_json()["model_version"] == new
    r = client.post(f"/v1/models/{active[0]['version']}/activate")
    assert r.status_code == 200 and r.get_json()["status"] == "active"
    statuses = {v["version"]: v["status"] for v in client.get("/v1/models").get_json()["items"]}
    assert statuses[active[0]["version"]] == "active" and statuses[new] == "retired"
    assert client.post("/v1/models/99999/activate").status_code == 404
    assert client.get("/v1/jobs/99999").status_code == 404


def test_openapi_documents_every_route(client, app):
    doc = client.get("/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops if method != "parameters"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue  # the console's pages are HTML for people (tests/test_console.py), not the JSON API
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            documented_path = next((p for p, m in documented if m == method.lower() and
                                    p.split("{")[0] == path.split("{")[0] and p.count("/") == path.count("/")), None)
            assert documented_path, f"{method} {rule.rule} is not in the OpenAPI document"
    triage_schema = doc["components"]["schemas"]["TriageRequest"]
    assert triage_schema["required"] == ["body"] and triage_schema["additionalProperties"] is False


def test_routing_rules_apply_live_and_are_validated(client, app, monkeypatch):
    from triage.engine import TriageEngine

    rt = app.extensions["kbtriage"]
    other = TriageEngine(db=rt.db, store=rt.store, encoder_factory=lambda: rt.encoder, settings=rt.settings)
    other.current()  # another service process, already serving
    text = "I forgot my password and the reset email never arrives, I can't sign in"
    before = triage(client, text)
    policy = client.get("/v1/routing").get_json()
    assert policy["default_target_precision"] == rt.settings.route_precision and policy["rules"] == []
    row = policy["category"]["classes"]["login_sso"]
    assert row["basis"] in ("class", "all classes") and row["predicted"] > 0 and not row["rule"]
    assert 0 <= policy["category"]["coverage"] <= 1

    r = client.put("/v1/routing/rules/category/login_sso", json={"auto_route": False, "updated_by": "lead"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["effect"]["basis"] == "off" and r.get_json()["effect"]["coverage"] == 0.0
    off = triage(client, text)
    assert off["route"] == "review" and "auto-routing is off for category 'login_sso'" in off["reason"]
    assert off["category"] == before["category"] and off["suggestions"] == before["suggestions"]
    monkeypatch.setattr("triage.engine.RELOAD_SECONDS", 0.0)
    assert other.current()[1].thresholds["classes"]["login_sso"]["basis"] == "off"

    r = client.put("/v1/routing/rules/category/login_sso", json={"target_precision": 0.5})
    effect = r.get_json()["effect"]
    assert r.status_code == 200 and effect["target_precision"] == 0.5 and effect["rule"]
    assert effect["coverage"] >= row["coverage"]  # a looser target routes at least as much
    assert [x["label"] for x in client.get("/v1/routing").get_json()["rules"]] == ["login_sso"]

    for path, body, status, field in [
        ("/v1/routing/rules/category/login_sso", {"target_precision": 1.5}, 422, "target_precision"),
        ("/v1/routing/rules/category/login_sso", {"target_precision": "high"}, 422, "target_precision"),
        ("/v1/routing/rules/category/login_sso", {}, 422, "target_precision"),
        ("/v1/routing/rules/category/login_sso", {"target_precision": 0.9, "queue": "x"}, 422, "queue"),
        ("/v1/routing/rules/category/no_such_category", {"target_precision": 0.9}, 404, "label"),
        ("/v1/routing/rules/queue/login_sso", {"target_precision": 0.9}, 422, "part"),
    ]:
        r = client.put(path, json=body)
        assert r.status_code == status and r.get_json()["error"]["field"] == field, (body, r.get_json())
    assert client.get("/v1/routing").get_json()["rules"][0]["target_precision"] == 0.5  # nothing lost

    assert client.delete("/v1/routing/rules/category/login_sso").status_code == 204
    assert client.delete("/v1/routing/rules/category/login_sso").status_code == 404
    assert client.get("/v1/routing").get_json()["category"]["classes"]["login_sso"] == row
    assert triage(client, text)["route"] == before["route"]


def test_gap_when_unlike_every_resolved_ticket(app):
    # With history, a ticket is a gap when no article scores high enough, or when it is unlike
    # every ticket an article resolved although an article with a history of its own scores well.
    rt = app.extensions["kbtriage"]
    rt.engine.invalidate()  # the active version, as its report below says
    _, bundle = rt.engine.current()
    assert bundle.gap_similarity_threshold is not None and bundle.article_history
    report = client_version_report(app)["suggestions"]
    assert report["gap_similarity_threshold"] == round(bundle.gap_similarity_threshold, 4)
    assert 0 <= report["gap_flagged"] <= 0.05
    known = max(bundle.article_history, key=bundle.article_history.get)
    strong = [{"article_id": known, "title": "t", "score": 0.99, "passage": "p"}]
    limit = bundle.gap_similarity_threshold

    def decide(suggestions, familiar):
        return rt.engine._decision(bundle, 1, suggestions, bundle.gap_threshold, familiar, None, None, None)

    assert decide(strong, limit + 0.05)["gap"] is False
    unfamiliar = decide(strong, limit - 0.05)
    assert unfamiliar["gap"] is True and "unlike the tickets articles resolved" in unfamiliar["reason"]
    new_article = [{**strong[0], "article_id": "no-history-yet"}]  # its tickets are new: no verdict
    assert decide(new_article, limit - 0.05)["gap"] is False
    weak = decide([{**strong[0], "score": bundle.gap_threshold / 2}], limit + 0.05)
    assert weak["gap"] is True and "no article matches well enough" in weak["reason"]


def client_version_report(app) -> dict:
    from models import registry

    with app.extensions["kbtriage"].db.session() as s:
        return registry.active(session=s).report


def test_tickets_unlike_every_past_one_are_not_auto_routed(app, client):
    rt = app.extensions["kbtriage"]
    rt.engine.invalidate()
    _, bundle = rt.engine.current()
    guard = bundle.route_familiarity
    assert 0 < guard["threshold"] < 1
    assert client.get("/v1/routing").get_json()["familiarity_threshold"] == guard["threshold"]
    d = {"category": str(bundle.category_model.classes_[0]), "category_confidence": 1.0,
         "tier": str(bundle.tier_model.classes_[0]), "tier_confidence": 1.0}
    _, _, familiar = rt.engine._route(bundle, d, guard["threshold"] + 0.05)
    assert not any("unlike past tickets" in u for u in familiar)
    route, _, novel = rt.engine._route(bundle, d, guard["threshold"] - 0.05)
    assert route == "review" and any("unlike past tickets" in u for u in novel)


def test_the_queue_of_recent_decisions(client, app):
    made = [client.post("/v1/triage", json={"body": text}).get_json()
            for text in ("my card was declined at the till", "how do I export a board to csv")]
    page = client.get("/v1/decisions?limit=2").get_json()
    assert [d["id"] for d in page["items"]] == [made[1]["id"], made[0]["id"]]  # newest first
    assert page["total"] >= 2 and page["limit"] == 2 and page["offset"] == 0
    route = made[0]["route"]
    filtered = client.get(f"/v1/decisions?route={route}&limit=500").get_json()
    assert filtered["items"] and all(d["route"] == route for d in filtered["items"])
    assert made[0]["id"] in [d["id"] for d in filtered["items"]]
    gaps = client.get("/v1/decisions?gap=true&limit=500").get_json()["items"]
    assert all(d["gap"] for d in gaps)
    for query, field in [("route=sideways", "route"), ("limit=0", "limit"), ("gap=perhaps", "gap"),
                         ("offset=-1", "offset"), ("colour=red", "colour")]:
        r = client.get(f"/v1/decisions?{query}")
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field, (query, r.get_json())


def test_a_retry_storm_on_one_idempotency_key_stores_one_event(app):
    from concurrent.futures import ThreadPoolExecutor

    d = app.test_client().post("/v1/triage", json={"body": "my transfer is still pending after three days"}).get_json()
    event = {"kind": "escalated", "decision_id": d["id"], "agent_id": "amy", "idempotency_key": f"storm-{d['id']}"}
    barrier = __import__("threading").Barrier(8)

    def send(_):
        client = app.test_client()  # one client per thread, as separate connections would be
        barrier.wait()
        r = client.post("/v1/feedback", json=event)
        return r.status_code, r.get_json()["id"] if r.status_code < 300 else r.get_json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert sorted(status for status, _ in answers).count(201) == 1, answers
    assert {status for status, _ in answers} <= {200, 201}, answers
    assert len({event_id for _, event_id in answers}) == 1  # every caller got the one stored event
    with app.extensions["kbtriage"].db.session() as s:
        assert s.query(FeedbackEvent).filter_by(idempotency_key=event["idempotency_key"]).count() == 1


def test_a_handled_gap_leaves_the_worklist(client, app):
    before = client.get("/v1/gaps?min_size=2&limit=200").get_json()
    assert before["clusters"], before
    cluster = before["clusters"][-1]
    r = client.post("/v1/gaps/handled", json={"ticket_ids": [cluster["ticket_ids"][0], 2**31 - 2]})
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "ticket_ids"
    assert client.get("/v1/gaps?min_size=2&limit=200").get_json()["candidates"] == before["candidates"]
    for body, field in [({"ticket_ids": []}, "ticket_ids"), ({"ticket_ids": ["seven"]}, "ticket_ids.0"),
                        ({"ticket_ids": [1], "by": "x"}, "by")]:
        r = client.post("/v1/gaps/handled", json=body)
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field, (body, r.get_json())
    r = client.post("/v1/gaps/handled", json={"ticket_ids": cluster["ticket_ids"], "handled_by": "editor-1"})
    assert r.status_code == 200 and r.get_json() == {"handled": len(cluster["ticket_ids"])}
    after = client.get("/v1/gaps?min_size=2&limit=200").get_json()
    assert after["candidates"] == before["candidates"] - len(cluster["ticket_ids"])
    left = {t for c in after["clusters"] for t in c["ticket_ids"]}
    assert not left & set(cluster["ticket_ids"])
