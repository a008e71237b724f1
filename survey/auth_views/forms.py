"""Sign-in and password forms (Flask-WTF: CSRF on every POST; server-side validation, instructive messages)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from survey.services.identity.users import MIN_PASSWORD_LENGTH


class SignInForm(FlaskForm):
    email = StringField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address")), Length(max=255)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password")), Length(max=1024)])


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password")), Length(max=1024)]
    )
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a new password")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l("The new password must be at least %(n)d characters long", n=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Type the new password again"),
        validators=[
            DataRequired(_l("Type the new password again")),
            EqualTo("new", _l("The two new passwords differ")),
        ],
    )
