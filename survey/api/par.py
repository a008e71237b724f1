"""``/par-report``: the PAR sociological-survey points of a province's agencies (capability ``manage_par``).

The province's stored scheme for the year, or the shipped example when none is stored (the answer says
which), applied by :func:`survey.services.statistics.par_report.build_par_report` to the indices of the period.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from werkzeug.wrappers import Response

from survey.api import bp
from survey.api.auth import agency_or_404, capability_scope
from survey.api.indices import LEVEL, top_of_scope
from survey.api.params import PERIOD, QueryArgs, period_body, pick_instrument
from survey.api.problems import json_response, no_data
from survey.db import db
from survey.models import Agency
from survey.services.statistics import dashboard, par_report
from survey.services.statistics.indices import DESIGN

CAPABILITY = "manage_par"


def _num(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _codes(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _row(headers: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    raw = dict(zip(headers, (_num(v) for v in row), strict=True))
    points = {h.removeprefix("points_"): raw.pop(h) for h in headers if h.startswith("points_")}
    return {
        "rank": raw["rank"],
        "agency": raw["agency"],
        "agency_name": raw["agency_name"],
        "index_pct": raw["index_pct"],
        "index_ci_low_pct": raw["index_ci_low_pct"],
        "index_ci_high_pct": raw["index_ci_high_pct"],
        "n": raw["n"],
        "flags": _codes(raw["flags"]),
        "points": points,
        "total_points": raw["total_points"],
        "total_ci_low": raw["total_ci_low"],
        "total_ci_high": raw["total_ci_high"],
        "max_points": raw["max_points"],
        "vs_province": raw["vs_province"],
        "p_vs_province": raw["p_vs_province"],
        "significantly_above": _codes(raw["significantly_above"]),
        "significantly_below": _codes(raw["significantly_below"]),
    }


@bp.get("/par-report")
def get_par_report() -> Response:
    held = capability_scope(CAPABILITY)
    args = QueryArgs(("province", "year", "instrument", *PERIOD))
    code = args.raw("province")
    province: Agency | None = None
    if code is not None:
        province = agency_or_404(code, CAPABILITY)
        if province.parent_id is not None:
            args.error("province", f"{code!r} is not a province or ministry: a PAR report scores a whole province")
    else:
        provinces = [a for a in top_of_scope(held) if a.parent_id is None]
        if len(provinces) == 1:
            province = provinces[0]
        else:
            args.error("province", "name the province or ministry (its agency code)")
    year = args.integer("year", 0, 2000, 2100)
    period = args.period(None)
    candidates = args.instruments()
    args.done()
    assert province is not None
    ids = dashboard.agency_subtree_ids(db.session, province)
    # As the report page: the year of the latest response unless a year or period is given.
    latest = dashboard.latest_day(db.session, ids) or dt.date.today()
    year = year or (period.start.year if period is not None else latest.year)
    period = period or dashboard.period_containing("year", dt.date(year, 1, 1))
    instrument_id = pick_instrument(candidates, ids, period)
    if instrument_id is None:
        raise no_data(f"no valid responses in {province.code} from {period.start} to {period.end}")
    try:
        chosen = par_report.scheme_for(db.session, province, year)
        report = par_report.build_par_report(
            db.session, chosen.scheme, instrument_id, period.start, period.end, ids, level=LEVEL
        )
    except par_report.ParReportError as exc:
        raise no_data(f"no PAR report for {province.code} {year}: {exc}") from None
    s, idx = chosen.scheme, report.indices
    return json_response(
        {
            "province": {"code": province.code, "name_vi": province.name_vi, "name_en": province.name_en},
            "scheme": {
                "jurisdiction": s.scheme.jurisdiction,
                "year": s.scheme.year,
                "example": s.example,
                "stored": not chosen.fallback,
                "title_vi": s.title_vi,
                "title_en": s.title_en,
                "source": s.source,
                "max_points": s.scheme.max_points,
                "criteria": [
                    {
                        "code": c.code,
                        "name_vi": s.names[c.code][0],
                        "name_en": s.names[c.code][1],
                        "max_points": c.max_points,
                        "index": c.index,
                        "conversion": c.conversion,
                    }
                    for c in s.scheme.criteria
                ],
            },
            "method": {
                "questionnaire": idx.instrument,
                "period": period_body(period),
                "weighting": idx.weighting,
                "design": DESIGN,
                "definition": idx.definition,
                "ci_methods": idx.ci_methods,
                "level": LEVEL,
                "points": "points = max_points × index (linear); total interval: xlogit on the fraction of the "
                "maximum, joint linearisation",
                "comparisons": "rank: pairwise differences of total points with covariance, t(df), Holm-adjusted "
                "(significantly_above / _below); vs_province: "
                + par_report.vs_province_method(report.comparisons, LEVEL),
                "notes": list(report.notes),
                "computed_at": idx.computed_at.isoformat(),
            },
            "agencies": [_row(report.headers, row) for row in report.rows],
            "unscored": list(report.unscored),
        }
    )
