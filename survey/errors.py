"""Friendly, translated error pages with the right status code; never a stack trace."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from survey.db import db

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/healthz", "/readyz"))


#: What a lost database looks like to SQLAlchemy: refused or dropped connections, an exhausted pool.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("The request could not be understood"),
            _("Something in what was sent is not valid. Go back and try again."),
        ),
        404: (_("Page not found"), _("Check the address, or scan the QR code again.")),
        405: (_("Method not allowed"), _("This page cannot be used that way.")),
        403: (_("You cannot use this page"), _("Your account does not give you access to this page.")),
        413: (_("Too much data"), _("What was sent is larger than we accept. Shorten your comment and try again.")),
        429: (_("Too many attempts"), _("Please wait a minute and try again.")),
        500: (_("Sorry, there is a problem with the service"), _("Try again later. Your earlier answers are safe.")),
    }


def session_expired_page() -> tuple[str, int]:
    """The page for a missing or stale CSRF token when there is no form to show again."""
    return render_template(
        "errors/error.html",
        title=_("Your session has expired"),
        message=_(
            "For your security the form needs to be sent again. Go back, check your answers and send them again."
        ),
    ), 400


def _rollback_quietly() -> None:
    """Roll the request's session back; never raise while doing so (its connection may be gone)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  (a dead connection: the pool invalidates it and the next checkout reconnects)
        log.warning("rollback failed after an error; the connection is discarded")


def database_unavailable_response() -> tuple[Response | str, int, dict[str, str]]:
    """503 with Retry-After: JSON for probes, problem+json under /api/, a translated page otherwise.

    Nothing was stored: the unit of work rolled back with the connection, so the page says so and a
    survey POST is never acknowledged (the survey page's offline queue keeps the answers).
    """
    _rollback_quietly()
    # The layout asks Flask-Login for the user, which would query the database again: be anonymous here.
    from survey.extensions import login_manager

    g._login_user = login_manager.anonymous_user()
    headers = {"Retry-After": str(current_app.config["OUTAGE_RETRY_AFTER"])}
    if request.path.startswith("/api/"):
        body = jsonify(
            type="about:blank",
            title="Service Unavailable",
            status=503,
            detail="The database is unreachable; nothing was stored. Retry later.",
        )
        body.mimetype = "application/problem+json"
        return body, 503, headers
    if _wants_json():
        return jsonify(status="error", error="database unavailable"), 503, headers
    title = _("The service is temporarily unavailable")
    if request.method == "POST":
        message = _(
            "Nothing you sent was saved. Keep this page open, go back and send it again in a few minutes: "
            "your answers are still in the form."
        )
    else:
        message = _("We cannot reach our database at the moment. Please try again in a few minutes.")
    return render_template("errors/error.html", title=title, message=message), 503, headers


def init_error_handlers(app: Flask) -> None:
    @app.after_request
    def retry_after(response: Response) -> Response:
        """A rate-limited answer says how long to wait (Retry-After, seconds to the window's reset).

        Flask-Limiter can write this and its X-RateLimit-* headers on every limited response, but
        working out the window for each of them was 7 % of a citizen's submission; only a 429 needs it.
        """
        if response.status_code == 429 and "Retry-After" not in response.headers:
            from survey.extensions import limiter

            limit = limiter.current_limit
            wait = int(limit.reset_at - time.time()) if limit is not None else 60
            response.headers["Retry-After"] = str(max(1, wait))
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    def database_unavailable(exc: Exception) -> ResponseReturnValue:
        # The class name only: the message may carry a host name or URL.
        log.warning("database unavailable on %s %s: %s", request.method, request.endpoint, type(exc).__name__)
        return database_unavailable_response()

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return session_expired_page()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if request.path.startswith("/api/"):
            from survey.api.problems import problem_response

            return problem_response(exc)
        if _wants_json():
            return jsonify(error=exc.name, status=code), code
        title, message = _titles().get(code, (exc.name, ""))
        return render_template("errors/error.html", title=title, message=message), code

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> ResponseReturnValue:
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            log.warning("database connection lost on %s %s", request.method, request.endpoint)
            return database_unavailable_response()
        _rollback_quietly()
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        if request.path.startswith("/api/"):
            from survey.api.problems import problem_response

            return problem_response(exc)
        if _wants_json():
            return jsonify(error="Internal Server Error", status=500), 500
        title, message = _titles()[500]
        return render_template("errors/error.html", title=title, message=message), 500
