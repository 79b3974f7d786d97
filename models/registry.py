"""Versioned model artifacts: write atomically, activate one, load the active one."""
from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.orm import Session

from common import change_feed
from common.db import as_utc, utcnow, valid_id
from common.errors import Conflict, NotFound, NotReady
from common.files import prune_stale_temporaries
from common.locks import ACTIVATION, serialise
from models.tables import ModelArtifact, ModelVersion
from models.version import FORMAT, ModelVersionArtifact

BUNDLE_FILE = "bundle.pkl"
PROBES_FILE = "probes.pkl"  # models fitted without the validation slice, for later comparisons
ARTIFACT_PART = 8 << 20  # bytes per database row of an artifact file (PostgreSQL bytea, SQLite blob)


def _dump(obj, path: Path) -> None:
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        fh.flush()
        os.fsync(fh.fileno())


def write_bundle(models_dir: Path, version_id: int, bundle: ModelVersionArtifact, probes: dict | None = None) -> Path:
    """Write the artifacts of ``version_id`` so that the folder appears complete or not at all."""
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / f"v{version_id}"
    tmp = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".v{version_id}-"))
    try:
        _dump(bundle, tmp / BUNDLE_FILE)
        if probes:
            _dump(probes, tmp / PROBES_FILE)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def store_artifacts(executor, version_id: int, folder: Path) -> int:
    """Copy the files of ``folder`` (a version's artifacts, as :func:`write_bundle` wrote them) into
    the database in the caller's transaction (``executor``: its session or connection), so that any
    machine on the database can serve the version; returns the bytes stored."""
    executor.execute(delete(ModelArtifact).where(ModelArtifact.version_id == version_id))
    stored = 0
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file():
            continue
        with open(path, "rb") as fh:
            part = 0
            while True:
                data = fh.read(ARTIFACT_PART)
                if part and not data:
                    break
                # A core INSERT: the session keeps no copy of the bytes, one part in memory at a time.
                executor.execute(insert(ModelArtifact).values(version_id=version_id, name=path.name, part=part,
                                                             data=data))
                stored += len(data)
                part += 1
                if len(data) < ARTIFACT_PART:
                    break
    return stored


def artifacts_stored(session: Session, version_id: int) -> bool:
    """Whether the database holds the version's bundle (versions written before artifacts were
    stored there have only their folder)."""
    return bool(session.scalar(select(exists().where(ModelArtifact.version_id == version_id,
                                                     ModelArtifact.name == BUNDLE_FILE))))


def has_artifacts(session: Session, version: ModelVersion) -> bool:
    """Whether some machine can serve the version: its files are here or in the database."""
    if not version.path:
        return False
    return (Path(version.path) / BUNDLE_FILE).exists() or artifacts_stored(session, version.id)


def local_folder(session: Session, version: ModelVersion, models_dir: Path) -> Path | None:
    """The folder holding ``version``'s artifacts in this data directory's models folder
    (``models_dir/v<id>``, where the process that trained it wrote them), written there from the
    database the first time (atomically, so that processes asking at once each find it complete).
    A version written before artifacts were kept in the database is read where its row says.
    None when the version has no artifacts (pruned) or neither place nor the database has them.

    Only this data directory is read (and the row's path for those older versions): the path
    another machine wrote means nothing here, even when, on one machine, it happens to exist."""
    if not version.path:
        return None
    local = Path(models_dir) / f"v{version.id}"
    if (local / BUNDLE_FILE).exists():
        return local
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".v{version.id}-"))
    try:
        if not fetch_artifacts(session, version.id, tmp):
            written = Path(version.path)
            return written if (written / BUNDLE_FILE).exists() else None
        try:
            os.replace(tmp, local)
        except OSError:  # another process placed it first (a non-empty folder is not replaced)
            if not (local / BUNDLE_FILE).exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return local


def fetch_artifacts(executor, version_id: int, folder: Path) -> bool:
    """Write the artifact files the database holds for ``version_id`` into the existing ``folder``
    (``executor``: a session or a connection); False, writing nothing, when it holds no bundle."""
    parts: dict[str, int] = {}
    for name, part in executor.execute(select(ModelArtifact.name, ModelArtifact.part)
                                       .where(ModelArtifact.version_id == version_id)):
        parts[name] = max(parts.get(name, 0), part + 1)
    if BUNDLE_FILE not in parts:
        return False
    for name in sorted(parts):
        with open(Path(folder) / name, "wb") as fh:
            for part in range(parts[name]):  # one part in memory at a time
                fh.write(executor.execute(select(ModelArtifact.data).where(
                    ModelArtifact.version_id == version_id, ModelArtifact.name == name,
                    ModelArtifact.part == part)).scalar_one())
            fh.flush()
            os.fsync(fh.fileno())
    return True


class OutdatedVersion(NotReady):
    """A version written by another kb-triage release, in an artifact format this one cannot read."""

    code = "model_outdated"


def read_bundle(path: str | Path) -> ModelVersionArtifact:
    """The version written at ``path``; OutdatedVersion, naming the fix, when its format is another."""
    try:
        with open(Path(path) / BUNDLE_FILE, "rb") as fh:
            bundle = pickle.load(fh)
    except (AttributeError, ImportError) as exc:  # a pickled class that has moved since
        raise _outdated(path, "an earlier format") from exc
    if not isinstance(bundle, ModelVersionArtifact):
        raise _outdated(path, "format 1")
    if bundle.format != FORMAT:
        raise _outdated(path, f"format {bundle.format}")
    return bundle.share_keys()


def _outdated(path: str | Path, written: str) -> OutdatedVersion:
    return OutdatedVersion(f"the model version in {path} was written in {written} and this kb-triage reads "
                           f"format {FORMAT}; train a new version (`kbtriage train` or POST /v1/models/train)",
                           field="version")


def read_probes(path: str | Path) -> dict | None:
    """The version's probes (models fitted without the validation slice); None when it has none
    or they were written by a release whose classes have moved."""
    try:
        with open(Path(path) / PROBES_FILE, "rb") as fh:
            return pickle.load(fh)
    except (FileNotFoundError, AttributeError, ImportError):
        return None


def remove_files(session: Session, version: ModelVersion, models_dir: Path | None = None) -> None:
    """Delete a version's artifacts (its folder, this machine's copy and its rows in the database;
    other machines' copies go when they prune); the row stays (status ``pruned``, or ``failed``)."""
    if version.path:
        shutil.rmtree(version.path, ignore_errors=True)
    if models_dir is not None:
        shutil.rmtree(Path(models_dir) / f"v{version.id}", ignore_errors=True)
    session.execute(delete(ModelArtifact).where(ModelArtifact.version_id == version.id))
    version.path = None
    version.status = "pruned" if version.status != "failed" else "failed"


def prune(*, session: Session, models_dir: Path, keep: int = 5, erased_at: datetime | None = None) -> list[int]:
    """Delete the artifacts of old versions beyond the newest ``keep`` (never the active one), of
    versions that may hold tickets erased at ``erased_at`` (see :func:`prune_erased`), and
    leftovers of interrupted writes."""
    pruned = prune_erased(session=session, erased_at=erased_at, models_dir=models_dir)
    for version in list_versions(session=session)[keep:]:
        if version.status != "active" and version.path:
            remove_files(session, version, models_dir)
            pruned.append(version.id)
    session.commit()
    # Temporaries of killed runs (a version folder, the feature cache); young ones may belong to
    # another process writing right now and are left alone.
    prune_stale_temporaries(models_dir)
    forget_copies(session=session, models_dir=models_dir)
    return sorted(pruned)


def prune_erased(*, session: Session, erased_at: datetime | None, models_dir: Path | None = None) -> list[int]:
    """Delete the artifacts of every version whose training started before ``erased_at`` (so it may
    hold erased tickets), except the one serving and any still being trained; returns their ids."""
    if erased_at is None:
        return []
    pruned = []
    for version in list_versions(session=session):
        if (version.path and version.status not in ("active", "training")
                and as_utc(version.created_at) < as_utc(erased_at)):
            remove_files(session, version, models_dir)
            pruned.append(version.id)
    session.commit()
    return pruned


def active(*, session: Session) -> ModelVersion | None:
    return session.scalars(select(ModelVersion).where(ModelVersion.status == "active")
                           .order_by(ModelVersion.id.desc())).first()


def forget_copies(*, session: Session, models_dir: Path) -> list[int]:
    """Delete this machine's copies (``models_dir/v<id>``, fetched from the database) of versions
    whose artifacts were pruned by any machine, or whose rows are gone; returns their ids."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    copies = {int(p.name[1:]): p for p in models_dir.iterdir()
              if p.is_dir() and p.name.startswith("v") and p.name[1:].isdigit()}
    if not copies:
        return []
    kept = {vid for (vid,) in session.execute(select(ModelVersion.id).where(
        ModelVersion.id.in_(list(copies)), ModelVersion.path.is_not(None)))}
    gone = sorted(set(copies) - kept)
    for vid in gone:
        shutil.rmtree(copies[vid], ignore_errors=True)
    return gone


def newest_for_encoder(*, session: Session, encoder: str) -> ModelVersion | None:
    """The newest version that does not serve, was trained with ``encoder`` and still has its
    artifacts (here or in the database): what a service switched back to an earlier encoder can
    serve at once."""
    for version in list_versions(session=session):
        if (version.status in ("candidate", "retired") and version.encoder == encoder
                and has_artifacts(session, version)):
            return version
    return None


def get_or_raise(*, session: Session, version_id: int) -> ModelVersion:
    version = session.get(ModelVersion, version_id) if valid_id(version_id) else None
    if version is None:
        raise NotFound(f"no model version {version_id}", field="version")
    return version


def list_versions(*, session: Session) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())))


ANY = object()  # activate whatever serves now


class ActiveVersionChanged(Conflict):
    """Another version was activated between a decision to activate and the activation."""


def activate(*, session: Session, version_id: int, expected_active=ANY) -> ModelVersion:
    """Make ``version_id`` the one that serves; the previous active version is retired.

    Serialised by the activation lock (common/locks.py): of two activations at once, the second
    runs after the first and wins, and exactly one version is active after both. With
    ``expected_active`` (a version id, or None for none), it is refused with
    :class:`ActiveVersionChanged` unless that is the version serving when the lock is taken.
    """
    if not valid_id(version_id):
        raise NotFound(f"no model version {version_id}", field="version")
    serialise(session, ACTIVATION)  # before reading: what was read before the lock may be stale
    version = session.get(ModelVersion, version_id, populate_existing=True)
    if version is None:
        session.rollback()
        raise NotFound(f"no model version {version_id}", field="version")
    problem = None
    if version.status not in ("candidate", "active", "retired") or not version.path:
        problem = f"model version {version_id} is {version.status} and cannot be activated"
    elif not has_artifacts(session, version):
        problem = f"artifacts of model version {version_id} are missing"
    if problem:
        session.rollback()
        raise Conflict(problem, field="version")
    if expected_active is not ANY:
        serving = session.scalar(select(ModelVersion.id).where(ModelVersion.status == "active")
                                 .order_by(ModelVersion.id.desc()).limit(1))
        if serving != expected_active:
            session.rollback()
            raise ActiveVersionChanged(f"version {serving} was activated while version {version_id} was being "
                                       f"prepared against version {expected_active}", field="version")
    now = utcnow()
    session.execute(update(ModelVersion).where(ModelVersion.status == "active", ModelVersion.id != version_id)
                    .values(status="retired"))
    session.execute(update(ModelVersion).where(ModelVersion.id == version_id)
                    .values(status="active", activated_at=now))
    change_feed.record(session, "activation", [version_id])  # other replicas serve it at once
    session.commit()
    session.refresh(version)
    return version
