"""Staff accounts: creation with a hashed password and a scoped role, recorded in the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from survey.db import db, upsert_insert, utcnow
from survey.models import Agency, RoleAssignment, SignInThrottle, User
from survey.models.codes import ROLES, UNSCOPED_ROLES
from survey.models.user import new_session_token
from survey.services.identity import audit

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """Invalid user details; the message says which and why."""


def create_user(
    email: str, display_name: str, password: str, role: str, agency_code: str | None, actor_user_id: int | None = None
) -> User:
    """Create an active user with one role; scrypt-hashed password; audited."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise UserError(f"e-mail address {email!r} is not valid")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if role == "system_admin" and agency_code is not None:
        raise UserError("a system administrator has no agency")
    if role not in UNSCOPED_ROLES and agency_code is None:
        raise UserError(f"the role {role} needs --agency (only system_admin and auditor may have none)")
    if not display_name.strip():
        raise UserError("the display name must not be empty")
    with db.write() as session:
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise UserError(f"a user with e-mail {email} already exists")
        agency_id = None
        if agency_code is not None:
            agency_id = session.scalar(select(Agency.id).where(Agency.code == agency_code))
            if agency_id is None:
                raise UserError(f"no agency with code {agency_code!r}")
        user = User(email=email, display_name=display_name.strip(), password_hash=generate_password_hash(password))
        user.roles.append(RoleAssignment(role=role, agency_id=agency_id))
        session.add(user)
        session.flush()
        audit.record(
            session,
            "user.created",
            actor_user_id=actor_user_id,
            target_type="user",
            target_id=user.id,
            details={"role": role, "agency": agency_code},
            agency_id=agency_id,
        )
    return user


# -- signing in ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleRule:
    """How failed sign-ins slow further attempts (OWASP ASVS 2.2); see the README's security section.

    * One e-mail × one client address: after ``threshold`` failures in a row, each further failure refuses
      that pair for ``min(2 ** (failures - threshold), cap)`` minutes (1, 2, 4, 8 … up to ``cap``); a
      success, or ``forget`` without a failure, starts the count again. Only the failing address waits.
    * One e-mail from every address: once ``soft_cap`` failures fall within ``window``, addresses that have
      not signed in to it successfully within ``trust`` share one password check per ``pace`` (a slow
      pace, never a lock); known addresses go on as before, so the real user is not locked out.

    E-mail addresses that match no account are throttled exactly the same way.
    """

    threshold: int = 5
    cap: dt.timedelta = dt.timedelta(minutes=15)
    soft_cap: int = 50
    window: dt.timedelta = dt.timedelta(hours=1)
    pace: dt.timedelta = dt.timedelta(seconds=30)
    trust: dt.timedelta = dt.timedelta(days=30)
    forget: dt.timedelta = dt.timedelta(days=1)

    def backoff(self, failures: int) -> dt.timedelta | None:
        """How long a pair waits after its ``failures``-th failure in a row (None: not yet)."""
        if failures < self.threshold:
            return None
        exponent = min(failures - self.threshold, 30)  # 2**30 minutes is far beyond any cap
        return min(dt.timedelta(minutes=2**exponent), self.cap)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``ok`` or ``refused`` (never which part was wrong, nor whether
    the account exists or the attempt was throttled: the answer is the same)."""

    status: str
    user: User | None = None


@cache
def _dummy_hash() -> str:
    # Checked against when the account does not exist, so a wrong e-mail costs as long as a wrong password.
    return generate_password_hash(new_session_token())


def throttle_key(secret: str, kind: str, email: str, client: str | None = None) -> str:
    """Keyed hash naming a throttle row: neither the e-mail typed nor the client address is stored."""
    message = "\0".join(["sipas-sign-in", kind, email] + ([client or ""] if kind == "pair" else []))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _throttle(session: Session, key: str, kind: str, now: dt.datetime) -> SignInThrottle:
    """The throttle row for ``key``, created if missing and locked for this transaction."""
    insert = upsert_insert(session.get_bind().dialect.name, SignInThrottle)
    session.execute(insert.values(key=key, kind=kind, failures=0, updated_at=now).on_conflict_do_nothing())
    row = session.scalar(
        select(SignInThrottle)
        .where(SignInThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    row.updated_at = now
    return row


def authenticate(
    email: str,
    password: str,
    *,
    client: str | None,
    secret: str,
    rule: ThrottleRule = ThrottleRule(),
    now: dt.datetime | None = None,
) -> SignIn:
    """Check a password from ``client`` (the address Flask sees), throttled by :class:`ThrottleRule`.

    Every attempt is audited (never with the e-mail typed, the address or the password): ``auth.signed_in``
    or ``auth.sign_in_failed`` (reason ``unknown_account``, ``inactive``, ``bad_password`` or ``throttled``
    with ``by`` ``address`` or ``account``), and ``auth.throttled`` when a back-off or the slow pace starts.
    """
    email = email.strip().lower()
    now = now or utcnow()
    with db.write() as session:
        session.execute(delete(SignInThrottle).where(SignInThrottle.updated_at < now - rule.trust))
        pair = _throttle(session, throttle_key(secret, "pair", email, client), "pair", now)
        account = _throttle(session, throttle_key(secret, "account", email), "account", now)
        if pair.last_failure_at is not None and now - pair.last_failure_at >= rule.forget:
            pair.failures = 0
        if account.window_started_at is None or now - account.window_started_at >= rule.window:
            account.failures, account.window_started_at = 0, now
        known_address = pair.last_success_at is not None and now - pair.last_success_at <= rule.trust

        user = session.scalar(select(User).where(User.email == email)) if email else None
        about: dict[str, object] = (
            {"target_type": "user", "target_id": user.id, "agency_id": audit.user_agency(session, user.id)}
            if user is not None
            else {}
        )

        def refuse(reason: str, **extra: object) -> SignIn:
            audit.record(session, "auth.sign_in_failed", details={"reason": reason, **extra}, **about)  # type: ignore[arg-type]  # ``about`` holds record()'s keyword arguments
            return SignIn("refused")

        if pair.blocked_until is not None and pair.blocked_until > now:
            return refuse("throttled", by="address")
        if account.failures >= rule.soft_cap and not known_address:
            if account.blocked_until is not None and account.blocked_until > now:
                return refuse("throttled", by="account")
            account.blocked_until = now + rule.pace  # this attempt takes the account's slot for unknown addresses

        right = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
        if user is not None and right and user.active:
            pair.failures, pair.blocked_until, pair.last_success_at = 0, None, now
            user.last_login_at = now
            if not user.session_token:
                user.session_token = new_session_token()
            audit.record(session, "auth.signed_in", actor_user_id=user.id, **about)  # type: ignore[arg-type]  # ``about`` holds record()'s keyword arguments
            return SignIn("ok", user=user)

        pair.failures += 1
        account.failures += 1
        pair.last_failure_at = account.last_failure_at = now
        reason = "unknown_account" if user is None else ("inactive" if right else "bad_password")
        result = refuse(reason, failures=pair.failures) if user is not None else refuse(reason)
        wait = rule.backoff(pair.failures)
        if wait is not None:
            pair.blocked_until = now + wait
            details = {"by": "address", "failures": pair.failures, "minutes": int(wait.total_seconds() // 60)}
            audit.record(session, "auth.throttled", details=details, **about)  # type: ignore[arg-type]  # ``about`` holds record()'s keyword arguments
        if account.failures == rule.soft_cap:
            details = {"by": "account", "failures": account.failures, "pace_seconds": int(rule.pace.total_seconds())}
            audit.record(session, "auth.throttled", details=details, **about)  # type: ignore[arg-type]  # ``about`` holds record()'s keyword arguments
        return result


def record_sign_out(user_id: int) -> None:
    """End every session of the user (a new security stamp: a saved cookie is worthless) and audit it."""
    with db.write() as session:
        user = session.get(User, user_id)
        if user is not None:
            user.session_token = new_session_token()
        audit.record_about_user(
            session,
            "auth.signed_out",
            user_id,
            actor_user_id=user_id,
            details={"sessions_ended": True},
        )


class PasswordError(UserError):
    """A password change was refused; ``code`` is ``wrong_current``, ``too_short`` or ``unchanged``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def set_password(user: User, password: str) -> None:
    """Store a new password (scrypt hash) and a new security stamp, which ends every session of the user."""
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()


def change_password(user_id: int, current: str, new: str) -> User:
    """Set a new password and a new security stamp, which signs the user out of every other session."""
    wrong_current = False
    with db.write() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise PasswordError("wrong_current")
        if not check_password_hash(user.password_hash, current):
            # Audited (committed) before refusing: repeated guesses from a left-open session are visible.
            audit.record_about_user(
                session,
                "user.password_change_failed",
                user.id,
                actor_user_id=user.id,
                details={"reason": "wrong_current"},
            )
            wrong_current = True
        elif len(new) < MIN_PASSWORD_LENGTH:
            raise PasswordError("too_short")
        elif check_password_hash(user.password_hash, new):
            raise PasswordError("unchanged")
        else:
            set_password(user, new)
            audit.record_about_user(
                session,
                "user.password_changed",
                user.id,
                actor_user_id=user.id,
                details={"sessions_ended": True},
            )
    if wrong_current:
        raise PasswordError("wrong_current")
    return user


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def display_names(session: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """User id → display name, for these ids."""
    return {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(set(user_ids))))}
