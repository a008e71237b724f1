"""Pure export builders: cell sanitising, answer packing, rows, columns and reproducible samples."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics import tables
from analytics.errors import DataError
from analytics.tables import (
    NOT_ANSWERED,
    NOT_APPLICABLE,
    Category,
    Column,
    ColumnBuffer,
    PackedLayout,
    RowBuilder,
    RowContext,
    column_names,
    draw_sample,
    proportional_allocation,
    sanitise_cell,
    sanitise_text,
    score_categories,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+84 912", "'+84 912"),
        ("-5 điểm", "'-5 điểm"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tđầu dòng", "'\tđầu dòng"),
        ("\rđầu dòng", "' đầu dòng"),
        ("dòng một\r\ndòng hai\ndòng ba\rbốn", "dòng một dòng hai dòng ba bốn"),
        ("Rất hài lòng", "Rất hài lòng"),
        ("a=b", "a=b"),
        ("có\x00ký tự\x1f lạ", "cóký tự lạ"),
        ("", ""),
    ],
    ids=["equals", "plus", "minus", "at", "tab", "cr", "line-breaks", "plain", "inner-equals", "control", "empty"],
)
def test_sanitise_text_neutralises_formulas_and_flattens_lines(value: str, expected: str) -> None:
    assert sanitise_text(value) == expected


@pytest.mark.parametrize("value", [-3.5, -1, 0, 2.25, None, dt.date(2026, 1, 1)], ids=str)
def test_sanitise_cell_leaves_numbers_and_non_text_untouched(value: object) -> None:
    assert sanitise_cell(value) is value


def test_clean_text_keeps_content_with_lf_line_breaks() -> None:
    assert tables.clean_text("=a\r\nb\rc\x07") == "=a\nb\nc"


@given(
    st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=40, unique=True).flatmap(
        lambda ids: st.tuples(
            st.just(ids),
            st.dictionaries(st.sampled_from(ids), st.one_of(st.none(), st.integers(min_value=1, max_value=5))),
        )
    )
)
def test_packed_layout_round_trips_scores_not_applicable_and_blanks(case) -> None:  # type: ignore[no-untyped-def]
    ids, answers = case
    layout = PackedLayout(tuple(ids))
    words = layout.pack(answers)
    assert all(0 <= w < 2**60 for w in words)
    decoded = layout.unpack(np.array([words]))[0].tolist()
    expected = [
        NOT_ANSWERED if i not in answers else (NOT_APPLICABLE if answers[i] is None else answers[i]) for i in ids
    ]
    assert decoded == expected


def test_packed_layout_groups_ids_into_words_of_fifteen() -> None:
    layout = PackedLayout(tuple(range(101, 123)))
    assert [(base, len(ids)) for base, ids in layout.words] == [(101, 15), (116, 7)]
    assert PackedLayout((5, 1, 300)).words == ((1, (1, 5)), (300, (300,)))


def _context(**extra: object) -> RowContext:
    base: dict[str, object] = {
        "agency_codes": {1: "hoa-lu", 2: "-xa-la"},
        "admin_unit_codes": {1: "25723", 2: "25724"},
        "counter_codes": {10: "quay-01"},
        "field_codes": {7: "ho-tich"},
        "instrument_code": "sipas-2017",
        "instrument_version": 1,
        "weights": {
            (1, 7, dt.date(2026, 5, 1)): 2.5,
            (1, 0, dt.date(2026, 5, 1)): 4.0,
            (2, 0, dt.date(2026, 6, 1)): 1.5,
        },
        "layout": PackedLayout((31, 32)),
    }
    base.update(extra)
    return RowContext(**base)  # type: ignore[arg-type]


def _record(rid: int, agency: int, counter: int | None, day: object, fld: int | None, status: str = "valid",
            reason: str | None = None, comment: str | None = None, words: tuple[int, ...] = (0x58,)):  # type: ignore[no-untyped-def]  # fmt: skip
    return (rid, "00000f9fccc04e57811ff859611aa6af", agency, counter, day, "in_person", "qr", "person", fld,
            "female", None, None, None, status, reason, comment, *words)  # fmt: skip


def test_row_builder_builds_rows_with_weights_design_and_guarded_text() -> None:
    ctx = _context(include_comments=True)
    builder = RowBuilder(ctx, sanitise=True)
    rows = builder.rows(
        [
            _record(1, 1, 10, dt.date(2026, 5, 4), 7, comment="=2+2\nhai dòng"),
            _record(2, 1, None, "2026-05-05", None),
            _record(3, 2, None, "2026-06-01", None, status="excluded", reason="@phiếu thử"),
        ]
    )
    names = column_names(["q01", "q02"], sample=False, comments=True)
    first = dict(zip(names, rows[0], strict=True))
    assert first["submission_id"] == "00000f9f-ccc0-4e57-811f-f859611aa6af"
    assert (first["agency"], first["counter"], first["admin_unit"], first["field"]) == (
        "hoa-lu",
        "quay-01",
        "25723",
        "ho-tich",
    )
    assert (first["date"], first["period"], first["q01"], first["q02"]) == ("2026-05-04", "2026-05", NOT_APPLICABLE, 5)
    assert (first["weight"], first["stratum"], first["psu"]) == (2.5, "hoa-lu", "hoa-lu/quay-01/2026-05-04")
    assert first["comment"] == "'=2+2 hai dòng"
    second = dict(zip(names, rows[1], strict=True))
    assert (second["weight"], second["psu"], second["counter"], second["field"]) == (
        4.0,
        "hoa-lu/-/2026-05-05",
        None,
        None,
    )
    third = dict(zip(names, rows[2], strict=True))
    assert third["weight"] is None and third["exclusion_reason"] == "'@phiếu thử"
    assert third["agency"] == "'-xa-la" and third["psu"].startswith("'-xa-la/")


def test_row_builder_without_weights_gives_one_and_a_missing_cell_is_an_error() -> None:
    assert (
        RowBuilder(_context(weights={}), sanitise=False).rows([_record(1, 1, 10, dt.date(2026, 5, 4), 7)])[0][
            column_names(["a", "b"], sample=False, comments=False).index("weight")
        ]
        == 1.0
    )
    with pytest.raises(tables.MissingWeightError, match="agency 2, field 0, 2026-07"):
        RowBuilder(_context(), sanitise=False).rows([_record(1, 2, None, dt.date(2026, 7, 1), None)])


def test_score_categories_add_the_missing_codes_and_refuse_collisions() -> None:
    cats = score_categories([(1, "Rất không hài lòng", "Very dissatisfied"), (5, "Rất hài lòng", "Very satisfied")])
    assert [c.code for c in cats] == [1, 5, 8, 9] and cats[-1].label_vi == "Không trả lời"
    with pytest.raises(DataError):
        score_categories([(8, "x", "x")])


def test_column_buffer_builds_compact_typed_columns() -> None:
    genders = (Category(1, "male", "Nam", "Male"), Category(2, "female", "Nữ", "Female"))
    cols = [
        Column("id", "Mã", "Id", "integer"),
        Column("q01", "Câu 1", "Item 1", "score", score_categories([(1, "a", "a")])),
        Column("gender", "Giới tính", "Gender", "category", genders),
        Column("weight", "Trọng số", "Weight", "number"),
        Column("comment", "Ý kiến", "Comment", "text"),
    ]
    buffer = ColumnBuffer(cols)
    buffer.extend([(1, 5, "female", 2.5, "Tốt"), (2, 9, None, None, None)])
    buffer.extend([(3, 8, "male", 1.0, "x")])
    arrays = buffer.arrays()
    assert arrays["id"].dtype == np.int64 and arrays["q01"].dtype == np.int8
    assert arrays["q01"].tolist() == [5, 9, 8]
    assert arrays["gender"][0] == 2 and math.isnan(arrays["gender"][1]) and arrays["gender"][2] == 1
    assert math.isnan(arrays["weight"][1]) and arrays["comment"].tolist() == ["Tốt", "", "x"]
    with pytest.raises(DataError, match="'unknown' has no code"):
        buffer.extend([(4, 1, "unknown", 1.0, "")])
    assert ColumnBuffer(cols).arrays()["q01"].dtype == np.int8


@pytest.mark.parametrize(
    ("sizes", "n", "expected"),
    [
        ({"a": 50, "b": 30, "c": 20}, 10, {"a": 5, "b": 3, "c": 2}),
        ({"a": 1, "b": 1, "c": 1}, 2, {"a": 1, "b": 1, "c": 0}),
        ({"a": 7, "b": 3}, 4, {"a": 3, "b": 1}),
        ({"a": 2, "b": 3}, 10, {"a": 2, "b": 3}),
    ],
    ids=["exact", "ties-by-order", "remainder", "everything"],
)
def test_proportional_allocation(sizes: dict[str, int], n: int, expected: dict[str, int]) -> None:
    assert proportional_allocation(sizes, n) == expected


def test_draw_sample_is_reproducible_without_replacement_and_sorted() -> None:
    strata = np.repeat([3, 1, 2], [500, 300, 200])
    a = draw_sample(strata, 100, seed=42, stratified=False)
    b = draw_sample(strata, 100, seed=42, stratified=False)
    assert np.array_equal(a.positions, b.positions) and len(np.unique(a.positions)) == 100
    assert np.all(np.diff(a.positions) > 0) and np.allclose(a.factors, 10.0)
    assert not np.array_equal(a.positions, draw_sample(strata, 100, seed=43, stratified=False).positions)
    # The documented recipe reproduces it outside SIPAS.
    assert np.array_equal(a.positions, np.sort(np.random.default_rng(42).choice(1000, size=100, replace=False)))


def test_stratified_sample_allocates_in_proportion_with_expansion_factors() -> None:
    strata = np.repeat([3, 1, 2], [500, 300, 200])
    s = draw_sample(strata, 100, seed=7, stratified=True)
    assert s.allocation == {1: 30, 2: 20, 3: 50}
    picked = strata[s.positions]
    assert {k: int((picked == k).sum()) for k in (1, 2, 3)} == {1: 30, 2: 20, 3: 50}
    assert np.allclose(s.factors, 10.0)
    assert np.array_equal(s.positions, draw_sample(strata, 100, seed=7, stratified=True).positions)


def test_sample_larger_than_the_population_takes_everything() -> None:
    s = draw_sample(["a", "b", "b"], 10, seed=1, stratified=False)
    assert s.positions.tolist() == [0, 1, 2] and s.factors.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(DataError):
        draw_sample(["a"], 0, seed=1, stratified=False)
