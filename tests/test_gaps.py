"""The content-gap worklist and the article report through the API and the CLI, on demo data."""
import json

import numpy as np
from click.testing import CliRunner

from application import gaps
from models import clustering
from cli.main import main
from tests.conftest import demo_subset


def test_uncovered_demo_themes_come_back_as_clusters(runtime, session, monkeypatch):
    from kb import service as kb_service
    from kb.importers import read_articles
    from application.demo import DEMO_DIR
    from triage import service as triage_service

    kb_service.upsert_many(session=session, store=runtime.store, items=read_articles(DEMO_DIR / "articles"))
    records = demo_subset(2400)
    triage_service.import_tickets(session=session, records=records)
    uncovered = [r for r in records if not r["article"] and r["tier"] == "L2"]
    result = gaps.report(session=session, store=runtime.store, encoder=runtime.cached_encoder, min_size=5)
    assert result["candidates"] == len(uncovered)
    top = result["clusters"][0]
    assert top["size"] >= 20 and top["terms"] and top["proposed_title"] and top["nearest_article"]
    sizes = [c["size"] for c in result["clusters"]]
    assert sizes == sorted(sizes, reverse=True)
    # Each big cluster is about one need: its tickets share their most distinctive term.
    for cluster in result["clusters"][:5]:
        texts = [t.text.lower() for t in session.query(triage_service.Ticket)
                 .filter(triage_service.Ticket.id.in_(cluster["ticket_ids"]))]
        share = sum(cluster["terms"][0].split()[0] in t for t in texts) / len(texts)
        assert share >= 0.7, (cluster["proposed_title"], cluster["terms"], share)

    # At scale only the newest candidates are clustered (average linkage is quadratic); the older
    # ones join those clusters. With a third clustered, the big clusters come back nearly whole.
    cap = result["candidates"] // 3
    monkeypatch.setattr(gaps, "MAX_CLUSTERED", cap)
    monkeypatch.setattr(gaps, "ASSIGN_CHUNK", 37)  # several chunks
    capped = gaps.report(session=session, store=runtime.store, encoder=runtime.cached_encoder, min_size=5)
    assert capped["candidates"] == result["candidates"] and capped["clustered"] == cap
    assert 0 < capped["assigned"] <= result["candidates"] - cap
    for cluster in result["clusters"][:5]:
        whole = set(cluster["ticket_ids"])
        kept = max(len(whole & set(c["ticket_ids"])) for c in capped["clusters"])
        assert kept >= 0.9 * len(whole), (cluster["proposed_title"], kept, len(whole))


def test_an_older_ticket_joins_the_cluster_it_is_closest_to_on_average():
    """As average linkage would join it: by the mean cosine distance to the cluster's tickets,
    within the same cut."""
    rng = np.random.default_rng(3)
    members = rng.standard_normal((40, 16))
    members[:20, 0] += 8.0  # two tight groups
    members[20:, 1] += 8.0
    members /= np.linalg.norm(members, axis=1, keepdims=True)
    labels = np.array([7] * 20 + [9] * 20)
    older = np.vstack([members[3] + 0.1 * rng.standard_normal(16), members[33], -members[0]])
    older /= np.linalg.norm(older, axis=1, keepdims=True)
    mean_distance = {c: (1 - older @ members[labels == c].T).mean(1) for c in (7, 9)}
    expected = [min((7, 9), key=lambda c: mean_distance[c][i]) if min(mean_distance[7][i], mean_distance[9][i])
                <= clustering.CLUSTER_DISTANCE else -1 for i in range(3)]
    assert clustering.assign(older, members, labels).tolist() == expected == [7, 9, -1]


def test_gaps_endpoint_and_cli(client, app, tmp_path):
    r = client.get("/v1/gaps", query_string={"min_size": 2})
    assert r.status_code == 200
    body = r.get_json()
    assert body["candidates"] > 0 and body["clusters"]
    assert client.get("/v1/gaps", query_string={"min_size": 0}).get_json()["error"]["field"] == "min_size"
    assert client.get("/v1/gaps", query_string={"since": "yesterday"}).get_json()["error"]["field"] == "since"
    rt = app.extensions["kbtriage"]
    env = {"KBTRIAGE_HOME": str(rt.settings.home), "DATABASE_URL": rt.settings.resolved_database_url()}
    out = CliRunner().invoke(main, ["gaps", "--min-size", "2", "--out", str(tmp_path / "g.json")], env=env)
    assert out.exit_code == 0, out.output
    assert "clusters" in out.output and (tmp_path / "g.json").read_text().startswith("{")


def test_article_report_counts_outcomes_and_flags_near_duplicates(client, app, tmp_path):
    source = client.get("/v1/articles", query_string={"limit": 1}).get_json()["items"][0]
    full = client.get(f"/v1/articles/{source['id']}").get_json()
    twin = {"id": f"{source['id']}-copy", "title": full["title"] + " (copy)", "body": full["body"],
            "category": full.get("category")}
    assert client.post("/v1/articles", json=twin).status_code == 201
    decision = client.post("/v1/triage", json={"subject": full["title"], "body": full["body"][:300]}).get_json()
    top = decision["suggestions"][0]["article_id"]
    before = client.get("/v1/reports/articles", query_string={"sort": "article_id", "limit": 1000}).get_json()
    row = next(r for r in before["articles"] if r["article_id"] == top)
    assert client.post("/v1/feedback", json={"decision_id": decision["id"], "kind": "rejected", "article_id": top,
                                             "reason": "outdated", "agent_id": "a1"}).status_code == 201
    after = client.get("/v1/reports/articles", query_string={"sort": "article_id", "limit": 1000}).get_json()
    row_after = next(r for r in after["articles"] if r["article_id"] == top)
    assert row_after["suggested"] == row["suggested"] >= 1
    assert row_after["rejected_by_reason"]["outdated"] == row["rejected_by_reason"]["outdated"] + 1
    assert row_after["rejected"] == row["rejected"] + 1
    pairs = [{p["articles"][0]["article_id"], p["articles"][1]["article_id"]} for p in after["near_duplicates"]]
    assert {source["id"], twin["id"]} in pairs
    suggested_ids = {r["article_id"] for r in after["articles"] if r["suggested"]}
    assert not suggested_ids & {a["article_id"] for a in after["never_suggested"]}
    assert after["articles_total"] == len(after["articles"])
    bad = client.get("/v1/reports/articles", query_string={"sort": "best"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "sort"

    out = tmp_path / "report.json"
    rt = app.extensions["kbtriage"]
    env = {"KBTRIAGE_HOME": str(rt.settings.home), "DATABASE_URL": rt.settings.resolved_database_url()}
    result = CliRunner().invoke(main, ["article-report", "--sort", "rejected", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "near-duplicates" in result.output
    saved = json.loads(out.read_text())
    assert saved["articles"][0]["rejected"] >= 1
    client.delete(f"/v1/articles/{twin['id']}")


def test_the_vectors_stored_at_triage_are_read_back_instead_of_encoding_again(runtime, session):
    """Triaged tickets' vectors are stored for the surge test; the gap worklist and training read
    them instead of encoding the tickets again, and encode only the others (imported history)."""
    from triage import service as triage_service
    from triage.tables import Ticket

    triaged = ["Outlook calendar stopped syncing with the board", "Can we export a board as PDF?",
               "Please add WhatsApp alerts for due dates"]
    imported = ["The mobile app crashes when I open a shared board", "How do I merge two workspaces?"]
    triage_service.triage_tickets(session=session, engine=runtime.engine, items=[{"body": t} for t in triaged])
    triage_service.import_tickets(session=session, records=[{"body": t} for t in imported])
    tickets = session.query(Ticket).order_by(Ticket.id).all()
    ids, texts = [t.id for t in tickets], [t.text for t in tickets]

    class Counting:  # the real encoder, counting what it is asked to encode
        asked: list[str] = []

        def encode(self, texts):
            self.asked += list(texts)
            return runtime.encoder.encode(texts)

    counting = Counting()
    vectors = triage_service.ticket_vectors(session=session, encoder=counting, encoder_name=runtime.settings.encoder,
                                            ids=ids, texts=texts)
    assert counting.asked == imported
    expected = runtime.encoder.encode(triaged + imported)
    assert np.allclose((vectors * expected).sum(1), 1.0, atol=1e-4)
    # Vectors of another encoder are not read
    counting.asked = []
    triage_service.ticket_vectors(session=session, encoder=counting, encoder_name="some/other-encoder",
                                  ids=ids, texts=texts)
    assert counting.asked == triaged + imported
