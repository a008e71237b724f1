"""SPSS, Stata and Excel exports carry ``date`` as a real date; Stata files are release 118 (Stata 14+)."""

from __future__ import annotations

import datetime as dt

import pyreadstat
import pytest

from survey.services.exports.formats import STATA_LABEL_CHARS, STATA_RELEASE


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_dates_are_date_types(export_demo, export_cli, fmt) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli(fmt)
    assert result.exit_code == 0, result.output
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    frame, meta = reader(str(out))
    assert meta.original_variable_types["date"] == ("DATE11" if fmt == "sav" else "%td")
    days = frame["date"].tolist()
    assert all(isinstance(d, dt.date) for d in days)
    # the PSU holds the same day as text: agency/counter/YYYY-MM-DD
    assert all(str(p).endswith(d.isoformat()) for p, d in zip(frame["psu"], days, strict=True))
    assert dt.date(2026, 5, 4) in days  # a crafted response


def test_dta_is_release_118_and_the_codebook_says_labels_are_cut(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("dta")
    assert result.exit_code == 0, result.output
    assert STATA_RELEASE == 118
    assert out.read_bytes()[:60].startswith(b"<stata_dta><header><release>118</release>")
    _frame, meta = pyreadstat.read_dta(str(out), metadataonly=True)
    assert max(len(label) for label in meta.column_labels if label) <= STATA_LABEL_CHARS
    book = out.with_name(out.name + ".codebook.md").read_text(encoding="utf-8")
    assert "release 118 (Stata 14 or later)" in book and f"longer than {STATA_LABEL_CHARS} characters" in book


def test_the_csv_codebook_and_readme_give_the_import_settings_and_the_formula_guard(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    result, out = export_cli("csv", "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        book = zf.read(next(n for n in names if n.endswith("/codebook.md"))).decode()
        readme = zf.read(next(n for n in names if n.endswith("/README.txt"))).decode()
    assert "*Character set: Unicode (UTF-8)*, *Separated by: Comma*" in book
    assert "gets a leading `'`" in book and "= + - @" in book and "line breaks inside comments" in book
    assert "Unicode (UTF-8) and Comma" in readme and "formula guard" in readme
    assert "indices.csv" in readme and "analysis.R" in readme


def test_xlsx_dates_are_date_cells_with_a_date_format(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from survey.services.exports.formats import XLSX_DATE_FORMAT

    result, out = export_cli("xlsx")
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out)["data"]
    header = [c.value for c in sheet[1]]
    column = header.index("date") + 1
    cells = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    assert cells and all(c.is_date and isinstance(c.value, dt.datetime) for c in cells)  # a number with a date format
    assert {c.number_format for c in cells} == {XLSX_DATE_FORMAT}
    assert dt.datetime(2026, 5, 4) in [c.value for c in cells]  # a crafted response
    # the PSU still carries the same day as text
    psu = header.index("psu") + 1
    for r, cell in enumerate(cells, start=2):
        assert str(sheet.cell(row=r, column=psu).value).endswith(cell.value.date().isoformat())
