"""Security headers on every kind of response, set in one place."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize("path", ["/", "/healthz", "/no-such-page", "/s/bad-token", "/static/css/sipas.css"])
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    response.close()  # static files are streamed from an open file
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_survey_pages_are_noindex_and_not_cached(client: FlaskClient) -> None:
    response = client.get("/s/whatever")
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_secure_httponly_and_lax(client: FlaskClient, demo) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from survey.db import db
    from survey.models import Counter
    from survey.services.submissions.links import counter_survey_path

    counter = db.session.scalars(select(Counter)).first()
    cookie = client.get(counter_survey_path(client.application.config, counter)).headers["Set-Cookie"]
    assert cookie.startswith("sipas_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
