"""The alerts page of an agency: significant monthly drops under Benjamini–Hochberg (``flask compute-alerts``)."""

from __future__ import annotations

import datetime as dt
import re

from flask import render_template, request
from flask.typing import ResponseReturnValue

from survey.agency import bp
from survey.auth import agency_in_scope, requires, scope
from survey.db import db
from survey.services.statistics import alerts as alert_service
from survey.templating import current_locale

_MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


def _month_arg() -> tuple[dt.date | None, bool]:
    """``?month=YYYY-MM`` as its first day; (None, False) when absent, (None, True) when malformed."""
    raw = (request.args.get("month") or "").strip()
    if not raw:
        return None, False
    match = _MONTH.match(raw)
    if match is None:
        return None, True
    return dt.date(int(match[1]), int(match[2]), 1), False


@bp.get("/<code>/alerts")
@requires("view_dashboard")
def alerts(code: str) -> ResponseReturnValue:
    """Drops from the previous month that are significant with the false discovery rate held at 5 %."""
    agency = agency_in_scope(code, "view_dashboard")
    month, bad = _month_arg()
    listing = alert_service.agency_alerts(db.session, agency, scope("view_dashboard"), month, current_locale())
    return render_template(
        "agency/alerts.html", agency=agency, listing=listing, bad_month=bad, q=alert_service.FDR_Q
    ), (400 if bad else 200)
