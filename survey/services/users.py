"""Staff accounts: creation with a hashed password and a scoped role, recorded in the audit log."""

from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from survey.db import db
from survey.models import Agency, RoleAssignment, User
from survey.models.codes import ROLES
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
