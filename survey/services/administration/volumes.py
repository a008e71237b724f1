"""Import monthly transaction volumes (the weighting base) from a CSV or Excel file, all or nothing.

A file has one row per agency (optionally counter) × field × month with the number of completed
transactions. The whole file is read and checked before anything is written: any problem rejects the
file, and every problem is reported with the row number the user sees in a spreadsheet (the header is
row 1; row 0 means the file as a whole). A valid file replaces every figure already stored for the
(agency, month) sets it contains, so re-importing a corrected month leaves no stale rows behind.

CSV: UTF-8 (with or without the byte-order mark Excel writes), UTF-16 with a BOM ("Unicode text"), or
the Windows Vietnamese code page (cp1258) of Excel's plain "CSV" export; comma, semicolon or tab
separated (``csv.Sniffer``). Excel: ``.xlsx``, first worksheet, read with openpyxl in read-only mode.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from survey.auth import Scope
from survey.models import Agency, Counter, ProcedureField, TransactionVolume, User
from survey.services.administration.scope_queries import in_scope
from survey.services.identity import audit
from survey.services.statistics import index_cache

#: Largest file accepted (bytes); a province's year of volumes is far below this.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Most data rows in one file.
MAX_ROWS = 50_000
#: Most problems reported one by one (the rest are summed up in a last line).
MAX_PROBLEMS = 500
#: A single month's count above this is a typo, not a one-stop counter.
MAX_COUNT = 10_000_000

#: Canonical column names, in the order of the template.
COLUMNS = ("agency_code", "counter_code", "field_code", "month", "count")
REQUIRED_COLUMNS = ("agency_code", "field_code", "month", "count")
#: Other spellings accepted in the header (lower-cased, spaces and hyphens as underscores).
ALIASES = {
    "agency": "agency_code",
    "ma_co_quan": "agency_code",
    "counter": "counter_code",
    "ma_quay": "counter_code",
    "field": "field_code",
    "ma_linh_vuc": "field_code",
    "thang": "month",
    "transactions": "count",
    "so_luong": "count",
    "so_giao_dich": "count",
}

_MONTH_ISO = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")
_MONTH_VN = re.compile(r"^(\d{1,2})/(\d{4})$")
_DIGITS = re.compile(r"^\d+$")


class VolumeImportError(Exception):
    """The file was refused; ``problems`` lists ``(row number, translated reason)``, row 0 = the whole file."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the file")
        self.problems: list[tuple[int, str]] = list(problems)


@dataclass(frozen=True)
class VolumeImportResult:
    """What a successful import stored."""

    #: Volume rows written.
    rows_imported: int
    #: (agency, month) sets that already had figures and were replaced.
    months_replaced: int
    #: Distinct agencies with figures in the file.
    agencies_touched: int
    #: Codes of those agencies, sorted.
    agency_codes: tuple[str, ...] = ()
    #: Months in the file (first day of each), sorted.
    months: tuple[dt.date, ...] = ()


@dataclass
class _Row:
    line: int
    agency_id: int
    counter_id: int | None
    field_id: int
    month: dt.date
    count: int


@dataclass
class _Checked:
    rows: list[_Row] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


# -- reading the file -----------------------------------------------------------------------------------------


def _is_xlsx(filename: str, data: bytes) -> bool:
    return filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04"


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel's plain "CSV" on Vietnamese Windows writes the ANSI code page.
        return data.decode("cp1258")
    except UnicodeDecodeError:
        raise VolumeImportError(
            [(0, _("The file is not readable text. In Excel, save it as “CSV UTF-8” or as an Excel workbook."))]
        ) from None


def _dialect(delimiter: str) -> type[csv.Dialect]:
    return type("_Dialect", (csv.excel,), {"delimiter": delimiter})


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data)
    if "\x00" in text:
        raise VolumeImportError([(0, _("The file is not a CSV file or an Excel workbook (.xlsx)."))])
    sample = "\n".join(text.splitlines()[:50])
    candidates: list[type[csv.Dialect]] = []
    try:
        candidates.append(csv.Sniffer().sniff(sample, delimiters=",;\t"))
    except csv.Error:
        pass  # one column, or too few rows to tell: try each separator below
    candidates += [_dialect(d) for d in ",;\t"]

    def rows(dialect: type[csv.Dialect]) -> list[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        return [(number, [cell.strip() for cell in row]) for number, row in enumerate(reader, start=1)]

    # The sniffer can be fooled by separators inside free-text columns: keep the first reading whose
    # header names the required columns (or the sniffer's, so the header problem is reported on it).
    first = rows(candidates[0])
    for dialect in candidates:
        parsed = first if dialect is candidates[0] else rows(dialect)
        header = next((cells for _n, cells in parsed if any(cells)), [])
        if _header(header) is not None:
            return iter(parsed)
    return iter(first)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        message = _("The Excel file cannot be opened. Save it again as an Excel workbook (.xlsx).")
        raise VolumeImportError([(0, message)]) from None
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, ["" if v is None else v.strip() if isinstance(v, str) else v for v in row]
    finally:
        workbook.close()


def _read(filename: str, data: bytes) -> list[tuple[int, list[object]]]:
    if not data.strip():
        raise VolumeImportError([(0, _("The file is empty."))])
    if len(data) > MAX_FILE_BYTES:
        raise VolumeImportError(
            [(0, _("The file is larger than %(mb)d MB. Split it into several files.", mb=MAX_FILE_BYTES // 2**20))]
        )
    if filename.lower().endswith(".xls"):
        raise VolumeImportError([(0, _("Old Excel files (.xls) cannot be read. Save it as .xlsx or as CSV UTF-8."))])
    read = _xlsx_rows(data) if _is_xlsx(filename, data) else _csv_rows(data)
    rows: list[tuple[int, list[object]]] = [(n, list(r)) for n, r in read]
    return [(n, r) for n, r in rows if any(c != "" for c in r)]


# -- checking ------------------------------------------------------------------------------------------------


def _header(cells: Sequence[object]) -> dict[str, int] | None:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = re.sub(r"[\s\-]+", "_", str(cell).strip().lower())
        name = ALIASES.get(name, name)
        if name in COLUMNS and name not in positions:
            positions[name] = index
    return positions if all(c in positions for c in REQUIRED_COLUMNS) else None


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _month(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value if value.day == 1 else None
    raw = _text(value)
    iso, vn = _MONTH_ISO.match(raw), _MONTH_VN.match(raw)
    try:
        if iso and (iso.group(3) is None or int(iso.group(3)) == 1):
            return dt.date(int(iso.group(1)), int(iso.group(2)), 1)
        if vn:
            return dt.date(int(vn.group(2)), int(vn.group(1)), 1)
    except ValueError:
        return None
    return None


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    raw = _text(value)
    if raw.startswith("-") and _DIGITS.match(raw[1:]):
        return -int(raw[1:])
    return int(raw) if _DIGITS.match(raw) else None


def _this_month() -> dt.date:
    zone = ZoneInfo(current_app.config["TIMEZONE"]) if has_app_context() else dt.UTC
    return dt.datetime.now(zone).date().replace(day=1)


def _check(session: Session, scope: Scope, rows: list[tuple[int, list[object]]]) -> _Checked:
    out = _Checked()
    if not rows:
        out.problems.append((0, _("The file is empty.")))
        return out
    header_line, header_cells = rows[0]
    columns = _header(header_cells)
    if columns is None:
        found = ", ".join(_text(c) for c in header_cells if _text(c)) or "–"
        out.problems.append(
            (
                header_line,
                _(
                    "The first row must name the columns %(columns)s (counter_code may be left out); found: %(found)s.",
                    columns=", ".join(COLUMNS),
                    found=found,
                ),
            )
        )
        return out
    data = rows[1:]
    if not data:
        out.problems.append((0, _("The file has a header row but no figures.")))
        return out
    if len(data) > MAX_ROWS:
        out.problems.append((0, _("The file has more than %(n)d rows. Split it into several files.", n=MAX_ROWS)))
        return out

    agencies = {a.code: a for a in session.scalars(select(Agency))}
    fields = {f.code: f.id for f in session.scalars(select(ProcedureField))}
    counters = {(c.agency_id, c.code): c.id for c in session.scalars(select(Counter))}
    latest = _this_month()
    seen: dict[tuple[int, int | None, int, dt.date], int] = {}
    level: dict[tuple[int, int, dt.date], tuple[bool, int]] = {}  # (agency, field, month) → (has counter, line)

    def cell(cells: list[object], name: str) -> object:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    for line, cells in data:
        problems: list[str] = []
        agency_code = _text(cell(cells, "agency_code"))
        counter_code = _text(cell(cells, "counter_code"))
        field_code = _text(cell(cells, "field_code"))
        agency = agencies.get(agency_code)
        field_id = fields.get(field_code)
        counter_id: int | None = None
        if not agency_code:
            problems.append(_("the agency code is missing"))
        elif agency is None or agency.id not in scope:
            problems.append(_("agency “%(code)s” is unknown or not one you may import figures for", code=agency_code))
        elif counter_code:
            counter_id = counters.get((agency.id, counter_code))
            if counter_id is None:
                problems.append(
                    _("“%(counter)s” is not a counter of agency “%(agency)s”", counter=counter_code, agency=agency_code)
                )
        if not field_code:
            problems.append(_("the field code is missing"))
        elif field_id is None:
            problems.append(_("field code “%(code)s” is unknown", code=field_code))
        raw_month = cell(cells, "month")
        month = _month(raw_month)
        if month is None:
            problems.append(
                _("month “%(value)s” is not a month; write it as YYYY-MM, like 2026-05", value=_text(raw_month))
            )
        elif not 2000 <= month.year or month > latest:
            problems.append(_("month %(month)s is outside 2000 to this month", month=f"{month:%Y-%m}"))
        raw_count = cell(cells, "count")
        count = _count(raw_count)
        if _text(raw_count) == "":
            problems.append(_("the count is missing"))
        elif count is None:
            problems.append(
                _("count “%(value)s” is not a whole number (write digits only, no separators)", value=_text(raw_count))
            )
        elif count < 0:
            problems.append(_("the count must not be negative"))
        elif count > MAX_COUNT:
            problems.append(_("the count %(value)d is implausibly large", value=count))
        if not problems and agency is not None and field_id is not None and month is not None and count is not None:
            key = (agency.id, counter_id, field_id, month)
            if key in seen:
                problems.append(
                    _("the same agency, counter, field and month are already on row %(row)d", row=seen[key])
                )
            else:
                seen[key] = line
                cell_key = (agency.id, field_id, month)
                earlier = level.setdefault(cell_key, (counter_id is not None, line))
                if earlier[0] != (counter_id is not None):
                    problems.append(
                        _(
                            "row %(row)d gives the same field and month for the whole agency and this row for one "
                            "counter: give either the agency total or the counters' figures",
                            row=earlier[1],
                        )
                    )
                else:
                    out.rows.append(_Row(line, agency.id, counter_id, field_id, month, count))
        out.problems.extend((line, problem) for problem in problems)
    return out


# -- importing -----------------------------------------------------------------------------------------------


def check_volumes(session: Session, scope: Scope, filename: str, data: bytes) -> int:
    """Validate a file without importing it; the number of rows it would import, or VolumeImportError."""
    checked = _check(session, scope, _read(filename, data))
    if checked.problems:
        raise VolumeImportError(_capped(checked.problems))
    return len(checked.rows)


def _capped(problems: list[tuple[int, str]]) -> list[tuple[int, str]]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], (0, _("… and %(n)d more problems not listed.", n=rest))]


def import_volumes(
    session: Session, scope: Scope, filename: str, data: bytes, actor: User | None
) -> VolumeImportResult:
    """Validate ``data`` as a whole and, only if it has no problem, replace its (agency, month) sets.

    The file is read and checked before the write transaction, which then only replaces the rows
    (one multi-row insert): on SQLite the write lock is held for the replacement alone, not for the
    parsing and checking of up to :data:`MAX_ROWS` rows. Runs in its own write transaction (``session``
    must be the app's ``db.session``); audited as ``volumes.imported``; clears the index cache because
    weights depend on volumes.
    """
    from survey.db import db

    name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    rows = _read(name, data)
    checked = _check(session, scope, rows)
    if checked.problems:
        raise VolumeImportError(_capped(checked.problems))
    sets = sorted({(r.agency_id, r.month) for r in checked.rows})
    with db.write() as write_session:
        existing = {
            (a, m)
            for a, m in write_session.execute(
                select(TransactionVolume.agency_id, TransactionVolume.month)
                .where(tuple_(TransactionVolume.agency_id, TransactionVolume.month).in_(sets))
                .distinct()
            )
        }
        removed = 0
        for agency_id, month in sets:
            result = write_session.execute(
                delete(TransactionVolume).where(
                    TransactionVolume.agency_id == agency_id, TransactionVolume.month == month
                )
            )
            removed += result.rowcount or 0  # type: ignore[attr-defined]  # a DELETE's result is a CursorResult
        source = f"import:{name}"[:255]
        write_session.execute(
            insert(TransactionVolume),
            [
                {"agency_id": r.agency_id, "counter_id": r.counter_id, "field_id": r.field_id, "month": r.month,
                 "transactions": r.count, "source": source}
                for r in checked.rows
            ],
        )  # fmt: skip
        found = select(Agency.id, Agency.code).where(Agency.id.in_({a for a, _m in sets}))
        codes = dict(write_session.execute(found).all())
        months = tuple(sorted({m for _a, m in sets}))
        audit.record(
            write_session,
            "volumes.imported",
            actor_user_id=actor.id if actor is not None else None,
            target_type="file",
            target_id=name[:64],
            agency_id=audit.common_agency(write_session, (a for a, _m in sets)),
            details={
                "file": name,
                "rows": len(checked.rows),
                "rows_removed": removed,
                "months": [f"{m:%Y-%m}" for m in months],
                "agencies": sorted(codes.values()),
                "replaced": [f"{codes[a]} {m:%Y-%m}" for a, m in sorted(existing)],
            },
        )
    index_cache.invalidate()
    return VolumeImportResult(
        rows_imported=len(checked.rows),
        months_replaced=len(existing),
        agencies_touched=len(codes),
        agency_codes=tuple(sorted(codes.values())),
        months=months,
    )


# -- reading back --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeSummary:
    """Transactions per agency and month (summed over fields and counters) for the agencies in scope."""

    months: list[dt.date]
    agencies: list[Agency]
    #: (agency id, month) → total transactions.
    totals: dict[tuple[int, dt.date], int]
    #: (agency id, month) → where the figures came from (``import:file.csv``, ``demo`` …).
    sources: dict[tuple[int, dt.date], str]


def volume_summary(session: Session, scope: Scope, months: int = 12) -> VolumeSummary:
    """The last ``months`` months that have figures, for every agency in ``scope`` that has any."""
    where = in_scope(TransactionVolume.agency_id, scope)
    recent = list(
        session.scalars(
            select(TransactionVolume.month)
            .where(*where)
            .distinct()
            .order_by(TransactionVolume.month.desc())
            .limit(months)
        )
    )
    recent.sort()
    if not recent:
        return VolumeSummary([], [], {}, {})
    q = (
        select(
            TransactionVolume.agency_id,
            TransactionVolume.month,
            func.sum(TransactionVolume.transactions),
            func.max(TransactionVolume.source),
        )
        .where(*where, TransactionVolume.month.in_(recent))
        .group_by(TransactionVolume.agency_id, TransactionVolume.month)
    )
    totals: dict[tuple[int, dt.date], int] = {}
    sources: dict[tuple[int, dt.date], str] = {}
    for agency_id, month, total, source in session.execute(q):
        totals[(agency_id, month)] = int(total)
        sources[(agency_id, month)] = source
    agency_ids = {a for a, _ in totals}
    agencies = list(session.scalars(select(Agency).where(Agency.id.in_(agency_ids)).order_by(Agency.code)))
    return VolumeSummary(recent, agencies, totals, sources)


def field_codes(session: Session) -> list[ProcedureField]:
    """Every procedure field, by code (shown beside the upload form)."""
    return list(session.scalars(select(ProcedureField).order_by(ProcedureField.code)))


def template_csv(session: Session, scope: Scope, month: dt.date | None = None) -> bytes:
    """A CSV UTF-8 template (with BOM, so Excel opens it correctly): the header and example rows."""
    month = month or _this_month()
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    where = in_scope(Agency.id, scope)
    order = (Agency.parent_id.is_not(None), Agency.code)
    # An agency with counters makes the better example (it shows a counter row too).
    agency = session.scalar(select(Agency).join(Counter, Counter.agency_id == Agency.id).where(*where).order_by(*order))
    agency = agency or session.scalar(select(Agency).where(*where).order_by(*order))
    field_row = session.scalar(select(ProcedureField).order_by(ProcedureField.code))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    if agency is not None and field_row is not None:
        counter = session.scalar(select(Counter).where(Counter.agency_id == agency.id).order_by(Counter.code))
        writer.writerow([agency.code, "", field_row.code, f"{previous:%Y-%m}", 0])
        if counter is not None:
            other = session.scalar(
                select(ProcedureField).where(ProcedureField.id != field_row.id).order_by(ProcedureField.code)
            )
            if other is not None:
                writer.writerow([agency.code, counter.code, other.code, f"{previous:%Y-%m}", 0])
    return buffer.getvalue().encode("utf-8-sig")
