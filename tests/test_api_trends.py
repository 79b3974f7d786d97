"""What the console shows, the API answers too (#27): the article report's filters and the
reports over time (live precision per period, the learning curve, content gaps per week)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


def _full_report(client) -> dict:
    r = client.get("/v1/reports/articles", query_string={"sort": "article_id", "limit": 1000})
    assert r.status_code == 200
    return r.get_json()


def test_contains_and_category_narrow_the_article_report(client):
    full = _full_report(client)
    rows = full["articles"]
    assert full["matching"] == full["articles_total"] == len(rows) > 1
    assert full["categories"] == sorted({r["category"] for r in rows if r["category"]})

    category = full["categories"][0]
    by_category = client.get("/v1/reports/articles", query_string={"category": category, "limit": 1000}).get_json()
    expected = {r["article_id"] for r in rows if r["category"] == category}
    assert {r["article_id"] for r in by_category["articles"]} == expected
    assert by_category["matching"] == len(expected) < full["articles_total"]
    # The other parts still cover every article.
    assert by_category["articles_total"] == full["articles_total"]
    assert by_category["categories"] == full["categories"]
    assert by_category["never_suggested"] == full["never_suggested"]

    word = rows[0]["title"].split()[0]
    needle = word.upper()  # any case
    by_words = client.get("/v1/reports/articles", query_string={"contains": needle, "limit": 1000}).get_json()
    expected = {r["article_id"] for r in rows
                if word.casefold() in r["article_id"].casefold() or word.casefold() in r["title"].casefold()}
    assert rows[0]["article_id"] in expected
    assert {r["article_id"] for r in by_words["articles"]} == expected
    assert by_words["matching"] == len(expected)

    by_id = client.get("/v1/reports/articles", query_string={"contains": rows[0]["article_id"]}).get_json()
    assert rows[0]["article_id"] in {r["article_id"] for r in by_id["articles"]}

    both = client.get("/v1/reports/articles", query_string={"contains": needle, "category": category,
                                                            "limit": 1000}).get_json()
    assert {r["article_id"] for r in both["articles"]} == {
        r["article_id"] for r in rows if r["article_id"] in expected and r["category"] == category}

    paged = client.get("/v1/reports/articles", query_string={"category": category, "limit": 1}).get_json()
    assert len(paged["articles"]) == 1 and paged["matching"] == by_category["matching"]

    none = client.get("/v1/reports/articles", query_string={"category": "no-such-category"}).get_json()
    assert none["matching"] == 0 and none["articles"] == [] and none["articles_total"] == full["articles_total"]


def test_bad_article_report_filters_are_refused_naming_them(client):
    for params, field in [({"contains": "x" * 201}, "contains"), ({"contains": "   "}, "contains"),
                          ({"category": ""}, "category"), ({"category": "bad\x00"}, "category"),
                          ({"categories": "billing"}, "categories")]:
        r = client.get("/v1/reports/articles", query_string=params)
        assert r.status_code == 422, params
        assert r.get_json()["error"]["field"] == field, params


def _row(body: dict, category: str) -> dict | None:
    return next((c for c in body["live_precision"]["categories"] if c["category"] == category), None)


def test_trends_answer_live_precision_learning_curve_and_gaps(client, app):
    from sqlalchemy import select
    from triage.tables import TriageDecision

    ids = [client.post("/v1/triage", json={"body": body}).get_json()["id"]
           for body in ("the invoice total is wrong this month", "I was charged twice for my plan")]
    # The demo model routes nothing automatically at the deployment's target: these two are taken as
    # an intake system's auto-routed tickets, in a category of their own, one of them a week earlier.
    rt = app.extensions["kbtriage"]
    with rt.db.session() as s:
        rows = s.scalars(select(TriageDecision).where(TriageDecision.id.in_(ids)).order_by(TriageDecision.id)).all()
        for d in rows:
            d.route, d.category = "auto", "trends_billing"
        rows[1].created_at -= timedelta(weeks=1)
        s.commit()
    assert client.post("/v1/feedback", json={"decision_id": ids[0], "kind": "resolved"}).status_code == 201
    assert client.post("/v1/feedback", json={"decision_id": ids[1], "kind": "category_corrected",
                                             "value": "billing"}).status_code == 201

    r = client.get("/v1/reports/trends")
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"live_precision", "learning_curve", "gaps"}
    live = body["live_precision"]
    assert live["every"] == "week" and len(live["periods"]) == 12
    monday = datetime.fromisoformat(live["periods"][-1])
    assert monday.weekday() == 0 and monday <= datetime.now(timezone.utc)
    row = _row(body, "trends_billing")
    assert row["target_precision"] == rt.settings.route_precision and len(row["points"]) == 12
    this_week, last_week = row["points"][-1], row["points"][-2]
    assert {k: this_week[k] for k in ("auto_routed", "judged", "confirmed", "precision")} == {
        "auto_routed": 1, "judged": 1, "confirmed": 1, "precision": 1.0}
    assert {k: last_week[k] for k in ("auto_routed", "judged", "confirmed", "precision")} == {
        "auto_routed": 1, "judged": 1, "confirmed": 0, "precision": 0.0}
    assert all(p["judged"] == 0 and p["precision"] is None for p in row["points"][:-2])

    curve = body["learning_curve"]
    versions = client.get("/v1/models").get_json()["items"]
    assert [p["version"] for p in curve] == sorted(v["version"] for v in versions
                                                   if (v["report"] or {}).get("category", {}).get("validation"))
    assert curve and all(0 <= p["category_accuracy"] <= 1 and p["tickets"] > 0 for p in curve)

    # Gaps: the worklist's clusters, in its order, each ticket counted once (in a week or earlier).
    worklist = client.get("/v1/gaps", query_string={"min_size": 2}).get_json()
    gaps = client.get("/v1/reports/trends", query_string={"min_size": 2}).get_json()["gaps"]
    assert worklist["clusters"]  # the demo history has gap clusters of two tickets or more
    assert [c["proposed_title"] for c in gaps["clusters"]] == [c["proposed_title"] for c in worklist["clusters"]]
    for weekly, cluster in zip(gaps["clusters"], worklist["clusters"]):
        assert sum(weekly["counts"]) + weekly["earlier"] == len(cluster["ticket_ids"])
        assert len(weekly["counts"]) == len(gaps["weeks"]) == 12


def test_trends_per_day_and_bad_parameters(client):
    body = client.get("/v1/reports/trends", query_string={"every": "day", "periods": 3}).get_json()
    live = body["live_precision"]
    assert live["every"] == "day" and len(live["periods"]) == 3
    days = [datetime.fromisoformat(p) for p in live["periods"]]
    assert [(b - a).days for a, b in zip(days, days[1:])] == [1, 1]
    assert all(len(c["points"]) == 3 for c in live["categories"])

    for params, field in [({"every": "month"}, "every"), ({"periods": 0}, "periods"), ({"periods": 53}, "periods"),
                          ({"periods": "many"}, "periods"), ({"min_size": 0}, "min_size"),
                          ({"limit": 201}, "limit"), ({"since": "2026-01-01"}, "since")]:
        r = client.get("/v1/reports/trends", query_string=params)
        assert r.status_code == 422, params
        error = r.get_json()["error"]
        assert error["field"] == field, params
        assert error["code"] and error["message"]
