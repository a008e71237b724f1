"""Dashboard figures: one agency's indices against its province and its previous period, and the province table.

Each page makes one :func:`~survey.services.statistics.indices.compute_indices` call over the province (every agency
is a stratum, so the agency and the province share one design and their difference carries the
covariance), plus one for the previous period. Nothing here formats numbers: views and templates do,
in the reader's locale.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics import (
    AgencyPoints,
    AnalyticsError,
    Difference,
    Estimate,
    EstimationError,
    difference,
    par_points,
)
from analytics import independent_difference as independent_samples_difference
from analytics.comparisons import Contrast, bonferroni_differences
from analytics.flags import MIN_N_EFF
from survey.auth import subtree
from survey.bounded_int import parse_id
from survey.models import Agency, Instrument, ResponseTally, SurveyPeriod, TransactionVolume
from survey.services.statistics import par_report
from survey.services.statistics.index_cache import cached_indices
from survey.services.statistics.indices import TOTAL, IndexQuery, IndexReport, last_weighted_day
from survey.services.statistics.par_report import SchemeFile

PERIOD_KINDS = ("month", "quarter", "year", "custom", "survey")
ALPHA = 0.05
#: Longest custom period, in days (a few years of daily tallies is still one query).
MAX_CUSTOM_DAYS = 5 * 366


class PeriodError(ValueError):
    """The period asked for is not valid; ``code`` names the problem for a translated message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # inclusive
    #: A named survey period (kind "survey"): its id and name.
    survey_id: int | None = None
    name: str | None = None

    def previous(self) -> Period:
        """The period just before: the previous month, quarter or year; otherwise a custom period of equal length."""
        if self.kind == "month":
            end = self.start - dt.timedelta(days=1)
            return Period("month", end.replace(day=1), end)
        if self.kind == "quarter":
            end = self.start - dt.timedelta(days=1)
            return Period("quarter", dt.date(end.year, end.month - 2, 1), end)
        if self.kind == "year":
            return Period("year", dt.date(self.start.year - 1, 1, 1), dt.date(self.start.year - 1, 12, 31))
        length = (self.end - self.start).days + 1
        end = self.start - dt.timedelta(days=1)
        return Period("custom", end - dt.timedelta(days=length - 1), end)

    def args(self) -> dict[str, str]:
        """Query-string arguments that select this period again."""
        if self.kind == "month":
            return {"period": "month", "month": f"{self.start:%Y-%m}"}
        if self.kind == "quarter":
            return {"period": "quarter", "quarter": f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"}
        if self.kind == "year":
            return {"period": "year", "year": str(self.start.year)}
        if self.kind == "survey" and self.survey_id is not None:
            return {"period": "survey", "survey_period": str(self.survey_id)}
        return {"period": "custom", "date_from": self.start.isoformat(), "date_to": self.end.isoformat()}

    def next(self) -> Period:
        """The period just after (same kind; a custom or named period moves on by its own length)."""
        if self.kind in ("month", "quarter", "year"):
            return period_containing(self.kind, self.end + dt.timedelta(days=1))
        length = (self.end - self.start).days + 1
        start = self.end + dt.timedelta(days=1)
        return Period("custom", start, start + dt.timedelta(days=length - 1))

    def months(self) -> list[dt.date]:
        """First days of the months the period touches."""
        out, month = [], self.start.replace(day=1)
        while month <= self.end:
            out.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return out


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_containing(kind: str, day: dt.date) -> Period:
    if kind == "month":
        return Period("month", day.replace(day=1), _month_end(day.year, day.month))
    if kind == "quarter":
        first = 3 * ((day.month - 1) // 3) + 1
        return Period("quarter", dt.date(day.year, first, 1), _month_end(day.year, first + 2))
    return Period("year", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


def _year_ok(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise PeriodError("out_of_range")
    return year


def _anchor(args: Mapping[str, str], default_day: dt.date) -> dt.date:
    """The last day of whichever other period value came with the request (the form shows one value at a
    time, so switching the kind keeps the reader near the period they were looking at), else ``default_day``."""
    for kind, name in (("custom", "date_to"), ("month", "month"), ("quarter", "quarter"), ("year", "year")):
        if (args.get(name) or "").strip():
            try:
                return parse_period({**args, "period": kind, "date_from": args.get("date_to", "")}, default_day).end
            except PeriodError:
                continue
    return default_day


def parse_period(
    args: Mapping[str, str], default_day: dt.date, named: Mapping[int, SurveyPeriod] | None = None
) -> Period:
    """A period from query arguments (``period`` and its value); the period around ``default_day`` by default.

    ``named`` are the survey periods the agency may use (kind ``survey`` with ``survey_period=<id>``).
    """
    kind = (args.get("period") or "quarter").strip()
    if kind not in PERIOD_KINDS:
        raise PeriodError("unknown_kind")
    if kind == "survey":
        raw = (args.get("survey_period") or "").strip()
        survey_period_id = parse_id(raw)
        chosen = (named or {}).get(survey_period_id) if survey_period_id is not None else None
        if chosen is None:
            raise PeriodError("unknown_survey_period")
        return Period("survey", chosen.starts_on, chosen.ends_on, chosen.id, chosen.name)
    if kind == "month":
        raw = (args.get("month") or "").strip()
        if not raw:
            return period_containing("month", _anchor(args, default_day))
        match = _MONTH.match(raw)
        if not match or not 1 <= int(match[2]) <= 12:
            raise PeriodError("bad_month")
        return period_containing("month", dt.date(_year_ok(int(match[1])), int(match[2]), 1))
    if kind == "quarter":
        raw = (args.get("quarter") or "").strip()
        if not raw:
            return period_containing("quarter", _anchor(args, default_day))
        match = _QUARTER.match(raw)
        if not match:
            raise PeriodError("bad_quarter")
        return period_containing("quarter", dt.date(_year_ok(int(match[1])), 3 * int(match[2]) - 2, 1))
    if kind == "year":
        raw = (args.get("year") or "").strip()
        if not raw:
            return period_containing("year", _anchor(args, default_day))
        match = _YEAR.match(raw)
        if not match:
            raise PeriodError("bad_year")
        return period_containing("year", dt.date(_year_ok(int(match[1])), 1, 1))
    if not (args.get("date_from") or "").strip() and not (args.get("date_to") or "").strip():
        # Just switched to custom dates: start from the quarter the reader was looking at.
        around = period_containing("quarter", _anchor(args, default_day))
        return Period("custom", around.start, around.end)
    try:
        start = dt.date.fromisoformat((args.get("date_from") or "").strip())
        end = dt.date.fromisoformat((args.get("date_to") or "").strip())
    except ValueError:
        raise PeriodError("bad_dates") from None
    _year_ok(start.year)
    _year_ok(end.year)
    if end < start:
        raise PeriodError("end_before_start")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise PeriodError("too_long")
    return Period("custom", start, end)


# -- scope helpers -------------------------------------------------------------------------------------------


def province_of(session: Session, agency: Agency) -> Agency:
    """The root of the agency's hierarchy (the province or ministry it reports to)."""
    node = agency
    seen = {node.id}
    while node.parent is not None and node.parent.id not in seen:
        node = node.parent
        seen.add(node.id)
    return node


def agency_subtree_ids(session: Session, agency: Agency) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for agency_id, parent_id in session.execute(select(Agency.id, Agency.parent_id)):
        children.setdefault(parent_id, []).append(agency_id)
    return sorted(subtree(children, [agency.id]))


def last_response_day(session: Session, agency_ids: Sequence[int]) -> dt.date | None:
    """The last day with a valid response in these agencies."""
    return session.scalar(select(func.max(ResponseTally.day)).where(ResponseTally.agency_id.in_(list(agency_ids))))


def latest_day(session: Session, agency_ids: Sequence[int]) -> dt.date | None:
    """The day the default period is chosen around: the last day with a valid response in an agency-month
    that has its transaction volumes (``indices.last_weighted_day``), so the default period is the one of
    the last month with volumes rather than a month whose weights would all be imputed; the last response
    day when no agency here has volumes for a month with responses. A period asked for is kept as asked
    (its imputed weights are stated with it)."""
    return last_weighted_day(session, agency_ids) or last_response_day(session, agency_ids)


#: How many complete quarters back the default period looks for publishable figures before it falls back
#: to the last twelve complete months.
DEFAULT_QUARTERS_BACK = 4


@dataclass(frozen=True)
class PeriodStatus:
    """What the page says about the period it shows.

    ``default``: chosen by :func:`default_period` (the reader asked for none). ``rule``: which step of the
    rule picked it (``quarter``, ``twelve_months`` or ``latest``, the quarter around the last response when
    nothing complete is publishable). ``provisional``: its last month has no transaction volumes yet or it
    is not over, so its figures will still change. ``missing_month``: that last month.
    """

    period: Period
    default: bool = False
    rule: str = ""
    provisional: bool = False
    missing_month: dt.date | None = None
    not_over: bool = False


def months_with_volumes(session: Session, agency_ids: Sequence[int]) -> set[dt.date]:
    """First days of the months for which any of these agencies has transaction volumes."""
    rows = session.scalars(
        select(TransactionVolume.month)
        .where(TransactionVolume.agency_id.in_(list(agency_ids)), TransactionVolume.transactions > 0)
        .distinct()
    )
    return {m.replace(day=1) for m in rows}


def period_status(
    session: Session, agency_ids: Sequence[int], period: Period, today: dt.date | None = None, **how: object
) -> PeriodStatus:
    """Whether ``period`` is provisional: not over yet, or its last month without transaction volumes."""
    today = today or dt.date.today()
    last_month = period.end.replace(day=1)
    missing = last_month not in months_with_volumes(session, agency_ids)
    return PeriodStatus(
        period,
        provisional=missing or period.end >= today,
        missing_month=last_month if missing else None,
        not_over=period.end >= today,
        **how,  # type: ignore[arg-type]  # default / rule, passed through by default_period
    )


def _publishable(session: Session, agency: Agency, period: Period) -> bool:
    """The agency's overall index for ``period`` (its most answered questionnaire) is presented, not suppressed.

    Computed from the same province-wide report the dashboard then shows (through the report cache)."""
    province = province_of(session, agency)
    province_ids = agency_subtree_ids(session, province)
    own = province_ids if province.id == agency.id else [agency.id]
    choices = instruments_in_use(session, own, period)
    if not choices or choices[0].responses < MIN_N_EFF:
        return False  # n_eff never exceeds n: too few responses cannot be presented
    report, _problem = _indices(session, IndexQuery(choices[0].id, period.start, period.end, agency_ids=province_ids))
    estimate = _get(report, TOTAL if province.id == agency.id else agency.id, "overall", "share")
    return estimate is not None and not estimate.suppressed


def default_period(
    session: Session, agency: Agency, agency_ids: Sequence[int], today: dt.date | None = None
) -> PeriodStatus:
    """The period a dashboard opens on when the reader asks for none.

    The latest *complete* quarter (over before ``today``) that has transaction volumes for at least one
    of its months and a publishable overall index; up to :data:`DEFAULT_QUARTERS_BACK` quarters back.
    If none qualifies (a small agency), the last twelve complete months, if publishable. Otherwise the
    quarter around the last day with a response in a month with volumes (what exports end on), as before.
    Whichever is chosen is provisional when its last month has no volumes yet.
    """
    today = today or dt.date.today()
    last = last_response_day(session, agency_ids)
    if last is None:
        return period_status(
            session, agency_ids, period_containing("quarter", today), today, default=True, rule="latest"
        )
    volumes = months_with_volumes(session, agency_ids)
    quarter = period_containing("quarter", min(last, today))
    if quarter.end >= today:
        quarter = quarter.previous()
    for _ in range(DEFAULT_QUARTERS_BACK):
        if any(m in volumes for m in quarter.months()) and _publishable(session, agency, quarter):
            return period_status(session, agency_ids, quarter, today, default=True, rule="quarter")
        quarter = quarter.previous()
    last_month = period_containing("month", min(last, today))
    if last_month.end >= today:
        last_month = last_month.previous()
    start = last_month.start
    for _ in range(11):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    twelve = Period("custom", start, last_month.end)
    if any(m in volumes for m in twelve.months()) and _publishable(session, agency, twelve):
        return period_status(session, agency_ids, twelve, today, default=True, rule="twelve_months")
    around = period_containing("quarter", latest_day(session, agency_ids) or last)
    return period_status(session, agency_ids, around, today, default=True, rule="latest")


def survey_periods_for(session: Session, agency: Agency) -> dict[int, SurveyPeriod]:
    """Named survey periods of the agency and its ancestors, newest first (the presets it may choose)."""
    ids: list[int] = []
    seen: set[int] = set()
    node: Agency | None = agency
    while node is not None and node.id not in seen:
        ids.append(node.id)
        seen.add(node.id)
        node = node.parent
    rows = session.scalars(
        select(SurveyPeriod)
        .where(SurveyPeriod.agency_id.in_(ids))
        .order_by(SurveyPeriod.starts_on.desc(), SurveyPeriod.id.desc())
        .limit(50)
    )
    return {row.id: row for row in rows}


@dataclass(frozen=True)
class InstrumentChoice:
    id: int
    #: Code and version, e.g. ``sipas-2017 v1`` (what every index states as its questionnaire).
    label: str
    name: str
    responses: int


def instruments_in_use(
    session: Session, agency_ids: Sequence[int], period: Period, locale: str = "vi"
) -> list[InstrumentChoice]:
    """Instruments answered in these agencies during the period, most responses first."""
    rows = session.execute(
        select(Instrument.id, Instrument.code, Instrument.version, func.sum(ResponseTally.n))
        .join(ResponseTally, ResponseTally.instrument_id == Instrument.id)
        .where(
            ResponseTally.agency_id.in_(list(agency_ids)),
            ResponseTally.day >= period.start,
            ResponseTally.day <= period.end,
        )
        .group_by(Instrument.id, Instrument.code, Instrument.version)
    ).all()
    instruments = {i.id: i for i in session.scalars(select(Instrument).where(Instrument.id.in_([r[0] for r in rows])))}
    choices = [
        InstrumentChoice(r[0], instruments[r[0]].label, instruments[r[0]].name(locale), int(r[3] or 0)) for r in rows
    ]
    return sorted(choices, key=lambda c: (-c.responses, c.label))


# -- comparisons -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """``estimate - reference`` with its interval and verdict, Bonferroni-adjusted across its table; or why none.

    As made, ``ci`` is the unadjusted interval at 1 - α and the comparison is not yet significant;
    :func:`with_bonferroni` recomputes ``ci`` at ``level`` = 1 - α/``k`` for the ``k`` comparisons of the
    table and sets ``p_adjusted`` = min(1, ``k`` p) (None for a MOVER interval, which no p-value matches).
    The verdict is whether that interval excludes zero, so the interval shown and the verdict never disagree.
    """

    delta: float | None = None
    ci: tuple[float, float] | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    method: str = ""
    unavailable: str | None = None  # "suppressed" | "no_data"
    #: Comparisons in the Bonferroni family (the table's column) and the level of ``ci``; None until adjusted.
    k: int | None = None
    level: float | None = None
    #: What the interval is recomputed from at the adjusted level.
    contrast: Contrast | None = field(default=None, repr=False, compare=False)

    @property
    def significant(self) -> bool:
        """Adjusted, and its (adjusted) interval excludes zero."""
        return self.k is not None and self.ci is not None and (self.ci[0] > 0 or self.ci[1] < 0)

    @property
    def direction(self) -> str:
        """``above``, ``below`` (the adjusted interval excludes zero on that side) or ``same``."""
        if not self.significant or self.ci is None:
            return "same"
        return "above" if self.ci[0] > 0 else "below"


def compared(d: Difference, a: Estimate, b: Estimate) -> Comparison:
    """The comparison of ``a`` with ``b`` from their analytics difference ``d``, not yet adjusted."""
    return Comparison(d.estimate, d.ci, d.p_value, None, d.ci_method, contrast=Contrast.of(d, a, b))


def independent_difference(a: Estimate, b: Estimate) -> Comparison:
    """Two periods (PSUs are counter-days, so the samples are disjoint): V = V1 + V2, df = min(df1, df2).

    Near the boundary (both shares ≥ 0.95) the interval is MOVER/Newcombe with r = 0
    (``analytics.independent_difference``, STATISTICS.md §11).
    """
    if a.suppressed or b.suppressed:
        return Comparison(unavailable="suppressed")
    d = independent_samples_difference(a, b, level=1 - ALPHA)
    if d is None:
        return Comparison(unavailable="suppressed")
    return compared(d, a, b)


def same_design_difference(report: IndexReport, domain: int, reference: int, target: str, kind: str) -> Comparison:
    """Agency vs province (or agency vs agency) within one report: the covariance is included."""
    try:
        a = report.get(domain, target, kind)
        b = report.get(reference, target, kind)
    except EstimationError:
        return Comparison(unavailable="no_data")
    if a.suppressed or b.suppressed:
        return Comparison(unavailable="suppressed")
    d = difference(report.estimates, (domain, target, kind), (reference, target, kind))
    if not math.isfinite(d.p_value):
        return Comparison(unavailable="suppressed")
    return compared(d, a, b)


def with_bonferroni(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons of one table, Bonferroni-adjusted for the ``k`` that could be made (the others
    unchanged): each interval at level 1 - α/k (t with its df; MOVER from the single-share intervals at
    that level near the boundary), significant exactly when it excludes zero."""
    made = [(i, c.contrast) for i, c in enumerate(comparisons) if c.unavailable is None and c.contrast is not None]
    adjusted = bonferroni_differences([contrast for _, contrast in made], level=1 - ALPHA)
    out = list(comparisons)
    for (i, _), a in zip(made, adjusted, strict=True):
        p = a.p_adjusted if math.isfinite(a.p_adjusted) else None
        out[i] = replace(out[i], ci=a.ci, p_adjusted=p, method=a.ci_method, k=a.k, level=a.level)
    return out


# -- agency dashboard ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One target (overall, an element or an item) with its estimates and comparisons."""

    target: str
    label: str
    share: Estimate | None
    mean: Estimate | None = None
    vs_province: Comparison | None = None
    vs_previous: Comparison | None = None


@dataclass
class AgencyDashboard:
    agency: Agency
    province: Agency
    period: Period
    previous: Period
    instruments: list[InstrumentChoice]
    instrument: InstrumentChoice | None = None
    report: IndexReport | None = None
    previous_report: IndexReport | None = None
    responses: int = 0
    overall: Row | None = None
    elements: list[Row] = field(default_factory=list)
    items: list[tuple[str, list[Row]]] = field(default_factory=list)
    is_province: bool = False
    problem: str | None = None

    @property
    def has_data(self) -> bool:
        return self.report is not None and self.overall is not None


def _indices(session: Session, query: IndexQuery) -> tuple[IndexReport | None, str | None]:
    """The report, or None with why: ``no_data`` or ``not_estimable`` (the engine refused the data)."""
    try:
        return cached_indices(session, query, int(current_app.config.get("INDEX_CACHE_SECONDS", 0))), None
    except LookupError:
        return None, "no_data"
    except AnalyticsError:
        # E.g. every answer to one criterion of a composite is "not applicable" in this period.
        return None, "not_estimable"


def _get(report: IndexReport | None, domain: int, target: str, kind: str) -> Estimate | None:
    if report is None:
        return None
    try:
        return report.get(domain, target, kind)
    except EstimationError:
        return None


def _vs_previous(current: Estimate | None, previous: Estimate | None) -> Comparison:
    if current is None or previous is None:
        return Comparison(unavailable="no_data")
    return independent_difference(current, previous)


def _responses(session: Session, instrument_id: int, agency_ids: Sequence[int], period: Period) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(ResponseTally.n), 0)).where(
                ResponseTally.instrument_id == instrument_id,
                ResponseTally.agency_id.in_(list(agency_ids)),
                ResponseTally.day >= period.start,
                ResponseTally.day <= period.end,
            )
        )
        or 0
    )


def agency_dashboard(
    session: Session, agency: Agency, period: Period, instrument_id: int | None, locale: str
) -> AgencyDashboard:
    """Indices of ``agency`` (its own counters) for ``period``, against its province and the previous period.

    For the province itself the figures are the whole province (every agency in it).
    """
    province = province_of(session, agency)
    province_ids = agency_subtree_ids(session, province)
    is_province = province.id == agency.id
    own_ids = province_ids if is_province else [agency.id]
    board = AgencyDashboard(
        agency=agency,
        province=province,
        period=period,
        previous=period.previous(),
        instruments=instruments_in_use(session, own_ids, period, locale),
        is_province=is_province,
    )
    chosen = [c for c in board.instruments if c.id == instrument_id] or board.instruments[:1]
    if not chosen:
        return board
    board.instrument = chosen[0]
    domain = TOTAL if is_province else agency.id
    board.report, board.problem = _indices(
        session, IndexQuery(board.instrument.id, period.start, period.end, agency_ids=province_ids)
    )
    if board.report is None:
        return board
    board.previous_report, _ = _indices(
        session, IndexQuery(board.instrument.id, board.previous.start, board.previous.end, agency_ids=province_ids)
    )
    board.responses = _responses(session, board.instrument.id, own_ids, period)
    instrument = session.get(Instrument, board.instrument.id)
    assert instrument is not None
    report, previous = board.report, board.previous_report

    def row(target: str, label: str, with_mean: bool) -> Row:
        share = _get(report, domain, target, "share")
        return Row(
            target=target,
            label=label,
            share=share,
            mean=_get(report, domain, target, "mean") if with_mean else None,
            vs_province=None if is_province else same_design_difference(report, domain, TOTAL, target, "share"),
            vs_previous=_vs_previous(share, _get(previous, domain, target, "share")),
        )

    headline = [row("overall", "overall", False)] + [
        row(element.code, element.name(locale), False) for element in instrument.elements
    ]
    if _get(report, domain, "overall", "share") is None:
        return board
    # Bonferroni across the headline table (overall and the elements), separately for each column.
    if not is_province:
        adjusted = with_bonferroni([r.vs_province or Comparison(unavailable="no_data") for r in headline])
        headline = [_replace(r, vs_province=c) for r, c in zip(headline, adjusted, strict=True)]
    adjusted = with_bonferroni([r.vs_previous or Comparison(unavailable="no_data") for r in headline])
    headline = [_replace(r, vs_previous=c) for r, c in zip(headline, adjusted, strict=True)]
    board.overall, board.elements = headline[0], headline[1:]
    for element in instrument.elements:
        rows = [
            Row(
                target=item.code,
                label=item.text(locale),
                share=_get(report, domain, item.code, "share"),
                mean=_get(report, domain, item.code, "mean"),
            )
            for item in element.items
        ]
        board.items.append((element.code, rows))
    return board


def _replace(row: Row, **changes: object) -> Row:
    return replace(row, **changes)  # type: ignore[arg-type]  # dataclasses.replace with fields named at run time


# -- province table --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyLine:
    agency: Agency
    share: Estimate
    vs_province: Comparison
    #: Sociological-survey points under the province's PAR scheme for the period's year (None: not scored).
    par: AgencyPoints | None = None


@dataclass
class ProvinceTable:
    province: Agency
    period: Period
    instruments: list[InstrumentChoice]
    instrument: InstrumentChoice | None = None
    report: IndexReport | None = None
    total: Estimate | None = None
    lines: list[AgencyLine] = field(default_factory=list)
    problem: str | None = None
    #: The PAR scheme the points come from, and whether it is the shipped example (not an official allocation).
    par_scheme: SchemeFile | None = None
    par_example: bool = False


SORT_KEYS = ("name", "index", "n")


def _par_points(session: Session, table: ProvinceTable, agency_ids: list[int]) -> dict[int, AgencyPoints]:
    """PAR points of each agency from the same report: the province's scheme for the period's year, or the
    shipped example (the page says which). Agencies lacking an index the scheme needs are not scored."""
    assert table.report is not None
    chosen = par_report.scheme_for(session, table.province, table.period.end.year)
    table.par_scheme, table.par_example = chosen.scheme, chosen.fallback or chosen.scheme.example
    es = table.report.estimates
    scored, missing = par_report.scoreable(es, chosen.scheme, agency_ids)
    if not scored or missing:
        return {}
    result = par_points(es, chosen.scheme.scheme, scored, level=table.report.estimates.get(TOTAL, "overall").level)
    return {p.agency: p for p in result.agencies}


def province_table(
    session: Session,
    province: Agency,
    period: Period,
    instrument_id: int | None,
    sort: str,
    descending: bool,
    locale: str,
) -> ProvinceTable:
    """Every agency of the province with responses: overall index, CI, n, flags, and its difference from
    the province (same design, covariance included), Bonferroni-adjusted across the agencies compared."""
    ids = agency_subtree_ids(session, province)
    table = ProvinceTable(province, period, instruments_in_use(session, ids, period, locale))
    chosen = [c for c in table.instruments if c.id == instrument_id] or table.instruments[:1]
    if not chosen:
        return table
    table.instrument = chosen[0]
    table.report, table.problem = _indices(
        session, IndexQuery(table.instrument.id, period.start, period.end, agency_ids=ids)
    )
    if table.report is None:
        return table
    table.total = _get(table.report, TOTAL, "overall", "share")
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(ids)))}
    lines: list[tuple[Agency, Estimate, Comparison]] = []
    for agency_id in ids:
        estimate = _get(table.report, agency_id, "overall", "share")
        if estimate is None:
            continue
        lines.append(
            (agencies[agency_id], estimate, same_design_difference(table.report, agency_id, TOTAL, "overall", "share"))
        )
    adjusted = with_bonferroni([c for _, _, c in lines])
    points = _par_points(session, table, [a.id for a, _, _ in lines])
    table.lines = [AgencyLine(a, e, c, points.get(a.id)) for (a, e, _), c in zip(lines, adjusted, strict=True)]

    def key(line: AgencyLine) -> tuple[object, ...]:
        if sort == "index":
            # Suppressed figures sort last whichever way: they are not a number to rank.
            return (line.share.suppressed, -line.share.estimate if descending else line.share.estimate)
        if sort == "n":
            return (-line.share.n if descending else line.share.n,)
        return (line.agency.name(locale).casefold(),)

    table.lines.sort(key=key)
    if sort == "name" and descending:
        table.lines.reverse()
    return table
