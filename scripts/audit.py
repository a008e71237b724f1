"""Dependency audit: pip-audit over the pinned runtime requirements, honest about what it could not check.

    python scripts/audit.py [requirements.txt]      # SIPAS_AUDIT_STRICT=1: an unreachable service fails

Exit 0: no known vulnerability (or the advisory service was unreachable and strict mode is off: a
WARNING says so). Exit 1: a pinned package has a known vulnerability. Exit 2: strict mode and some
packages could not be checked. pip-audit itself reports "No known vulnerabilities found" even when it
could not reach PyPI and skipped every package, which is why this wrapper reads its JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PIP_AUDIT = str(Path(sys.executable).with_name("pip-audit"))


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main() -> int:
    requirements = sys.argv[1] if len(sys.argv) > 1 else "requirements.txt"
    strict = os.environ.get("SIPAS_AUDIT_STRICT", "") in ("1", "true", "yes")
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "audit.json"
        # Every pin is exact (requirements.txt is compiled), so no resolver run is needed: --no-deps --disable-pip.
        completed = subprocess.run(  # noqa: S603  (fixed arguments)
            [PIP_AUDIT, "-r", requirements, "--no-deps", "--disable-pip", "--progress-spinner", "off"]
            + ["--format", "json", "--output", str(report_path)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        report = json.loads(report_path.read_text()) if report_path.exists() else None
    if report is None:
        reason = (completed.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return _unreachable(strict, f"pip-audit could not run its queries ({reason})")
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            _say(f"VULNERABLE {dep['name']} {dep.get('version', '')}: {vuln.get('id')} (fixed in: {fixes})")
    if vulnerable:
        _say(f"audit: {len(vulnerable)} of {len(dependencies)} pinned packages have known vulnerabilities")
        return 1
    checked = len(dependencies) - len(skipped)
    if skipped:
        names = ", ".join(d["name"] for d in skipped[:8]) + (" …" if len(skipped) > 8 else "")
        return _unreachable(strict, f"{len(skipped)} of {len(dependencies)} packages could not be checked ({names})")
    _say(f"audit: {checked} pinned packages checked, no known vulnerabilities")
    return 0


def _unreachable(strict: bool, what: str) -> int:
    if strict:
        _say(f"audit: FAILED: {what}; the advisory service must be reachable when SIPAS_AUDIT_STRICT=1")
        return 2
    _say(f"audit: WARNING: {what}. The dependency audit did NOT run; set SIPAS_AUDIT_STRICT=1 to fail instead.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
