"""The archive-grade codebook: frequencies, code lists, study metadata, weighting summary (Markdown and JSON
schema 1.1), and the DDI-Codebook 2.5 XML file, checked against the data file itself."""

from __future__ import annotations

import collections
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from sqlalchemy import select

from analytics.codebook_file import SCHEMA_VERSION, load_codebook, parse_codebook
from survey.db import db
from survey.models import Agency
from tests.services.exports_files.conftest import read_back

NS = {"d": "ddi:codebook:2_5"}


def _bundle(export_cli, fmt: str, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:  # type: ignore[no-untyped-def]
    result, out = export_cli(fmt, "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        files = {name.split("/", 1)[1]: zf.read(name) for name in zf.namelist()}
        zf.extractall(tmp_path / "unzipped")
    (folder,) = (tmp_path / "unzipped").iterdir()
    return folder, files


def test_the_json_codebook_counts_every_code_of_the_data_file(export_demo, export_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder, files = _bundle(export_cli, "csv", tmp_path)
    assert "codebook.json" in files and "codebook.ddi.xml" in files
    book = json.loads(files["codebook.json"])
    assert book["schema_version"] == SCHEMA_VERSION == "1.1"
    data_name = book["data_file"]
    rows = read_back("csv", folder / data_name)
    assert book["rows"] == len(rows)
    freq = book["frequencies"]
    assert list(freq) == [c["name"] for c in book["columns"]]
    for name, f in freq.items():
        assert f["valid"] + f["missing"] == len(rows), name
        if f["counts"]:
            in_file = collections.Counter(str(r[name]) for r in rows)
            assert f["counts"] == {k: n for k, n in in_file.items() if n} | {
                k: 0 for k in f["counts"] if k not in in_file
            }, name
    q22 = freq["q22"]
    assert set(q22["missing_codes"]) >= {"8", "9"} and q22["counts"]["8"] > 0
    assert q22["missing"] == sum(q22["counts"][c] for c in q22["missing_codes"])
    assert freq["age_band"]["counts"]["over-60"] > 0 and "60+" not in freq["age_band"]["counts"]
    # code lists: every agency of the scope, counts adding up to the rows
    agencies = book["code_lists"]["agency"]
    assert {a["code"] for a in agencies} == set(db.session.scalars(select(Agency.code)))
    assert sum(a["rows"] for a in agencies) == len(rows)
    for name in ("counter", "field", "admin_unit"):
        assert book["code_lists"][name], name
        assert all(e["label_vi"] for e in book["code_lists"][name]), name
    study = book["study"]
    assert "18 and over" in study["universe"] and "QR code" in study["collection_mode"]
    assert study["licence"] and study["access_conditions"] and data_name in study["citation"]
    rate = study["response_rate"]
    assert 0 < rate["valid_responses"] <= len(rows) and rate["transactions"] > 0
    assert rate["rate"] == rate["valid_responses"] / rate["transactions"]
    assert isinstance(book["weighting"]["summary"], list)
    # the command line still reads it (1.1 adds keys only), and a 1.0 file without them
    assert load_codebook(str(folder / "codebook.json")).data_file == data_name
    old = {k: v for k, v in book.items() if k not in ("study", "frequencies", "code_lists")}
    assert parse_codebook({**old, "schema_version": "1.0"}).items == parse_codebook(book).items


def test_the_markdown_codebook_is_archive_grade(export_demo, export_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _folder, files = _bundle(export_cli, "sav", tmp_path)
    text = files["codebook.md"].decode()
    book = json.loads(files["codebook.json"])
    for heading in ("## Study", "## Index definitions", "## Frequencies", "## Code lists", "## DDI-Codebook 2.5"):
        assert f"\n{heading}\n" in text, heading
    assert "- Universe: Adults (18 and over)" in text and "- Licence: " in text and "- Access conditions: " in text
    assert "- Response rate: " in text and "- Citation: " in text
    na = book["frequencies"]["q22"]["counts"]["8"]
    share = f"{na / book['rows']:.1%}"
    assert any(line.startswith("| `q22` |") and line.endswith(f"| {share} |") for line in text.splitlines())
    for agency in book["code_lists"]["agency"]:
        assert f"| `{agency['code']}` |" in text
    # weighting notes about single agencies: one table, never one line per agency
    assert text.count("collapsed to one cell") <= 1 + 5


def test_the_ddi_file_describes_every_variable_and_category(export_demo, export_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _folder, files = _bundle(export_cli, "dta", tmp_path)
    root = ET.fromstring(files["codebook.ddi.xml"])
    assert root.tag == "{ddi:codebook:2_5}codeBook" and root.get("version") == "2.5"
    book = json.loads(files["codebook.json"])
    assert root.findtext("d:fileDscr/d:fileTxt/d:fileName", namespaces=NS) == book["data_file"]
    assert root.findtext("d:fileDscr/d:fileTxt/d:dimensns/d:caseQnty", namespaces=NS) == str(book["rows"])
    assert "18 and over" in (root.findtext("d:stdyDscr/d:stdyInfo/d:sumDscr/d:universe", namespaces=NS) or "")
    for path in ("d:stdyDscr/d:method/d:dataColl/d:collMode", "d:stdyDscr/d:method/d:anlyInfo/d:respRate"):
        assert root.findtext(path, namespaces=NS), path
    assert root.findtext("d:stdyDscr/d:dataAccs/d:useStmt/d:conditions", namespaces=NS)
    variables = {v.get("name"): v for v in root.findall("d:dataDscr/d:var", NS)}
    assert list(variables) == [c["name"] for c in book["columns"]]
    for col in book["columns"]:
        var = variables[col["name"]]
        labels = {lab.get("{http://www.w3.org/XML/1998/namespace}lang"): lab.text for lab in var.findall("d:labl", NS)}
        assert labels == {"vi": col["label_vi"], "en": col["label_en"]}
        freq = book["frequencies"][col["name"]]
        stats = {s.get("type"): int(s.text or "") for s in var.findall("d:sumStat", NS)}
        assert stats == {"vald": freq["valid"], "invd": freq["missing"]}
        categories = {c.findtext("d:catValu", namespaces=NS): c for c in var.findall("d:catgry", NS)}
        expected = [c["value"] for c in col.get("categories", [])]
        assert list(categories) == expected, col["name"]
        for value, node in categories.items():
            assert node.findtext("d:catStat[@type='freq']", namespaces=NS) == str(freq["counts"].get(value, 0))
            assert (node.get("missing") == "Y") == (value in freq["missing_codes"])
    assert variables["q01"].findtext("d:qstn/d:qstnLit", namespaces=NS)


def test_a_single_file_export_has_its_ddi_file_beside_it(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("xlsx")
    assert result.exit_code == 0, result.output
    ddi = out.with_name(out.stem + ".ddi.xml")
    root = ET.parse(ddi).getroot()
    assert root.findtext("d:fileDscr/d:fileTxt/d:fileName", namespaces=NS) == out.name
    book = out.with_name(out.name + ".codebook.md").read_text(encoding="utf-8")
    assert f"`{ddi.name}` (DDI-Codebook 2.5 XML)" in book and "## Frequencies" in book
