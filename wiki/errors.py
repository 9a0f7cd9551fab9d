"""Error pages inside the site layout; RFC 9457 problem details (JSON) under ``/api/``.
No stack trace ever reaches a user."""

import math
import time

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, TooManyRequests
from werkzeug.http import HTTP_STATUS_CODES

from wiki.extensions import db, limiter
from wiki.services.paging import BadCursor

TEMPLATES = {403: "errors/403.html", 404: "errors/404.html"}  # 429: too_many_attempts
PROBLEM_JSON = "application/problem+json"


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(BadCursor, handle_bad_cursor)
    app.register_error_handler(Exception, handle_unexpected_error)


def wants_json() -> bool:
    """JSON under ``/api/``, and for a script that asks for it over HTML (the editor's
    uploads send ``Accept: application/json``); a browser's own requests get pages."""
    if request.path.startswith("/api/"):
        return True
    preferred = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return preferred == "application/json"


def handle_http_error(error: HTTPException):
    if isinstance(error, TooManyRequests):
        return too_many_attempts(error)
    if error.response is not None:  # e.g. abort(redirect(...)) to the login page
        return error.response
    code = error.code or 500
    headers = extra_headers(error)
    if wants_json():
        return problem(code, error.description, headers=headers)
    template = TEMPLATES.get(code, "errors/generic.html")
    # abort(404, "why") carries a message for the user; Werkzeug's stock text does not.
    message = error.description if error.description != type(error).description else None
    return render_template(template, error=error, message=message), code, headers


def problem(status: int, detail: str | None, *, title: str | None = None,
            type_uri: str = "about:blank", headers: dict[str, str] | None = None,
            **extensions):
    """An RFC 9457 problem document: *type_uri* names the kind of problem (``about:blank``:
    just the HTTP status, whose phrase is then the *title*); *extensions* add members."""
    response = jsonify({"type": type_uri, "title": title or HTTP_STATUS_CODES.get(status, "Error"),
                        "status": status, "detail": detail or "", **extensions})
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def extra_headers(error: HTTPException) -> dict[str, str]:
    """The headers the error itself calls for, such as ``Allow`` on a 405."""
    return {name: value for name, value in error.get_headers() if name.lower() != "content-type"}


def too_many_attempts(error: TooManyRequests):
    """429 saying how long to wait: sign-in throttling sets ``retry_after`` in seconds;
    Flask-Limiter's limits (registration) know their own windows."""
    retry = error.retry_after if isinstance(error.retry_after, int) else seconds_until_retry(error)
    minutes = math.ceil(retry / 60)
    if wants_json():
        return problem(429, f"Too many requests: try again in {minutes} minute"
                            f"{'s' if minutes != 1 else ''}.", headers={"Retry-After": str(retry)})
    message = error.description if error.description != TooManyRequests.description else None
    body = render_template("errors/429.html", minutes=minutes, message=message)
    return body, 429, {"Retry-After": str(retry)}


def seconds_until_retry(error: RateLimitExceeded) -> int:
    """How long until the limit that was hit lets requests through again."""
    breached = limiter.current_limit
    if breached is not None and breached.breached:
        reset_time, _remaining = breached.window
        return max(1, math.ceil(reset_time - time.time()))
    limit = getattr(error, "limit", None)
    return limit.limit.get_expiry() if limit else 900


def handle_bad_cursor(error: BadCursor):
    """A ``?before=`` / ``?after=`` that is no place in the list: 400, saying so."""
    return handle_http_error(BadRequest(f"{error} Start again from the first page."))


def handle_unexpected_error(error: Exception):
    """Log the error with its traceback, undo the half-done transaction, show a generic page."""
    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())
