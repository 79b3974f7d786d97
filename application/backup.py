"""Backup and restore of a whole installation in one file: every table of the schema and the model
versions' artifacts (``kbtriage backup PATH`` and ``kbtriage restore PATH``).

The file is a gzipped tar archive. ``manifest.json`` comes first: the backup format, the kb-triage
release and Alembic schema revision that wrote it, when, from which database engine, each table's
columns and row count, the model versions whose artifacts it holds, and the SHA-256 of every other
member. Then ``tables/<table>.jsonl``, one JSON object per row in primary-key order (datetimes as
ISO-8601 UTC, JSON columns as JSON, bytes as base64), and ``versions/<id>/``, the files of each
model version that still had them.

A backup reads every table in one read-only transaction (REPEATABLE READ on PostgreSQL, one WAL
read transaction on SQLite), so a backup of a running service is one consistent moment, and the
archive is renamed into place only once complete. A restore checks the whole archive (format,
schema revision, members, SHA-256, row counts) before it commits anything; it refuses a database
that holds rows unless told to replace them, and then deletes and inserts in one transaction.
Model versions' paths are rewritten to this installation's models folder, PostgreSQL's id
sequences are moved past the restored ids, and the article index is built afresh from the
restored passages. Nothing here prints a secret: API keys are stored hashed.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
import zlib
from contextlib import contextmanager
from datetime import datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, DateTime, Engine, Integer, LargeBinary, Table, func, select, text
from sqlalchemy.types import TypeDecorator

from application import schema
from application.runtime import Runtime
from common.db import Database, as_utc, utcnow
from common.errors import Conflict, some_of
from common.files import BadFile, input_file
from kb.index import VectorIndex
from models import registry

FORMAT = 1
KIND = "kb-triage backup"
MANIFEST = "manifest.json"
# Coordination rows, not data: a restored database takes its locks afresh. The model versions'
# artifacts are in the archive once, as files (versions/<id>/), and go back into the database
# from there.
NOT_BACKED_UP = frozenset({"service_locks", "model_artifacts"})
BATCH = 1000  # rows per INSERT while restoring


def data_tables() -> list[Table]:
    """The tables a backup holds, parents before the tables that refer to them."""
    return [t for t in schema.metadata().sorted_tables if t.name not in NOT_BACKED_UP]


def _kind(column) -> str:
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, LargeBinary):
        return "bytes"
    return "value"  # text, numbers, booleans and JSON columns are JSON already


def _encode(kind: str, value):
    if value is None:
        return None
    if kind == "datetime":
        return as_utc(value).isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(kind: str, value):
    if value is None:
        return None
    if kind == "datetime":
        return as_utc(datetime.fromisoformat(value))
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    return value


def _revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _release() -> str:
    try:
        return package_metadata.version("kb-triage")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------- backup

@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one moment of the database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            if conn.dialect.name == "sqlite":
                # pysqlite opens no transaction for reads, so each SELECT would see its own moment.
                conn.exec_driver_sql("BEGIN")
            yield conn


def _dump_table(conn: Connection, table: Table, out: Path) -> int:
    kinds = {c.name: _kind(c) for c in table.columns}
    rows = 0
    result = conn.execution_options(yield_per=BATCH).execute(
        select(table).order_by(*table.primary_key.columns))
    with open(out, "w", encoding="utf-8") as fh:
        for row in result.mappings():
            fh.write(json.dumps({name: _encode(kinds[name], value) for name, value in row.items()},
                                ensure_ascii=False, separators=(",", ":")) + "\n")
            rows += 1
    return rows


def _check_output(path: Path, overwrite: bool) -> None:
    if path.is_dir():
        raise BadFile(f"{path}: is a folder; give the name of the backup file to write", field="path")
    if not path.parent.is_dir():
        raise BadFile(f"{path}: the folder {path.parent} does not exist", field="path")
    if path.exists() and not overwrite:
        raise BadFile(f"{path}: already exists; give another name, or --overwrite to replace it", field="path")


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


def create_backup(*, db: Database, models_dir: Path, path: Path, overwrite: bool = False) -> dict:
    """Write a backup of the database behind ``db`` and the artifacts of its model versions (found
    where their rows say) to ``path``; returns the manifest. The file appears complete or not at all."""
    path = Path(path)
    _check_output(path, overwrite)
    stage = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-"))
    try:
        (stage / "tables").mkdir()
        tables: dict[str, dict] = {}
        with _snapshot(db.engine) as conn:
            revision, engine_name = _revision(conn), conn.dialect.name
            for table in data_tables():
                rows = _dump_table(conn, table, stage / "tables" / f"{table.name}.jsonl")
                tables[table.name] = {"rows": rows, "columns": [c.name for c in table.columns]}
            model_versions = schema.metadata().tables["model_versions"]
            stored = conn.execute(select(model_versions.c.id, model_versions.c.status, model_versions.c.path)
                                  .order_by(model_versions.c.id)).all()
        versions, missing = {}, []
        for vid, status, where in stored:
            if not where:
                continue
            target = stage / "versions" / str(vid)
            if (_copy_version(Path(where), target) or _copy_version(models_dir / f"v{vid}", target)
                    or _fetch_version(db, vid, target)):
                versions[str(vid)] = {"status": status}
            else:
                missing.append(vid)  # pruned since the snapshot, or deleted by hand
        members = {p.relative_to(stage).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
                   for p in sorted(stage.rglob("*")) if p.is_file()}
        # The active version without artifacts (lost by hand): a restore will have none active.
        lost = next((vid for vid, status, _ in stored if status == "active" and vid in missing), None)
        manifest = {"kind": KIND, "format": FORMAT, "kb_triage": _release(), "schema_revision": revision,
                    "created_at": utcnow().isoformat(), "source_engine": engine_name, "tables": tables,
                    "versions": versions, "versions_without_artifacts": missing, "active_version_lost": lost,
                    "members": members}
        _write_archive(path, stage, manifest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {**manifest, "bytes": path.stat().st_size}


def _copy_version(source: Path, target: Path) -> bool:
    """Copy a version's folder; False when it is gone or empty (pruned, even while being copied)."""
    if not source.is_dir():
        return False
    try:
        shutil.copytree(source, target)
    except (FileNotFoundError, shutil.Error):
        shutil.rmtree(target, ignore_errors=True)
        return False
    if not any(p.is_file() for p in target.rglob("*")):
        shutil.rmtree(target)
        return False
    return True


def _fetch_version(db: Database, vid: int, target: Path) -> bool:
    """Write a version's artifacts from the database (trained on another machine, never fetched
    here); False when it holds none (pruned since the snapshot, or written before they were kept)."""
    target.mkdir(parents=True)
    with db.engine.connect() as conn:
        if registry.fetch_artifacts(conn, vid, target):
            return True
    shutil.rmtree(target)
    return False


def _write_archive(path: Path, stage: Path, manifest: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".partial")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                body = json.dumps(manifest, indent=1).encode("utf-8")
                info = _plain(tarfile.TarInfo(MANIFEST))
                info.size, info.mtime = len(body), int(time.time())
                tar.addfile(info, io.BytesIO(body))
                for name in manifest["members"]:
                    tar.add(stage / name, arcname=name, recursive=False, filter=_plain)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------------------- restore

def _damaged(path: Path, exc: BaseException) -> BadFile:
    reason = str(exc).strip() or type(exc).__name__
    return BadFile(f"{path}: cannot be read as a kb-triage backup, the file is damaged or truncated ({reason})",
                   field="path")


def _parse_manifest(data: bytes, path: Path) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        raise BadFile(f"{path}: not a kb-triage backup (its manifest is not one)", field="path")
    written = manifest.get("format")
    if written != FORMAT:
        newer = isinstance(written, int) and written > FORMAT
        raise BadFile(f"{path}: written in backup format {written} by kb-triage {manifest.get('kb_triage')}; this "
                      f"kb-triage reads format {FORMAT}" + ("; upgrade kb-triage to restore it" if newer else ""),
                      field="path")
    for key in ("tables", "members", "versions"):
        if not isinstance(manifest.get(key), dict):
            raise BadFile(f"{path}: the manifest has no {key}", field="path")
    for vid in manifest["versions"]:
        if not (vid.isascii() and vid.isdigit()) or not any(m.startswith(f"versions/{vid}/") for m in manifest["members"]):
            raise BadFile(f"{path}: the manifest lists model version {vid!r} without its files", field="path")
    return manifest


def read_manifest(path: Path) -> dict:
    """The manifest of the backup at ``path`` (BadFile when it is not a readable backup)."""
    path = input_file(path)
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BadFile(f"{path}: not a kb-triage backup (no {MANIFEST} at its start)", field="path")
            return _parse_manifest(tar.extractfile(first).read(), path)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _damaged(path, exc) from None


def _unpack(path: Path, stage: Path) -> dict:
    """Extract the backup at ``path`` into ``stage`` and check every member against the manifest."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BadFile(f"{path}: not a kb-triage backup (no {MANIFEST} at its start)", field="path")
            manifest = _parse_manifest(tar.extractfile(first).read(), path)
            expected, seen = manifest["members"], set()
            while (member := tar.next()) is not None:
                if member.name not in expected or member.name in seen or not member.isfile():
                    raise BadFile(f"{path}: holds {member.name!r}, which its manifest does not list", field="path")
                tar.extract(member, stage, filter="data")
                seen.add(member.name)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise _damaged(path, exc) from None
    absent = sorted(set(expected) - seen)
    if absent:
        raise BadFile(f"{path}: damaged or truncated, {len(absent)} of its members are missing: "
                      f"{some_of(absent, 3)}", field="path")
    for name, facts in expected.items():
        if not isinstance(facts, dict) or _sha256(stage / name) != facts.get("sha256"):
            raise BadFile(f"{path}: {name} is damaged (its SHA-256 differs from the manifest's)", field="path")
    return manifest


def _check_schema(conn: Connection, manifest: dict, path: Path) -> None:
    """The backup's tables must fit this database: same schema revision or an earlier one (later
    migrations only add, and the added columns take their defaults)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    source, target = manifest.get("schema_revision"), _revision(conn)
    if source is not None and source != target:
        cfg = Config()
        cfg.set_main_option("script_location", str(schema.MIGRATIONS))
        earlier = {s.revision for s in ScriptDirectory.from_config(cfg).iterate_revisions(target, "base")}
        if source not in earlier:
            raise BadFile(f"{path}: comes from a newer database schema (revision {source}, kb-triage "
                          f"{manifest.get('kb_triage')}) than this kb-triage's ({target}): upgrade kb-triage to "
                          f"that release or later, then restore", field="path")
    known = {t.name: t for t in data_tables()}
    for name, facts in manifest["tables"].items():
        if name not in known:
            raise BadFile(f"{path}: holds table {name!r}, which this kb-triage does not have", field="path")
        unknown = sorted(set(facts.get("columns") or []) - set(known[name].columns.keys()))
        if unknown:
            raise BadFile(f"{path}: table {name} has columns this kb-triage does not have: {', '.join(unknown)}",
                          field="path")
        if f"tables/{name}.jsonl" not in manifest["members"]:
            raise BadFile(f"{path}: the rows of table {name} are missing", field="path")


def held_rows(conn: Connection) -> dict[str, int]:
    """Rows per table of those a backup holds, for the tables that have any."""
    counts = {t.name: conn.scalar(select(func.count()).select_from(t)) for t in data_tables()}
    return {name: n for name, n in counts.items() if n}


def _refuse_unless_replacing(held: dict[str, int], replace: bool) -> None:
    if held and not replace:
        described = some_of([f"{name} {n}" for name, n in held.items()], 4)
        raise Conflict(f"the database already holds data ({described}): restore into an empty database, or "
                       "give --replace to delete everything in it and restore the backup instead", field="--replace")


def _rows(path: Path, source: Path, table: Table) -> Iterator[dict]:
    kinds = {c.name: _kind(c) for c in table.columns}
    with open(source, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                row = json.loads(line)
                yield {name: _decode(kinds[name], value) for name, value in row.items()}
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise BadFile(f"{path}: tables/{table.name}.jsonl:{n}: not a row of {table.name} ({exc})",
                              field="path") from None


def _versions_placed(row: dict, manifest: dict, models_dir: Path) -> dict:
    """A model version's row with its path in this installation's models folder, or without a
    path (pruned, as the registry marks it) when the backup holds no artifacts for it."""
    if str(row["id"]) in manifest["versions"]:
        return {**row, "path": str(models_dir / f"v{row['id']}")}
    if row.get("path"):
        return {**row, "path": None, "status": "failed" if row.get("status") == "failed" else "pruned"}
    return row


def _insert(conn: Connection, path: Path, stage: Path, manifest: dict, models_dir: Path) -> dict[str, int]:
    counts = {}
    for table in data_tables():
        if table.name not in manifest["tables"]:
            continue  # a table added since the backup's schema: left empty
        batch, n = [], 0
        for row in _rows(path, stage / "tables" / f"{table.name}.jsonl", table):
            batch.append(_versions_placed(row, manifest, models_dir) if table.name == "model_versions" else row)
            if len(batch) == BATCH:
                conn.execute(table.insert(), batch)
                n, batch = n + len(batch), []
        if batch:
            conn.execute(table.insert(), batch)
            n += len(batch)
        if n != manifest["tables"][table.name].get("rows"):
            raise BadFile(f"{path}: table {table.name} holds {n} rows, its manifest says "
                          f"{manifest['tables'][table.name].get('rows')}", field="path")
        counts[table.name] = n
    return counts


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL hands out ids from sequences that inserting explicit ids does not advance: move each
    past the largest restored id, so that new rows do not collide with restored ones."""
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for table in data_tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        sequence = conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": keys[0].name})
        if sequence:
            conn.execute(text(f"SELECT setval(:s, COALESCE((SELECT MAX({quote(keys[0].name)}) FROM "
                              f"{quote(table.name)}), 0) + 1, false)"), {"s": sequence})


def rebuild_index(runtime: Runtime) -> int:
    """Build the article index afresh from the database's passages (after a restore the saved index,
    if any, holds another database's passages under the same ids); returns the passages indexed."""
    store = runtime.store
    with store.locked():
        store.save(VectorIndex(store.encoder.dim), {})
    with runtime.db.session() as session:
        return store.sync(session=session)["total"]


def restore_backup(*, runtime: Runtime, path: Path, replace: bool = False) -> dict:
    """Restore the backup at ``path`` into ``runtime``'s database (migrated to this release's schema)
    and models folder, then rebuild the article index. Refused (Conflict) when the database holds
    rows, unless ``replace``; a bad archive is refused (BadFile) before anything changes."""
    path = input_file(path)
    engine = runtime.db.engine
    with engine.connect() as conn:
        _refuse_unless_replacing(held_rows(conn), replace)  # before unpacking a large file for nothing
    runtime.settings.home.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=runtime.settings.home, prefix=".restore-"))
    try:
        manifest = _unpack(path, stage)
        with engine.connect() as conn:
            _check_schema(conn, manifest, path)
        counts, held, leftover = _restore_rows(runtime, path, stage, manifest, replace)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    for old in leftover:  # the replaced database's versions: nothing refers to their files any more
        shutil.rmtree(old, ignore_errors=True)
    runtime.engine.invalidate()
    with runtime.db.session() as session:
        active = registry.active(session=session)
    return {"manifest": {k: v for k, v in manifest.items() if k != "members"}, "tables": counts,
            "active": active.id if active else None,
            "versions": sorted(int(v) for v in manifest["versions"]), "replaced": held,
            "passages": rebuild_index(runtime)}


def _restore_rows(runtime: Runtime, path: Path, stage: Path, manifest: dict, replace: bool
                  ) -> tuple[dict[str, int], dict[str, int], list[Path]]:
    """Delete (with ``replace``) and insert in one transaction, the versions' files moved into place
    last in it and moved back if it fails; returns the rows restored and replaced per table, and
    the replaced versions' folders that nothing refers to any more."""
    models_dir = runtime.settings.models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    placed: list[Path] = []
    aside: list[tuple[Path, Path]] = []
    try:
        with runtime.db.engine.begin() as conn:
            held = held_rows(conn)
            _refuse_unless_replacing(held, replace)
            old = []
            if held:
                versions = schema.metadata().tables["model_versions"]
                old = [Path(p) for (p,) in conn.execute(select(versions.c.path).where(versions.c.path.is_not(None)))]
                for table in reversed(data_tables()):
                    conn.execute(table.delete())
            counts = _insert(conn, path, stage, manifest, models_dir)
            _reset_sequences(conn)
            for vid in manifest["versions"]:
                final = models_dir / f"v{vid}"
                if final.exists():
                    moved = final.with_name(f".{final.name}-replaced-{stage.name}")
                    os.replace(final, moved)
                    aside.append((moved, final))
                os.replace(stage / "versions" / vid, final)
                placed.append(final)
                registry.store_artifacts(conn, int(vid), final)  # every machine on the database serves it
    except BaseException:
        for final in placed:
            shutil.rmtree(final, ignore_errors=True)
        for moved, final in aside:
            os.replace(moved, final)
        raise
    for moved, _ in aside:
        shutil.rmtree(moved, ignore_errors=True)
    mine = {p.resolve() for p in placed}
    leftover = [p for p in old if p.parent.resolve() == models_dir.resolve() and p.resolve() not in mine]
    return counts, held, leftover
