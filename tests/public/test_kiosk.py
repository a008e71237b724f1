"""A counter's tablet (kiosk mode): its own signed link, its one-tap first screen, its rate limit and records."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from survey.db import db
from survey.extensions import limiter
from survey.models import Counter, Response
from survey.services.submissions.links import counter_survey_path, kiosk_path
from survey.services.submissions.tokens import sign_kiosk
from tests.conftest import app_in_transaction, hidden_fields
from tests.public.helpers import followed, sent_back


def _counter(kiosk: bool = True) -> Counter:
    counter = next(
        c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.instrument.code == "sipas-2017"
    )
    counter.kiosk_enabled = kiosk
    db.session.commit()
    return counter


def _post(client: FlaskClient, path: str, counter: Counter, survey_answers, **extra: str):  # type: ignore[no-untyped-def]
    g.pop("csrf_token", None)
    form = hidden_fields(client.get(path).get_data(as_text=True))
    return client.post(path, data=survey_answers(counter.instrument, **{**form, **extra}))


def _last() -> Response:
    response = db.session.scalar(select(Response).order_by(Response.id.desc()))
    assert response is not None
    return response


@pytest.mark.usefixtures("demo")
class TestKioskLink:
    def test_the_kiosk_page_opens_on_the_overall_rating_with_faces_numbers_and_labels(
        self, client: FlaskClient
    ) -> None:
        counter = _counter()
        html = client.get(kiosk_path(client.application.config, counter)).get_data(as_text=True)
        assert html.count("<h1>") == 1
        assert 'class="k1"' in html and f'data-kiosk="{counter.kiosk_reset_seconds}"' in html
        overall = re.search(r'<fieldset class="q overall" id="overall".*?</fieldset>', html, re.S)
        assert overall is not None
        block = overall.group(0)
        assert "<legend>Nhìn chung, ông/bà hài lòng thế nào với sự phục vụ hôm nay?</legend>" in block
        assert block.count('<label class="face') == 5 and block.count('aria-hidden="true"') == 5
        for level, label in enumerate(
            ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"], 1
        ):
            assert f'<span class="n">{level}</span><span class="t">{label}</span>' in block
        assert "checked" not in block  # nothing chosen for the citizen
        assert 'src="/static/js/kiosk.js"' in html
        # No way off the survey: the brand is no link, and the footer (staff sign-in) is hidden.
        assert '<span class="brand">SIPAS</span>' in html and " kiosk" in html
        assert '<dialog id="idle"' in html

    def test_a_phones_page_has_no_kiosk_parts(self, client: FlaskClient) -> None:
        html = client.get(counter_survey_path(client.application.config, _counter())).get_data(as_text=True)
        assert 'id="overall"' not in html and "kiosk.js" not in html and "data-kiosk" not in html
        assert '<a class="brand" href="/">SIPAS</a>' in html

    def test_a_kiosk_answer_is_stored_as_collected_by_the_kiosk_with_its_overall_rating(
        self, client: FlaskClient, survey_answers
    ) -> None:  # type: ignore[no-untyped-def]
        counter = _counter()
        path = kiosk_path(client.application.config, counter)
        reply = _post(client, path, counter, survey_answers, overall="2")
        assert reply.status_code == 303 and reply.headers["Location"] == path + "/thanks"
        stored = _last()
        assert (stored.collection_mode, stored.overall_score, stored.counter_id) == ("kiosk", 2, counter.id)

    def test_a_phone_cannot_record_an_overall_rating(self, client: FlaskClient, survey_answers) -> None:  # type: ignore[no-untyped-def]
        counter = _counter()
        path = counter_survey_path(client.application.config, counter)
        assert _post(client, path, counter, survey_answers, overall="5").status_code == 303
        assert (_last().collection_mode, _last().overall_score) == ("qr", None)

    @pytest.mark.parametrize("overall", ["0", "6", "x"])
    def test_an_overall_rating_outside_the_scale_is_400(
        self, client: FlaskClient, survey_answers, overall: str
    ) -> None:  # type: ignore[no-untyped-def]
        counter = _counter()
        before = _last().id
        assert (
            _post(
                client, kiosk_path(client.application.config, counter), counter, survey_answers, overall=overall
            ).status_code
            == 400
        )
        assert _last().id == before

    def test_answers_to_correct_come_back_on_the_kiosk_page_with_the_whole_form(
        self, client: FlaskClient, survey_answers
    ) -> None:  # type: ignore[no-untyped-def]
        counter = _counter()
        path = kiosk_path(client.application.config, counter)
        posted = _post(client, path, counter, survey_answers, overall="4", adult="")
        assert sent_back(posted)
        page = followed(client, posted)
        html = page.get_data(as_text=True)
        assert page.status_code == 422
        assert 'class="k1"' not in html  # the messages and every question show at once
        assert 'name="overall" value="4" checked>' in html and "data-kiosk" in html

    def test_thanks_on_the_tablet_offers_a_fresh_form_and_tells_the_script_when(self, client: FlaskClient) -> None:
        counter = _counter()
        path = kiosk_path(client.application.config, counter)
        html = client.get(path + "/thanks").get_data(as_text=True)
        fresh = path + "?lang=vi"
        assert f'id="fresh" href="{fresh}"' in html
        assert 'http-equiv="refresh"' not in html  # kiosk.js does it (a timed refresh fails WCAG 2.2.1)
        assert f'data-kiosk="{counter.kiosk_reset_seconds}"' in html

    def test_kiosk_mode_off_a_new_link_or_a_closed_counter_retire_the_link(
        self, client: FlaskClient, app: Flask
    ) -> None:
        counter = _counter()
        path = kiosk_path(app.config, counter)
        assert client.get(path).status_code == 200
        counter.kiosk_enabled = False
        db.session.commit()
        assert client.get(path).status_code == 410
        counter.kiosk_enabled, counter.kiosk_key_version = True, counter.kiosk_key_version + 1
        db.session.commit()
        assert client.get(path).status_code == 410  # the old link
        assert client.get(kiosk_path(app.config, counter)).status_code == 200
        counter.active = False
        db.session.commit()
        assert client.get(kiosk_path(app.config, counter)).status_code == 410
        # The QR poster's token is not a kiosk link, nor the other way round.
        assert "k1" not in client.get(counter_survey_path(app.config, counter)).get_data(as_text=True)

    def test_unknown_and_forged_kiosk_links_are_404(self, client: FlaskClient, app: Flask) -> None:
        counter = _counter()
        for token in (
            sign_kiosk(app.config["SECRET_KEY"], counter.id, counter.kiosk_key_version + 1),
            sign_kiosk(app.config["SECRET_KEY"], 999_999, 1),
            sign_kiosk("another-secret" * 3, counter.id, 1),
            sign_kiosk(app.config["SECRET_KEY"], 2**40, 1),
        ):
            assert client.get("/s/" + token).status_code == 404
            assert client.get("/s/" + token + "/thanks").status_code == 404


@pytest.fixture
def limited_app(migrated_engine: Engine, database_url: str) -> Iterator[Flask]:
    overrides = {
        "RATELIMIT_ENABLED": True,
        "SUBMIT_RATE_LIMIT": "1 per minute",
        "KIOSK_RATE_LIMIT": "3 per minute",
        "COUNTER_RATE_LIMIT": "50 per minute",
    }
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
def test_a_tablet_is_limited_per_kiosk_link_not_per_address(limited_app: Flask, survey_answers) -> None:  # type: ignore[no-untyped-def]
    counter = _counter()
    kiosk = kiosk_path(limited_app.config, counter)
    qr = counter_survey_path(limited_app.config, counter)
    client = limited_app.test_client()  # one address for the tablet and a phone on the office's network
    # The phone's one submission a minute from this address does not hold up the tablet, and the reverse.
    assert _post(client, qr, counter, survey_answers).status_code == 303
    assert _post(client, qr, counter, survey_answers).status_code == 429
    assert [_post(client, kiosk, counter, survey_answers).status_code for _ in range(3)] == [303, 303, 303]
    refused = _post(client, kiosk, counter, survey_answers, comment="Người thứ tư")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Người thứ tư</textarea>" in html and "data-kiosk" in html  # kept, on the kiosk's page
    # Another counter's tablet has an allowance of its own.
    other = next(c for c in db.session.scalars(select(Counter).order_by(Counter.id)) if c.id != counter.id)
    other.kiosk_enabled = True
    db.session.commit()
    assert _post(client, kiosk_path(limited_app.config, other), other, survey_answers).status_code == 303
