"""Priority under the promotion guard, and precision-targeted auto-escalation of the top priority:
vandalised priority corrections are refused promotion (naming priority) and an honest retrain is
promoted; the escalation threshold is chosen on the validation slice for the target precision,
shows in the policy and the version report, follows a routing rule, and each decision says
whether it escalates and why. Demo help desk, real database and encoder."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from application.model_selection import in_validation_slice
from application.training import train
from models import registry
from tests.conftest import demo_runtime
from triage import feedback, priority, routing
from triage import service as triage_service
from triage.report import policy_in_force
from triage.tables import Ticket


def test_the_top_priority_escalates_only_where_the_slice_reaches_the_target():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.3, 1.0, 400)
    # Predicted P1 throughout; right when the confidence is high (a calibrated-looking model).
    truth = np.where(rng.uniform(size=400) < conf, "P1", "P3")
    kept = routing.outcomes(conf, ["P1"] * 400, truth)
    got = routing.escalation(kept, "P1", 0.9)
    assert got["basis"] == "class" and got["threshold"] is not None
    assert got["precision"] >= 0.9 and 0 < got["coverage"] < 1
    assert got["predicted"] == 400 and got["support"] == int((truth == "P1").sum())
    # A stricter rule on P1 asks for a higher threshold; a rule switching it off stops escalation.
    strict = routing.escalation(kept, "P1", 0.9, {"P1": {"target_precision": 0.97, "auto_route": True}})
    assert strict["threshold"] > got["threshold"] and strict["target_precision"] == 0.97
    off = routing.escalation(kept, "P1", 0.9, {"P1": {"target_precision": None, "auto_route": False}})
    assert off["threshold"] is None and off["basis"].startswith("off")
    # A model whose P1 predictions are right one time in five never reaches 0.9: off, and says so.
    rare_right = routing.outcomes(conf, ["P1"] * 400, np.where(rng.uniform(size=400) < 0.2, "P1", "P3"))
    never = routing.escalation(rare_right, "P1", 0.9)
    assert never["threshold"] is None and never["basis"].startswith("not reached")
    few = routing.escalation(routing.outcomes(conf[:5], ["P1"] * 5, ["P1"] * 5), "P1", 0.9)
    assert few["threshold"] is None and few["basis"].startswith("too few")

    decided = {"priority": "P1", "priority_confidence": 0.93, "priority_reason": "P1 (0.93) from the wording"}
    yes = priority.escalate(decided, {"threshold": 0.88, "target_precision": 0.95}, "P1")
    assert yes == {"escalate": True, "priority_reason": "P1 (0.93) from the wording; escalated: P1 at 0.93 \u2265 "
                                                          "threshold 0.88 for target 0.95"}
    no = priority.escalate({**decided, "priority_confidence": 0.8}, {"threshold": 0.88, "target_precision": 0.95},
                           "P1")
    assert not no["escalate"] and "not escalated: P1 at 0.80 < threshold 0.88" in no["priority_reason"]
    assert not priority.escalate(decided, never, "P1")["escalate"]
    assert "not reached" in priority.escalate(decided, never, "P1")["priority_reason"]
    # Not the top priority: nothing to escalate, the reason unchanged.
    assert priority.escalate({**decided, "priority": "P2"}, yes, "P1") == {
        "escalate": False, "priority_reason": decided["priority_reason"]}
    # The rules' P1 has no calibrated confidence: never escalated, and the reason says why.
    ruled = priority.by_rules("Since 9:00 all our users cannot log in to the portal")
    got = priority.escalate(ruled, None, None)
    assert got["escalate"] is False and "no priority model" in got["priority_reason"]


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """Demo articles and 600 demo tickets with their priority labels, one version active."""
    rt = demo_runtime(tmp_path_factory.mktemp("priority_promotion"), 600)
    yield rt
    rt.close()


def test_the_escalation_policy_is_in_the_report_the_policy_view_and_each_decision(desk):
    rt = desk
    with rt.db.session() as s:
        version = registry.active(session=s)
        order = version.report["priority"]["order"]
        esc = version.report["priority"]["escalation"]
    assert esc["label"] == order[0] == "P1" and esc["target_precision"] == rt.settings.route_precision
    assert esc["basis"].split(":")[0] in ("class", "not reached", "too few", "rare")
    assert (esc["threshold"] is None) == (esc["basis"] != "class")
    view = policy_in_force(rt.engine)
    assert view["priority"]["escalation"] == esc  # the service recomputes it from the kept outcomes
    with rt.db.session() as s:
        tickets = [triage_service.decision_view(*pair) for pair in triage_service.triage_tickets(
            session=s, engine=rt.engine, items=[
                {"subject": "Outage", "body": "Since 9:00 none of our users can log in to Northdeck, the whole "
                                              "company is blocked. Enterprise plan."},
                {"subject": "Idea", "body": "Could you add a dark mode to the calendar view some day?"}])]
        stored = triage_service.get_decision_or_raise(session=s, decision_id=tickets[0]["id"])
        again = triage_service.decision_view(triage_service.get_ticket_or_raise(
            session=s, ticket_id=stored.ticket_id), stored)
    for d in tickets:
        assert isinstance(d["escalate"], bool) and d["priority_confidence"] is not None
        if d["priority"] == "P1":
            verdict = "escalated" if d["escalate"] else "not escalated"
            assert f"; {verdict}: " in d["priority_reason"], d["priority_reason"]
            if esc["threshold"] is not None:
                assert d["escalate"] == (d["priority_confidence"] >= esc["threshold"])
        else:
            assert d["escalate"] is False
    assert again["escalate"] == tickets[0]["escalate"]  # kept with the decision

    # A routing rule on the top priority retargets its escalation live; switched off, nothing escalates.
    routing.put_rule(rt.engine, part="priority", label="P1", target_precision=0.6)
    loose = policy_in_force(rt.engine)["priority"]["escalation"]
    assert loose["target_precision"] == 0.6 and loose["rule"] is True
    if esc["threshold"] is not None and loose["threshold"] is not None:
        assert loose["threshold"] <= esc["threshold"]
    routing.put_rule(rt.engine, part="priority", label="P1", auto_route=False)
    assert policy_in_force(rt.engine)["priority"]["escalation"]["threshold"] is None
    with rt.db.session() as s:
        (_, decision), = triage_service.triage_tickets(session=s, engine=rt.engine, items=[{
            "body": "Production is down for all our customers, nobody can log in, urgent"}])
        assert decision.related["escalate"] is False
    routing.remove_rule(rt.engine, part="priority", label="P1")
    assert policy_in_force(rt.engine)["priority"]["escalation"] == esc


def test_vandalised_priority_corrections_are_refused_and_an_honest_retrain_is_promoted(desk):
    rt = desk
    with rt.db.session() as s:
        first = registry.active(session=s)
        order = first.report["priority"]["order"]
        swap = dict(zip(order, reversed(order)))  # P1 <-> P4, P2 <-> P3
        tickets = [t for t in s.scalars(select(Ticket).order_by(Ticket.id)) if t.priority]
        outside = [t for t in tickets if not in_validation_slice(t.id)]
        truth = {t.id: t.priority for t in outside}
        feedback.record_many(session=s, events=[
            {"kind": "priority_corrected", "ticket_id": tid, "value": swap[p], "agent_id": "vandal"}
            for tid, p in truth.items()])
        bad = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
        assert bad.report["promotion"].startswith("kept as candidate"), bad.report["comparison"]
        worse = bad.report["comparison"]["worse"]
        assert any(w.startswith("priority macro_f1") for w in worse), worse
        assert not any(w.startswith(("category", "tier", "suggestions")) for w in worse), worse
        assert registry.active(session=s).id == first.id
        assert "priority" in bad.report["comparison"]["active_on_this_slice"]

        # The agents put the labels right (the latest correction wins): the next version is promoted.
        feedback.record_many(session=s, events=[
            {"kind": "priority_corrected", "ticket_id": tid, "value": p, "agent_id": "lead"}
            for tid, p in truth.items()])
        good = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
        assert good.report["comparison"]["worse"] == [], good.report["comparison"]
        assert good.report["promotion"] == "promoted"
        assert registry.active(session=s).id == good.id


def test_a_version_without_priority_probes_compares_cleanly(desk):
    """An active version kept no priority probe (trained before priority was guarded): the guard
    compares the rest and promotes."""
    rt = desk
    with rt.db.session() as s:
        active = registry.active(session=s)
        probes = registry.read_probes(active.path)
        assert probes.get("priority") is not None
        with open(Path(active.path) / registry.PROBES_FILE, "wb") as fh:
            pickle.dump({part: probe for part, probe in probes.items() if part != "priority"}, fh)
        version = train(session=s, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings)
        comparison = version.report["comparison"]
        assert comparison["active_version"] == active.id and comparison["worse"] == [], comparison
        assert "priority" not in comparison["active_on_this_slice"]
        assert "category" in comparison["active_on_this_slice"]
        assert version.report["promotion"] == "promoted"
