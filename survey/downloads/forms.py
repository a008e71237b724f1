"""Forms of the downloads pages. The export form is a POST with CSRF; the PAR report filters are a GET form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

#: Largest sample the form accepts (the export itself has no upper limit).
MAX_SAMPLE = 10_000_000


class ExportForm(FlaskForm):
    format = RadioField(
        _l("File format"),
        choices=[
            SelectChoice("csv", _l("CSV (UTF-8, opens in Excel and any statistics package)")),
            SelectChoice("xlsx", _l("Excel workbook (.xlsx, at most 1,048,575 rows)")),
            SelectChoice("sav", _l("SPSS (.sav, with variable and value labels)")),
            SelectChoice("dta", _l("Stata (.dta, with variable and value labels)")),
        ],
        default="csv",
        validate_choice=False,  # checked in the view, with a translated message
    )
    agency = SelectField(
        _l("Agency (with every agency below it)"),
        choices=[],
        validate_choice=False,
    )
    survey_period = SelectField(_l("Named survey period"), choices=[], validate_choice=False)
    date_from = StringField(_l("From (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])
    date_to = StringField(_l("To (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])
    instrument = SelectField(_l("Questionnaire"), choices=[], validate_choice=False)
    status = RadioField(
        _l("Responses"),
        choices=[
            SelectChoice("valid", _l("Valid responses only")),
            SelectChoice("excluded", _l("Excluded responses only")),
            SelectChoice("all", _l("All responses, with their status and reason for exclusion")),
        ],
        default="valid",
        validate_choice=False,
    )
    comments = BooleanField(_l("Include citizens’ comments (phone numbers, ID numbers and e-mail addresses removed)"))
    sample = StringField(_l("Sample size (optional: leave empty to export every response)"), validators=[Optional()])
    seed = StringField(_l("Random seed (required with a sample)"), validators=[Optional()])
    stratified = BooleanField(_l("Stratify the sample by agency (proportional allocation)"))


class ParReportForm(FlaskForm):
    """Year and questionnaire of the PAR report (read from the query string)."""

    class Meta:
        csrf = False

    year = StringField(_l("Year (YYYY)"), validators=[Optional(), Length(max=4)])
    instrument = SelectField(_l("Questionnaire"), choices=[], validate_choice=False)
