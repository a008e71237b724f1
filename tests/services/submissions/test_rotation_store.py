"""The submission service holds a split questionnaire's responses to the criteria the server assigned."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey.db import db
from survey.models import Counter, Response
from survey.services.administration.directory import counter_ref
from survey.services.submissions.store import Submission, SubmissionError, store_submission

pytestmark = pytest.mark.usefixtures("demo")
SECRET = "rotation-test-key"


def _counter(code: str) -> Counter:
    return next(c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == code)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Response)) or 0


def test_assigned_answers_are_stored_with_their_mask_and_a_replay_is_the_same_response(app: Flask) -> None:
    ref = counter_ref(_counter("sipas-2022-short").id)
    assert ref is not None and ref.rules.rotation is not None
    sid = uuid.uuid4()
    asked = ref.rules.rotation.assign(SECRET, sid)
    data = Submission(sid, dict.fromkeys(sorted(asked.codes), 4))
    stored = store_submission(ref, data, app.config["TIMEZONE"], secret_key=SECRET)
    response = db.session.get(Response, stored.response_id)
    assert response is not None and response.asked_mask == asked.mask
    again = store_submission(ref, data, app.config["TIMEZONE"], secret_key=SECRET)
    assert again.response_id == stored.response_id and not again.created


@pytest.mark.parametrize("case", ["not_assigned", "missing_item"])
def test_answers_outside_the_assignment_or_missing_from_it_store_nothing(app: Flask, case: str) -> None:
    ref = counter_ref(_counter("sipas-2022-short").id)
    assert ref is not None and ref.rules.rotation is not None
    sid = uuid.uuid4()
    asked = sorted(ref.rules.rotation.assign(SECRET, sid).codes)
    answers: dict[str, int | None] = dict.fromkeys(asked, 4)
    if case == "not_assigned":
        answers[next(code for code in ref.rules.items if code not in asked)] = 5
    else:
        del answers[next(code for code in asked if not ref.rules.items[code].allows_na)]
    before = _count()
    with pytest.raises(SubmissionError) as info:
        store_submission(ref, Submission(sid, answers), app.config["TIMEZONE"], secret_key=SECRET)
    assert info.value.reason == case
    assert _count() == before


def test_another_key_assigns_other_criteria(app: Flask) -> None:
    ref = counter_ref(_counter("sipas-2022-short").id)
    assert ref is not None and ref.rules.rotation is not None
    sid = uuid.uuid4()
    mine = ref.rules.rotation.assign(SECRET, sid).codes
    theirs = next(
        codes
        for i in range(50)
        if (codes := ref.rules.rotation.assign(f"{SECRET}-{i}", sid).codes) != mine  # a draw another key makes
    )
    # Answers chosen for another key's draw are refused under ours: the client cannot pick its criteria.
    with pytest.raises(SubmissionError):
        store_submission(ref, Submission(sid, dict.fromkeys(theirs, 4)), app.config["TIMEZONE"], secret_key=SECRET)


def test_a_questionnaire_without_rotation_stores_no_mask(app: Flask) -> None:
    ref = counter_ref(_counter("sipas-2017").id)
    assert ref is not None and ref.rules.rotation is None
    stored = store_submission(ref, Submission(uuid.uuid4(), dict.fromkeys(ref.rules.items, 4)), app.config["TIMEZONE"])
    response = db.session.get(Response, stored.response_id)
    assert response is not None and response.asked_mask is None
