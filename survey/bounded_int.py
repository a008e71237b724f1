"""One parser for every whole number that comes from a URL: path segments, query strings, signed tokens.

Only plain ASCII decimal digits are numbers (no sign, spaces, ``+``, ``1e3``, ``²`` or other scripts' digits,
which ``str.isdigit`` and ``int`` would take), and only within the column's range: a number the database
cannot hold is no id at all, so it is "not given" or a 404, never the driver's overflow error (a 500).

Ids are INTEGER columns (32-bit on PostgreSQL) except the BIGINT response and audit ids. Path arguments
are bounded centrally: :class:`IdConverter` replaces Flask's ``int`` converter (bounded to INTEGER), and
``<bigint:...>`` (:class:`BigIdConverter`) is for BIGINT ids.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.routing import IntegerConverter, Map

#: Largest value of an INTEGER column (32-bit on PostgreSQL): agencies, counters, users, instruments ...
MAX_INTEGER = 2**31 - 1
#: Largest value of a BIGINT column (responses, audit events) and of any SQLite integer.
MAX_BIGINT = 2**63 - 1
#: Largest page number a listing accepts (its OFFSET must stay far inside the integer range).
MAX_PAGE = 10**6

_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_int(raw: object, low: int = 1, high: int = MAX_INTEGER) -> int | None:
    """``raw`` as an int if it is plain decimal digits with ``low`` ≤ n ≤ ``high``; else None ("not given")."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _DIGITS.fullmatch(raw):
        value = int(raw)
    else:
        return None
    return value if low <= value <= high else None


def parse_id(raw: object) -> int | None:
    """An INTEGER id (1 … 2**31−1) or None."""
    return parse_int(raw, 1, MAX_INTEGER)


def parse_big_id(raw: object) -> int | None:
    """A BIGINT id (1 … 2**63−1) or None."""
    return parse_int(raw, 1, MAX_BIGINT)


def parse_page(raw: object) -> int:
    """A page number (1 … :data:`MAX_PAGE`); anything else is the first page."""
    return parse_int(raw, 1, MAX_PAGE) or 1


class IdConverter(IntegerConverter):
    """``<int:...>`` bounded to an INTEGER column: ASCII digits only, 0 … 2**31−1 (else no match, a 404)."""

    regex = r"[0-9]{1,19}"
    default_max = MAX_INTEGER

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002  (werkzeug's name)
        kwargs.setdefault("max", self.default_max)
        super().__init__(map, *args, **kwargs)


class BigIdConverter(IdConverter):
    """``<bigint:...>``: as ``<int:...>`` up to 2**63−1, for BIGINT ids (responses)."""

    default_max = MAX_BIGINT


def register_converters(url_map: Map) -> None:
    """Bound every path integer of the app: ``int`` is INTEGER-sized, ``bigint`` BIGINT-sized."""
    url_map.converters["int"] = IdConverter
    url_map.converters["bigint"] = BigIdConverter
