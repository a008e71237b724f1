"""``flask --app wsgi import-instrument`` / ``export-instrument``, run as a user runs them (a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import environ_for

ROOT = Path(__file__).resolve().parents[2]


def _flask(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": "/usr/bin:/bin", **environ_for(database_url)}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_then_import_gives_the_same_version_and_a_bad_file_stores_nothing(
    scratch_database_url: str, tmp_path: Path
) -> None:
    assert _flask(scratch_database_url, "db", "upgrade").returncode == 0
    assert _flask(scratch_database_url, "load-instruments").returncode == 0

    form = tmp_path / "sipas-2017.xlsx"
    exported = _flask(scratch_database_url, "export-instrument", "sipas-2017:1", "--output", str(form))
    assert exported.returncode == 0, exported.stderr
    assert "Wrote sipas-2017 v1" in exported.stdout
    again = _flask(scratch_database_url, "import-instrument", str(form))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("unchanged: sipas-2017 v1 (22 criteria in 5 elements")

    # The same form as a new version: stored, and its TOML export imports to the same digest.
    book = load_workbook(form)
    book["settings"]["C2"] = "2"
    book.save(tmp_path / "v2.xlsx")
    added = _flask(scratch_database_url, "import-instrument", str(tmp_path / "v2.xlsx"))
    assert added.returncode == 0 and added.stdout.startswith("added: sipas-2017 v2"), added.stderr
    toml = tmp_path / "v2.toml"
    assert (
        _flask(
            scratch_database_url, "export-instrument", "sipas-2017:2", "--format", "toml", "--output", str(toml)
        ).returncode
        == 0
    )
    digest = added.stdout.rsplit("digest ", 1)[1].strip(")\n")
    assert f"digest {digest}" in _flask(scratch_database_url, "import-instrument", str(toml)).stdout

    # As a draft: saved, then replaced by the same upload; a published version is refused as a draft.
    book["settings"]["C2"] = "4"
    book.save(tmp_path / "v4.xlsx")
    assert _flask(scratch_database_url, "import-instrument", "--draft", str(tmp_path / "v4.xlsx")).stdout.startswith(
        "draft saved: sipas-2017 v4"
    )
    replaced = _flask(scratch_database_url, "import-instrument", "--draft", str(tmp_path / "v4.xlsx"))
    assert replaced.stdout.startswith("draft replaced: sipas-2017 v4"), replaced.stderr
    frozen = _flask(scratch_database_url, "import-instrument", "--draft", str(tmp_path / "v2.xlsx"))
    assert frozen.returncode == 2 and "save the change as version 3" in frozen.stderr

    # A form with problems: every one on its own line with sheet and row, exit 2, nothing stored.
    survey = book["survey"]
    survey["A3"] = "text"
    survey["E4"] = "perhaps"
    book["settings"]["C2"] = "3"
    book.save(tmp_path / "bad.xlsx")
    refused = _flask(scratch_database_url, "import-instrument", str(tmp_path / "bad.xlsx"))
    assert refused.returncode == 2 and refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert "bad.xlsx: survey sheet, row 3: type 'text' is not supported" in lines[0]
    assert any("survey sheet, row 4: 'required' must be yes or no" in line for line in lines)
    missing = _flask(scratch_database_url, "export-instrument", "sipas-2017:3", "--output", str(tmp_path / "v3.xlsx"))
    assert missing.returncode == 2 and "no questionnaire version 'sipas-2017:3' is stored" in missing.stderr
