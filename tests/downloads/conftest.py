"""Fixtures for the downloads pages: exports written to a temporary directory, jobs run inline unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def export_dir(staff_app: Flask, tmp_path: Path) -> Path:
    """Exports go to a fresh directory and run synchronously (deterministic tests)."""
    folder = tmp_path / "exports"
    staff_app.config["EXPORT_DIR"] = str(folder)
    staff_app.config["EXPORT_JOBS_INLINE"] = True
    return folder
