"""Response exports: one row per response, labelled, weighted, streamed.

The caller passes the agency scope (a set of agency ids: the CLI's ``--agency`` subtree, later the
signed-in user's scope) and the filters; :func:`plan_export` validates them and fixes what the file
will hold (instrument, period, columns, weights, sample); :func:`stream_rows` reads the responses in
chunks through a server-side cursor, answers pivoted to one column per item in SQL; the
file itself is written by :mod:`survey.services.exports.files`. Row building and sampling are the pure
``analytics.tables``; file formats live in ``formats``, the codebook in ``codebook`` (both read the plan
from here, and this module imports neither).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Select, String, case, cast, func, literal, null, select, type_coerce
from sqlalchemy.orm import Session

from analytics.tables import (
    NOT_APPLICABLE,
    NOT_ASKED,
    Column,
    PackedLayout,
    RowBuilder,
    RowContext,
    Sample,
    draw_sample,
)
from survey.models import AdminUnit, Agency, Answer, Counter, Instrument, ProcedureField, Response
from survey.services.exports.schema import EXPORT_VALUES, export_columns
from survey.services.exports.weights import ExportWeights, export_weights
from survey.services.statistics.indices import last_weighted_day

FORMATS = ("csv", "xlsx", "sav", "dta")
STATUSES = ("valid", "excluded", "all")
EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx", "sav": ".sav", "dta": ".dta"}
#: Rows fetched per round trip; memory stays flat whatever the export size.
CHUNK_ROWS = 5_000
#: Sampled exports fetch their rows by id, this many ids per query (below every driver's parameter limit).
ID_BATCH = 900
#: An .xlsx sheet holds 1,048,576 rows, one of them the header.
XLSX_MAX_ROWS = 1_048_575

Progress = Callable[[int], None]


class ExportError(Exception):
    """An export that cannot be made; the message says why. ``usage`` errors are the caller's input."""

    usage = False


class ExportUsageError(ExportError):
    usage = True


@dataclass(frozen=True)
class ExportRequest:
    """What to export. ``agency_ids`` is the caller's scope: nothing outside it is ever read."""

    agency_ids: frozenset[int]
    format: str = "csv"
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    #: Instrument code, or ``code:version``; None = the one instrument with responses in scope.
    instrument: str | None = None
    status: str = "valid"
    comments: bool = False
    sample: int | None = None
    seed: int | None = None
    stratified: bool = False


@dataclass
class ExportPlan:
    request: ExportRequest
    instrument: Instrument
    date_from: dt.date
    date_to: dt.date
    columns: list[Column]
    weights: ExportWeights
    context: RowContext
    #: Rows the file will hold.
    rows: int
    #: Highest response id read: rows arriving during the export are left out, so counts and weights agree.
    max_id: int
    agency_codes: list[str]
    #: The scope holds every agency (the SQL then needs no agency condition).
    whole_scope: bool = False
    sample: Sample | None = None
    #: Sorted response ids of the sample (None: every matching response).
    sample_ids: np.ndarray | None = None
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def item_codes(self) -> list[str]:
        return [item.code for item in self.instrument.items]

    def filters(self) -> dict[str, Any]:
        """The filters as stated in the codebook and the audit log."""
        r = self.request
        return {
            "agencies": self.agency_codes,
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "instrument": self.instrument.label,
            "status": r.status,
            "comments": r.comments,
            "sample": None
            if r.sample is None
            else {"size": r.sample, "seed": r.seed, "stratified_by_agency": r.stratified, "drawn": self.rows},
        }


def agency_subtree(session: Session, codes: Sequence[str]) -> frozenset[int]:
    """Ids of the agencies with these codes and every agency below them; unknown codes are a usage error."""
    found = dict(session.execute(select(Agency.code, Agency.id).where(Agency.code.in_(list(codes)))).all())
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ExportUsageError(f"unknown agency {unknown[0]!r}")
    parents = dict(session.execute(select(Agency.id, Agency.parent_id)).all())
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    scope: set[int] = set()
    stack = list(found.values())
    while stack:
        agency = stack.pop()
        if agency not in scope:
            scope.add(agency)
            stack.extend(children.get(agency, ()))
    return frozenset(scope)


def all_agencies(session: Session) -> frozenset[int]:
    return frozenset(session.scalars(select(Agency.id)).all())


def _base_filters(request: ExportRequest, *, whole: bool = False) -> list[ColumnElement[bool]]:
    """Scope, period and status conditions; ``whole`` = the scope holds every agency, so no agency test is needed.

    (Leaving it out when it selects everything keeps SQLite from reading the table through the agency index.)
    """
    conds: list[ColumnElement[bool]] = [] if whole else [Response.agency_id.in_(sorted(request.agency_ids))]
    if request.date_from is not None:
        conds.append(Response.received_on >= request.date_from)
    if request.date_to is not None:
        conds.append(Response.received_on <= request.date_to)
    if request.status != "all":
        conds.append(Response.status == request.status)
    return conds


def _validate(request: ExportRequest) -> None:
    if request.format not in FORMATS:
        raise ExportUsageError(f"unknown format {request.format!r} (known: {', '.join(FORMATS)})")
    if request.status not in STATUSES:
        raise ExportUsageError(f"unknown status {request.status!r} (known: {', '.join(STATUSES)})")
    if request.date_from and request.date_to and request.date_from > request.date_to:
        raise ExportUsageError(f"the period starts ({request.date_from}) after it ends ({request.date_to})")
    if request.sample is not None and (request.sample < 1 or request.seed is None):
        raise ExportUsageError("a sample needs a size of at least 1 and a stated seed")
    if request.sample is None and (request.seed is not None or request.stratified):
        raise ExportUsageError("a seed or stratification only applies to a sample (give its size)")
    if not request.agency_ids:
        raise ExportError("the agency scope is empty: there is nothing this export may include")


def _describe(request: ExportRequest) -> str:
    period = f"{request.date_from or 'the first response'} to {request.date_to or 'the last'}"
    status = "" if request.status == "all" else f"{request.status} "
    return f"no {status}responses in the agency scope from {period}"


@dataclass(frozen=True)
class _Extent:
    rows: int
    first: dt.date
    last: dt.date
    max_id: int


def _extents(session: Session, conds: list[ColumnElement[bool]]) -> dict[int, _Extent]:
    """Matching responses per instrument: count, first and last date, highest id (one pass)."""
    query = (
        select(
            Response.instrument_id,
            func.count(),
            func.min(Response.received_on),
            func.max(Response.received_on),
            func.max(Response.id),
        )
        .where(*conds)
        .group_by(Response.instrument_id)
    )
    return {iid: _Extent(n, first, last, top) for iid, n, first, last, top in session.execute(query)}


def _instrument(session: Session, request: ExportRequest, extents: dict[int, _Extent]) -> Instrument:
    """The export's instrument: the requested one, or the only one with responses in scope."""
    candidates = list(session.scalars(select(Instrument).order_by(Instrument.code, Instrument.version)))
    if request.instrument:
        code, _, version = request.instrument.partition(":")
        chosen = [i for i in candidates if i.code == code and (not version or str(i.version) == version.lstrip("v"))]
        if not chosen:
            known = ", ".join(sorted({i.code for i in candidates}))
            raise ExportUsageError(f"unknown instrument {request.instrument!r} (known: {known})")
        candidates = chosen
    with_data = [i for i in candidates if i.id in extents]
    if not with_data:
        what = f" for {request.instrument}" if request.instrument else ""
        raise ExportError(_describe(request) + what)
    if len(with_data) > 1:
        options = ", ".join(f"{i.code}:{i.version} ({extents[i.id].rows:,} responses)" for i in with_data)
        raise ExportUsageError(
            f"responses for several instruments in this scope; choose one (code or code:version): {options}"
        )
    return with_data[0]


def _context(
    session: Session,
    plan_agencies: Sequence[int],
    instrument: Instrument,
    request: ExportRequest,
    weights: ExportWeights,
    sample_factors: dict[int, float] | None,
) -> tuple[RowContext, list[str]]:
    agencies = session.execute(
        select(Agency.id, Agency.code, AdminUnit.code).join(AdminUnit, Agency.admin_unit_id == AdminUnit.id)
    ).all()
    in_scope = set(plan_agencies)
    counters = session.execute(select(Counter.id, Counter.code).where(Counter.agency_id.in_(sorted(in_scope)))).all()
    fields = session.execute(select(ProcedureField.id, ProcedureField.code)).all()
    ctx = RowContext(
        agency_codes={a: code for a, code, _ in agencies if a in in_scope},
        admin_unit_codes={a: unit for a, _, unit in agencies if a in in_scope},
        counter_codes=dict(counters),
        field_codes=dict(fields),
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        weights=weights.factors,
        layout=PackedLayout(tuple(item.id for item in instrument.items)),
        include_comments=request.comments,
        sample_factors=sample_factors,
    )
    return ctx, sorted(ctx.agency_codes.values())


def _end_at_last_volumes(
    session: Session, request: ExportRequest, extent: _Extent, date_from: dt.date, whole: bool, instrument_id: int
) -> tuple[ExportRequest, _Extent, str | None]:
    """Without an end date, an export ends on the last day with a response in an agency-month that has its
    transaction volumes, so that by default no weight in it is imputed; the request then carries that end
    (rows, counts and weights all stop there) and the note says so. Unchanged if nothing would be left."""
    end = last_weighted_day(session, None if whole else sorted(request.agency_ids))
    if end is None or not date_from <= end < extent.last:
        return request, extent, None
    capped = replace(request, date_to=end)
    conds = [*_base_filters(capped, whole=whole), Response.instrument_id == instrument_id]
    shorter = _extents(session, conds).get(instrument_id)
    if shorter is None:
        return request, extent, None
    note = (
        f"period ends {end.isoformat()}, the last response in a month with transaction volumes: later responses "
        "are left out (give an end date to include them; their weights are then imputed and stated here)"
    )
    return capped, shorter, note


def plan_export(session: Session, request: ExportRequest) -> ExportPlan:
    """Validate the request and fix everything the file will hold; raises :class:`ExportError`."""
    _validate(request)
    whole = request.agency_ids >= all_agencies(session)
    conds = _base_filters(request, whole=whole)
    extents = _extents(session, conds)
    instrument = _instrument(session, request, extents)
    conds.append(Response.instrument_id == instrument.id)
    extent = extents[instrument.id]
    date_from = request.date_from or extent.first
    date_to = request.date_to or extent.last
    period_note = None
    if request.date_to is None:
        request, extent, period_note = _end_at_last_volumes(session, request, extent, date_from, whole, instrument.id)
        conds = [*_base_filters(request, whole=whole), Response.instrument_id == instrument.id]
        date_to = request.date_to or extent.last
    n, max_id = extent.rows, extent.max_id
    weights = export_weights(session, instrument.id, date_from, date_to, sorted(request.agency_ids))
    if period_note:
        weights = replace(weights, notes=(period_note, *weights.notes))
    sample = sample_ids = None
    factors = None
    if request.sample is not None:
        ids, agencies = _ids_and_strata(session, conds + [Response.id <= max_id])
        sample = draw_sample(agencies, request.sample, int(request.seed or 0), stratified=request.stratified)
        sample_ids = ids[sample.positions]
        factors = dict(zip(sample_ids.tolist(), sample.factors.tolist(), strict=True))
        n = len(sample_ids)
    if request.format == "xlsx" and n > XLSX_MAX_ROWS:
        raise ExportError(f"{n:,} rows do not fit in one .xlsx sheet (at most {XLSX_MAX_ROWS:,}); use csv, sav or dta")
    ctx, codes = _context(session, sorted(request.agency_ids), instrument, request, weights, factors)
    columns = export_columns(instrument, sample=sample is not None, comments=request.comments)
    return ExportPlan(
        request=request,
        instrument=instrument,
        date_from=date_from,
        date_to=date_to,
        columns=columns,
        weights=weights,
        context=ctx,
        rows=int(n),
        max_id=int(max_id),
        agency_codes=codes,
        whole_scope=whole,
        sample=sample,
        sample_ids=sample_ids,
    )


def _ids_and_strata(session: Session, conds: list[ColumnElement[bool]]) -> tuple[np.ndarray, np.ndarray]:
    rows = session.execute(select(Response.id, Response.agency_id).where(*conds).order_by(Response.id)).all()
    table = np.array(rows, dtype=np.int64).reshape(len(rows), 2)
    return table[:, 0], table[:, 1]


def _exported(column: Any, name: str) -> Any:
    """``column`` with the stored codes that spreadsheets coerce replaced by their export codes (in SQL: the row
    builder stays as fast as it is, and the API and every file hold the same codes)."""
    renamed = EXPORT_VALUES.get(name)
    if not renamed:
        return column
    return case(*((column == stored, exported) for stored, exported in renamed.items()), else_=column)


def _not_asked(instrument: Instrument, base: int, ids: Sequence[int]) -> ColumnElement[Any]:
    """A split questionnaire's criteria not asked of the response (its ``asked_mask`` bit is clear), as code
    :data:`~analytics.tables.NOT_ASKED` in their nibbles; nothing where every criterion was asked (NULL mask)."""
    position = {item.id: item.position for item in instrument.items}
    parts = [
        case(
            (
                Response.asked_mask.op("&")(literal(1 << (position[i] - 1), BigInteger)) == 0,
                NOT_ASKED << 4 * (i - base),
            ),
            else_=0,
        )
        for i in ids
    ]
    total: ColumnElement[Any] = parts[0]
    for part in parts[1:]:
        total = total + part
    return cast(total, BigInteger)


def plan_conditions(plan: ExportPlan) -> list[ColumnElement[bool]]:
    """The WHERE conditions of the plan's rows on ``responses`` (without the sample, whose ids callers add)."""
    conds = _base_filters(plan.request, whole=plan.whole_scope)
    return [*conds, Response.instrument_id == plan.instrument.id, Response.id <= plan.max_id]


def _records_query(plan: ExportPlan) -> Select[*tuple[Any, ...]]:
    """Responses with their answers packed per :class:`~analytics.tables.PackedLayout` (one pass over answers).

    Columns are read as the driver returns them (no per-row type conversion, which would cost more than the
    query): on SQLite dates come as ISO text and the UUID as 32 hex digits; the row builder copes with both.
    """
    code = cast(func.coalesce(Answer.score, NOT_APPLICABLE), BigInteger)
    words: list[ColumnElement[Any]] = [
        cast(
            func.coalesce(
                func.sum(
                    case(
                        (
                            Answer.item_id.between(base, base + PackedLayout.NIBBLES - 1),
                            code.op("<<")(4 * (Answer.item_id - base)),
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
            BigInteger,
        ).label(f"w{base}")
        for base, _ids in plan.context.layout.words
    ]
    if plan.instrument.rotation is not None:
        words = [
            word + _not_asked(plan.instrument, base, ids)
            for word, (base, ids) in zip(words, plan.context.layout.words, strict=True)
        ]
    comment = Response.comment if plan.request.comments else null()
    conds = plan_conditions(plan)
    return (
        select(
            Response.id,
            type_coerce(Response.submission_id, String),
            Response.agency_id,
            Response.counter_id,
            type_coerce(Response.received_on, String),
            Response.channel,
            Response.collection_mode,
            Response.respondent_type,
            Response.field_id,
            Response.gender,
            _exported(Response.age_band, "age_band"),
            Response.education,
            Response.occupation,
            Response.status,
            Response.exclusion_reason,
            comment,
            *words,
        )
        .select_from(Response)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(*conds)
        .group_by(Response.id)
        .order_by(Response.id)
    )


def stream_records(session: Session, plan: ExportPlan, chunk_rows: int | None = None) -> Generator[Sequence[Any]]:
    """Raw records (``analytics.tables.RECORD_FIELDS`` + packed answers), in chunks, by response id."""
    query = _records_query(plan)
    if plan.sample_ids is not None:
        ids = plan.sample_ids.tolist()
        for start in range(0, len(ids), ID_BATCH):
            batch = ids[start : start + ID_BATCH]
            yield session.execute(query.where(Response.id.in_(batch))).all()
        return
    result = session.execute(query.execution_options(yield_per=chunk_rows or CHUNK_ROWS))
    try:
        yield from result.partitions()
    finally:
        result.close()  # a server-side cursor (PostgreSQL) is closed even when the writer fails midway


def records_after(session: Session, plan: ExportPlan, after_id: int, limit: int) -> list[Sequence[Any]]:
    """Up to ``limit`` raw records with ids above ``after_id``, by id: one page of a keyset-paged read (the API)."""
    return list(session.execute(_records_query(plan).where(Response.id > after_id).limit(limit)).all())


def stream_rows(
    session: Session, plan: ExportPlan, *, sanitise: bool, chunk_rows: int | None = None
) -> Generator[list[tuple[Any, ...]]]:
    """Export rows in chunks; ``sanitise`` guards every text cell for CSV and spreadsheets."""
    builder = RowBuilder(plan.context, sanitise=sanitise)
    with closing(stream_records(session, plan, chunk_rows)) as chunks:
        for records in chunks:
            yield builder.rows(records)
