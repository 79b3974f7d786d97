"""Training jobs through a queue in the database, so that exactly one worker trains each job.

Workers (application/worker.py: a thread inside the service, or ``kbtriage worker`` processes)
may poll the same table in any number. A worker claims a job with a conditional UPDATE
(``status='queued' -> 'running'``), after ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
two workers never run one job. Serving never waits for training.

A running job holds a lease: its worker renews ``heartbeat_at`` while it trains (:func:`renew`).
A job whose lease lapsed lost its worker (killed, machine gone); :func:`recover_stale` queues it
again, up to the configured number of attempts, then fails it with the reason.
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
LEASE = timedelta(seconds=60)  # a running job without a heartbeat this long lost its worker
ATTEMPTS = 3  # claims of one job, the first run included, before it fails for good
ORPHAN_AFTER = timedelta(minutes=30)  # a half-made version that no job owns (a killed `kbtriage train`)


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
    return job_id if claim(session=session, job_id=job_id, worker=worker) else None


def claim(*, session: Session, job_id: int, worker: str) -> bool:
    """Atomically take one queued job for ``worker``; False when it is not queued (another took it)."""
    now = utcnow()
    claimed = session.execute(
        update(TrainingJob).where(TrainingJob.id == job_id, TrainingJob.status == "queued")
        .values(status="running", worker=worker, started_at=now, heartbeat_at=now,
                attempts=TrainingJob.attempts + 1, model_version_id=None)
    ).rowcount
    session.commit()
    return claimed == 1


def holds_lease(*, session: Session, job_id: int, worker: str) -> bool:
    """Renew ``worker``'s lease on a running job; False when it lost the job (queued again for
    another worker after its lease lapsed, or finished)."""
    renewed = session.execute(
        update(TrainingJob).where(TrainingJob.id == job_id, TrainingJob.status == "running",
                                  TrainingJob.worker == worker).values(heartbeat_at=utcnow())
    ).rowcount
    session.commit()
    return renewed == 1


def recover_stale(*, session: Session, lease: timedelta = LEASE, attempts: int = ATTEMPTS) -> int:
    """Queue again the running jobs whose lease lapsed (their worker died), or fail those that used
    up their attempts; the half-made model versions they were writing fail. Returns the number of
    jobs recovered. Runs under a conditional UPDATE, so two workers recovering at once act once."""
    now = utcnow()
    cutoff = now - lease
    stale = session.scalars(select(TrainingJob).where(TrainingJob.status == "running",
                                                      TrainingJob.heartbeat_at < cutoff)).all()
    recovered = 0
    for job in stale:
        lost = (f"worker {job.worker} stopped renewing its lease at {job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC "
                f"(attempt {job.attempts} of {attempts})")
        again = job.attempts < attempts
        values = ({"status": "queued", "worker": None, "progress": [*job.progress, f"{lost}; queued again"]}
                  if again else
                  {"status": "failed", "finished_at": now, "progress": [*job.progress, lost],
                   "error": f"gave up after {job.attempts} attempts: {lost}"})
        changed = session.execute(
            update(TrainingJob).where(TrainingJob.id == job.id, TrainingJob.status == "running",
                                      TrainingJob.heartbeat_at == job.heartbeat_at).values(**values)
        ).rowcount
        if changed and job.model_version_id is not None:
            session.execute(update(ModelVersion).where(ModelVersion.id == job.model_version_id,
                                                       ModelVersion.status == "training").values(status="failed"))
        recovered += changed
    # Half-made versions no running job owns: left by a killed `kbtriage train` run in-process.
    owned = select(TrainingJob.model_version_id).where(TrainingJob.status == "running",
                                                       TrainingJob.model_version_id.is_not(None))
    session.execute(update(ModelVersion).where(ModelVersion.status == "training",
                                               ModelVersion.created_at < now - ORPHAN_AFTER,
                                               ModelVersion.id.not_in(owned)).values(status="failed"))
    session.commit()
    return recovered


def owns_version(*, session: Session, job_id: int, version_id: int) -> None:
    """Record which model version the job is writing, so that recovery can fail it if the job dies."""
    session.execute(update(TrainingJob).where(TrainingJob.id == job_id).values(model_version_id=version_id))
    session.commit()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
