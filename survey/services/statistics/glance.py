"""The dashboard home "at a glance": what changed since the previous period, the weakest criteria and counters,
a small trend for the headline tiles, and the comments still to handle.

Nothing new is estimated here: every figure comes from the overview's own index reports (current and
previous period, :func:`~survey.services.statistics.dashboard.agency_dashboard`), the counter breakdown
(:func:`~survey.services.statistics.breakdowns.breakdown`) and the trend
(:func:`~survey.services.statistics.trends.agency_trend`). Period-to-period moves use the dashboard's own
independent-samples difference, Bonferroni-adjusted across each list as the tables are, so the home and the
tables never disagree on what is significant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics import Estimate
from survey.models import Agency, CommentReview, Instrument, Response
from survey.services.review import comments as comment_service
from survey.services.statistics.breakdowns import breakdown
from survey.services.statistics.dashboard import (
    AgencyDashboard,
    Comparison,
    _get,
    agency_subtree_ids,
    independent_difference,
    with_bonferroni,
)
from survey.services.statistics.indices import TOTAL
from survey.services.statistics.trends import Trend

#: How many of the weakest criteria and counters the home lists.
WEAKEST = 3
#: How many of the newest unhandled comments the home quotes.
NEWEST_COMMENTS = 3


@dataclass(frozen=True)
class Move:
    """One series (criterion, element, counter or agency) compared with the previous period."""

    kind: str  # element | criterion | counter | agency
    label: str
    share: Estimate
    previous: Estimate
    change: Comparison


@dataclass(frozen=True)
class Weak:
    kind: str  # criterion | counter | agency
    label: str
    share: Estimate


@dataclass(frozen=True)
class Spark:
    """A sparkline's geometry (a polyline in a small viewBox) and the points it draws."""

    width: int
    height: int
    points: str
    last_x: float | None
    last_y: float | None
    count: int


@dataclass
class Glance:
    moves: list[Move] = field(default_factory=list)
    #: Series compared with the previous period (the Bonferroni families put together).
    compared: int = 0
    weakest_criteria: list[Weak] = field(default_factory=list)
    weakest_parts: list[Weak] = field(default_factory=list)
    unhandled: int = 0
    newest: list[comment_service.CommentRow] = field(default_factory=list)
    index_spark: Spark | None = None
    responses_spark: Spark | None = None


def _presented(e: Estimate | None) -> bool:
    return e is not None and not e.suppressed


def _moves(kind: str, pairs: list[tuple[str, Estimate | None, Estimate | None]]) -> tuple[list[Move], int]:
    """Significant moves among ``(label, current, previous)``, Bonferroni-adjusted across the list."""
    usable = [(label, a, b) for label, a, b in pairs if _presented(a) and _presented(b)]
    if not usable:
        return [], 0
    adjusted = with_bonferroni([independent_difference(a, b) for _, a, b in usable])  # type: ignore[arg-type]  # filtered to presented
    made = [c for c in adjusted if c.k is not None]
    out = [
        Move(kind, label, a, b, c)  # type: ignore[arg-type]  # filtered to presented
        for (label, a, b), c in zip(usable, adjusted, strict=True)
        if c.significant
    ]
    return out, len(made)


def spark(values: list[float | None], width: int = 120, height: int = 32) -> Spark | None:
    """A polyline through the values (None: a gap is bridged); None with fewer than two values."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return None
    lo, hi = min(known), max(known)
    span = hi - lo or 1.0
    step = (width - 4) / max(len(values) - 1, 1)
    coords = [
        (round(2 + i * step, 1), round(height - 3 - (v - lo) / span * (height - 6), 1))
        for i, v in enumerate(values)
        if v is not None
    ]
    last_x, last_y = coords[-1]
    return Spark(width, height, " ".join(f"{x},{y}" for x, y in coords), last_x, last_y, len(known))


def _unhandled(session: Session, agency_ids: list[int], board: AgencyDashboard) -> int:
    return int(
        session.scalar(
            select(func.count(Response.id))
            .outerjoin(CommentReview, CommentReview.response_id == Response.id)
            .where(
                Response.agency_id.in_(agency_ids),
                Response.status == "valid",
                Response.comment.is_not(None),
                Response.comment != "",
                Response.received_on >= board.period.start,
                Response.received_on <= board.period.end,
                CommentReview.response_id.is_(None),
            )
        )
        or 0
    )


def glance(session: Session, board: AgencyDashboard, own_ids: list[int], trend: Trend | None, locale: str) -> Glance:
    """The home's summaries for the agency (or the province) of ``board``."""
    out = Glance()
    if trend is not None:
        out.index_spark = spark([p.estimate.estimate if _presented(p.estimate) else None for p in trend.points])  # type: ignore[union-attr]  # guarded by _presented
        out.responses_spark = spark([float(p.responses) for p in trend.points])
    out.unhandled = _unhandled(session, own_ids, board)
    if out.unhandled:
        page = comment_service.comments(
            session, own_ids, board.period.start, board.period.end, comment_service.CommentFilter(status="unhandled")
        )
        out.newest = page.rows[:NEWEST_COMMENTS]
    if not board.has_data or board.instrument is None or board.report is None:
        return out
    domain = TOTAL if board.is_province else board.agency.id
    instrument = session.get(Instrument, board.instrument.id)
    assert instrument is not None
    elements = [
        (
            e.name(locale),
            _get(board.report, domain, e.code, "share"),
            _get(board.previous_report, domain, e.code, "share"),
        )
        for e in instrument.elements
    ]
    criteria = [
        (
            item.text(locale),
            _get(board.report, domain, item.code, "share"),
            _get(board.previous_report, domain, item.code, "share"),
        )
        for item in instrument.items
    ]
    moves, n = _moves("element", elements)
    out.moves += moves
    out.compared += n
    moves, n = _moves("criterion", criteria)
    out.moves += moves
    out.compared += n
    out.weakest_criteria = [
        Weak("criterion", label, e)  # type: ignore[arg-type]  # filtered to presented
        for label, e, _ in sorted((c for c in criteria if _presented(c[1])), key=lambda c: c[1].estimate)[:WEAKEST]  # type: ignore[union-attr]  # filtered to presented
    ]
    if board.is_province:
        agencies = {a.id: a.name(locale) for a in session.scalars(select(Agency).where(Agency.id.in_(own_ids)))}
        parts = [
            (agencies[a], _get(board.report, a, "overall", "share"), _get(board.previous_report, a, "overall", "share"))
            for a in own_ids
            if a != board.agency.id
        ]
        kind = "agency"
    else:
        province_ids = agency_subtree_ids(session, board.province)
        now = breakdown(session, own_ids, board.instrument.id, board.period, locale, weight_ids=province_ids)
        before = breakdown(session, own_ids, board.instrument.id, board.previous, locale, weight_ids=province_ids)
        earlier = {row.key: row.share for row in before.counters}
        parts = [(row.label, row.share, earlier.get(row.key)) for row in now.counters if row.key]
        kind = "counter"
    moves, n = _moves(kind, parts)
    out.moves += moves
    out.compared += n
    out.weakest_parts = [
        Weak(kind, label, e)  # type: ignore[arg-type]  # filtered to presented
        for label, e, _ in sorted((p for p in parts if _presented(p[1])), key=lambda p: p[1].estimate)[:WEAKEST]  # type: ignore[union-attr]  # filtered to presented
    ]
    return out
