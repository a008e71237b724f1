"""Review flags on responses: raised automatically (a burst from one counter), kept apart from the response.

A flag never changes or deletes the response: staff review it and may later exclude the response
with a reason. Indices can be computed with and without flagged responses.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow
from survey.models.codes import check_in

#: Why a response was flagged for review.
FLAG_REASONS = ("burst",)


class ResponseFlag(Base):
    """One reason to review one response. The primary key makes flagging idempotent."""

    __tablename__ = "response_flags"
    __table_args__ = (CheckConstraint(check_in("reason", FLAG_REASONS), name="reason"),)

    response_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("responses.id", ondelete="CASCADE"),
        primary_key=True,
    )
    reason: Mapped[str] = mapped_column(String(16), primary_key=True)
    flagged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The audit event that recorded the detection (its details hold the window and the counts).
    audit_event_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))


class CommentReview(Base):
    """A comment marked handled by staff; deleting the row marks it unhandled again (both audit-logged)."""

    __tablename__ = "comment_reviews"

    response_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("responses.id", ondelete="CASCADE"),
        primary_key=True,
    )
    handled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What was done about it (optional, staff-written, never shown to the public).
    note: Mapped[str | None] = mapped_column(String(500))
