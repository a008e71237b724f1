"""Client addresses are never kept in clear: rate limits count a keyed, daily-rotating hash of them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import current_app
from flask_limiter.util import get_remote_address


def hashed_address(address: str, secret: str, day: dt.date) -> str:
    """HMAC-SHA256 of ``address`` keyed by the app secret and the UTC day, shortened to 128 bits.

    The day is part of the key, so yesterday's keys cannot be linked to today's and a leaked Redis
    holds nothing that can be turned back into an address without the secret (no rainbow table over
    the 2**32 IPv4 space). The cost: per-client limit windows restart at midnight UTC.
    """
    key = hmac.new(secret.encode(), day.isoformat().encode(), hashlib.sha256).digest()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def client_key() -> str:
    """Flask-Limiter key for the requesting client (as ProxyFix resolved it), hashed."""
    return "client:" + hashed_address(
        get_remote_address() or "unknown", current_app.config["SECRET_KEY"], dt.datetime.now(dt.UTC).date()
    )
