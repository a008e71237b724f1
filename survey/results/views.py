"""Public results: an agency's index with its 95 % band per month (SVG and table), responses, "you said, we did".

Cached by shared caches for a while (``Cache-Control: public``): the figures change once a month and the
page carries nothing personal. Suppressed months show no figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from survey.db import db
from survey.results import bp
from survey.services.statistics import public_results as service
from survey.services.statistics.trends import TrendPoint
from survey.templating import current_locale

CACHE_CONTROL = "public, max-age=900, stale-while-revalidate=3600"
#: Chart geometry (SVG user units).
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 260, 48, 12, 12, 36


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    y_low: float
    y_high: float
    label: str


def _y(share: float) -> float:
    return TOP + (1 - share) * (HEIGHT - TOP - BOTTOM)


def chart_points(points: list[TrendPoint]) -> list[ChartPoint | None]:
    """SVG coordinates per month (None for a month without a presented figure)."""
    step = (WIDTH - LEFT - RIGHT) / max(len(points), 1)
    out: list[ChartPoint | None] = []
    for i, p in enumerate(points):
        e = p.estimate
        if e is None or e.suppressed:
            out.append(None)
            continue
        out.append(ChartPoint(LEFT + step * (i + 0.5), _y(e.estimate), _y(e.ci[0]), _y(e.ci[1]), f"{p.month:%m/%Y}"))
    return out


def _cached(body: str, status: int = 200) -> ResponseReturnValue:
    """Shared caches may keep the page a while; not a signed-in reader's copy (it carries their menu)."""
    if current_user.is_authenticated:
        return body, status, {"Cache-Control": "private, no-store"}
    return body, status, {"Cache-Control": CACHE_CONTROL, "Vary": "Cookie, Accept-Language"}


@bp.get("/")
def index() -> ResponseReturnValue:
    """The provinces that publish their results, with their agencies."""
    provinces = service.published_provinces(db.session)
    return _cached(render_template("results/index.html", provinces=provinces))


@bp.get("/<code>")
def agency(code: str) -> ResponseReturnValue:
    """One agency's public results (404 unless its province publishes them)."""
    found = service.published_agency(db.session, code)
    if found is None:
        abort(404)
    results = service.public_results(db.session, found, dt.date.today(), current_locale())
    page = render_template(
        "results/agency.html",
        results=results,
        chart=chart_points(results.trend.points),
        geometry={"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": RIGHT, "top": TOP, "bottom": BOTTOM},
        y_of=_y,
    )
    return _cached(page)
