"""Query parameters of the API: parsed strictly, every problem collected into one 422.

An unknown parameter is an error, not ignored: a typo such as ``form=2026-01-01`` must not silently
give the default period's figures. Periods reuse the dashboards' parser (``dashboard.parse_period``),
so the API and the pages accept and refuse the same periods.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request

from survey.api.problems import invalid
from survey.bounded_int import MAX_PAGE, parse_int
from survey.db import db
from survey.models import Instrument
from survey.services.administration import listings
from survey.services.statistics import dashboard

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
PAGING = ("page", "per_page")
PERIOD = ("from", "to", "period")

_PERIOD_MESSAGES = {
    "bad_month": "write a month as YYYY-MM, like 2026-09",
    "bad_quarter": "write a quarter as YYYY-Qn, like 2026-Q3",
    "bad_year": "write a year as YYYY, like 2026",
    "bad_dates": "write dates as YYYY-MM-DD, like 2026-09-30",
    "end_before_start": "'to' must be on or after 'from'",
    "too_long": "a period may be at most five years long",
    "out_of_range": "years must be between 2000 and 2100",
}
_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_QUARTER = re.compile(r"^\d{4}-?Q\d$", re.IGNORECASE)


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def body(self, items: Sequence[Any], total: int) -> dict[str, Any]:
        """A page of a list: the items and where they stand in the whole (``pages`` ≥ 1)."""
        pages = max(1, math.ceil(total / self.per_page))
        return {
            "items": list(items),
            "page": self.page,
            "per_page": self.per_page,
            "total": total,
            "pages": pages,
            "next_page": self.page + 1 if self.page < pages else None,
        }


class QueryArgs:
    """The request's query string, read parameter by parameter; :meth:`done` raises one 422 for all problems."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.errors: list[dict[str, str]] = []
        known = set(allowed)
        for name in sorted(set(request.args) - known):
            self.error(name, f"unknown parameter (known here: {', '.join(sorted(known)) or 'none'})")

    def error(self, name: str, detail: str) -> None:
        self.errors.append({"name": name, "in": "query", "detail": detail})

    def raw(self, name: str) -> str | None:
        values = [v.strip() for v in request.args.getlist(name)]
        if len(values) > 1:
            self.error(name, "give this parameter once")
            return None
        return values[0] if values and values[0] != "" else None

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self.raw(name)
        if raw is None:
            return default
        value = parse_int(raw, minimum, maximum)  # ASCII digits only, within the bounds
        if value is None:
            self.error(name, f"expected a whole number from {minimum} to {maximum}, got {raw!r}")
            return default
        return value

    def paging(self) -> Paging:
        return Paging(
            self.integer("page", 1, 1, MAX_PAGE),
            self.integer("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        )

    def date(self, name: str) -> dt.date | None:
        raw = self.raw(name)
        if raw is None:
            return None
        try:
            value = dt.date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else None
        except ValueError:
            value = None
        if value is None or not 2000 <= value.year <= 2100:
            self.error(name, f"expected a date YYYY-MM-DD between 2000 and 2100, got {raw!r}")
            return None
        return value

    def month(self, name: str) -> dt.date | None:
        raw = self.raw(name)
        if raw is None:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{2})", raw)
        if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
            self.error(name, f"expected a month YYYY-MM between 2000 and 2100, got {raw!r}")
            return None
        return dt.date(int(match[1]), int(match[2]), 1)

    def codes(self, name: str) -> list[str]:
        """Comma-separated and/or repeated values, in order, without duplicates."""
        out: list[str] = []
        for value in request.args.getlist(name):
            for part in value.split(","):
                part = part.strip()
                if part and part not in out:
                    out.append(part)
        if len(out) > 200:
            self.error(name, "at most 200 values")
            return out[:200]
        return out

    def choice(self, name: str, choices: Sequence[str], default: str | None) -> str | None:
        raw = self.raw(name)
        if raw is None:
            return default
        if raw not in choices:
            self.error(name, f"expected one of {', '.join(choices)}, got {raw!r}")
            return default
        return raw

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.choice(name, ("true", "false"), None)
        return default if raw is None else raw == "true"

    def instruments(self, name: str = "instrument") -> list[Instrument]:
        """The versions of the questionnaire named ``code`` or ``code:version``, newest first ([] if not given)."""
        spec = self.raw(name)
        if spec is None:
            return []
        found = listings.find_instruments(db.session, spec)
        if not found:
            known = ", ".join(listings.instrument_codes(db.session))
            self.error(name, f"unknown instrument {spec!r} (known: {known}; give code or code:version)")
        return found

    def period(self, default_day: dt.date | None) -> dashboard.Period | None:
        """``from`` and ``to`` (dates), or ``period`` (YYYY, YYYY-MM or YYYY-Qn); else the quarter around
        ``default_day`` (as the dashboards do), or None when there is no default either."""
        named = self.raw("period")
        before = len(self.errors)
        start, end = self.date("from"), self.date("to")
        if len(self.errors) > before:
            return None
        if named is not None and (start is not None or end is not None):
            self.error("period", "give either 'period' or 'from' and 'to', not both")
            return None
        if (start is None) != (end is None):
            self.error("to" if end is None else "from", "give both 'from' and 'to'")
            return None
        if named is not None:
            if _YEAR.match(named):
                args = {"period": "year", "year": named}
            elif _MONTH.match(named):
                args = {"period": "month", "month": named}
            elif _QUARTER.match(named):
                args = {"period": "quarter", "quarter": named}
            else:
                self.error("period", f"expected YYYY, YYYY-MM or YYYY-Qn (like 2026-Q3), got {named!r}")
                return None
            return self._parse(args, "period")
        if start is not None and end is not None:
            return self._parse({"period": "custom", "date_from": start.isoformat(), "date_to": end.isoformat()}, "from")
        if default_day is None:
            return None
        return dashboard.period_containing("quarter", default_day)

    def _parse(self, args: dict[str, str], name: str) -> dashboard.Period | None:
        try:
            return dashboard.parse_period(args, dt.date.today())
        except dashboard.PeriodError as exc:
            field = "to" if exc.code == "end_before_start" else name
            self.error(field, _PERIOD_MESSAGES.get(exc.code, "not a valid period"))
            return None

    def done(self) -> None:
        if self.errors:
            raise invalid(self.errors)


def period_body(period: dashboard.Period) -> dict[str, str]:
    return {"kind": period.kind, "from": period.start.isoformat(), "to": period.end.isoformat()}


def pick_instrument(
    candidates: Sequence[Instrument], agency_ids: Sequence[int], period: dashboard.Period
) -> int | None:
    """The questionnaire to report: of the versions asked for, one answered in the period (else the newest);
    if none was asked for, the one with most responses in these agencies, as the dashboards choose."""
    in_use = dashboard.instruments_in_use(db.session, agency_ids, period)
    if candidates:
        used = {c.id for c in in_use}
        return next((i.id for i in candidates if i.id in used), candidates[0].id)
    return in_use[0].id if in_use else None
