"""The split questionnaire on the citizen's page: the server's criteria only, kept through PRG and replays.

The demo seeds counters with ``sipas-2022-short`` (6 of 19 criteria per citizen, and the overall question).
"""

from __future__ import annotations

import re
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.db import db
from survey.models import Answer, Counter, Response
from survey.services.administration.instruments import instrument_rules
from survey.services.submissions.links import counter_survey_path
from tests.conftest import hidden_fields
from tests.public.helpers import followed, sent_back

pytestmark = pytest.mark.usefixtures("demo")


def _short_counter() -> Counter:
    return next(
        c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == "sipas-2022-short"
    )


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Response)) or 0


def _asked(client: FlaskClient, counter: Counter, submission_id: str) -> frozenset[str]:
    design = instrument_rules(counter.instrument).rotation
    assert design is not None
    return design.assign(client.application.config["SECRET_KEY"], uuid.UUID(submission_id)).codes


def _page(client: FlaskClient, counter: Counter) -> tuple[str, str, dict[str, str]]:
    path = counter_survey_path(client.application.config, counter)
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return path, html, hidden_fields(html)


def _answers(asked: frozenset[str], score: str = "4") -> dict[str, str]:
    return {f"q_{code}": score for code in sorted(asked)} | {"respondent_type": "person", "adult": "y"}


def test_the_page_shows_only_the_criteria_the_server_assigned_to_its_submission_id(client: FlaskClient) -> None:
    counter = _short_counter()
    _path, html, hidden = _page(client, counter)
    asked = _asked(client, counter, hidden["submission_id"])
    assert len(asked) == 6
    shown = set(re.findall(r'<fieldset class="q scale[^"]*" id="q_([a-z0-9_]+)"', html))
    assert shown == asked
    # Every element is rated: 6 criteria over the 5 elements (one or two each).
    assert html.count('<section class="element"><h2>') == 5 + 1
    # At most 8 questions with the respondent type: 6 ratings, the overall question, who is answering.
    assert len(re.findall(r'<fieldset class="q', html)) - 2 == 6 + 1 + 1  # less gender and age, folded away
    assert 'id="overall"' in html and "data-rotated" in html
    assert "mỗi người chỉ được hỏi một vài câu khác nhau trong số 19 câu hỏi" in html
    assert '<details class="more"><summary>Thêm thông tin về ông/bà và thủ tục (không bắt buộc)</summary>' in html
    assert html.count("<h1>") == 1


def test_a_complete_no_js_post_stores_the_assigned_answers_the_mask_and_the_overall(client: FlaskClient) -> None:
    counter = _short_counter()
    path, _html, hidden = _page(client, counter)
    asked = _asked(client, counter, hidden["submission_id"])
    before = _count()
    posted = client.post(path, data={**hidden, **_answers(asked), "overall": "5"})
    assert posted.status_code == 303 and posted.headers["Location"].endswith("/thanks")
    response = db.session.scalar(select(Response).where(Response.submission_id == uuid.UUID(hidden["submission_id"])))
    assert response is not None and _count() == before + 1
    design = instrument_rules(counter.instrument).rotation
    assert design is not None
    assert response.asked_mask == design.mask(asked) and design.codes_of(response.asked_mask) == asked
    assert response.overall_score == 5
    answered = {a.item_id for a in db.session.scalars(select(Answer).where(Answer.response_id == response.id))}
    assert answered == {item.id for item in counter.instrument.items if item.code in asked}
    # A replay (double tap, the offline queue) gets the same assignment and stores nothing new.
    again = client.post(path, data={**hidden, **_answers(asked), "overall": "5"})
    assert again.headers["Location"].endswith("/thanks") and _count() == before + 1


@pytest.mark.parametrize("complete", [True, False])
def test_an_answer_to_a_criterion_not_assigned_is_refused_with_a_message(client: FlaskClient, complete: bool) -> None:
    counter = _short_counter()
    path, _html, hidden = _page(client, counter)
    asked = _asked(client, counter, hidden["submission_id"])
    other = next(item.code for item in counter.instrument.items if item.code not in asked)
    data = {**hidden, **_answers(asked), f"q_{other}": "5"}
    if not complete:  # the form path (a missing answer) refuses it too, rather than sending the form back
        del data[f"q_{sorted(asked)[0]}"]
    before = _count()
    refused = client.post(path, data=data)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Không thể gửi phiếu này" in html and "câu hỏi không được hỏi" in html
    assert _count() == before


def test_a_form_sent_back_keeps_its_criteria_and_is_then_stored(client: FlaskClient) -> None:
    counter = _short_counter()
    path, _html, hidden = _page(client, counter)
    asked = _asked(client, counter, hidden["submission_id"])
    first, *rest = sorted(asked)
    data = {**hidden, **_answers(asked)}
    del data[f"q_{first}"]
    posted = client.post(path, data=data)
    assert sent_back(posted)
    page = followed(client, posted)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert set(re.findall(r'<fieldset class="q scale[^"]*" id="q_([a-z0-9_]+)"', html)) == asked
    assert f'href="#q_{first}-0"' in html and '<details class="more" open>' in html
    fresh = hidden_fields(html)
    assert fresh["submission_id"] == hidden["submission_id"]
    before = _count()
    stored = client.post(path, data={**data, **fresh, f"q_{first}": "3"})
    assert stored.headers["Location"].endswith("/thanks") and _count() == before + 1


def test_the_english_page_and_the_script_path_ask_the_same_criteria(client: FlaskClient) -> None:
    counter = _short_counter()
    path = counter_survey_path(client.application.config, counter)
    html = client.get(path + "?lang=en").get_data(as_text=True)
    hidden = hidden_fields(html)
    asked = _asked(client, counter, hidden["submission_id"])
    assert "each person is asked a different few of the 19 questions" in html
    # survey.js posts the same fields with fetch (Sec-Fetch-Mode: cors) and follows the redirect.
    posted = client.post(path, data={**hidden, **_answers(asked)}, headers={"Sec-Fetch-Mode": "cors"})
    assert posted.status_code == 303 and posted.headers["Location"].endswith("/thanks")
