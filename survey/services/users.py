"""Staff accounts: creation with a hashed password and a scoped role, recorded in the audit log."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from survey.db import db, utcnow
from survey.models import Agency, RoleAssignment, User
from survey.models.codes import ROLES
from survey.models.user import new_session_token
from survey.services import audit

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
    if (role == "system_admin") != (agency_code is None):
        raise UserError("a system administrator has no agency; every other role needs --agency")
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
        )
    return user


# -- signing in ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``ok``, ``invalid`` (never says which part was wrong) or ``locked``."""

    status: str
    user: User | None = None
    locked_until: dt.datetime | None = None


@cache
def _dummy_hash() -> str:
    # Checked against when the account does not exist, so a wrong e-mail costs as long as a wrong password.
    return generate_password_hash(new_session_token())


def authenticate(email: str, password: str, *, threshold: int, lockout: dt.timedelta) -> SignIn:
    """Check a password; count failures per account and lock it for ``lockout`` after ``threshold`` in a row.

    Every attempt is audited (never with the e-mail typed or the password): ``auth.signed_in``,
    ``auth.sign_in_failed`` (reason ``unknown_account``, ``inactive``, ``bad_password`` or ``locked``)
    and ``auth.locked`` when a lock-out starts.
    """
    email = email.strip().lower()
    now = utcnow()
    with db.write() as session:
        user = session.scalar(select(User).where(User.email == email)) if email else None
        if user is None:
            check_password_hash(_dummy_hash(), password)
            audit.record(session, "auth.sign_in_failed", details={"reason": "unknown_account"})
            return SignIn("invalid")
        if user.locked_until is not None and user.locked_until > now:
            audit.record(
                session, "auth.sign_in_failed", target_type="user", target_id=user.id, details={"reason": "locked"}
            )
            return SignIn("locked", locked_until=user.locked_until)
        if not check_password_hash(user.password_hash, password):
            user.failed_sign_ins += 1
            details: dict[str, object] = {"reason": "bad_password", "failures": user.failed_sign_ins}
            audit.record(session, "auth.sign_in_failed", target_type="user", target_id=user.id, details=details)
            if user.failed_sign_ins >= threshold:
                user.locked_until = now + lockout
                user.failed_sign_ins = 0
                audit.record(
                    session,
                    "auth.locked",
                    target_type="user",
                    target_id=user.id,
                    details={"until": user.locked_until.isoformat(), "after_failures": threshold},
                )
                return SignIn("locked", locked_until=user.locked_until)
            return SignIn("invalid")
        if not user.active:
            audit.record(
                session, "auth.sign_in_failed", target_type="user", target_id=user.id, details={"reason": "inactive"}
            )
            return SignIn("invalid")
        user.failed_sign_ins = 0
        user.locked_until = None
        user.last_login_at = now
        if not user.session_token:
            user.session_token = new_session_token()
        audit.record(session, "auth.signed_in", actor_user_id=user.id, target_type="user", target_id=user.id)
    return SignIn("ok", user=user)


def record_sign_out(user_id: int) -> None:
    """Audit a sign-out."""
    with db.write() as session:
        audit.record(session, "auth.signed_out", actor_user_id=user_id, target_type="user", target_id=user_id)


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
            audit.record(
                session,
                "user.password_change_failed",
                actor_user_id=user.id,
                target_type="user",
                target_id=user.id,
                details={"reason": "wrong_current"},
            )
            wrong_current = True
        elif len(new) < MIN_PASSWORD_LENGTH:
            raise PasswordError("too_short")
        elif check_password_hash(user.password_hash, new):
            raise PasswordError("unchanged")
        else:
            set_password(user, new)
            audit.record(
                session,
                "user.password_changed",
                actor_user_id=user.id,
                target_type="user",
                target_id=user.id,
                details={"sessions_ended": True},
            )
    if wrong_current:
        raise PasswordError("wrong_current")
    return user
