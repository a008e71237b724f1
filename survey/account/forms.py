"""Forms of the account pages; every POST carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from survey.services.identity.api_tokens import MAX_NAME_LENGTH


class TokenForm(FlaskForm):
    name = StringField(
        _l("What the token is for"),
        validators=[
            DataRequired(_l("Enter what the token is for, like “R scripts on my laptop”")),
            Length(max=MAX_NAME_LENGTH, message=_l("Use at most 100 characters")),
        ],
    )
    lifetime = SelectField(
        _l("Expires after"),
        choices=[
            SelectChoice("30", _l("30 days")),
            SelectChoice("90", _l("90 days")),
            SelectChoice("365", _l("1 year")),
            SelectChoice("never", _l("Never (until revoked)")),
        ],
        default="90",
    )


class RevokeForm(FlaskForm):
    """A button: the CSRF token is the whole form."""
