"""The additive sufficient-statistics tables every index is computed from (STATISTICS.md §13).

Unweighted tallies of valid responses at the finest grain any report needs: local day (the period
and, with the counter, the PSU) × agency (the stratum) × counter × field × item. Weights are
constant within a weighting cell (agency × field × month), so weighted sums are the cell weight
times these tallies and need no per-response row at query time. Kept in step with each submission
in the same transaction; rebuildable from raw responses (``flask --app wsgi rebuild-stats``).

``counter_key`` and ``field_key`` are 0 when the response has no counter or no stated field
(these tables are derived data, so they carry no foreign keys on those columns).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow


class ResponseTally(Base):
    """Valid responses per day × agency × counter × instrument × field.

    Key order puts the PSU (agency, day, counter) first so roll-ups to PSUs read the index in order.
    """

    __tablename__ = "stat_response_tallies"
    __table_args__ = ({"sqlite_with_rowid": False},)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    counter_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), primary_key=True)
    field_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: First day of ``day``'s month: joins the weighting cell (agency × field × month) without date functions.
    month: Mapped[dt.date] = mapped_column(Date)
    #: Valid responses.
    n: Mapped[int] = mapped_column(Integer)


class AnswerTally(Base):
    """Answers of valid responses per day × agency × counter × field × item."""

    __tablename__ = "stat_answer_tallies"
    __table_args__ = ({"sqlite_with_rowid": False},)

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    counter_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("instrument_items.id"), primary_key=True)
    field_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: First day of ``day``'s month: joins the weighting cell (agency × field × month) without date functions.
    month: Mapped[dt.date] = mapped_column(Date)
    #: Valid answers (score 1–5).
    n_valid: Mapped[int] = mapped_column(Integer)
    #: Answers at or above the instrument's first satisfied level (4 on the 5-point scale).
    n_satisfied: Mapped[int] = mapped_column(Integer)
    #: Σ score and Σ score² over valid answers.
    sum_score: Mapped[int] = mapped_column(BigInteger)
    sum_score_sq: Mapped[int] = mapped_column(BigInteger)
    #: "Not applicable" answers (kept for item non-response reports; not in any denominator).
    n_not_applicable: Mapped[int] = mapped_column(Integer)
    #: Valid answers per scale point (1 … 5): the answer distributions on dashboards.
    n_score_1: Mapped[int] = mapped_column(Integer, server_default="0")
    n_score_2: Mapped[int] = mapped_column(Integer, server_default="0")
    n_score_3: Mapped[int] = mapped_column(Integer, server_default="0")
    n_score_4: Mapped[int] = mapped_column(Integer, server_default="0")
    n_score_5: Mapped[int] = mapped_column(Integer, server_default="0")


class PsuMonthSums(Base):
    """The weighted PSU × item roll-up of one closed month of one agency, stored as a float64 array.

    A month's roll-up of :class:`AnswerTally` only changes when its tallies do (an exclusion, a rebuild)
    or its cell weights do (a volume import), so indices over a year read eleven stored arrays and
    compute only the open month from the tallies. ``weights_digest`` and ``n_responses`` are checked
    on every read; a mismatch recomputes the month, and tally changes delete the row outright.
    """

    __tablename__ = "stat_psu_months"

    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    weighted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    #: SHA-256 of the month's cell weights (field → weight) the sums were made with.
    weights_digest: Mapped[str] = mapped_column(String(64))
    #: Valid responses of the agency-month when the sums were made.
    n_responses: Mapped[int] = mapped_column(Integer)
    n_rows: Mapped[int] = mapped_column(Integer)
    #: ``n_rows`` × 9 little-endian float64 values in the column order of ``indices.PSU_COLUMNS``.
    sums: Mapped[bytes] = mapped_column(LargeBinary)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
