"""What keeps the console's pages safe: the session cookie's secret and flags, CSRF tokens on every
form (Flask-WTF), and headers that forbid inline script and framing."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

# Nothing but the service's own files: no inline script, no CDN, no framing by another site.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class _SessionCookies(SecureCookieSessionInterface):
    """The session cookie is HttpOnly and SameSite=Strict always, and Secure when the request came
    over TLS (directly, or through a proxy that says so and that the deployment trusts)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def secret_key(home: Path, configured: str) -> str:
    """The key that signs session cookies: the configured one (several replicas must share it), else
    one made once and kept in the data directory, readable by its owner only."""
    if configured:
        return configured
    path = home / "console_secret"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)  # the first process to get here wins; the others read its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="utf-8").strip()


def protect(app: Flask, *, home: Path, configured_secret: str, exempt: list) -> None:
    """Sign sessions, check CSRF tokens on the console's forms (``exempt``: blueprints that
    authenticate each request with an API key instead), and send the security headers."""
    app.secret_key = secret_key(home, configured_secret)
    app.session_interface = _SessionCookies()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_NAME="kbtriage_console", WTF_CSRF_TIME_LIMIT=None)
    csrf.init_app(app)
    for blueprint in exempt:
        csrf.exempt(blueprint)

    @app.after_request
    def _headers(response):
        if request.path.startswith("/console"):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            if not request.path.startswith("/console/static/"):
                response.headers["Cache-Control"] = "no-store"  # pages show tickets: keep them out of caches
        return response
