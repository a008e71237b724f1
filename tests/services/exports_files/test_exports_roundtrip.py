"""Every format read back with the tools statisticians use, compared with the database and the index engine."""

from __future__ import annotations

import datetime as dt
import math

import pyreadstat
import pytest
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, Instrument
from survey.services.statistics.indices import IndexQuery, compute_indices
from tests.services.exports_files.conftest import INSTRUMENT, PERIOD, TRICKY_COMMENTS, expected_answers, read_back

FORMATS = ("csv", "xlsx", "sav", "dta")
STATA_CODES = {"a": 8, "b": 9}


def _code(value: object) -> int:
    if isinstance(value, str) and value in STATA_CODES:
        return STATA_CODES[value]
    return int(float(value))  # type: ignore[arg-type]


def _day(fmt: str, value: object) -> dt.date:
    """The ``date`` cell as a date: ISO text in CSV, a real date everywhere else (openpyxl gives a datetime)."""
    if fmt == "csv":
        assert isinstance(value, str)
        return dt.date.fromisoformat(value)
    assert isinstance(value, dt.date), (fmt, value)
    return value.date() if isinstance(value, dt.datetime) else value


def _weight(value: object) -> float | None:
    if value in (None, ""):
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_round_trip_matches_the_database(export_demo, export_cli, fmt) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli(fmt, "--comments")
    assert result.exit_code == 0, result.output
    assert out.exists() and out.with_name(out.name + ".codebook.md").exists()
    rows = read_back(fmt, out)
    expected = expected_answers()
    assert {int(float(r["response_id"])) for r in rows} == set(expected)  # type: ignore[arg-type]
    instrument = db.session.scalars(select(Instrument).where(Instrument.code == INSTRUMENT)).one()
    codes = [item.code for item in instrument.items]
    for row in rows:
        rid = int(float(row["response_id"]))  # type: ignore[arg-type]
        assert {code: _code(row[code]) for code in codes} == expected[rid], rid
        assert row["stratum"] == row["agency"]
        day = _day(fmt, row["date"])
        assert str(row["psu"]).startswith(f"{row['agency']}/{row['counter']}/{day.isoformat()}")
        assert row["period"] == f"{day:%Y-%m}"
        assert _weight(row["weight"]) is not None and _weight(row["weight"]) > 0  # type: ignore[operator]
    crafted = {int(float(r["response_id"])): r for r in rows if int(float(r["response_id"])) in export_demo.ids}  # type: ignore[arg-type]
    assert len(crafted) == len(export_demo.ids)
    first = crafted[export_demo.ids[0]]
    assert first["gender"] in ("female", 2.0)
    if fmt in ("xlsx", "sav", "dta"):  # stored text, line breaks and all (as LF)
        stored = [c.replace("\r\n", "\n").replace("\r", "\n") for c in TRICKY_COMMENTS]
        assert [crafted[i]["comment"] for i in export_demo.ids] == stored
    else:
        assert first["comment"] == "Cán bộ nhiệt tình, chu đáo; thủ tục nhanh — rất hài lòng!"


@pytest.mark.parametrize("fmt", ("xlsx", "sav", "dta"))
def test_every_format_carries_the_same_weights_as_csv(export_demo, export_cli, fmt) -> None:  # type: ignore[no-untyped-def]
    csv_result, csv_out = export_cli("csv", name="reference.csv")
    result, out = export_cli(fmt)
    assert csv_result.exit_code == 0 and result.exit_code == 0, result.output
    reference = {int(r["response_id"]): float(r["weight"]) for r in read_back("csv", csv_out)}  # type: ignore[arg-type]
    for row in read_back(fmt, out):
        assert _weight(row["weight"]) == pytest.approx(reference[int(float(row["response_id"]))], rel=1e-15)  # type: ignore[arg-type]


def test_exported_weights_reproduce_the_index_engine(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    """Weighted shares computed from the file equal ``compute_indices`` for every agency and item."""
    result, out = export_cli("csv")
    assert result.exit_code == 0, result.output
    rows = read_back("csv", out)
    session = db.session
    instrument = session.scalars(select(Instrument).where(Instrument.code == INSTRUMENT)).one()
    agencies = dict(session.execute(select(Agency.code, Agency.id)).all())
    in_file = sorted({str(r["agency"]) for r in rows})
    report = compute_indices(
        session,
        IndexQuery(
            instrument_id=instrument.id,
            date_from=dt.date.fromisoformat(PERIOD[0]),
            date_to=dt.date.fromisoformat(PERIOD[1]),
            agency_ids=[agencies[c] for c in in_file],
        ),
    )
    assert report.weighting.startswith("cell weights")
    checked = 0
    for code in in_file:
        mine = [r for r in rows if r["agency"] == code]
        for item in instrument.items:
            valid = [(float(r["weight"]), int(r[item.code])) for r in mine if int(r[item.code]) <= 5]  # type: ignore[arg-type]
            if not valid:
                continue
            share = sum(w for w, s in valid if s >= 4) / sum(w for w, _ in valid)
            mean = sum(w * s for w, s in valid) / sum(w for w, _ in valid)
            assert share == pytest.approx(report.get(agencies[code], item.code).estimate, abs=1e-12)
            assert mean == pytest.approx(report.get(agencies[code], item.code, "mean").estimate, abs=1e-12)
            checked += 1
    assert checked > 50


def test_sav_has_vietnamese_variable_and_value_labels_and_user_missing(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("sav")
    assert result.exit_code == 0, result.output
    _frame, meta = pyreadstat.read_sav(str(out), metadataonly=True, user_missing=True)
    instrument = db.session.scalars(select(Instrument).where(Instrument.code == INSTRUMENT)).one()
    first = instrument.items[0]
    assert meta.column_names_to_labels[first.code] == first.text_vi
    assert meta.column_names_to_labels["gender"] == "Giới tính"
    assert meta.variable_value_labels[first.code] == {
        1.0: "Rất không hài lòng",
        2.0: "Không hài lòng",
        3.0: "Bình thường",
        4.0: "Hài lòng",
        5.0: "Rất hài lòng",
        8.0: "Không áp dụng",
        9.0: "Không trả lời",
    }
    assert meta.missing_ranges[first.code] == [{"lo": 8.0, "hi": 8.0}, {"lo": 9.0, "hi": 9.0}]
    assert meta.variable_value_labels["gender"] == {1.0: "Nam", 2.0: "Nữ", 3.0: "Khác"}
    assert meta.variable_value_labels["education"][5.0] == "Đại học, trên đại học"
    # Without user_missing, SPSS's view: 8 and 9 are missing, never scores.
    frame, _ = pyreadstat.read_sav(str(out))
    assert frame[first.code].dropna().isin([1, 2, 3, 4, 5]).all()


def test_dta_has_labels_and_extended_missing_values(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("dta")
    assert result.exit_code == 0, result.output
    frame, meta = pyreadstat.read_dta(str(out), user_missing=True)
    instrument = db.session.scalars(select(Instrument).where(Instrument.code == INSTRUMENT)).one()
    first = instrument.items[0]
    label = meta.column_names_to_labels[first.code]
    assert len(label) <= 80 and first.text_vi.startswith(label.rstrip("…"))
    assert meta.variable_value_labels[first.code]["a"] == "Không áp dụng"
    assert meta.variable_value_labels[first.code]["b"] == "Không trả lời"
    assert meta.variable_value_labels[first.code][5] == "Rất hài lòng"
    assert meta.variable_value_labels["gender"] == {1: "Nam", 2: "Nữ", 3: "Khác"}
    assert set(frame[first.code].unique()) <= {1, 2, 3, 4, 5, "a", "b"}
    assert "b" in set(frame[first.code].unique())  # the crafted blanks
