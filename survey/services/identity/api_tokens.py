"""Personal API tokens: created and revoked by their owner, shown once, stored as a SHA-256 digest.

A token is ``sipas_`` followed by 256 random bits (``secrets.token_urlsafe(32)``). Only its digest and
its first characters (to tell tokens apart in a list) are stored; the secret is handed to the caller
once, by :func:`create_token`, and never again. A token acts as its user: same roles, same scopes, and
it stops working when the user is deactivated. Creating and revoking are audit-logged; using a token
updates ``last_used_at`` at most once a minute, so reading the API does not write on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from survey.db import db, utcnow
from survey.models import ApiToken, User
from survey.services.identity import audit

#: Every token starts with this, so a leaked one is recognisable (e.g. by secret scanners).
TOKEN_PREFIX = "sipas_"  # noqa: S105  (the public prefix, not a secret)
#: Characters of the secret kept in clear (the prefix and a few random ones).
SHOWN_CHARS = 10
MAX_NAME_LENGTH = 100
#: Lifetimes offered when creating a token, in days (None: until revoked).
LIFETIMES = (30, 90, 365, None)
#: ``last_used_at`` is written at most this often per token.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


class TokenError(ValueError):
    """A token change was refused; ``code`` names why (``name_required``, ``bad_lifetime``, ``not_found``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewToken:
    """A just-created token and its secret: the only moment the secret exists outside the caller's hands."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Authenticated:
    user: User
    token: ApiToken


def digest(secret: str) -> str:
    """Hex SHA-256 of the whole secret (256 random bits need no slow hash)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(user_id: int, name: str, lifetime_days: int | None, *, now: dt.datetime | None = None) -> NewToken:
    """Create a token for ``user_id`` (its own action); returns the secret, which is not stored."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise TokenError("name_required")
    if lifetime_days not in LIFETIMES:
        raise TokenError("bad_lifetime")
    now = now or utcnow()
    secret = new_secret()
    with db.write() as session:
        token = ApiToken(
            user_id=user_id,
            name=name,
            token_digest=digest(secret),
            prefix=secret[:SHOWN_CHARS],
            created_at=now,
            expires_at=None if lifetime_days is None else now + dt.timedelta(days=lifetime_days),
        )
        session.add(token)
        session.flush()
        audit.record(
            session,
            "api_token.created",
            actor_user_id=user_id,
            target_type="api_token",
            target_id=token.id,
            agency_id=audit.user_agency(session, user_id),
            details={
                "name": token.name,
                "prefix": token.prefix,
                "expires_at": None if token.expires_at is None else token.expires_at.isoformat(),
            },
        )
    return NewToken(token, secret)


def revoke_token(user_id: int, token_id: int, *, now: dt.datetime | None = None) -> ApiToken:
    """Revoke one of ``user_id``'s own tokens; another user's token is "not found". Revoking twice is a no-op."""
    with db.write() as session:
        token = session.scalar(
            select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id).with_for_update()
        )
        if token is None:
            raise TokenError("not_found")
        if token.revoked_at is None:
            token.revoked_at = now or utcnow()
            audit.record(
                session,
                "api_token.revoked",
                actor_user_id=user_id,
                target_type="api_token",
                target_id=token.id,
                details={"name": token.name, "prefix": token.prefix},
                agency_id=audit.user_agency(session, user_id),
            )
    return token


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too: the list is their history)."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def status(token: ApiToken, now: dt.datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def authenticate(session: Session, secret: str, *, now: dt.datetime | None = None) -> Authenticated | None:
    """The active token and user for ``secret``; None if unknown, revoked, expired or its user is inactive."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    wanted = digest(secret)
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_digest == wanted)
        .options(selectinload(ApiToken.user).selectinload(User.roles))
    )
    # The lookup is by digest; the constant-time compare is belt and braces against a lax collation.
    if token is None or not hmac.compare_digest(token.token_digest, wanted):
        return None
    if status(token, now) != "active" or not token.user.active:
        return None
    return Authenticated(token.user, token)


def touch(token: ApiToken, *, now: dt.datetime | None = None) -> bool:
    """Record that the token was used, unless that was recorded less than a minute ago; True if written."""
    now = now or utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return False
    with db.write() as session:
        # Conditional, so concurrent requests of one token write once between them.
        result = session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token.id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_INTERVAL),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    token.last_used_at = now
    return bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
