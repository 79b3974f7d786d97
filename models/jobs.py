"""Training jobs through a queue in the database, so that exactly one worker trains each job.

The embedded deployment runs one :class:`Worker` thread inside the service; a scaled-out
deployment (several service processes on PostgreSQL) runs ``kbtriage worker`` processes instead,
and any number of them may poll the same table. A worker claims a job with a conditional UPDATE
(``status='queued' -> 'running'``), after ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
two workers never run one job. Serving never waits for training.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kbtriage.db import utcnow, valid_id
from kbtriage.errors import NotFound, ValidationError
from models.tables import ModelVersion, TrainingJob

log = logging.getLogger("kbtriage.jobs")
PROMOTE = ("auto", "always", "never")
STALE_AFTER = timedelta(minutes=30)  # a running job without a heartbeat this long lost its worker
RETENTION_CHECK_SECONDS = 3600.0  # how often a worker looks for tickets past the retention period


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


def run(runtime, job_id: int) -> None:
    """Run a claimed job to its end, recording progress and outcome on the job row."""
    from models.training import train

    def progress(message: str) -> None:
        with runtime.db.session() as s:
            job = s.get(TrainingJob, job_id)
            job.progress = [*job.progress, message]
            job.heartbeat_at = utcnow()

    with runtime.db.session() as s:
        promote = s.get(TrainingJob, job_id).promote
    try:
        with runtime.db.session() as session:
            version = train(session=session, store=runtime.store, encoder=runtime.cached_encoder,
                            settings=runtime.settings, progress=progress, promote=promote)
            version_id = version.id
        runtime.engine.invalidate()  # a promoted version serves this process's next request
        outcome = ("succeeded", None)
    except Exception as exc:  # reported through the job row, not lost in a thread
        log.exception("training job %s failed", job_id)
        version_id, outcome = None, ("failed", f"{type(exc).__name__}: {exc}")
        progress(traceback.format_exc(limit=3))
    with runtime.db.session() as s:
        job = s.get(TrainingJob, job_id)
        job.status, job.error, job.model_version_id, job.finished_at = outcome[0], outcome[1], version_id, utcnow()


def maybe_enqueue(*, session: Session, settings) -> TrainingJob | None:
    """Queue a job when enough feedback arrived since the newest version, or the schedule is due."""
    from triage.tables import FeedbackEvent

    latest = session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc())).first()
    since = latest.created_at if latest else None
    if settings.retrain_after_feedback > 0:
        query = select(func.count()).select_from(FeedbackEvent)
        if since is not None:
            query = query.where(FeedbackEvent.created_at > since)
        if session.scalar(query) >= settings.retrain_after_feedback:
            return enqueue(session=session, trigger="feedback")
    if settings.retrain_every_hours > 0 and since is not None:
        if utcnow() - since >= timedelta(hours=settings.retrain_every_hours):
            return enqueue(session=session, trigger="schedule")
    return None


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Worker:
    """Polls the queue and runs jobs one at a time; ``start()`` runs it in a daemon thread."""

    def __init__(self, runtime, poll_seconds: float = 1.0):
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.name = worker_name()
        self._retention_next = 0.0  # monotonic time of the next look for expired tickets

    def run_once(self) -> bool:
        """Claim and run one job; False when the queue was empty."""
        with self.runtime.db.session() as session:
            recover_stale(session=session)
            if self.runtime.settings.retrain_every_hours > 0:
                maybe_enqueue(session=session, settings=self.runtime.settings)
            if self.runtime.settings.retention_days > 0 and time.monotonic() >= self._retention_next:
                from triage.erasure import purge_expired  # ticket erasure uses this module

                self._retention_next = time.monotonic() + RETENTION_CHECK_SECONDS
                purge_expired(session=session, runtime=self.runtime)
            job_id = claim_next(session=session, worker=self.name)
        if job_id is None:
            return False
        run(self.runtime, job_id)
        return True

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.run_once():
                    self._stop.wait(self.poll_seconds)
            except Exception:  # a database hiccup must not kill the worker; log it and poll again
                log.exception("worker loop error")
                self._stop.wait(self.poll_seconds)

    def start(self) -> "Worker":
        self._thread = threading.Thread(target=self.run_forever, name="kbtriage-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
