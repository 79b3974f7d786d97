"""Flask application factory: JSON API under /v1 over the triage, KB and model services."""
from __future__ import annotations

from flask import Flask

from api import errors, views
from kbtriage import config
from kbtriage.runtime import Runtime
from models.jobs import JobRunner


def create_app(config_overrides: dict | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build the app. ``runtime`` lets the CLI and tests share an already started runtime."""
    app = Flask("kbtriage")
    if runtime is None:
        runtime = Runtime(config.load(config_overrides)).start()
    app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024
    app.json.sort_keys = False
    app.extensions["kbtriage"] = runtime
    app.extensions["kbtriage.jobs"] = JobRunner(runtime)
    errors.register(app)
    views.register(app)
    return app
