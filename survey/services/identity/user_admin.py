"""Staff accounts and roles managed by other staff, within the manager's own agency subtree.

Rules (each refusal is a :class:`UserAdminError` with a code the page translates):

- A manager sees the users holding at least one role inside their ``manage_users`` scope.
- Roles are granted and removed per agency. What a manager may grant at an agency depends on the
  managing roles they hold over it: a system administrator any role; a province administrator
  province_admin, agency_manager, agency_viewer and statistician; an agency manager agency_manager,
  agency_viewer and statistician. system_admin, auditor, and an auditor without an agency (a system
  auditor, who reads the whole audit log) are only granted by system administrators.
- Account changes (name, active, password) need every role of the account to be one the manager
  could grant: nobody edits an account that reaches beyond their own reach.
- Nobody deactivates themselves or removes their own last role that manages users.

Every change runs in one transaction with its audit event; a password reset and a deactivation also
change the security stamp, which ends the user's sessions.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from survey.auth import CAPABILITIES, Scope, _children_map, subtree
from survey.db import db
from survey.models import Agency, RoleAssignment, User
from survey.models.codes import ROLES, UNSCOPED_ROLES
from survey.models.user import new_session_token
from survey.services.administration.scope_queries import in_scope
from survey.services.identity import audit
from survey.services.identity.users import MIN_PASSWORD_LENGTH, UserError, create_user, set_password

MAX_NAME_LENGTH = 255
MAX_PASSWORD_LENGTH = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: The roles each managing role may grant inside its subtree.
GRANTABLE: dict[str, frozenset[str]] = {
    "system_admin": frozenset(ROLES),
    "province_admin": frozenset({"province_admin", "agency_manager", "agency_viewer", "statistician"}),
    "agency_manager": frozenset({"agency_manager", "agency_viewer", "statistician"}),
}
MANAGING_ROLES = CAPABILITIES["manage_users"]


class UserAdminError(ValueError):
    """A change was refused. Codes: ``not_found``, ``bad_email``, ``email_taken``, ``name_required``,
    ``password_too_short``, ``password_too_long``, ``role_not_allowed``, ``agency_required``,
    ``role_exists``, ``self_deactivate``, ``last_managing_role``, ``account_out_of_reach``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Managed:
    """A user as a manager sees them: which roles the manager may remove, whether the account is editable."""

    user: User
    removable: frozenset[int]
    editable: bool


def generate_password() -> str:
    """A random initial password (20 URL-safe characters, 120 bits)."""
    return secrets.token_urlsafe(15)


class _Reach:
    """What ``actor`` may grant at each agency (computed once per unit of work)."""

    def __init__(self, session: Session, actor: User) -> None:
        self.actor = actor
        self.everything = any(r.role == "system_admin" for r in actor.roles)
        children = _children_map(session)
        self._below: list[tuple[set[int], frozenset[str]]] = [
            (subtree(children, [r.agency_id]), GRANTABLE[r.role])
            for r in actor.roles
            if r.role in GRANTABLE and r.agency_id is not None
        ]

    def grantable(self, agency_id: int | None) -> frozenset[str]:
        if self.everything:
            return frozenset(ROLES)
        if agency_id is None:
            return frozenset()
        roles: set[str] = set()
        for ids, grant in self._below:
            if agency_id in ids:
                roles |= grant
        return frozenset(roles)

    def may_hold(self, role: RoleAssignment) -> bool:
        return role.role in self.grantable(role.agency_id)

    def account_editable(self, user: User) -> bool:
        return all(self.may_hold(r) for r in user.roles) and (self.everything or bool(user.roles))


def _visible(scope: Scope) -> list:  # type: ignore[type-arg]  # a list of SQL criteria of mixed types
    if scope.everything:
        return []
    return [User.id.in_(select(RoleAssignment.user_id).where(*in_scope(RoleAssignment.agency_id, scope)))]


def users_in_scope(session: Session, scope: Scope, actor: User) -> list[Managed]:
    """Users with a role inside ``scope`` (every user for a system administrator), by e-mail."""
    users = session.scalars(
        select(User).where(*_visible(scope)).options(selectinload(User.roles)).order_by(User.email)
    ).all()
    reach = _Reach(session, actor)
    return [Managed(u, frozenset(r.id for r in u.roles if reach.may_hold(r)), reach.account_editable(u)) for u in users]


def managed_user(session: Session, scope: Scope, actor: User, user_id: int) -> Managed | None:
    """One user in ``scope`` as :func:`users_in_scope` describes them, or None (also outside scope)."""
    user = session.scalar(select(User).where(User.id == user_id, *_visible(scope)).options(selectinload(User.roles)))
    if user is None:
        return None
    reach = _Reach(session, actor)
    return Managed(user, frozenset(r.id for r in user.roles if reach.may_hold(r)), reach.account_editable(user))


def grant_choices(session: Session, scope: Scope, actor: User) -> tuple[list[str], list[Agency]]:
    """Roles the actor may grant somewhere, and the agencies in scope (tree order is the caller's)."""
    reach = _Reach(session, actor)
    agencies = list(session.scalars(select(Agency).where(*in_scope(Agency.id, scope)).order_by(Agency.code)))
    roles: set[str] = set(reach.grantable(None)) if reach.everything else set()
    for agency in agencies:
        roles |= reach.grantable(agency.id)
    return [r for r in ROLES if r in roles], agencies


def _check_grant(session: Session, reach: _Reach, role: str, agency_code: str | None) -> int | None:
    if role not in ROLES:
        raise UserAdminError("role_not_allowed")
    if role == "system_admin" or (role in UNSCOPED_ROLES and not agency_code):
        # No agency: every agency (a system auditor reads the whole audit log); system administrators only.
        if not reach.everything:
            raise UserAdminError("role_not_allowed")
        return None
    if not agency_code:
        raise UserAdminError("agency_required")
    agency_id = session.scalar(select(Agency.id).where(Agency.code == agency_code))
    if agency_id is None or role not in reach.grantable(agency_id):
        # Unknown agency and out-of-reach agency read the same: existence is not confirmed.
        raise UserAdminError("role_not_allowed")
    return agency_id


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserAdminError("password_too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserAdminError("password_too_long")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise UserAdminError("name_required")
    return name


def create_managed_user(
    actor: User, email: str, display_name: str, role: str, agency_code: str | None, password: str | None
) -> tuple[User, str]:
    """Create an account with one role the actor may grant; returns it and its password (generated if none).

    Hashing and the ``user.created`` audit event come from :func:`survey.services.identity.users.create_user`.
    """
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 255:
        raise UserAdminError("bad_email")
    display_name = _check_name(display_name)
    password = password or generate_password()
    _check_password(password)
    session = db.session
    _check_grant(session, _Reach(session, actor), role, agency_code)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserAdminError("email_taken")
    try:
        user = create_user(
            email, display_name, password, role, None if role == "system_admin" else agency_code or None, actor.id
        )
    except UserError:
        # Only a race (the same e-mail created meanwhile) gets here: every other rule was checked above.
        raise UserAdminError("email_taken") from None
    return user, password


def _load(session: Session, scope: Scope, user_id: int) -> User:
    user = session.scalar(
        select(User).where(User.id == user_id, *_visible(scope)).options(selectinload(User.roles)).with_for_update()
    )
    if user is None:
        raise UserAdminError("not_found")
    return user


def _editable(session: Session, actor: User, user: User) -> _Reach:
    reach = _Reach(session, actor)
    if not reach.account_editable(user):
        raise UserAdminError("account_out_of_reach")
    return reach


def rename_user(scope: Scope, actor: User, user_id: int, display_name: str) -> User:
    """Change the display name. Audited as ``user.renamed`` (without the names: they are personal data)."""
    display_name = _check_name(display_name)
    with db.write() as session:
        user = _load(session, scope, user_id)
        _editable(session, actor, user)
        if user.display_name != display_name:
            user.display_name = display_name
            audit.record_about_user(
                session,
                "user.renamed",
                user.id,
                actor_user_id=actor.id,
            )
    return user


def set_user_active(scope: Scope, actor: User, user_id: int, active: bool) -> User:
    """Activate or deactivate an account (deactivating ends its sessions). Audited."""
    with db.write() as session:
        user = _load(session, scope, user_id)
        if user.id == actor.id and not active:
            raise UserAdminError("self_deactivate")
        _editable(session, actor, user)
        if user.active != active:
            user.active = active
            user.session_token = new_session_token()
            audit.record_about_user(
                session,
                "user.activated" if active else "user.deactivated",
                user.id,
                actor_user_id=actor.id,
            )
    return user


def reset_password(scope: Scope, actor: User, user_id: int, password: str | None) -> tuple[User, str]:
    """Set a new password (generated if none) and end the account's sessions. Audited."""
    password = password or generate_password()
    _check_password(password)
    with db.write() as session:
        user = _load(session, scope, user_id)
        _editable(session, actor, user)
        set_password(user, password)
        audit.record_about_user(
            session,
            "user.password_reset",
            user.id,
            actor_user_id=actor.id,
            details={"sessions_ended": True, "own": user.id == actor.id},
        )
    return user, password


def grant_role(scope: Scope, actor: User, user_id: int, role: str, agency_code: str | None) -> RoleAssignment:
    """Give a user another role over an agency the actor may grant it at. Audited as ``user.role_granted``."""
    with db.write() as session:
        user = _load(session, scope, user_id)
        agency_id = _check_grant(session, _Reach(session, actor), role, agency_code)
        if any(r.role == role and r.agency_id == agency_id for r in user.roles):
            raise UserAdminError("role_exists")
        assignment = RoleAssignment(role=role, agency_id=agency_id)
        user.roles.append(assignment)
        session.flush()
        audit.record(
            session,
            "user.role_granted",
            actor_user_id=actor.id,
            target_type="user",
            target_id=user.id,
            details={"role": role, "agency": agency_code if agency_id is not None else None},
            agency_id=agency_id,
        )
    return assignment


def _managing(roles: Iterable[RoleAssignment]) -> int:
    return sum(1 for r in roles if r.role in MANAGING_ROLES)


def remove_role(scope: Scope, actor: User, user_id: int, role_id: int) -> None:
    """Take a role away (one the actor could grant). Audited as ``user.role_removed``."""
    with db.write() as session:
        user = _load(session, scope, user_id)
        assignment = next((r for r in user.roles if r.id == role_id), None)
        if assignment is None:
            raise UserAdminError("not_found")
        if not _Reach(session, actor).may_hold(assignment):
            raise UserAdminError("role_not_allowed")
        if user.id == actor.id and assignment.role in MANAGING_ROLES and _managing(user.roles) <= 1:
            raise UserAdminError("last_managing_role")
        agency_code = None
        if assignment.agency_id is not None:
            agency_code = session.scalar(select(Agency.code).where(Agency.id == assignment.agency_id))
        user.roles.remove(assignment)
        audit.record(
            session,
            "user.role_removed",
            actor_user_id=actor.id,
            target_type="user",
            target_id=user.id,
            details={"role": assignment.role, "agency": agency_code},
            agency_id=assignment.agency_id,
        )
