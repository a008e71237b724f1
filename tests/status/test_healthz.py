from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from survey.db import db
from survey.migrate import head_revision


def test_healthz_reports_database_and_revision(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok", "revision": head_revision()}
    assert "Set-Cookie" not in response.headers


def test_healthz_is_503_when_the_database_fails(client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == {"status": "error", "error": "OperationalError"}
