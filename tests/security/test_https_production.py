"""The production configuration behind a TLS proxy: strict CSRF stays on and same-origin forms pass.

Flask-WTF's ``WTF_CSRF_SSL_STRICT`` refuses an https POST whose Referer is missing or from another
origin. Browsers send a Referer only if the page's referrer policy lets them: with ``no-referrer`` every
form was refused. The browser half of this is proven end to end in ``tests/multinode/test_tls_browser.py``
(nginx, two nodes, Chromium); here the server half, on each database, without a browser.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey.db import db
from survey.models import Counter, Response
from survey.security import REFERRER_POLICY
from survey.services.submissions.links import counter_survey_path
from tests.conftest import app_in_transaction, hidden_fields

ORIGIN = "https://khaosat.example.vn"
PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "khaosat.example.vn", "X-Forwarded-For": "203.0.113.9"}


@pytest.fixture
def production_app(seeded_database) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    engine, url, _report = seeded_database
    environ = {
        "SIPAS_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SIPAS_BASE_URL": ORIGIN,
        "SIPAS_PROXY_HOPS": "1",
    }
    with app_in_transaction(engine, url, environ=environ) as app:
        yield app


def test_production_keeps_strict_csrf_and_secure_cookies(production_app: Flask) -> None:
    assert production_app.config["WTF_CSRF_SSL_STRICT"] is True
    assert production_app.config["SESSION_COOKIE_SECURE"] is True


def test_the_referrer_policy_lets_the_browser_send_our_own_origin() -> None:
    # Policies under which a same-origin form POST carries a Referer, and no other site sees the survey URL.
    assert REFERRER_POLICY in ("same-origin", "strict-origin", "strict-origin-when-cross-origin")


def _counter() -> Counter:
    counter = db.session.scalars(select(Counter).where(Counter.active).order_by(Counter.id)).first()
    assert counter is not None
    return counter


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Response)) or 0


def test_a_survey_post_over_https_with_its_own_referer_is_stored(production_app: Flask, survey_answers) -> None:  # type: ignore[no-untyped-def]
    client = production_app.test_client()
    counter = _counter()
    path = counter_survey_path(production_app.config, counter)
    page = client.get(path, headers=PROXY)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == REFERRER_POLICY
    token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    form = survey_answers(counter.instrument, csrf_token=token)
    before = _stored()
    # What a browser sends under "no-referrer": nothing. Strict CSRF refuses it, and nothing is stored.
    refused = client.post(path, data=form, headers=PROXY)
    assert refused.status_code == 400
    assert _stored() == before
    # Under the app's policy the browser sends the page's own URL.
    accepted = client.post(path, data=form, headers={**PROXY, "Referer": ORIGIN + path})
    assert accepted.status_code == 303, accepted.get_data(as_text=True)[:300]
    assert _stored() == before + 1
    # Another site's page is still refused.
    other = survey_answers(counter.instrument, csrf_token=token)
    assert client.post(path, data=other, headers={**PROXY, "Referer": "https://evil.example/x"}).status_code == 400


def test_staff_sign_in_over_https_with_its_own_referer(production_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    login = logins["system_admin"]
    client = production_app.test_client()
    token = hidden_fields(client.get("/auth/sign-in", headers=PROXY).get_data(as_text=True))["csrf_token"]
    data = {"csrf_token": token, "email": login.email, "password": login.password}
    assert client.post("/auth/sign-in", data=data, headers=PROXY).status_code == 400
    reply = client.post("/auth/sign-in", data=data, headers={**PROXY, "Referer": ORIGIN + "/auth/sign-in"})
    assert reply.status_code == 303
    assert "Secure" in reply.headers["Set-Cookie"]
