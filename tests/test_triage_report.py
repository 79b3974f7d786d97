"""The triage report: live accuracy and auto-route precision from agents' feedback, on a real database."""
import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from kb import service as kb_service
from cli.main import main
from models.tables import ModelVersion
from triage import feedback, report, routing
from triage.report import triage_report
from triage.tables import Ticket, TriageDecision

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def decide(session, category, route, *, tier="L2", suggestions=(), gap=False, at=T0, ticket=None, version=None):
    if version is None:
        version = session.query(ModelVersion).order_by(ModelVersion.id).first()
    if ticket is None:
        ticket = Ticket(subject="", body=f"a {category} ticket", created_at=at)
        session.add(ticket)
        session.flush()
    d = TriageDecision(ticket_id=ticket.id, model_version_id=version.id, category=category, category_confidence=0.9,
                       tier=tier, tier_confidence=0.9, route=route, queue=f"{tier}/{category}", reason="",
                       suggestions=[{"article_id": a, "score": 0.5} for a in suggestions], gap=gap, created_at=at)
    session.add(d)
    session.flush()
    return d


def event(session, decision, kind, **fields):
    row, created = feedback.record(session=session, event={"decision_id": decision.id, "kind": kind, **fields})
    assert created
    return row


def build_history(runtime, session):
    """Billing: 10 auto-routed, 3 of them corrected (target 0.99 by rule). Login: 5 auto-routed, all
    resolved; 4 sent to review, 1 corrected, 1 confirmed by a same-value correction, 2 unjudged.
    One ticket triaged twice, with ticket-level feedback after the second decision. Suggestions
    answered at rank 1 and 2, once by an article not suggested."""
    kb_service.upsert_many(session=session, store=runtime.store, items=[
        {"id": "pay-invoice", "title": "Pay an invoice", "body": "How to pay an invoice by card."},
        {"id": "reset-pw", "title": "Reset your password", "body": "Use the sign-in page to reset a password."},
        {"id": "sso", "title": "Sign in with SSO", "body": "Single sign-on through your identity provider."},
    ])
    session.add(ModelVersion(status="active", encoder="test", report={}))
    session.flush()
    routing.set_rule(session=session, part="category", label="billing", known={"billing", "login"},
                     target_precision=0.99)
    billing = [decide(session, "billing", "auto", at=T0 + timedelta(minutes=i)) for i in range(10)]
    event(session, billing[0], "resolved", first_touch=False)
    for d in billing[1:7]:
        event(session, d, "resolved")  # first touch not said
    for d in billing[7:]:
        event(session, d, "category_corrected", value="login")
    login = [decide(session, "login", "auto", tier="L1", suggestions=("reset-pw", "sso"), at=T0, gap=i == 2)
             for i in range(5)]
    event(session, login[0], "accepted", article_id="sso")  # rank 2
    event(session, login[0], "resolved", first_touch=True)
    event(session, login[1], "resolved", article_id="reset-pw", first_touch=True)  # rank 1
    event(session, login[2], "resolved", article_id="pay-invoice")  # not suggested
    event(session, login[3], "rejected", article_id="reset-pw", reason="not_related")
    event(session, login[3], "escalated")  # predicted L1, escalated
    event(session, login[4], "tier_corrected", value="L2")
    review = [decide(session, "login", "review", at=T0) for _ in range(4)]
    event(session, review[0], "category_corrected", value="billing")
    event(session, review[1], "category_corrected", value="login")
    # Triaged twice: feedback naming only the ticket applies to the later decision.
    first = decide(session, "billing", "review", at=T0)
    second = decide(session, "login", "review", at=T0 + timedelta(hours=1), ticket=session.get(Ticket, first.ticket_id))
    feedback.record(session=session, event={"ticket_id": first.ticket_id, "kind": "category_corrected",
                                            "value": "login"})
    session.commit()
    return {"billing": billing, "login": login, "review": review, "twice": (first, second)}


def test_live_precision_per_category_against_its_target(runtime, session):
    build_history(runtime, session)
    r = triage_report(session=session, default_precision=0.95)
    assert r["decisions"] == 21 and r["routes"] == {"auto": 15, "review": 6}
    # Auto-routed: billing 7 of 10 confirmed, login 5 of 5 (tier correction and escalation are outcomes).
    assert (r["auto_route"]["judged"], r["auto_route"]["confirmed"]) == (15, 12)
    assert r["auto_route"]["below_target"] == ["billing"]
    rows = {c["category"]: c for c in r["categories"]}
    bill = rows["billing"]["auto_route"]
    assert bill["target_precision"] == 0.99 and bill["status"] == "below_target"
    assert bill["precision"] == 0.7 and bill["interval"][0] < 0.7 < bill["interval"][1] < 0.99
    assert rows["login"]["auto_route"]["status"] == "ok" and rows["login"]["auto_route"]["target_precision"] == 0.95
    # All decisions: + review[0] wrong, review[1] right, the twice-triaged ticket's later decision right
    # (the ticket-level correction says 'login', as the second decision did); the first is unjudged.
    assert (r["category_accuracy"]["judged"], r["category_accuracy"]["confirmed"]) == (18, 14)
    assert rows["login"]["accuracy"]["judged"] == 8 and rows["login"]["accuracy"]["confirmed"] == 7
    # every test decision states 0.9; 14 of the 18 judged were right
    assert r["calibration"]["judged"] == 18 and r["calibration"]["ece"] == round(0.9 - 14 / 18, 4)
    assert r["calibration"]["bins"] == [{"confidence": [0.8, 0.9], "decisions": 18, "mean_confidence": 0.9,
                                         "accuracy": round(14 / 18, 4)}]
    # Tiers: login 0 and 1 were resolved on the first touch (L1 right), login 3 escalated and login 4
    # corrected to L2 (L1 wrong); resolutions without first_touch say nothing about the tier.
    t = r["tier_accuracy"]
    assert (t["judged"], t["confirmed"], t["predicted_l1_escalated"]) == (4, 2, 1)
    s = r["suggestions"]
    assert s["answered_by_article"] == 3 and s["answered_at_rank"] == {"1": 1, "2": 1}
    assert s["answered_by_unsuggested_article"] == 1 and s["hit@1"] == round(1 / 3, 4) and s["hit@3"] == round(2 / 3, 4)
    assert s["rejected_by_reason"]["not_related"] == 1
    # Known outcomes: billing 0 (not first touch), login 0 and 1 (first touch), login 3 (escalated);
    # resolved feedback that did not say whether it was the first touch counts neither way.
    fcr = r["first_contact_resolution"]
    assert fcr == {"tickets_with_outcome": 4, "resolved_on_first_touch": 2, "rate": 0.5}
    assert [v["decisions"] for v in r["model_versions"]] == [21]
    assert r["gaps"] == {"flagged": 1, "answered_by_article_after_all": 1}


def test_report_window_and_unjudged_decisions(runtime, session):
    build_history(runtime, session)
    later = triage_report(session=session, default_precision=0.95, since=T0 + timedelta(minutes=30))
    assert later["decisions"] == 1 and later["category_accuracy"]["judged"] == 1
    assert later["auto_route"]["judged"] == 0 and later["auto_route"]["precision"] is None
    early = triage_report(session=session, default_precision=0.95, until=T0 + timedelta(minutes=5))
    rows = {c["category"]: c for c in early["categories"]}
    assert rows["billing"]["auto_routed"] == 5 and rows["billing"]["auto_route"]["status"] == "ok"
    empty = triage_report(session=session, default_precision=0.95, since=T0 + timedelta(days=1))
    assert empty["decisions"] == 0 and empty["categories"] == [] and empty["suggestions"]["hit@1"] is None
    assert empty["calibration"] == {"judged": 0, "ece": None, "bins": []}


def test_rule_that_switches_auto_routing_off_has_no_target(runtime, session):
    build_history(runtime, session)
    routing.set_rule(session=session, part="category", label="billing", known={"billing"}, auto_route=False)
    session.commit()
    rows = {c["category"]: c for c in triage_report(session=session, default_precision=0.95)["categories"]}
    assert rows["billing"]["auto_route"]["target_precision"] is None
    assert rows["billing"]["auto_route"]["status"] == "ok"  # routed before the rule; nothing to hold it to


def test_routing_policy_shows_the_live_precision_beside_the_promise(runtime, session):
    build_history(runtime, session)
    days = (datetime.now(timezone.utc) - T0).days  # the history is T0 to T0 + 1 hour
    view = report.policy_in_force(runtime.engine, live_days=days + 1)
    live = view["live_auto_route"]["categories"]
    assert live["billing"]["precision"] == 0.7 and live["billing"]["status"] == "below_target"
    assert live["billing"]["target_precision"] == 0.99 and live["login"]["status"] == "ok"
    # Read from the auto-routed tickets only, it is what the whole report says of them.
    whole = triage_report(session=session, default_precision=runtime.settings.route_precision)
    assert live == {c["category"]: c["auto_route"] for c in whole["categories"] if c["auto_routed"]}
    assert "live_auto_route" not in report.policy_in_force(runtime.engine)
    recent = report.policy_in_force(runtime.engine, live_days=days - 1)
    assert recent["live_auto_route"]["categories"] == {}


def test_cli_prints_the_broken_promise(runtime, session, tmp_path):
    build_history(runtime, session)
    env = {"KBTRIAGE_HOME": str(runtime.settings.home), "DATABASE_URL": runtime.settings.database_url}
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["triage-report", "--out", str(out)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "21 decisions: 15 auto-routed, 6 to review" in result.output
    assert "below target: category 'billing' auto-routed 0.700" in result.output
    assert json.loads(out.read_text())["auto_route"]["below_target"] == ["billing"]


def test_api_report_and_its_validation(client):
    since = datetime.now(timezone.utc).isoformat()
    r = client.post("/v1/triage", json={"body": "I cannot log in, my password expired"})
    assert r.status_code == 201
    d = r.get_json()
    assert client.post("/v1/feedback", json={"decision_id": d["id"], "kind": "category_corrected",
                                             "value": "something_else"}).status_code == 201
    body = client.get("/v1/reports/triage", query_string={"since": since}).get_json()
    assert body["decisions"] == 1 and body["category_accuracy"] == {
        "judged": 1, "confirmed": 0, "corrected": 1, "precision": 0.0, "interval": body["category_accuracy"]["interval"]}
    bad = client.get("/v1/reports/triage", query_string={"since": "last tuesday"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "since"
    assert client.get("/v1/reports/triage", query_string={"sort": "x"}).get_json()["error"]["field"] == "sort"
    backwards = client.get("/v1/reports/triage", query_string={"since": "2026-11-02T00:00:00Z", "until": "2026-11-01"})
    assert backwards.status_code == 422 and backwards.get_json()["error"]["field"] == "until"


def test_sla_attainment_per_priority_and_category(runtime, session):
    """Four P1 billing tickets (responded in time, responded late, still open past due, open and in
    time) and one P4 login ticket resolved in time, its priority corrected from P3 by an agent."""
    session.add(ModelVersion(status="active", encoder="test", report={}))
    session.flush()
    now = datetime.now(timezone.utc)
    past, future = now - timedelta(hours=1), now + timedelta(hours=2)

    def sla_decision(category, priority, first_due, resolution_due, at=T0):
        d = decide(session, category, "review", at=at)
        d.priority, d.first_response_due, d.resolution_due = priority, first_due, resolution_due
        return d

    in_time = sla_decision("billing", "P1", future, future)
    late = sla_decision("billing", "P1", past, future)
    open_breached = sla_decision("billing", "P1", past, past)
    sla_decision("billing", "P1", future, future)  # running
    # Created now: the correction moves its due times to P4's built-in targets from its creation.
    corrected = sla_decision("login", "P3", future, future, at=now)
    session.flush()
    event(session, in_time, "responded")
    event(session, late, "responded")
    event(session, corrected, "priority_corrected", value="P4")
    event(session, corrected, "resolved")
    session.commit()
    assert open_breached.ticket_id  # never answered: breached on both clocks

    r = triage_report(session=session, default_precision=0.95)["sla"]
    assert r["tickets"] == 5
    # First response: met by in_time and the resolved login ticket, breached by late and open_breached.
    assert r["first_response"] == {"met": 2, "breached": 2, "running": 1, "attainment": 0.5}
    assert r["resolution"] == {"met": 1, "breached": 1, "running": 3, "attainment": 0.5}
    levels = {row["level"]: row for row in r["priorities"]}
    assert set(levels) == {"P1", "P4"}  # the agent's correction counts, not the model's P3
    assert levels["P1"]["tickets"] == 4 and round(levels["P1"]["first_response"]["attainment"], 3) == 0.333
    assert levels["P4"]["resolution"] == {"met": 1, "breached": 0, "running": 0, "attainment": 1.0}
    categories = {row["category"]: row for row in r["categories"]}
    assert categories["billing"]["resolution"]["breached"] == 1 and categories["login"]["tickets"] == 1
    # Seen from later, the running clocks have breached.
    later = triage_report(session=session, default_precision=0.95, now=now + timedelta(days=1))["sla"]
    assert later["first_response"]["running"] == 0 and later["first_response"]["breached"] == 3
    env = {"KBTRIAGE_HOME": str(runtime.settings.home), "DATABASE_URL": runtime.settings.database_url}
    result = CliRunner().invoke(main, ["triage-report"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "SLA over 5 tickets: first response 0.500 (2 met, 2 breached, 1 running)" in result.output
    assert "  P4: 1 tickets, first response 1.000 (1 met, 0 breached, 0 running)" in result.output
