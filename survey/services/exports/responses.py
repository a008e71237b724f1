"""Response exports: one row per response, labelled, weighted, streamed.

The caller passes the agency scope (a set of agency ids: the CLI's ``--agency`` subtree, later the
signed-in user's scope) and the filters; :func:`plan_export` validates them and fixes what the file
will hold (instrument, period, columns, weights, sample); :func:`stream_rows` reads the responses in
chunks through a server-side cursor, answers pivoted to one column per item in SQL; and
:func:`export_responses` writes the file (or a ZIP bundle with the codebook) through a temporary
file renamed into place, and records the export in the audit log. Row building and sampling are the
pure ``analytics.tables``; file formats live in ``exports_formats``, the codebook in ``codebook``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Select, String, case, cast, func, null, select, type_coerce
from sqlalchemy.orm import Session

from analytics.tables import (
    NOT_APPLICABLE,
    Column,
    PackedLayout,
    RowBuilder,
    RowContext,
    Sample,
    draw_sample,
)
from survey.db import db
from survey.models import AdminUnit, Agency, Answer, Counter, Instrument, ProcedureField, Response
from survey.services.exports.schema import export_columns
from survey.services.exports.weights import ExportWeights, export_weights
from survey.services.identity import audit

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


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    bytes: int
    files: tuple[str, ...]
    plan: ExportPlan


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
        counter_codes=dict(counters),  # type: ignore[arg-type]
        field_codes=dict(fields),  # type: ignore[arg-type]
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        weights=weights.factors,
        layout=PackedLayout(tuple(item.id for item in instrument.items)),
        include_comments=request.comments,
        sample_factors=sample_factors,
    )
    return ctx, sorted(ctx.agency_codes.values())


def plan_export(session: Session, request: ExportRequest) -> ExportPlan:
    """Validate the request and fix everything the file will hold; raises :class:`ExportError`."""
    _validate(request)
    whole = request.agency_ids >= all_agencies(session)
    conds = _base_filters(request, whole=whole)
    extents = _extents(session, conds)
    instrument = _instrument(session, request, extents)
    conds.append(Response.instrument_id == instrument.id)
    extent = extents[instrument.id]
    n, max_id = extent.rows, extent.max_id
    date_from = request.date_from or extent.first
    date_to = request.date_to or extent.last
    weights = export_weights(session, instrument.id, date_from, date_to, sorted(request.agency_ids))
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


def _records_query(plan: ExportPlan) -> Select[Any]:
    """Responses with their answers packed per :class:`~analytics.tables.PackedLayout` (one pass over answers).

    Columns are read as the driver returns them (no per-row type conversion, which would cost more than the
    query): on SQLite dates come as ISO text and the UUID as 32 hex digits; the row builder copes with both.
    """
    code = cast(func.coalesce(Answer.score, NOT_APPLICABLE), BigInteger)
    words = [
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
    comment = Response.comment if plan.request.comments else null()
    conds = _base_filters(plan.request, whole=plan.whole_scope)
    conds += [Response.instrument_id == plan.instrument.id, Response.id <= plan.max_id]
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
            Response.age_band,
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


def stream_records(session: Session, plan: ExportPlan, chunk_rows: int | None = None) -> Iterator[Sequence[Any]]:
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
) -> Iterator[list[tuple[Any, ...]]]:
    """Export rows in chunks; ``sanitise`` guards every text cell for CSV and spreadsheets."""
    builder = RowBuilder(plan.context, sanitise=sanitise)
    with closing(stream_records(session, plan, chunk_rows)) as chunks:
        for records in chunks:
            yield builder.rows(records)


def _output_names(plan: ExportPlan) -> tuple[str, str]:
    ins = plan.instrument
    stem = f"sipas-responses-{ins.code}-v{ins.version}-{plan.date_from:%Y%m%d}-{plan.date_to:%Y%m%d}"
    return stem, stem + EXTENSIONS[plan.request.format]


def _temp_beside(path: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    return Path(name)


def export_responses(
    session: Session,
    request: ExportRequest,
    output: Path,
    *,
    bundle: bool = False,
    actor: str = "cli",
    actor_user_id: int | None = None,
    software_version: str = "",
    progress: Progress | None = None,
    on_plan: Callable[[ExportPlan], None] | None = None,
) -> ExportResult:
    """Write the export to ``output`` (a data file plus ``<output>.codebook.md``, or one ZIP with ``bundle``).

    Everything is written to temporary files beside ``output`` and renamed into place at the end, so a
    failed export leaves nothing behind; the export is then recorded in the audit log.
    """
    from survey.services.exports import codebook, formats

    output = Path(output)
    if not output.parent.is_dir():
        raise ExportUsageError(f"the directory {output.parent} does not exist")
    plan = plan_export(session, request)
    if on_plan:
        on_plan(plan)
    stem, data_name = _output_names(plan)
    data_tmp = _temp_beside(output, EXTENSIONS[request.format])
    extra_tmp: Path | None = None
    try:
        written = formats.write(request.format, data_tmp, session, plan, progress=progress)
        text = codebook.codebook_markdown(plan, written, data_name, software_version)
        if bundle:
            extra_tmp = _temp_beside(output, ".zip")
            with zipfile.ZipFile(extra_tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.write(data_tmp, f"{stem}/{data_name}")
                zf.writestr(f"{stem}/codebook.md", text)
                zf.writestr(f"{stem}/README.txt", codebook.readme(plan, data_name))
            data_tmp.unlink()
            os.replace(extra_tmp, output)
            files: tuple[str, ...] = (str(output),)
        else:
            book = output.with_name(output.name + ".codebook.md")
            extra_tmp = _temp_beside(output, ".md")
            extra_tmp.write_text(text, encoding="utf-8")
            os.replace(data_tmp, output)
            os.replace(extra_tmp, book)
            files = (str(output), str(book))
    except BaseException:
        for tmp in (data_tmp, extra_tmp):
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        raise
    size = output.stat().st_size
    _audit(plan, actor, actor_user_id, bundle, written)
    return ExportResult(output, written, size, files, plan)


def _audit(plan: ExportPlan, actor: str, actor_user_id: int | None, bundle: bool, rows: int) -> None:
    """One audit event per export: who, scope, filters, row count (the read transaction ends first)."""
    with db.write() as write_session:
        audit.record(
            write_session,
            "responses.exported",
            actor_user_id=actor_user_id,
            target_type="instrument",
            target_id=plan.instrument.label,
            agency_id=audit.common_agency(write_session, plan.request.agency_ids),
            details={
                "actor": actor,
                "format": plan.request.format,
                "bundle": bundle,
                "rows": rows,
                "filters": plan.filters(),
                "weighting": plan.weights.weighting,
            },
        )
