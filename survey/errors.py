"""Friendly, translated error pages with the right status code; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from survey.db import db

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/healthz"))


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("The request could not be understood"),
            _("Something in what was sent is not valid. Go back and try again."),
        ),
        404: (_("Page not found"), _("Check the address, or scan the QR code again.")),
        405: (_("Method not allowed"), _("This page cannot be used that way.")),
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


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        return session_expired_page()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = exc.code or 500
        if _wants_json():
            return jsonify(error=exc.name, status=code), code
        title, message = _titles().get(code, (exc.name, ""))
        return render_template("errors/error.html", title=title, message=message), code

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        if _wants_json():
            return jsonify(error="Internal Server Error", status=500), 500
        title, message = _titles()[500]
        return render_template("errors/error.html", title=title, message=message), 500
