"""The worker: runs training jobs from the queue (models/jobs.py), queues scheduled and
feedback-triggered retraining, and erases tickets past the retention period.

The embedded deployment runs one :class:`Worker` thread inside the service; a scaled-out
deployment runs ``kbtriage worker`` processes instead, any number of them on one database.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import traceback
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from application.training import train
from common.db import utcnow
from models.jobs import claim, claim_next, enqueue, holds_lease, owns_version, recover_stale, worker_name
from models.tables import ModelVersion, TrainingJob
from common import change_feed
from triage.erasure import purge_expired
from triage.tables import FeedbackEvent

log = logging.getLogger("kbtriage.jobs")
RETENTION_CHECK_SECONDS = 3600.0  # how often a worker looks for tickets past the retention period


class Lease:
    """Renews a worker's lease on its job from a thread, every quarter of the lease, while it trains."""

    def __init__(self, runtime, job_id: int, worker: str):
        self.runtime, self.job_id, self.worker = runtime, job_id, worker
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"kbtriage-lease-{job_id}", daemon=True)

    def _renew(self) -> None:
        every = max(0.05, self.runtime.settings.job_lease_seconds / 4)
        while not self._stop.wait(every):
            try:
                with self.runtime.db.session() as s:
                    if not holds_lease(session=s, job_id=self.job_id, worker=self.worker):
                        self.lost = True
                        log.error("training job %s: lease lost (queued again for another worker)", self.job_id)
                        return
            except Exception:  # the database away for a moment: try again at the next beat
                log.exception("training job %s: lease renewal failed", self.job_id)

    def __enter__(self) -> "Lease":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run(runtime, job_id: int, worker: str | None = None) -> None:
    """Run a job to its end, holding its lease and recording progress and outcome on the job row.
    ``worker`` names who claimed it; without it the job is claimed here (nothing happens when it is
    no longer queued)."""
    if worker is None:
        worker = worker_name()
        with runtime.db.session() as s:
            if not claim(session=s, job_id=job_id, worker=worker):
                log.warning("training job %s was not queued; another worker has it", job_id)
                return

    def progress(message: str) -> None:
        with runtime.db.session() as s:
            job = s.get(TrainingJob, job_id)
            job.progress = [*job.progress, message]

    def started(version_id: int) -> None:
        with runtime.db.session() as s:
            owns_version(session=s, job_id=job_id, version_id=version_id)

    with runtime.db.session() as s:
        promote = s.get(TrainingJob, job_id).promote
    with Lease(runtime, job_id, worker) as lease:
        try:
            runtime.follow_erasures()  # no erased ticket's vector from this machine's cache
            with runtime.db.session() as session:
                version = train(session=session, store=runtime.store, encoder=runtime.cached_encoder,
                                settings=runtime.settings, progress=progress, promote=promote, on_version=started)
                version_id = version.id
            runtime.engine.invalidate()  # a promoted version serves this process's next request
            outcome = ("succeeded", None)
        except Exception as exc:  # reported through the job row, not lost in a thread
            log.exception("training job %s failed", job_id)
            version_id, outcome = None, ("failed", f"{type(exc).__name__}: {exc}")
            progress(traceback.format_exc(limit=3))
    with runtime.db.session() as s:
        # Only while this worker holds the job: one whose lease lapsed was queued again.
        done = s.execute(update(TrainingJob).where(TrainingJob.id == job_id, TrainingJob.status == "running",
                                                   TrainingJob.worker == worker)
                         .values(status=outcome[0], error=outcome[1], model_version_id=version_id,
                                 finished_at=utcnow())).rowcount
    if not done or lease.lost:
        log.error("training job %s finished after its lease lapsed; its result stays as version %s",
                  job_id, version_id)


def _run_in_child(settings, job_id: int, worker: str) -> None:
    """A child process's whole life: its own runtime, the job, and exit (its memory goes with it)."""
    from application.runtime import Runtime
    from common.threads import background_priority

    background_priority(settings.training_nice)
    runtime = Runtime(settings)
    try:
        with runtime.db.session() as s:
            job = s.get(TrainingJob, job_id)
            job.progress = [*job.progress, f"training in process {os.getpid()} (the service's child, "
                                           f"niceness {os.getpriority(os.PRIO_PROCESS, 0)})"]
        run(runtime, job_id, worker)
    finally:
        runtime.close()


def spawn(target, *args, name: str, stop: threading.Event | None = None) -> int | None:
    """Run ``target(*args)`` in a spawned child process (nothing of this process's memory is
    shared, and what the child holds goes with it) and wait for it: its exit code, or None when
    ``stop`` was set meanwhile and the child was terminated."""
    child = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name)
    child.start()
    while child.is_alive():
        child.join(0.5)
        if stop is not None and stop.is_set() and child.is_alive():
            child.terminate()
            child.join(10)
            return None
    return child.exitcode


def run_in_child(runtime, job_id: int, worker: str, stop: threading.Event | None = None) -> int | None:
    """Run a claimed job in a child process (:func:`spawn`) and wait for it; the parent then serves
    the version it promoted. The child's exit code, None when it was stopped (the service is
    stopping: the job's lease lapses and it runs again later). A child that dies leaves its job to
    the lease: queued again when it lapses."""
    exitcode = spawn(_run_in_child, runtime.settings, job_id, worker, name=f"kbtriage-train-{job_id}", stop=stop)
    if exitcode is None:
        return None
    if exitcode != 0:
        log.error("training job %s: child process exited with %s", job_id, exitcode)
    runtime.engine.invalidate()  # a promoted version serves this process's next request
    return exitcode


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

    def __init__(self, runtime, poll_seconds: float = 1.0, in_child: bool = False):
        self.runtime = runtime
        self.poll_seconds = poll_seconds
        self.in_child = in_child  # train each job in a child process (the embedded worker of a service)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.name = worker_name()
        self._retention_next = 0.0  # monotonic time of the next look for expired tickets

    def run_once(self) -> bool:
        """Claim and run one job; False when the queue was empty."""
        with self.runtime.db.session() as session:
            settings = self.runtime.settings
            recover_stale(session=session, lease=timedelta(seconds=settings.job_lease_seconds),
                          attempts=settings.job_attempts)
            if self.runtime.settings.retrain_every_hours > 0:
                maybe_enqueue(session=session, settings=self.runtime.settings)
            if time.monotonic() >= self._retention_next:
                self._retention_next = time.monotonic() + RETENTION_CHECK_SECONDS
                if self.runtime.settings.retention_days > 0:
                    purge_expired(session=session, runtime=self.runtime)
                change_feed.prune(session=session)
            job_id = claim_next(session=session, worker=self.name)
        if job_id is None:
            return False
        if self.in_child:
            run_in_child(self.runtime, job_id, self.name, self._stop)
        else:
            run(self.runtime, job_id, self.name)
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
