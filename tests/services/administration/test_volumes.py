"""Transaction-volume import: CSV (comma, semicolon with BOM, cp1258), xlsx; all-or-nothing; re-import replaces."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy import func, select

from survey.auth import Scope
from survey.db import db
from survey.models import Agency, AuditEvent, Counter, ProcedureField, TransactionVolume
from survey.services.administration.volumes import (
    MAX_FILE_BYTES,
    VolumeImportError,
    check_volumes,
    import_volumes,
    template_csv,
)

EVERYTHING = Scope(True, frozenset())
MAY_2026 = dt.date(2026, 5, 1)


@pytest.fixture
def vi_request(staff_app: Flask):  # type: ignore[no-untyped-def]
    """Service calls translate their messages: run them inside a Vietnamese request."""
    with staff_app.test_request_context("/?lang=vi"):
        yield


@pytest.fixture
def en_request(staff_app: Flask):  # type: ignore[no-untyped-def]
    with staff_app.test_request_context("/?lang=en"):
        yield


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _volumes(agency_code: str, month: dt.date) -> dict[tuple[int | None, str], int]:
    rows = db.session.execute(
        select(TransactionVolume.counter_id, ProcedureField.code, TransactionVolume.transactions)
        .join(ProcedureField, ProcedureField.id == TransactionVolume.field_id)
        .where(TransactionVolume.agency_id == _agency(agency_code).id, TransactionVolume.month == month)
    )
    return {(c, f): n for c, f, n in rows}


def _count_all() -> int:
    return int(db.session.scalar(select(func.count()).select_from(TransactionVolume)) or 0)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_comma_csv_imports_and_replaces_the_month(vi_request) -> None:  # type: ignore[no-untyped-def]
    before = _volumes("so-tu-phap", MAY_2026)
    assert before, "the demo seeds volumes for every month"
    data = (
        b"agency_code,counter_code,field_code,month,count\n"
        b"so-tu-phap,,ly-lich-tu-phap,2026-05,321\nso-tu-phap,,chung-thuc,2026-05,45\n"
    )
    result = import_volumes(db.session, EVERYTHING, "may.csv", data, None)
    assert (result.rows_imported, result.months_replaced, result.agencies_touched) == (2, 1, 1)
    assert result.months == (MAY_2026,)
    assert _volumes("so-tu-phap", MAY_2026) == {(None, "ly-lich-tu-phap"): 321, (None, "chung-thuc"): 45}
    # Other months and agencies are untouched.
    assert _volumes("so-tai-chinh", MAY_2026)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "volumes.imported"))
    assert event is not None
    assert event.details["file"] == "may.csv" and event.details["rows"] == 2
    assert event.details["months"] == ["2026-05"] and event.details["replaced"] == ["so-tu-phap 2026-05"]


def test_reimporting_replaces_instead_of_adding(vi_request) -> None:  # type: ignore[no-untyped-def]
    first = b"agency_code,field_code,month,count\nhoa-lu,ho-tich,2026-04,100\nhoa-lu,dat-dai,2026-04,50\n"
    import_volumes(db.session, EVERYTHING, "a.csv", first, None)
    second = b"agency_code,field_code,month,count\nhoa-lu,ho-tich,2026-04,80\n"
    result = import_volumes(db.session, EVERYTHING, "b.csv", second, None)
    assert result.months_replaced == 1
    assert _volumes("hoa-lu", dt.date(2026, 4, 1)) == {(None, "ho-tich"): 80}


def test_semicolon_csv_with_bom_and_counters(vi_request) -> None:  # type: ignore[no-untyped-def]
    agency = _agency("so-tu-phap")
    counters = db.session.scalars(select(Counter).where(Counter.agency_id == agency.id).order_by(Counter.code)).all()
    text = "agency_code;counter_code;field_code;month;count\r\n"
    text += "".join(f"so-tu-phap;{c.code};chung-thuc;2026-03;{10 + i}\r\n" for i, c in enumerate(counters))
    text += ";;;;\r\n"  # Excel writes empty rows like this
    result = import_volumes(db.session, EVERYTHING, "Thang3.csv", text.encode("utf-8-sig"), None)
    assert result.rows_imported == len(counters)
    stored = _volumes("so-tu-phap", dt.date(2026, 3, 1))
    assert stored == {(c.id, "chung-thuc"): 10 + i for i, c in enumerate(counters)}


def test_cp1258_csv_from_excel_on_vietnamese_windows(vi_request) -> None:  # type: ignore[no-untyped-def]
    text = "agency_code,field_code,month,count,ghi_chu\r\nhoa-lu,ho-tich,2026-02,12,Tháng hai\r\n"
    result = import_volumes(db.session, EVERYTHING, "t2.csv", text.encode("cp1258"), None)
    assert result.rows_imported == 1


def test_xlsx_with_dates_and_numbers(vi_request) -> None:  # type: ignore[no-untyped-def]
    data = _xlsx(
        [
            ["Agency code", "Counter code", "Field code", "Month", "Count"],
            ["so-tu-phap", None, "chung-thuc", dt.datetime(2026, 1, 1), 77],
            ["so-tu-phap", None, "ly-lich-tu-phap", "2026-01", 12.0],
            [None, None, None, None, None],
        ]
    )
    result = import_volumes(db.session, EVERYTHING, "volumes.xlsx", data, None)
    assert result.rows_imported == 2
    assert _volumes("so-tu-phap", dt.date(2026, 1, 1)) == {(None, "chung-thuc"): 77, (None, "ly-lich-tu-phap"): 12}


def test_a_bad_file_lists_every_problem_and_stores_nothing(vi_request) -> None:  # type: ignore[no-untyped-def]
    before = _count_all()
    data = (
        b"agency_code,counter_code,field_code,month,count\n"
        b"so-tu-phap,,chung-thuc,2026-05,10\n"  # row 2: fine
        b"khong-co,,chung-thuc,2026-05,10\n"  # row 3: unknown agency
        b"so-tu-phap,quay-99,chung-thuc,2026-05,10\n"  # row 4: not its counter
        b"so-tu-phap,,bogus,2026-05,10\n"  # row 5: unknown field
        b"so-tu-phap,,ho-tich,05-2026,10\n"  # row 6: bad month
        b"so-tu-phap,,dat-dai,2026-05,-3\n"  # row 7: negative
        b"so-tu-phap,,xay-dung,2026-05,1.5\n"  # row 8: not whole
        b"so-tu-phap,,chung-thuc,2026-05,11\n"  # row 9: duplicate of row 2
        b"so-tu-phap,quay-01,chung-thuc,2026-05,4\n"  # row 10: counter figure beside the agency total of row 2
        b"so-tu-phap,,giao-duc,2099-01,4\n"  # row 11: future month
    )
    with pytest.raises(VolumeImportError) as caught:
        import_volumes(db.session, EVERYTHING, "bad.csv", data, None)
    rows = [row for row, _ in caught.value.problems]
    assert rows == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    reasons = dict(caught.value.problems)
    assert "khong-co" in reasons[3]
    assert "quay-99" in reasons[4] and "so-tu-phap" in reasons[4]
    assert "bogus" in reasons[5]
    assert "05-2026" in reasons[6]
    assert "âm" in reasons[7]  # translated: "không được âm"
    assert "dòng 2" in reasons[9]
    assert _count_all() == before
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "volumes.imported")) is None


def test_agencies_outside_the_scope_are_refused(en_request) -> None:  # type: ignore[no-untyped-def]
    own = _agency("so-tu-phap")
    scope = Scope(False, frozenset({own.id}))
    data = b"agency_code,field_code,month,count\nso-tu-phap,chung-thuc,2026-05,1\nso-tai-chinh,dau-tu,2026-05,2\n"
    with pytest.raises(VolumeImportError) as caught:
        import_volumes(db.session, scope, "x.csv", data, None)
    assert caught.value.problems == [
        (3, "agency “so-tai-chinh” is unknown or not one you may import figures for"),
    ]
    assert check_volumes(db.session, scope, "x.csv", data.splitlines(keepends=True)[0] + data.splitlines(True)[1]) == 1


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("blank.csv", b"\n\n", "The file is empty."),
        ("header.csv", b"agency_code,field_code,month,count\n", "The file has a header row but no figures."),
        ("old.xls", b"\xd0\xcf\x11\xe0 not really", "Old Excel files (.xls) cannot be read."),
        ("broken.xlsx", b"PK\x03\x04 broken zip", "The Excel file cannot be opened."),
        ("big.csv", b"a" * (MAX_FILE_BYTES + 1), "larger than 2 MB"),
    ],
    ids=["empty", "blank-lines", "header-only", "xls", "broken-xlsx", "too-big"],
)
def test_file_level_problems(en_request, name: str, data: bytes, expected: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(VolumeImportError) as caught:
        import_volumes(db.session, EVERYTHING, name, data, None)
    [(row, reason)] = caught.value.problems
    assert row == 0 and expected in reason


def test_wrong_header_names_the_expected_columns(en_request) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(VolumeImportError) as caught:
        import_volumes(db.session, EVERYTHING, "h.csv", b"agency;month;number\nso-tu-phap;2026-05;3\n", None)
    [(row, reason)] = caught.value.problems
    assert row == 1
    assert "agency_code, counter_code, field_code, month, count" in reason and "number" in reason


def test_the_template_is_a_valid_file(en_request) -> None:  # type: ignore[no-untyped-def]
    data = template_csv(db.session, EVERYTHING, month=dt.date(2026, 6, 1))
    assert data.startswith(b"\xef\xbb\xbfagency_code,counter_code,field_code,month,count\r\n")
    assert check_volumes(db.session, EVERYTHING, "template.csv", data) == 2


def test_a_note_column_with_commas_does_not_fool_the_separator(vi_request) -> None:  # type: ignore[no-untyped-def]
    text = "agency_code;field_code;month;count;ghi_chu\nhoa-lu;ho-tich;2026-02;12;a, b, c, d, e\n"
    result = import_volumes(db.session, EVERYTHING, "n.csv", text.encode(), None)
    assert result.rows_imported == 1
    assert _volumes("hoa-lu", dt.date(2026, 2, 1)) == {(None, "ho-tich"): 12}
