"""kbtriage backup and restore on real databases: a trained installation round trip (every row, the
model versions serving the same decisions, search over the rebuilt index), SQLite to the test
database (PostgreSQL when TEST_DATABASE_URL is set), a database with data refused unless
--replace, damaged or foreign files refused with status 2 and nothing changed, and a backup taken
while tickets keep arriving being one consistent moment."""
from __future__ import annotations

import io
import json
import os
import tarfile
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from application import access
from application import backup as backups
from application.feedback import record_feedback
from application.runtime import Runtime
from cli.main import main
from common.config import Settings
from kb import service as kb_service
from kb.tables import Chunk
from models.tables import ModelVersion
from tests.conftest import demo_runtime, make_runtime
from triage import routing
from triage import service as triage_service
from triage.tables import Ticket, TriageDecision

NEW_TICKETS = [
    {"subject": "Cannot log in", "body": "My account is locked after I typed the wrong password several times."},
    {"subject": "Invoice question", "body": "I was charged twice for the same month, please refund one charge."},
    {"subject": "API", "body": "Our integration gets 401 errors since this morning when calling the API."},
]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A trained demo installation with decisions, feedback, an API key, a routing rule and a pruned
    version's row, and a backup of it."""
    home = tmp_path_factory.mktemp("source")
    rt = demo_runtime(home / "home", 300)
    with rt.db.session() as s:
        pairs = triage_service.triage_tickets(session=s, engine=rt.engine, items=NEW_TICKETS)
        ticket, decision = pairs[0]
        record_feedback(session=s, settings=rt.settings, events=[
            {"kind": "category_corrected", "decision_id": decision.id, "value": "account",
             "agent_id": "agent-7", "idempotency_key": "fb-1"}])
        access.create(session=s, name="ops", role="admin")
        s.add(ModelVersion(status="pruned", path=None, encoder=rt.settings.encoder, report={"note": "pruned"}))
        category = s.scalars(select(Ticket.category).where(Ticket.category.is_not(None))).first()
    routing.put_rule(rt.engine, part="category", label=category, target_precision=0.9, updated_by="lead")
    archive = home / "kb-backup.tar.gz"
    backups.create_backup(db=rt.db, models_dir=rt.settings.models_dir, path=archive)
    yield rt, archive
    rt.close()


def table_rows(rt: Runtime) -> dict[str, list[dict]]:
    """Every row of every table a backup holds, by primary key; model versions without their path,
    which names the installation's own folder."""
    out = {}
    with rt.db.engine.connect() as conn:
        for table in backups.data_tables():
            rows = [dict(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()]
            if table.name == "model_versions":
                rows = [{k: v for k, v in r.items() if k != "path"} for r in rows]
            out[table.name] = rows
    return out


def rounded(value):
    """Decisions compared to 6 decimals: the index is embedded again, in other batches."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value


def decisions(rt: Runtime) -> list:
    return rounded(rt.engine.decide([f"{t['subject']}\n{t['body']}" for t in NEW_TICKETS]))


def searches(rt: Runtime) -> list[list[str]]:
    queries = ["reset my password", "export my data to CSV", "webhook retries"]
    with rt.db.session() as s:
        found = kb_service.search_passages(session=s, store=rt.store, vectors=rt.encoder.encode(queries),
                                           texts=queries, k=3)
    return [[hit["article_id"] for hit in hits] for hits in found]


def assert_same_installation(restored: Runtime, source: Runtime) -> None:
    assert table_rows(restored) == table_rows(source)
    with restored.db.session() as s:
        for version in s.scalars(select(ModelVersion)):
            if version.status == "pruned":
                assert version.path is None
            else:
                assert Path(version.path).parent == restored.settings.models_dir
                assert (Path(version.path) / "bundle.pkl").is_file()
    assert decisions(restored) == decisions(source)
    assert decisions(restored)[0]["model_version"] is not None
    found = searches(restored)
    assert found == searches(source) and all(found)
    with restored.db.session() as s:  # the index holds exactly the restored passages
        chunks = dict(s.execute(select(Chunk.id, Chunk.text)).all())
    assert restored.store.read_texts() == chunks and restored.store.index().count() == len(chunks)


def cli_env(rt: Runtime) -> dict:
    return {"KBTRIAGE_HOME": str(rt.settings.home), "DATABASE_URL": rt.settings.resolved_database_url()}


def test_round_trip_restores_every_row_the_model_versions_and_the_index(source, tmp_path):
    rt, archive = source
    target = make_runtime(tmp_path / "target")
    try:
        done = backups.restore_backup(runtime=target, path=archive)
        assert done["tables"]["tickets"] == 303 and done["replaced"] == {}
        assert_same_installation(target, rt)
        # new rows get new ids (PostgreSQL's sequences were moved past the restored ones)
        with target.db.session() as s:
            biggest = max(r["id"] for r in table_rows(target)["tickets"])
            [(ticket, decision)] = triage_service.triage_tickets(session=s, engine=target.engine, items=NEW_TICKETS[:1])
            assert ticket.id == biggest + 1 and decision.model_version_id is not None
            row, key = access.create(session=s, name="new-agent", role="agent")
            assert access.authorize(session=s, key=key, needs="agent").name == "new-agent"
    finally:
        target.close()


def test_a_sqlite_backup_restores_into_the_test_database(source, tmp_path):
    """The source backup restored into a SQLite file, backed up from there and restored into the test
    database (PostgreSQL when TEST_DATABASE_URL is set): SQLite to PostgreSQL."""
    rt, archive = source
    sqlite_home = tmp_path / "sqlite"
    sqlite_home.mkdir()
    on_sqlite = Runtime(Settings(home=sqlite_home, database_url=f"sqlite:///{sqlite_home / 'kb.db'}")).start()
    target = make_runtime(tmp_path / "target")
    try:
        backups.restore_backup(runtime=on_sqlite, path=archive)
        second = tmp_path / "from-sqlite.tar.gz"
        manifest = backups.create_backup(db=on_sqlite.db, models_dir=on_sqlite.settings.models_dir, path=second)
        assert manifest["source_engine"] == "sqlite"
        backups.restore_backup(runtime=target, path=second)
        assert_same_installation(target, rt)
    finally:
        on_sqlite.close()
        target.close()


def target_with_data(home: Path) -> tuple[Runtime, Path]:
    """An installation holding an article, an API key and a model version with files (id 7)."""
    rt = make_runtime(home)
    with rt.db.session() as s:
        kb_service.upsert_many(session=s, store=rt.store, items=[
            {"id": "local-only", "title": "Printer setup", "body": "How to set up the office printer on each floor."}])
        access.create(session=s, name="old-admin", role="admin")
        folder = rt.settings.models_dir / "v7"
        folder.mkdir(parents=True)
        (folder / "bundle.pkl").write_bytes(b"an earlier installation's model")
        s.add(ModelVersion(id=7, status="retired", path=str(folder), encoder=rt.settings.encoder, report={}))
    return rt, folder


def test_restore_into_a_database_with_data_refuses_without_replace_and_replaces_with_it(source, tmp_path):
    rt, archive = source
    target, old_version = target_with_data(tmp_path / "target")
    try:
        before = table_rows(target)
        refused = CliRunner().invoke(main, ["restore", str(archive)], env=cli_env(target))
        assert refused.exit_code == 1 and "--replace" in refused.output and "articles 1" in refused.output
        assert table_rows(target) == before and old_version.is_dir()

        done = CliRunner().invoke(main, ["restore", "--replace", str(archive)], env=cli_env(target),
                                  catch_exceptions=False)
        assert done.exit_code == 0, done.output
        assert f"restored {archive}" in done.output and "replaced api_keys 1, articles 1" in done.output
        assert "tickets 303" in done.output and "article index rebuilt" in done.output
        assert not old_version.exists()  # the replaced database's version files go with it
        fresh = Runtime(target.settings)  # as the next start of the service sees it
        try:
            assert_same_installation(fresh, rt)
        finally:
            fresh.close()
    finally:
        target.close()


def repacked(archive: Path, out: Path, change) -> Path:
    """``archive`` written again with ``change(name, data) -> data | None`` (None: left out) applied
    to each member, the manifest included."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = change(member.name, src.extractfile(member).read())
            if data is not None:
                info = tarfile.TarInfo(member.name)
                info.size = len(data)
                dst.addfile(info, io.BytesIO(data))
    return out


def manifest_with(**changes):
    def change(name, data):
        return json.dumps({**json.loads(data), **changes}).encode() if name == "manifest.json" else data
    return change


def truncated(archive, out):
    out.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return out


def flipped(archive, out):
    data = bytearray(archive.read_bytes())
    data[len(data) // 3] ^= 0xFF
    out.write_bytes(bytes(data))
    return out


def edited_tickets(archive, out):
    return repacked(archive, out, lambda name, data: data.replace(b"refund", b"rEfund")
                    if name == "tables/tickets.jsonl" else data)


def extra_member(archive, out):
    repacked(archive, out, lambda name, data: data)
    with tarfile.open(out, "r:gz") as src:
        members = [(m, src.extractfile(m).read()) for m in src]
    with tarfile.open(out, "w:gz") as dst:
        for m, data in members + [(tarfile.TarInfo("tables/extra.jsonl"), b"{}\n")]:
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    return out


BAD_FILES = {
    "truncated": (truncated, "damaged or truncated"),
    # zlib notices, or the member's checksum does
    "a byte flipped": (flipped, ("damaged or truncated", "is damaged (its SHA-256 differs")),
    "a table edited": (edited_tickets, "tables/tickets.jsonl is damaged (its SHA-256 differs"),
    "a member not in the manifest": (extra_member, "'tables/extra.jsonl', which its manifest does not list"),
    "a newer format": (lambda a, o: repacked(a, o, manifest_with(format=99)), "backup format 99"),
    "a newer schema": (lambda a, o: repacked(a, o, manifest_with(schema_revision="9999_future")),
                       "comes from a newer database schema (revision 9999_future"),
    "not an archive": (lambda a, o: o.write_text("id,title\n1,hello\n") and o, "damaged or truncated"),
    "not kb-triage's": (lambda a, o: repacked(a, o, lambda n, d: b'{"hello": 1}' if n == "manifest.json" else d),
                        "not a kb-triage backup"),
    "missing": (lambda a, o: o, "no such file"),
}


@pytest.mark.parametrize("damage", list(BAD_FILES))
def test_a_damaged_or_foreign_file_exits_2_and_changes_nothing(source, tmp_path, damage):
    rt, archive = source
    make, message = BAD_FILES[damage]
    bad = make(archive, tmp_path / "bad.tar.gz")
    target, old_version = target_with_data(tmp_path / "target")
    try:
        before, texts = table_rows(target), target.store.read_texts()
        result = CliRunner().invoke(main, ["restore", "--replace", str(bad)], env=cli_env(target))
        assert result.exit_code == 2, result.output
        [line] = result.output.strip().splitlines()
        assert str(bad) in line and any(m in line for m in ([message] if isinstance(message, str) else message)), line
        assert table_rows(target) == before and target.store.read_texts() == texts
        assert old_version.is_dir() and sorted(p.name for p in target.settings.models_dir.iterdir()) == ["v7"]
        assert not [p for p in target.settings.home.iterdir() if p.name.startswith(".restore-")]
    finally:
        target.close()


def test_backup_command_prints_what_it_wrote_and_never_overwrites_by_mistake(source, tmp_path):
    rt, _ = source
    out = tmp_path / "nightly.tar.gz"
    result = CliRunner().invoke(main, ["backup", str(out)], env=cli_env(rt), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    manifest = backups.read_manifest(out)
    assert f"backup written to {out}" in result.output
    assert f"tickets {manifest['tables']['tickets']['rows']}" in result.output
    assert "model versions with artifacts: v1 (active)" in result.output
    assert os.stat(out).st_mode & 0o077 == 0  # customer data and key hashes: the owner's alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nightly.tar.gz"]  # no temporaries left

    written = out.read_bytes()
    for args, message in ((["backup", str(out)], "already exists"),
                          (["backup", str(tmp_path / "no-such-folder" / "b.tar.gz")], "does not exist"),
                          (["backup", str(tmp_path)], "is a folder")):
        refused = CliRunner().invoke(main, args, env=cli_env(rt))
        assert refused.exit_code == 2 and message in refused.output, refused.output
    assert out.read_bytes() == written
    again = CliRunner().invoke(main, ["backup", "--overwrite", str(out)], env=cli_env(rt))
    assert again.exit_code == 0 and backups.read_manifest(out)["created_at"] > manifest["created_at"]


def test_a_backup_taken_while_tickets_arrive_is_one_moment(tmp_path):
    """A writer adds tickets with their decisions, each pair in one transaction, while the backup
    reads: the backup holds whole pairs only, and restores."""
    rt = make_runtime(tmp_path / "busy")
    target = make_runtime(tmp_path / "target")
    stop, written = threading.Event(), []
    with rt.db.engine.begin() as conn:  # enough rows that reading one table takes a while
        ids = conn.execute(insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True),
                           [{"subject": "s", "body": "b", "meta": {}, "source": "import"} for _ in range(3000)]
                           ).scalars().all()
        conn.execute(insert(TriageDecision), [{"ticket_id": n, "route": "review", "reason": "r", "top_categories": [],
                                               "suggestions": [], "gap": False, "related": {}} for n in ids])

    def write():
        while not stop.is_set():
            with rt.db.engine.begin() as conn:
                ticket_id = conn.execute(insert(Ticket).values(subject="s", body="b", meta={}, source="api")
                                         .returning(Ticket.id)).scalar_one()
                conn.execute(insert(TriageDecision).values(ticket_id=ticket_id, route="review", reason="r",
                                                           top_categories=[], suggestions=[], gap=False,
                                                           related={}))
            written.append(ticket_id)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20 and writer.is_alive():
            stop.wait(0.01)
        assert writer.is_alive(), "the writer stopped: see its exception above"
        manifest = backups.create_backup(db=rt.db, models_dir=rt.settings.models_dir, path=tmp_path / "b.tar.gz")
    finally:
        stop.set()
        writer.join()
    tables = manifest["tables"]
    assert tables["tickets"]["rows"] == tables["triage_decisions"]["rows"] >= 3020
    backups.restore_backup(runtime=target, path=tmp_path / "b.tar.gz")
    with target.db.session() as s:
        assert set(s.scalars(select(Ticket.id))) == set(s.scalars(select(TriageDecision.ticket_id)))
    rt.close()
    target.close()


def test_a_backup_without_the_active_versions_artifacts_says_so_and_so_does_its_restore(tmp_path):
    """The active version's folder deleted by hand and its artifacts not in the database: the backup
    still keeps the data, but says the restore will have no version active; the restore says it too."""
    rt = make_runtime(tmp_path / "lost")
    target = make_runtime(tmp_path / "target")
    try:
        with rt.db.session() as s:
            s.add(ModelVersion(status="active", path=str(tmp_path / "gone" / "v1"), encoder=rt.settings.encoder,
                               report={}))
            s.commit()
        out = tmp_path / "b.tar.gz"
        made = CliRunner().invoke(main, ["backup", str(out)], env=cli_env(rt), catch_exceptions=False)
        assert made.exit_code == 0, made.output
        assert backups.read_manifest(out)["active_version_lost"] == 1
        assert "warning: the active model version v1 has no artifacts" in made.stderr
        restored = CliRunner().invoke(main, ["restore", str(out)], env=cli_env(target), catch_exceptions=False)
        assert restored.exit_code == 0, restored.output
        assert "warning: no model version is active" in restored.stderr and "(none;" in restored.stderr
    finally:
        rt.close()
        target.close()
