"""Training jobs through a queue in the database, so that exactly one worker trains each job.

Workers (application/worker.py: a thread inside the service, or ``kbtriage worker`` processes)
may poll the same table in any number. A worker claims a job with a conditional UPDATE
(``status='queued' -> 'running'``), after ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
two workers never run one job. Serving never waits for training.
"""
from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.db import utcnow, valid_id
from common.errors import NotFound, ValidationError
from models.tables import ModelVersion, TrainingJob

PROMOTE = ("auto", "always", "never")
STALE_AFTER = timedelta(minutes=30)  # a running job without a heartbeat this long lost its worker


def enqueue(*, session: Session, trigger: str = "manual", promote: str = "auto") -> TrainingJob:
    """Queue a training job; an already queued job is returned instead of queueing a second one."""
    if promote not in PROMOTE:
        raise ValidationError(f"promote must be one of {', '.join(PROMOTE)}", field="promote")
    queued = session.scalars(select(TrainingJob).where(TrainingJob.status == "queued")).first()
    if queued is not None:
        return queued
    job = TrainingJob(status="queued", trigger=trigger, promote=promote, progress=[])
    session.add(job)
    session.commit()
    return job


def pending(*, session: Session) -> TrainingJob | None:
    """The oldest training job that is queued or running, if any."""
    return session.scalars(select(TrainingJob).where(TrainingJob.status.in_(("queued", "running")))
                           .order_by(TrainingJob.id).limit(1)).first()


def get_or_raise(*, session: Session, job_id: int) -> TrainingJob:
    job = session.get(TrainingJob, job_id) if valid_id(job_id) else None
    if job is None:
        raise NotFound(f"no job with id {job_id}", field="job_id")
    return job


def view(job: TrainingJob) -> dict:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"id": job.id, "status": job.status, "trigger": job.trigger, "promote": job.promote,
            "progress": job.progress, "worker": job.worker, "model_version": job.model_version_id,
            "error": job.error, "created_at": iso(job.created_at), "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at)}


def claim_next(*, session: Session, worker: str) -> int | None:
    """Atomically take the oldest queued job for ``worker``; None when there is none."""
    query = select(TrainingJob.id).where(TrainingJob.status == "queued").order_by(TrainingJob.id).limit(1)
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job_id = session.scalar(query)
    if job_id is None:
        session.rollback()
        return None
    now = utcnow()
    claimed = session.execute(
        update(TrainingJob).where(TrainingJob.id == job_id, TrainingJob.status == "queued")
        .values(status="running", worker=worker, started_at=now, heartbeat_at=now)
    ).rowcount
    session.commit()
    return job_id if claimed == 1 else None


def recover_stale(*, session: Session) -> int:
    """Fail jobs whose worker died mid-run, and the half-made model versions they left."""
    cutoff = utcnow() - STALE_AFTER
    stale = session.scalars(select(TrainingJob).where(TrainingJob.status == "running",
                                                      TrainingJob.heartbeat_at < cutoff)).all()
    for job in stale:
        job.status, job.error, job.finished_at = "failed", "worker stopped responding", utcnow()
    session.execute(update(ModelVersion).where(ModelVersion.status == "training",
                                               ModelVersion.created_at < cutoff).values(status="failed"))
    session.commit()
    return len(stale)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
