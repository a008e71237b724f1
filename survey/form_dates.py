"""Dates typed into staff forms as year-month-day, read the same way on every page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _


def date_from_field(field: Any, *, required: bool = False) -> dt.date | None:
    """The field's date, or None; a bad (or, when ``required``, missing) date puts a translated error on it."""
    raw = (field.data or "").strip()
    if not raw and not required:
        return None
    try:
        value: dt.date | None = dt.date.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or not 2000 <= value.year <= 2100:
        field.errors = [*field.errors, _("Enter the date as year-month-day, like 2026-09-30")]
        return None
    return value
