"""The survey form, built from the counter's instrument so wording and items come from its data file."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TypeAlias

from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from survey.models import Instrument, ProcedureField
from survey.services.administration.instruments import instrument_rules
from survey.services.administration.rotation import RotationDesign
from survey.services.submissions import dossiers
from survey.services.submissions.form_rules import (
    COMMENT_MAX_LENGTH,
    CONFIRMED,
    HONEYPOT,
    ITEM_PREFIX,
    NOT_APPLICABLE,
    PROFILE,
    RESPONDENT_TYPES,
    item_fields,
)
from survey.services.submissions.scrub import normalise_text
from survey.services.submissions.store import Submission

__all__ = ["CONFIRMED", "HONEYPOT", "ITEM_PREFIX", "NOT_APPLICABLE", "SurveyFormBase", "build_survey_form"]


def choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


Label: TypeAlias = "str | LazyString"


def _labelled(values: tuple[str, ...], labels: dict[str, Label]) -> list[tuple[str, Label]]:
    """The choices for ``values`` (the rules' value set, in its order) with their labels.

    Raises (at import, also under ``python -O``) unless every value has a label and every label a value.
    """
    if set(labels) != set(values):
        raise RuntimeError(f"survey form labels {sorted(labels)} do not match the values {sorted(values)}")
    return [(value, labels[value]) for value in values]


#: The labels of the values in ``form_rules``; the values and their order come from there.
_RESPONDENT_TYPES = _labelled(
    RESPONDENT_TYPES, {"person": _l("A citizen"), "organisation": _l("A representative of an organisation")}
)
_PROFILE_CHOICES: dict[str, list[tuple[str, Label]]] = {
    "gender": _labelled(PROFILE["gender"], {"male": _l("Male"), "female": _l("Female"), "other": _l("Other")}),
    "age_band": [(band, band.replace("60+", "> 60")) for band in PROFILE["age_band"]],
    "education": _labelled(
        PROFILE["education"],
        {
            "primary": _l("Primary school"),
            "lower_secondary": _l("Lower secondary school"),
            "upper_secondary": _l("Upper secondary school"),
            "vocational": _l("Vocational training, college"),
            "university": _l("University or higher"),
            "other": _l("Other"),
        },
    ),
    "occupation": _labelled(
        PROFILE["occupation"],
        {
            "retired": _l("Retired"),
            "not_working": _l("Not working"),
            "self_employed": _l("Self-employed, freelance"),
            "student": _l("Student"),
            "private_sector": _l("Private sector"),
            "public_sector": _l("Public sector"),
            "other": _l("Other"),
        },
    ),
}
if set(_PROFILE_CHOICES) != set(PROFILE):
    raise RuntimeError("the survey form must offer exactly the profile questions of form_rules.PROFILE")


class ConfirmationField(BooleanField):
    """A checkbox that counts as ticked only with the value the form sends ("y"), not any non-empty value."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = bool(valuelist) and valuelist[0] == CONFIRMED

    def _value(self) -> str:
        # Re-rendered after a refusal, the box must send "y" when ticked, never the value that was refused.
        return CONFIRMED


def _is_uuid(_form: FlaskForm, field: HiddenField) -> None:
    try:
        uuid.UUID(str(field.data))
    except ValueError:
        raise ValidationError(_l("The form is damaged. Reload the page and answer again.")) from None


def _dossier_shape(_form: FlaskForm, field: StringField) -> None:
    if field.data and not dossiers.is_valid(field.data):
        raise ValidationError(
            _l(
                "Enter the dossier code as printed on your receipt, for example 000.00.17.H43-250701-0001 "
                "(letters, digits, dots and dashes, at most %(max)d characters), or leave it empty",
                max=dossiers.MAX_LENGTH,
            )
        )


def _text(value: str | None) -> str | None:
    return None if value is None else normalise_text(value)


class SurveyFormBase(FlaskForm):
    submission_id = HiddenField(validators=[InputRequired(), _is_uuid])
    #: Required, and nothing is chosen in advance: every response records who answered (the column and the
    #: exports always hold it), so the citizen says it, rather than a default saying it for them.
    respondent_type = RadioField(
        _l("You are answering as"),
        choices=choices(_RESPONDENT_TYPES),
        validators=[InputRequired(message=_l("Select whether you are a citizen or represent an organisation"))],
    )
    #: The counter tablet's one-tap first screen (kiosk mode only; choices are the questionnaire's scale).
    overall = RadioField(_l("Overall, how satisfied are you with the service today?"), validators=[Optional()])
    field = SelectField(_l("Field of the procedure (optional)"), validators=[Optional()])
    gender = RadioField(_l("Gender (optional)"), validators=[Optional()])
    age_band = RadioField(_l("Age (optional)"), validators=[Optional()])
    education = SelectField(_l("Education (optional)"), validators=[Optional()])
    occupation = SelectField(_l("Occupation (optional)"), validators=[Optional()])
    comment = TextAreaField(
        _l("Other comments (optional)"),
        filters=[_text],
        validators=[
            Optional(),
            Length(max=COMMENT_MAX_LENGTH, message=_l("Comments can be at most %(max)d characters long")),
        ],
    )
    dossier_code = StringField(
        _l("Dossier code on your receipt (optional)"),
        filters=[dossiers.normalise],
        validators=[Optional(), _dossier_shape],
    )
    website = StringField(_l("Leave this field empty"))
    adult = ConfirmationField(
        _l("I am 18 years old or older"),
        validators=[DataRequired(message=_l("Confirm that you are 18 years old or older"))],
    )

    item_fields: list[tuple[str, list[str]]]  # (element name, [field names]) for the template
    #: A rotated questionnaire: the criteria the server assigned to this form's submission id (None: all).
    asked: frozenset[str] | None = None
    #: Asked of the citizen on a phone too: the overall question of a rotated questionnaire that declares it.
    asks_overall: bool = False
    #: Item fields posted with an answer although the server did not assign them (a forged or stale form).
    unasked_posted: tuple[str, ...] = ()

    def item_field_names(self) -> list[str]:
        return [name for _, names in self.item_fields for name in names]

    def page_order(self, kiosk: bool = False) -> list[Field]:
        """The visible fields in the order the survey page shows them (for the error summary)."""
        overall = ["overall"] if kiosk or self.asks_overall else []
        names = [*overall, *self.item_field_names(), "respondent_type", "dossier_code"]
        names += ["field", "gender", "age_band", "education", "occupation", "comment", "adult"]
        return [self[name] for name in names]

    def honeypot_filled(self) -> bool:
        return bool((self[HONEYPOT].data or "").strip())

    def forged_fields(self) -> list[str]:
        """Fields no browser showing our form can send: a value outside the choices, a bad submission id."""
        forged = []
        try:
            uuid.UUID(str(self.submission_id.data))
        except ValueError:
            forged.append(self.submission_id.name)
        for f in self:
            if isinstance(f, RadioField | SelectField) and f.raw_data and f.raw_data[0] not in ("", None):
                allowed = {str(value) for value, *_ in f.choices}
                if f.raw_data[0] not in allowed:
                    forged.append(f.name)
        return forged

    def to_submission(self, secret_key: str) -> Submission:
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
            dossier_hash=dossiers.dossier_hash(secret_key, self.dossier_code.data) if self.dossier_code.data else None,
            overall_score=int(self.overall.data) if self.overall.data else None,
        )


#: Form classes per (instrument id, content digest, locale): an instrument's content never changes under
#: one digest, and building 20-odd radio groups (with their item and element loads) on every request
#: was a large share of a submission's cost.
_FORM_CLASSES: dict[tuple[int, str, str], tuple[type[SurveyFormBase], list[tuple[str, list[str]]]]] = {}


def _form_class(instrument: Instrument, locale: str) -> tuple[type[SurveyFormBase], list[tuple[str, list[str]]]]:
    key = (instrument.id, instrument.content_digest, locale)
    cached = _FORM_CLASSES.get(key)
    if cached is not None:
        return cached
    attrs: dict[str, object] = {}
    groups: list[tuple[str, list[str]]] = []
    labels = dict(instrument.scale_levels(locale))
    fields = {item.code: item for item in item_fields(instrument_rules(instrument))}
    for element in instrument.elements:
        names = []
        for item in element.items:
            rule = fields[item.code]
            options = [
                (value, instrument.not_applicable_label(locale) if score is None else labels[score])
                for value, score in rule.scores.items()
            ]
            validators = (
                [InputRequired(message=_l("Select how satisfied you were with: %(item)s", item=item.text(locale)))]
                if rule.required
                else [Optional()]
            )
            attrs[rule.name] = RadioField(item.text(locale), choices=choices(options), validators=validators)
            names.append(rule.name)
        groups.append((element.name(locale), names))
    cached = (type("SurveyForm", (SurveyFormBase,), attrs), groups)
    _FORM_CLASSES[key] = cached
    return cached


def build_survey_form(
    instrument: Instrument,
    fields: list[ProcedureField],
    locale: str,
    formdata: object | None = None,
    secret_key: str | None = None,
) -> SurveyFormBase:
    """A form with one radio group per item of ``instrument``, instantiated on ``formdata``.

    For a rotated questionnaire only the criteria the server assigns to the form's submission id (from
    ``secret_key``, the app's secret key when not given) are kept: the others are removed from the form, so
    they are neither shown nor validated, and an answer posted to one is listed in ``unasked_posted``.
    """
    form_class, groups = _form_class(instrument, locale)
    form: SurveyFormBase = form_class(formdata=formdata) if formdata is not None else form_class()
    form.item_fields = groups
    profile = _PROFILE_CHOICES
    not_stated: list[tuple[str, Label]] = [("", _l("Not stated"))]
    form.field.choices = choices([*not_stated, *((f.code, f.name(locale)) for f in fields)])
    form.overall.choices = choices((str(score), label) for score, label in instrument.scale_levels(locale))
    form.gender.choices = choices(profile["gender"])
    form.age_band.choices = choices(profile["age_band"])
    form.education.choices = choices(not_stated + profile["education"])
    form.occupation.choices = choices(not_stated + profile["occupation"])
    if formdata is None:
        # A new page view gets a new id; a posted form keeps its own (a missing one is a damaged form).
        form.submission_id.data = str(uuid.uuid4())
    design = instrument_rules(instrument).rotation
    if design is not None:
        _keep_assigned(form, design, secret_key or current_app.config["SECRET_KEY"], formdata)
    return form


def _keep_assigned(form: SurveyFormBase, design: RotationDesign, secret_key: str, formdata: object | None) -> None:
    """Keep only the criteria assigned to the form's submission id (a damaged id keeps all: it is refused)."""
    try:
        submission_id = uuid.UUID(str(form.submission_id.data))
    except ValueError:
        return
    asked = design.assign(secret_key, submission_id).codes
    form.asked = asked
    form.asks_overall = design.overall
    keep = {ITEM_PREFIX + code for code in asked}
    posted = formdata if isinstance(formdata, Mapping) else {}
    form.unasked_posted = tuple(
        name for name in form.item_field_names() if name not in keep and (posted.get(name) or "")
    )
    for name in form.item_field_names():
        if name not in keep:
            del form[name]
    form.item_fields = [(element, [n for n in names if n in keep]) for element, names in form.item_fields]
    form.item_fields = [(element, names) for element, names in form.item_fields if names]


def prefill_dossier_code(form: SurveyFormBase, raw: str | None) -> None:
    """Put a dossier code from the URL (``?ma=``, printed in a receipt's QR code) in the field."""
    if raw and not form.dossier_code.data:
        form.dossier_code.data = dossiers.normalise(raw)[: dossiers.MAX_LENGTH + 20]
