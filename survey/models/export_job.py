"""Exports requested on the web: run in the background, with progress the requester can watch."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow
from survey.models.codes import check_in

EXPORT_JOB_STATUSES = ("queued", "running", "done", "failed")


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (CheckConstraint(check_in("status", EXPORT_JOB_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random public id used in URLs (ids are not enumerable).
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(8))
    #: The filters as JSON (agency, dates, instrument, status, sample, comments).
    filters: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    #: File name inside the export directory once done.
    file_name: Mapped[str | None] = mapped_column(String(255))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Refreshed while running; a running job whose heartbeat stops was interrupted.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
