"""API key checks: which role each endpoint needs (the roles are in application/access.py).

An endpoint missing from ``NEEDS`` needs ``admin``, so a new endpoint is closed until it is given
a role here; ``PUBLIC`` endpoints need no key (load balancers' health checks, the API description).
"""
from __future__ import annotations

from flask import Flask, current_app, g, request

from application import access

PUBLIC = {"healthz", "readyz", "v1.openapi"}
NEEDS = {
    "v1.triage": "intake", "v1.triage_batch": "intake", "v1.get_triage": "intake",
    "v1.list_articles": "intake", "v1.get_article": "intake", "v1.search": "intake",
    "v1.post_feedback": "agent", "v1.list_decisions": "agent", "v1.get_ticket": "agent", "v1.find_tickets": "agent",
    "v1.get_surges": "agent", "v1.get_queue": "agent", "v1.get_sla_policies": "agent",
    "v1.get_priority_matrix": "agent",
    "v1.create_article": "editor", "v1.update_article": "editor", "v1.delete_article": "editor",
    "v1.gaps": "editor", "v1.gaps_handled": "editor", "v1.article_report": "editor", "v1.triage_report": "editor",
    "v1.trends_report": "editor", "v1.get_routing": "editor",
    "v1.list_models": "editor", "v1.get_job": "editor", "metrics": "editor",
}


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


def register(app: Flask) -> None:
    @app.before_request
    def _check_key():
        if request.endpoint is None or request.endpoint in PUBLIC:
            return None  # unknown routes get their own 404
        if request.blueprint == "console":
            return None  # people sign in to the console with a key; it checks their session itself
        rt = current_app.extensions["kbtriage"]
        with rt.db.session() as session:
            row = access.admit(session=session, key=_presented_key(), needs=NEEDS.get(request.endpoint, "admin"),
                               required=rt.settings.require_api_key)
        if row is not None:
            g.api_key = row.name
        return None
