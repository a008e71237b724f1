"""Forms of the agency pages. Filters are GET forms without CSRF; every POST carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from survey.services.counters import MAX_NAME_LENGTH
from survey.services.exclusions import MAX_NOTE_LENGTH


class PeriodForm(FlaskForm):
    """The period and questionnaire of a dashboard (read from the query string)."""

    class Meta:
        csrf = False

    period = SelectField(
        _l("Period"),
        choices=[
            SelectChoice("month", _l("Month")),
            SelectChoice("quarter", _l("Quarter")),
            SelectChoice("year", _l("Year")),
            SelectChoice("custom", _l("Custom dates")),
        ],
        default="quarter",
    )
    month = StringField(_l("Month (YYYY-MM)"), validators=[Optional(), Length(max=7)])
    quarter = StringField(_l("Quarter (YYYY-Q1 to Q4)"), validators=[Optional(), Length(max=8)])
    year = StringField(_l("Year (YYYY)"), validators=[Optional(), Length(max=4)])
    date_from = StringField(_l("From (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])
    date_to = StringField(_l("To (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])
    instrument = SelectField(_l("Questionnaire"), choices=[], validate_choice=False)


class CounterForm(FlaskForm):
    name_vi = StringField(
        _l("Name in Vietnamese"),
        validators=[DataRequired(_l("Enter the counter's name in Vietnamese")), Length(max=MAX_NAME_LENGTH)],
    )
    name_en = StringField(_l("Name in English (optional)"), validators=[Optional(), Length(max=MAX_NAME_LENGTH)])
    instrument = SelectField(_l("Questionnaire citizens answer at this counter"), coerce=int, choices=[])


class ConfirmForm(FlaskForm):
    """A bare POST (activate, deactivate, rotate key): only the CSRF token and the wanted state."""

    active = HiddenField()


class ExcludeForm(FlaskForm):
    reason = RadioField(
        _l("Why should this response be excluded?"),
        choices=[
            SelectChoice("staff_self_rating", _l("Staff rated their own service")),
            SelectChoice("test_or_training", _l("Test or training entry")),
            SelectChoice("duplicate", _l("Duplicate of another response")),
            SelectChoice("wrong_counter", _l("Given at the wrong counter or agency")),
            SelectChoice("other", _l("Other reason (describe it below)")),
        ],
        validators=[DataRequired(_l("Select why the response should be excluded"))],
    )
    note = StringField(
        _l("Note (optional; required for another reason; no personal data)"),
        validators=[Optional(), Length(max=MAX_NOTE_LENGTH)],
    )
