"""Submission integrity: honeypot, forged ids, dossier codes, CSRF recovery, rate limits, bursts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from survey.db import db
from survey.extensions import limiter
from survey.models import Counter, Response
from survey.services.submissions.dossiers import dossier_hash
from survey.services.submissions.links import counter_survey_path
from tests.conftest import app_in_transaction, hidden_fields
from tests.public.helpers import followed


def _counters(instrument_code: str = "sipas-2017") -> list[Counter]:
    return [c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == instrument_code]


def _count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _post(client: FlaskClient, counter: Counter, survey_answers, **extra: str):  # type: ignore[no-untyped-def]
    path = counter_survey_path(client.application.config, counter)
    form = hidden_fields(client.get(path).get_data(as_text=True))
    return followed(client, client.post(path, data=survey_answers(counter.instrument, **{**form, **extra})))


@pytest.mark.usefixtures("demo")
class TestSurveyIntegrity:
    def test_honeypot_looks_accepted_but_stores_nothing(self, client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
        counter = _counters()[0]
        before = _count(Response)
        response = _post(client, counter, survey_answers, website="http://spam.example")
        assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
        assert _count(Response) == before

    def test_honeypot_is_hidden_from_people_and_screen_readers(self, client: FlaskClient) -> None:
        html = client.get(counter_survey_path(client.application.config, _counters()[0])).get_data(as_text=True)
        assert re.search(r'<div class="hp" aria-hidden="true">.*?tabindex="-1" autocomplete="off">', html)

    @pytest.mark.parametrize("bad_id", ["", "not-a-uuid", "1" * 300], ids=["empty", "garbage", "long"])
    def test_damaged_submission_id_is_400(self, client: FlaskClient, survey_answers, bad_id: str) -> None:  # type: ignore[no-untyped-def]
        before = _count(Response)
        assert _post(client, _counters()[0], survey_answers, submission_id=bad_id).status_code == 400
        assert _count(Response) == before

    def test_control_characters_in_a_comment_are_dropped_not_a_500(self, client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
        response = _post(client, _counters()[0], survey_answers, comment="Tốt\x00 lắm\x07\r\nCảm ơn")
        assert response.status_code == 303
        stored = db.session.scalar(select(Response).order_by(Response.id.desc()))
        assert stored is not None and stored.comment == "Tốt lắm\nCảm ơn"

    def test_comment_limit_counts_a_line_break_once(self, client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
        comment = ("a" * 99 + "\r\n") * 20  # 2,000 characters as typed, 2,020 as a browser sends them
        assert _post(client, _counters()[0], survey_answers, comment=comment).status_code == 303


@pytest.mark.usefixtures("demo")
class TestDossierCode:
    def test_code_from_the_url_is_prefilled_normalised(self, client: FlaskClient) -> None:
        path = counter_survey_path(client.application.config, _counters()[0])
        html = client.get(path + "?ma=h43.22-250701-0001%20").get_data(as_text=True)
        assert 'name="dossier_code"' in html and 'value="H43.22-250701-0001"' in html

    def test_only_a_keyed_hash_is_stored_and_a_second_rating_is_refused(
        self, client: FlaskClient, app: Flask, survey_answers
    ) -> None:  # type: ignore[no-untyped-def]
        first, second = _counters()[0], next(c for c in _counters() if c.agency_id == _counters()[0].agency_id)
        code = "000.00.17.H43-250701-0001"
        assert _post(client, first, survey_answers, dossier_code=code.lower()).status_code == 303
        stored = db.session.scalar(select(Response).order_by(Response.id.desc()))
        assert stored is not None
        assert stored.dossier_hash == dossier_hash(app.config["SECRET_KEY"], code) != dossier_hash("x" * 40, code)
        assert code not in str(stored.dossier_hash) and len(stored.dossier_hash or "") == 64
        before = _count(Response)
        again = _post(client, second, survey_answers, dossier_code=" " + code + " ")
        html = again.get_data(as_text=True)
        assert again.status_code == 409
        assert "Hồ sơ này đã được đánh giá" in html and 'href="#dossier_code"' in html
        assert re.search(r"<title>Lỗi: ", html)
        assert _count(Response) == before

    def test_the_same_code_may_be_rated_at_another_agency(self, client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
        counters = _counters()
        other = next(c for c in counters if c.agency_id != counters[0].agency_id)
        assert _post(client, counters[0], survey_answers, dossier_code="H43-0001").status_code == 303
        assert _post(client, other, survey_answers, dossier_code="H43-0001").status_code == 303

    def test_replaying_the_same_submission_with_its_code_is_still_idempotent(
        self, client: FlaskClient, survey_answers
    ) -> None:  # type: ignore[no-untyped-def]
        counter = _counters()[0]
        path = counter_survey_path(client.application.config, counter)
        data = survey_answers(counter.instrument, **hidden_fields(client.get(path).get_data(as_text=True)))
        data["dossier_code"] = "H43-0002"
        assert client.post(path, data=data).status_code == 303
        before = _count(Response)
        assert client.post(path, data=data).status_code == 303
        assert _count(Response) == before

    @pytest.mark.parametrize("code", ["ab", "H43 0001 <script>", "x" * 41, "-H43-0001"], ids=str)
    def test_a_malformed_code_is_a_field_error(self, client: FlaskClient, survey_answers, code: str) -> None:  # type: ignore[no-untyped-def]
        response = _post(client, _counters()[0], survey_answers, dossier_code=code)
        assert response.status_code == 422
        assert "Vui lòng nhập mã hồ sơ đúng như trên giấy tiếp nhận" in response.get_data(as_text=True)


@pytest.mark.usefixtures("demo")
def test_csrf_failure_shows_the_form_again_with_the_answers_and_a_new_token(
    client: FlaskClient, survey_answers
) -> None:  # type: ignore[no-untyped-def]
    counter = _counters()[0]
    path = counter_survey_path(client.application.config, counter)
    client.get(path)
    data = survey_answers(counter.instrument, q_q05="2", comment="Nhanh gọn", csrf_token="stale")
    before = _count(Response)
    response = client.post(path, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert _count(Response) == before
    assert re.search(r"<title>Lỗi: ", html) and "Phiên làm việc đã hết hạn" in html
    assert 'name="q_q05" value="2" checked>' in html and "Nhanh gọn</textarea>" in html
    fresh = hidden_fields(html)
    assert fresh["csrf_token"] not in ("", "stale") and fresh["submission_id"] == data["submission_id"]
    # Sending the kept answers with the new token works.
    assert client.post(path, data={**data, **fresh}).status_code == 303
    assert _count(Response) == before + 1


@pytest.fixture
def limited_app(migrated_engine: Engine, database_url: str) -> Iterator[Flask]:
    overrides = {"RATELIMIT_ENABLED": True, "SUBMIT_RATE_LIMIT": "3 per minute", "COUNTER_RATE_LIMIT": "2 per minute"}
    with app_in_transaction(migrated_engine, database_url, **overrides) as app:
        limiter.reset()
        yield app
    limiter.reset()


@pytest.fixture
def limited_demo(limited_app: Flask):  # type: ignore[no-untyped-def]
    import datetime as dt

    from survey.services.operations.demo import seed_demo

    return seed_demo(db.session, 0, seed=7, append=False, end_month=dt.date(2026, 10, 1), timezone="Asia/Ho_Chi_Minh")


@pytest.mark.usefixtures("limited_demo")
def test_per_address_limit_gives_a_translated_429(limited_app: Flask, survey_answers) -> None:  # type: ignore[no-untyped-def]
    client = limited_app.test_client()
    counters = _counters()
    statuses = [_post(client, counters[i], survey_answers).status_code for i in range(3)]
    assert statuses == [303, 303, 303]
    refused = _post(client, counters[3], survey_answers, q_q05="2", comment="Nhanh gọn")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 61  # seconds left in the one-minute window
    assert "X-RateLimit-Limit" not in refused.headers
    assert refused.headers["Content-Security-Policy"]
    # The form comes back with the citizen's answers and a translated error-summary message at the top.
    assert re.search(r"<title>Lỗi: ", html)
    assert re.search(r'<div class="error-summary" role="alert" tabindex="-1"><h2>Quá nhiều lượt gửi</h2>', html)
    assert "vui lòng chờ một phút rồi gửi lại" in html
    assert 'name="q_q05" value="2" checked>' in html and "Nhanh gọn</textarea>" in html
    assert html.count(" checked>") == 22 + 1 and '<input checked id="adult"' in html  # items, respondent type, 18+
    # Reading the survey is never limited.
    assert client.get(counter_survey_path(limited_app.config, counters[0])).status_code == 200
    # Once the window has passed, sending the kept form (same submission id) stores it.
    kept = hidden_fields(html)
    limiter.reset()
    data = survey_answers(counters[3].instrument, **kept, q_q05="2")
    assert data["submission_id"] == kept["submission_id"]
    before = _count(Response)
    assert client.post(counter_survey_path(limited_app.config, counters[3]), data=data).status_code == 303
    assert _count(Response) == before + 1


@pytest.mark.usefixtures("limited_demo")
def test_rate_limit_on_an_unknown_counter_is_a_plain_translated_429(limited_app: Flask, survey_answers) -> None:  # type: ignore[no-untyped-def]
    client = limited_app.test_client()
    counters = _counters()
    for i in range(3):
        assert _post(client, counters[i], survey_answers).status_code == 303
    form = hidden_fields(client.get(counter_survey_path(limited_app.config, counters[0])).get_data(as_text=True))
    refused = client.post("/s/not-a-token", data=survey_answers(counters[0].instrument, **form))
    assert refused.status_code == 429
    assert "<h1>Quá nhiều lượt gửi</h1>" in refused.get_data(as_text=True)
    assert 'name="q_q01"' not in refused.get_data(as_text=True)


@pytest.mark.usefixtures("limited_demo")
def test_per_counter_limit_counts_stored_submissions_from_any_address(limited_app: Flask, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter, other = _counters()[:2]

    def client_at(address: str) -> FlaskClient:
        # Requests share the test's app context, where Flask-WTF caches the CSRF token: a new browser
        # (client) must not inherit the previous one's.
        g.pop("csrf_token", None)
        client = limited_app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    # Junk (a missing answer) does not use up the counter's allowance.
    assert _post(client_at("10.0.0.9"), counter, survey_answers, adult="").status_code == 422
    assert _post(client_at("10.0.0.1"), counter, survey_answers).status_code == 303
    assert _post(client_at("10.0.0.2"), counter, survey_answers).status_code == 303
    assert _post(client_at("10.0.0.3"), counter, survey_answers).status_code == 429
    assert _post(client_at("10.0.0.3"), other, survey_answers).status_code == 303
