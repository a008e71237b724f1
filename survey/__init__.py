"""SIPAS: citizen satisfaction surveys at one-stop counters. ``create_app`` builds the Flask app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from survey.config import ConfigError, settings_from_env

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ConfigError", "create_app"]


def create_app(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Flask:
    """Build the app from the environment (or ``environ``), then apply ``overrides`` (tests)."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings_from_env(os.environ if environ is None else environ, Path(app.instance_path)))
    if overrides:
        app.config.update(overrides)
    configure_logging(app)
    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security(app)
    register_template_helpers(app)
    register_commands(app)
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]  # ProxyFix wraps the WSGI callable, as werkzeug documents
    return app


def configure_logging(app: Flask) -> None:
    """JSON lines on stdout; no IP addresses or free text (see survey/logging_setup.py and the privacy page)."""
    from survey.logging_setup import configure_logging as configure

    configure(app)


def register_extensions(app: Flask) -> None:
    from survey.db import db
    from survey.extensions import babel, csrf, limiter, login_manager, select_locale

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(ROOT / "translations"))
    limiter.init_app(app)
    login_manager.init_app(app)
    from survey.auth import init_login

    init_login(login_manager)


def register_converters(app: Flask) -> None:
    """Bounded path integers (``survey.bounded_int``): before the blueprints, whose rules bind converters."""
    from survey.bounded_int import register_converters as register

    register(app.url_map)


def register_blueprints(app: Flask) -> None:
    """Public blueprints as they are; every staff blueprint behind the sign-in guard (``survey.auth.protect``)."""
    from survey.account import bp as account_bp
    from survey.admin import bp as admin_bp
    from survey.agency import bp as agency_bp
    from survey.api import bp as api_bp
    from survey.auth import protect
    from survey.auth_views import bp as auth_bp
    from survey.downloads import bp as downloads_bp
    from survey.notifications import bp as notifications_bp
    from survey.pages import bp as pages_bp
    from survey.public import bp as public_bp
    from survey.results import bp as results_bp
    from survey.status import bp as status_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(status_bp)
    # The public results page: open to everyone, only for provinces that opted in.
    app.register_blueprint(results_bp)
    # Only signing in itself is open; signing out and changing the password need a session.
    app.register_blueprint(protect(auth_bp, public_endpoints={"auth.sign_in"}))
    app.register_blueprint(protect(agency_bp))
    app.register_blueprint(protect(admin_bp))
    app.register_blueprint(protect(downloads_bp))
    app.register_blueprint(protect(account_bp))
    # A digest's unsubscribe link works without signing in (a signed token).
    app.register_blueprint(protect(notifications_bp, public_endpoints={"notifications.unsubscribe"}))
    # Token-only: guarded by its bearer tokens (survey.api.auth), not by the sign-in session.
    app.register_blueprint(api_bp)


def register_error_handlers(app: Flask) -> None:
    from survey.errors import init_error_handlers

    init_error_handlers(app)


def register_security(app: Flask) -> None:
    from survey.security import init_security

    init_security(app)


def register_template_helpers(app: Flask) -> None:
    from survey.templating import init_templating

    init_templating(app)


def register_commands(app: Flask) -> None:
    from survey.cli import register

    register(app)
