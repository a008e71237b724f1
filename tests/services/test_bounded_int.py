"""The one parser of whole numbers from URLs: ASCII digits within the column's range, else "not given"."""

from __future__ import annotations

import pytest
from flask import Flask

from survey.bounded_int import MAX_BIGINT, MAX_INTEGER, MAX_PAGE, parse_big_id, parse_id, parse_int, parse_page


@pytest.mark.parametrize("raw", ["1", "42", "007", str(MAX_INTEGER)])
def test_plain_digits_within_the_range_are_ids(raw: str) -> None:
    assert parse_id(raw) == int(raw)


@pytest.mark.parametrize(
    "raw",
    [None, "", "0", "-1", "+1", " 1", "1 ", "1\n", "1e3", "1.0", "0x10", "1_000", "²", "١٢", "１", "x",
     str(MAX_INTEGER + 1), str(2**63), "9" * 23, "0" * 30 + "1", True, 1.0, ["1"]],
)  # fmt: skip
def test_anything_else_is_not_given(raw: object) -> None:
    assert parse_id(raw) is None


def test_bigint_ids_reach_2_to_the_63rd_minus_1() -> None:
    assert parse_big_id(str(MAX_BIGINT)) == MAX_BIGINT
    assert parse_big_id(str(MAX_BIGINT + 1)) is None
    assert parse_big_id(MAX_BIGINT + 1) is None
    assert parse_int("2026", 2000, 2100) == 2026 and parse_int("2101", 2000, 2100) is None


def test_pages_fall_back_to_the_first() -> None:
    assert parse_page("3") == 3
    assert parse_page(str(MAX_PAGE + 1)) == 1 and parse_page("²") == 1 and parse_page(None) == 1


def test_path_integers_are_bounded_by_the_app(app: Flask) -> None:
    adapter = app.url_map.bind("khaosat.example.vn")
    endpoint, args = adapter.match(f"/agency/x/counters/{MAX_INTEGER}")
    assert endpoint == "agency.counter" and args["counter_id"] == MAX_INTEGER
    for raw in (str(MAX_INTEGER + 1), str(2**63), "9" * 23, "١٢"):
        with pytest.raises(Exception) as caught:
            adapter.match(f"/agency/x/counters/{raw}")
        assert getattr(caught.value, "code", None) == 404, raw
    # Response ids are BIGINT: their routes take up to 2**63 - 1.
    _endpoint, args = adapter.match(f"/agency/x/responses/{MAX_BIGINT}/exclude")
    assert args["response_id"] == MAX_BIGINT
