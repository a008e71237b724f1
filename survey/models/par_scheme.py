"""PAR sociological-survey schemes per province (or ministry) and year, edited in the admin area."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow


class ParSchemeRecord(Base):
    """One scheme: its definition is the TOML text of ``survey/par_schemes/*.toml``, validated as a whole
    by the PAR service before it is stored."""

    __tablename__ = "par_schemes"
    __table_args__ = (UniqueConstraint("agency_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The province or ministry (root agency) the scheme scores.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    #: True until someone enters the official allocation (the shipped scheme is an example).
    example: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
