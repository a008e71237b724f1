"""The submission path's shortcut: read a complete, valid survey form without building the WTForms form.

Almost every POST is a citizen's complete, valid form. Binding and validating a WTForms form with 20-odd
radio groups was about a third of a submission's cost, so :func:`read_complete_form` checks the posted
fields directly against the form's rules (``services/submissions/form_rules.py``, which the WTForms form
is built from too) and returns the :class:`Submission` the form would have produced. Anything it is
not sure of (a missing answer, a value outside the choices, a filled honeypot, a malformed dossier
code, an overlong comment) returns None, and the view takes the form path, which renders the
messages, the 400 page or the honeypot's silent thank-you exactly as before. A property test holds the
two paths to the same result on every input.

The counter tablet's overall rating (``overall``, kiosk mode) is read the same way, from the scale's
levels; the view keeps it only for a kiosk link or a rotated questionnaire that asks it.

CSRF is not checked here: ``CSRFProtect`` checks every POST before the view runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import cache

from survey.services.administration.instruments import InstrumentRules
from survey.services.submissions import dossiers
from survey.services.submissions.form_rules import (
    COMMENT_MAX_LENGTH,
    CONFIRMED,
    HONEYPOT,
    PROFILE,
    RESPONDENT_TYPES,
    item_fields,
)
from survey.services.submissions.scrub import normalise_text
from survey.services.submissions.store import Submission

#: The profile questions and the sets of values they accept ('' is "not stated").
_PROFILE = {name: frozenset(values) for name, values in PROFILE.items()}
_RESPONDENT_TYPES = frozenset(RESPONDENT_TYPES)


def read_complete_form(rules: InstrumentRules, form: Mapping[str, str], secret_key: str) -> Submission | None:
    """The submission in a complete, valid survey form, or None when the form path must decide."""
    if (form.get(HONEYPOT) or "").strip():
        return None
    if form.get("adult") != CONFIRMED:  # the form path's ConfirmationField accepts only this value
        return None
    respondent_type = form.get("respondent_type")
    if respondent_type not in _RESPONDENT_TYPES:
        return None
    try:
        submission_id = uuid.UUID(form.get("submission_id") or "")
    except ValueError:
        return None
    profile: dict[str, str | None] = {}
    for name, allowed in _PROFILE.items():
        value = form.get(name) or ""
        if value and value not in allowed:
            return None
        profile[name] = value or None
    # A rotated questionnaire asks the criteria the server assigned to this submission id: only those are
    # read, and an answer to any other sends the form to the form path, which refuses it.
    asked = rules.rotation.assign(secret_key, submission_id).codes if rules.rotation is not None else None
    answers: dict[str, int | None] = {}
    for item in item_fields(rules):
        raw = form.get(item.name) or ""
        if asked is not None and item.code not in asked:
            if raw:
                return None
            continue
        if not raw:
            if item.required:
                return None
            continue
        if raw not in item.scores:
            return None
        answers[item.code] = item.scores[raw]
    overall = form.get("overall") or ""
    if overall and overall not in _scale(rules.n_levels):
        return None
    comment = normalise_text(form.get("comment") or "")
    if len(comment) > COMMENT_MAX_LENGTH:
        return None
    dossier = dossiers.normalise(form.get("dossier_code"))
    if dossier and not dossiers.is_valid(dossier):
        return None
    return Submission(
        submission_id=submission_id,
        answers=answers,
        respondent_type=respondent_type,
        # An unknown field code is refused by the service (400), as the form path refuses a forged choice.
        field_code=form.get("field") or None,
        gender=profile["gender"],
        age_band=profile["age_band"],
        education=profile["education"],
        occupation=profile["occupation"],
        comment=comment or None,
        dossier_hash=dossiers.dossier_hash(secret_key, dossier) if dossier else None,
        overall_score=int(overall) if overall else None,
    )


@cache
def _scale(n_levels: int) -> frozenset[str]:
    """The posted values of a scale's levels ("1" …), as the overall rating's choices are."""
    return frozenset(str(level) for level in range(1, n_levels + 1))
