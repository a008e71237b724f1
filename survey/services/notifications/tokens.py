"""Signed unsubscribe tokens: a mail link turns the digest off without signing in, for that one user only."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "sipas-digest-unsubscribe"


def unsubscribe_token(secret_key: str, user_id: int) -> str:
    return URLSafeSerializer(secret_key, salt=SALT).dumps({"u": user_id})


def user_from_token(secret_key: str, token: str) -> int | None:
    """The user id a token was made for, or None for a forged, altered or malformed token."""
    if len(token) > 200:
        return None
    try:
        data = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadSignature:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else None
