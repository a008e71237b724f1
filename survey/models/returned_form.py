"""Survey forms sent back for corrections: what a citizen posted, kept for the redirect that shows it again.

A form with missing or wrong answers is not answered with a page to the POST (pressing Back later lands
on the browser's "Confirm form resubmission" page); it is kept here for a few minutes under a random key
and the browser is sent to ``GET /s/<token>?f=<key>``, which shows the messages and the answers and
deletes the row. Every app node reads the same database, so the redirect may land on any of them. Only
the digest of the key is stored: the row cannot be found from the table alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from survey.db import Base, UTCDateTime, utcnow


class ReturnedForm(Base):
    """One posted form awaiting its redirect; deleted when shown, or once ``expires_at`` has passed."""

    __tablename__ = "returned_forms"

    #: SHA-256 (hex) of the random key in the redirect's address.
    key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id", ondelete="CASCADE"))
    #: The status the page is shown with: 422 (answers to correct) or 409 (dossier already rated).
    status: Mapped[int] = mapped_column(SmallInteger)
    #: The posted fields of the form (JSON list of [name, value]); never the CSRF token or the honeypot.
    fields: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
