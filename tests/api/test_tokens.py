"""Personal API tokens: stored as a digest only, refused when revoked, expired or their user is inactive;
token-only (no session cookie in, no cookie out); ``last_used_at`` written at most once a minute; a rate
limit per token."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text, update

from survey.db import db, utcnow
from survey.models import ApiToken, AuditEvent, User
from survey.services.identity import api_tokens
from tests.api.conftest import Api, user_token
from tests.conftest import app_in_transaction


def _user(logins: dict[str, Any], role: str) -> User:
    user = db.session.scalar(select(User).where(User.email == logins[role].email))
    assert user is not None
    return user


def _refused(reply: Any, error: str | None) -> None:
    assert reply.status_code == 401
    assert reply.mimetype == "application/problem+json"
    challenge = reply.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer realm=")
    if error:
        assert f'error="{error}"' in challenge
        assert reply.get_json()["type"] == "urn:sipas:problem:invalid-token"
    else:
        assert reply.get_json()["type"] == "urn:sipas:problem:missing-token"


def test_the_secret_is_returned_once_and_only_its_digest_is_stored(staff_app, logins) -> None:  # type: ignore[no-untyped-def]
    user = _user(logins, "statistician")
    new = api_tokens.create_token(user.id, "R trên máy tính của tôi", None)
    assert new.secret.startswith("sipas_") and len(new.secret) >= 6 + 43
    row = db.session.scalar(select(ApiToken).where(ApiToken.id == new.token.id))
    assert row is not None
    assert row.token_digest == hashlib.sha256(new.secret.encode()).hexdigest()
    assert row.prefix == new.secret[:10]
    # No column of any token row, and no audit event, holds the secret (or the part after the prefix).
    random_part = new.secret[len(row.prefix) :]
    for table in (ApiToken.__tablename__, AuditEvent.__tablename__):
        for values in db.session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
            flat = " ".join(str(v) for v in values)
            assert new.secret not in flat and random_part not in flat, table
    assert not hasattr(row, "secret")


def test_a_token_reads_with_its_users_roles(api: Api, token_for: Callable[[str], str]) -> None:
    reply = api.get("agencies/so-tu-phap", token_for("agency_manager"))
    assert reply.status_code == 200
    assert reply.get_json()["code"] == "so-tu-phap"


def test_missing_or_malformed_authorization_is_401(api: Api) -> None:
    _refused(api.get("agencies"), None)
    _refused(api.get("agencies", headers={"Authorization": "Bearer "}), None)
    _refused(api.get("agencies", headers={"Authorization": "Basic dXNlcjpwYXNz"}), None)
    _refused(api.get("agencies", "sipas_" + "x" * 43), "invalid_token")
    _refused(api.get("agencies", "not-even-a-sipas-token"), "invalid_token")


def test_a_revoked_token_is_refused(api: Api, staff_app, logins) -> None:  # type: ignore[no-untyped-def]
    user = _user(logins, "agency_manager")
    new = api_tokens.create_token(user.id, "to revoke", 90)
    assert api.get("agencies", new.secret).status_code == 200
    api_tokens.revoke_token(user.id, new.token.id)
    _refused(api.get("agencies", new.secret), "invalid_token")


def test_an_expired_token_is_refused(api: Api, staff_app, logins) -> None:  # type: ignore[no-untyped-def]
    user = _user(logins, "agency_manager")
    old = api_tokens.create_token(user.id, "old", 30, now=utcnow() - dt.timedelta(days=31))
    _refused(api.get("agencies", old.secret), "invalid_token")
    fresh = api_tokens.create_token(user.id, "fresh", 30, now=utcnow() - dt.timedelta(days=29))
    assert api.get("agencies", fresh.secret).status_code == 200


def test_the_token_of_a_deactivated_user_is_refused(api: Api, staff_app, logins) -> None:  # type: ignore[no-untyped-def]
    user = _user(logins, "agency_manager")
    secret = user_token(user)
    assert api.get("agencies", secret).status_code == 200
    with db.write() as session:
        session.execute(update(User).where(User.id == user.id).values(active=False))
    _refused(api.get("agencies", secret), "invalid_token")


def test_a_signed_in_browser_without_a_token_gets_401_and_no_cookie(signed_in) -> None:  # type: ignore[no-untyped-def]
    browser = signed_in("system_admin")
    assert browser.get("/agency/").status_code == 200  # the session works for pages
    reply = browser.get("/api/v1/agencies")
    _refused(reply, None)
    assert "Set-Cookie" not in reply.headers


@pytest.mark.parametrize(
    "url", ["agencies?lang=en", "agencies/khong-co?lang=vi", "openapi.json?lang=en", "khong-co", "indices?from=x"]
)
def test_api_answers_set_no_cookie(api: Api, token_for: Callable[[str], str], url: str) -> None:
    reply = api.get(url, token_for("province_admin"))
    assert "Set-Cookie" not in reply.headers, reply.headers.get("Set-Cookie")


def test_last_used_is_written_at_most_once_a_minute(api: Api, staff_app, logins) -> None:  # type: ignore[no-untyped-def]
    user = _user(logins, "agency_viewer")
    new = api_tokens.create_token(user.id, "used", None)

    def last_used() -> dt.datetime | None:
        db.session.expire_all()
        return db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == new.token.id))

    assert last_used() is None
    assert api.get("instruments", new.secret).status_code == 200
    first = last_used()
    assert first is not None
    assert api.get("instruments", new.secret).status_code == 200
    assert last_used() == first  # no second write within the minute
    earlier = first - dt.timedelta(minutes=2)
    with db.write() as session:
        session.execute(update(ApiToken).where(ApiToken.id == new.token.id).values(last_used_at=earlier))
    assert api.get("instruments", new.secret).status_code == 200
    assert last_used() > earlier  # type: ignore[operator]


def test_touch_writes_once_per_interval(staff_app, logins) -> None:  # type: ignore[no-untyped-def]
    user = _user(logins, "agency_viewer")
    token = api_tokens.create_token(user.id, "touch", None).token
    now = utcnow()
    assert api_tokens.touch(token, now=now) is True
    assert api_tokens.touch(token, now=now + dt.timedelta(seconds=59)) is False
    assert api_tokens.touch(token, now=now + dt.timedelta(seconds=61)) is True


def test_each_token_has_its_own_rate_limit(seeded_database) -> None:  # type: ignore[no-untyped-def]
    engine, url, report = seeded_database
    with app_in_transaction(engine, url, RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute") as app:
        api = Api(app)
        by_role = {login.role: login for login in report.logins}
        first = user_token(_user(by_role, "agency_viewer"))
        second = user_token(_user(by_role, "statistician"))
        assert [api.get("instruments", first).status_code for _ in range(2)] == [200, 200]
        limited = api.get("instruments", first)
        assert limited.status_code == 429
        assert limited.mimetype == "application/problem+json"
        assert limited.get_json()["status"] == 429 and "Rate limit" in limited.get_json()["detail"]
        assert int(limited.headers["Retry-After"]) > 0
        assert api.get("instruments", second).status_code == 200


def test_creating_and_revoking_are_audited(staff_app, logins) -> None:  # type: ignore[no-untyped-def]
    user = _user(logins, "auditor")
    new = api_tokens.create_token(user.id, "kiểm tra", 365)
    api_tokens.revoke_token(user.id, new.token.id)
    api_tokens.revoke_token(user.id, new.token.id)  # a second revocation changes nothing
    events = list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.target_type == "api_token", AuditEvent.target_id == str(new.token.id))
        )
    )
    assert [e.action for e in events] == ["api_token.created", "api_token.revoked"]
    assert all(e.actor_user_id == user.id for e in events)
    assert events[0].details["name"] == "kiểm tra" and events[0].details["prefix"] == new.secret[:10]


def test_a_user_cannot_revoke_another_users_token(staff_app, logins) -> None:  # type: ignore[no-untyped-def]
    owner, other = _user(logins, "statistician"), _user(logins, "system_admin")
    new = api_tokens.create_token(owner.id, "mine", None)
    with pytest.raises(api_tokens.TokenError):
        api_tokens.revoke_token(other.id, new.token.id)
    assert api_tokens.status(db.session.get(ApiToken, new.token.id)) == "active"  # type: ignore[arg-type]
