"""Errors of the JSON API as ``application/problem+json`` (RFC 9457): type, title, status, detail.

Views raise :class:`ApiProblem` (an ``HTTPException``); the app's error handlers (``survey.errors``) hand
every error under ``/api/`` to :func:`problem_response`, so unknown URLs, wrong methods, rate limits,
``abort(404)`` from the shared scope helpers and unexpected errors all answer in the same form.
Titles and details are English: they are for programs and the statisticians who write them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

PROBLEM_JSON = "application/problem+json"
#: Problem types beyond the plain HTTP meaning (``about:blank``).
VALIDATION = "urn:sipas:problem:validation"
NO_DATA = "urn:sipas:problem:no-data"
INVALID_TOKEN = "urn:sipas:problem:invalid-token"  # noqa: S105  (a problem type URI, not a secret)
MISSING_TOKEN = "urn:sipas:problem:missing-token"  # noqa: S105  (a problem type URI, not a secret)
INVALID_FILE = "urn:sipas:problem:invalid-file"
TYPES = ("about:blank", VALIDATION, NO_DATA, INVALID_TOKEN, MISSING_TOKEN, INVALID_FILE)

#: What each status means to a client of this API when nothing more specific is known.
DETAILS = {
    400: "The request could not be understood.",
    401: "Send a valid personal API token: Authorization: Bearer sipas_…",
    403: "Your account does not hold the capability this resource needs.",
    404: "There is no such resource, or it is outside what your token may read.",
    405: "This resource does not accept that method.",
    413: "The request body is larger than accepted.",
    415: "Send the file as multipart/form-data in a field named 'file'.",
    422: "The request was understood but some parameter is not valid.",
    429: "Too many requests with this token; wait and try again (see Retry-After).",
    500: "Something went wrong on our side; nothing was changed. Try again later.",
}


def json_body(payload: Any) -> str:
    """Compact UTF-8 JSON (Vietnamese stays readable); NaN or infinity is a bug, never valid JSON."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def json_response(payload: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return current_app.response_class(json_body(payload), status=status, mimetype=mimetype)


class ApiProblem(HTTPException):
    """An API error with its problem type, title, detail and, for validation problems, ``errors``."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = status
        self.problem_title = title or HTTP_STATUS_CODES.get(status, "Error")
        self.problem_detail = detail or DETAILS.get(status, "")
        self.problem_type = type_
        self.errors = [dict(e) for e in errors]
        self.extra_headers = dict(headers or {})


def invalid(errors: Sequence[Mapping[str, Any]], detail: str | None = None) -> ApiProblem:
    """422 listing each invalid parameter: ``{"name", "in", "detail"}``."""
    first = detail or "; ".join(f"{e['name']}: {e['detail']}" for e in errors)
    return ApiProblem(422, first, title="Invalid parameters", type_=VALIDATION, errors=errors)


def no_data(detail: str) -> ApiProblem:
    return ApiProblem(422, detail, title="No data for this request", type_=NO_DATA)


def problem_response(exc: Exception) -> Response:
    """The problem+json response for any exception raised while serving an ``/api/`` request."""
    if isinstance(exc, ApiProblem):
        status, title, detail = exc.code or 500, exc.problem_title, exc.problem_detail
        type_, errors, headers = exc.problem_type, exc.errors, exc.extra_headers
    elif isinstance(exc, HTTPException):
        status = exc.code or 500
        title = HTTP_STATUS_CODES.get(status, exc.name)
        detail = _detail(exc, status)
        type_, errors = "about:blank", []
        # Allow (405) and the like; the body's own Content-Type is set below.
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    else:
        status, title, detail, type_, errors, headers = 500, HTTP_STATUS_CODES[500], DETAILS[500], "about:blank", [], {}
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail, "instance": request.path}
    if errors:
        body["errors"] = errors
    response = json_response(body, status, PROBLEM_JSON)
    response.headers.update(headers)
    return response


def _detail(exc: HTTPException, status: int) -> str:
    if status == 429:
        # Flask-Limiter's description names the limit, e.g. "120 per 1 minute".
        return f"Rate limit exceeded ({exc.description}); wait and try again (see Retry-After)."
    if status == 405:
        return f"{request.method} is not allowed here. " + DETAILS[405]
    return DETAILS.get(status, exc.description or "")
