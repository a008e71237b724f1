"""Monthly trend of an agency's index: one index report per month, the same reports a month dashboard uses.

Each month is one province-wide :func:`~survey.services.statistics.indices.compute_indices` query (through the
report cache), so every agency of a province shares the twelve computations and a month on the trend
equals that month on the overview to the last digit. Months are disjoint samples (PSUs are
counter-days), so the slope over the months uses independent variances.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics import Estimate, independent_trend
from survey.models import Agency, Instrument, ResponseTally
from survey.services.statistics.dashboard import (
    ALPHA,
    InstrumentChoice,
    Period,
    _get,
    _indices,
    agency_subtree_ids,
    instruments_in_use,
    period_containing,
    province_of,
)
from survey.services.statistics.indices import TOTAL, IndexQuery

MONTHS = 12
#: Quarters a trend shows when too few months have a figure that can be published.
QUARTERS = 8


@dataclass(frozen=True)
class TrendPoint:
    month: dt.date
    estimate: Estimate | None
    responses: int
    #: The month is not over yet (its figure will still move).
    partial: bool = False


@dataclass(frozen=True)
class Slope:
    """Average change per month (share points) from a weighted least-squares line, with its CI and p-value."""

    per_month: float
    ci: tuple[float, float]
    p_value: float
    months: int

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA


@dataclass
class Trend:
    agency: Agency
    period: Period  # the twelve months shown
    instruments: list[InstrumentChoice]
    instrument: InstrumentChoice | None = None
    target: str = "overall"
    target_label: str = ""
    targets: list[tuple[str, str]] = field(default_factory=list)
    points: list[TrendPoint] = field(default_factory=list)
    slope: Slope | None = None
    is_province: bool = False
    #: ``month``, or ``quarter`` when fewer than two months had a presented figure (a small agency).
    step: str = "month"

    @property
    def shown(self) -> list[TrendPoint]:
        """Months with a presented (not suppressed) figure."""
        return [p for p in self.points if p.estimate is not None and not p.estimate.suppressed]


def trend_months(end_day: dt.date, months: int = MONTHS) -> list[Period]:
    """The ``months`` calendar months ending with the month of ``end_day``, oldest first."""
    out = [period_containing("month", end_day)]
    while len(out) < months:
        out.insert(0, out[0].previous())
    return out


def trend_quarters(end_day: dt.date, quarters: int = QUARTERS) -> list[Period]:
    """The ``quarters`` calendar quarters ending with the quarter of ``end_day``, oldest first."""
    out = [period_containing("quarter", end_day)]
    while len(out) < quarters:
        out.insert(0, out[0].previous())
    return out


def slope(points: list[TrendPoint]) -> Slope | None:
    """Least-squares slope over the presented months, V = Σ c_t² V_t (independent months), t(min df)."""
    usable = [(i, p.estimate) for i, p in enumerate(points) if p.estimate is not None and not p.estimate.suppressed]
    if len(usable) < 3:
        return None
    estimates = [e for _, e in usable if e is not None]  # all of them: the filter only narrows the type
    line = independent_trend(estimates, [float(i) for i, _ in usable], level=1 - ALPHA)
    if line is None:
        return None
    return Slope(line.slope, line.ci, line.p_value, len(usable))


def agency_trend(
    session: Session,
    agency: Agency,
    end_day: dt.date,
    instrument_id: int | None,
    target: str | None,
    locale: str,
    today: dt.date | None = None,
    quarters_if_sparse: bool = False,
    months: int = MONTHS,
) -> Trend:
    """The agency's index (or one element's) per month over the twelve months ending with ``end_day``'s month.

    With ``quarters_if_sparse`` (the pages), a trend with fewer than two publishable months follows the
    :data:`QUARTERS` quarters up to ``end_day`` instead, when that gives more publishable points: a small
    agency then still has a line to draw."""
    province = province_of(session, agency)
    province_ids = agency_subtree_ids(session, province)
    is_province = province.id == agency.id
    own_ids = province_ids if is_province else [agency.id]
    month_periods = trend_months(end_day, months)
    span = Period("custom", month_periods[0].start, month_periods[-1].end)
    trend = Trend(agency, span, instruments_in_use(session, own_ids, span, locale), is_province=is_province)
    chosen = [c for c in trend.instruments if c.id == instrument_id] or trend.instruments[:1]
    if not chosen:
        return trend
    trend.instrument = chosen[0]
    instrument = session.get(Instrument, trend.instrument.id)
    assert instrument is not None
    trend.targets = [("overall", "overall")] + [(e.code, e.name(locale)) for e in instrument.elements]
    trend.target = target if target in dict(trend.targets) else "overall"
    trend.target_label = dict(trend.targets)[trend.target]
    domain = TOTAL if is_province else agency.id
    today = today or dt.date.today()
    trend.points = _points(session, trend, month_periods, own_ids, province_ids, domain, today)
    if quarters_if_sparse and len(trend.shown) < 2:
        # Too few responses a month to publish: follow the quarters instead, so there is a line to draw.
        quarters = trend_quarters(end_day)
        by_quarter = _points(session, trend, quarters, own_ids, province_ids, domain, today)
        if len([p for p in by_quarter if p.estimate is not None and not p.estimate.suppressed]) > len(trend.shown):
            trend.points, trend.step = by_quarter, "quarter"
            trend.period = Period("custom", quarters[0].start, quarters[-1].end)
    trend.slope = slope(trend.points)
    return trend


def _points(
    session: Session,
    trend: Trend,
    periods: list[Period],
    own_ids: list[int],
    province_ids: list[int],
    domain: int,
    today: dt.date,
) -> list[TrendPoint]:
    """One point per period: the figure from the province-wide report of that period, and its responses."""
    assert trend.instrument is not None
    per_month = dict(
        session.execute(
            select(ResponseTally.month, func.sum(ResponseTally.n))
            .where(
                ResponseTally.instrument_id == trend.instrument.id,
                ResponseTally.agency_id.in_(own_ids),
                ResponseTally.day >= periods[0].start,
                ResponseTally.day <= periods[-1].end,
            )
            .group_by(ResponseTally.month)
        ).all()
    )
    points = []
    for period in periods:
        report, _problem = _indices(
            session, IndexQuery(trend.instrument.id, period.start, period.end, agency_ids=province_ids)
        )
        points.append(
            TrendPoint(
                month=period.start,
                estimate=_get(report, domain, trend.target, "share"),
                responses=sum(int(n or 0) for m, n in per_month.items() if period.start <= m <= period.end),
                partial=period.end >= today,
            )
        )
    return points
