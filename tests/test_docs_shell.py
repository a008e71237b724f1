"""The shell blocks of docs/production.md run when pasted: bash parses them, and a backslash only ever
continues a line (a comment after ``\\`` ends the command there: "--timeout: command not found")."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "production.md"
_BLOCK = re.compile(r"^```(?:sh|bash|shell)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def shell_blocks(text: str) -> list[str]:
    return _BLOCK.findall(text)


def test_the_doc_has_shell_blocks_including_the_gunicorn_command() -> None:
    blocks = shell_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    assert any("gunicorn wsgi:app" in block for block in blocks)


def test_a_backslash_is_only_ever_a_line_continuation() -> None:
    for block in shell_blocks(DOC.read_text(encoding="utf-8")):
        for line in block.splitlines():
            assert "\\" not in line.rstrip("\\") and not line.endswith("\\ "), line
            assert not re.search(r"\\[^\n]", line + "\n"), line


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_every_shell_block_parses_with_bash() -> None:
    for block in shell_blocks(DOC.read_text(encoding="utf-8")):
        done = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True, timeout=10)  # noqa: S607
        assert done.returncode == 0, (block, done.stderr)


def test_the_gunicorn_block_pasted_runs_one_command_with_every_option() -> None:
    """Run the block with ``gunicorn`` replaced by a function that prints its arguments."""
    block = next(b for b in shell_blocks(DOC.read_text(encoding="utf-8")) if "gunicorn wsgi:app" in b)
    script = 'gunicorn() { printf "%s\\n" "$@"; }\n' + block
    done = subprocess.run(["bash", "-e"], input=script, capture_output=True, text=True, timeout=10)  # noqa: S607
    assert done.returncode == 0 and done.stderr == "", done.stderr
    args = done.stdout.split()
    for option in (
        "--config",
        "--timeout",
        "--graceful-timeout",
        "--max-requests",
        "--keep-alive",
        "--no-control-socket",
    ):
        assert option in args, option


def test_every_setting_the_app_reads_is_in_the_readme_configuration_table() -> None:
    config = (Path(__file__).resolve().parent.parent / "survey" / "config.py").read_text(encoding="utf-8")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(SIPAS_[A-Z_]+)`", table))
    read = set(re.findall(r"\"(SIPAS_[A-Z_]+)\"", config))
    assert read - documented == set()
