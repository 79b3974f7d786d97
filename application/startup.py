"""Start-up recovery, the same for every long-lived entry point (``kbtriage serve``, ``kbtriage
worker``, a WSGI server started by hand on ``api.app:create_app``).

It repairs what a crash between a database commit and an index save left, embeds the articles again
when the encoder setting changed since the index was built (on a thread, so that the service
answers meanwhile: searches say 409 ``index_stale`` with the progress), and when the active model
version was trained with another encoder, serves the newest earlier version trained with this one
or queues the retraining that builds one.
"""
from __future__ import annotations

import logging
import threading

from application.runtime import Runtime
from models import jobs, registry

log = logging.getLogger("kbtriage.startup")


def recover(runtime: Runtime, *, wait: bool = False) -> threading.Thread | None:
    """Bring the index and the served model version in step with the database and the settings.
    A full re-embedding runs on a thread, returned, unless ``wait`` (a worker, which trains on the
    index, waits for it)."""
    reindex = None
    if runtime.store.stale_reason() and not wait:
        reindex = threading.Thread(target=_sync_index_logged, args=(runtime,), name="kbtriage-reindex", daemon=True)
        reindex.start()
    else:
        sync_index(runtime)
    runtime.engine.current()
    if runtime.engine.model_problem:  # trained with another encoder
        serve_a_version_for_this_encoder(runtime)
    return reindex


def sync_index(runtime: Runtime) -> dict:
    """Add and remove passages so that the index holds exactly what the database holds."""
    with runtime.db.session() as session:
        synced = runtime.store.sync(session=session)
    if synced.get("rebuilt") or synced["added"] or synced["removed"]:
        log.warning("article index brought in step with the database: %s", synced)
    return synced


def _sync_index_logged(runtime: Runtime) -> None:
    try:
        sync_index(runtime)
    except Exception:  # the next start or `kbtriage reindex` tries again; searches keep saying why
        log.exception("rebuilding the article index failed")


def serve_a_version_for_this_encoder(runtime: Runtime) -> None:
    """The active version was trained with another encoder. Serve the newest earlier version that
    was trained with this one (a switch back), or queue the retraining that builds one."""
    with runtime.db.session() as session:
        earlier = registry.newest_for_encoder(session=session, encoder=runtime.settings.encoder)
        if earlier is not None:
            replaced = registry.active(session=session)
            registry.activate(session=session, version_id=earlier.id)
            runtime.engine.invalidate()
            runtime.engine.current()
            log.warning("serving model version %d again, trained with this encoder (%s); version %s, "
                        "trained with another, is retired", earlier.id, runtime.settings.encoder,
                        replaced.id if replaced else None)
        if runtime.engine.model_problem:  # none, or it cannot read these vectors either: retrain
            jobs.enqueue(session=session, trigger="encoder_change")
            runtime.engine.invalidate()
            runtime.engine.current()
            log.warning("%s", runtime.engine.model_problem)
