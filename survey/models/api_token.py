"""Personal API tokens: shown once, stored as a SHA-256 digest, revocable, scoped like their user."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base, UTCDateTime, utcnow
from survey.models.user import User


class ApiToken(Base):
    """A bearer token for ``/api/v1``. The secret is 256 random bits, so a plain SHA-256 digest
    (not a slow KDF) is the right storage: it cannot be brute-forced and lookups stay O(1)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The owner's label ("R scripts on my laptop").
    name: Mapped[str] = mapped_column(String(100))
    #: Hex SHA-256 of the whole secret.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the secret, shown in lists so owners can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
