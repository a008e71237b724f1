"""Versioned questionnaires: elements, items, answer scale and aggregation rule.

Instruments are loaded from data files (``survey/instruments/*.toml``); a version that has
responses is locked: loading a changed file for it is refused (see ``services.instruments``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, UTCDateTime, utcnow


class Instrument(Base):
    __tablename__ = "instruments"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Family code, e.g. ``sipas-2017`` (QĐ 2640) or ``sipas-2022-services``.
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    #: Legal basis or method reference, e.g. "QĐ 2640/QĐ-BNV".
    method: Mapped[str] = mapped_column(String(255))
    #: Aspect of a generation-3 survey (e.g. "B", public-administrative services); NULL for generation 2.
    aspect: Mapped[str | None] = mapped_column(String(8))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    #: Answer levels with labels in each language, the first satisfied level and the N/A label.
    scale: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: How indices are built: item statistic, element and overall rules, composite definition (A/B/C).
    aggregation: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: A split questionnaire's declaration ({"design", "k", "overall"}: k criteria per respondent, chosen by
    #: the server; see ``services/administration/rotation.py``); NULL when every criterion is asked.
    rotation: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: ``draft`` (editable, never offered to counters), ``published`` (frozen) or ``retired`` (kept with its
    #: data and reports, no longer offered to counters).
    status: Mapped[str] = mapped_column(String(12), default="published", server_default="published")
    #: The province that authored it; NULL for the versions shipped in ``survey/instruments/`` (every province's).
    owner_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: SHA-256 of the canonical content, to refuse silent edits of a version with responses.
    content_digest: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    elements: Mapped[list[InstrumentElement]] = relationship(
        back_populates="instrument", order_by="InstrumentElement.position", cascade="all, delete-orphan"
    )
    items: Mapped[list[InstrumentItem]] = relationship(
        back_populates="instrument", order_by="InstrumentItem.position", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi

    def scale_levels(self, locale: str) -> list[tuple[int, str]]:
        return [(level["value"], level[locale]) for level in self.scale["levels"]]

    def not_applicable_label(self, locale: str) -> str:
        return str(self.scale["not_applicable"][locale])


class InstrumentElement(Base):
    """One of the five SIPAS elements (yếu tố), e.g. access, procedures, civil servants."""

    __tablename__ = "instrument_elements"
    __table_args__ = (
        UniqueConstraint("instrument_id", "code"),
        UniqueConstraint("instrument_id", "position"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    #: Relative weight in the overall index (normalised when indices are computed).
    weight: Mapped[float] = mapped_column(Float, default=1.0)

    instrument: Mapped[Instrument] = relationship(back_populates="elements")
    items: Mapped[list[InstrumentItem]] = relationship(back_populates="element", order_by="InstrumentItem.position")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_vi


class InstrumentItem(Base):
    """One criterion (tiêu chí) answered on the instrument's scale."""

    __tablename__ = "instrument_items"
    __table_args__ = (
        UniqueConstraint("instrument_id", "code"),
        UniqueConstraint("instrument_id", "position"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("instrument_elements.id", ondelete="CASCADE"), index=True)
    #: Stable item code used in exports, e.g. ``q01``.
    code: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    text_vi: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    #: The citizen may leave it blank.
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "Không áp dụng" (not applicable) is offered.
    allows_na: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Relative weight within its element.
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    #: The national criterion (QĐ 2640 annex, ``c01`` … ``c22``) this item asks one-to-one; NULL for a merged or
    #: local statement. Versions are compared only through items mapped to the same national criterion.
    national_code: Mapped[str | None] = mapped_column(String(8))

    instrument: Mapped[Instrument] = relationship(back_populates="items")
    element: Mapped[InstrumentElement] = relationship(back_populates="items")

    def text(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_vi
