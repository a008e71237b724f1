"""The first vertical slice: QR link → form → one stored response, with CSRF, validation and idempotency."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.db import db
from survey.models import Answer, Counter, Response
from survey.services.submissions.links import counter_survey_path
from survey.services.submissions.tokens import sign_counter
from tests.conftest import hidden_fields
from tests.public.helpers import followed, sent_back

pytestmark = pytest.mark.usefixtures("demo")


def _counter(instrument_code: str = "sipas-2017") -> Counter:
    return next(
        c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == instrument_code
    )


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _form(client: FlaskClient, path: str) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200
    return hidden_fields(page.get_data(as_text=True))


def test_landing_page_is_light_lists_counters_without_qr_codes_and_offers_sign_in_first(client: FlaskClient) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert "<h1>" in html and html.count("<h1>") == 1
    assert "UBND Phường Hoa Lư" in html
    assert "<svg" not in html  # the QR codes are on the posters, not inlined here (the demo's page weighed 844 KB)
    assert counter_survey_path(client.application.config, _counter()) in html
    assert len(response.data) < 40_000
    # Staff sign-in comes straight after the introduction, long before the directory (and again in the footer).
    assert html.index('href="/auth/sign-in"') < html.index("<details>")
    assert html.count("<details>") == html.count("<summary>") >= 20


def test_survey_page_shows_every_item_grouped_by_element_in_vietnamese(client: FlaskClient) -> None:
    counter = _counter()
    html = client.get(counter_survey_path(client.application.config, counter)).get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert html.count("<h1>") == 1
    assert "Ông/bà hài lòng như thế nào?" in html
    for item in counter.instrument.items:
        assert f'id="q_{item.code}"' in html
        assert item.text_vi in html
    assert html.count('<fieldset class="q') == 22 + 3  # items + respondent type, gender, age
    assert html.count("Không áp dụng") == sum(item.allows_na for item in counter.instrument.items)
    assert "Rất không hài lòng" in html and "Rất hài lòng" in html
    assert 'name="csrf_token"' in html


def test_english_switch_uses_the_instruments_own_translation(client: FlaskClient) -> None:
    counter = _counter("sipas-2022-services")
    response = client.get(counter_survey_path(client.application.config, counter) + "?lang=en")
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert counter.instrument.items[0].text_en in html
    assert "Very dissatisfied" in html
    assert "sipas_lang=en" in response.headers["Set-Cookie"]
    # The choice sticks for the next page through the cookie.
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_valid_submission_is_stored_once_with_all_answers(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counter()
    path = counter_survey_path(client.application.config, counter)
    before = _count(Response)
    data = survey_answers(
        counter.instrument,
        **_form(client, path),
        q_q08="na",
        field="ho-tich",
        gender="female",
        comment="Gọi tôi 0912 345 678 nhé",
    )
    response = client.post(path, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(path + "/thanks")
    assert _count(Response) == before + 1
    stored = db.session.scalar(select(Response).order_by(Response.id.desc()))
    assert stored is not None
    assert str(stored.submission_id) == data["submission_id"]
    assert (stored.agency_id, stored.counter_id, stored.instrument_id) == (
        counter.agency_id,
        counter.id,
        counter.instrument_id,
    )
    assert stored.gender == "female" and stored.status == "valid" and stored.collection_mode == "qr"
    assert stored.comment == "Gọi tôi [***] nhé"
    scores = {a.item_id: a.score for a in db.session.scalars(select(Answer).where(Answer.response_id == stored.id))}
    assert len(scores) == 22
    q08 = next(i for i in counter.instrument.items if i.code == "q08")
    assert scores.pop(q08.id) is None
    assert set(scores.values()) == {4}
    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200 and "Xin cảm ơn" in thanks.get_data(as_text=True)


def test_same_submission_id_twice_stores_nothing_new(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counter()
    path = counter_survey_path(client.application.config, counter)
    data = survey_answers(counter.instrument, **_form(client, path))
    first = client.post(path, data=data)
    count = _count(Response)
    answers = _count(Answer)
    again = client.post(path, data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert (_count(Response), _count(Answer)) == (count, answers)


def test_missing_answers_rerender_with_error_summary_and_kept_choices(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counter()
    path = counter_survey_path(client.application.config, counter)
    data = survey_answers(counter.instrument, **_form(client, path), q_q05="2")
    del data["q_q10"], data["adult"]
    before = _count(Response)
    posted = client.post(path, data=data)
    assert sent_back(posted)  # POST/redirect/GET: Back never lands on a resubmission page
    response = followed(client, posted)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _count(Response) == before
    assert re.search(r"<title>Lỗi: ", html)
    assert 'class="error-summary"' in html
    assert 'href="#q_q10-0"' in html and 'href="#adult"' in html
    q10 = next(i for i in counter.instrument.items if i.code == "q10")
    assert f"Vui lòng chọn mức độ hài lòng về: {q10.text_vi}" in html
    assert "Vui lòng xác nhận ông/bà từ đủ 18 tuổi trở lên" in html
    assert 'name="q_q05" value="2" checked>' in html  # answer 2 kept


@pytest.mark.parametrize(
    "forged",
    [{"q_q01": "9"}, {"q_q01": "na"}, {"gender": "robot"}, {"field": "no-such-field"}],
    ids=["score-out-of-range", "na-not-allowed", "unknown-gender", "unknown-field"],
)
def test_forged_values_get_400_and_store_nothing(client: FlaskClient, survey_answers, forged: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    counter = _counter()
    path = counter_survey_path(client.application.config, counter)
    before = _count(Response)
    response = client.post(path, data=survey_answers(counter.instrument, **_form(client, path), **forged))
    assert response.status_code == 400
    assert "Không thể xử lý yêu cầu" in response.get_data(as_text=True)
    assert _count(Response) == before


def test_missing_csrf_token_gets_a_friendly_page_and_stores_nothing(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counter()
    path = counter_survey_path(client.application.config, counter)
    client.get(path)
    before = _count(Response)
    response = client.post(path, data=survey_answers(counter.instrument))
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)
    assert _count(Response) == before


def test_tampered_or_unknown_token_is_404(client: FlaskClient, app: Flask) -> None:
    good = counter_survey_path(app.config, _counter())
    tampered = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    for path in (
        tampered,
        "/s/not-a-token",
        "/s/" + sign_counter("another-secret" * 3, 1, 1),
        "/s/" + sign_counter(app.config["SECRET_KEY"], 999_999, 1),
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Mã QR này không còn sử dụng" in response.get_data(as_text=True)


def test_rotated_key_or_inactive_counter_is_410(client: FlaskClient, app: Flask) -> None:
    counter = _counter()
    old_path = counter_survey_path(app.config, counter)
    counter.key_version += 1
    db.session.commit()
    assert client.get(old_path).status_code == 410
    assert client.get(counter_survey_path(app.config, counter)).status_code == 200
    counter.active = False
    db.session.commit()
    assert client.get(counter_survey_path(app.config, counter)).status_code == 410


def test_oversized_comment_is_refused_with_its_limit(client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counter()
    path = counter_survey_path(client.application.config, counter)
    response = followed(
        client, client.post(path, data=survey_answers(counter.instrument, **_form(client, path), comment="x" * 2001))
    )
    assert response.status_code == 422
    assert "Ý kiến chỉ được dài tối đa 2000 ký tự" in response.get_data(as_text=True)
