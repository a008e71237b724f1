"""The submission shortcut reads a complete, valid form exactly as the WTForms form path would.

``read_complete_form`` may only say "not sure" (None); whenever it answers, the form path must accept the
same posted fields and produce the same submission. Hypothesis searches for a counterexample across
valid, missing, forged and edge-case values of every field.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from survey.db import db
from survey.models import Counter, Instrument, ProcedureField, Response
from survey.models.codes import AGE_BANDS, EDUCATION_LEVELS, GENDERS, OCCUPATIONS
from survey.public import views
from survey.public.complete_form import read_complete_form
from survey.public.forms import build_survey_form
from survey.services.administration.directory import counter_ref
from survey.services.administration.instruments import instrument_rules
from survey.services.submissions.links import counter_survey_path
from survey.services.submissions.store import Submission, SubmissionError, store_submission
from tests.conftest import hidden_fields
from tests.public.helpers import followed, sent_back

pytestmark = pytest.mark.usefixtures("demo")

SECRET = "test-secret"
_ODD = ["", " ", "0", "6", "na", "NA", "4 ", "x", "\x00", "1e0", "٤"]  # near-misses of valid choices


def _instruments() -> list[Instrument]:
    return list(db.session.scalars(select(Instrument).order_by(Instrument.id)))


def _valid(instrument: Instrument, field_codes: list[str]) -> dict[str, st.SearchStrategy[str | None]]:
    """A strategy per posted field that only draws values a browser showing the form can send."""
    levels = [str(v) for v, _ in instrument.scale_levels("vi")]
    valid: dict[str, st.SearchStrategy[str | None]] = {
        f"q_{item.code}": st.sampled_from(levels + (["na"] if item.allows_na else []) + ([""] if item.optional else []))
        for item in instrument.items
    }
    valid.update(
        submission_id=st.builds(str, st.uuids()),
        respondent_type=st.sampled_from(["person", "organisation"]),
        overall=st.sampled_from(["", *levels]),
        adult=st.just("y"),
        website=st.just(""),
        field=st.sampled_from(["", *field_codes]),
        gender=st.sampled_from(["", *GENDERS]),
        age_band=st.sampled_from(["", *AGE_BANDS]),
        education=st.sampled_from(["", *EDUCATION_LEVELS]),
        occupation=st.sampled_from(["", *OCCUPATIONS]),
        comment=st.one_of(st.just(""), st.text(max_size=40), st.sampled_from(["a\r\nb", "x" * 2000])),
        dossier_code=st.sampled_from(["", "000.00.17.H43-250701-0001", " 000.00.17.h43 "]),
    )
    return valid


#: Values no browser showing the form sends, or sends only when something is off.
_ODD_BY_FIELD: dict[str, list[str | None]] = {
    "submission_id": ["", "not-a-uuid", "{12345678-1234-5678-1234-567812345678}", uuid.uuid4().hex, None],
    "respondent_type": ["", "robot", None],
    "adult": ["false", "", "on", "n", None],
    "website": [" ", "http://spam", "x"],
    "comment": [" ", "x" * 2001, "\r\n" * 1001, "gọi 0912345678", "\x00", None],
    "dossier_code": ["  ", "ab c-12", "!!", "A" * 41, None],
}


@st.composite
def posted_forms(draw: st.DrawFn, instrument: Instrument, field_codes: list[str]) -> MultiDict[str, str]:
    """A valid form with a few fields (often none) changed to odd, missing or forged values."""
    valid = _valid(instrument, field_codes)
    data: dict[str, str | None] = {name: draw(strategy) for name, strategy in valid.items()}
    for name in draw(st.lists(st.sampled_from(sorted(valid)), max_size=3, unique=True)):
        data[name] = draw(st.sampled_from(_ODD_BY_FIELD.get(name, _ODD + [None])))
    design = instrument_rules(instrument).rotation
    if design is not None and draw(st.integers(0, 9)) > 0:
        # A split questionnaire's page shows only the criteria assigned to its submission id (mostly so).
        try:
            asked = design.assign(SECRET, uuid.UUID(str(data["submission_id"]))).codes
        except ValueError:
            asked = frozenset()
        data = {k: v for k, v in data.items() if not k.startswith("q_") or k[2:] in asked}
    posted = MultiDict([(k, v) for k, v in data.items() if v is not None])
    if draw(st.integers(0, 9)) == 0:  # a second value for some field: both paths read the first
        posted.add(draw(st.sampled_from(sorted(valid))), draw(st.sampled_from(["", "5", "na", "junk"])))
    return posted


def _form_path(instrument: Instrument, fields: list[ProcedureField], posted: MultiDict[str, str]):  # type: ignore[no-untyped-def]
    """The form path's outcome: "forged: <fields>" (400), "honeypot", "invalid" (422) or the submission."""
    form = build_survey_form(instrument, fields, "vi", posted, SECRET)
    if forged := form.forged_fields():
        return "forged: " + ", ".join(forged)
    if form.unasked_posted:
        return "not asked"
    if form.honeypot_filled():
        return "honeypot"
    if not form.validate():
        return "invalid"
    return form.to_submission(SECRET)


def _agrees(outcome: object, quick: Submission, codes: list[str]) -> bool:
    """Same submission; or the form path's 400 for a field of procedure the service also refuses (400)."""
    if outcome == quick:
        return True
    return outcome == "forged: field" and quick.field_code not in codes


@pytest.mark.parametrize("code", ["sipas-2017", "sipas-2022-services", "sipas-2022-short"])
def test_the_shortcut_never_disagrees_with_the_form_path(app: Flask, code: str) -> None:
    instrument = next(i for i in _instruments() if i.code == code)
    fields = list(db.session.scalars(select(ProcedureField)))
    rules = instrument_rules(instrument)
    codes = [f.code for f in fields]

    answered = []

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(posted=posted_forms(instrument, codes))
    def check(posted: MultiDict[str, str]) -> None:
        with app.test_request_context("/", method="POST", data=posted):
            app.config["WTF_CSRF_ENABLED"] = False  # CSRFProtect checks the token before either path runs
            quick = read_complete_form(rules, posted, SECRET)
            if quick is not None:
                answered.append(quick)
                assert _agrees(_form_path(instrument, fields, posted), quick, codes)

    check()
    assert len(answered) > 40  # the search reached the shortcut's answers, not only its refusals


def test_every_complete_valid_form_takes_the_shortcut(app: Flask) -> None:
    """The shortcut must not quietly give up on the forms it exists for (all answers, N/A, profile, dossier)."""
    fields = list(db.session.scalars(select(ProcedureField)))
    for instrument in _instruments():
        rules = instrument_rules(instrument)
        for score in ("1", "3", "5"):
            submission_id = uuid.uuid4()
            asked = rules.rotation.assign(SECRET, submission_id).codes if rules.rotation else None
            posted = MultiDict(
                {
                    **{
                        f"q_{item.code}": ("na" if item.allows_na and score == "3" else score)
                        for item in instrument.items
                        if asked is None or item.code in asked
                    },
                    "submission_id": str(submission_id),
                    "respondent_type": "organisation",
                    "adult": "y",
                    "website": "",
                    "field": fields[0].code,
                    "gender": "female",
                    "age_band": "60+",
                    "education": "university",
                    "occupation": "retired",
                    "comment": "Cán bộ nhiệt tình\r\n",
                    "dossier_code": "000.00.17.h43-250701-0001",
                }
            )
            with app.test_request_context("/", method="POST", data=posted):
                app.config["WTF_CSRF_ENABLED"] = False
                quick = read_complete_form(rules, posted, SECRET)
                assert quick is not None
                assert quick == _form_path(instrument, fields, posted)


def test_a_valid_post_is_stored_without_building_the_form(
    client: FlaskClient, survey_answers, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    assert counter is not None
    path = counter_survey_path(client.application.config, counter)
    hidden = hidden_fields(client.get(path).get_data(as_text=True))

    def no_form(*_args: object) -> None:
        raise AssertionError("the form path ran for a complete, valid submission")

    monkeypatch.setattr(views, "_survey_form", no_form)
    before = db.session.scalar(select(func.count()).select_from(Response))
    response = client.post(path, data={**hidden, **survey_answers(counter.instrument)})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Response)) == (before or 0) + 1


def test_a_field_code_the_form_would_call_forged_is_refused_by_the_service(app: Flask) -> None:
    """The one place the shortcut defers to the service: it does not know the fields of procedure."""
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    assert counter is not None
    answers: dict[str, int | None] = {item.code: 4 for item in counter.instrument.items}
    before = db.session.scalar(select(func.count()).select_from(Response))
    with pytest.raises(SubmissionError):
        store_submission(
            counter_ref(counter.id), Submission(uuid.uuid4(), answers, field_code=" "), app.config["TIMEZONE"]
        )
    assert db.session.scalar(select(func.count()).select_from(Response)) == before


@pytest.mark.parametrize("adult", ["n", "0", "\x00", "on", "yes", "Y", " y"])
def test_only_the_checkbox_value_confirms_adulthood_on_both_paths(
    client: FlaskClient, survey_answers, adult: str
) -> None:  # type: ignore[no-untyped-def]
    """``adult=n`` (or any value but the "y" the checkbox sends) is refused like a missing confirmation."""
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    assert counter is not None
    instrument = counter.instrument
    fields = list(db.session.scalars(select(ProcedureField)))
    posted = MultiDict(survey_answers(instrument, adult=adult))
    missing = MultiDict(survey_answers(instrument))
    del missing["adult"]
    with client.application.test_request_context("/", method="POST", data=posted):
        client.application.config["WTF_CSRF_ENABLED"] = False
        assert read_complete_form(instrument_rules(instrument), posted, SECRET) is None
        assert _form_path(instrument, fields, posted) == "invalid" == _form_path(instrument, fields, missing)
        form = build_survey_form(instrument, fields, "vi", posted)
        form.validate()
        assert form.adult.errors and 'value="y"' in str(form.adult)  # ticking it again sends "y"
    client.application.config["WTF_CSRF_ENABLED"] = True

    path = counter_survey_path(client.application.config, counter)
    hidden = hidden_fields(client.get(path).get_data(as_text=True))
    before = db.session.scalar(select(func.count()).select_from(Response))
    posted_back = client.post(path, data={**survey_answers(instrument), **hidden, "adult": adult})
    assert sent_back(posted_back)
    refused = followed(client, posted_back)
    assert refused.status_code == 422
    assert "Vui lòng xác nhận ông/bà từ đủ 18 tuổi trở lên" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Response)) == before


def test_the_form_offers_exactly_the_rules_values() -> None:
    """Labels come from the form, values from ``form_rules``: a label without a value (or the reverse) fails
    at import, also under ``python -O``; the rendered choices are the rules' values in their order."""
    from survey.public import forms
    from survey.services.submissions.form_rules import PROFILE, RESPONDENT_TYPES

    assert {name: tuple(v for v, _ in pairs) for name, pairs in forms._PROFILE_CHOICES.items()} == dict(PROFILE)
    assert tuple(v for v, _ in forms._RESPONDENT_TYPES) == RESPONDENT_TYPES
    with pytest.raises(RuntimeError):
        forms._labelled(("a", "b"), {"a": "A"})
    with pytest.raises(RuntimeError):
        forms._labelled(("a",), {"a": "A", "b": "B"})


def test_the_form_path_looks_the_counter_up_once(
    client: FlaskClient, survey_answers, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """An incomplete form falls back to the form path (422) with the look-up the shortcut already made."""
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    assert counter is not None
    path = counter_survey_path(client.application.config, counter)
    hidden = hidden_fields(client.get(path).get_data(as_text=True))
    calls: list[object] = []
    resolve = views.directory.resolve_counter

    def counting(token):  # type: ignore[no-untyped-def]
        calls.append(token)
        return resolve(token)

    monkeypatch.setattr(views.directory, "resolve_counter", counting)
    posted = {**hidden, **survey_answers(counter.instrument)}
    posted.pop("q_" + next(item.code for item in counter.instrument.items if not item.optional))
    response = client.post(path, data=posted)
    assert sent_back(response)
    assert len(calls) == 1
