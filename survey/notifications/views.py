"""The digest preference page and the signed unsubscribe link.

The link in a digest opens a page with one button (a POST with its CSRF token): mail scanners that fetch
links must not turn anyone's digest off, and a GET never changes anything.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice

from survey.db import db
from survey.notifications import bp
from survey.services.notifications import digests
from survey.services.notifications.tokens import user_from_token


class PreferencesForm(FlaskForm):
    digest = RadioField(
        _l("Digest of new low-score comments and alerts"),
        choices=[
            SelectChoice("daily", _l("Every day")),
            SelectChoice("weekly", _l("Every week")),
            SelectChoice("off", _l("Never")),
        ],
    )
    alert_mail = BooleanField(_l("Also send me an e-mail as soon as an alert is found"))


class ConfirmForm(FlaskForm):
    pass


@bp.route("/preferences", methods=["GET", "POST"])
def preferences() -> ResponseReturnValue:
    """The signed-in user's mail choices."""
    digest, alert_mail = digests.preference_of(db.session, current_user.id)
    form = PreferencesForm(data={"digest": digest, "alert_mail": alert_mail})
    if form.validate_on_submit():
        digests.set_preferences(
            current_user.id, form.digest.data or "weekly", bool(form.alert_mail.data), current_user.id, "preferences"
        )
        flash(_("Your mail choices are saved."), "info")
        return redirect(url_for("notifications.preferences"), code=303)
    return render_template("notifications/preferences.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> ResponseReturnValue:
    """Turn the digest off for the user the token was signed for (no sign-in needed)."""
    user_id = user_from_token(current_app.config["SECRET_KEY"], token)
    if user_id is None:
        abort(404)
    form = ConfirmForm()
    done = False
    if form.validate_on_submit():
        _, alert_mail = digests.preference_of(db.session, user_id)
        db.session.rollback()
        digests.set_preferences(user_id, "off", alert_mail, None, "unsubscribe link")
        done = True
    elif form.is_submitted():
        abort(400)
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return render_template("notifications/unsubscribe.html", form=form, done=done, token=token), 200, headers
