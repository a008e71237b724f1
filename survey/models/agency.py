"""Agencies in a hierarchy, their counters (service points) and procedure fields."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, UTCDateTime, utcnow
from survey.models.admin_unit import AdminUnit
from survey.models.codes import AGENCY_KINDS, check_in
from survey.models.instrument import Instrument

#: Longest feedback-channel text and address an agency may set (shown on the thank-you page).
FEEDBACK_MAX_LENGTH = 500
FEEDBACK_URL_MAX_LENGTH = 500
#: Seconds a kiosk waits after the thank-you page, or of inactivity, before it shows a fresh form.
KIOSK_RESET_DEFAULT = 30
KIOSK_RESET_MIN = 10
KIOSK_RESET_MAX = 600


class Agency(Base):
    """Province or ministry → department (sở, ngành) → commune-level unit or service centre."""

    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint(check_in("kind", AGENCY_KINDS), name="kind"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable code used in URLs, imports and exports (lowercase, digits and hyphens).
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    admin_unit_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Where citizens can take a complaint or other feedback (phone line, desk, portal), shown on the
    #: thank-you page; set by the agency's managers. The agency's own contact, never a person's.
    feedback_channel_vi: Mapped[str | None] = mapped_column(String(FEEDBACK_MAX_LENGTH))
    feedback_channel_en: Mapped[str | None] = mapped_column(String(FEEDBACK_MAX_LENGTH))
    #: An https address of the agency's feedback page (e.g. the province's public feedback portal).
    feedback_url: Mapped[str | None] = mapped_column(String(FEEDBACK_URL_MAX_LENGTH))

    parent: Mapped[Agency | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Agency]] = relationship(back_populates="parent", order_by="Agency.code")
    admin_unit: Mapped[AdminUnit] = relationship()
    counters: Mapped[list[Counter]] = relationship(back_populates="agency", order_by="Counter.code")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_vi

    def feedback_channel(self, locale: str) -> str | None:
        """The feedback channel in ``locale``, else in Vietnamese (None when the agency has not set one)."""
        return self.feedback_channel_en if locale == "en" and self.feedback_channel_en else self.feedback_channel_vi


class ProcedureField(Base):
    """A field of administrative procedures (lĩnh vực), e.g. land, civil status."""

    __tablename__ = "procedure_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


class Counter(Base):
    """A service point (quầy) where a QR poster hangs, and perhaps a tablet on the desk (kiosk mode).

    The QR token signs ``(id, key_version)``; bumping ``key_version`` revokes every printed poster. The
    kiosk link signs ``(id, kiosk_key_version)`` under its own salt: it works only while
    ``kiosk_enabled``, and a new kiosk link (or switching kiosk mode off) revokes the old one.
    """

    __tablename__ = "counters"
    __table_args__ = (
        UniqueConstraint("agency_id", "code"),
        CheckConstraint("key_version >= 1", name="key_version_positive"),
        CheckConstraint("kiosk_key_version >= 1", name="kiosk_key_version_positive"),
        CheckConstraint(
            f"kiosk_reset_seconds >= {KIOSK_RESET_MIN} AND kiosk_reset_seconds <= {KIOSK_RESET_MAX}",
            name="kiosk_reset_seconds_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: Stable within the agency; survives renames.
    code: Mapped[str] = mapped_column(String(40))
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    #: The questionnaire citizens answer at this counter.
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The field of procedures (lĩnh vực) the counter serves, by its stable code (no foreign key, so that the
    #: column can be dropped in place on SQLite), shown to citizens beside the counter's name.
    field_code: Mapped[str | None] = mapped_column(String(40))
    #: A tablet on the counter's desk may take answers (the kiosk link works only while this is on).
    kiosk_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    kiosk_key_version: Mapped[int] = mapped_column(Integer, default=1)
    #: Seconds after the thank-you page, or of inactivity, before the tablet shows a fresh form.
    kiosk_reset_seconds: Mapped[int] = mapped_column(Integer, default=KIOSK_RESET_DEFAULT)

    agency: Mapped[Agency] = relationship(back_populates="counters")
    instrument: Mapped[Instrument] = relationship()
    field: Mapped[ProcedureField | None] = relationship(
        primaryjoin="foreign(Counter.field_code) == ProcedureField.code", viewonly=True
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_vi

    def service_area(self, locale: str) -> str | None:
        """The field the counter serves, in ``locale``; None without one, or when its name already says it."""
        if self.field is None:
            return None
        area = self.field.name(locale)
        return None if area.casefold() in self.name(locale).casefold() else area
