"""Shared helpers of the administration page tests."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, AuditEvent
from tests.conftest import hidden_fields


def csrf(client: FlaskClient, url: str = "/admin/") -> str:
    return hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]


def agency(code: str) -> Agency:
    found = db.session.scalar(select(Agency).where(Agency.code == code))
    assert found is not None
    return found


def last_event() -> AuditEvent | None:
    db.session.expire_all()
    return db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
