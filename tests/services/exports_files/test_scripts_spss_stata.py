"""``analysis.sps`` (run in PSPP: weighted shares) and ``analysis.do`` (untested: no Stata) in export bundles.

.sav bundles carry the syntax, .dta bundles the do-file, CSV and Excel bundles both. PSPP runs the syntax of
the .sav and CSV bundles (it cannot read .xlsx: that read step is SPSS-only and says so). The PSPP tests skip
without ``pspp`` unless ``SIPAS_REQUIRE_R=1``, when they fail instead.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest


def _unzip(bundle: Path, into: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(into)
    (folder,) = [p for p in into.iterdir() if p.is_dir()]
    return folder


def _published_shares(folder: Path) -> dict[str, float]:
    with (folder / "indices.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r["target"]: float(r["estimate"]) for r in rows if r["level"] == "criterion" and r["kind"] == "share"}


@pytest.mark.parametrize("fmt", ["sav", "csv"])
def test_pspp_runs_analysis_sps_and_its_weighted_shares_are_the_published_ones(
    export_demo, export_cli, tmp_path, fmt
) -> None:  # type: ignore[no-untyped-def]
    pspp = shutil.which("pspp")
    if pspp is None:
        if os.environ.get("SIPAS_REQUIRE_R") == "1":
            pytest.fail("pspp is required (SIPAS_REQUIRE_R=1) but missing")
        pytest.skip("pspp is not installed")
    result, out = export_cli(fmt, "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    folder = _unzip(out, tmp_path / "unzipped")
    script = (folder / "analysis.sps").read_text(encoding="utf-8")
    assert "Complex Samples" in script and "UNTESTED" in script
    assert ("GET DATA /TYPE=TXT" in script) == (fmt == "csv")
    run = subprocess.run([pspp, "analysis.sps"], cwd=folder, capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "error" not in run.stdout.lower(), run.stdout + run.stderr
    with (folder / "shares-spss.csv").open(encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    published = _published_shares(folder)
    assert len(published) > 10
    for item, share in published.items():
        assert float(row[f"s_{item}"]) == pytest.approx(share, abs=1e-12), item


def test_a_stata_bundle_carries_a_do_file_that_says_it_is_untested(export_demo, export_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("dta", "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    folder = _unzip(out, tmp_path / "unzipped")
    do_file = (folder / "analysis.do").read_text(encoding="utf-8")
    first, *rest = do_file.splitlines()
    assert first.startswith("* UNTESTED")
    data = next(p.name for p in folder.iterdir() if p.suffix == ".dta")
    assert f'use "{data}", clear' in rest and "keep if status == 1" in rest
    assert any(line.startswith("svyset psu [pweight = weight], strata(stratum)") for line in rest)
    assert not (folder / "analysis.sps").exists()


def test_the_readme_lists_the_scripts_of_the_bundle(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("sav", "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        readme = zf.read(next(n for n in zf.namelist() if n.endswith("/README.txt"))).decode()
    assert "analysis.R " in readme and "analysis.sps " in readme and "analysis.do" not in readme


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_csv_and_excel_bundles_carry_both_scripts_reading_their_own_file(
    export_demo, export_cli, tmp_path, fmt
) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli(fmt, "--bundle", name="bundle.zip")
    assert result.exit_code == 0, result.output
    folder = _unzip(out, tmp_path / "unzipped")
    data = next(p.name for p in folder.iterdir() if p.suffix == f".{fmt}" and p.name.startswith("sipas-responses"))
    sps = (folder / "analysis.sps").read_text(encoding="utf-8")
    do_lines = (folder / "analysis.do").read_text(encoding="utf-8").splitlines()
    assert do_lines[0].startswith("* UNTESTED")
    assert 'keep if status == "valid"' in do_lines and "SELECT IF (status = 'valid')." in sps
    assert any(line.startswith("mvdecode q01 ") and line.endswith("mv(8=.a \\ 9=.b)") for line in do_lines)
    if fmt == "csv":
        assert f"GET DATA /TYPE=TXT /FILE='{data}' /ENCODING='UTF-8'" in sps
        assert any(line.startswith(f'import delimited using "{data}", clear encoding("utf-8")') for line in do_lines)
    else:
        assert f"GET DATA /TYPE=XLSX /FILE='{data}' /SHEET=NAME 'data'" in sps
        assert "PSPP 1.6 cannot read .xlsx" in sps and "UNTESTED read step" in sps.splitlines()[1]
        assert f'import excel using "{data}", sheet("data") firstrow clear' in do_lines
    with zipfile.ZipFile(out) as zf:
        readme = zf.read(next(n for n in zf.namelist() if n.endswith("/README.txt"))).decode()
    assert "analysis.sps " in readme and "analysis.do " in readme
