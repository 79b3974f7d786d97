"""Escalation per part of a multi-issue ticket (#28): each part carries its own ``escalate``, as
the part decided alone (with the ticket's metadata) would, through the engine and the API."""
from __future__ import annotations

from tests.test_multi_issue import LISTED, TWO_REQUESTS

URGENT_AND_NOT = ("Nobody can sign in. All our users are locked out since this morning, the whole team is blocked "
                  "and SSO rejects everyone.\n\nAlso, how do I export all our tasks to CSV?")


def test_each_part_is_escalated_on_its_own_as_if_it_came_alone(trained_runtime):
    engine = trained_runtime.engine
    meta = [{"plan": "enterprise", "channel": "phone"}] * 3
    decided = engine.decide([TWO_REQUESTS, LISTED, URGENT_AND_NOT], metadata=meta)
    split = [d for d in decided if d["multi_issue"]]
    assert split, "no ticket was split"
    for d in split:
        texts = [p["text"] for p in d["parts"]]
        alone = engine.decide(texts, metadata=meta[:1] * len(texts), split=False)
        assert [p["escalate"] for p in d["parts"]] == [a["escalate"] for a in alone]
        assert [p["priority"] for p in d["parts"]] == [a["priority"] for a in alone]
        assert all(isinstance(p["escalate"], bool) for p in d["parts"])


def test_the_api_keeps_each_parts_escalation_with_the_decision(client):
    resp = client.post("/v1/triage", json={"body": TWO_REQUESTS, "meta": {"plan": "free"}})
    body = resp.get_json()
    assert resp.status_code in (200, 201) and body["multi_issue"]
    assert all(isinstance(p["escalate"], bool) for p in body["parts"])
    again = client.get(f"/v1/triage/{body['id']}").get_json()
    assert [p["escalate"] for p in again["parts"]] == [p["escalate"] for p in body["parts"]]
