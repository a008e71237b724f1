"""Security headers on every page a visitor or staff member can GET, and on every error page."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from survey import create_app
from tests.conftest import environ_for, hidden_fields
from tests.security.conftest import placeholder_url, rules


def assert_secure_headers(response, what: str) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, what
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, what
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert response.headers.get("Referrer-Policy") == "same-origin", what
    assert response.headers.get("Strict-Transport-Security", "").startswith("max-age="), what
    assert b"Traceback" not in response.get_data(), what


def test_every_get_page_carries_the_headers(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("system_admin")
    known = {"code": "ninh-binh"}
    seen = 0
    for rule in rules(staff_app, "GET"):
        if rule.endpoint == "auth.sign_out":
            continue
        response = client.get(placeholder_url(staff_app, rule, known))
        assert response.status_code < 500, f"{rule.rule}: {response.status_code}"
        assert_secure_headers(response, rule.rule)
        response.close()  # files are streamed from an open handle
        seen += 1
    assert seen >= 10


@pytest.fixture
def error_app(app: Flask) -> Flask:
    """The test app with routes that fail in each way a visitor can meet."""

    @app.get("/_boom/<int:code>")
    def boom(code: int) -> str:
        abort(code)

    @app.get("/_database-gone")
    def database_gone() -> str:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    @app.get("/_bug")
    def bug() -> str:
        raise RuntimeError("a bug")

    return app


@pytest.mark.parametrize(
    ("path", "method", "status", "title"),
    [
        ("/_boom/400", "GET", 400, "Không thể xử lý yêu cầu"),
        ("/_boom/403", "GET", 403, "Bạn không được sử dụng trang này"),
        ("/no-such-page", "GET", 404, None),
        ("/healthz", "POST", 405, None),
        ("/_database-gone", "GET", 503, "Dịch vụ tạm thời gián đoạn"),
        ("/_bug", "GET", 500, None),
    ],
    ids=["400", "403", "404", "405", "503", "500"],
)
def test_error_pages_carry_the_headers_and_a_translated_title(error_app: Flask, path, method, status, title) -> None:  # type: ignore[no-untyped-def]
    response = error_app.test_client().open(path, method=method)
    assert response.status_code == status
    assert_secure_headers(response, path)
    if title:
        assert title in response.get_data(as_text=True)


def test_oversized_bodies_get_a_translated_413(client: FlaskClient) -> None:
    body = b"comment=" + b"a" * (2 * 1024 * 1024 + 10)
    for path in ("/s/any-token", "/auth/sign-in"):
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413, path
        assert "<h1>Dữ liệu quá lớn</h1>" in response.get_data(as_text=True)
        assert_secure_headers(response, path)


def test_the_request_size_limit_is_a_setting(database_url: str) -> None:
    app = create_app(environ=environ_for(database_url, SIPAS_MAX_CONTENT_LENGTH="4096"))
    assert app.config["MAX_CONTENT_LENGTH"] == 4096
    response = app.test_client().post("/auth/sign-in", data={"email": "x" * 5000})
    assert response.status_code == 413


def test_rate_limited_page_carries_the_headers(migrated_engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from survey.extensions import limiter
    from tests.conftest import app_in_transaction

    with app_in_transaction(
        migrated_engine, database_url, RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT="1 per minute"
    ) as app:
        limiter.reset()
        client = app.test_client()
        token = hidden_fields(client.get("/auth/sign-in").get_data(as_text=True))["csrf_token"]
        data = {"csrf_token": token, "email": "a@b.vn", "password": "x"}
        statuses = [client.post("/auth/sign-in", data=data).status_code for _ in range(3)]
        response = client.post("/auth/sign-in", data=data)
        assert statuses[-1] == 429 and response.status_code == 429
        assert_secure_headers(response, "429")
        assert "Quá nhiều" in response.get_data(as_text=True)
    limiter.reset()
