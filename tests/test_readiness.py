"""Readiness for load balancers, the database going away and coming back (PostgreSQL behind a real
TCP relay that the test cuts), and a database address whose driver is missing."""
from __future__ import annotations

import importlib.metadata
import re
import socket
import threading
import time

import psycopg
import pytest
from sqlalchemy import text

import common.db as db_module
from api.app import create_app
from application.runtime import Runtime
from common.config import Settings
from common.db import Database, make_engine
from common.errors import ValidationError
from tests.conftest import PG_URL, fresh_database_url, make_runtime


def test_ready_when_a_version_serves(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.get_json() == {"ready": True}


def test_not_ready_without_an_active_version(tmp_path):
    rt = make_runtime(tmp_path / "home")
    app = create_app(runtime=rt, start_worker=False)
    try:
        resp = app.test_client().get("/readyz")
        assert resp.status_code == 503 and resp.headers["Retry-After"].isdigit()
        body = resp.get_json()
        assert body["ready"] is False and any("no model version is active" in r for r in body["reasons"])
        health = app.test_client().get("/healthz")  # alive all the same, but says it decides nothing
        assert health.status_code == 200 and health.get_json()["status"] == "degraded"
        assert any("no model version is active" in p for p in health.get_json()["problems"])
    finally:
        rt.close()


def test_a_missing_database_driver_is_one_clear_error():
    with pytest.raises(ValidationError) as err:
        make_engine("mysql://someone@db.example/kb")
    assert err.value.field == "DATABASE_URL" and "not installed" in err.value.message
    # The default install carries PostgreSQL's driver (no extra needed).
    required = importlib.metadata.requires("kb-triage") or []
    assert any(re.match(r"psycopg\b", r) and "extra ==" not in r for r in required), required


class Relay:
    """A TCP relay to the database that the test can cut (closing every connection and refusing
    new ones, as a database that went away does) and restore on the same port."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = None
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()  # a connection accepted while the relay is cut is closed, not kept

    def start(self) -> "Relay":
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port or 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                live = listener is self._listener
                if live:
                    self._conns += [client, upstream]
            if not live:  # cut meanwhile: this pair would outlive the relay
                client.close()
                upstream.close()
                return
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
            self._listener = None  # connections its thread still accepts are closed there
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()


@pytest.mark.skipif(not PG_URL, reason="the database going away is a network database's fault: needs TEST_DATABASE_URL")
def test_the_database_away_gives_503_with_retry_after_then_recovers(tmp_path):
    direct = fresh_database_url(tmp_path)
    host, port = re.search(r"@([^:/]+):(\d+)/", direct).groups()
    relay = Relay((host, int(port))).start()
    rt = Runtime(Settings(home=tmp_path / "home", database_url=direct.replace(f"@{host}:{port}/",
                                                                          f"@127.0.0.1:{relay.port}/"))).start()
    app = create_app(runtime=rt, start_worker=False)
    client = app.test_client()
    try:
        assert client.get("/v1/articles").status_code == 200
        relay.cut()
        for _ in range(3):  # pooled connections are found dead, new ones refused: each answer is a 503
            resp = client.get("/v1/articles")
            assert resp.status_code == 503, resp.get_data(as_text=True)
            assert resp.headers["Retry-After"].isdigit()
            assert resp.get_json()["error"]["code"] == "database_unavailable"
            resp = client.post("/v1/triage", json={"body": "my laptop will not start"})
            assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "database_unavailable"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "database does not answer" in ready.get_json()["reasons"][0]
        relay.start()  # the database is back, on the same address
        deadline = time.monotonic() + 30
        while (status := client.get("/v1/articles").status_code) != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status == 200
        assert client.post("/v1/triage", json={"body": "my laptop will not start"}).status_code == 201
    finally:
        relay.cut()
        rt.close()


def test_a_cli_command_whose_database_does_not_answer_says_so_in_one_line(tmp_path, monkeypatch):
    """A PostgreSQL URL whose server is not there (a closed port): one line naming DATABASE_URL, no traceback."""
    import socket

    from click.testing import CliRunner

    from cli.main import main

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("KBTRIAGE_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/test")
    result = CliRunner().invoke(main, ["gaps"])
    assert result.exit_code == 1, result.output
    assert "the database does not answer" in result.output and "[DATABASE_URL]" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.skipif(not PG_URL, reason="pooled connections dying under the service: needs TEST_DATABASE_URL")
def test_a_pooled_connection_is_pinged_only_after_idling_and_a_dead_idle_one_is_replaced_unseen(tmp_path, monkeypatch):
    db = Database(fresh_database_url(tmp_path))
    pings = []
    real_ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: (pings.append(1), real_ping(conn))[1])
    try:
        with db.session() as session:
            pid = session.scalar(text("SELECT pg_backend_pid()"))
        for _ in range(5):  # in steady use: no round trip spent on a ping
            with db.session() as session:
                assert session.scalar(text("SELECT pg_backend_pid()")) == pid
        assert pings == []
        with psycopg.connect(PG_URL, autocommit=True) as admin:  # the server drops the pooled connection
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has idled long enough
        with db.session() as session:  # pinged, found dead, replaced: the caller sees none of it
            assert session.scalar(text("SELECT pg_backend_pid()")) != pid
        assert pings == [1]
    finally:
        db.dispose()
