"""Priority from metadata (#28): the customer's plan, the channel and the desk's feature columns
(``import-tickets --feature-column``) feed the priority model beside the text, through the CLI and
the API, and the reason names the metadata that weighed in."""
from __future__ import annotations

import csv
import io
from collections import Counter

from application.demo import demo_records
from models.metadata import MetadataFeatures
from tests.test_cli import cli, write_csv  # noqa: F401 - the fixture

URGENT = ("P1", "P2")


def test_metadata_is_one_hot_by_value_and_unseen_values_light_nothing():
    meta = MetadataFeatures(fields=("plan", "channel", "region")).fit(
        [{"plan": "Enterprise", "channel": "email"}, {"plan": "free", "channel": "chat"}, {"plan": "free"}])
    assert meta.fields_ == ("plan", "channel")  # no ticket carried a region: no column for it
    rows = meta.transform([{"plan": "enterprise", "channel": "email"}, {"plan": "gold", "channel": "fax"}, {}]).toarray()
    assert rows.shape == (3, 4)
    assert rows[0].sum() == 2 and rows[1].sum() == 0 and rows[2].sum() == 0
    assert meta.transform([{"plan": "enterprise", "channel": "email"}], without="plan").toarray().sum() == 1


def test_the_plan_weighs_in_the_demo_priority_and_the_reason_names_it(trained_runtime):
    """The demo's labels depend on the plan: the same ticket from an enterprise customer is
    decided more urgent than from a free one, and the reason says the plan weighed in."""
    texts = [r["subject"] + "\n" + r["body"] for r in demo_records()[700:760]]
    engine = trained_runtime.engine
    enterprise = engine.decide(texts, metadata=[{"plan": "enterprise", "channel": "email"}] * len(texts))
    free = engine.decide(texts, metadata=[{"plan": "free", "channel": "email"}] * len(texts))
    order = engine.priority_order()
    assert order[0] == "P1"

    def rank(d):
        return order.index(d["priority"])

    assert sum(map(rank, enterprise)) < sum(map(rank, free))
    assert any(rank(e) < rank(f) for e, f in zip(enterprise, free))
    assert any("enterprise plan (without it" in d["priority_reason"] for d in enterprise)
    # Metadata the model never saw (a plan unknown to it) is ignored: the text alone decides.
    unknown = engine.decide(texts[:10], metadata=[{"plan": "platinum"}] * 10)
    none = engine.decide(texts[:10])
    assert [(d["priority"], d["priority_confidence"]) for d in unknown] == [
        (d["priority"], d["priority_confidence"]) for d in none]


def test_the_api_passes_the_plan_in_meta_to_the_priority_decision(client, trained_runtime):
    body = ("Since this morning our whole team cannot open any board, every page shows an error 500. "
            "We are blocked.")
    got = {}
    for plan in ("enterprise", "free"):
        resp = client.post("/v1/triage", json={"subject": "boards down", "body": body, "channel": "email",
                                               "meta": {"plan": plan}})
        assert resp.status_code in (200, 201), resp.get_json()
        got[plan] = resp.get_json()
    order = trained_runtime.engine.priority_order()
    assert order.index(got["enterprise"]["priority"]) <= order.index(got["free"]["priority"])
    assert got["enterprise"]["priority"] != got["free"]["priority"] or (
        got["enterprise"]["priority_confidence"] != got["free"]["priority_confidence"])


def _demo_rows(segment_of):
    rows = []
    for r in demo_records()[:900]:
        rows.append({"subject": r["subject"], "text": r["body"], "priority": r["priority"],
                     "segment": segment_of(r)})
    return rows


def test_a_feature_column_is_learned_from_the_import_and_read_by_name_at_triage(cli, tmp_path):  # noqa: F811
    """A desk's own field (here a 'segment' its CRM sets, vip for most urgent tickets) named with
    --feature-column: a file triaged with segment vip gets more urgent priorities than the same
    tickets with segment std; a value never seen changes nothing; a missing column is refused."""
    rows = _demo_rows(lambda r: "vip" if r["priority"] in URGENT and len(r["body"]) % 4 else "std")
    fit, held = rows[:700], rows[700:]
    write_csv(tmp_path / "fit.csv", fit)
    cli("import-tickets", tmp_path / "fit.csv", "--text-column", "text", "--subject-column", "subject",
        "--priority-column", "priority", "--feature-column", "segment")
    cli("train")

    def triage(segment: str | None) -> list[dict]:
        name = tmp_path / f"held-{segment}.csv"
        write_csv(name, [{"subject": r["subject"], "text": r["text"], **({"segment": segment} if segment else {})}
                         for r in held])
        out = tmp_path / f"pred-{segment}.csv"
        cli("triage", name, "--text-column", "text", "--subject-column", "subject", "--out", out)
        return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))

    vip, std, unseen, absent = triage("vip"), triage("std"), triage("gold"), triage(None)
    urgent = {name: Counter(p["priority"] in URGENT for p in got)[True]
              for name, got in (("vip", vip), ("std", std))}
    print("urgent decisions by segment:", urgent)
    assert urgent["vip"] > urgent["std"]
    assert [(p["priority"], p["priority_confidence"]) for p in unseen] == [
        (p["priority"], p["priority_confidence"]) for p in absent]

    write_csv(tmp_path / "bad.csv", [{"subject": "s", "text": "t", "priority": "P1"}])
    bad = cli("import-tickets", tmp_path / "bad.csv", "--text-column", "text", "--priority-column", "priority",
              "--feature-column", "segment", ok=False)
    assert bad.exit_code == 2
    assert "bad.csv" in bad.output and "'segment'" in bad.output and "--feature-column" in bad.output
