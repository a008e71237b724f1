"""Managers' mail preferences and the record of every message sent (so nothing is sent twice)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow
from survey.models.codes import check_in

DIGEST_FREQUENCIES = ("off", "daily", "weekly")
SEND_KINDS = ("digest", "alert")


class NotificationPreference(Base):
    """How often a user gets the digest; whether alerts are mailed at once. No row: the defaults."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint(check_in("digest", DIGEST_FREQUENCIES), name="digest"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(8), default="weekly")
    alert_mail: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationSend(Base):
    """One message sent to one user: a digest for a period (``daily:2026-12-02``) or an alert (``alert:17``)."""

    __tablename__ = "notification_sends"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "period_key"),
        CheckConstraint(check_in("kind", SEND_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    period_key: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Items the message listed (comments and alerts).
    items: Mapped[int] = mapped_column(Integer, default=0)
