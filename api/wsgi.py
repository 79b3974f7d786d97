"""The API under a WSGI server with several worker processes (gunicorn), the production shape.

Each web worker process builds its own app and runtime (database pool, encoder, index, engine)
after the fork, and none of them runs training jobs: those go to ``kbtriage worker`` processes,
so a training run never takes a web worker's CPU or dies with it. ``kbtriage serve --workers N``
runs this with :func:`gunicorn_options`; the same by hand (docs/operations.md#deployment)::

    gunicorn --workers 2 --worker-class gthread --threads 4 --timeout 60 --graceful-timeout 30 \\
        --keep-alive 10 --no-control-socket --bind 127.0.0.1:8080 'api.wsgi:create_app()'
"""
from __future__ import annotations

from flask import Flask

from api import app as api_app
from common.config import Settings

# Request lines and headers: gunicorn's own defaults, stated so that they are seen and kept.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 100
LIMIT_REQUEST_FIELD_SIZE = 8190


def create_app() -> Flask:
    """The app of one web worker process: settings from the environment, no training thread."""
    return api_app.create_app(start_worker=False)


def gunicorn_options(settings: Settings, *, workers: int, threads: int, host: str, port: int) -> dict:
    """gunicorn's settings for ``workers`` processes of ``threads`` threads each, with the limits of
    ``settings`` (common/config.py): a worker silent for ``request_timeout`` seconds is killed and
    replaced, idle kept-alive clients are closed after ``client_timeout``, and a worker thread
    does not wait on a client that sends nothing (gunicorn's gthread defers it to the poller)."""
    return {
        "bind": [f"{host}:{port}"],
        "workers": workers,
        "worker_class": "gthread" if threads > 1 else "sync",
        "threads": threads,
        "worker_connections": settings.connection_limit,
        "timeout": int(max(1, settings.request_timeout)),
        "graceful_timeout": int(max(1, settings.graceful_timeout)),
        "keepalive": int(max(1, settings.client_timeout)),
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        "proc_name": "kb-triage",
        # gunicorn's control socket is one path per user ($HOME/.gunicorn): several instances on
        # one host would take it from each other, and kb-triage does not use it.
        "control_socket_disable": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }
