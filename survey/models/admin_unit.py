"""Administrative units, effective-dated, with the old-to-new mapping of the 2025 reorganisation.

On 2025-07-01 Vietnam merged 63 provinces into 34 and removed the district level. A unit row is
valid on ``[valid_from, valid_to)``; districts only exist before that date. Successions record
which old units became which new ones (merges and splits), so series on the 63-province basis can
be mapped forward.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models.codes import ADMIN_LEVELS, SUCCESSION_KINDS, check_in


class AdminUnit(Base):
    __tablename__ = "admin_units"
    __table_args__ = (
        UniqueConstraint("level", "code", "valid_from"),
        CheckConstraint(check_in("level", ADMIN_LEVELS), name="level"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Official statistical code (mã đơn vị hành chính) of the unit.
    code: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    #: Full name with its kind, e.g. "Tỉnh Ninh Bình", "Phường Hoa Lư".
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_units.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    #: Exclusive end; NULL while the unit exists.
    valid_to: Mapped[dt.date | None] = mapped_column(Date)

    parent: Mapped[AdminUnit | None] = relationship(remote_side=[id])

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class AdminUnitSuccession(Base):
    """An old unit (wholly or partly) became a new one on ``effective_on``."""

    __tablename__ = "admin_unit_successions"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id"),
        CheckConstraint(check_in("kind", SUCCESSION_KINDS), name="kind"),
        CheckConstraint("predecessor_id <> successor_id", name="distinct_units"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("admin_units.id"), index=True)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))

    predecessor: Mapped[AdminUnit] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[AdminUnit] = relationship(foreign_keys=[successor_id])
