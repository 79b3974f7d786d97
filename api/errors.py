"""Map project errors, validation failures and HTTP errors to JSON bodies {"error": {...}}."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import HTTPException

from kbtriage.errors import KBTriageError

log = logging.getLogger("kbtriage.api")


def error_response(status: int, code: str, message: str, field: str | None = None):
    return jsonify({"error": {"code": code, "message": message, "field": field}}), status


def from_pydantic(exc: PydanticError):
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__") or None
    message = first.get("msg", "invalid value")
    if field:
        message = f"{field}: {message}"
    return error_response(422, "invalid", message, field)


def register(app: Flask) -> None:
    @app.errorhandler(KBTriageError)
    def _domain(exc: KBTriageError):
        body, status = error_response(exc.status, exc.code, exc.message, exc.field)
        if exc.retry_after is not None:
            body.headers["Retry-After"] = str(exc.retry_after)
        return body, status

    @app.errorhandler(PydanticError)
    def _validation(exc: PydanticError):
        return from_pydantic(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error; it has been logged")
