"""Forms of the administration pages; every POST carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from survey.services.administration.counters import MAX_CODE_LENGTH
from survey.services.identity.user_admin import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH


class VolumeUploadForm(FlaskForm):
    file = FileField(_l("File (CSV or Excel .xlsx)"))


class QuestionnaireUploadForm(FlaskForm):
    file = FileField(_l("Questionnaire file (XLSForm .xlsx or data file .toml)"))


class ConfirmForm(FlaskForm):
    """A bare POST (activate, deactivate, delete, remove): only the CSRF token and the wanted state."""

    active = HiddenField()


class UserCreateForm(FlaskForm):
    email = StringField(
        _l("E-mail address (the sign-in name)"),
        validators=[DataRequired(_l("Enter the e-mail address")), Length(max=255)],
    )
    display_name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Enter the person's name")), Length(max=MAX_NAME_LENGTH)],
    )
    role = SelectField(_l("Role"), choices=[], validate_choice=False)
    agency = SelectField(_l("Agency (the role covers it and every agency below it)"), choices=[], validate_choice=False)
    password = PasswordField(
        _l("Initial password (optional: leave empty to generate one)"),
        validators=[Optional(), Length(max=MAX_PASSWORD_LENGTH)],
    )


class UserNameForm(FlaskForm):
    display_name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Enter the person's name")), Length(max=MAX_NAME_LENGTH)],
    )


class PasswordResetForm(FlaskForm):
    new_password = PasswordField(
        _l("New password (optional: leave empty to generate one)"),
        validators=[Optional(), Length(max=MAX_PASSWORD_LENGTH)],
    )


class RoleGrantForm(FlaskForm):
    grant_role = SelectField(_l("Role"), choices=[], validate_choice=False)
    grant_agency = SelectField(_l("Agency"), choices=[], validate_choice=False)


class AgencyCreateForm(FlaskForm):
    parent = SelectField(_l("Parent agency"), choices=[], validate_choice=False)
    code = StringField(
        _l("Code (lowercase letters, digits and hyphens, e.g. so-tu-phap)"),
        validators=[DataRequired(_l("Enter the agency code")), Length(max=MAX_CODE_LENGTH)],
    )
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    name_vi = StringField(
        _l("Name in Vietnamese"),
        validators=[DataRequired(_l("Enter the agency's name in Vietnamese")), Length(max=255)],
    )
    name_en = StringField(_l("Name in English (optional)"), validators=[Optional(), Length(max=255)])
    admin_unit = SelectField(_l("Administrative unit"), choices=[], validate_choice=False)


class AgencyNameForm(FlaskForm):
    name_vi = StringField(
        _l("Name in Vietnamese"),
        validators=[DataRequired(_l("Enter the agency's name in Vietnamese")), Length(max=255)],
    )
    name_en = StringField(_l("Name in English (optional)"), validators=[Optional(), Length(max=255)])


class PeriodForm(FlaskForm):
    agency = SelectField(
        _l("Agency (the period applies to it and every agency below it)"), choices=[], validate_choice=False
    )
    name = StringField(
        _l("Name, e.g. Survey round 2026"),
        validators=[DataRequired(_l("Enter the name of the period")), Length(max=120)],
    )
    starts_on = StringField(
        _l("First day (YYYY-MM-DD)"), validators=[DataRequired(_l("Enter the first day")), Length(max=10)]
    )
    ends_on = StringField(
        _l("Last day (YYYY-MM-DD)"), validators=[DataRequired(_l("Enter the last day")), Length(max=10)]
    )
