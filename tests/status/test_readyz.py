"""/readyz: 200 when the database is at the migration head and Redis (if configured) answers; 503 otherwise."""

from __future__ import annotations

import os

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey.migrate import head_revision
from survey.services.operations import health, readiness

REDIS_URL = os.environ.get("SIPAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def test_readyz_is_ok_without_redis(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": {"status": "ok", "revision": head_revision()},
        "redis": {"status": "not configured"},
    }
    assert "Set-Cookie" not in response.headers
    assert response.headers["Content-Security-Policy"]


def test_readyz_is_503_when_the_schema_is_behind(client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(health, "current_revision", lambda _engine: "0001")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    body = response.get_json()
    assert body["status"] == "error" and body["database"]["error"] == "schema not at the latest migration"


def test_readyz_is_503_when_redis_is_unreachable(app: Flask) -> None:
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/13"  # nothing listens on port 1
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["redis"] == {"status": "error", "error": "ConnectionError"}
    assert "127.0.0.1" not in response.get_data(as_text=True)  # never the URL


def test_readyz_checks_a_reachable_redis(app: Flask) -> None:
    if readiness.redis_status(REDIS_URL)["status"] != "ok":
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL} under CI")
        pytest.skip("no Redis on this machine")
    app.config["REDIS_URL"] = REDIS_URL
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == {"status": "ok"}
