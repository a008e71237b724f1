"""A lost database: a clear, translated 503 everywhere, nothing acknowledged, and recovery without a restart.

The in-process tests raise the errors SQLAlchemy raises when the server is gone; the last test stops a
private PostgreSQL cluster (never the shared server) under a live app and starts it again.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError

from scripts.pgcluster import PrivateCluster, server_bin_dir
from survey import create_app
from survey.db import db, make_engine
from survey.migrate import upgrade
from survey.models import Counter, Response
from survey.services.administration import directory
from survey.services.submissions.links import counter_survey_path
from tests.conftest import environ_for, hidden_fields

UNAVAILABLE_VI = "Dịch vụ tạm thời gián đoạn"


def _assert_clear_503(response, *, lang: str = "vi") -> str:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:300]
    assert response.headers["Retry-After"].isdigit()
    assert response.mimetype == "text/html"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Traceback" not in html and "OperationalError" not in html and "psycopg" not in html
    if lang == "vi":
        assert f"<h1>{UNAVAILABLE_VI}</h1>" in html
    return html


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("connection refused")),
        InterfaceError("SELECT 1", {}, Exception("connection already closed")),
    ],
    ids=["operational", "interface"],
)
def test_a_database_error_mid_request_is_a_503_page(client: FlaskClient, monkeypatch, error) -> None:  # type: ignore[no-untyped-def]
    def broken() -> list[object]:
        raise error

    monkeypatch.setattr(directory, "agencies_with_counters", broken)
    html = _assert_clear_503(client.get("/"))
    assert "thử lại sau vài phút" in html


def test_probes_answer_json_and_the_api_problem_json(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    @app.get("/api/v1/_outage-probe")
    def probe() -> str:
        broken()
        return "unreachable"

    client = app.test_client()
    response = client.get("/api/v1/_outage-probe")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503
    assert response.headers["Retry-After"].isdigit()
    monkeypatch.setattr(db.session, "execute", broken)
    for path in ("/healthz", "/readyz"):
        probe_response = client.get(path)
        assert probe_response.status_code == 503 and probe_response.is_json, path


def test_a_survey_post_during_an_outage_is_not_acknowledged(app: Flask, demo, survey_answers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from survey.public import views

    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    client = app.test_client()
    path = counter_survey_path(app.config, counter)
    token = hidden_fields(client.get(path).get_data(as_text=True))["csrf_token"]
    data = survey_answers(counter.instrument, csrf_token=token)

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("terminating connection due to administrator command"))

    monkeypatch.setattr(views, "store_submission", broken)
    html = _assert_clear_503(client.post(path, data=data))
    assert "chưa được lưu" in html  # "nothing you sent was saved"
    assert (
        db.session.scalar(select(func.count()).where(Response.submission_id == uuid.UUID(data["submission_id"]))) == 0
    )


# -- a real outage: a private cluster stopped and started under the app --------------------------------------


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    if server_bin_dir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries are required under CI")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    cluster = PrivateCluster()
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.destroy()


@pytest.mark.slow
def test_the_app_answers_503_while_postgresql_is_down_and_recovers_by_itself(private_cluster: PrivateCluster) -> None:
    from survey.services.operations.demo import seed_demo

    url = private_cluster.create_database("sipas")
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    upgrade(engine)
    engine.dispose()
    app = create_app(overrides={"RATELIMIT_ENABLED": False}, environ=environ_for(url))
    with app.app_context():
        seed_demo(db.session, 10, seed=3, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"])
        counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
        path = counter_survey_path(app.config, counter)
        items = [item.code for item in counter.instrument.items]
        db.session.remove()
    client = app.test_client()

    def answers() -> dict[str, str]:
        token = hidden_fields(client.get(path).get_data(as_text=True))["csrf_token"]
        return {
            "csrf_token": token,
            "submission_id": str(uuid.uuid4()),
            "respondent_type": "person",
            "adult": "y",
            **{f"q_{code}": "4" for code in items},
        }

    assert client.get("/").status_code == 200
    lost_form = answers()

    private_cluster.stop()
    _assert_clear_503(client.get("/"))
    _assert_clear_503(client.get(path))
    posted = _assert_clear_503(client.post(path, data=lost_form))
    assert "chưa được lưu" in posted
    for probe in ("/healthz", "/readyz"):
        response = client.get(probe)
        assert response.status_code == 503 and response.get_json()["status"] == "error"
    english = client.get("/?lang=en")
    assert english.status_code == 503 and "The service is temporarily unavailable" in english.get_data(as_text=True)

    private_cluster.start()
    # No restart of the app: the pool notices the dead connections (pre-ping) and reconnects.
    assert client.get("/").status_code == 200
    assert client.get("/readyz").status_code == 200
    kept = answers()
    response = client.post(path, data=kept)
    assert response.status_code == 303
    # The citizen sends the refused form again (the offline queue does): stored once now.
    assert client.post(path, data={**lost_form, "csrf_token": kept["csrf_token"]}).status_code == 303
    with app.app_context():
        stored = set(db.session.scalars(select(Response.submission_id).where(Response.counter_id == counter.id)))
        assert {uuid.UUID(kept["submission_id"]), uuid.UUID(lost_form["submission_id"])} <= stored
        db.session.remove()
    assert db.engine is not None
    db.engine.dispose()
    assert re.match(r"postgresql://postgres@127\.0\.0\.1:\d+/sipas", url)
