"""The survey form, built from the counter's instrument so wording and items come from its data file."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from survey.models import Instrument, ProcedureField
from survey.models.codes import AGE_BANDS, EDUCATION_LEVELS, GENDERS, OCCUPATIONS
from survey.models.response import COMMENT_MAX_LENGTH
from survey.services.submissions import Submission

NOT_APPLICABLE = "na"
ITEM_PREFIX = "q_"


def choices(pairs: list[tuple[str, object]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]


def _profile_choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "gender": [("male", _l("Male")), ("female", _l("Female")), ("other", _l("Other"))],
        "age_band": [(band, band.replace("60+", "> 60")) for band in AGE_BANDS],
        "education": [
            ("primary", _l("Primary school")),
            ("lower_secondary", _l("Lower secondary school")),
            ("upper_secondary", _l("Upper secondary school")),
            ("vocational", _l("Vocational training, college")),
            ("university", _l("University or higher")),
            ("other", _l("Other")),
        ],
        "occupation": [
            ("retired", _l("Retired")),
            ("not_working", _l("Not working")),
            ("self_employed", _l("Self-employed, freelance")),
            ("student", _l("Student")),
            ("private_sector", _l("Private sector")),
            ("public_sector", _l("Public sector")),
            ("other", _l("Other")),
        ],
    }


assert {c for c, _ in _profile_choices()["gender"]} == set(GENDERS)
assert {c for c, _ in _profile_choices()["education"]} == set(EDUCATION_LEVELS)
assert {c for c, _ in _profile_choices()["occupation"]} == set(OCCUPATIONS)


def _is_uuid(_form: FlaskForm, field: HiddenField) -> None:
    try:
        uuid.UUID(str(field.data))
    except ValueError:
        raise ValidationError(_l("The form is damaged. Reload the page and answer again.")) from None


class SurveyFormBase(FlaskForm):
    submission_id = HiddenField(validators=[InputRequired(), _is_uuid])
    respondent_type = RadioField(
        _l("You are answering as"),
        choices=choices([("person", _l("A citizen")), ("organisation", _l("A representative of an organisation"))]),
        default="person",
        validators=[InputRequired(message=_l("Select whether you are a citizen or represent an organisation"))],
    )
    field = SelectField(_l("Field of the procedure (optional)"), validators=[Optional()])
    gender = RadioField(_l("Gender (optional)"), validators=[Optional()])
    age_band = RadioField(_l("Age (optional)"), validators=[Optional()])
    education = SelectField(_l("Education (optional)"), validators=[Optional()])
    occupation = SelectField(_l("Occupation (optional)"), validators=[Optional()])
    comment = TextAreaField(
        _l("Other comments (optional)"),
        validators=[
            Optional(),
            Length(max=COMMENT_MAX_LENGTH, message=_l("Comments can be at most %(max)d characters long")),
        ],
    )
    adult = BooleanField(
        _l("I am 18 years old or older"),
        validators=[DataRequired(message=_l("Confirm that you are 18 years old or older"))],
    )

    item_fields: list[tuple[str, list[str]]]  # (element name, [field names]) for the template

    def item_field_names(self) -> list[str]:
        return [name for _, names in self.item_fields for name in names]

    def forged_fields(self) -> list[str]:
        """Radio and select fields whose raw value is not one of their choices: a forged or broken form."""
        forged = []
        for f in self:
            if isinstance(f, RadioField | SelectField) and f.raw_data and f.raw_data[0] not in ("", None):
                allowed = {str(value) for value, *_ in f.choices}  # type: ignore[union-attr]
                if f.raw_data[0] not in allowed:
                    forged.append(f.name)
        return forged

    def to_submission(self) -> Submission:
        answers: dict[str, int | None] = {}
        for name in self.item_field_names():
            value = self[name].data
            if value:
                answers[name.removeprefix(ITEM_PREFIX)] = None if value == NOT_APPLICABLE else int(value)
        return Submission(
            submission_id=uuid.UUID(self.submission_id.data),
            answers=answers,
            respondent_type=self.respondent_type.data,
            field_code=self.field.data or None,
            gender=self.gender.data or None,
            age_band=self.age_band.data or None,
            education=self.education.data or None,
            occupation=self.occupation.data or None,
            comment=self.comment.data or None,
        )


def build_survey_form(
    instrument: Instrument, fields: list[ProcedureField], locale: str, formdata: object | None = None
) -> SurveyFormBase:
    """A form class with one radio group per item of ``instrument``, instantiated on ``formdata``."""
    attrs: dict[str, object] = {}
    groups: list[tuple[str, list[str]]] = []
    levels = [(str(value), label) for value, label in instrument.scale_levels(locale)]
    for element in instrument.elements:
        names = []
        for item in element.items:
            options = levels + ([(NOT_APPLICABLE, instrument.not_applicable_label(locale))] if item.allows_na else [])
            validators = (
                [Optional()]
                if item.optional
                else [InputRequired(message=_l("Select how satisfied you were with: %(item)s", item=item.text(locale)))]
            )
            name = ITEM_PREFIX + item.code
            attrs[name] = RadioField(item.text(locale), choices=choices(options), validators=validators)
            names.append(name)
        groups.append((element.name(locale), names))
    form_class = type("SurveyForm", (SurveyFormBase,), attrs)
    form: SurveyFormBase = form_class(formdata=formdata) if formdata is not None else form_class()
    form.item_fields = groups
    profile = _profile_choices()
    not_stated = [("", _l("Not stated"))]
    form.field.choices = choices(not_stated + [(f.code, f.name(locale)) for f in fields])
    form.gender.choices = choices(profile["gender"])
    form.age_band.choices = choices(profile["age_band"])
    form.education.choices = choices(not_stated + profile["education"])
    form.occupation.choices = choices(not_stated + profile["occupation"])
    if not form.submission_id.data:
        form.submission_id.data = str(uuid.uuid4())
    return form
