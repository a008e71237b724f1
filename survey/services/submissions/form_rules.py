"""The survey form's rules, defined once: its items and the values each accepts, the profile value sets, the limits.

Both ways a survey POST is read derive from this module: the WTForms form the page renders and
validates (``survey/public/forms.py``, which adds only the labels) and the submission path's shortcut
(``survey/public/complete_form.py``); :func:`check_answers` holds a parsed submission to the same item
rules in the service. The profile and respondent values are the model's code lists, the ones the
database's check constraints allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from survey.models.codes import AGE_BANDS, EDUCATION_LEVELS, GENDERS, OCCUPATIONS, RESPONDENT_TYPES
from survey.models.response import COMMENT_MAX_LENGTH
from survey.services.administration.instruments import InstrumentRules
from survey.services.submissions.dossiers import MAX_LENGTH as DOSSIER_MAX_LENGTH

__all__ = [
    "COMMENT_MAX_LENGTH",
    "CONFIRMED",
    "DOSSIER_MAX_LENGTH",
    "HONEYPOT",
    "ITEM_PREFIX",
    "NOT_APPLICABLE",
    "PROFILE",
    "RESPONDENT_TYPES",
    "ItemField",
    "SubmissionError",
    "check_answers",
    "item_fields",
]

#: The posted value of "not applicable" for an item that allows it.
NOT_APPLICABLE = "na"
#: An item's field is named by its code after this prefix.
ITEM_PREFIX = "q_"
#: Name of the honeypot field: hidden from people (and screen readers), filled in by naive bots.
HONEYPOT = "website"
#: The value the adult-confirmation checkbox sends when ticked; no other value confirms.
CONFIRMED = "y"
#: The optional profile questions and the values each accepts ('' or no field is "not stated").
PROFILE: Mapping[str, tuple[str, ...]] = {
    "gender": GENDERS,
    "age_band": AGE_BANDS,
    "education": EDUCATION_LEVELS,
    "occupation": OCCUPATIONS,
}


class SubmissionError(ValueError):
    """The submission does not fit the counter's instrument (a forged or stale form).

    ``reason`` is a fixed code (``unknown_field``, ``unknown_item``, ``not_assigned``, ``missing_item``,
    ``na_not_allowed``, ``score_outside_scale``): the one thing logged about a refusal, never a value the
    citizen posted.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ItemField:
    """One item's radio group: its posted name, whether it must be answered and the values it accepts."""

    code: str
    name: str
    required: bool
    allows_na: bool
    #: Posted value → score, in the order the choices are shown ("1" → 1 …, then "na" → None if allowed).
    scores: Mapping[str, int | None]


@cache
def _scale(n_levels: int) -> dict[str, int | None]:
    """The choice → score map of an ``n_levels``-point scale ("1" → 1 …); levels are numbered 1, 2, … in order."""
    return {str(level): level for level in range(1, n_levels + 1)}


#: Item fields per rules object. Rules are built once per instrument digest and kept for the process
#: (``instrument_rules``), so the entry holds the rules itself and is found by identity.
_FIELDS: dict[int, tuple[InstrumentRules, tuple[ItemField, ...]]] = {}


def item_fields(rules: InstrumentRules) -> tuple[ItemField, ...]:
    """The item fields of ``rules``' instrument, in the order of its items (built once per rules)."""
    cached = _FIELDS.get(id(rules))
    if cached is not None and cached[0] is rules:
        return cached[1]
    scale = _scale(rules.n_levels)
    fields = tuple(
        ItemField(
            code=code,
            name=ITEM_PREFIX + code,
            required=not item.optional,
            allows_na=item.allows_na,
            scores={**scale, NOT_APPLICABLE: None} if item.allows_na else scale,
        )
        for code, item in rules.items.items()
    )
    _FIELDS[id(rules)] = (rules, fields)
    return fields


def check_answers(
    rules: InstrumentRules, answers: Mapping[str, int | None], asked: frozenset[str] | None = None
) -> None:
    """Raise :class:`SubmissionError` unless ``answers`` fit the instrument (items, required, N/A, scale).

    ``asked``: the criteria the server assigned (a rotated questionnaire); an answer to any other is refused
    and only the assigned ones are required. None: every criterion was asked.
    """
    fields = item_fields(rules)
    unknown = sorted(set(answers) - set(rules.items))
    if unknown:
        raise SubmissionError("unknown_item", f"unknown item {unknown[0]!r} for {rules.label}")
    if asked is not None:
        not_asked = sorted(set(answers) - asked)
        if not_asked:
            raise SubmissionError("not_assigned", f"item {not_asked[0]!r} was not asked of this respondent")
    for item in fields:
        if asked is not None and item.code not in asked:
            continue
        if item.code not in answers:
            if item.required:
                raise SubmissionError("missing_item", f"item {item.code!r} is required")
            continue
        score = answers[item.code]
        if score is None:
            if not item.allows_na:
                raise SubmissionError("na_not_allowed", f"item {item.code!r} does not allow 'not applicable'")
        elif not 1 <= score <= rules.n_levels:
            raise SubmissionError("score_outside_scale", f"item {item.code!r}: score {score} is outside the scale")
