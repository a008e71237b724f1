"""``analysis.R`` in an export bundle recomputes ``indices.csv`` from the data file (needs Rscript).

Skips without Rscript (or haven for .sav/.dta) unless ``SIPAS_REQUIRE_R=1``, when it fails instead.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from survey.services.exports.indices_file import COLUMNS

NUMERIC = ("estimate", "se", "ci_low", "ci_high", "df", "n")


def _need(what: str, ok: bool) -> None:
    if not ok:
        if os.environ.get("SIPAS_REQUIRE_R") == "1":
            pytest.fail(f"{what} is required (SIPAS_REQUIRE_R=1) but missing")
        pytest.skip(f"{what} is not installed")


def _rscript() -> str:
    path = shutil.which("Rscript")
    _need("Rscript", path is not None)
    assert path is not None
    return path


def _has_r_package(rscript: str, name: str) -> bool:
    probe = subprocess.run(
        [rscript, "-e", f"quit(status = as.integer(!requireNamespace('{name}', quietly = TRUE)))"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _same(a: str, b: str) -> bool:
    if a == "NA" or b == "NA":
        return a == b
    x, y = float(a), float(b)
    return math.isclose(x, y, rel_tol=0, abs_tol=1e-9) or (math.isinf(x) and x == y)


def _unzip(bundle: Path, into: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(into)
    (folder,) = [p for p in into.iterdir() if p.is_dir()]
    return folder


@pytest.mark.parametrize("fmt", ["csv", "sav", "dta"])
def test_analysis_r_reproduces_the_published_indices(export_demo, export_cli, tmp_path, fmt) -> None:  # type: ignore[no-untyped-def]
    rscript = _rscript()
    _need("the R package survey", _has_r_package(rscript, "survey"))
    if fmt != "csv":
        _need("the R package haven", _has_r_package(rscript, "haven"))
    result, out = export_cli(fmt, "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    folder = _unzip(out, tmp_path / "unzipped")
    assert (folder / "analysis.R").exists() and (folder / "indices.csv").exists()
    run = subprocess.run([rscript, "analysis.R"], cwd=folder, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    published, recomputed = _read(folder / "indices.csv"), _read(folder / "indices-r.csv")
    assert list(recomputed[0]) == list(COLUMNS)
    assert [(r["level"], r["target"], r["kind"]) for r in recomputed] == [
        (r["level"], r["target"], r["kind"]) for r in published
    ]
    levels = {r["level"] for r in published}
    assert levels == {"overall", "element", "criterion"}
    _compare(recomputed, published)


def _compare(recomputed: list[dict[str, str]], published: list[dict[str, str]]) -> None:
    for mine, theirs in zip(recomputed, published, strict=True):
        key = (theirs["target"], theirs["kind"])
        for col in NUMERIC:
            assert _same(mine[col], theirs[col]), (key, col, mine[col], theirs[col])
        assert mine["flags"] == theirs["flags"], key
        assert mine["ci_method"] == theirs["ci_method"], key


def test_analysis_r_reproduces_the_flags_of_one_small_agency(export_demo, export_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One agency's export: few PSUs, so intervals are wide and the NCHS rules suppress or flag figures."""
    rscript = _rscript()
    _need("the R package survey", _has_r_package(rscript, "survey"))
    result, out = export_cli("csv", "--bundle", "--agency", export_demo.agency_code, name="bundle.zip")
    assert result.exit_code == 0, result.output
    folder = _unzip(out, tmp_path / "unzipped")
    run = subprocess.run([rscript, "analysis.R"], cwd=folder, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    published = _read(folder / "indices.csv")
    assert any(r["flags"] for r in published)  # the comparison below covers non-empty flags
    _compare(_read(folder / "indices-r.csv"), published)


def _recipe(markdown: str) -> str:
    lines = markdown.splitlines()
    start = lines.index("# R (runs verbatim beside the data file)")
    end = lines.index("# Stata")
    return "\n".join(lines[start:end]) + "\n"


@pytest.mark.parametrize("fmt", ["csv", "sav"])
def test_the_codebooks_r_recipe_runs_verbatim(export_demo, export_cli, tmp_path, fmt) -> None:  # type: ignore[no-untyped-def]
    rscript = _rscript()
    _need("the R package survey", _has_r_package(rscript, "survey"))
    if fmt != "csv":
        _need("the R package haven", _has_r_package(rscript, "haven"))
    result, out = export_cli(fmt)
    assert result.exit_code == 0, result.output
    markdown = out.with_name(out.name + ".codebook.md").read_text(encoding="utf-8")
    assert markdown.startswith(f"# SIPAS — sổ tay biến / codebook: {out.name}\n")  # the file written
    script = out.with_name("recipe.R")
    script.write_text(_recipe(markdown) + 'cat("rows", nrow(d), "\\n")\n', encoding="utf-8")
    run = subprocess.run([rscript, script.name], cwd=out.parent, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    valid = [r for r in _read_export(out) if r["status"] in ("valid", 1.0)]
    assert f"rows {len(valid)} " in run.stdout  # the status filter keeps every valid response
    assert "svyciprop" in markdown and "library(survey)" in markdown


def _read_export(path: Path) -> list[dict[str, object]]:
    from tests.services.exports_files.conftest import read_back

    return read_back(path.suffix.lstrip("."), path)
