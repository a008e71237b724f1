"""Sign-in views: thin — parse the form, call the users service, manage the Flask-Login session."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.auth import can, scope
from survey.auth_views import bp
from survey.auth_views.forms import PasswordForm, SignInForm
from survey.extensions import limiter
from survey.services import users


def _sign_in_limit() -> str:
    return str(current_app.config["SIGN_IN_RATE_LIMIT"])


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, host or protocol-relative ``//``) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _start_session(user: Any) -> None:
    # Session fixation: nothing from before sign-in survives; the cookie gets new contents and CSRF token.
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the token per request; the old one belongs to the old session
    login_user(user)
    session.permanent = True


@bp.app_context_processor
def staff_navigation() -> dict[str, Any]:
    return {"can": can, "scope_ids": scope}


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("agency.home"))
    form = SignInForm()
    problem = None
    status = 200
    if form.validate_on_submit():
        result = users.authenticate(
            form.email.data or "",
            form.password.data or "",
            threshold=current_app.config["LOCKOUT_THRESHOLD"],
            lockout=dt.timedelta(minutes=current_app.config["LOCKOUT_MINUTES"]),
        )
        if result.status == "ok" and result.user is not None:
            _start_session(result.user)
            return redirect(_safe_next(request.args.get("next")) or url_for("agency.home"), code=303)
        if result.status == "locked" and result.locked_until is not None:
            problem = _(
                "Too many failed attempts: this account is locked until %(time)s. "
                "Try again then, or ask your administrator to help.",
                time=format_datetime(result.locked_until, "HH:mm dd/MM/yyyy"),
            )
            status = 429
        else:
            problem = _("The e-mail address or password is not right. Check them and try again.")
            status = 401
    elif form.errors:
        status = 422
    return render_template(
        "auth/sign_in.html", form=form, problem=problem, has_errors=bool(problem or form.errors)
    ), status


@bp.post("/sign-out")
def sign_out() -> WerkzeugResponse:
    # The guard already refused anonymous requests; CSRFProtect checked the token.
    users.record_sign_out(current_user.id)
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"), code=303)


@bp.route("/password", methods=["GET", "POST"])
def password():  # type: ignore[no-untyped-def]
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = users.change_password(current_user.id, form.current.data or "", form.new.data or "")
        except users.PasswordError as exc:
            messages = {
                "wrong_current": (form.current, _("The current password is not right")),
                "too_short": (form.new, _("The new password is too short")),
                "unchanged": (form.new, _("Choose a password different from the current one")),
            }
            field, message = messages.get(exc.code, (form.current, _("The password could not be changed")))
            field.errors = [message]
            status = 422
        else:
            _start_session(user)
            flash(_("Your password has been changed. Every other session has been signed out."), "info")
            return redirect(url_for("agency.home"), code=303)
    elif form.errors:
        status = 422
    return render_template("auth/password.html", form=form, has_errors=bool(form.errors)), status
