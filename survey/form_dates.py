"""Dates typed into staff forms, read the same way on every page.

Year-month-day (``2026-09-30``, what a browser's date input sends) is always accepted. Under the Vietnamese
locale day/month/year (``30/09/2026``, also ``30-09-2026`` or ``30.09.2026``) is accepted too, the way dates
are written in Vietnam; under English it is not, where ``03/04/2026`` could be either day.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _

_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def _vietnamese() -> bool:
    if not has_request_context():
        return False
    locale = get_locale()
    return locale is not None and locale.language == "vi"


def parse_date(raw: str, day_first: bool) -> dt.date | None:
    """``raw`` as a date (ISO, or day/month/year when ``day_first``); None if it is not one."""
    raw = raw.strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    match = _DAY_MONTH_YEAR.match(raw) if day_first else None
    if match is None:
        return None
    try:
        return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


def date_from_field(field: Any, *, required: bool = False) -> dt.date | None:
    """The field's date, or None; a bad (or, when ``required``, missing) date puts a translated error on it."""
    raw = (field.data or "").strip()
    if not raw and not required:
        return None
    day_first = _vietnamese()
    value = parse_date(raw, day_first)
    if value is None or not 2000 <= value.year <= 2100:
        message = (
            _("Enter the date as day/month/year, like 30/09/2026")
            if day_first
            else _("Enter the date as year-month-day, like 2026-09-30")
        )
        field.errors = [*field.errors, message]
        return None
    return value
