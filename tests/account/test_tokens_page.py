"""The API token page: any signed-in user lists, creates (secret shown once) and revokes their own tokens."""

from __future__ import annotations

import hashlib
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import ApiToken, AuditEvent, User
from survey.models.codes import ROLES
from survey.services.identity import api_tokens
from tests.conftest import hidden_fields

SECRET = re.compile(r"sipas_[A-Za-z0-9_-]{43}")


def _csrf(client: FlaskClient) -> str:
    return hidden_fields(client.get("/account/tokens").get_data(as_text=True))["csrf_token"]


def _user(logins, role: str) -> User:  # type: ignore[no-untyped-def]
    user = db.session.scalar(select(User).where(User.email == logins[role].email))
    assert user is not None
    return user


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_the_page(signed_in, role: str) -> None:  # type: ignore[no-untyped-def]
    reply = signed_in(role).get("/account/tokens?lang=vi")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert html.count("<h1>") == 1 and "<h1>Khóa API</h1>" in html
    assert 'href="/account/tokens"' in html  # in the staff navigation


def test_anonymous_users_are_sent_to_sign_in(staff_app) -> None:  # type: ignore[no-untyped-def]
    reply = staff_app.test_client().get("/account/tokens")
    assert reply.status_code == 302 and "/auth/sign-in" in reply.headers["Location"]


def test_a_new_token_is_shown_once_and_works(signed_in, logins, staff_app) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("statistician")
    reply = client.post(
        "/account/tokens", data={"csrf_token": _csrf(client), "name": "Stata ở cơ quan", "lifetime": "30"}
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    secrets = set(SECRET.findall(html))
    assert len(secrets) == 1
    secret = secrets.pop()
    assert "Stata ở cơ quan" in html
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_digest == hashlib.sha256(secret.encode()).hexdigest())
    )
    assert token is not None and token.user_id == _user(logins, "statistician").id
    assert token.expires_at is not None and 29 <= (token.expires_at - token.created_at).days <= 30
    # Never again: the list shows the first characters only, and nothing went into the session cookie.
    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again and f"{token.prefix}…" in again
    assert secret not in (reply.headers.get("Set-Cookie") or "")
    api = staff_app.test_client(use_cookies=False)
    assert api.get("/api/v1/instruments", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_creating_needs_a_name_and_a_csrf_token(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_viewer")
    missing = client.post("/account/tokens", data={"csrf_token": _csrf(client), "name": " ", "lifetime": "90"})
    assert missing.status_code == 422
    assert "Nhập mục đích của khóa" in missing.get_data(as_text=True)
    assert not SECRET.search(missing.get_data(as_text=True))
    assert client.post("/account/tokens", data={"name": "x", "lifetime": "90"}).status_code == 400
    bad = client.post("/account/tokens", data={"csrf_token": _csrf(client), "name": "x", "lifetime": "7"})
    assert bad.status_code == 422


def test_revoking_a_token(signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    user = _user(logins, "province_admin")
    new = api_tokens.create_token(user.id, "Power Query", None)
    reply = client.post(f"/account/tokens/{new.token.id}/revoke", data={"csrf_token": _csrf(client)})
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/account/tokens")
    db.session.expire_all()
    assert api_tokens.status(db.session.get(ApiToken, new.token.id)) == "revoked"  # type: ignore[arg-type]
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "Power Query" in page and "Đã thu hồi" in page
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.target_type == "api_token", AuditEvent.target_id == str(new.token.id)
        )
    ).all()
    assert actions == ["api_token.created", "api_token.revoked"]


def test_nobody_revokes_another_users_token(signed_in, logins) -> None:  # type: ignore[no-untyped-def]
    owner = _user(logins, "statistician")
    new = api_tokens.create_token(owner.id, "của người khác", None)
    client = signed_in("system_admin")
    reply = client.post(f"/account/tokens/{new.token.id}/revoke", data={"csrf_token": _csrf(client)})
    assert reply.status_code == 404
    assert "của người khác" not in client.get("/account/tokens").get_data(as_text=True)
    db.session.expire_all()
    assert api_tokens.status(db.session.get(ApiToken, new.token.id)) == "active"  # type: ignore[arg-type]
