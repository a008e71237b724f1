"""Remove personal data from free text before it is stored: phone, ID numbers, e-mail addresses."""

from __future__ import annotations

import re

REDACTED = "[***]"

# Control characters other than tab and line feed (PostgreSQL text cannot even hold NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Vietnamese phone numbers: 0 or +84/84 then 9 digits, allowing spaces, dots or dashes between groups.
_PHONE = re.compile(r"(?<![\w+])(?:\+?84|0)(?:[\s.-]?\d){9}(?!\d)")
# Citizen ID (CCCD, 12 digits) and old ID card (CMND, 9 digits); also longer digit runs such as accounts.
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d[\s.-]?){8,}\d(?!\d)")


def scrub_personal_data(text: str) -> str:
    """Replace e-mail addresses, phone numbers and ID-like digit runs with a marker."""
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(REDACTED, text)
    return _ID_NUMBER.sub(REDACTED, text)


def normalise_text(text: str) -> str:
    """Line breaks as LF (a browser sends CRLF, but counts one character) and no control characters."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_comment(text: str | None) -> str | None:
    """Normalise line breaks and blanks, scrub personal data; None for an empty comment."""
    if text is None:
        return None
    text = normalise_text(text).strip()
    if not text:
        return None
    return scrub_personal_data(text)
