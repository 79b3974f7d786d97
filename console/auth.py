"""Who is using the console: sign-in with an API key, kept as a session cookie, and the role each
page needs (the same roles as the API, application/access.py).

The demo, with no key yet and none required, opens without sign-in as the API does. Once keys
exist, a person signs in with their key; the session keeps the key's id, never the key, and every
request checks again that the key is neither revoked nor expired and that its role is enough.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, g, redirect, request, session, url_for

from application import access
from common.errors import Unauthorized

# Machines (role intake) use the API; people start at agent.
CONSOLE_ROLE = "agent"


def runtime():
    return current_app.extensions["kbtriage"]


def sign_in(key: str) -> access.ApiKey:
    """Check ``key`` (any role a person has) and start a session for it."""
    with runtime().db.session() as db:
        row = access.authorize(session=db, key=key.strip(), needs=CONSOLE_ROLE)
        session.clear()
        session["key_id"] = row.id
        return row


def sign_out() -> None:
    session.clear()


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
                key_id = session.get("key_id")
                if key_id is None:
                    return redirect(url_for("console.sign_in_page", next=request.full_path.rstrip("?")))
                try:
                    row = access.signed_in(session=db, key_id=key_id, needs=role)
                except Unauthorized:
                    session.clear()  # revoked or expired since: sign in again
                    return redirect(url_for("console.sign_in_page", next=request.full_path.rstrip("?")))
                g.console_user, g.console_role = row.name, row.role
            return view(*args, **kwargs)

        return checked

    return decorate


def may(role: str) -> bool:
    """Whether the person signed in may open pages that need ``role`` (for the navigation)."""
    return access.ROLES.index(g.get("console_role") or CONSOLE_ROLE) >= access.ROLES.index(role)

