"""Promptness across replicas on PostgreSQL (#29): every change recorded in the change feed is also
NOTIFYed, and a replica that LISTENs follows it at once: its passage index and its engine catch up
with no poll to wait for. Here the polls are stretched to an hour, so only the notification can
make the change visible. (On SQLite, one machine, the polls alone serve: tests/test_replica_index.py.)"""
from __future__ import annotations

import time

import pytest

from application.runtime import Runtime
from common.config import Settings
from kb import service as kb_service
from tests.conftest import PG_URL, fresh_database_url
from triage import engine as triage_engine
from triage import priority_settings

pytestmark = pytest.mark.skipif(not PG_URL, reason="LISTEN/NOTIFY is PostgreSQL's; SQLite replicas poll")

HOUR = 3600.0


def eventually(check, seconds: float = 20.0):
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "not seen within the deadline"
        time.sleep(0.05)


def search(rt: Runtime, query: str) -> list[str]:
    with rt.db.session() as s:
        [hits] = kb_service.search_passages(session=s, store=rt.store, vectors=rt.encoder.encode([query]),
                                            texts=[query], k=3)
    return [h["article_id"] for h in hits]


def set_cell(rt: Runtime, impact: str, urgency: str, level: str) -> None:
    """The team's matrix changed on ``rt``: ITIL's with one cell set."""
    matrix = priority_settings.default_matrix()
    matrix[impact][urgency] = level
    with rt.db.session() as s:
        priority_settings.set_matrix(session=s, value=matrix, by="lead")


def uses_cell(rt: Runtime, impact: str, urgency: str, level: str) -> bool:
    rt.engine.current()
    return rt.engine.priority_matrix is not None and rt.engine.priority_matrix[impact][urgency] == level


@pytest.fixture
def pair(tmp_path, monkeypatch):
    url = fresh_database_url(tmp_path)
    a = Runtime(Settings(home=tmp_path / "a", database_url=url)).start()
    b = Runtime(Settings(home=tmp_path / "b", database_url=url)).start()
    b.listen()
    assert b._listener.connected.wait(20)
    b.store.follow_every = b.store.full_sync_every = HOUR  # no poll will come to the rescue
    monkeypatch.setattr(triage_engine, "RELOAD_SECONDS", HOUR)
    yield a, b
    b.close()
    a.close()


def test_an_article_written_on_one_replica_is_found_on_a_listening_one_without_a_poll(pair):
    a, b = pair
    with a.db.session() as s:
        kb_service.create_article(session=s, store=a.store, item={
            "id": "printer-jam", "title": "Clearing a paper jam", "body": "Open tray two and pull the sheet out."})
    assert search(b, "paper jam in tray two") == ["printer-jam"]  # B's one poll, now an hour away
    with a.db.session() as s:
        kb_service.create_article(session=s, store=a.store, item={
            "id": "vpn-reset", "title": "Resetting the VPN client", "body": "Quit the VPN client and sign in again."})
    eventually(lambda: "vpn-reset" in search(b, "reset the VPN client"))
    with a.db.session() as s:
        kb_service.delete(session=s, store=a.store, article_id="vpn-reset")
    eventually(lambda: "vpn-reset" not in search(b, "reset the VPN client"))


def test_settings_changed_on_one_replica_reach_a_listening_engine_without_a_poll(pair):
    a, b = pair
    b.engine.current()  # B has looked; its next look would be an hour away
    assert b.engine.priority_matrix is None
    set_cell(a, "one", "low", "P3")
    eventually(lambda: uses_cell(b, "one", "low", "P3"))


def test_a_lost_listening_connection_is_opened_again(pair):
    a, b = pair
    import psycopg

    before = b._listener.connections
    with psycopg.connect(PG_URL, autocommit=True) as conn:  # the database drops B's listener
        killed = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()").fetchone()[0]
    assert killed >= 1
    eventually(lambda: b._listener.connections > before, 30)  # listening again
    b.engine.current()
    set_cell(a, "wide", "low", "P1")
    eventually(lambda: uses_cell(b, "wide", "low", "P1"), 30)
