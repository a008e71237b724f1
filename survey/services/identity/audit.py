"""Append to the audit log. Never personal data in ``details``.

Every event names the agency it concerns (``agency_id``), so that an auditor sees the events of their own
subtree only; an event about several agencies names their lowest common ancestor (:func:`common_agency`),
and one about no agency (a system task, an unknown account) names none and is seen only by auditors
without an agency.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.models import Agency, AuditEvent, RoleAssignment


def record(
    session: Session,
    action: str,
    *,
    actor_user_id: int | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    agency_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction.

    Without ``agency_id``, an integer ``details["agency_id"]`` (as counters, exclusions and comment reviews
    record) is taken as the agency the event concerns.
    """
    details = details or {}
    if agency_id is None:
        named = details.get("agency_id")
        if isinstance(named, int) and not isinstance(named, bool):
            agency_id = named
    event = AuditEvent(
        action=action,
        actor_user_id=actor_user_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        agency_id=agency_id,
        details=details,
    )
    session.add(event)
    return event


def record_about_user(
    session: Session,
    action: str,
    user_id: int,
    *,
    actor_user_id: int | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An event whose target is a user account: it concerns the agency of the user's roles (:func:`user_agency`)."""
    return record(
        session,
        action,
        actor_user_id=actor_user_id,
        target_type="user",
        target_id=user_id,
        details=details,
        agency_id=user_agency(session, user_id),
    )


def common_agency(session: Session, agency_ids: Iterable[int | None]) -> int | None:
    """The lowest agency at or above every one of ``agency_ids`` (None if there are none or no common one)."""
    ids = {a for a in agency_ids if a is not None}
    if not ids:
        return None
    if len(ids) == 1:
        return next(iter(ids))
    parents: dict[int, int | None] = dict(session.execute(select(Agency.id, Agency.parent_id)).all())

    def chain(agency_id: int) -> list[int]:
        path: list[int] = []
        node: int | None = agency_id
        while node is not None and node not in path:
            path.append(node)
            node = parents.get(node)
        return path

    first, *others = (chain(a) for a in sorted(ids))
    shared = set(first).intersection(*others)
    # The first shared node on the way up from any agency is the lowest common ancestor.
    return next((node for node in first if node in shared), None)


def user_agency(session: Session, user_id: int | None) -> int | None:
    """The agency an event about a user concerns: the common ancestor of the user's role agencies.

    None for a system administrator or a user without roles (only unscoped auditors see those events).
    """
    if user_id is None:
        return None
    rows = session.execute(
        select(RoleAssignment.role, RoleAssignment.agency_id).where(RoleAssignment.user_id == user_id)
    )
    agencies: list[int] = []
    for role, agency_id in rows:
        if role == "system_admin" or agency_id is None:
            return None
        agencies.append(agency_id)
    return common_agency(session, agencies)
