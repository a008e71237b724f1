"""Token authentication for ``/api/v1``: every request carries ``Authorization: Bearer <token>``.

The API is token-only. A session cookie is never read (``TokenOnlySessions`` gives API requests an
empty session) and never set, so a signed-in browser gets 401 like anyone else without a token, and
CSRF does not apply. The token's user becomes ``current_user`` for the request, so the shared scope
helpers (``survey.auth.scope``) answer for it exactly as they do for that user's pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, g, request
from flask.sessions import SecureCookieSession, SessionInterface
from flask_login import current_user

from survey.api.problems import INVALID_TOKEN, MISSING_TOKEN, ApiProblem
from survey.auth import Scope, scope
from survey.db import db
from survey.models import Agency
from survey.services.administration import scope_queries
from survey.services.identity import api_tokens

API_PREFIX = "/api/"
REALM = "SIPAS API"


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def _bearer() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


def unauthorized(missing: bool) -> ApiProblem:
    if missing:
        return ApiProblem(
            401,
            "This API needs a personal API token: Authorization: Bearer sipas_… "
            "(create one under Account → API tokens). Session cookies are not accepted.",
            title="Token required",
            type_=MISSING_TOKEN,
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        )
    return ApiProblem(
        401,
        "The token is unknown, revoked or expired, or its account is deactivated.",
        title="Invalid token",
        type_=INVALID_TOKEN,
        headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'},
    )


def rate_limit_key() -> str:
    """Flask-Limiter key: the presented token (hashed), else the client (hashed), so each token has its limit."""
    secret = _bearer()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:32]
    from survey.privacy import client_key

    return client_key()


def guard(bp: Blueprint, public_endpoints: Iterable[str] = ()) -> Blueprint:
    """Authenticate every request of ``bp`` by its bearer token (except ``public_endpoints``)."""
    open_endpoints = frozenset(public_endpoints)

    @bp.before_request
    def authenticate() -> None:
        from survey.extensions import login_manager

        # Nothing from a browser session: the request is anonymous until its token says otherwise.
        g._login_user = login_manager.anonymous_user()
        if request.endpoint in open_endpoints:
            return
        secret = _bearer()
        if secret is None:
            raise unauthorized(missing=True)
        found = api_tokens.authenticate(db.session, secret)
        if found is None:
            raise unauthorized(missing=False)
        g._login_user = found.user
        g.api_token = found.token
        api_tokens.touch(found.token)

    # The marker the route-auth test and ``survey.auth.protect`` read: this blueprint is guarded.
    bp.sipas_protected = open_endpoints  # type: ignore[attr-defined]  # a marker attribute read when the blueprint is registered
    return bp


def capability_scope(capability: str) -> Scope:
    """The token user's scope for ``capability``; 403 if the user holds it nowhere."""
    held = scope(capability)
    if held.empty:
        raise ApiProblem(403, f"Your account does not hold the capability {capability!r} this resource needs.")
    return held


def agency_or_404(code: str, capability: str) -> Agency:
    """The agency if the token's user may use it for ``capability``; 404 otherwise (existence not confirmed)."""
    held = capability_scope(capability)
    agency = scope_queries.agency_by_code(db.session, code)  # None for a NUL byte too (a 404, not a 500)
    if agency is None or agency.id not in held:
        raise ApiProblem(404, f"No agency {code!r} among those your token may read.")
    return agency


def user_id() -> int:
    return int(current_user.id)


class TokenOnlySessions(SessionInterface):
    """The app's session interface, except that API requests get an empty session that is never saved.

    ``save_session`` is the last hook before a response leaves, so it also drops any cookie another
    ``after_request`` (e.g. the language cookie) set on an API response: API responses set no cookies.
    """

    def __init__(self, inner: SessionInterface) -> None:
        self.inner = inner

    def open_session(self, app: Flask, request: Any) -> Any:
        if request.path.startswith(API_PREFIX):
            return SecureCookieSession()
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if is_api_request():
            response.headers.remove("Set-Cookie")
            return None
        return self.inner.save_session(app, session, response)

    def make_null_session(self, app: Flask) -> Any:
        return self.inner.make_null_session(app)

    def is_null_session(self, obj: object) -> bool:
        return self.inner.is_null_session(obj)
