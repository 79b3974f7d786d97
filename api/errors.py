"""Map project errors, validation failures and HTTP errors to JSON bodies {"error": {...}}."""
from __future__ import annotations

import logging
import re

from flask import Flask, jsonify
from pydantic import ValidationError as PydanticError
from sqlalchemy import exc as sqlalchemy_exc
from werkzeug.exceptions import HTTPException

from api.schemas import PATTERN_MESSAGES, FieldError
from console import pages as console_pages
from common.errors import Conflict, Forbidden, KBTriageError, NotFound, NotReady, Unauthorized, ValidationError

log = logging.getLogger("kbtriage.api")
DATABASE_RETRY_SECONDS = 5
# The HTTP status of each kind of domain error; the most specific class listed wins.
STATUSES: dict[type[KBTriageError], int] = {
    ValidationError: 422, NotFound: 404, Conflict: 409, NotReady: 409, Unauthorized: 401, Forbidden: 403,
}
# Without the request's data at hand, what pydantic adds to an error's location is told by its form:
# a union member or validator ("constrained-str", "function-after[strip(), constrained-str]",
# "list[str]", "int"), a dict key ("[key]"), a model ("TicketFields").
_TAG = re.compile(r"^(__root__|\[key\]|[a-z]+(-[a-z]+)*\[.*\]|[a-z]+(-[a-z]+)+|int|float|str|bool|none|bytes"
                  r"|[A-Z][A-Za-z0-9]*)$")
_UNKNOWN = object()


def error_response(status: int, code: str, message: str, field: str | None = None):
    return jsonify({"error": {"code": code, "message": message, "field": field}}), status


def starting_with_field(message: str, field: str | None) -> str:
    """``message`` starting with ``field`` as the request wrote it (docs/api.md): a message that
    names the field's last part (``value must ...`` of ``events.1.value``) names all of it, one that
    names no field gets it in front."""
    if not field or message.startswith(field) or field == "Authorization":
        return message
    last = field.rsplit(".", 1)[-1]
    if message.startswith(last) and message[len(last):len(last) + 1] in (" ", ":"):
        return field + message[len(last):]
    return f"{field}: {message}"


def status_of(exc: KBTriageError) -> int:
    """The HTTP status for a domain error: its class's, or the nearest ancestor's, else 400."""
    for cls in type(exc).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return 400


def field_path(error: dict, data=_UNKNOWN) -> tuple[list[str], int]:
    """The field of a pydantic error as the user wrote it (``meta.a``, ``tickets.3.body``), and
    where in the error's location pydantic's own parts begin.

    pydantic's location also names the union member, validator or dict part that failed; with the
    request's ``data``, each part of the location that the data holds is the user's (a key of an
    object, an index of an array) and the rest is pydantic's, whatever its form. A required field
    left out is not in the data: it ends the location of a ``missing`` error."""
    loc = error.get("loc", ())
    if data is _UNKNOWN:
        tags = [n for n, p in enumerate(loc) if _TAG.match(str(p))]
        return [str(p) for p in loc if not _TAG.match(str(p))], tags[0] if tags else len(loc)
    path, here, first_tag = [], data, len(loc)
    for n, part in enumerate(loc):
        if isinstance(here, dict) and isinstance(part, str) and part in here:
            path.append(part)
            here = here[part]
        elif isinstance(here, list) and isinstance(part, int) and not isinstance(part, bool) and 0 <= part < len(here):
            path.append(str(part))
            here = here[part]
        elif error.get("type") == "missing" and n == len(loc) - 1 and isinstance(here, dict):
            path.append(str(part))
        else:
            first_tag = min(first_tag, n)
    return path, first_tag


def _pattern_message(error: dict) -> str:
    """pydantic's message in a user's words: a pattern said as what it means, a rule's own message
    without pydantic's "Value error, " before it, an object where one is needed not named by the
    class that reads it."""
    message = error.get("msg", "invalid value")
    kind = error.get("type")
    if kind == "string_pattern_mismatch":
        message = PATTERN_MESSAGES.get((error.get("ctx") or {}).get("pattern"), message)
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "Input should be an object"
    elif kind == "int_parsing_size":  # whatever the value's type (pydantic says "input string")
        message = "Input should be a whole number of a usable size"
    return message


def _explain(errors: list[dict], data) -> tuple[dict, list[str], str]:
    """The error to report, its field and its message. A value that fits none of a union's members gets an
    error per member: the member of the value's own type that refused it says why (a text too
    long, a number not finite, an item of a list); when none is of its type, the message lists the
    types the field takes."""
    first = errors[0]
    path, first_tag = field_path(first, data)
    # The errors of the union (or validator) where pydantic's parts of the location begin.
    spot = first.get("loc", ())[:first_tag]
    members = [e for e in errors if len(e.get("loc", ())) > first_tag and e["loc"][:first_tag] == spot] or [first]
    matched = [e for e in members if not e.get("type", "").endswith("_type")]
    if matched:
        return matched[0], field_path(matched[0], data)[0], _pattern_message(matched[0])
    kinds = list(dict.fromkeys(_pattern_message(e) for e in members))
    prefix = "Input should be a valid "
    if len(kinds) > 1 and all(k.startswith(prefix) for k in kinds):
        names = [k[len(prefix):] for k in kinds]
        return first, path, prefix + ", ".join(names[:-1]) + " or " + names[-1]
    return first, path, "; or ".join(kinds)


def invalid(exc: PydanticError, data=_UNKNOWN) -> ValidationError:
    """A request that ``exc`` refused, as the domain error the API answers with (422), naming the
    field as the user wrote it; ``data``: the request's JSON (or query) the model was given."""
    error, loc, message = _explain(exc.errors(), data)
    rule = (error.get("ctx") or {}).get("error")
    if isinstance(rule, FieldError):  # a rule between fields names the one to fix
        loc, message = [*loc, rule.field], str(rule)
    field = ".".join(loc) or None
    if field:
        message = f"{field}: {message}"
    return ValidationError(message, field=field, code="invalid")


def from_pydantic(exc: PydanticError):
    error = invalid(exc)
    return error_response(422, error.code, error.message, error.field)


def register(app: Flask) -> None:
    @app.errorhandler(KBTriageError)
    def _domain(exc: KBTriageError):
        body, status = error_response(status_of(exc), exc.code, starting_with_field(exc.message, exc.field),
                                      exc.field)
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

    @app.errorhandler(sqlalchemy_exc.OperationalError)
    @app.errorhandler(sqlalchemy_exc.InterfaceError)
    @app.errorhandler(sqlalchemy_exc.TimeoutError)
    def _database_away(exc: Exception):
        # The database went away (or every pooled connection is busy): nothing was done, and the
        # same request may succeed shortly. Connections are tested before use, so the service
        # recovers by itself when the database is back.
        log.warning("database unavailable: %s", str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])
        if console_pages.wants_page():
            return console_pages.page_error("The database does not answer; try again in a moment.", 503)
        body, status = error_response(503, "database_unavailable",
                                      "the database does not answer; nothing was changed, try again shortly")
        body.headers["Retry-After"] = str(DATABASE_RETRY_SECONDS)
        return body, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        if console_pages.wants_page():
            return console_pages.page_error("Something went wrong on our side; it has been logged.", 500)
        return error_response(500, "internal", "internal error; it has been logged")
