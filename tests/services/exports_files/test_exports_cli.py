"""``flask export-responses``: CSV safety, bundles, filters, samples, errors, nothing partial, audit."""

from __future__ import annotations

import csv
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, AuditEvent
from survey.services.exports import responses
from survey.services.exports.files import export_responses
from tests.services.exports_files.conftest import read_back


def test_csv_has_a_bom_guards_text_cells_and_leaves_numbers_alone(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--comments", "--status", "all")
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "Cán bộ nhiệt tình".encode() in raw
    rows = {int(r["response_id"]): r for r in read_back("csv", out)}
    comments = [rows[i]["comment"] for i in export_demo.ids]
    assert comments == [
        "Cán bộ nhiệt tình, chu đáo; thủ tục nhanh — rất hài lòng!",
        '\'=HYPERLINK("http://evil.example","bấm vào đây")',
        "'+84 điểm cho bộ phận một cửa",
        "'-5 là điểm của quầy số 3",
        "'@SUM(1+1)",
        "'\tTab đầu dòng",
        "' CR đầu dòng và xuống dòng",
    ]
    excluded = rows[export_demo.excluded_id]
    assert excluded["status"] == "excluded" and excluded["weight"] == ""
    assert excluded["exclusion_reason"].startswith("'=cmd|")
    # Every line of the file is one record: no raw line breaks survive inside cells.
    with out.open(encoding="utf-8-sig", newline="") as fh:
        assert sum(1 for _ in fh) == len(rows) + 1
    # Numbers are written as numbers, never prefixed.
    for row in rows.values():
        if row["weight"]:
            assert float(row["weight"]) > 0 and not row["weight"].startswith("'")
        assert row["q02"] in {"1", "2", "3", "4", "5", "8", "9"}


def test_xlsx_never_turns_data_into_formulas(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("xlsx", "--comments", "--status", "all")
    assert result.exit_code == 0, result.output
    book = load_workbook(out)  # not read-only: data_type is available
    sheet = book["data"]
    header = [c.value for c in sheet[1]]
    column = header.index("comment") + 1
    types = {sheet.cell(row=r, column=column).value: sheet.cell(row=r, column=column).data_type for r in range(2, 400)}
    assert types['=HYPERLINK("http://evil.example","bấm vào đây")'] == "s"
    assert types["@SUM(1+1)"] == "s"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert "variables" in book.sheetnames


def test_bundle_zip_holds_data_codebook_and_readme(export_demo, export_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("sav", "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        book = zf.read(next(n for n in names if n.endswith("codebook.md"))).decode()
        assert any(n.endswith(".sav") for n in names) and any(n.endswith("README.txt") for n in names)
    assert "| `q01` |" in book and "Nơi ngồi chờ" in book and "The waiting area" in book
    assert "trọng số ô" in book and "cell weight" in book and "counter-days" in book
    assert "Period (local date received, inclusive): 2025-11-01 to 2026-10-31" in book
    assert "Rows (one per response):" in book and "Software: SIPAS" in book
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]


def test_agency_scope_is_the_subtree_and_nothing_else(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--agency", "hoa-lu")
    assert result.exit_code == 0, result.output
    assert {r["agency"] for r in read_back("csv", out)} == {"hoa-lu"}
    province, _ = export_cli("csv", "--agency", "ninh-binh", name="province.csv")
    assert province.exit_code == 0
    session = db.session
    hoa_lu = session.scalars(select(Agency).where(Agency.code == "hoa-lu")).one()
    assert hoa_lu.id in responses.agency_subtree(session, ["ninh-binh"])
    assert responses.agency_subtree(session, ["hoa-lu"]) == {hoa_lu.id, *(c.id for c in hoa_lu.children)}


def test_status_filter(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--status", "excluded")
    assert result.exit_code == 0, result.output
    rows = read_back("csv", out)
    assert rows and {r["status"] for r in rows} == {"excluded"}
    assert export_demo.excluded_id in {int(r["response_id"]) for r in rows}  # type: ignore[arg-type]
    assert all(r["weight"] == "" for r in rows)


def test_sample_is_reproducible_and_stratified_by_agency(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    def ids(*args: str, name: str) -> list[int]:
        result, out = export_cli("csv", "--sample", "60", *args, name=name)
        assert result.exit_code == 0, result.output
        return [int(r["response_id"]) for r in read_back("csv", out)]  # type: ignore[arg-type]

    first, again = ids("--seed", "11", name="a.csv"), ids("--seed", "11", name="b.csv")
    other = ids("--seed", "12", name="c.csv")
    assert len(first) == 60 and first == again and first != other and first == sorted(first)
    strat = ids("--seed", "11", "--stratified", name="d.csv")
    assert len(strat) == 60 and strat != first
    _, out = export_cli("csv", "--sample", "60", "--seed", "11", "--stratified", name="e.csv")
    rows = read_back("csv", out)
    factors = {r["agency"]: float(r["sample_factor"]) for r in rows}  # type: ignore[arg-type]
    assert all(f >= 1 for f in factors.values())


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--format", "pdf"], 2, "'pdf' is not one of"),
        (["--format", "csv", "--agency", "nowhere"], 2, "unknown agency 'nowhere'"),
        (["--format", "csv", "--from", "2026-13-01"], 2, "expected YYYY-MM-DD"),
        (
            ["--format", "csv", "--from", "2030-01-01", "--to", "2030-12-31"],
            1,
            "no valid responses in the agency scope",
        ),
        (["--format", "csv", "--from", "2026-05-01", "--to", "2026-04-01"], 2, "starts (2026-05-01) after it ends"),
        (["--format", "csv", "--instrument", "sipas-1999"], 2, "unknown instrument 'sipas-1999'"),
        (["--format", "csv", "--sample", "10"], 2, "--sample needs --seed"),
        (["--format", "csv"], 2, "responses for several instruments in this scope"),
    ],
    ids=["format", "agency", "date", "no-data", "reversed", "instrument", "seedless", "two-instruments"],
)
def test_bad_input_gets_a_clear_error_and_leaves_nothing(export_demo, runner, tmp_path, args, code, message) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export-responses", "--output", str(out), *args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_empty_scope_is_refused(app, export_demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(responses.ExportError, match="agency scope is empty"):
        export_responses(db.session, responses.ExportRequest(agency_ids=frozenset()), tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_writing_leaves_nothing_and_logs_nothing(
    export_demo, export_cli, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from analytics.tables import RowBuilder

    calls = {"n": 0}
    original = RowBuilder.rows

    def failing(self, records):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("disk full")
        return original(self, records)

    monkeypatch.setattr(RowBuilder, "rows", failing)
    monkeypatch.setattr(responses, "CHUNK_ROWS", 50)
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    result, _out = export_cli("csv")
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert list(tmp_path.iterdir()) == []
    after = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    assert before == after


def test_every_export_is_audit_logged_with_scope_filters_and_rows(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--agency", "hoa-lu", "--sample", "5", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "Wrote 5 responses" in result.output
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "responses.exported").order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.actor_user_id is None
    details = event.details
    assert details["actor"] == "cli" and details["rows"] == 5 and details["format"] == "csv"
    assert "hoa-lu" in details["filters"]["agencies"]
    assert details["filters"]["sample"] == {"size": 5, "seed": 3, "stratified_by_agency": False, "drawn": 5}
    assert details["filters"]["date_from"] == "2025-11-01" and details["filters"]["status"] == "valid"


def test_progress_bar_goes_to_stderr(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, _ = export_cli("csv")
    assert result.exit_code == 0
    assert "Exporting" in result.stderr and "Exporting" not in result.stdout


def test_csv_header_matches_the_codebook_columns(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--comments")
    assert result.exit_code == 0
    with out.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    book = out.with_name(out.name + ".codebook.md").read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in book for name in header)
    assert header[:3] == ["response_id", "submission_id", "agency"] and header[-4:] == [
        "weight",
        "stratum",
        "psu",
        "comment",
    ]
