"""Privacy: no client address kept in clear, nothing personal in logs, comment retention, the privacy page."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import secrets
import uuid

import pytest
import redis
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.db import db
from survey.extensions import limiter
from survey.models import Answer, AuditEvent, Counter, Response
from survey.privacy import hashed_address
from survey.services.review.retention import purge_comments
from survey.services.submissions.links import counter_survey_path
from tests.conftest import app_in_transaction, hidden_fields

ADDRESS = "203.0.113.77"
REDIS_URL = os.environ.get("SIPAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _submit(app: Flask, client: FlaskClient, **extra: str):  # type: ignore[no-untyped-def]
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    path = counter_survey_path(app.config, counter)
    g.pop("csrf_token", None)
    token = hidden_fields(client.get(path).get_data(as_text=True))["csrf_token"]
    data = {f"q_{item.code}": "4" for item in counter.instrument.items}
    data.update(csrf_token=token, respondent_type="person", adult="y", submission_id=str(uuid.uuid4()), **extra)
    return path, client.post(path, data=data)


def test_the_address_hash_is_keyed_and_rotates_daily() -> None:
    day = dt.date(2026, 11, 21)
    first = hashed_address(ADDRESS, "k" * 40, day)
    assert first == hashed_address(ADDRESS, "k" * 40, day) and ADDRESS not in first
    assert first != hashed_address(ADDRESS, "k" * 40, day + dt.timedelta(days=1))
    assert first != hashed_address(ADDRESS, "other" * 8, day)


def _seed(app: Flask) -> None:
    from survey.services.operations.demo import seed_demo

    seed_demo(db.session, 0, seed=7, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"])


def test_rate_limit_keys_in_memory_hold_no_address(migrated_engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    with app_in_transaction(migrated_engine, database_url, RATELIMIT_ENABLED=True) as app:
        limiter.reset()
        _seed(app)
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ADDRESS
        assert _submit(app, client)[1].status_code == 303
        keys = list(limiter.storage.storage)  # the memory storage's counters
        assert keys and not [k for k in keys if ADDRESS in k]
        assert [
            k for k in keys if hashed_address(ADDRESS, app.config["SECRET_KEY"], dt.datetime.now(dt.UTC).date()) in k
        ]
    limiter.reset()


def test_rate_limit_keys_in_redis_hold_no_address(migrated_engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        store.ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL} under CI")
        pytest.skip("no Redis on this machine")
    prefix = f"sipas-test-{secrets.token_hex(4)}"
    overrides = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_SWALLOW_ERRORS": False,  # a Redis problem must fail this test, not hide
    }
    hashed = ""
    try:
        with app_in_transaction(migrated_engine, database_url, **overrides) as app:
            _seed(app)
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = ADDRESS
            assert _submit(app, client)[1].status_code == 303
            hashed = hashed_address(ADDRESS, app.config["SECRET_KEY"], dt.datetime.now(dt.UTC).date())
            # The limiter is one object for every app a test run builds, and keeps the first key prefix it
            # saw: find this test's keys by the hashed address (unique to this app's random secret key).
            mine = [k.decode() for k in store.scan_iter(match=f"*{hashed}*")]
            assert mine, "the limiter wrote nothing to Redis"
            assert not [k.decode() for k in store.scan_iter(match=f"*{ADDRESS}*")]
    finally:
        for pattern in [f"*{prefix}*"] + ([f"*{hashed}*"] if hashed else []):
            for key in store.scan_iter(match=pattern):
                store.delete(key)
        store.close()


def test_logs_are_json_and_carry_no_address_token_comment_or_dossier_code(app: Flask, demo) -> None:  # type: ignore[no-untyped-def]
    handler = logging.getLogger("survey").handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    sink = io.StringIO()
    handler.setStream(sink)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    comment = "Cán bộ Nguyễn Văn Bí mật rất tận tình"
    dossier = "000.00.12.H42-261021-0042"
    path, response = _submit(app, client, comment=comment, dossier_code=dossier)
    assert response.status_code == 303
    client.get(path + "?ma=" + dossier + "&secret=query")
    client.get("/no-such-page?q=" + comment)
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    requests = [line for line in lines if line["logger"] == "survey.request"]
    assert len(requests) >= 4
    for line in requests:
        assert set(line) >= {"time", "level", "request_id", "method", "route", "status", "duration_ms"}
    assert {line["route"] for line in requests} >= {"/s/<token>"}
    text = sink.getvalue()
    token = path.rsplit("/", 1)[1]
    for secret in (ADDRESS, token, comment, "Bí mật", dossier, "H42-261021", "secret=query", "?"):
        assert secret not in text, secret


def _old_comment(counter: Counter, days_ago: int, comment: str | None) -> Response:
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    response = Response(
        submission_id=uuid.uuid4(),
        agency_id=counter.agency_id,
        counter_id=counter.id,
        instrument_id=counter.instrument_id,
        received_at=received,
        received_on=received.date(),
        comment=comment,
    )
    response.answers = [Answer(item_id=item.id, score=4) for item in counter.instrument.items]
    db.session.add(response)
    return response


def test_purge_comments_blanks_old_comments_only_and_is_idempotent(app: Flask, demo) -> None:  # type: ignore[no-untyped-def]
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    old = _old_comment(counter, 800, "Old comment")
    recent = _old_comment(counter, 10, "Recent comment")
    db.session.commit()
    answers_before = db.session.scalar(select(func.count()).select_from(Answer))
    preview = purge_comments(730, dry_run=True)
    assert preview.dry_run and preview.comments >= 1
    db.session.expire_all()
    assert db.session.get(Response, old.id).comment == "Old comment"
    report = purge_comments(730)
    assert report.comments == preview.comments
    db.session.expire_all()
    assert db.session.get(Response, old.id).comment is None
    assert db.session.get(Response, recent.id).comment == "Recent comment"
    assert db.session.scalar(select(func.count()).select_from(Answer)) == answers_before
    assert purge_comments(730).comments == 0
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "comments.purged")).all()
    assert [e.details["comments"] for e in events] == [report.comments, 0]
    assert "Old comment" not in json.dumps([e.details for e in events])


def test_purge_comments_command(app: Flask, demo) -> None:  # type: ignore[no-untyped-def]
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    _old_comment(counter, 40, "A month and more")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["purge-comments", "--days", "30", "--dry-run"])
    assert result.exit_code == 0 and "Would blank" in result.output, result.output
    result = runner.invoke(args=["purge-comments", "--days", "30"])
    assert result.exit_code == 0 and "Blanked" in result.output, result.output
    assert runner.invoke(args=["purge-comments", "--days", "0"]).exit_code != 0


@pytest.mark.parametrize(
    ("lang", "h1", "phrases"),
    [
        (
            "vi",
            "Quyền riêng tư: chúng tôi lưu gì về câu trả lời của ông/bà",
            ["Địa chỉ IP của ông/bà không được lưu", "730 ngày"],
        ),
        ("en", "Privacy: what we keep about your answers", ["Your IP address is not stored", "730 days"]),
    ],
)
def test_privacy_page(client: FlaskClient, lang: str, h1: str, phrases: list[str]) -> None:
    html = client.get(f"/privacy?lang={lang}").get_data(as_text=True)
    assert html.count("<h1>") == 1 and f"<h1>{h1}</h1>" in html
    assert f"<title>{h1} – SIPAS</title>" in html
    for phrase in phrases:
        assert phrase in html


def test_privacy_page_is_linked_from_the_layout_and_the_survey(app: Flask, client: FlaskClient, demo) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)
    counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
    survey = client.get(counter_survey_path(app.config, counter)).get_data(as_text=True)
    assert survey.count('href="/privacy"') >= 2  # beside the form, and in the footer
