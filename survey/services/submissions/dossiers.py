"""Dossier codes (mã hồ sơ): normalised, checked, and stored only as a keyed hash.

The hash is an HMAC-SHA256 under a key derived from SECRET_KEY, so the stored value cannot be
turned back into the code by trying every code of a known format without the key. Rotating
SECRET_KEY (which also invalidates every QR poster) starts a new space of hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import re

#: Longest code accepted; real codes (e.g. ``000.00.17.H43-250701-0001``) are about 25 characters.
MAX_LENGTH = 40
_SHAPE = re.compile(r"[A-Z0-9][A-Z0-9./_-]{3,39}")
_BLANKS = re.compile(r"\s+")
_KEY_LABEL = b"sipas.dossier-hash.v1"


def normalise(raw: str | None) -> str:
    """Upper case without blanks, as codes are printed on receipts; '' for nothing."""
    return _BLANKS.sub("", raw or "").upper()


def is_valid(code: str) -> bool:
    """Whether ``code`` (already normalised) has the shape of a dossier code."""
    return _SHAPE.fullmatch(code) is not None


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


def dossier_hash(secret_key: str, code: str) -> str:
    """64 hex characters identifying ``code`` (normalised first); the code itself is never stored."""
    return hmac.new(_key(secret_key), normalise(code).encode("ascii", "replace"), hashlib.sha256).hexdigest()
