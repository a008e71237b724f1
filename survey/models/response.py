"""Survey responses and their answers (one row per item)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, UTCDateTime
from survey.models.codes import (
    AGE_BANDS,
    CHANNELS,
    COLLECTION_MODES,
    EDUCATION_LEVELS,
    GENDERS,
    OCCUPATIONS,
    RESPONDENT_TYPES,
    RESPONSE_STATUSES,
    check_in,
)

#: Longest comment kept, in characters.
COMMENT_MAX_LENGTH = 2000

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets a BIGINT identity.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Response(Base):
    """One submitted questionnaire. Carries no identity of the respondent."""

    __tablename__ = "responses"
    __table_args__ = (
        # Reports read responses per agency and period, and per counter-day (the PSU).
        Index("ix_responses_agency_day", "agency_id", "received_on"),
        Index("ix_responses_counter_day", "counter_id", "received_on"),
        # The burst check reads a counter's last few minutes (survey/services/submissions/bursts.py).
        Index("ix_responses_counter_received_at", "counter_id", "received_at"),
        UniqueConstraint("agency_id", "dossier_hash"),
        CheckConstraint(check_in("channel", CHANNELS), name="channel"),
        CheckConstraint(check_in("collection_mode", COLLECTION_MODES), name="collection_mode"),
        CheckConstraint(check_in("respondent_type", RESPONDENT_TYPES), name="respondent_type"),
        CheckConstraint(check_in("status", RESPONSE_STATUSES), name="status"),
        CheckConstraint(f"gender IS NULL OR {check_in('gender', GENDERS)}", name="gender"),
        CheckConstraint(f"age_band IS NULL OR {check_in('age_band', AGE_BANDS)}", name="age_band"),
        CheckConstraint(f"education IS NULL OR {check_in('education', EDUCATION_LEVELS)}", name="education"),
        CheckConstraint(f"occupation IS NULL OR {check_in('occupation', OCCUPATIONS)}", name="occupation"),
        CheckConstraint("(status = 'excluded') = (exclusion_reason IS NOT NULL)", name="exclusion_reason_iff_excluded"),
        CheckConstraint(f"comment IS NULL OR length(comment) <= {COMMENT_MAX_LENGTH}", name="comment_length"),
        CheckConstraint("overall_score IS NULL OR (overall_score >= 1 AND overall_score <= 5)", name="overall_score"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: Supplied by the client (a UUID in the form) so a retried or replayed submission is stored once.
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Local calendar date of ``received_at`` (SIPAS_TIMEZONE): the period and counter-day PSU key.
    received_on: Mapped[dt.date] = mapped_column(Date)
    #: How the service itself was delivered (trực tiếp, trực tuyến, bưu chính).
    channel: Mapped[str] = mapped_column(String(16), default="in_person")
    #: How this response was collected.
    collection_mode: Mapped[str] = mapped_column(String(16), default="qr")
    respondent_type: Mapped[str] = mapped_column(String(16), default="person")
    field_id: Mapped[int | None] = mapped_column(ForeignKey("procedure_fields.id"))
    gender: Mapped[str | None] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(8))
    education: Mapped[str | None] = mapped_column(String(24))
    occupation: Mapped[str | None] = mapped_column(String(24))
    #: Free text, scrubbed of phone numbers, ID numbers and e-mail addresses before storage.
    comment: Mapped[str | None] = mapped_column(Text)
    #: Keyed hash of the dossier code (mã hồ sơ) when given; never the code itself.
    dossier_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="valid")
    #: The one-tap overall rating (1–5) a counter's tablet asks first (kiosk mode); None elsewhere.
    overall_score: Mapped[int | None] = mapped_column(SmallInteger)
    exclusion_reason: Mapped[str | None] = mapped_column(String(255))
    #: The criteria the server asked, for a rotated questionnaire: bit ``position − 1`` set for each asked
    #: item (``services/administration/rotation.py``). NULL: every criterion was asked. An item not asked
    #: is missing by design (export code 7), not "not answered".
    asked_mask: Mapped[int | None] = mapped_column(BigInteger)

    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(Base):
    """The answer to one item: a score 1–5, or NULL for "not applicable". No row: not answered."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="score_range"),
        # The composite key is the row: no hidden rowid, half the storage for 22 answers per response.
        {"sqlite_with_rowid": False},
    )

    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("instrument_items.id"), primary_key=True)
    score: Mapped[int | None] = mapped_column(SmallInteger)

    response: Mapped[Response] = relationship(back_populates="answers")


#: The columns a submission writes, in table order: all but the generated id, the reviewer's exclusion
#: reason and the kiosk's overall rating (set, when a counter's tablet sends one, by a second statement in
#: the same transaction: ``services/submissions/store.py``). The one list of them (the fast path binds and
#: inserts exactly these).
SUBMITTED_COLUMNS: tuple[str, ...] = tuple(
    column.name for column in Response.__table__.c if column.name not in ("id", "exclusion_reason", "overall_score")
)
