"""The web console: pages for L1 agents, KB editors and team leads, served by the service at
``/console/`` beside the JSON API.

``register(app)`` (called by api/app.py's factory) mounts the pages, the security headers and CSRF
protection. Page handlers are as thin as the API's views: they call the same application and domain
functions, and render Jinja templates with autoescaping (ticket and article text is hostile input).
"""
from __future__ import annotations

from typing import Callable

from flask import Flask

from common.errors import KBTriageError


def register(app: Flask, *, exempt_from_csrf: list, status_of: Callable[[KBTriageError], int]) -> None:
    """Mount the console on ``app``. ``exempt_from_csrf``: blueprints whose requests carry an API
    key instead of a session (the JSON API); ``status_of``: the HTTP status of a domain error."""
    from console import pages, security

    rt = app.extensions["kbtriage"]
    security.protect(app, home=rt.settings.home, configured_secret=rt.settings.console_secret,
                     exempt=exempt_from_csrf)
    app.extensions["console.status_of"] = status_of
    app.register_blueprint(pages.bp)
