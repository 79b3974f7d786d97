"""Who is using the console: sign-in with an API key, kept as a session cookie, and the role each
page needs (the same roles as the API, application/access.py).

The demo, with no key yet and none required, opens without sign-in as the API does. Once keys
exist, a person signs in with their key; the session keeps the key's id, never the key, and every
request checks again that the key is neither revoked nor expired and that its role is enough.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

from application import access
from common.errors import Unauthorized

# Machines (role intake) use the API; people start at agent.
CONSOLE_ROLE = "agent"
# A session lasts a working day at most; then the person signs in again.
SESSION_HOURS = 12


def runtime():
    return current_app.extensions["kbtriage"]


def sign_in(key: str) -> access.ApiKey:
    """Check ``key`` (any role a person has) and start a session for it."""
    if not key.strip():
        raise Unauthorized("enter your API key", field="key")
    with runtime().db.session() as db:
        row = access.authorize(session=db, key=key.strip(), needs=CONSOLE_ROLE)
        session.clear()
        session["key_id"] = row.id
        session["opened_at"] = datetime.now(timezone.utc).timestamp()
        return row


def sign_out() -> None:
    """End this session, and with it every copy of its cookie (the key's sessions until now)."""
    key_id = session.get("key_id")
    if key_id is not None:
        with runtime().db.session() as db:
            access.sign_out(session=db, key_id=key_id)
    session.clear()


def _opened_at() -> datetime | None:
    """When this session was opened, if it is younger than SESSION_HOURS."""
    try:
        opened = datetime.fromtimestamp(float(session.get("opened_at")), timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None
    return opened if datetime.now(timezone.utc) - opened < timedelta(hours=SESSION_HOURS) else None


def _back_here() -> str:
    """Where to come back after signing in: this page, or for a form sent from a page, that page."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    came_from = urlsplit(request.referrer or "")
    if came_from.netloc == request.host and came_from.path.startswith("/console/"):
        return came_from.path + (f"?{came_from.query}" if came_from.query else "")
    return url_for("console.queue")


def needs(role: str):
    """Decorator: the page needs ``role`` or above. Without a session (while keys are on), the
    person is sent to sign in; with a role too low, Forbidden (rendered as a page saying why)."""

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            with runtime().db.session() as db:
                if not access.checking(session=db, required=runtime().settings.require_api_key):
                    g.console_user, g.console_role = None, "admin"  # open demo, as the API is
                    return view(*args, **kwargs)
                key_id, opened_at = session.get("key_id"), _opened_at()
                if key_id is None or opened_at is None:
                    session.clear()
                    return redirect(url_for("console.sign_in_page", next=_back_here()))
                try:
                    row = access.signed_in(session=db, key_id=key_id, opened_at=opened_at, needs=role)
                except Unauthorized:
                    session.clear()  # revoked, expired or signed out since: sign in again
                    return redirect(url_for("console.sign_in_page", next=_back_here()))
                g.console_user, g.console_role = row.name, row.role
            return view(*args, **kwargs)

        return checked

    return decorate


def may(role: str) -> bool:
    """Whether the person signed in may open pages that need ``role`` (for the navigation)."""
    return access.ROLES.index(g.get("console_role") or CONSOLE_ROLE) >= access.ROLES.index(role)

