"""Map project errors, validation failures and HTTP errors to JSON bodies {"error": {...}}."""
from __future__ import annotations

import logging
import re

from flask import Flask, jsonify
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import HTTPException

from api.schemas import PATTERN_MESSAGES, FieldError
from console import pages as console_pages
from common.errors import Conflict, Forbidden, KBTriageError, NotFound, NotReady, Unauthorized, ValidationError

log = logging.getLogger("kbtriage.api")
# The HTTP status of each kind of domain error; the most specific class listed wins.
STATUSES: dict[type[KBTriageError], int] = {
    ValidationError: 422, NotFound: 404, Conflict: 409, NotReady: 409, Unauthorized: 401, Forbidden: 403,
}
_TAG = re.compile(r"^(__root__|\[key\]|[a-z]+(-[a-z]+)+|[a-z]+\[.*\])$")


def error_response(status: int, code: str, message: str, field: str | None = None):
    return jsonify({"error": {"code": code, "message": message, "field": field}}), status


def status_of(exc: KBTriageError) -> int:
    """The HTTP status for a domain error: its class's, or the nearest ancestor's, else 400."""
    for cls in type(exc).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return 400


def from_pydantic(exc: PydanticError):
    first = exc.errors()[0]
    # pydantic's loc also names the union member or dict part that failed ("constrained-str",
    # "[key]"): not part of the request's field path.
    loc = [str(p) for p in first.get("loc", ()) if not _TAG.match(str(p))]
    message = first.get("msg", "invalid value")
    if first.get("type") == "string_pattern_mismatch":
        message = PATTERN_MESSAGES.get((first.get("ctx") or {}).get("pattern"), message)
    rule = (first.get("ctx") or {}).get("error")
    if isinstance(rule, FieldError):  # a rule between fields names the one to fix
        loc, message = [*loc, rule.field], str(rule)
    field = ".".join(loc) or None
    if field:
        message = f"{field}: {message}"
    return error_response(422, "invalid", message, field)


def register(app: Flask) -> None:
    @app.errorhandler(KBTriageError)
    def _domain(exc: KBTriageError):
        body, status = error_response(status_of(exc), exc.code, exc.message, exc.field)
        if exc.retry_after is not None:
            body.headers["Retry-After"] = str(exc.retry_after)
        return body, status

    @app.errorhandler(PydanticError)
    def _validation(exc: PydanticError):
        return from_pydantic(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if console_pages.wants_page():
            return console_pages.http_error(exc)
        code = (exc.name or "error").lower().replace(" ", "_")
        body, status = error_response(exc.code or 500, code, exc.description or exc.name)
        for name, value in exc.get_headers():  # e.g. Allow on 405, as RFC 9110 asks
            if name.lower() != "content-type":
                body.headers[name] = value
        return body, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        if console_pages.wants_page():
            return console_pages.page_error("Something went wrong on our side; it has been logged.", 500)
        return error_response(500, "internal", "internal error; it has been logged")
