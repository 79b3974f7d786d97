"""The API under a WSGI server with several worker processes (gunicorn), the production shape.

Each web worker process builds its own app and runtime (database pool, encoder, index, engine)
after the fork, and none of them runs training jobs: those go to ``kbtriage worker`` processes,
so a training run never takes a web worker's CPU or dies with it. ``kbtriage serve --workers N``
runs this with :func:`gunicorn_options`; the same by hand (docs/operations.md#deployment)::

    gunicorn --workers 2 --worker-class gthread --threads 4 --timeout 60 --graceful-timeout 30 \\
        --keep-alive 10 --no-control-socket --bind 127.0.0.1:8080 'api.wsgi:create_app()'
"""
from __future__ import annotations

import io
import json
import time

from flask import Flask

from api import app as api_app
from common import config
from common.config import Settings

# Request lines and headers: gunicorn's own defaults, stated so that they are seen and kept.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 100
LIMIT_REQUEST_FIELD_SIZE = 8190


def create_app() -> Flask:
    """The app of one web worker process: settings from the environment, no training thread."""
    app = api_app.create_app(start_worker=False)
    settings = config.load()
    app.wsgi_app = BodyDeadline(app.wsgi_app, seconds=settings.client_timeout, max_bytes=settings.max_request_bytes)
    return app


class BodyDeadline:
    """Reads a request's body for the app within ``seconds``, or answers 408 and closes.

    A gunicorn thread reads the body as the app asks for it, on a blocking socket: a client that
    sent its headers and half a body held that thread until it went away (forever, for ``threads``
    such clients per worker: nothing else was answered). Waitress buffers bodies in its event loop
    and needs none of this. A body larger than ``max_bytes`` is left to Flask's 413, unread."""

    def __init__(self, app, *, seconds: float, max_bytes: int):
        self.app, self.seconds, self.max_bytes = app, seconds, max_bytes

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if sock is None or length <= 0 or length > self.max_bytes:
            return self.app(environ, start_response)
        deadline, previous, chunks, got = time.monotonic() + self.seconds, sock.gettimeout(), [], 0
        try:
            while got < length:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                sock.settimeout(remaining)
                chunk = environ["wsgi.input"].read(min(65536, length - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except OSError:  # TimeoutError included: the client stalled; the connection is closed
            body = json.dumps({"error": {"code": "request_timeout", "field": "body", "message":
                                         f"the request body did not arrive within {self.seconds:g} s "
                                         "(KBTRIAGE_CLIENT_TIMEOUT)"}}).encode()
            # No Content-Length: gunicorn closes the connection after this answer.
            start_response("408 Request Timeout", [("Content-Type", "application/json")])
            return [body]
        finally:
            try:
                sock.settimeout(previous)
            except OSError:
                pass
        environ["wsgi.input"] = io.BytesIO(b"".join(chunks))
        environ["CONTENT_LENGTH"] = str(got)
        return self.app(environ, start_response)


def gunicorn_options(settings: Settings, *, workers: int, threads: int, host: str, port: int) -> dict:
    """gunicorn's settings for ``workers`` processes of ``threads`` threads each, with the limits of
    ``settings`` (common/config.py): a worker silent for ``request_timeout`` seconds is killed and
    replaced, idle kept-alive clients are closed after ``client_timeout``, a worker thread does not
    wait on a client that sends nothing (gunicorn's gthread defers it to the poller), nor longer
    than ``client_timeout`` for a body (:class:`BodyDeadline`)."""
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
