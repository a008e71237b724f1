"""Completed transactions per agency (optionally counter) × field × month: the weighting base."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow


class TransactionVolume(Base):
    __tablename__ = "transaction_volumes"
    __table_args__ = (
        UniqueConstraint("agency_id", "counter_id", "field_id", "month"),
        # NULLs are distinct in a UNIQUE constraint, so agency-level rows (no counter) need their own index.
        Index(
            "uq_transaction_volumes_agency_level",
            "agency_id",
            "field_id",
            "month",
            unique=True,
            sqlite_where=text("counter_id IS NULL"),
            postgresql_where=text("counter_id IS NULL"),
        ),
        CheckConstraint("transactions >= 0", name="transactions_non_negative"),
        CheckConstraint("CAST(strftime('%d', month) AS INTEGER) = 1", name="month_first_day").ddl_if(dialect="sqlite"),
        CheckConstraint("EXTRACT(DAY FROM month) = 1", name="month_first_day").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    field_id: Mapped[int] = mapped_column(ForeignKey("procedure_fields.id"))
    #: First day of the month.
    month: Mapped[dt.date] = mapped_column(Date)
    transactions: Mapped[int] = mapped_column(Integer)
    #: Where the figure came from (e.g. ``import:volumes-2026-05.csv``, ``demo``).
    source: Mapped[str] = mapped_column(String(255))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
