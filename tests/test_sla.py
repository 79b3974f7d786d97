"""SLA: policies per plan and priority through the API and the CLI, due times on each decision, the
queue by risk, the clocks stopped by feedback, a corrected priority moving the due times, and two
admins setting one policy at once."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from api.app import create_app
from cli.main import main
from tests.conftest import make_runtime
from triage import service as triage_service
from triage import sla
from triage.tables import SlaPolicy

OUTAGE = "Since 9:00 all our users cannot log in to the portal"  # the rules say P1
QUESTION = "How do I change my profile picture?"  # P4


@pytest.fixture
def api(tmp_path):
    rt = make_runtime(tmp_path / "home")
    app = create_app(runtime=rt)
    yield rt, app.test_client()
    app.extensions["kbtriage.worker"].stop(timeout=60)
    rt.close()


def minutes_between(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 60


def test_a_desks_labels_fall_into_levels_by_their_rank():
    ranked = ["Blocker", "Critical", "Major", "Minor", "Trivial"]
    assert [sla.level(x, ranked) for x in ranked] == ["P1", "P2", "P3", "P3", "P4"]
    assert sla.level("p2", ranked) == "P2" and sla.level(None) == "P3"
    assert sla.level("Urgent") == "P1" and sla.level("Low") == "P4" and sla.level("Normal") == "P3"


def test_due_times_follow_the_most_specific_policy_and_the_queue_puts_the_riskiest_first(api):
    rt, client = api
    r = client.put("/v1/sla/policies/enterprise/P1", json={"first_response_minutes": 15, "resolution_minutes": 120})
    assert r.status_code == 200 and r.get_json()["plan"] == "enterprise"
    outage = client.post("/v1/triage", json={"body": OUTAGE, "meta": {"plan": "enterprise"}}).get_json()
    assert outage["priority"] == "P1" and outage["priority_confidence"] is None
    assert minutes_between(outage["created_at"], outage["first_response_due"]) == pytest.approx(15, abs=0.1)
    assert minutes_between(outage["created_at"], outage["resolution_due"]) == pytest.approx(120, abs=0.1)
    other = client.post("/v1/triage", json={"body": OUTAGE, "meta": {"plan": "starter"}}).get_json()
    assert minutes_between(other["created_at"], other["first_response_due"]) == pytest.approx(60, abs=0.1)  # built-in P1
    question = client.post("/v1/triage", json={"body": QUESTION}).get_json()
    assert question["priority"] == "P4"
    assert minutes_between(question["created_at"], question["first_response_due"]) == pytest.approx(24 * 60, abs=0.1)

    queue = client.get("/v1/queue").get_json()
    assert [i["ticket_id"] for i in queue["items"]] == [outage["ticket_id"], other["ticket_id"], question["ticket_id"]]
    p4 = client.get("/v1/queue?priority=P4").get_json()
    assert [i["ticket_id"] for i in p4["items"]] == [question["ticket_id"]] and p4["total"] == 1
    assert client.get(f"/v1/queue?priority={'x' * 51}").get_json()["error"]["field"] == "priority"
    assert queue["items"][0]["clock"] == "first_response" and not queue["items"][0]["breached"]

    # A response stops the first clock (resolution runs on); resolution takes the ticket out.
    for kind in ("responded", "resolved"):
        assert client.post("/v1/feedback", json={"kind": kind, "decision_id": outage["id"]}).status_code == 201
        items = {i["ticket_id"]: i for i in client.get("/v1/queue").get_json()["items"]}
        if kind == "responded":
            assert items[outage["ticket_id"]]["clock"] == "resolution"
            assert items[outage["ticket_id"]]["due"] == outage["resolution_due"]
        else:
            assert outage["ticket_id"] not in items and len(items) == 2

    # An agent says the question is urgent after all: its due times move, and it moves up the queue
    # beside the other P1 (due a moment earlier).
    r = client.post("/v1/feedback", json={"kind": "priority_corrected", "decision_id": question["id"], "value": "P1"})
    assert r.status_code == 201
    moved = client.get(f"/v1/triage/{question['id']}").get_json()
    assert minutes_between(moved["created_at"], moved["first_response_due"]) == pytest.approx(60, abs=0.1)
    items = client.get("/v1/queue").get_json()["items"]
    assert [i["ticket_id"] for i in items] == [other["ticket_id"], question["ticket_id"]]
    assert items[1]["priority"] == "P1" and items[1]["level"] == "P1"


def test_a_breached_ticket_comes_before_every_ticket_still_in_time(api):
    rt, client = api
    with rt.db.session() as s:  # a ticket that came in by e-mail two days ago, triaged now
        [(ticket, _)] = triage_service.triage_tickets(session=s, engine=rt.engine, items=[{
            "body": QUESTION, "created_at": (datetime.now().astimezone() - timedelta(days=2)).isoformat()}])
        late = {"ticket_id": ticket.id}
    fresh = client.post("/v1/triage", json={"body": OUTAGE}).get_json()
    items = client.get("/v1/queue").get_json()["items"]
    assert [i["ticket_id"] for i in items] == [late["ticket_id"], fresh["ticket_id"]]
    assert items[0]["breached"] and items[0]["minutes_left"] < -23 * 60


def test_business_hours_stop_the_clocks_over_the_weekend(api):
    rt, client = api
    r = client.put("/v1/sla/policies/enterprise/P1", json={
        "first_response_minutes": 120, "resolution_minutes": 600,
        "business_hours": "mon-fri 9:00-17:00", "timezone": "Europe/Berlin"})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["business_hours"], r.get_json()["timezone"]) == ("Mon-Fri 09:00-17:00", "Europe/Berlin")
    with rt.db.session() as s:  # a P1 outage from an enterprise customer, Friday 16:00 in Berlin
        [(ticket, decision)] = triage_service.triage_tickets(session=s, engine=rt.engine, items=[{
            "body": OUTAGE, "meta": {"plan": "enterprise"}, "created_at": "2026-11-27T16:00:00+01:00"}])
        first, resolution = decision.first_response_due, decision.resolution_due
    # One hour on Friday, the second on Monday from 09:00 (08:00 UTC); resolution: 1 + 8 + 1 hours.
    assert first == datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    assert resolution == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    # Other plans keep the built-in, around-the-clock targets.
    other = client.post("/v1/triage", json={"body": OUTAGE, "meta": {"plan": "starter"}}).get_json()
    assert minutes_between(other["created_at"], other["first_response_due"]) == pytest.approx(60, abs=0.1)
    listed = client.get("/v1/sla/policies").get_json()["policies"]
    assert listed[0]["business_hours"] == "Mon-Fri 09:00-17:00"


@pytest.mark.parametrize("path, body, field", [
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 60, "resolution_minutes": 30}, "resolution_minutes"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": "60", "resolution_minutes": 90}, "first_response_minutes"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 0, "resolution_minutes": 90}, "first_response_minutes"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 10, "resolution_minutes": 90, "x": 1}, "x"),
    (f"/v1/sla/policies/{'p' * 101}/P1", {"first_response_minutes": 10, "resolution_minutes": 90}, "plan"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 10, "resolution_minutes": 90,
                               "business_hours": "Mon-Fri 17:00-09:00"}, "business_hours"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 10, "resolution_minutes": 90,
                               "business_hours": "Mon-Fri 09:00-17:00", "timezone": "Mars/Olympus"}, "timezone"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 10, "resolution_minutes": 90,
                               "timezone": "Europe/Berlin"}, "timezone"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 10, "resolution_minutes": 90,
                               "business_hours": 9}, "business_hours"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 10, "resolution_minutes": 90,
                               "business_hours": "Mon-Fri 09:00-17:00", "timezone": "localtime"}, "timezone"),
    ("/v1/sla/policies/%00/P1", {"first_response_minutes": 10, "resolution_minutes": 90}, "plan"),
    # Within the limit of minutes (366 days around the clock), but over four years of office hours:
    # no ticket's due time could be computed.
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 60, "resolution_minutes": 527040,
                               "business_hours": "Mon-Fri 09:00-17:00"}, "resolution_minutes"),
    ("/v1/sla/policies/*/P1", {"first_response_minutes": 527040, "resolution_minutes": 527040,
                               "business_hours": "Mon 00:00-00:01"}, "resolution_minutes"),
])
def test_a_bad_policy_is_refused_naming_the_field_and_nothing_is_stored(api, path, body, field):
    rt, client = api
    r = client.put(path, json=body)
    assert r.status_code == 422 and r.get_json()["error"]["field"] == field, r.get_json()
    assert client.get("/v1/sla/policies").get_json()["policies"] == []
    assert client.delete("/v1/sla/policies/*/P1").status_code == 404


def test_the_longest_target_office_hours_allow_is_taken_and_computed(api):
    rt, client = api
    most = sla.business_hours.parse("Mon-Fri 09:00-17:00", "America/New_York").most_minutes
    body = {"first_response_minutes": 60, "business_hours": "Mon-Fri 09:00-17:00", "timezone": "America/New_York"}
    r = client.put("/v1/sla/policies/*/P4", json={**body, "resolution_minutes": most + 1})
    assert r.status_code == 422 and f"at most {most:,}" in r.get_json()["error"]["message"]
    assert client.put("/v1/sla/policies/*/P4", json={**body, "resolution_minutes": most}).status_code == 200
    with rt.db.session() as s:
        [(ticket, decision)] = triage_service.triage_tickets(session=s, engine=rt.engine, items=[{
            "body": QUESTION, "created_at": "2026-12-31T23:59:00+00:00"}])
    assert decision.priority == "P4"
    assert datetime(2029, 9, 1) < decision.resolution_due.replace(tzinfo=None) < datetime(2030, 1, 1)


def test_a_stored_policy_whose_target_cannot_be_computed_leaves_tickets_without_due_times(api, caplog):
    """A policy written before targets were checked against their hours (a restored backup): tickets
    are still decided, with no due times and a warning, never a 500."""
    rt, client = api
    with rt.db.session() as s:
        s.add(SlaPolicy(plan="*", priority="P4", first_response_minutes=60, resolution_minutes=527040,
                        business_hours="Mon 00:00-00:01", timezone="UTC"))
        s.commit()
        rt.engine.sla_terms = sla.in_force(session=s)  # a reload reads the same row
    with caplog.at_level("WARNING", logger="kbtriage.sla"):
        with rt.db.session() as s:
            [(ticket, decision)] = triage_service.triage_tickets(session=s, engine=rt.engine, items=[{"body": QUESTION}])
    assert decision.priority == "P4" and decision.id is not None
    assert decision.first_response_due is None and decision.resolution_due is None
    assert "gets no due times" in caplog.text


def test_two_admins_setting_one_policy_at_once_leave_one_row(tmp_path):
    rt = make_runtime(tmp_path / "home")
    barrier, errors = threading.Barrier(6), []

    def put(minutes):
        try:
            barrier.wait()
            with rt.db.session() as s:
                sla.set_policy(session=s, plan="gold", priority="P2", first_response_minutes=minutes,
                               resolution_minutes=600)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(30 + n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with rt.db.session() as s:
        rows = s.query(SlaPolicy).all()
        assert len(rows) == 1 and rows[0].first_response_minutes in range(30, 36)
    rt.close()


def test_the_cli_sets_shows_and_lists_the_queue(tmp_path):
    rt = make_runtime(tmp_path / "home")  # a migrated, empty database
    env = {"KBTRIAGE_HOME": str(tmp_path / "home"), "DATABASE_URL": rt.settings.database_url}
    rt.close()
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "first response within 30min, resolution within 4h" in run("sla", "set", "P1", "--plan", "gold",
                                                                      "--first-response", "30", "--resolution", "240")
    assert "of business hours (Mon-Fri 08:00-18:00 America/New_York)" in run(
        "sla", "set", "P2", "--plan", "gold", "--first-response", "60", "--resolution", "480",
        "--business-hours", "Mon-Fri 08:00-18:00", "--timezone", "America/New_York")
    shown = run("sla", "show")
    assert "gold" in shown and "(built-in)" in shown and "Mon-Fri 08:00-18:00 America/New_York" in shown
    assert "0 open tickets" in run("queue")
    bad = runner.invoke(main, ["sla", "set", "P1", "--first-response", "60", "--resolution", "30"], env=env)
    assert bad.exit_code == 1 and "resolution_minutes" in bad.output


def test_a_policy_set_by_another_process_is_used_within_the_engines_reload(api, tmp_path):
    """The engine keeps the policies between its reloads: one set elsewhere (another replica, the
    CLI) on the same database is in force here within seconds; on PostgreSQL its change-feed row
    wakes this process at once."""
    from application.runtime import Runtime
    from common.config import Settings

    rt, client = api
    first = client.post("/v1/triage", json={"body": OUTAGE, "meta": {"plan": "vip"}}).get_json()
    assert minutes_between(first["created_at"], first["first_response_due"]) == pytest.approx(60, abs=0.1)
    other = Runtime(Settings(home=tmp_path / "other", database_url=rt.settings.database_url)).start()
    try:
        with other.db.session() as s:
            sla.set_policy(session=s, plan="vip", priority="P1", first_response_minutes=5, resolution_minutes=30)
    finally:
        other.close()
    deadline = time.monotonic() + 10
    while True:
        later = client.post("/v1/triage", json={"body": OUTAGE, "meta": {"plan": "vip"}}).get_json()
        if minutes_between(later["created_at"], later["first_response_due"]) == pytest.approx(5, abs=0.1):
            break
        assert time.monotonic() < deadline, "the policy set elsewhere was not used within 10 s"
        time.sleep(0.2)
