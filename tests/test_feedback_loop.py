"""The feedback loop: corrections retrain, the guardrail refuses a bad retrain, rollback, crash
safety, exactly-one-worker job claims and hot reload across two service processes."""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from api.app import create_app
from kb import service as kb_service
from models import jobs, registry
from models.tables import ModelVersion, TrainingJob
from application.model_selection import in_validation_slice
from application.training import train
from application.worker import Worker
from tests.conftest import demo_runtime, make_runtime
from triage import feedback
from triage import service as triage_service
from triage.tables import Ticket


@pytest.fixture(scope="module")
def loop_runtime(tmp_path_factory):
    """Demo articles and 600 demo tickets, one trained version active."""
    rt = demo_runtime(tmp_path_factory.mktemp("loop"), 600)
    yield rt
    rt.close()


def test_bad_feedback_is_refused_promotion_and_rollback_works(loop_runtime):
    rt = loop_runtime
    with rt.db.session() as s:
        first = registry.active(session=s)
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        categories = sorted({t.category for t in tickets if t.category})
        rng = random.Random(0)
        bad = [{"kind": "category_corrected", "ticket_id": t.id, "value": rng.choice(categories),
                "agent_id": "vandal"} for t in tickets if not in_validation_slice(t.id)]
        feedback.record_many(session=s, events=bad)
        version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
        assert version.status == "candidate"
        assert version.report["promotion"].startswith("kept as candidate")
        assert any(w.startswith("category accuracy") for w in version.report["comparison"]["worse"])
        assert registry.active(session=s).id == first.id
        # The operator can still force it live, and roll back.
        registry.activate(session=s, version_id=version.id)
        assert registry.active(session=s).id == version.id
        registry.activate(session=s, version_id=first.id)
        assert registry.active(session=s).id == first.id


def test_rejections_count_against_the_article_for_similar_tickets(loop_runtime):
    rt = loop_runtime
    text = "Our SSO login loops back to the sign-in page after the identity provider approves it"
    with rt.db.session() as s:
        before_version = registry.active(session=s)
        view = triage_service.decision_view(*triage_service.triage_ticket(session=s, engine=rt.engine,
                                                                          fields={"body": text}))
        rejected = view["suggestions"][0]["article_id"]
        feedback.record_many(session=s, events=[{"kind": "rejected", "decision_id": view["id"], "article_id": rejected,
                                                 "reason": "not_related", "agent_id": "a7"}])
        with_text, ids_only = feedback.rejections(session=s), feedback.rejections(session=s, with_text=False)
        assert with_text[-1][2] == rejected and with_text[-1][3] and ids_only[-1][3] is None
        assert [r[:3] for r in ids_only] == [r[:3] for r in with_text]  # training reads only the ids
        version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings, promote="always")
        assert version.report["rejections_remembered"] >= 1
        # A retrain on one more ticket reuses the fitted TF-IDF and tokenises only the new text.
        assert version.report["text_features"] == {"reused": True, "fitted_on": 600, "rows_from_cache": 600,
                                                   "rows_computed": 1}
        try:
            rt.engine._checked = 0  # look for the new active version now
            [again] = rt.engine.decide([text])
            [similar] = rt.engine.decide([text.replace("Our", "My team's")])
            [other] = rt.engine.decide(["How do I download last month's invoice as a PDF?"])
        finally:
            registry.activate(session=s, version_id=before_version.id)
    for d in (again, similar):
        hit = next((x for x in d["suggestions"] if x["article_id"] == rejected), None)
        assert d["suggestions"][0]["article_id"] != rejected
        assert hit is None or hit["rejected_for_similar_ticket"] > 0.9
    assert all("rejected_for_similar_ticket" not in x for x in other["suggestions"])


def test_a_rejection_counts_for_similar_tickets_before_any_retrain(loop_runtime):
    rt = loop_runtime
    text = "The VPN client drops the connection every few minutes when I work from a hotel network"
    with rt.db.session() as s:
        version = registry.active(session=s).id
        view = triage_service.decision_view(*triage_service.triage_ticket(session=s, engine=rt.engine,
                                                                          fields={"body": text}))
        rejected = view["suggestions"][0]["article_id"]
        feedback.record_many(session=s, events=[{"kind": "rejected", "decision_id": view["id"], "article_id": rejected,
                                                 "reason": "related_but_not_answered", "agent_id": "a9"}])
    rt.engine._checked = 0  # as if RELOAD_SECONDS had passed
    [again] = rt.engine.decide([text.replace("I work", "we work")])
    [other] = rt.engine.decide(["How do I download last month's invoice as a PDF?"])
    assert again["model_version"] == version  # same version: the memory grew without a retrain
    assert again["suggestions"][0]["article_id"] != rejected
    hit = next((x for x in again["suggestions"] if x["article_id"] == rejected), None)
    assert hit is None or hit["rejected_for_similar_ticket"] > 0.9
    assert all("rejected_for_similar_ticket" not in x for x in other["suggestions"])


def test_exactly_one_worker_claims_a_job(loop_runtime):
    rt = loop_runtime
    with rt.db.session() as s:
        job_id = jobs.enqueue(session=s, trigger="test", promote="never").id
        assert jobs.enqueue(session=s, trigger="test").id == job_id  # a queued job is not queued twice
    results, barrier = [], threading.Barrier(4)

    def claim():
        with rt.db.session() as s:
            barrier.wait()
            results.append(jobs.claim_next(session=s, worker=threading.current_thread().name))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=lambda r: r is None) == [job_id, None, None, None]
    with rt.db.session() as s:
        job = s.get(TrainingJob, job_id)
        assert job.status == "running" and job.worker
        job.status = "failed"  # release it; nothing will run it in this test


def test_feedback_triggers_a_training_job(tmp_path):
    rt = make_runtime(tmp_path / "h", retrain_after_feedback=2)
    with rt.db.session() as s:
        triage_service.import_tickets(session=s, records=[{"body": "printer on fire", "tier": "L2"},
                                                         {"body": "cannot log in", "tier": "L1"}])
    client = create_app(runtime=rt, start_worker=False).test_client()
    assert client.post("/v1/feedback", json={"kind": "escalated", "ticket_id": 1}).status_code == 201
    with rt.db.session() as s:
        assert s.scalars(select(TrainingJob)).first() is None
    assert client.post("/v1/feedback", json={"kind": "resolved", "ticket_id": 2}).status_code == 201
    with rt.db.session() as s:
        job = s.scalars(select(TrainingJob)).one()
        assert job.status == "queued" and job.trigger == "feedback"
    rt.close()


def _env(rt):
    return {**os.environ, "KBTRIAGE_HOME": str(rt.settings.home),
            "DATABASE_URL": rt.settings.resolved_database_url(), "HF_HUB_OFFLINE": "1"}


def _kbtriage():
    return [str(Path(sys.executable).with_name("kbtriage"))]


def test_killed_training_leaves_the_active_version_serving(loop_runtime):
    rt = loop_runtime
    with rt.db.session() as s:
        active = registry.active(session=s).id
    proc = subprocess.Popen(_kbtriage() + ["train", "--promote", "always"], env=_env(rt),
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in proc.stderr:  # kill it in the middle of fitting
        if "fitting" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    with rt.db.session() as s:
        assert registry.active(session=s).id == active
        running = s.scalars(select(TrainingJob).where(TrainingJob.status == "running")).all()
        assert len(running) == 1
        half = s.scalars(select(ModelVersion).where(ModelVersion.status == "training")).all()
        assert len(half) == 1 and half[0].path is None
    assert not (rt.settings.models_dir / f"v{half[0].id}").exists()
    [decision] = rt.engine.decide(["I was charged twice for my subscription"])
    assert decision["model_version"] == active and decision["category"]
    with rt.db.session() as s:
        # Its lease lapses (no heartbeat from a dead process): queued again, its version failed.
        assert jobs.recover_stale(session=s, lease=jobs.timedelta(0)) == 1
        assert s.get(ModelVersion, half[0].id).status == "failed"
        job = s.get(TrainingJob, running[0].id)
        assert job.status == "queued" and job.attempts == 1
    # The next worker runs it to the end.
    assert Worker(rt).run_once()
    with rt.db.session() as s:
        job = s.get(TrainingJob, running[0].id)
        assert (job.status, job.attempts) == ("succeeded", 2)
        assert registry.active(session=s).id == job.model_version_id


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port, path, payload=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST",
                                 data=json.dumps(payload or {}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.loads(resp.read())


def test_two_service_processes_switch_version_without_restart(loop_runtime):
    rt = loop_runtime
    with rt.db.session() as s:
        versions = [v for v in registry.list_versions(session=s) if v.path]
        current = registry.active(session=s).id
        other = next(v.id for v in versions if v.id != current)
    env = {**_env(rt), "KBTRIAGE_WORKER": "external"}
    ports = [_free_port(), _free_port()]
    procs = [subprocess.Popen(_kbtriage() + ["serve", "--no-demo", "--port", str(p)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in ports]
    try:
        for port in ports:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "service did not start"
                    time.sleep(0.5)
        body = {"body": "the mobile app crashes when I open a board"}
        assert all(_post(p, "/v1/triage", body)[1]["model_version"] == current for p in ports)
        assert _post(ports[0], f"/v1/models/{other}/activate")[0] == 200
        seen, deadline = [], time.monotonic() + 15
        while time.monotonic() < deadline:  # every request is answered while the switch happens
            status, decision = _post(ports[1], "/v1/triage", body)
            assert status == 201
            seen.append(decision["model_version"])
            if decision["model_version"] == other:
                break
        assert seen[-1] == other, f"second process still on {seen[-1]} after 15 s"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        with rt.db.session() as s:
            registry.activate(session=s, version_id=current)


def test_resolving_without_correction_confirms_the_predicted_labels(runtime, session):
    from application.training import training_examples

    kb_service.upsert_many(session=session, store=runtime.store,
                           items=[{"id": "vpn", "title": "Connect to the VPN", "body": "Install the client."}])
    ticket, decision = triage_service.triage_ticket(session=session, engine=runtime.engine,
                                                    fields={"body": "vpn will not connect"})
    other, _ = triage_service.triage_ticket(session=session, engine=runtime.engine, fields={"body": "vpn?"})
    decision.category, decision.tier = "network", "L1"  # as a trained model would have said
    session.commit()
    feedback.record_many(session=session, events=[{"kind": "resolved", "decision_id": decision.id,
                                                   "article_id": "vpn"}])
    by_id = {e["id"]: e for e in training_examples(session=session)}
    assert by_id[ticket.id]["category"] == "network" and by_id[ticket.id]["tier"] == "L1"
    assert by_id[ticket.id]["article"] == "vpn"
    assert by_id[other.id]["category"] is None  # no feedback: no label


def test_retrain_reuses_the_selection_until_the_data_grows():
    from types import SimpleNamespace

    from application.model_selection import reusable_selection

    searched = SimpleNamespace(id=3, report={"category": {"model_selection": {
        "chosen": {"C": 0.3, "embedding_weight": 0.5}, "candidates": [{}], "examples": 1000}}})
    assert reusable_selection(searched, "category", 1200) == {"C": 0.3, "embedding_weight": 0.5, "scale": None,
                                                               "version": 3, "examples": 1000}
    assert reusable_selection(searched, "category", 1300) is None  # grew over 25%: search again
    assert reusable_selection(searched, "tier", 900) is None
    assert reusable_selection(None, "category", 900) is None
    # A version that reused keeps pointing at the search it came from.
    reused = SimpleNamespace(id=4, report={"category": {"model_selection": {
        "chosen": {"C": 0.3, "embedding_weight": 0.5}, "scale": 2.5, "reused_from_version": 3, "examples": 1000}}})
    assert reusable_selection(reused, "category", 1250)["version"] == 3
    assert reusable_selection(reused, "category", 1250)["scale"] == 2.5  # the temperature too: one fit


@pytest.mark.parametrize("returning", [True, False], ids=["insert-returning", "unit-of-work"])
def test_triaged_objects_are_stored_and_later_changes_to_them_are_written(runtime, session, monkeypatch, returning):
    """Tickets and decisions are written with INSERT ... RETURNING where the database has it (the
    unit of work otherwise, e.g. SQLite before 3.35); either way the objects handed back are the
    session's own: their ids are the rows', and a change made to them afterwards is stored."""
    from sqlalchemy import select

    from triage import service as triage_service
    from triage.tables import Ticket, TicketVector, TriageDecision

    monkeypatch.setattr(session.get_bind().dialect, "insert_returning", returning)
    pairs = triage_service.triage_tickets(session=session, engine=runtime.engine, items=[
        {"body": "the VPN drops every ten minutes", "meta": {"plan": "business"}}, {"body": "refund my seats"}])
    assert triage_service.triage_tickets(session=session, engine=runtime.engine, items=[]) == []
    (first, first_decision), (second, _) = pairs
    assert first.id != second.id and first_decision.ticket_id == first.id and first.status == "new"
    first_decision.category, second.category = "network", "billing"
    session.commit()
    with runtime.db.session() as fresh:
        assert fresh.get(TriageDecision, first_decision.id).category == "network"
        stored = fresh.get(Ticket, second.id)
        assert stored.category == "billing" and stored.status == "new" and stored.source == "api"
        assert fresh.get(Ticket, first.id).meta == {"plan": "business"}
        assert sorted(fresh.scalars(select(TicketVector.ticket_id))) == sorted([first.id, second.id])


def test_a_deleted_article_is_not_suggested_from_history(loop_runtime):
    """The article model learnt the articles of its training run; one deleted since must not be
    offered (with no title, no passage, and a 404 behind it) until the next version."""
    from kb import service as kb_service

    rt = loop_runtime
    text = "How do I download last month's invoice as a PDF?"
    rt.engine._checked = 0
    [before] = rt.engine.decide([text])
    gone = before["suggestions"][0]["article_id"]
    assert gone in list(rt.engine.current()[1].article_model.classes_)  # history knows it
    with rt.db.session() as s:
        kb_service.delete(session=s, store=rt.store, article_id=gone)
    [after] = rt.engine.decide([text])
    assert after["suggestions"] and gone not in [x["article_id"] for x in after["suggestions"]]
    assert all(x["title"] and x["passage"] for x in after["suggestions"])
    assert gone not in after["reason"]
