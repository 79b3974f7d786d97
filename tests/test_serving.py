"""Serving as deployed, through real sockets against a real ``kbtriage serve`` subprocess: the
limits that keep a handful of slow clients from locking everyone out (waitress, the default), and
the production shape (gunicorn with several web worker processes, training in ``kbtriage worker``):
a killed web worker is replaced and no acknowledged write is lost."""
from __future__ import annotations

import gc
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.app import create_app
from application.demo import DEMO_DIR
from common import heap
from kb import service as kb_service
from kb.importers import read_articles
from models.tables import TrainingJob
from tests.conftest import demo_subset, make_runtime
from triage import service as triage_service
from triage.tables import FeedbackEvent, Ticket, TriageDecision

KBTRIAGE = str(Path(sys.executable).with_name("kbtriage"))
SLOW_CLIENTS = 150  # more than waitress's default connection limit (100)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(rt, **extra) -> dict:
    return {**os.environ, "KBTRIAGE_HOME": str(rt.settings.home), "DATABASE_URL": rt.settings.resolved_database_url(),
            "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


def _request(port, method, path, payload=None, timeout=30.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        body = None if payload is None else json.dumps(payload)
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def _wait_healthy(port, proc, seconds=120.0, path="/healthz"):
    """Until ``path`` answers 200 (``/readyz``: until the server is ready to serve)."""
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        try:
            if _request(port, "GET", path, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.3)


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class _Node:
    pass


def test_settling_the_heap_collects_the_old_garbage_and_freezes_what_lives():
    """What a serving process does after loading a model version (common/heap.py)."""
    live, cycle = _Node(), _Node()
    cycle.me = cycle  # garbage only the cyclic collector frees
    cycle_gone = weakref.ref(cycle)
    del cycle
    try:
        heap.settle()
        assert cycle_gone() is None
        assert heap.frozen_objects() > 0 and not any(o is live for o in gc.get_objects())
        # Frozen, then dropped: the next settle (the next version's load) looks at it again.
        live.me = live
        live_gone = weakref.ref(live)
        del live
        gc.collect()
        assert live_gone() is not None
        heap.settle()
        assert live_gone() is None
    finally:
        gc.unfreeze()


def test_a_serving_process_keeps_its_loaded_version_out_of_full_garbage_collections(trained_runtime):
    """A server's own runtime (a gunicorn web worker's, kbtriage serve's) settles the heap once
    started and after each model version it loads (the engine's on_load, tested with the
    replicas' activations): its objects are frozen, and /metrics says how many."""
    gc.unfreeze()
    s = trained_runtime.settings
    app = create_app({"home": s.home, "database_url": s.database_url}, start_worker=False)
    own = app.extensions["kbtriage"]
    try:
        assert own is not trained_runtime and own.engine.on_load is not None
        assert heap.frozen_objects() > 10_000  # the modules and the version's models
        client = app.test_client()
        assert client.post("/v1/triage", json={"body": "The invoice PDF will not download"}).status_code == 201
        exported = client.get("/metrics").get_data(as_text=True)
        [shown] = [line.split()[1] for line in exported.splitlines()
                   if line.startswith("kbtriage_heap_frozen_objects ")]
        assert float(shown) >= heap.frozen_objects() > 10_000  # frozen objects freed since go from the count
    finally:
        gc.unfreeze()
        own.close()


def test_a_batch_over_the_byte_limit_is_refused_naming_the_field(runtime):
    client = create_app(runtime=runtime, start_worker=False).test_client()
    limit = runtime.settings.max_batch_bytes
    tickets = [{"body": "x" * 15000} for _ in range(limit // 15000 + 1)]
    r = client.post("/v1/triage/batch", json={"tickets": tickets})
    assert r.status_code == 413
    error = r.get_json()["error"]
    assert error["code"] == "batch_too_large" and error["field"] == "tickets"
    assert "KBTRIAGE_MAX_BATCH_BYTES" in error["message"] and "kbtriage triage" in error["message"]
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0


@pytest.mark.engine_independent  # the HTTP server's handling of slow clients: the SQLite pass runs it
def test_slow_half_body_clients_do_not_lock_out_the_service(tmp_path):
    rt = make_runtime(tmp_path / "home")
    port = _free_port()
    proc = subprocess.Popen([KBTRIAGE, "serve", "--no-demo", "--port", str(port)],
                            env=_env(rt, KBTRIAGE_CLIENT_TIMEOUT="2", KBTRIAGE_MAX_BATCH_BYTES="4000"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    slow: list[socket.socket] = []
    try:
        _wait_healthy(port, proc)
        # Each sends its headers and half of its body, then nothing.
        for _ in range(SLOW_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(b"POST /v1/triage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n" + b'{"body": "' + b"a" * 490)
            slow.append(sock)
        # Liveness still answers while they hang (a generous timeout: this is not a speed test).
        assert _request(port, "GET", "/healthz", timeout=30)[0] == 200
        # And the service closes them: each read ends (b"") instead of waiting forever.
        for sock in slow:
            assert _closed(sock)
        # A batch sent without a length (chunked) is cut at the byte limit too, as JSON naming the field.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        chunks = (json.dumps({"body": "y" * 900}).encode() + b"," for _ in range(10))
        conn.request("POST", "/v1/triage/batch", body=(b'{"tickets": [', *chunks, b'{"body": "z"}]}'),
                     headers={"Content-Type": "application/json"}, encode_chunked=True)
        resp = conn.getresponse()
        assert resp.status == 413, resp.read()
        conn.close()
    finally:
        for sock in slow:
            sock.close()
        _stop(proc)
        rt.close()


def _closed(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (a timeout of 30 s is an exception, not an answer)."""
    try:
        while sock.recv(65536):  # an error response, if any, then the end
            pass
        return True
    except ConnectionResetError:
        return True


def _feedback(decision: dict) -> dict:
    """An agent's answer to a decision: the first suggested article accepted, else resolved."""
    if decision["suggestions"]:
        return {"kind": "accepted", "decision_id": decision["id"], "article_id": decision["suggestions"][0]["article_id"]}
    return {"kind": "resolved", "decision_id": decision["id"]}


@pytest.mark.engine_independent  # the HTTP server's handling of slow clients: the SQLite pass runs it
def test_under_gunicorn_a_stalled_body_holds_a_thread_for_the_client_timeout_only(tmp_path):
    # gunicorn reads bodies on its worker threads: before the body deadline, as many half-body
    # clients as threads (here 2 workers x 2) held the whole service until they went away.
    rt = make_runtime(tmp_path / "home")
    port = _free_port()
    proc = subprocess.Popen([KBTRIAGE, "serve", "--no-demo", "--workers", "2", "--threads", "2", "--port", str(port)],
                            env=_env(rt, KBTRIAGE_CLIENT_TIMEOUT="2"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    slow: list[socket.socket] = []
    try:
        _wait_healthy(port, proc)
        for _ in range(8):
            sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            sock.sendall(b"POST /v1/triage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n" + b'{"body": "' + b"a" * 490)
            slow.append(sock)
        assert _request(port, "GET", "/healthz", timeout=60)[0] == 200
        answers = []
        for sock in slow:
            head = sock.recv(65536)
            answers.append(head.split(b"\r\n", 1)[0])
            assert _closed(sock)
        assert answers == [b"HTTP/1.1 408 Request Timeout"] * len(slow)
        # A body that arrives in time is read as before.
        status, decision = _request(port, "POST", "/v1/triage", {"body": "the vpn drops every hour"})
        assert status == 201 and decision["ticket_id"]
    finally:
        for sock in slow:
            sock.close()
        _stop(proc)
        rt.close()


def _children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_web_workers_share_out_the_cores_for_encoding():
    from cli.serve import encoder_threads_per_worker
    from common.config import Settings

    cores = len(os.sched_getaffinity(0))
    assert encoder_threads_per_worker(Settings(), 2) == max(1, cores // 2)
    assert encoder_threads_per_worker(Settings(), 64) == 1
    assert encoder_threads_per_worker(Settings(encoder_threads=3), 2) == 3  # set: kept


def test_a_training_worker_runs_below_the_web_workers_priority(tmp_path):
    rt = make_runtime(tmp_path / "home")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    for setting, expected in (({}, max(10, base)), ({"KBTRIAGE_TRAINING_NICE": "0"}, base)):
        with subprocess.Popen([KBTRIAGE, "worker", "--poll", "0.2"], env=_env(rt, **setting),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as worker:
            try:
                assert "polling" in worker.stderr.readline()
                assert os.getpriority(os.PRIO_PROCESS, worker.pid) == expected
            finally:
                worker.terminate()
                worker.wait(30)
    rt.close()


def test_production_shape_replaces_a_killed_web_worker_and_keeps_every_acknowledged_write(tmp_path):
    rt = make_runtime(tmp_path / "home")
    with rt.db.session() as s:
        kb_service.upsert_many(session=s, store=rt.store, items=read_articles(DEMO_DIR / "articles")[:20])
        triage_service.import_tickets(session=s, records=demo_subset(300))
    port = _free_port()
    env = _env(rt, KBTRIAGE_WORKER="embedded")  # the default: web workers under gunicorn still never train
    server = subprocess.Popen([KBTRIAGE, "serve", "--no-demo", "--workers", "2", "--threads", "2", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(port, server)
        workers = _children(server.pid)
        assert len(workers) == 2
        # A training job is queued through the API; no web worker takes it.
        status, job = _request(port, "POST", "/v1/models/train", {"promote": "always"})
        assert status == 202
        time.sleep(3)  # longer than a worker's poll: an embedded worker thread would have claimed it
        assert _request(port, "GET", f"/v1/jobs/{job['id']}")[1]["status"] == "queued"
        trainer = subprocess.run([KBTRIAGE, "worker", "--once"], env=env, capture_output=True, text=True, timeout=300)
        assert trainer.returncode == 0 and "ran a job" in trainer.stderr, trainer.stderr
        with rt.db.session() as s:
            done = s.get(TrainingJob, job["id"])
            assert done.status == "succeeded"
            assert int(done.worker.split(":")[1]) not in workers | {server.pid}

        # Clients triage and record feedback through both web workers while one is killed.
        acked_decisions, acked_feedback, failures, errors = [], [], [], []
        stop = threading.Event()
        texts = [r["body"] for r in demo_subset(400)[300:]]

        def client(n):
            i = n
            while not stop.is_set():
                try:
                    status, decision = _request(port, "POST", "/v1/triage", {"body": texts[i % len(texts)]})
                    assert status == 201, decision
                    acked_decisions.append(decision["id"])
                    status, event = _request(port, "POST", "/v1/feedback", _feedback(decision))
                    assert status == 201, event
                    acked_feedback.append(event["id"])
                except (OSError, http.client.HTTPException) as exc:  # the killed worker's connections
                    failures.append(exc)
                except AssertionError as exc:  # an answer other than 201: reported after the threads stop
                    errors.append(exc)
                i += 4

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        while len(acked_decisions) < 10:
            time.sleep(0.1)
        victim = sorted(workers)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not (len(_children(server.pid)) == 2 and victim not in _children(server.pid)):
            assert time.monotonic() < deadline, "the killed web worker was not replaced"
            time.sleep(0.2)
        after_kill = len(acked_decisions)
        while len(acked_decisions) < after_kill + 10:  # the new worker set answers too
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        assert server.poll() is None
        assert len(acked_feedback) >= 10 and not errors
        replaced = _children(server.pid)
        assert victim not in replaced and len(replaced) == 2
        with rt.db.session() as s:
            stored = set(s.scalars(select(TriageDecision.id).where(TriageDecision.id.in_(acked_decisions))))
            assert stored == set(acked_decisions)
            events = set(s.scalars(select(FeedbackEvent.id).where(FeedbackEvent.id.in_(acked_feedback))))
            assert events == set(acked_feedback)
            assert s.scalars(select(TrainingJob).where(TrainingJob.status != "succeeded")).all() == []
        assert len(failures) <= 8, failures  # only requests the killed worker held were cut
    finally:
        _stop(server)
        rt.close()
