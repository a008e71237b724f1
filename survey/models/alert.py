"""Alerts: a series (an agency's or a counter's index, or one criterion) that dropped from the month before.

One :class:`AlertRun` per province and month says how many series were tested (the false-discovery family);
each :class:`Alert` is one drop significant under Benjamini–Hochberg across that family. Recomputing a
month updates the rows in place (``series_key`` is stable), so an alert already mailed is not mailed again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow


class AlertRun(Base):
    """The alerts of one province for one month were computed (when, and over how many series)."""

    __tablename__ = "alert_runs"

    province_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Series with a (not suppressed) figure in both months: the family the FDR is controlled over.
    series_tested: Mapped[int] = mapped_column(Integer, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)


class Alert(Base):
    """A significant drop of one series from the previous month to ``month``."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("province_id", "month", "instrument_id", "series_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    month: Mapped[dt.date] = mapped_column(Date)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    #: The agency whose series it is (a counter's agency for a counter series).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"))
    #: ``overall`` or an element (criterion) code.
    target: Mapped[str] = mapped_column(String(40))
    #: ``agency:<id>:<target>`` or ``counter:<id>:overall``: the same series keeps its key month after month.
    series_key: Mapped[str] = mapped_column(String(120))
    share: Mapped[float] = mapped_column(Float)
    previous_share: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    #: Benjamini–Hochberg adjusted p-value across the province's series of the month.
    q_value: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the immediate message went to the managers (None: not yet).
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
