"""Versioned model artifacts: write atomically, activate one, load the active one."""
from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.db import as_utc, utcnow, valid_id
from common.errors import Conflict, NotFound, NotReady
from common.files import prune_stale_temporaries
from common.locks import ACTIVATION, serialise
from models.tables import ModelVersion
from models.version import FORMAT, ModelVersionArtifact

BUNDLE_FILE = "bundle.pkl"
PROBES_FILE = "probes.pkl"  # models fitted without the validation slice, for later comparisons


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
    return bundle


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


def remove_files(version: ModelVersion) -> None:
    """Delete a version's artifacts; the row stays (status ``pruned``, or ``failed`` if it failed)."""
    if version.path:
        shutil.rmtree(version.path, ignore_errors=True)
    version.path = None
    version.status = "pruned" if version.status != "failed" else "failed"


def prune(*, session: Session, models_dir: Path, keep: int = 5, erased_at: datetime | None = None) -> list[int]:
    """Delete the artifacts of old versions beyond the newest ``keep`` (never the active one), of
    versions that may hold tickets erased at ``erased_at`` (see :func:`prune_erased`), and
    leftovers of interrupted writes."""
    pruned = prune_erased(session=session, erased_at=erased_at)
    for version in list_versions(session=session)[keep:]:
        if version.status != "active" and version.path and Path(version.path).exists():
            remove_files(version)
            pruned.append(version.id)
    session.commit()
    # Temporaries of killed runs (a version folder, the feature cache); young ones may belong to
    # another process writing right now and are left alone.
    prune_stale_temporaries(models_dir)
    return sorted(pruned)


def prune_erased(*, session: Session, erased_at: datetime | None) -> list[int]:
    """Delete the artifacts of every version whose training started before ``erased_at`` (so it may
    hold erased tickets), except the one serving and any still being trained; returns their ids."""
    if erased_at is None:
        return []
    pruned = []
    for version in list_versions(session=session):
        if (version.path and version.status not in ("active", "training")
                and as_utc(version.created_at) < as_utc(erased_at)):
            remove_files(version)
            pruned.append(version.id)
    session.commit()
    return pruned


def active(*, session: Session) -> ModelVersion | None:
    return session.scalars(select(ModelVersion).where(ModelVersion.status == "active")
                           .order_by(ModelVersion.id.desc())).first()


def newest_for_encoder(*, session: Session, encoder: str) -> ModelVersion | None:
    """The newest version that does not serve, was trained with ``encoder`` and still has its
    files: what a service switched back to an earlier encoder can serve at once."""
    for version in list_versions(session=session):
        if (version.status in ("candidate", "retired") and version.encoder == encoder and version.path
                and (Path(version.path) / BUNDLE_FILE).exists()):
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
    elif not (Path(version.path) / BUNDLE_FILE).exists():
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
    session.commit()
    session.refresh(version)
    return version
