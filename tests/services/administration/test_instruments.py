"""Instrument data files: the shipped ones load; malformed ones fail with file, place and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from survey.db import db
from survey.models import Instrument
from survey.services.administration.instruments import (
    InstrumentFileError,
    InstrumentLockedError,
    parse_instrument,
    read_instrument_files,
    sync_instruments,
)

VALID = """
code = "mini"
version = 1
name_vi = "Phiếu thử"
name_en = "Test form"
method = "test"
valid_from = 2024-01-01

[scale]
satisfied_from = 4
not_applicable = { vi = "Không áp dụng", en = "Not applicable" }
levels = [
  { value = 1, vi = "a", en = "a" }, { value = 2, vi = "b", en = "b" }, { value = 3, vi = "c", en = "c" },
  { value = 4, vi = "d", en = "d" }, { value = 5, vi = "e", en = "e" },
]

[aggregation]
item = "top2box"
element = "weighted_mean_of_items"
overall = "weighted_mean_of_elements"
definition = "A"

[[elements]]
code = "access"
name_vi = "Tiếp cận"
name_en = "Access"

  [[elements.items]]
  code = "q01"
  vi = "Câu một"
  en = "Item one"

  [[elements.items]]
  code = "q02"
  vi = "Câu hai"
  en = "Item two"
  allows_na = true
"""


def test_shipped_instruments_parse_with_their_item_counts() -> None:
    specs = {spec.code: spec for spec in read_instrument_files()}
    gen2 = specs["sipas-2017"]
    assert [len(e.items) for e in gen2.elements] == [4, 5, 6, 3, 4]
    assert len(gen2.items) == 22
    assert [e.code for e in gen2.elements] == ["access", "procedures", "civil_servants", "results", "feedback"]
    gen3 = specs["sipas-2022-services"]
    assert [len(e.items) for e in gen3.elements] == [4, 4, 5, 3, 3]
    assert gen3.aspect == "B"
    for spec in specs.values():
        assert [level["vi"] for level in spec.scale["levels"]] == [
            "Rất không hài lòng",
            "Không hài lòng",
            "Bình thường",
            "Hài lòng",
            "Rất hài lòng",
        ]
        assert all(item.text_vi and item.text_en for item in spec.items)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'code = "q02"\n  vi = "Câu hai"',
            'code = "q02"\n  vi = ""',
            "mini.toml: item q02: 'vi' must be non-empty text",
        ),
        ('code = "q02"', 'code = "q01"', "mini.toml: item q01: duplicate item code"),
        ("allows_na = true", 'allows_na = "yes"', "mini.toml: item q02: 'allows_na' must be true or false"),
        ("allows_na = true", 'colour = "red"', "mini.toml: element access item 2: unknown key 'colour'"),
        ('{ value = 3, vi = "c"', '{ value = 7, vi = "c"', "mini.toml: scale level 3: 'value' must be 3"),
        ('definition = "A"', 'definition = "Z"', "mini.toml: aggregation: 'definition' must be one of A, B, C"),
        ("version = 1", "version = 0", "mini.toml: 'version' must be a whole number from 1"),
        ("valid_from = 2024-01-01", 'valid_from = "soon"', "mini.toml: 'valid_from' must be a date"),
        ('code = "q01"', 'code = "Q 1"', "mini.toml: element access item 1: 'code' 'Q 1' must be lower-case"),
        (
            'name_en = "Access"',
            'name_en = "Access"\nweight = -1',
            "mini.toml: element access: 'weight' must be a positive",
        ),
        ("[aggregation]", "[aggregation", "mini.toml: not valid TOML"),
    ],
    ids=[
        "empty-wording",
        "duplicate-item",
        "bad-flag",
        "unknown-key",
        "scale-gap",
        "bad-definition",
        "version-zero",
        "bad-date",
        "bad-code",
        "negative-weight",
        "toml-syntax",
    ],
)
def test_malformed_file_names_file_place_and_reason(old: str, new: str, expected: str) -> None:
    assert old in VALID
    with pytest.raises(InstrumentFileError) as excinfo:
        parse_instrument(VALID.replace(old, new, 1), "mini.toml")
    assert str(excinfo.value).startswith(expected)


def test_sync_adds_once_then_reports_unchanged(app: Flask) -> None:
    spec = parse_instrument(VALID, "mini.toml")
    assert sync_instruments(db.session, [spec])["added"] == ["mini v1"]
    assert sync_instruments(db.session, [spec])["unchanged"] == ["mini v1"]
    instrument = db.session.query(Instrument).filter_by(code="mini").one()
    assert [i.code for i in instrument.items] == ["q01", "q02"]
    assert instrument.items[1].allows_na is True


def test_changed_file_updates_an_unused_version(app: Flask) -> None:
    sync_instruments(db.session, [parse_instrument(VALID, "mini.toml")])
    changed = parse_instrument(VALID.replace("Item two", "Item two, reworded"), "mini.toml")
    assert sync_instruments(db.session, [changed])["updated"] == ["mini v1"]
    instrument = db.session.query(Instrument).filter_by(code="mini").one()
    assert instrument.items[1].text_en == "Item two, reworded"


def test_changed_file_for_a_version_with_responses_is_refused(app: Flask, demo) -> None:  # type: ignore[no-untyped-def]
    specs = {spec.code: spec for spec in read_instrument_files()}
    gen2 = specs["sipas-2017"]
    text = (Path(app.root_path) / "instruments" / "sipas-2017.toml").read_text(encoding="utf-8")
    reworded = parse_instrument(text.replace("đủ chỗ ngồi", "rất nhiều chỗ ngồi"), "sipas-2017.toml")
    assert reworded.digest() != gen2.digest()
    with pytest.raises(InstrumentLockedError, match="sipas-2017.toml: sipas-2017 v1 already has responses"):
        sync_instruments(db.session, [reworded])
