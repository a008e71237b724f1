"""CSRF: every POST route of the URL map refuses a missing, forged or foreign-session token.

The routes are enumerated from the URL map, so a route added later is covered without anyone
remembering it. Blueprints exempted from CSRF must live under /api/ (bearer tokens, no cookies).
"""

from __future__ import annotations

from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from survey.db import db
from survey.extensions import csrf
from survey.models import AuditEvent, Response
from tests.conftest import hidden_fields
from tests.security.conftest import placeholder_url, rules


def _exempt(app: Flask, endpoint: str) -> bool:
    view = app.view_functions[endpoint]
    blueprint = endpoint.rsplit(".", 1)[0] if "." in endpoint else None
    # Flask-WTF keeps exempt blueprints as objects (older releases: names).
    exempt = {getattr(b, "name", b) for b in csrf._exempt_blueprints}  # noqa: SLF001
    return blueprint in exempt or f"{view.__module__}.{view.__name__}" in csrf._exempt_views  # noqa: SLF001


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Response)) or 0,
        db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    )


def test_every_post_route_refuses_missing_forged_and_foreign_tokens(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("system_admin")
    own_token = hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]
    # A token signed with another secret, and a genuine token of another browser's session.
    forged = URLSafeTimedSerializer("not-the-secret-key-not-the-secret-key", salt="wtf-csrf-token").dumps("0" * 40)
    foreign = hidden_fields(staff_app.test_client().get("/auth/sign-in").get_data(as_text=True))["csrf_token"]
    assert foreign != own_token
    before = _counts()
    checked = []
    for rule in rules(staff_app, "POST"):
        if _exempt(staff_app, rule.endpoint):
            assert rule.rule.startswith("/api/"), f"{rule.endpoint} is CSRF-exempt outside /api/"
            continue
        url = placeholder_url(staff_app, rule)
        for label, data in (("missing", {}), ("forged", {"csrf_token": forged}), ("foreign", {"csrf_token": foreign})):
            reply = client.post(url, data={**data, "active": "no", "email": "x@example.vn"})
            assert reply.status_code == 400, f"POST {url} with a {label} token: {reply.status_code}"
            assert reply.headers["Content-Security-Policy"]
        checked.append(rule.endpoint)
    assert {"public.survey", "auth.sign_in", "auth.sign_out"} <= set(checked)
    assert _counts() == before, "a refused POST changed something"
    # The genuine token still works (the test would pass vacuously if every POST were broken).
    assert client.post("/auth/sign-out", data={"csrf_token": own_token}).status_code == 303
