"""Questionnaires in and out: XLSForm (Kobo/ODK) and TOML, through the one validator, round trips by digest."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from pyxform.xls2xform import convert
from sqlalchemy import select

from survey.db import db
from survey.models import Instrument
from survey.services.administration.instrument_documents import (
    XLSFormError,
    from_toml,
    parse_xlsform,
    read_document,
    spec_of,
    to_toml,
    to_xlsform,
)
from survey.services.administration.instruments import InstrumentFileError, read_instrument_files

SHIPPED = read_instrument_files()


@pytest.mark.parametrize("spec", SHIPPED, ids=[f"{s.code}-v{s.version}" for s in SHIPPED])
def test_every_shipped_version_round_trips_through_xlsform_and_toml(spec: Any) -> None:
    assert parse_xlsform(to_xlsform(spec), "form.xlsx").digest() == spec.digest()
    assert from_toml(to_toml(spec), "form.toml").digest() == spec.digest()


@pytest.mark.parametrize("spec", SHIPPED, ids=[f"{s.code}-v{s.version}" for s in SHIPPED])
def test_an_exported_xlsform_converts_as_kobo_and_odk_do_on_upload(spec: Any) -> None:
    warnings: list[str] = []
    xform = convert(to_xlsform(spec), warnings=warnings, file_type=".xlsx").xform
    assert warnings == []
    for item in spec.items:  # each criterion a bound question inside its element's group
        assert f'nodeset="/data/{_group_of(spec, item.code)}/{item.code}"' in xform
    assert "Rất hài lòng" in xform and "Very satisfied" in xform


def _group_of(spec: Any, code: str) -> str:
    return next(e.code for e in spec.elements if any(i.code == code for i in e.items))


def _kobo_form(survey_rows: list[list[Any]], settings: dict[str, Any] | None = None) -> bytes:
    """A questionnaire as a Kobo user writes one: spaces in 'begin group', languages as 'Name (code)'."""
    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(["type", "name", "label::Vietnamese (vi)", "label::English (en)", "required"])
    for row in survey_rows:
        survey.append(row)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::Vietnamese (vi)", "label::English (en)"])
    levels = [
        ("Rất không hài lòng", "Very dissatisfied"),
        ("Không hài lòng", "Dissatisfied"),
        ("Bình thường", "Neutral"),
    ]
    levels += [("Hài lòng", "Satisfied"), ("Rất hài lòng", "Very satisfied")]
    for list_name in ("sipas_scale", "sipas_scale_na"):
        for value, (vi, en) in enumerate(levels, start=1):
            choices.append([list_name, value, vi, en])
    choices.append(["sipas_scale_na", 8, "Không áp dụng", "Not applicable"])
    sheet = book.create_sheet("settings")
    values = {
        "form_title": "Phiếu phường rút gọn",
        "form_id": "ward-short",
        "version": 1,
        "default_language": "Vietnamese (vi)",
        "sipas_name_en": "Short ward form",
        "sipas_method": "Mẫu số 02",
        "sipas_valid_from": "2026-01-01",
        **(settings or {}),
    }
    sheet.append(list(values))
    sheet.append(list(values.values()))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


KOBO_ROWS = [
    ["begin group", "access", "Tiếp cận dịch vụ", "Access to the service", None],
    ["select_one sipas_scale", "w1", "Nơi tiếp nhận hồ sơ dễ tìm", "The reception point is easy to find", "yes"],
    ["select_one sipas_scale_na", "w2", "Có chỗ ngồi chờ", "There are seats to wait on", "no"],
    ["end group", None, None, None, None],
    ["begin group", "civil_servants", "Công chức", "Civil servants", None],
    ["select_one sipas_scale", "w3", "Công chức lịch sự", "The civil servant is polite", "yes"],
    ["end group", None, None, None, None],
]


def test_a_kobo_style_form_imports_with_the_sipas_defaults_and_round_trips() -> None:
    spec = parse_xlsform(_kobo_form(KOBO_ROWS), "ward.xlsx")
    assert (spec.code, spec.version, spec.name_en) == ("ward-short", 1, "Short ward form")
    assert [e.code for e in spec.elements] == ["access", "civil_servants"]
    w2 = spec.items[1]
    assert (w2.code, w2.optional, w2.allows_na, w2.text_en) == ("w2", True, True, "There are seats to wait on")
    assert spec.scale["satisfied_from"] == 4 and spec.scale["not_applicable"]["vi"] == "Không áp dụng"
    assert spec.aggregation == {
        "item": "top2box",
        "element": "weighted_mean_of_items",
        "overall": "weighted_mean_of_elements",
        "definition": "A",
    }
    exported = to_xlsform(spec)
    assert parse_xlsform(exported, "again.xlsx").digest() == spec.digest()
    assert parse_xlsform(to_xlsform(parse_xlsform(exported, "x.xlsx")), "y.xlsx") == spec


def test_every_unsupported_feature_is_refused_with_its_sheet_row_and_reason() -> None:
    rows = [
        ["start", "start", None, None, None],
        ["begin group", "access", "Tiếp cận", "Access", None],
        ["text", "name_of_officer", "Tên cán bộ", "Officer's name", "no"],
        ["select_one yes_no", "w1", "Có", "Yes", "yes"],
        ["begin repeat", "visits", "Lần", "Visit", None],
        ["select_one sipas_scale", "w2", "Dễ tìm", "Easy to find", "maybe"],
    ]
    with pytest.raises(XLSFormError) as caught:
        parse_xlsform(_kobo_form(rows, {"form_id": None, "style": "pages"}), "bad.xlsx")
    found = {(p.sheet, p.row) for p in caught.value.problems}
    assert {("survey", 2), ("survey", 4), ("survey", 5), ("survey", 6), ("survey", 7)} <= found
    text = str(caught.value)
    assert "type 'text' is not supported" in text
    assert "'required' must be yes or no" in text
    assert "repeats are not supported" in text
    assert "'form_id' is empty" in text and "column 'style' is not supported" in text
    assert "the group 'access' is never ended" in text


def test_a_column_the_form_would_lose_is_refused_not_dropped() -> None:
    book = load_workbook(io.BytesIO(_kobo_form(KOBO_ROWS)))
    survey = book["survey"]
    survey.cell(row=1, column=6, value="relevant")
    survey.cell(row=3, column=6, value="${w1} > 2")
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(XLSFormError, match=r"survey sheet, row 3: column 'relevant' is not supported"):
        parse_xlsform(out.getvalue(), "relevant.xlsx")


def test_the_shared_validator_speaks_and_the_message_gets_the_row() -> None:
    rows = [*KOBO_ROWS[:2], ["select_one sipas_scale", "w1", "Lặp lại", "Again", "yes"], *KOBO_ROWS[2:]]
    with pytest.raises(InstrumentFileError, match=r"item w1 \(survey sheet, row \d+\): duplicate item code"):
        parse_xlsform(_kobo_form(rows), "dup.xlsx")
    with pytest.raises(InstrumentFileError, match="must be lower-case letters"):
        parse_xlsform(_kobo_form([["begin group", "Access", "A", "A", None], *KOBO_ROWS[1:]]), "upper.xlsx")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("form.xlsx", b"not a workbook", "not an .xlsx workbook"),
        ("form.toml", b"\xff\xfe", "not UTF-8 text"),
        ("form.csv", b"a,b", "expected an XLSForm (.xlsx) or a data file (.toml)"),
        ("form.toml", b"code = ", "not valid TOML"),
    ],
)
def test_a_file_that_is_not_a_questionnaire_gets_one_clear_message(name: str, data: bytes, message: str) -> None:
    with pytest.raises(InstrumentFileError) as caught:
        read_document(name, data)
    assert str(caught.value).startswith(f"{name}: ") and message in str(caught.value)


def test_a_stored_version_exports_to_the_digest_it_was_stored_with(demo) -> None:  # type: ignore[no-untyped-def]
    for instrument in db.session.scalars(select(Instrument)):
        spec = spec_of(instrument)
        assert spec.digest() == instrument.content_digest, instrument.label
        assert parse_xlsform(to_xlsform(spec), "x.xlsx").digest() == instrument.content_digest


def _with_national(mapping: dict[str, str]) -> str:
    text = to_toml(next(s for s in SHIPPED if s.code == "sipas-ward-2026"))
    for code, national in mapping.items():
        text = text.replace(f'code = "{code}"\n', f'code = "{code}"\nnational = "{national}"\n', 1)
    return text


def test_a_mapping_to_national_criteria_is_checked_and_kept_out_of_the_digest() -> None:
    ward = next(s for s in SHIPPED if s.code == "sipas-ward-2026")
    assert [i.national for i in ward.items].count(None) == 2
    with pytest.raises(InstrumentFileError, match=r"item w02: 'national' 'c23' must name a national criterion"):
        from_toml(_with_national({"w02": "c23"}), "ward.toml")
    with pytest.raises(InstrumentFileError, match=r"item w02: 'national' 'c10' is already the mapping of item w01"):
        from_toml(_with_national({"w02": "c10"}), "ward.toml")
    remapped = from_toml(_with_national({"w02": "c12"}), "ward.toml")
    assert remapped.items[1].national == "c12" and remapped.digest() == ward.digest()


def test_a_version_with_responses_can_be_remapped_but_not_reworded(demo) -> None:  # type: ignore[no-untyped-def]
    from survey.services.administration.instruments import InstrumentLockedError, sync_instruments

    full = next(s for s in SHIPPED if s.code == "sipas-2017")
    text = to_toml(full).replace('national = "c12"\n', "", 1)
    report = sync_instruments(db.session, [from_toml(text, "sipas-2017.toml")])
    assert report["remapped"] == ["sipas-2017 v1"]
    item = db.session.scalars(select(Instrument).where(Instrument.code == "sipas-2017")).one().items[11]
    assert (item.code, item.national_code) == ("q12", None)
    with pytest.raises(InstrumentLockedError):
        sync_instruments(db.session, [from_toml(text.replace("lịch sự", "lịch sự, tôn trọng", 1), "sipas-2017.toml")])
    db.session.rollback()
