"""Append to the audit log. Never personal data in ``details``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from survey.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    actor_user_id: int | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction."""
    event = AuditEvent(
        action=action,
        actor_user_id=actor_user_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
    )
    session.add(event)
    return event
