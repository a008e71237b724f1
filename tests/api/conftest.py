"""API fixtures: tokens for the seeded province's demo users (and extra users), and a bearer client."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from survey.db import db
from survey.models import User
from survey.services.identity import api_tokens
from survey.services.identity.users import create_user


class Api:
    """A test client that sends a bearer token (or none) and no cookies."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _client(self) -> FlaskClient:
        return self.app.test_client(use_cookies=False)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> TestResponse:
        return self.open(path, "GET", token, **kwargs)

    def open(self, path: str, method: str, token: str | None = None, **kwargs: Any) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return self._client().open(url, method=method, headers=headers, **kwargs)


@pytest.fixture
def api(staff_app: Flask) -> Api:
    return Api(staff_app)


def user_token(user: User, name: str = "test", lifetime: int | None = None) -> str:
    return api_tokens.create_token(user.id, name, lifetime).secret


@pytest.fixture
def token_for(staff_app: Flask, logins: dict[str, Any]) -> Callable[[str], str]:
    """Factory: a fresh token of the seeded demo user holding ``role``."""

    def make(role: str) -> str:
        user = db.session.scalar(select(User).where(User.email == logins[role].email))
        assert user is not None
        return user_token(user, f"test {role}")

    return make


@pytest.fixture
def new_user(staff_app: Flask) -> Callable[[str, str | None], User]:
    """Factory: a new active user with one role over one agency (None for a system administrator)."""

    def make(role: str, agency: str | None) -> User:
        email = f"{role}.{secrets.token_hex(4)}@test.sipas.vn"
        return create_user(email, f"Người dùng thử {role}", secrets.token_urlsafe(16), role, agency)

    return make
