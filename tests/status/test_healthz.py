from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from survey.db import db
from survey.migrate import head_revision


def test_healthz_reports_the_database_and_readyz_its_revision(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"status": "ok", "database": {"status": "ok"}}
    assert "Set-Cookie" not in response.headers
    ready = client.get("/readyz").get_json()
    assert ready["database"] == {"status": "ok", "revision": head_revision()}


def test_healthz_does_not_look_at_migrations_but_readyz_does(client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from survey.services.operations import health

    monkeypatch.setattr(health, "head_revision", lambda: "not-the-head")
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["database"]["error"] == "schema not at the latest migration"


def test_healthz_is_503_when_the_database_fails(client: FlaskClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == {"status": "error", "error": "OperationalError"}
