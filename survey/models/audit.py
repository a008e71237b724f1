"""The append-only audit log. Database triggers (see the first migration) refuse UPDATE and DELETE."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The acting user's id (no foreign key: users are deactivated, never deleted, and the log outlives them).
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Dotted verb, e.g. ``user.created``, ``counter.key_rotated``, ``seed.demo``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    #: The agency the event concerns (the lowest common ancestor when it concerns several); auditors see the
    #: events of their subtree. NULL: no agency (system settings, demo seeding, unknown accounts), which only
    #: auditors without an agency (and system administrators) see. No foreign key, like ``actor_user_id``.
    agency_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Structured detail; never personal data.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
