"""Surges: similar tickets arriving together are flagged against their kind's usual rate, listed by
GET /v1/surges and `kbtriage surges`, seen by other processes, and forgotten when erased."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select, update

from api.app import create_app
from cli import main as cli
from triage import erasure
from triage import service as triage_service
from triage.surges import SurgeMemory
from triage.tables import TicketVector

OUTAGE = [
    "The dashboard shows error 502 bad gateway since this morning",
    "Getting a 502 bad gateway error when I open the dashboard",
    "Dashboard is down with a 502 error for our whole team",
    "502 bad gateway on the dashboard, nobody here can log in to it",
    "Your dashboard keeps returning 502 Bad Gateway",
    "Error 502 bad gateway every time we load the dashboard page",
]
OTHERS = [
    "How do I download last month's invoice as a PDF?",
    "Can I change the email address on my account?",
    "Please add two more seats to our subscription",
    "Where do I find the API rate limits?",
]


@pytest.fixture
def client(runtime):
    return create_app(runtime=runtime, start_worker=False).test_client()


def _triage(client, body, **extra):
    r = client.post("/v1/triage", json={"body": body, **extra})
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def test_a_burst_of_similar_tickets_is_a_surge_and_is_reported(client, runtime):
    for text in OTHERS:
        assert _triage(client, text)["surge"]["flag"] is False
    decisions = [_triage(client, text) for text in OUTAGE]
    counts = [d["surge"]["similar_in_window"] for d in decisions]
    assert counts == sorted(counts) and counts[-1] >= 5, counts
    first, last = decisions[0], decisions[-1]
    assert first["surge"]["flag"] is False and first["similar_tickets"] == []
    assert last["surge"]["flag"] is True
    assert "surge: " in last["reason"]
    surge_metric = [line for line in client.get("/metrics").get_data(as_text=True).splitlines()
                    if line.startswith("kbtriage_surge_decisions_total ")]
    assert surge_metric and float(surge_metric[0].split()[1]) == sum(d["surge"]["flag"] for d in decisions)
    outage_ids = {d["ticket_id"] for d in decisions}
    assert {s["ticket_id"] for s in last["similar_tickets"]} <= outage_ids
    assert set(last["surge"]["ticket_ids"]) <= outage_ids - {last["ticket_id"]}
    # The stored decision says the same.
    stored = client.get(f"/v1/triage/{last['id']}").get_json()
    assert stored["surge"] == last["surge"] and stored["similar_tickets"] == last["similar_tickets"]

    # The queue (API and console) filters the decisions flagged as part of a surge.
    flagged = {d["id"] for d in decisions if d["surge"]["flag"]}
    assert {d["id"] for d in client.get("/v1/decisions?surge=true&limit=500").get_json()["items"]} == flagged
    calm = {d["id"] for d in client.get("/v1/decisions?surge=false&limit=500").get_json()["items"]}
    assert not calm & flagged and {d["id"] for d in decisions} - flagged <= calm
    queue = client.get("/console/?surge=yes").get_data(as_text=True)
    assert sorted(int(i) for i in re.findall(r'href="/console/decisions/(\d+)"', queue)) == sorted(flagged)

    report = client.get("/v1/surges").get_json()
    assert report["tickets_in_window"] == len(OTHERS) + len(OUTAGE)
    [surge] = report["surges"]
    assert surge["size"] >= 5 and set(surge["ticket_ids"]) <= outage_ids
    assert "502" in " ".join(surge["terms"]) or "gateway" in " ".join(surge["terms"])
    assert surge["representative_tickets"][0]["ticket_id"] in outage_ids

    result = CliRunner().invoke(cli.main, ["surges"], env={"KBTRIAGE_HOME": str(runtime.settings.home),
                                                            "DATABASE_URL": runtime.settings.database_url})
    assert result.exit_code == 0, result.output
    assert "1 surges" in result.output

    # Erased tickets leave the surge.
    gone = decisions[0]["ticket_id"]
    r = client.delete(f"/v1/tickets/{gone}")
    assert r.status_code == 200, r.get_json()
    [surge] = client.get("/v1/surges").get_json()["surges"]
    assert gone not in surge["ticket_ids"]


def test_a_kind_that_always_comes_often_needs_more_to_be_a_surge(runtime):
    """Twenty a day for a week: five within an hour is its usual traffic, not a surge."""
    now = datetime.now(timezone.utc)
    routine = [{"body": OUTAGE[i % len(OUTAGE)], "created_at": (now - timedelta(days=1 + i / 20)).isoformat()}
               for i in range(140)]
    with runtime.db.session() as s:
        triage_service.triage_tickets(session=s, engine=runtime.engine, items=routine)
        pairs = triage_service.triage_tickets(session=s, engine=runtime.engine,
                                              items=[{"body": text} for text in OUTAGE[:5]])
    surge = pairs[-1][1].related["surge"]
    assert surge["similar_in_window"] == 5
    assert surge["expected"] > 0.5
    assert surge["flag"] is False


def test_other_processes_read_the_stored_vectors(runtime):
    with runtime.db.session() as s:
        pairs = triage_service.triage_tickets(session=s, engine=runtime.engine,
                                              items=[{"body": t} for t in OUTAGE + OTHERS])
        other = SurgeMemory()
        other.refresh(s, runtime.settings.encoder)
        assert len(other) == len(pairs)
        [assessed] = other.assess(runtime.engine.encode([OUTAGE[0]]), [datetime.now(timezone.utc)])
        assert assessed["surge"]["similar_in_window"] >= 5
        # An erasure anywhere makes every process load its recent tickets again.
        selection = erasure.select_tickets(session=s, ticket_ids=[pairs[0][0].id])
        erasure.erase(session=s, selection=selection, embedding_cache=runtime.cached_encoder,
                      models_dir=runtime.settings.models_dir, engine=runtime.engine)
        other.refresh(s, runtime.settings.encoder)
        assert len(other) == len(pairs) - 1
        # Vectors of another encoder are not compared.
        third = SurgeMemory()
        third.refresh(s, "some/other-encoder")
        assert len(third) == 0


def test_a_refresh_reads_late_commits_and_only_the_vectors_it_lacks(runtime):
    """Each refresh looks again at the last minutes (a ticket committed late by another process
    carries an earlier time), but reads the vectors of the tickets it does not hold only."""
    vector_reads = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        if "ticket_vectors.vector" in statement and "SELECT" in statement:
            vector_reads.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", watch)
    try:
        with runtime.db.session() as s:
            triage_service.triage_tickets(session=s, engine=runtime.engine, items=[{"body": t} for t in OUTAGE[:4]])
            other = SurgeMemory()
            vector_reads.clear()  # the engine's own memory read them too
            other.refresh(s, runtime.settings.encoder)
            assert len(other) == 4 and len(vector_reads) == 1  # the baseline, once
            vector_reads.clear()
            other.refresh(s, runtime.settings.encoder)
            assert vector_reads == []  # nothing new: the newest time and ids only
            # Stored now, stamped two minutes before the newest ticket held: a late commit.
            [(late, _)] = triage_service.triage_tickets(session=s, engine=runtime.engine,
                                                        items=[{"body": OTHERS[0]}])
            newest = s.scalar(select(func.max(TicketVector.created_at)).where(TicketVector.ticket_id != late.id))
            s.execute(update(TicketVector).where(TicketVector.ticket_id == late.id)
                      .values(created_at=newest - timedelta(minutes=2)))
            s.commit()
            vector_reads.clear()
            other.refresh(s, runtime.settings.encoder)
            assert len(other) == 5 and len(vector_reads) == 1
            # A ticket a client dated a day ahead does not hide the ones stored after it.
            triage_service.triage_tickets(session=s, engine=runtime.engine, items=[
                {"body": OTHERS[1], "created_at": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()}])
            other.refresh(s, runtime.settings.encoder)
            triage_service.triage_tickets(session=s, engine=runtime.engine, items=[{"body": OTHERS[2]}])
            other.refresh(s, runtime.settings.encoder)
            assert len(other) == 7
            [assessed] = other.assess(runtime.engine.encode([OTHERS[0]]), [datetime.now(timezone.utc)])
            assert late.id in [t["ticket_id"] for t in assessed["similar_tickets"]]
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", watch)


def test_bad_surge_queries_get_a_clear_error(client):
    for query, field in (("min_size=1", "min_size"), ("limit=0", "limit"), ("window=5", "window")):
        r = client.get(f"/v1/surges?{query}")
        assert r.status_code == 422, query
        assert r.get_json()["error"]["field"] == field


def test_a_close_paraphrase_of_a_surge_ticket_joins_the_surge():
    """A surge's tickets do not all resemble each other. A new ticket with one similar ticket in the
    window, which itself has four (a surge), joins that surge when it is close to it (cosine 0.8,
    above the join threshold 0.75); at 0.72 it does not."""
    import numpy as np

    from triage.surges import SurgePolicy

    def unit(*parts):
        v = np.zeros(8, dtype=np.float32)
        for axis, value in parts:
            v[axis] = value
        return v / np.linalg.norm(v)

    now = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
    core = [unit((0, 1.0))] + [unit((0, 0.7), (k, 0.714)) for k in range(1, 5)]  # 0.7 to the first, 0.49 apart
    times = [now - timedelta(minutes=30 - 5 * k) for k in range(5)]
    close = unit((0, 0.8), (5, 0.6))  # 0.8 to ticket 1, 0.56 to the other four
    looser = unit((0, 0.72), (6, (1 - 0.72 ** 2) ** 0.5))  # 0.72 to ticket 1
    memory = SurgeMemory(SurgePolicy())
    memory.add(list(range(1, 6)), times, np.stack(core))
    joined, not_joined = memory.assess(np.stack([close, looser]), [now, now])
    assert joined["surge"]["similar_in_window"] == 2 and joined["surge"]["flag"] is True
    assert joined["surge"]["joined"] == {"ticket_id": 1, "similar_in_window": 6, "expected": 0.25}
    assert not_joined["surge"]["similar_in_window"] == 2
    assert not_joined["surge"]["flag"] is False and not_joined["surge"]["joined"] is None
    without = SurgeMemory(SurgePolicy(join=None))  # joining switched off: the ticket's own count only
    without.add(list(range(1, 6)), times, np.stack(core))
    [alone] = without.assess(close[None, :], [now])
    assert alone["surge"]["flag"] is False and alone["surge"]["joined"] is None
