"""Flask application factory: the JSON API under /v1 and the web console under /console/."""
from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

import console
from api import auth, errors, metrics, views
from application import startup
from application.runtime import Runtime
from application.worker import Worker
from common import config, heap, threads


def create_app(config_overrides: dict | None = None, *, runtime: Runtime | None = None,
               start_worker: bool = True) -> Flask:
    """Build the app. ``runtime`` lets the CLI and tests share an already started runtime (whose
    owner calls :func:`serving` if it serves); ``start_worker`` False
    leaves training jobs to external ``kbtriage worker`` processes."""
    app = Flask("kbtriage")
    own_runtime = runtime is None
    if own_runtime:
        runtime = Runtime(config.load(config_overrides)).start()
    if runtime.settings.proxy_hops > 0:  # trust exactly that many proxies' forwarded headers
        hops = runtime.settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.max_request_bytes
    app.json.sort_keys = False
    app.extensions["kbtriage"] = runtime
    if not (runtime.settings.worker == "embedded" and not runtime.settings.train_in_child):
        threads.one_blas_thread()  # a process that serves and does not train: no BLAS pool spinning
    reindex = startup.recover(runtime)
    if own_runtime:  # a server's process (gunicorn's workers; kbtriage serve does the same for its own)
        serving(runtime)
    if reindex is not None:
        app.extensions["kbtriage.reindex"] = reindex
    if runtime.settings.worker == "embedded" and start_worker:
        # Embedded deployment: training jobs run in a thread of this process, never in a request.
        app.extensions["kbtriage.worker"] = Worker(runtime, in_child=runtime.settings.train_in_child).start()
    errors.register(app)
    metrics.register(app, runtime)  # before the key check, so refused requests are timed too
    auth.register(app)
    _limit_batches(app, runtime.settings.max_batch_bytes)
    views.register(app)
    console.register(app, exempt_from_csrf=[views.v1], status_of=errors.status_of)
    return app


def serving(runtime: Runtime) -> None:
    """What a process that serves the API for hours does with its runtime: it follows other
    replicas' changes as they commit, and keeps each loaded model version out of the garbage
    collector's full passes (common/heap.py)."""
    runtime.listen()
    runtime.engine.on_load = _settle_after_load
    heap.settle()  # what start-up loaded (the recovery may have read the active version already)


def _settle_after_load(_version_id: int | None) -> None:
    heap.settle()


def _limit_batches(app: Flask, limit: int) -> None:
    """A batch's body is at most ``limit`` bytes (KBTRIAGE_MAX_BATCH_BYTES), refused before it is read:
    triaging costs CPU by the character, and one request must not hold a thread for a minute."""
    message = (f"tickets: a batch's request body may hold at most {limit} bytes (KBTRIAGE_MAX_BATCH_BYTES); "
               "send the tickets in several batches, or triage a file with 'kbtriage triage FILE'")

    @app.before_request
    def _batch_size():
        if request.endpoint != "v1.triage_batch":
            return
        if request.content_length is not None and request.content_length > limit:
            return errors.error_response(413, "batch_too_large", message, "tickets")
        request.max_content_length = limit  # a body sent without a length is cut there (413)
