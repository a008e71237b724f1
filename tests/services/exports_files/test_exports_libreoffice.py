"""The CSV export opened in LibreOffice Calc (headless) with the import settings the codebook gives.

LibreOffice reads a cell as a number whenever it can: the stored age band ``60+`` became the number 60.
This opens a real export the way a user does (UTF-8, comma, default column types), converts it to .xlsx
and checks that every code cell is still the text the CSV holds, except ``admin_unit``: an official code of
digits only (leading zeros in Hà Nội's communes), which LibreOffice reads as a number unless its column is
set to Text, as the codebook says, and which then stays text (the second run). It skips when ``soffice`` is missing
(CI does not install LibreOffice), unless ``SIPAS_REQUIRE_LIBREOFFICE=1``, when it fails instead.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

#: The import settings the codebook states: comma, double quote, UTF-8 (76), from line 1.
CSV_FILTER = "CSV:44,34,76,1"
#: Columns that hold codes: LibreOffice must keep each as the text of the CSV with default column types.
CODE_COLUMNS = (
    "agency",
    "counter",
    "field",
    "instrument",
    "channel",
    "collection_mode",
    "respondent_type",
    "gender",
    "age_band",
    "education",
    "occupation",
    "status",
    "stratum",
    "psu",
)


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("SIPAS_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice is required (SIPAS_REQUIRE_LIBREOFFICE=1) but soffice is missing")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


def _open_in_calc(soffice: str, csv_path: Path, into: Path, options: str) -> list[dict[str, object]]:
    """The CSV opened by LibreOffice with the filter ``options``, saved as .xlsx and read back."""
    from openpyxl import load_workbook

    run = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(into / 'profile').as_uri()}",
            f"--infilter={options}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(into),
            str(csv_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    sheet_path = into / (csv_path.stem + ".xlsx")
    assert run.returncode == 0 and sheet_path.exists(), run.stdout + run.stderr
    book = load_workbook(sheet_path, read_only=True)
    cells = book.worksheets[0].iter_rows(values_only=True)
    header = [str(h) for h in next(cells)]
    out = [dict(zip(header, row, strict=False)) for row in cells]
    book.close()
    return out


def test_libreoffice_keeps_every_code_of_the_csv_as_text(export_demo, export_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    soffice = _soffice()
    result, out = export_cli("csv")
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    bands = {r["age_band"] for r in rows}
    assert "over-60" in bands and "60+" not in bands  # the demo has respondents over 60
    read = _open_in_calc(soffice, out, tmp_path / "default", CSV_FILTER)
    assert list(read[0]) == list(rows[0])  # UTF-8 read as UTF-8: the header is intact
    assert len(read) == len(rows)
    for mine, theirs in zip(rows, read, strict=True):
        for name in CODE_COLUMNS:
            assert theirs[name] == (mine[name] or None), (name, mine[name], theirs[name])
        assert isinstance(theirs["age_band"], str | None)
        assert theirs["q01"] == int(mine["q01"])  # numbers stay numbers
    assert any(isinstance(r["admin_unit"], int) for r in read)  # digits only: a number with default types

    # the codebook's advice: set the code columns to Text (column type 2); admin_unit then keeps its digits
    column = list(rows[0]).index("admin_unit") + 1
    as_text = _open_in_calc(soffice, out, tmp_path / "text", f"{CSV_FILTER},{column}/2")
    assert [r["admin_unit"] for r in as_text] == [r["admin_unit"] for r in rows]
