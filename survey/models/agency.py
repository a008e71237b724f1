"""Agencies in a hierarchy, their counters (service points) and procedure fields."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, UTCDateTime, utcnow
from survey.models.admin_unit import AdminUnit
from survey.models.codes import AGENCY_KINDS, check_in
from survey.models.instrument import Instrument


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

    parent: Mapped[Agency | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Agency]] = relationship(back_populates="parent", order_by="Agency.code")
    admin_unit: Mapped[AdminUnit] = relationship()
    counters: Mapped[list[Counter]] = relationship(back_populates="agency", order_by="Counter.code")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_vi


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
    """A service point (quầy) where a QR poster hangs.

    The QR token signs ``(id, key_version)``; bumping ``key_version`` revokes every printed poster.
    """

    __tablename__ = "counters"
    __table_args__ = (
        UniqueConstraint("agency_id", "code"),
        CheckConstraint("key_version >= 1", name="key_version_positive"),
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

    agency: Mapped[Agency] = relationship(back_populates="counters")
    instrument: Mapped[Instrument] = relationship()

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_vi
