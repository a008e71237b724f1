"""Sign-in views: thin — parse the form, call the users service, manage the Flask-Login session."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.auth import can, landing_url, scope
from survey.auth_views import bp
from survey.auth_views.forms import PasswordForm, SignInForm
from survey.extensions import limiter
from survey.services.identity import users


def _throttle_rule() -> users.ThrottleRule:
    threshold = int(current_app.config["LOCKOUT_THRESHOLD"])
    return users.ThrottleRule(
        threshold=threshold,
        cap=dt.timedelta(minutes=current_app.config["LOCKOUT_MINUTES"]),
        soft_cap=10 * threshold,
    )


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
    g.pop("sipas_scopes", None)  # scopes computed before sign-in were the anonymous user's
    session.permanent = True


@bp.app_context_processor
def staff_navigation() -> dict[str, Any]:
    return {"can": can, "scope_ids": scope}


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(landing_url())
    form = SignInForm()
    problem = None
    status = 200
    if form.validate_on_submit():
        result = users.authenticate(
            form.email.data or "",
            form.password.data or "",
            client=request.remote_addr,  # after ProxyFix; only an HMAC of it is stored
            secret=current_app.config["SECRET_KEY"],
            rule=_throttle_rule(),
        )
        if result.status == "ok" and result.user is not None:
            _start_session(result.user)
            return redirect(_safe_next(request.args.get("next")) or landing_url(), code=303)
        # One answer for every refusal: unknown account, wrong password, inactive, throttled (ASVS 2.2).
        problem = _(
            "The e-mail address or password is not right, or there have been too many attempts: "
            "wait a few minutes and try again."
        )
        status = 401
    elif form.errors:
        status = 422
    return render_template("auth/sign_in.html", form=form, problem=problem), status


@bp.post("/sign-out")
def sign_out() -> WerkzeugResponse:
    # The guard already refused anonymous requests; CSRFProtect checked the token.
    users.record_sign_out(current_user.id)
    logout_user()
    session.clear()
    flash(_("You have signed out on every device."), "info")
    return redirect(url_for("auth.sign_in"), code=303)


@bp.route("/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
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
            return redirect(landing_url(), code=303)
    elif form.errors:
        status = 422
    return render_template("auth/password.html", form=form), status
