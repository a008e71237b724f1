"""Staff users and their roles, each role scoped to a node of the agency hierarchy."""

from __future__ import annotations

import datetime as dt
import secrets

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, UTCDateTime, utcnow
from survey.models.codes import ROLES, check_in


def new_session_token() -> str:
    """A fresh security stamp: changing it signs the user out of every session."""
    return secrets.token_hex(32)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-case; the sign-in name.
    email: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    #: Werkzeug scrypt hash; never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Security stamp kept in the session id; a new one (password change, sign-out) ends every session.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token, server_default="")

    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        """Flask-Login's session id: the user id and the security stamp (its "alternative token")."""
        return f"{self.id}:{self.session_token}"


class RoleAssignment(Base):
    """``role`` over ``agency`` and its descendants; a system administrator (and a system auditor) has no agency."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "agency_id"),
        CheckConstraint(check_in("role", ROLES), name="role"),
        # Every role needs an agency but system_admin (never one) and auditor (none: the whole audit log).
        CheckConstraint("role = 'auditor' OR (role = 'system_admin') = (agency_id IS NULL)", name="scope_matches_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")


class SignInThrottle(Base):
    """Failed sign-ins of one e-mail address (``account``) or one e-mail × client address (``pair``).

    ``key`` is an HMAC (``SECRET_KEY``) of the e-mail typed and, for a pair, of the client address: neither
    is stored, and an e-mail that matches no account is throttled exactly like one that does. The rule is in
    :func:`survey.services.identity.users.authenticate`.
    """

    __tablename__ = "sign_in_throttles"
    __table_args__ = (CheckConstraint(check_in("kind", ("account", "pair")), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    #: Pair: failures since the last success (or a day without failures). Account: failures in the window.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Attempts are refused (without checking the password) until then: a pair's back-off, or the account's
    #: pace for addresses it does not know while it is under attack.
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Pair only: the last successful sign-in from this address (a known address is not slowed by the soft cap).
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Account only: start of the window in which ``failures`` are counted.
    window_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Rows untouched for long are deleted (they hold nothing once their back-off and trust have expired).
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
