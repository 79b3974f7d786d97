"""Background training jobs for the embedded deployment: one worker thread inside the service, so
serving never waits for training. Jobs are kept in memory (lost on restart)."""
from __future__ import annotations

import itertools
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from kbtriage.errors import NotFound


class JobRunner:
    def __init__(self, runtime):
        self._runtime = runtime
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kbtriage-train")
        self._jobs: dict[int, dict] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit_training(self) -> dict:
        with self._lock:
            job = {"id": next(self._ids), "kind": "train", "status": "queued", "progress": [],
                   "created_at": datetime.now(timezone.utc).isoformat(), "finished_at": None,
                   "model_version": None, "error": None}
            self._jobs[job["id"]] = job
        self._pool.submit(self._run, job)
        return dict(job)

    def _run(self, job: dict) -> None:
        from models.training import train

        job["status"] = "running"
        rt = self._runtime
        try:
            with rt.db.session() as session:
                version = train(session=session, store=rt.store, encoder=rt.cached_encoder, settings=rt.settings,
                                progress=job["progress"].append)
                job["model_version"] = version.id
            job["status"] = "succeeded"
        except Exception as exc:  # a failed job is reported through the job, not lost in a thread
            job["status"] = "failed"
            job["error"] = f"{type(exc).__name__}: {exc}"
            job["progress"].append(traceback.format_exc(limit=3))
        finally:
            job["finished_at"] = datetime.now(timezone.utc).isoformat()

    def get_or_raise(self, job_id: int) -> dict:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job with id {job_id}", field="job_id")
        return dict(job)

    def wait_idle(self, timeout: float = 600) -> None:
        """Block until queued jobs finished (used by tests and shutdown)."""
        self._pool.submit(lambda: None).result(timeout=timeout)
