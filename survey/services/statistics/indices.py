"""SIPAS indices with confidence intervals, from the sufficient-statistics tallies.

The default design for counter QR data (see the methodology page): agencies are strata, counter-days
are PSUs, and each response carries its cell weight, transactions ÷ valid responses per agency ×
field × month (``analytics.imputed_cell_factors``). An agency-month without transaction volumes (the
month not over yet, typically) gets weights imputed from the agency's own nearest month with volumes,
confined to its own cells and stated with every figure (:class:`WeightImputation`), so it never flips
other agencies or months to unweighted. SQL only sums and filters; the small math is the pure
``analytics`` package. Every result states its instrument, period, weighting, design,
composite definition and interval methods.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import (
    ClauseElement,
    Column,
    ColumnElement,
    Date,
    Float,
    Integer,
    MetaData,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.compiler import Compiled, SQLCompiler

from analytics import (
    DAY_SPAN,
    PSU_ITEM_COLUMNS,
    Estimate,
    EstimateSet,
    ResponseCells,
    composite_specs,
    counter_day_sums,
    estimate_from_sums,
    psu_days,
    row_weights,
)
from analytics.weighting import CARRIED, MAX_CARRY_MONTHS, TYPICAL, imputed_cell_factors
from survey.db import WriterQueueTimeout, db, driver_connection, upsert_insert, utcnow
from survey.models import AnswerTally, Instrument, PsuMonthSums, ResponseTally, TransactionVolume
from survey.services.statistics.tally_sql import EpochDays, id_list

logger = logging.getLogger(__name__)

WEIGHTED = "cell weights: transactions ÷ valid responses per agency × field × month"
UNWEIGHTED = "unweighted"
DESIGN = "agencies as strata, counter-days as PSUs, with replacement (no fpc); lonely PSUs as certainty units"
#: Domain label of the whole scope (e.g. the province), next to each agency's id.
TOTAL = 0


@dataclass(frozen=True)
class IndexQuery:
    instrument_id: int
    date_from: dt.date
    date_to: dt.date  # inclusive
    #: Agencies to estimate (each one domain); None = every agency with responses.
    agency_ids: Sequence[int] | None = None
    weighted: bool = True
    include_total: bool = True
    level: float = 0.95


@dataclass(frozen=True)
class WeightingNote:
    """How the weights were made, about one agency (and month) or, with no agency, the whole scope.

    Notes name agencies by id here; readers name them by code, and only the agencies they were asked
    about (:meth:`text`, :func:`notes_about`): a report covers a whole province, a reader often one agency.
    """

    message: str
    agency_id: int | None = None
    months: tuple[dt.date, ...] = ()

    def text(self, codes: Mapping[int, str]) -> str:
        if self.agency_id is None:
            return self.message
        when = f" {', '.join(f'{m:%Y-%m}' for m in self.months)}" if self.months else ""
        return f"agency {codes.get(self.agency_id, '?')}{when}: {self.message}"


def notes_about(
    notes: Sequence[WeightingNote], agency_ids: Sequence[int] | None, codes: Mapping[int, str]
) -> list[str]:
    """The notes that concern these agencies (all of them for None), or the whole scope, in readable form."""
    wanted = None if agency_ids is None else set(agency_ids)
    return [n.text(codes) for n in notes if n.agency_id is None or wanted is None or n.agency_id in wanted]


def _by_agency(pairs: Sequence[tuple[int, dt.date]], message: str) -> list[WeightingNote]:
    months: dict[int, list[dt.date]] = {}
    for agency_id, month in pairs:
        months.setdefault(int(agency_id), []).append(month)
    return [WeightingNote(message, a, tuple(sorted(ms))) for a, ms in sorted(months.items())]


@dataclass(frozen=True)
class IndexReport:
    """Estimates and everything needed to say how they were made."""

    estimates: EstimateSet
    instrument: str
    period: tuple[dt.date, dt.date]
    weighting: str
    design: str
    definition: str
    ci_methods: dict[str, str]
    n_strata: int
    n_psus: int
    notes: tuple[WeightingNote, ...] = field(default=())
    #: Some weighting cells were collapsed (fields without respondents or respondents without a field).
    merged_cells: bool = False
    #: Criteria with no valid answer in scope, left out of their element's average.
    unanswered_items: tuple[str, ...] = ()
    #: Weights imputed for agency-months without transaction volumes (None: none was needed).
    imputation: WeightImputation | None = None
    computed_at: dt.datetime = field(default_factory=utcnow)

    def get(self, domain: int, target: str, kind: str = "share") -> Estimate:
        """One estimate: ``target`` is an item code, an element code or "overall"; domain an agency id or TOTAL."""
        return self.estimates.get(domain, target, kind)


def _month(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]")


# -- SQL: Core statements compiled once per dialect, executed on the driver cursor ---------------------------
#
# The tallies are read in bulk (tens of thousands of rows) straight through the driver cursor: no ORM or
# Result row objects. Each statement is built from the models' tables, compiled once per dialect and
# cached; per call only the literal id lists (``IN (1, 2, …)``, as the planner likes them) are rendered.


def _const(value: int) -> ColumnElement[int]:
    """An integer rendered into the SQL text rather than bound."""
    return literal(value, Integer, literal_execute=True)


#: Per connection: the cell weights of the current read (rows vanish at each commit on PostgreSQL).
_weights_table = Table(
    "tmp_cell_weights",
    MetaData(),
    Column("agency_id", Integer, primary_key=True),
    Column("field_key", Integer, primary_key=True),
    Column("month", Date, primary_key=True),
    Column("w", Float),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)


def _response_cells_stmt(by_agency: bool) -> ClauseElement:
    t = ResponseTally.__table__
    where = [
        t.c.instrument_id == bindparam("instrument_id"),
        # an exclusion can leave a tally at zero: no respondent, no weighting cell
        t.c.n > _const(0),
        t.c.day >= bindparam("date_from"),
        t.c.day <= bindparam("date_to"),
    ]
    if by_agency:
        where.append(t.c.agency_id.in_(id_list("agency_ids")))
    # In key order (the tallies' own index order): each agency's rows reach the estimator in the same order
    # whatever else is in scope, so its figures do not move in the last bit when another agency's data do.
    return (
        select(t.c.agency_id, EpochDays(t.c.day), t.c.counter_key, t.c.field_key, t.c.n)
        .where(*where)
        .order_by(t.c.agency_id, t.c.day, t.c.counter_key, t.c.field_key)
    )


def _psu_sums_stmt(weighted: bool) -> ClauseElement:
    """Weighted sums per (agency, counter-day, item), columns :data:`PSU_COLUMNS`."""
    t = AnswerTally.__table__
    c = _weights_table.c
    w: ColumnElement[float] = c.w if weighted else literal_column("1.0", Float)
    source = (
        t.join(_weights_table, and_(c.agency_id == t.c.agency_id, c.field_key == t.c.field_key, c.month == t.c.month))
        if weighted
        else t
    )
    psu = t.c.counter_key * _const(DAY_SPAN) + EpochDays(t.c.day)
    return (
        select(
            t.c.agency_id,
            psu,
            t.c.item_id,
            func.sum(t.c.n_valid),
            func.sum(w * t.c.n_valid),
            func.sum(w * t.c.n_satisfied),
            func.sum(w * t.c.sum_score),
            func.sum(w * t.c.sum_score_sq),
            func.sum(w * w * t.c.n_valid),
        )
        .select_from(source)
        .where(
            t.c.agency_id.in_(id_list("agency_ids")),
            t.c.day >= bindparam("date_from"),
            t.c.day <= bindparam("date_to"),
            t.c.n_valid > _const(0),
            t.c.item_id.in_(id_list("item_ids")),
        )
        .group_by(t.c.agency_id, t.c.day, t.c.counter_key, t.c.item_id)
    )


#: Built once; :func:`_sql` compiles each once per dialect (EpochDays renders the day arithmetic for it).
_STATEMENTS: dict[str, ClauseElement] = {
    "response_cells": _response_cells_stmt(by_agency=False),
    "response_cells_by_agency": _response_cells_stmt(by_agency=True),
    "psu_sums": _psu_sums_stmt(weighted=False),
    "psu_sums_weighted": _psu_sums_stmt(weighted=True),
    "weights_ddl": CreateTable(_weights_table, if_not_exists=True),
    "weights_clear": delete(_weights_table),
    "weights_insert": insert(_weights_table),
}
_compiled: dict[tuple[str, str, str], Compiled] = {}


def _sql(dialect: Dialect, name: str) -> Compiled:
    """The statement ``name`` compiled for this dialect (and its driver's parameter style), cached."""
    key = (dialect.name, dialect.paramstyle, name)
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compiled[key] = _STATEMENTS[name].compile(dialect=dialect)
    return compiled


def _execute(cursor: Any, compiled: Compiled, params: Mapping[str, Any]) -> None:
    """Run a compiled statement on the driver cursor; ``params`` are already in the driver's types."""
    assert isinstance(compiled, SQLCompiler)  # a SELECT, not DDL
    state = compiled.construct_expanded_state(dict(params))
    cursor.execute(state.statement, state.positional_parameters if compiled.positional else state.parameters)


def _driver_row(compiled: Compiled, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
    """One parameter row of an ``executemany`` in the driver's style (positional or named)."""
    assert isinstance(compiled, SQLCompiler)  # an INSERT, not DDL
    if compiled.positional:
        return tuple(values[name] for name in compiled.positiontup or ())
    return values


def _day_param(dialect: str) -> Callable[[dt.date], Any]:
    """SQLite compares dates as ISO text; PostgreSQL takes date objects."""
    return (lambda d: d.isoformat()) if dialect == "sqlite" else (lambda d: d)


def _response_cells(session: Session, query: IndexQuery) -> dict[str, np.ndarray]:
    """Valid responses per agency × counter-day × field (tens of thousands of rows at national scale).

    Read through the driver cursor as integers: ``day`` comes back as ``datetime64[D]`` (and ``days``
    as days since 1970-01-01) and ``month`` as ``datetime.date`` objects (the weighting cells' keys).
    """
    conn = session.connection()
    as_day = _day_param(conn.dialect.name)
    params: dict[str, Any] = {
        "instrument_id": query.instrument_id,
        "date_from": as_day(query.date_from),
        "date_to": as_day(query.date_to),
    }
    name = "response_cells"
    if query.agency_ids is not None:
        name = "response_cells_by_agency"
        params["agency_ids"] = [int(a) for a in query.agency_ids]
    cursor = driver_connection(conn).cursor()
    _execute(cursor, _sql(conn.dialect, name), params)
    rows = cursor.fetchall()
    cursor.close()
    values = np.array(rows, dtype=np.int64).reshape(len(rows), 5)
    day = values[:, 1].astype("datetime64[D]")
    return {
        "agency_id": values[:, 0],
        "day": day,
        "days": values[:, 1],
        "counter_key": values[:, 2],
        "field_key": values[:, 3],
        "month": day.astype("datetime64[M]").astype("datetime64[D]").astype(object),
        "n": values[:, 4],
    }


#: Weight per (agency id, field key (0 = none), first day of month) cell.
Factors = dict[tuple[int, int, dt.date], float]
Weights = tuple[Factors, tuple[WeightingNote, ...]]


def _months_between(month: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` months after ``month`` (before it when negative)."""
    number = month.year * 12 + month.month - 1 + months
    return dt.date(number // 12, number % 12 + 1, 1)


def is_open_month(month: dt.date, today: dt.date) -> bool:
    """The month is not over for every local date yet (the complement of :func:`closed_months`): no
    transaction volumes can exist for it."""
    return _next_month(month) - dt.timedelta(days=1) >= today - dt.timedelta(days=2)


def _percent(share: float) -> str:
    if 0 < share < 0.0005:
        return "< 0.1 %"
    return f"{share * 100:.1f} %"


def _month_list(months: Sequence[dt.date]) -> str:
    return ", ".join(f"{m:%Y-%m}" for m in sorted(months))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class WeightImputation:
    """Weights imputed for agency-months without transaction volumes (``analytics.imputed_cell_factors``).

    The rule, as the methodology page states it: an agency-month without volumes takes the volumes of the
    agency's latest earlier month with volumes (within :data:`MAX_CARRY_MONTHS`; else its earliest later
    one), field by field; an agency with no volumes within reach weighs each respondent by the median
    weight per respondent of the agency-months with their own volumes. No other cell changes.
    """

    #: (agency id, month, the month whose volumes stand in) per carried agency-month.
    carried: tuple[tuple[int, dt.date, dt.date], ...] = ()
    #: (agency id, month) of the agencies without volumes within reach, each respondent at ``typical_weight``.
    typical: tuple[tuple[int, dt.date], ...] = ()
    typical_weight: float | None = None
    #: Share of the weight lying in imputed cells: per agency id, and for the whole scope under TOTAL.
    shares: Mapping[int, float] = field(default_factory=dict)
    #: Imputed months of the period that are not over yet (no volumes can exist for them).
    open_months: tuple[dt.date, ...] = ()

    @property
    def agency_months(self) -> int:
        return len(self.carried) + len(self.typical)

    @property
    def carried_forward(self) -> int:
        return sum(1 for _, month, source in self.carried if source < month)

    @property
    def carried_back(self) -> int:
        return sum(1 for _, month, source in self.carried if source > month)

    @property
    def months(self) -> tuple[dt.date, ...]:
        return tuple(sorted({m for _, m, _ in self.carried} | {m for _, m in self.typical}))

    def share(self, domain: int = TOTAL) -> float:
        """Share of the domain's weight (an agency id, or TOTAL for the scope) in imputed cells."""
        return self.shares.get(domain, 0.0)

    def touches(self, agency_id: int) -> bool:
        return any(a == agency_id for a, _, _ in self.carried) or any(a == agency_id for a, _ in self.typical)


@dataclass(frozen=True)
class _Weighting:
    """The cell weights of one query and everything said about them."""

    factors: Factors
    notes: tuple[WeightingNote, ...] = ()
    imputation: WeightImputation | None = None
    #: Per imputed agency-month, what its weights were made from (part of its stored roll-up's digest).
    provenance: Mapping[tuple[int, dt.date], str] = field(default_factory=dict)
    #: Cells were collapsed or spread (fields without respondents, respondents without a field).
    merged: bool = False


def _volumes(
    session: Session, month_from: dt.date, month_to: dt.date, agencies: Sequence[int] | None
) -> list[tuple[int, int, dt.date, float]]:
    """Transactions per (agency, field, month) for months in [month_from, month_to] (of these agencies)."""
    vol_q = (
        select(
            TransactionVolume.agency_id,
            TransactionVolume.field_id,
            TransactionVolume.month,
            func.sum(TransactionVolume.transactions),
        )
        .where(TransactionVolume.month >= month_from, TransactionVolume.month <= month_to)
        .group_by(TransactionVolume.agency_id, TransactionVolume.field_id, TransactionVolume.month)
    )
    params: dict[str, Any] = {}
    if agencies is not None:
        vol_q = vol_q.where(TransactionVolume.agency_id.in_(id_list("volume_agencies")))
        params["volume_agencies"] = sorted(int(a) for a in agencies)
    return [(int(a), int(f), m, float(t)) for a, f, m, t in session.execute(vol_q, params)]


def _imputation_notes(
    imputation: WeightImputation, typical_months: int, carried_by: Mapping[int, list[tuple[dt.date, dt.date]]]
) -> list[WeightingNote]:
    """One note for the scope (how many agency-months, their share of the weight, the rules applied), one
    for the open months, one per agency (its months, the source of their volumes, its share)."""
    rules = []
    if imputation.carried_forward:
        rules.append(f"latest known volumes of the agency carried forward ({imputation.carried_forward})")
    if imputation.carried_back:
        rules.append(f"earliest later volumes of the agency carried back ({imputation.carried_back})")
    if imputation.typical:
        rules.append(
            f"no volumes within {MAX_CARRY_MONTHS} months: median weight per respondent of the agency-months "
            f"with volumes, {imputation.typical_weight:,.2f} ({typical_months})"
        )
    k = imputation.agency_months
    notes = [
        WeightingNote(
            f"weights imputed for {_plural(k, 'agency-month')} ({_percent(imputation.share())} of the weight): "
            + "; ".join(rules)
        )
    ]
    if imputation.open_months:
        notes.append(
            WeightingNote(
                f"{_month_list(imputation.open_months)} not over yet: no transaction volumes, weights imputed"
            )
        )
    typical_by: dict[int, list[dt.date]] = {}
    for agency_id, month in imputation.typical:
        typical_by.setdefault(agency_id, []).append(month)
    for agency_id in sorted(set(carried_by) | set(typical_by)):
        parts = []
        by_source: dict[dt.date, list[dt.date]] = {}
        for month, source in carried_by.get(agency_id, []):
            by_source.setdefault(source, []).append(month)
        for source, months in sorted(by_source.items()):
            way = "forward" if source < months[0] else "back"
            parts.append(f"volumes of {source:%Y-%m} carried {way} to {_month_list(months)}")
        if agency_id in typical_by:
            parts.append(
                f"none within {MAX_CARRY_MONTHS} months: median weight per respondent "
                f"{imputation.typical_weight:,.2f} for {_month_list(typical_by[agency_id])}"
            )
        months = sorted(m for ms in (*by_source.values(), typical_by.get(agency_id, [])) for m in ms)
        message = (
            f"no transaction volumes, weights imputed ({_percent(imputation.share(agency_id))} of the agency's "
            f"weight): {'; '.join(parts)}"
        )
        notes.append(WeightingNote(message, agency_id, tuple(months)))
    return notes


def _cell_weights(session: Session, query: IndexQuery, resp: dict[str, np.ndarray]) -> _Weighting:
    """Weight per (agency, field_key, month) cell, agency-months without volumes imputed (with notes saying
    how and how much); no weights (and a note why) only when no agency in scope has volumes within reach."""
    counts: dict[tuple[int, int, dt.date], float] = {}
    for key, n in zip(
        zip(resp["agency_id"].tolist(), resp["field_key"].tolist(), resp["month"].tolist(), strict=True),
        resp["n"].tolist(),
        strict=True,
    ):
        counts[key] = counts.get(key, 0.0) + n
    agencies = {a for a, _, _ in counts}
    first_month = query.date_from.replace(day=1)
    # Only the agencies in scope: at national scale the volumes of every agency would dwarf one agency's query.
    totals = {(a, f, m): t for a, f, m, t in _volumes(session, first_month, query.date_to, sorted(agencies))}
    with_volumes = {(a, m) for (a, _, m), t in totals.items() if t > 0}
    lacking = sorted({(a, m) for a, _, m in counts if (a, m) not in with_volumes})
    if lacking:
        # Volumes the imputation may carry: the agencies concerned, MAX_CARRY_MONTHS either side.
        window = (
            _months_between(min(m for _, m in lacking), -MAX_CARRY_MONTHS),
            _months_between(max(m for _, m in lacking), MAX_CARRY_MONTHS),
        )
        for a, f, m, t in _volumes(session, *window, sorted({a for a, _ in lacking})):
            totals.setdefault((a, f, m), t)
    result = imputed_cell_factors(counts, totals, max_carry=MAX_CARRY_MONTHS)
    notes = [
        *_by_agency(result.collapsed, "respondents without a matching field; collapsed to one cell"),
        *_by_agency(result.spread, "fields without respondents spread over the answered fields"),
    ]
    merged = bool(result.collapsed or result.spread)
    if result.missing:
        missing = _by_agency(result.missing, "no transaction volumes")
        return _Weighting({}, (WeightingNote("transaction volumes are missing: estimates are unweighted"), *missing))
    if not result.imputed:
        return _Weighting(result.factors, tuple(notes), merged=merged)
    carried: list[tuple[int, dt.date, dt.date]] = []
    typical: list[tuple[int, dt.date]] = []
    provenance: dict[tuple[int, dt.date], str] = {}
    carried_by: dict[int, list[tuple[dt.date, dt.date]]] = {}
    by_month: dict[tuple[int, dt.date], list[tuple[int, float]]] = {}
    for (a, f, m), t in totals.items():
        by_month.setdefault((a, m), []).append((f, t))
    for (agency_id, month), how in sorted(result.imputed.items()):
        if how.rule == CARRIED:
            source = how.source
            carried.append((agency_id, month, source))
            carried_by.setdefault(agency_id, []).append((month, source))
            volumes = sorted(by_month.get((agency_id, source), []))
            provenance[(agency_id, month)] = f"carried {source.isoformat()} {volumes!r}"
        else:
            typical.append((agency_id, month))
            provenance[(agency_id, month)] = f"typical {how.weight!r}"
    today = utcnow().date()
    shares = {int(a): result.imputed_share(a) for a in agencies}
    imputation = WeightImputation(
        carried=tuple(carried),
        typical=tuple(typical),
        typical_weight=next((how.weight for how in result.imputed.values() if how.rule == TYPICAL), None),
        shares={TOTAL: result.imputed_share(), **shares},
        open_months=tuple(sorted({m for _, m in result.imputed if is_open_month(m, today)})),
    )
    notes = [*_imputation_notes(imputation, len(typical), carried_by), *notes]
    return _Weighting(result.factors, tuple(notes), imputation, provenance, merged)


def last_weighted_day(session: Session, agency_ids: Sequence[int] | None) -> dt.date | None:
    """The last day with a valid response in an agency-month that has its own transaction volumes (of these
    agencies, or all with None): where default periods and exports end, so that by default no figure rests
    on imputed weights. None when no such agency-month exists."""
    t, v = ResponseTally.__table__, TransactionVolume.__table__
    responded = select(t.c.agency_id, t.c.month, func.max(t.c.day)).where(t.c.n > _const(0))
    counted = select(v.c.agency_id, v.c.month).where(v.c.transactions > _const(0))
    params: dict[str, Any] = {}
    if agency_ids is not None:
        responded = responded.where(t.c.agency_id.in_(id_list("agency_ids")))
        counted = counted.where(v.c.agency_id.in_(id_list("agency_ids")))
        params["agency_ids"] = sorted({int(a) for a in agency_ids})
    with_volumes = {(int(a), m) for a, m in session.execute(counted.distinct(), params)}
    days = [
        day
        for agency_id, month, day in session.execute(responded.group_by(t.c.agency_id, t.c.month), params)
        if (agency_id, month) in with_volumes
    ]
    return max(days) if days else None


def _load_weights(cursor: Any, dialect: Dialect, factors: Factors) -> bool:
    """Put the cell weights in a per-connection temporary table; False (nothing to join) without weights."""
    if not factors:
        return False
    cursor.execute(_sql(dialect, "weights_ddl").string)
    cursor.execute(_sql(dialect, "weights_clear").string)
    as_day = _day_param(dialect.name)
    insert_sql = _sql(dialect, "weights_insert")
    cursor.executemany(
        insert_sql.string,
        [
            _driver_row(insert_sql, {"agency_id": a, "field_key": f, "month": as_day(m), "w": w})
            for (a, f, m), w in factors.items()
        ],
    )
    if dialect.name == "postgresql":
        # Real statistics for the planner (a temporary table has none), and room to aggregate in memory.
        cursor.execute("ANALYZE tmp_cell_weights")
    return True


def _psu_sums(
    session: Session,
    item_ids: list[int],
    factors: Factors,
    segments: Sequence[tuple[dt.date, dt.date, Sequence[int]]],
) -> list[np.ndarray]:
    """Weighted per-(agency, counter-day, item) sums, one float array (columns :data:`PSU_COLUMNS`) per
    segment of days × agencies.

    Cell weights travel in a per-connection temporary table, so each roll-up is one indexed join (the
    explicit agency list lets the tallies' primary key seek each agency's day range) and only PSU-level
    rows (not one row per response or answer) reach Python, through the driver cursor.
    """
    conn = session.connection()
    dialect = conn.dialect
    cursor = driver_connection(conn).cursor()
    weighted = _load_weights(cursor, dialect, factors)
    if dialect.name == "postgresql":
        cursor.execute("SET LOCAL work_mem = '64MB'")  # this transaction only: sort the roll-up in memory
    compiled = _sql(dialect, "psu_sums_weighted" if weighted else "psu_sums")
    as_day = _day_param(dialect.name)
    items = [int(i) for i in item_ids]
    out = []
    for day_from, day_to, agency_ids in segments:
        params = {
            "agency_ids": [int(a) for a in agency_ids],
            "date_from": as_day(day_from),
            "date_to": as_day(day_to),
            "item_ids": items,
        }
        _execute(cursor, compiled, params)
        rows = cursor.fetchall()
        out.append(np.array(rows, dtype=np.float64).reshape(len(rows), len(PSU_COLUMNS)))
    cursor.close()
    return out


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def closed_months(date_from: dt.date, date_to: dt.date, today: dt.date) -> list[dt.date]:
    """Whole months inside the period that no new submission can reach: they end at least two days
    before ``today`` (UTC), a margin that covers every local date running ahead of UTC."""
    month = date_from.replace(day=1)
    if month < date_from:
        month = _next_month(month)
    months: list[dt.date] = []
    while True:
        last_day = _next_month(month) - dt.timedelta(days=1)
        if last_day > date_to or last_day >= today - dt.timedelta(days=2):
            return months
        months.append(month)
        month = _next_month(month)


def _cells_by_agency_month(factors: Factors) -> dict[tuple[int, dt.date], list[tuple[int, float]]]:
    """The cell weights grouped by agency-month, in one pass over the cells (field key, weight) pairs."""
    cells: dict[tuple[int, dt.date], list[tuple[int, float]]] = {}
    for (a, f, m), w in factors.items():
        cells.setdefault((a, m), []).append((f, w))
    return cells


def _digest(cells: Sequence[tuple[int, float]] | None, provenance: str = "") -> str:
    """Fingerprint of the cell weights of one agency-month (its (field key, weight) pairs from
    :func:`_cells_by_agency_month`; None when the query is unweighted: "unweighted").

    An imputed agency-month also hashes what its weights were made from (``provenance``: e.g. the other
    month whose volumes it carries, with those volumes), so its stored roll-up goes stale whenever they
    change; a month weighted by its own volumes hashes its cell weights alone.
    """
    if cells is None:
        return "unweighted"
    text = sorted((f, repr(float(w))) for f, w in cells)
    return hashlib.sha256((repr(text) if not provenance else repr((text, provenance))).encode()).hexdigest()


def _blocks_by_month_agency(rows: np.ndarray) -> Iterator[tuple[dt.date, int, np.ndarray]]:
    """Split PSU rows into (month, agency id, rows) blocks, each block's rows in their original order.

    One stable sort by (month, agency) and a split at the boundaries: linear in rows (plus the sort),
    not a scan of every row per agency and month.
    """
    if len(rows) == 0:
        return
    epoch = np.datetime64("1970-01-01", "D")
    # PSU code = counter × 100,000 + day: the day gives each row's month
    months = (epoch + psu_days(rows[:, 1])).astype("datetime64[M]").astype(np.int64)
    agencies = rows[:, 0].astype(np.int64)
    order = np.lexsort((agencies, months))  # stable: ties keep the rows' order
    months, agencies, ordered = months[order], agencies[order], rows[order]
    starts = np.flatnonzero(np.r_[True, (months[1:] != months[:-1]) | (agencies[1:] != agencies[:-1])])
    ends = np.r_[starts[1:], len(ordered)]
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        month = np.datetime64(int(months[start]), "M").astype("datetime64[D]").astype(dt.date)
        yield month, int(agencies[start]), np.ascontiguousarray(ordered[start:end])


def _rolled_up(
    session: Session,
    query: IndexQuery,
    item_ids: list[int],
    factors: Factors,
    resp: dict[str, np.ndarray],
    provenance: Mapping[tuple[int, dt.date], str] | None = None,
) -> np.ndarray:
    """PSU sums of the query: closed months from their stored roll-ups, the rest from the tallies.

    Stored months are checked against today's cell weights and response counts; missing or stale
    months are rolled up from the tallies and stored for the next reader (best effort: a reader never
    fails because it could not store).
    """
    agencies = sorted({int(a) for a in resp["agency_id"].tolist()})
    closed = closed_months(query.date_from, query.date_to, utcnow().date())
    if not closed:
        return _in_key_order(
            np.concatenate(_psu_sums(session, item_ids, factors, [(query.date_from, query.date_to, agencies)]))
        )
    counts: dict[tuple[int, dt.date], int] = {}
    for a, m, n in zip(resp["agency_id"].tolist(), resp["month"].tolist(), resp["n"].tolist(), strict=True):
        counts[(a, m)] = counts.get((a, m), 0) + int(n)
    closed_set = set(closed)
    made_from = provenance or {}
    cells = _cells_by_agency_month(factors) if factors else None
    wanted = {
        key: (_digest(None if cells is None else cells.get(key, []), made_from.get(key, "")), n)
        for key, n in counts.items()
        if key[1] in closed_set
    }
    stored = session.execute(
        select(PsuMonthSums.agency_id, PsuMonthSums.month, PsuMonthSums.weights_digest, PsuMonthSums.n_responses,
               PsuMonthSums.n_rows, PsuMonthSums.sums)
        .where(PsuMonthSums.instrument_id == query.instrument_id, PsuMonthSums.weighted == bool(factors),
               PsuMonthSums.month.in_(closed), PsuMonthSums.agency_id.in_(agencies))
    ).all()  # fmt: skip
    parts: list[np.ndarray] = []
    for agency_id, month, digest, n_responses, n_rows, blob in stored:
        if wanted.get((agency_id, month)) == (digest, n_responses):
            parts.append(np.frombuffer(blob, dtype="<f8").reshape(n_rows, len(PSU_COLUMNS)))
            del wanted[(agency_id, month)]
    missing: dict[dt.date, list[int]] = {}
    for agency_id, month in sorted(wanted):
        missing.setdefault(month, []).append(agency_id)
    if len(missing) > 1:
        # Several months to roll up (e.g. the first reader after a bulk load): one pass over their span
        # costs far less than a query per month; rows of months already stored are dropped below.
        span = sorted(missing)
        ids = sorted({a for m in span for a in missing[m]})
        segments = [(span[0], _next_month(span[-1]) - dt.timedelta(days=1), ids)]
    else:
        segments = [(m, _next_month(m) - dt.timedelta(days=1), ids) for m, ids in missing.items()]
    n_missing_segments = len(segments)
    if query.date_from < closed[0]:
        segments.append((query.date_from, closed[0] - dt.timedelta(days=1), agencies))
    after = _next_month(closed[-1])
    if after <= query.date_to:
        segments.append((after, query.date_to, agencies))
    computed = _psu_sums(session, item_ids, factors, segments)
    parts.extend(computed[n_missing_segments:])
    fresh = []
    for rows in computed[:n_missing_segments]:
        for month, agency_id, block in _blocks_by_month_agency(rows):
            if (agency_id, month) not in wanted:
                continue  # stored already and read above
            parts.append(block)
            digest, n = wanted[(agency_id, month)]
            fresh.append(
                {"instrument_id": query.instrument_id, "agency_id": agency_id, "month": month,
                 "weighted": bool(factors), "weights_digest": digest, "n_responses": n, "n_rows": len(block),
                 "sums": block.astype("<f8").tobytes()}
            )  # fmt: skip
    if fresh:
        _store_months(session, fresh)
    return _in_key_order(np.concatenate(parts)) if parts else np.zeros((0, len(PSU_COLUMNS)))


def _in_key_order(rows: np.ndarray) -> np.ndarray:
    """PSU rows sorted by (agency, PSU, item): the order the SQL plan, the stored months and the segments
    happened to give would otherwise reach the estimator's sums, so one agency's figures could move in the
    last bit when another agency's data (or what is stored) changed. One stable sort of an integer key."""
    if len(rows) < 2:
        return rows
    agency, psu, item = (rows[:, k].astype(np.int64) for k in range(3))
    spans = [int(psu.max()) + 1, int(item.max()) + 1]
    if int(agency.max()) * spans[0] * spans[1] < 2**62 and min(int(agency.min()), int(psu.min()), int(item.min())) >= 0:
        order = np.argsort((agency * spans[0] + psu) * spans[1] + item, kind="stable")
    else:
        order = np.lexsort((item, psu, agency))
    return rows[order]


#: Stored month roll-ups per write transaction, and how long a reader waits for its turn to store them:
#: storing is a courtesy to the next reader, never a reason to hold the write lock long or to wait.
STORE_BATCH = 200
STORE_WAIT_SECONDS = 0.5


def _store_months(session: Session, rows: list[dict[str, Any]]) -> None:
    """Upsert month roll-ups in short transactions of their own (queued with the other SQLite writers),
    unless the caller is mid-write; best effort: given up when the writers' queue is busy."""
    if session.info.get("sipas_writing") or session.new or session.dirty or session.deleted:
        return
    stmt = upsert_insert(session.get_bind().dialect.name, PsuMonthSums)
    upsert = stmt.on_conflict_do_update(
        index_elements=["instrument_id", "agency_id", "month", "weighted"],
        set_={name: stmt.excluded[name] for name in ("weights_digest", "n_responses", "n_rows", "sums", "computed_at")},
    )
    writers = db.writers if db.engine is not None and session.get_bind() is db.engine else None
    stored = 0
    try:
        session.commit()  # end the read transaction; the writes below take their own lock
        for start in range(0, len(rows), STORE_BATCH):
            with writers.turn(STORE_WAIT_SECONDS) if writers is not None else nullcontext():
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                batch = rows[start : start + STORE_BATCH]
                session.execute(upsert, [{**row, "computed_at": utcnow()} for row in batch])
                session.commit()
            stored += len(batch)
    except (DBAPIError, WriterQueueTimeout):
        session.rollback()
        logger.warning("could not store %d monthly index roll-ups; they will be computed again", len(rows) - stored)


#: Columns of the PSU roll-up (and of the stored month arrays): analytics' ``PSU_ITEM_COLUMNS`` under the
#: tallies' names.
PSU_COLUMNS = ("agency_id", "psu", "item_id", "n", "swd", "sws", "swdy", "swdyy", "swwd")


def cell_weights(session: Session, query: IndexQuery) -> Weights:
    """Weight per (agency, field_key, month) cell for the query's valid responses, with notes.

    The one weighting rule shared by indices and exports (agency-months without volumes imputed, with
    notes saying how); empty (with a note why) when no response is in scope or no agency in it has
    transaction volumes within reach.
    """
    resp = _response_cells(session, query)
    if len(resp["n"]) == 0:
        return {}, (WeightingNote("no valid responses: no weights"),)
    weighting = _cell_weights(session, query, resp)
    return weighting.factors, weighting.notes


def composite_groups(
    instrument: Instrument, answered: set[str]
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Element → {item: weight} over the answered items, and the weights of the elements left (an element
    none of whose items was answered drops out): the composite rule of indices and breakdowns alike."""
    groups = {
        element.code: {item.code: item.weight for item in element.items if item.code in answered}
        for element in instrument.elements
    }
    groups = {code: members for code, members in groups.items() if members}
    return groups, {element.code: element.weight for element in instrument.elements if element.code in groups}


def compute_indices(session: Session, query: IndexQuery) -> IndexReport:
    """Item, element and overall shares and mean scores, per agency (and for the whole scope)."""
    instrument = session.get(Instrument, query.instrument_id)
    if instrument is None:
        raise LookupError(f"no instrument with id {query.instrument_id}")
    item_code = {item.id: item.code for item in instrument.items}
    resp = _response_cells(session, query)
    if len(resp["n"]) == 0:
        raise LookupError("no valid responses for this instrument, period and scope")
    cell = _cell_weights(session, query, resp) if query.weighted else _Weighting({})
    factors, notes = cell.factors, cell.notes
    weighting = WEIGHTED if factors else UNWEIGHTED
    psu = _rolled_up(session, query, list(item_code), factors, resp, cell.provenance)

    # Database rows to arrays; the arrays to sums tables and the design is analytics' (counter_day_sums).
    cells = zip(resp["agency_id"].tolist(), resp["field_key"].tolist(), resp["month"].tolist(), strict=True)
    respondents = ResponseCells(
        stratum=resp["agency_id"],
        counter=resp["counter_key"],
        day=resp["days"],
        n=resp["n"],
        weight=row_weights(factors, cells, len(resp["n"])),
    )
    item_ids = list(item_code)
    sums = counter_day_sums(
        respondents,
        dict(zip(PSU_ITEM_COLUMNS, psu.T, strict=True)),  # PSU_COLUMNS under analytics' names
        item_ids,
        [item_code[i] for i in item_ids],
        total=TOTAL if query.include_total else None,
        lonely_psu="certainty",  # see DESIGN
    )

    # A criterion with no valid answer anywhere in scope (e.g. all "not applicable") has no share to
    # average: its element averages the criteria that have answers, and the report says so.
    answered = set(sums.answered)
    unanswered = [item.code for item in instrument.items if item.code not in answered]
    if unanswered:
        unanswered_note = f"no valid answers in scope for {', '.join(unanswered)}: left out of the element indices"
        notes = (*notes, WeightingNote(unanswered_note))
    groups, coefficients = composite_groups(instrument, answered)
    definition = instrument.aggregation.get("definition", "A")
    rotated = instrument.rotation is not None  # a split questionnaire: definition A only
    specs = composite_specs(groups, definition=definition, group_coefficients=coefficients, rotated=rotated)
    estimates = estimate_from_sums(
        sums.design,
        sums.items,
        sums.respondents,
        composites=specs,
        kinds=("share", "mean"),
        ci="beta",
        composite_ci="xlogit",
        level=query.level,
    )
    return IndexReport(
        estimates=estimates,
        instrument=instrument.label,
        period=(query.date_from, query.date_to),
        weighting=weighting,
        design=DESIGN,
        definition=definition,
        ci_methods={
            "item share": "Korn–Graubard (NCHS-adjusted)",
            "composite": "xlogit, t(df)",
            "mean score": "Wald, t(df)",
        },
        n_strata=sums.design.n_strata,
        n_psus=sums.n_psus,
        notes=notes,
        merged_cells=cell.merged,
        unanswered_items=tuple(unanswered),
        imputation=cell.imputation,
    )
