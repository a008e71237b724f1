"""Session fixation, cookie flags in the production configuration, open redirects, sign-in throttling."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey import create_app
from survey.extensions import limiter
from tests.conftest import app_in_transaction, hidden_fields, sign_in_client

PRODUCTION = {
    "SIPAS_ENV": "production",
    "SECRET_KEY": "p" * 48,
    "SIPAS_BASE_URL": "https://khaosat.example.vn",
}


def _session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("sipas_session")
    return cookie.value if cookie else None


def test_sign_in_replaces_the_session_cookie_and_its_csrf_token(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    client = staff_app.test_client()
    before_token = hidden_fields(client.get("/auth/sign-in").get_data(as_text=True))["csrf_token"]
    before = _session_cookie(client)
    assert before
    login = logins["agency_viewer"]
    sign_in_client(client, login.email, login.password)
    after = _session_cookie(client)
    assert after and after != before
    after_token = hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]
    assert after_token != before_token
    # The pre-sign-in cookie, replayed by someone who planted or saw it, is not signed in.
    stale = staff_app.test_client()
    stale.set_cookie("sipas_session", before, domain="localhost")
    response = stale.get("/agency/hoa-lu/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_a_cookie_saved_before_sign_out_is_worthless_after_it(staff_app: Flask, logins) -> None:  # type: ignore[no-untyped-def]
    client = staff_app.test_client()
    login = logins["agency_viewer"]
    sign_in_client(client, login.email, login.password)
    assert client.get("/agency/").status_code == 200
    saved = _session_cookie(client)
    assert saved
    token = hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]
    assert client.post("/auth/sign-out", data={"csrf_token": token}).status_code == 303
    # Someone who copied the cookie (a shared computer, a stolen backup) replays it after the sign-out.
    replay = staff_app.test_client()
    replay.set_cookie("sipas_session", saved, domain="localhost")
    response = replay.get("/agency/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_production_cookies_are_secure_httponly_and_lax(database_url: str) -> None:
    app = create_app(environ={**PRODUCTION, "SIPAS_DATABASE_URL": database_url})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    response = app.test_client().get("/auth/sign-in?lang=en", base_url="https://khaosat.example.vn")
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {"sipas_session", "sipas_lang"}
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


EVIL_TARGETS = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "https:evil.example",
    "/%2F%2Fevil.example",
    " //evil.example",
    "\t//evil.example",
    "http://localhost@evil.example/",
]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_sign_in_never_redirects_off_site(staff_app: Flask, logins, target: str) -> None:  # type: ignore[no-untyped-def]
    client = staff_app.test_client()
    login = logins["agency_viewer"]
    token = hidden_fields(client.get("/auth/sign-in").get_data(as_text=True))["csrf_token"]
    response = client.post(
        "/auth/sign-in",
        query_string={"next": target},
        data={"csrf_token": token, "email": login.email, "password": login.password},
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert not urlsplit(location).netloc and not urlsplit(location).scheme, location


@pytest.mark.parametrize("target", EVIL_TARGETS[:3])
def test_language_switch_is_no_redirect_and_links_stay_local(client: FlaskClient, target: str) -> None:
    response = client.get("/", query_string={"lang": "en", "next": target})
    assert response.status_code == 200 and "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert 'href="//' not in html and 'href="https://evil' not in html


def test_brute_force_sign_in_is_throttled_per_client(migrated_engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    with app_in_transaction(
        migrated_engine, database_url, RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT="5 per minute"
    ) as app:
        limiter.reset()
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = "198.51.100.7"
        token = hidden_fields(attacker.get("/auth/sign-in").get_data(as_text=True))["csrf_token"]
        statuses = [
            attacker.post(
                "/auth/sign-in", data={"csrf_token": token, "email": "admin@example.vn", "password": f"guess{i}"}
            ).status_code
            for i in range(8)
        ]
        assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3
        # Another client is not blocked by the attacker's attempts.
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.8"
        assert other.post("/auth/sign-in", data={}).status_code != 429
    limiter.reset()
