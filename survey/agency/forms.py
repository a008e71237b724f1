"""Forms of the agency pages. Filters are GET forms without CSRF; every POST carries a CSRF token."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from survey.models.agency import FEEDBACK_MAX_LENGTH, FEEDBACK_URL_MAX_LENGTH, KIOSK_RESET_MAX, KIOSK_RESET_MIN
from survey.services.administration.counters import MAX_NAME_LENGTH
from survey.services.review.comments import MAX_NOTE_LENGTH as MAX_REVIEW_NOTE_LENGTH
from survey.services.review.comments import MAX_SEARCH_LENGTH
from survey.services.review.exclusions import MAX_NOTE_LENGTH


class PeriodForm(FlaskForm):
    """The period and questionnaire of a dashboard (read from the query string).

    One kind at a time: the page shows only the input of the chosen kind (no script needed); choosing
    another kind and pressing "Show" brings up its input, set near the period being looked at.
    """

    class Meta:
        csrf = False

    period = SelectField(
        _l("Kind of period"),
        choices=[
            SelectChoice("month", _l("Month")),
            SelectChoice("quarter", _l("Quarter")),
            SelectChoice("year", _l("Year")),
            SelectChoice("custom", _l("Custom dates")),
        ],
        default="quarter",
        validate_choice=False,
    )
    month = StringField(_l("Month"), validators=[Optional(), Length(max=7)])
    quarter = SelectField(_l("Quarter"), choices=[], validate_choice=False)
    year = SelectField(_l("Year"), choices=[], validate_choice=False)
    date_from = StringField(_l("From"), validators=[Optional(), Length(max=10)])
    date_to = StringField(_l("To"), validators=[Optional(), Length(max=10)])
    survey_period = SelectField(_l("Survey period"), choices=[], validate_choice=False)
    instrument = SelectField(_l("Questionnaire"), choices=[], validate_choice=False)

    #: The inputs each kind of period shows.
    FIELDS_BY_KIND = {
        "month": ("month",),
        "quarter": ("quarter",),
        "year": ("year",),
        "custom": ("date_from", "date_to"),
        "survey": ("survey_period",),
    }

    def visible_fields(self) -> list[Any]:
        """The inputs of the kind shown (after a bad kind: none, only the kind)."""
        names = self.FIELDS_BY_KIND.get(str(self.period.data or ""), ())
        return [getattr(self, name) for name in names]


class CommentFilterForm(FlaskForm):
    """Filters of the comments page (GET)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("all", _l("All comments")),
            SelectChoice("unhandled", _l("Not handled yet")),
            SelectChoice("handled", _l("Handled")),
        ],
        default="all",
        validate_choice=False,
    )
    counter = SelectField(_l("Counter"), choices=[], validate_choice=False)
    field = SelectField(_l("Field of procedure"), choices=[], validate_choice=False)
    q = StringField(_l("Words in the comment"), validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)])


class CommentReviewForm(FlaskForm):
    """Mark one comment handled (with an optional note) or unhandled again."""

    action = HiddenField()
    note = StringField(
        _l("What was done (optional; no personal data)"),
        validators=[Optional(), Length(max=MAX_REVIEW_NOTE_LENGTH)],
    )
    #: The comments page to return to (its query string, checked before use).
    back = HiddenField()


class CounterForm(FlaskForm):
    name_vi = StringField(
        _l("Name in Vietnamese"),
        validators=[DataRequired(_l("Enter the counter's name in Vietnamese")), Length(max=MAX_NAME_LENGTH)],
    )
    name_en = StringField(_l("Name in English (optional)"), validators=[Optional(), Length(max=MAX_NAME_LENGTH)])
    instrument = SelectField(_l("Questionnaire citizens answer at this counter"), coerce=int, choices=[])
    #: Shown to citizens beside the counter's name (in their language); the choices are the fields of procedure.
    field = SelectField(_l("Field of procedures this counter serves (optional)"), choices=[], validate_choice=False)


class KioskForm(FlaskForm):
    """Kiosk mode of one counter: a tablet on its desk takes answers through a link of its own."""

    enabled = BooleanField(_l("A tablet at this counter takes answers (kiosk mode)"))
    reset_seconds = StringField(
        _l("Seconds before the tablet shows a fresh form (after the thank-you page, or without a touch)"),
        validators=[
            DataRequired(_l("Enter the number of seconds")),
            Regexp(
                r"^[0-9]{1,3}$",
                message=_l(
                    "Enter a whole number of seconds from %(min)d to %(max)d", min=KIOSK_RESET_MIN, max=KIOSK_RESET_MAX
                ),
            ),
        ],
    )


_TOO_LONG = _l("At most %(max)d characters")


class FeedbackChannelForm(FlaskForm):
    """Where citizens of the agency can take a complaint or a suggestion (shown on the thank-you page)."""

    channel_vi = TextAreaField(
        _l("In Vietnamese"),
        validators=[Optional(), Length(max=FEEDBACK_MAX_LENGTH)],
        filters=[lambda v: v.strip() if v else v],
    )
    channel_en = TextAreaField(
        _l("In English (optional)"),
        validators=[Optional(), Length(max=FEEDBACK_MAX_LENGTH)],
        filters=[lambda v: v.strip() if v else v],
    )
    url = StringField(
        _l("Address of the agency's feedback page (optional, beginning with https://)"),
        validators=[Optional(), Length(max=FEEDBACK_URL_MAX_LENGTH)],
    )


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
