"""The machine-readable codebook (``<stem>.codebook.json``) beside every export, and the command line that reads it.

The end-to-end test exports a scope from the seeded app, runs ``python -m analytics estimate`` on the written
files exactly as a statistician would (a subprocess in the repository root), and compares every overall,
element and criterion estimate with what the dashboard's index service computes for the same scope and period.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from analytics.codebook_file import SCHEMA, SCHEMA_VERSION, codebook_name, load_codebook
from analytics.tables import FORMULA_TRIGGERS
from survey.db import db
from survey.models import Agency, Instrument
from survey.services.statistics.indices import TOTAL, IndexQuery, compute_indices
from tests.services.exports_files.conftest import INSTRUMENT, PERIOD, read_back

ROOT = Path(__file__).resolve().parents[3]


def _instrument() -> Instrument:
    return db.session.scalars(select(Instrument).where(Instrument.code == INSTRUMENT)).one()


def _json_beside(out: Path) -> dict[str, Any]:
    path = out.with_name(codebook_name(out.name))
    assert path.is_file(), sorted(p.name for p in out.parent.iterdir())
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def estimate(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m analytics estimate ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "analytics", "estimate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_csv_export_writes_its_json_codebook_beside_it(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--comments")
    assert result.exit_code == 0, result.output
    book = _json_beside(out)
    assert out.with_name("export.codebook.json").name in result.output
    assert book["schema"] == SCHEMA and book["schema_version"] == SCHEMA_VERSION
    assert book["data_file"] == "export.csv" and book["format"] == "csv"
    assert book["rows"] == len(read_back("csv", out))
    instrument = _instrument()
    assert book["instrument"]["code"] == INSTRUMENT and book["instrument"]["version"] == instrument.version
    assert book["period"] == {"from": PERIOD[0], "to": PERIOD[1]}
    assert book["scope"]["status"] == "valid" and "hoa-lu" in book["scope"]["agencies"]
    assert book["status"] == {"column": "status", "valid": "valid", "values": ["valid", "excluded"]}
    assert book["weighting"]["weighted"] is True and book["weighting"]["rule"].startswith("cell weights")
    assert book["design"]["weight"] == "weight" and book["design"]["strata"] == "stratum"
    assert book["design"]["psu"] == ["psu"] and book["design"]["fpc"] == []
    assert book["design"]["lonely_psu"] == "certainty"
    # Items: every item column of the file, in file order, with the codes that are and are not scores.
    with out.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh))
    assert [i["column"] for i in book["items"]] == [item.code for item in instrument.items]
    assert all(i["column"] in header for i in book["items"])
    first = book["items"][0]
    assert first["label_vi"] == instrument.items[0].text_vi and first["label_en"] == instrument.items[0].text_en
    assert first["valid_codes"] == [1, 2, 3, 4, 5]
    assert first["missing_codes"] == {"8": "not_applicable", "9": "not_answered"}
    assert [m["code"] for m in book["scale"]["missing_codes"]] == [8, 9]
    assert book["scale"]["satisfied_from"] == 4 and book["scale"]["stata_missing"] == {"8": ".a", "9": ".b"}
    # Groups: element → items as the instrument defines them, and the overall index.
    elements = book["groups"]["elements"]
    assert list(elements) == [e.code for e in instrument.elements]
    for element in instrument.elements:
        assert list(elements[element.code]["items"]) == [item.code for item in element.items]
    assert book["groups"]["definition"] == "A" and book["groups"]["overall"]["name"] == "overall"
    assert [c["name"] for c in book["columns"]] == header


def test_the_csv_dialect_it_states_is_the_one_the_file_is_written_in(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--comments", "--status", "all")
    assert result.exit_code == 0, result.output
    dialect = _json_beside(out)["csv"]
    assert dialect["delimiter"] == "," and dialect["encoding"] == "utf-8-sig"
    assert dialect["formula_guard"]["prefix"] == "'" and dialect["formula_guard"]["triggers"] == list(FORMULA_TRIGGERS)
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode()) and dialect["line_terminator"].encode() in raw
    with out.open(encoding=dialect["encoding"], newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=dialect["delimiter"], quotechar=dialect["quotechar"]))
    reasons = [r["exclusion_reason"] for r in rows if r["status"] == "excluded"]
    assert reasons and all(r.startswith(dialect["formula_guard"]["prefix"] + "=") for r in reasons if "cmd" in r)
    assert all(r["weight"] == dialect["missing_value"] for r in rows if r["status"] == "excluded")


def test_a_bundle_holds_the_json_codebook_and_the_readme_names_it(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("sav", "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        data = next(n for n in names if n.endswith(".sav"))
        stem = Path(data).stem
        book = json.loads(zf.read(f"{stem}/{stem}.codebook.json"))
        readme = zf.read(f"{stem}/README.txt").decode()
        markdown = zf.read(f"{stem}/codebook.md").decode()
    assert book["data_file"] == Path(data).name and book["format"] == "sav"
    assert book["csv"] is None  # no CSV dialect for an SPSS file
    assert f"{stem}.codebook.json" in readme and "python -m analytics estimate" in readme
    assert "## Machine-readable codebook" in markdown and f"`{stem}.codebook.json`" in markdown
    assert "`schema_version`" in markdown and SCHEMA_VERSION in markdown


def test_the_markdown_codebook_documents_the_json_schema(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv")
    assert result.exit_code == 0, result.output
    markdown = out.with_name(out.name + ".codebook.md").read_text(encoding="utf-8")
    section = markdown.split("## Machine-readable codebook", 1)[1].split("\n## ", 1)[0]
    assert "`export.codebook.json`" in section
    for key in _json_beside(out):  # every top-level key of the file is described
        assert f"`{key}`" in section, key
    assert "python -m analytics estimate --codebook export.codebook.json" in markdown
    assert 'options(survey.lonely.psu = "certainty")' in markdown


def test_the_analytics_reader_accepts_what_the_export_writes(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv")
    assert result.exit_code == 0, result.output
    book = load_codebook(str(out.with_name(codebook_name(out.name))))
    assert Path(book.data_path) == out
    assert book.weight == "weight" and book.strata == "stratum" and book.psu == ("psu",)
    assert book.lonely_psu == "certainty" and (book.status_column, book.status_valid) == ("status", "valid")
    assert book.groups["access"] == {"q01": 1.0, "q02": 1.0, "q03": 1.0, "q04": 1.0}
    assert book.overall == "overall" and book.definition == "A"


def _close(ours: float | None, theirs: float) -> bool:
    if ours is None:
        return not math.isfinite(theirs)
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)


def test_the_command_line_on_an_export_gives_the_dashboards_numbers(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    """Export with excluded rows and 8/9 codes; the CLI, given only the codebook, equals compute_indices."""
    result, out = export_cli("csv", "--status", "all")
    assert result.exit_code == 0, result.output
    rows = read_back("csv", out)
    assert {r["status"] for r in rows} == {"valid", "excluded"}
    instrument = _instrument()
    codes = [item.code for item in instrument.items]
    assert {"8", "9"} <= {str(r[c]) for r in rows for c in codes}
    proc = estimate(str(out), "--codebook", str(out.with_name(codebook_name(out.name))), "--by", "stratum")
    assert proc.returncode == 0, proc.stderr
    output = json.loads(proc.stdout)
    assert output["data"]["rows_used"] == sum(r["status"] == "valid" for r in rows) < len(rows)
    assert output["design"]["lonely_psu"] == "certainty"
    session = db.session
    agencies = dict(session.execute(select(Agency.code, Agency.id)).all())
    in_file = sorted({str(r["stratum"]) for r in rows if r["status"] == "valid"})
    report = compute_indices(
        session,
        IndexQuery(
            instrument_id=instrument.id,
            date_from=dt.date.fromisoformat(PERIOD[0]),
            date_to=dt.date.fromisoformat(PERIOD[1]),
            agency_ids=[agencies[c] for c in in_file],
        ),
    )
    assert output["design"]["strata"] == report.n_strata and output["design"]["psus"] == report.n_psus
    mine = {(e["domain"].get("stratum"), e["target"], e["kind"]): e for e in output["estimates"]}
    targets = ["overall", *(e.code for e in instrument.elements), *codes]
    compared = 0
    for code in [None, *in_file]:
        domain = TOTAL if code is None else agencies[code]
        for target in targets:
            for kind in ("share", "mean"):
                try:
                    want = report.get(domain, target, kind)
                except ValueError:  # no estimate (an item nobody answered in scope): none from the CLI either
                    assert (code, target, kind) not in mine
                    continue
                got = mine[(code, target, kind)]
                where = (code, target, kind)
                assert _close(got["estimate"], want.estimate), (where, got["estimate"], want.estimate)
                assert _close(got["se"], want.se), (where, got["se"], want.se)
                assert _close(got["ci"][0], want.ci[0]) and _close(got["ci"][1], want.ci[1]), where
                assert (got["df"], got["n"], got["definition"]) == (want.df, want.n, want.definition), where
                assert got["ci_method"] == want.ci_method, where
                assert sorted(f["code"] for f in got["flags"]) == sorted(f.code for f in want.flags), where
                compared += 1
    assert compared > 400  # every agency and the whole scope: overall, 5 elements, 22 criteria, both kinds


def test_explicit_options_override_the_codebook(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv")
    assert result.exit_code == 0, result.output
    book = str(out.with_name(codebook_name(out.name)))
    by_default = estimate("--codebook", book)  # the data file named by the codebook, beside it
    assert by_default.returncode == 0, by_default.stderr
    default = json.loads(by_default.stdout)
    assert default["data"]["file"] == str(out) and default["design"]["lonely_psu"] == "certainty"
    assert {e["target"] for e in default["estimates"]} >= {"overall", "access", "q01"}
    narrowed = estimate(str(out), "--codebook", book, "--items", "q01,q02,q05", "--lonely-psu", "remove")
    assert narrowed.returncode == 0, narrowed.stderr
    output = json.loads(narrowed.stdout)
    assert output["design"]["lonely_psu"] == "remove"
    assert {e["target"] for e in output["estimates"]} == {"q01", "q02", "q05", "access", "procedures", "overall"}
    access = {c["name"]: c["coefficients"] for c in output["composites"]}
    assert access["access"] == {"q01": 0.5, "q02": 0.5} and access["procedures"] == {"q05": 1.0}
    unweighted = estimate(str(out), "--codebook", book, "--items", "q01", "--weight", "response_id")
    assert unweighted.returncode == 0, unweighted.stderr
    assert json.loads(unweighted.stdout)["design"]["weight"] == "response_id"
