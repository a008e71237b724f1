"""Follow-up of citizens' comments (who, status, reply, due date) and what managers publish from it.

A :class:`PublishedAction` ("you said, we did") is text a manager wrote and published; it never copies
the citizen's comment by itself.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow
from survey.models.codes import check_in

FOLLOWUP_STATUSES = ("received", "in_progress", "resolved")
REPLY_MAX_LENGTH = 1000
PUBLISHED_MAX_LENGTH = 600


class CommentFollowUp(Base):
    __tablename__ = "comment_followups"
    __table_args__ = (
        CheckConstraint(check_in("status", FOLLOWUP_STATUSES), name="status"),
        Index("ix_comment_followups_agency_status_due", "agency_id", "status", "due_on"),
    )

    response_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("responses.id", ondelete="CASCADE"),
        primary_key=True,
    )
    #: The response's agency (the scope every query filters on).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="received")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What was done or answered (staff-written; not public unless published as an action).
    reply_note: Mapped[str | None] = mapped_column(String(REPLY_MAX_LENGTH))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PublishedAction(Base):
    """A "you said, we did" entry on the public results page, written by a manager from a resolved comment."""

    __tablename__ = "published_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    response_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("responses.id", ondelete="SET NULL"),
        unique=True,
    )
    text: Mapped[str] = mapped_column(String(PUBLISHED_MAX_LENGTH))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PublicResultsSetting(Base):
    """A province opted in to (or out of) the public results page; no row: not published."""

    __tablename__ = "public_results_settings"

    province_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
