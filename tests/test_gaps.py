"""The content-gap worklist through the API and the CLI, on demo tickets no article covers."""
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
