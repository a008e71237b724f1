"""analytics must stay a pure library: importing it never pulls in Flask or SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_analytics_imports_without_flask_or_sqlalchemy():
    code = (
        "import sys, analytics, analytics.cli, analytics.par, analytics.weighting, analytics.comparisons\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'werkzeug'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api_is_declared():
    import analytics

    for name in analytics.__all__:
        assert hasattr(analytics, name), name
