"""Helpers for the security tests: every rule of the URL map with placeholder values for its arguments."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.routing.converters import IntegerConverter, UUIDConverter

from survey.db import db
from survey.models import User
from survey.services.identity import api_tokens


def placeholder_url(app: Flask, rule: Rule, known: dict[str, object] | None = None) -> str:
    """A URL for ``rule``: ``known`` values first, else something its converters accept."""
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)  # noqa: SLF001  (werkzeug keeps them per rule)
        if known and name in known:
            values[name] = known[name]
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, UUIDConverter):
            values[name] = uuid.UUID(int=1)
        else:
            values[name] = "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def rules(app: Flask, method: str) -> Iterator[Rule]:
    """Every rule answering ``method``, in a stable order (static files left out)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint != "static" and method in (rule.methods or set()):
            yield rule


@pytest.fixture
def token_of(staff_app: Flask, logins: dict[str, Any]) -> Callable[[str], str]:
    """Factory: a fresh API token (its secret) of the seeded demo user holding ``role``."""

    def make(role: str) -> str:
        user = db.session.scalar(select(User).where(User.email == logins[role].email))
        assert user is not None
        return api_tokens.create_token(user.id, f"security {role}", None).secret

    return make
