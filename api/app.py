"""Flask application factory: JSON API under /v1 over the triage, KB and model services."""
from __future__ import annotations

import threading

from flask import Flask

from api import auth, errors, metrics, views
from kbtriage import config
from kbtriage.runtime import Runtime
from models import jobs, registry


def create_app(config_overrides: dict | None = None, *, runtime: Runtime | None = None,
               start_worker: bool = True) -> Flask:
    """Build the app. ``runtime`` lets the CLI and tests share an already started runtime;
    ``start_worker`` False leaves training jobs to external ``kbtriage worker`` processes."""
    app = Flask("kbtriage")
    if runtime is None:
        runtime = Runtime(config.load(config_overrides)).start()
    app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024
    app.json.sort_keys = False
    app.extensions["kbtriage"] = runtime
    # Repair what a crash between a database commit and an index save left, and embed the articles
    # again if the encoder setting changed since the index was built. A full re-embedding runs on a
    # thread so that the service answers meanwhile (searches say 409 index_stale with the progress).
    if runtime.store.stale_reason():
        app.extensions["kbtriage.reindex"] = _start_reindex(app, runtime)
    else:
        _sync_index(app, runtime)
    runtime.engine.current()
    if runtime.engine.model_problem:  # trained with another encoder
        _serve_a_version_for_this_encoder(app, runtime)
    if runtime.settings.worker == "embedded" and start_worker:
        # Embedded deployment: training jobs run in a thread of this process, never in a request.
        app.extensions["kbtriage.worker"] = jobs.Worker(runtime).start()
    errors.register(app)
    metrics.register(app, runtime)  # before the key check, so refused requests are timed too
    auth.register(app)
    views.register(app)
    return app


def _sync_index(app: Flask, runtime: Runtime) -> None:
    with runtime.db.session() as session:
        synced = runtime.store.sync(session=session)
    if synced.get("rebuilt") or synced["added"] or synced["removed"]:
        app.logger.warning("article index brought in step with the database: %s", synced)


def _serve_a_version_for_this_encoder(app: Flask, runtime: Runtime) -> None:
    """The active version was trained with another encoder. Serve the newest earlier version that
    was trained with this one (a switch back), or queue the retraining that builds one."""
    with runtime.db.session() as session:
        earlier = registry.newest_for_encoder(session=session, encoder=runtime.settings.encoder)
        if earlier is not None:
            replaced = registry.active(session=session)
            registry.activate(session=session, version_id=earlier.id)
            runtime.engine.invalidate()
            runtime.engine.current()
            app.logger.warning("serving model version %d again, trained with this encoder (%s); version %s, "
                               "trained with another, is retired", earlier.id, runtime.settings.encoder,
                               replaced.id if replaced else None)
        if runtime.engine.model_problem:  # none, or it cannot read these vectors either: retrain
            jobs.enqueue(session=session, trigger="encoder_change")
            runtime.engine.invalidate()
            runtime.engine.current()
            app.logger.warning("%s", runtime.engine.model_problem)


def _start_reindex(app: Flask, runtime: Runtime) -> threading.Thread:
    def run() -> None:
        try:
            _sync_index(app, runtime)
        except Exception:  # the next start or `kbtriage reindex` tries again; searches keep saying why
            app.logger.exception("rebuilding the article index failed")

    thread = threading.Thread(target=run, name="kbtriage-reindex", daemon=True)
    thread.start()
    return thread
