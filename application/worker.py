"""The worker: runs training jobs from the queue (models/jobs.py), queues scheduled and
feedback-triggered retraining, and erases tickets past the retention period.

The embedded deployment runs one :class:`Worker` thread inside the service; a scaled-out
deployment runs ``kbtriage worker`` processes instead, any number of them on one database.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from application.training import train
from common.db import utcnow
from models.jobs import claim_next, enqueue, recover_stale, worker_name
from models.tables import ModelVersion, TrainingJob
from triage.erasure import purge_expired
from triage.tables import FeedbackEvent

log = logging.getLogger("kbtriage.jobs")
RETENTION_CHECK_SECONDS = 3600.0  # how often a worker looks for tickets past the retention period


def run(runtime, job_id: int) -> None:
    """Run a claimed job to its end, recording progress and outcome on the job row."""
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
