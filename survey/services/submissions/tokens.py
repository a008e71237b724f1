"""Signed counter tokens: ``/s/<token>`` carries (counter id, key version).

The signature makes tokens unguessable and tamper-evident; the key version lets an agency revoke
every printed poster of a counter at once by rotating it. A counter's tablet (kiosk mode) has a link
of its own, signed the same way under another salt with the counter's kiosk key version: a QR token
is never a kiosk token or the other way round, and a new kiosk link revokes the old one without
touching the posters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer

from survey.bounded_int import parse_id

SALT = "sipas.counter-token.v1"
KIOSK_SALT = "sipas.kiosk-token.v1"


@dataclass(frozen=True)
class CounterToken:
    counter_id: int
    key_version: int


def _serializer(secret_key: str, salt: str = SALT) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=salt)


def sign_counter(secret_key: str, counter_id: int, key_version: int) -> str:
    return str(_serializer(secret_key).dumps([counter_id, key_version]))


def sign_kiosk(secret_key: str, counter_id: int, kiosk_key_version: int) -> str:
    """The token of a counter's kiosk link (its tablet), for the counter's current kiosk key version."""
    return str(_serializer(secret_key, KIOSK_SALT).dumps([counter_id, kiosk_key_version]))


def read_counter_token(secret_key: str, token: str) -> CounterToken | None:
    """The token's payload, or None when it was not signed by us, is malformed or carries an id out of range."""
    if len(token) > 200:
        return None
    return _read(secret_key, token, SALT)


def read_kiosk_token(secret_key: str, token: str) -> CounterToken | None:
    """A kiosk link's (counter id, kiosk key version), or None as for :func:`read_counter_token`."""
    if len(token) > 200:
        return None
    return _read(secret_key, token, KIOSK_SALT)


@lru_cache(maxsize=4096)
def _read(secret_key: str, token: str, salt: str) -> CounterToken | None:
    """Checking a signature is pure, and a counter's posters all carry one token: a submission reads it
    twice (its rate-limit key and its view), and a busy counter sends the same one all day."""
    try:
        payload = _serializer(secret_key, salt).loads(token)
    except BadSignature:
        return None
    # Both are INTEGER columns: a signed id no column can hold (2**63, or 2**31 on PostgreSQL) is no token,
    # so neither counter look-up ever hands the driver a number it would refuse (a 500 instead of a 404).
    if not isinstance(payload, list) or len(payload) != 2:
        return None
    counter_id, key_version = (parse_id(v) for v in payload)
    if counter_id is None or key_version is None:
        return None
    return CounterToken(counter_id=counter_id, key_version=key_version)
