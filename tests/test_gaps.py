"""The content-gap worklist and the article report through the API and the CLI, on demo data."""
import json

from click.testing import CliRunner

from kb import gaps
from kbtriage.cli import main
from tests.conftest import demo_subset


def test_uncovered_demo_themes_come_back_as_clusters(runtime, session):
    from kb import service as kb_service
    from kb.importers import read_articles
    from kbtriage.demo import DEMO_DIR
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
