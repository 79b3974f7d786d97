"""Model versions across machines on one database (#29): a version trained by one process is served
by another whose data directory never held its files (they come from the database), activation and
rollback reach it, pruning removes the artifacts everywhere, and a backup taken on such a machine
holds the version and restores it into the database. Each 'machine' is a runtime with its own
empty KBTRIAGE_HOME on the same database (a shared SQLite file, or PostgreSQL with
TEST_DATABASE_URL); real encoder, real models."""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from application import backup as backups
from application.runtime import Runtime
from common import change_feed
from common.change_feed import ChangeFeedRow
from common.config import Settings
from common.db import utcnow
from common.errors import Conflict
from models import registry
from models.tables import ModelArtifact, ModelVersion
from tests.conftest import demo_runtime, fresh_database_url, make_runtime
from triage import erasure
from triage import service as triage_service
from triage.tables import Ticket

TEXTS = ["I cannot log in, my password reset link has expired",
         "We were charged twice on this month's invoice",
         "The API returns 401 for every call since this morning"]


def replica(trained: Runtime, home) -> Runtime:
    """Another machine on ``trained``'s database: its own, empty data directory, its passage index
    brought in step as a service's start does."""
    rt = Runtime(Settings(home=home, database_url=trained.settings.database_url)).start()
    with rt.db.session() as s:
        rt.store.sync(session=s)
    return rt


def served_by(rt: Runtime, version_id: int, deadline: float = 10.0):
    """The bundle ``rt`` serves once it serves ``version_id`` (polled, as a replica notices)."""
    until = time.monotonic() + deadline
    while True:
        vid, bundle = rt.engine.current()
        if vid == version_id and bundle is not None:
            return bundle
        assert time.monotonic() < until, f"still serving {vid}, not {version_id}: {rt.engine.model_problem}"
        time.sleep(0.2)


def decisions(rt: Runtime) -> list[tuple]:
    return [(d["model_version"], d["category"], d["tier"], d["route"], [s["article_id"] for s in d["suggestions"]])
            for d in rt.engine.decide(TEXTS)]


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    """Machine A trained the demo; its version folders are then moved away, as another machine
    would never see them."""
    root = tmp_path_factory.mktemp("machines")
    a = demo_runtime(root / "a", 300)
    before = decisions(a)
    hidden = root / "a-models-elsewhere"
    shutil.move(str(a.settings.models_dir), str(hidden))
    b = replica(a, root / "b")
    yield a, b, before
    b.close()
    a.close()


def test_a_replica_serves_a_version_trained_elsewhere_from_the_database(machines):
    a, b, before = machines
    with a.db.session() as s:
        version = registry.active(session=s)
        stored = s.scalar(select(func.sum(func.length(ModelArtifact.data))).where(ModelArtifact.version_id == version.id))
    assert version.report["artifact_bytes"] == stored > 0
    assert not (a.settings.models_dir / f"v{version.id}").exists()  # A's disk is not B's
    served_by(b, version.id)
    assert (b.settings.models_dir / f"v{version.id}" / registry.BUNDLE_FILE).is_file()
    assert decisions(b) == before  # the same models, the same decisions


def test_activation_and_rollback_on_one_machine_reach_the_other(machines, tmp_path):
    a, b, _ = machines
    worker = replica(a, tmp_path / "worker")
    loads = []  # the versions b loads, as its engine tells a server process (common/heap.settle)
    b.engine.on_load = loads.append
    try:
        with worker.db.session() as s:  # the worker writes a second version (the first one's models
            # again: a training run's other steps are test_a_replica_serves...'s) and activates it
            active = registry.active(session=s)
            first = active.id
            bundle = registry.read_bundle(registry.local_folder(s, active, worker.settings.models_dir))
            version = ModelVersion(status="candidate", encoder=active.encoder, report={})
            s.add(version)
            s.flush()
            version.path = str(registry.write_bundle(worker.settings.models_dir, version.id, bundle))
            registry.store_artifacts(s, version.id, Path(version.path))
            s.commit()
            second = registry.activate(session=s, version_id=version.id).id
        assert second != first
        shutil.move(str(worker.settings.models_dir), str(tmp_path / "worker-models-elsewhere"))
        served_by(b, second)  # trained on the worker's disk, activated there, served here
        with b.db.session() as s:
            assert s.get(ModelVersion, second).status == "active"
            registry.activate(session=s, version_id=first)  # the rollback, from this machine
        with worker.db.session() as s:
            assert registry.active(session=s).id == first
        served_by(b, first)
        served_by(worker, first)  # the worker fetched the first version it never trained
        assert (worker.settings.models_dir / f"v{first}" / registry.BUNDLE_FILE).is_file()
        assert loads == [second, first]  # once per version loaded, not on the reloads between
    finally:
        b.engine.on_load = None
        worker.close()


def test_pruning_removes_the_artifacts_from_the_database_and_every_copy(machines):
    a, b, _ = machines
    with b.db.session() as s:
        candidates = [v for v in registry.list_versions(session=s) if v.status in ("retired", "candidate")]
        assert candidates, "the previous test leaves a retired version"
        victim = candidates[0]
        assert (b.settings.models_dir / f"v{victim.id}" / registry.BUNDLE_FILE).is_file()  # B's copy
        registry.prune(session=s, models_dir=a.settings.models_dir, keep=0)  # pruned by machine A
        s.expire_all()
        assert s.get(ModelVersion, victim.id).status == "pruned"
        assert not s.scalar(select(func.count()).select_from(ModelArtifact)
                            .where(ModelArtifact.version_id == victim.id))
        with pytest.raises(Conflict) as refused:
            registry.activate(session=s, version_id=victim.id)
        assert "pruned" in str(refused.value)
        assert registry.forget_copies(session=s, models_dir=b.settings.models_dir) == [victim.id]
    assert not (b.settings.models_dir / f"v{victim.id}").exists()


def test_a_backup_on_a_machine_without_the_files_holds_the_version_and_restores_it(machines, tmp_path):
    a, b, before = machines
    with b.db.session() as s:
        active = registry.active(session=s).id
    shutil.rmtree(b.settings.models_dir, ignore_errors=True)  # B never fetched it, or lost its copy
    archive = tmp_path / "backup.tar.gz"
    manifest = backups.create_backup(db=b.db, models_dir=b.settings.models_dir, path=archive)
    assert str(active) in manifest["versions"]
    assert "model_artifacts" not in manifest["tables"]  # the files are in the archive once
    target = make_runtime(tmp_path / "restored")
    try:
        backups.restore_backup(runtime=target, path=archive)
        with target.db.session() as s:
            assert s.scalar(select(func.count()).select_from(ModelArtifact)
                            .where(ModelArtifact.version_id == active, ModelArtifact.name == registry.BUNDLE_FILE))
        shutil.rmtree(target.settings.models_dir)  # a third machine on the restored database
        third = replica(target, tmp_path / "third")
        try:
            served_by(third, active)
            assert [d[1:] for d in decisions(third)] == [d[1:] for d in before]
        finally:
            third.close()
    finally:
        target.close()


def cached(rt: Runtime, text: str) -> bool:
    """Whether ``rt``'s machine holds a cached vector of ``text``."""
    with sqlite3.connect(rt.settings.home / "cache" / "embeddings.sqlite") as conn:
        return conn.execute("SELECT 1 FROM emb WHERE key = ?", (rt.cached_encoder._key(text),)).fetchone() is not None


def test_an_erasure_on_one_machine_leaves_no_cached_vector_of_the_ticket_on_another(tmp_path):
    a = make_runtime(tmp_path / "a")
    b = replica(a, tmp_path / "b")
    try:
        with a.db.session() as s:
            triage_service.import_tickets(session=s, records=[
                {"body": "Our invoices show the wrong VAT number since the move"},
                {"body": "The printer on floor two jams on every second page"}])
            erased, kept = [t.text for t in s.scalars(select(Ticket).order_by(Ticket.id))]
        b.engine.current()  # B has seen every erasure so far
        for machine in (a, b):  # e.g. their workers trained on them
            machine.cached_encoder.encode([erased, kept])
            assert cached(machine, erased) and cached(machine, kept)
        with a.db.session() as s:
            ticket_id = s.scalar(select(Ticket.id).where(Ticket.body.like("%VAT%")))
            erasure.erase(session=s, selection=erasure.select_tickets(session=s, ticket_ids=[ticket_id]),
                          embedding_cache=a.cached_encoder, models_dir=a.settings.models_dir, engine=a.engine)
        b.engine.invalidate()  # as within RELOAD_SECONDS
        b.engine.current()
        assert not cached(b, erased)  # B could not know the text: it dropped its cache
        a.engine.current()
        assert not cached(a, erased) and cached(a, kept)  # the machine that erased forgot that text only
        with a.db.session() as s:
            erasure.erase(session=s, selection=erasure.select_tickets(session=s, ticket_ids=[ticket_id + 1]),
                          embedding_cache=a.cached_encoder, models_dir=a.settings.models_dir, engine=a.engine)
        b.cached_encoder.encode([kept])
        assert b.follow_erasures() > 0 and not cached(b, kept)  # a worker's check before training
    finally:
        b.close()
        a.close()


def test_replicas_starting_at_once_on_an_empty_database_all_come_up(tmp_path):
    """A new release's replicas start together: one migrates, the others find the schema current."""
    url = fresh_database_url(tmp_path)
    errors, started = [], []
    barrier = threading.Barrier(4)

    def start(n):
        try:
            barrier.wait()
            rt = Runtime(Settings(home=tmp_path / f"r{n}", database_url=url)).start()
            started.append(rt)
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=start, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)  # before the lock, two migrations at once on PostgreSQL waited on each other for ever
    try:
        assert not any(t.is_alive() for t in threads), "a replica is still migrating after 120 s"
        assert errors == [] and len(started) == 4
        with started[0].db.session() as s:
            assert registry.list_versions(session=s) == []  # the schema is there, and usable
    finally:
        for rt in started:
            rt.close()


def test_the_change_feed_is_pruned_and_its_sequence_goes_on(runtime):
    """Workers delete feed rows older than a week; the newest stays, so ids keep rising (SQLite
    would otherwise hand out a deleted id again, which followers past it would never read)."""
    with runtime.db.session() as s:
        change_feed.record(s, "routing", ["category/a", "category/b", "category/c"])
        s.commit()
        s.execute(update(ChangeFeedRow).values(at=utcnow() - timedelta(days=8)))
        s.commit()
        newest = change_feed.last_id(s)
        assert change_feed.prune(session=s) == 2
        assert [r.id for r in change_feed.since(s, 0)] == [newest]
        change_feed.record(s, "routing", ["category/d"])
        s.commit()
        assert change_feed.since(s, newest)[0].id == newest + 1
        assert change_feed.prune(session=s) == 1  # the old one goes once a newer row carries the sequence on


def test_a_reload_due_by_the_clock_does_not_queue_requests_but_one_after_a_change_here_does(runtime):
    """Every RELOAD_SECONDS one request thread reads the active version, rules and recent tickets
    again; the others serve what is loaded meanwhile. After this process changed something
    (``invalidate``), a request waits for the reload that reads the change."""
    engine = runtime.engine
    loaded = engine.current()
    engine._lock.acquire()  # another request thread is in the middle of a reload
    try:
        engine._checked = 0.0  # due by the clock
        served = []
        reader = threading.Thread(target=lambda: served.append(engine.current()), daemon=True)
        reader.start()
        reader.join(10)
        assert served == [loaded]  # answered at once, with what was loaded
        engine.invalidate()
        waiter = threading.Thread(target=lambda: served.append(engine.current()), daemon=True)
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive()  # queued behind the reload in progress
    finally:
        engine._lock.release()
    waiter.join(30)
    assert not waiter.is_alive() and len(served) == 2
    assert engine._checked > 0  # the waiting thread reloaded: the change is read
