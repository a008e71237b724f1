"""``python -m analytics estimate`` against R survey 4.1.1, case by case (tests/analytics/r_oracle/).

The expected results were generated once by ``Rscript tests/analytics/r_oracle/cli_cases.R`` (its
header gives the conventions) and are committed with the CSV files and the groups it wrote, so this
test never needs R. Each case of ``cli_expected.json`` is one command line, run as a user would run it
(a subprocess in the repository root); every estimate it prints is compared with R: estimate, SE and
CI to 1e-9 (the ``logit`` method's estimate and CI to 1e-8: R fits it by IRLS), df and n exactly, and
NaN (JSON null) exactly where R gives NaN. A case where R stops (a lonely stratum under the default
rule) must exit with status 2 naming the stratum.

The command lines run concurrently, once per session, because each starts a Python interpreter.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORACLE = json.loads((Path(__file__).with_name("r_oracle") / "cli_expected.json").read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = ORACLE["cases"]
WHOLE_SAMPLE = ORACLE["whole_sample_key"]
ITEMS = ("q1", "q2", "q3", "q4")
TOLERANCE = 1e-9
LOGIT_TOLERANCE = 1e-8


def _command(case: dict[str, Any]) -> list[str]:
    return [sys.executable, "-m", "analytics", "estimate", case["data"], *case["args"]]


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case's command line, run concurrently (one interpreter each)."""

    def run(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(_command(CASES[name]), cwd=ROOT, capture_output=True, text=True, timeout=300)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip(CASES, pool.map(run, CASES), strict=True))


def _by_column(case: dict[str, Any]) -> str:
    args = case["args"]
    return str(args[args.index("--by") + 1])


def _published(output: dict[str, Any], by: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The command line's estimates keyed like the oracle: (domain, target, kind)."""
    out = {}
    for e in output["estimates"]:
        domain = WHOLE_SAMPLE if not e["domain"] else str(e["domain"][by])
        out[(domain, e["target"], e["kind"])] = e
    return out


def _expected(case: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (domain, target, kind): record
        for domain, targets in case["estimates"].items()
        for target, kinds in targets.items()
        for kind, record in kinds.items()
    }


def _differences(key: tuple[str, str, str], want: dict[str, Any], got: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(quantity, |difference| (inf for a NaN mismatch or a wrong integer), description) beyond tolerance."""
    tol = LOGIT_TOLERANCE if want["method"] == "logit" else TOLERANCE
    label = "/".join(key)
    found = []
    for name in ("df", "n"):
        if got[name] != want[name]:
            found.append((name, math.inf, f"{label} {name}: {got[name]} != R {want[name]}"))
    pairs = [("estimate", want["estimate"], got["estimate"], tol), ("se", want["se"], got["se"], TOLERANCE)]
    pairs += [(f"ci[{i}]", want["ci"][i], got["ci"][i], tol) for i in (0, 1)]
    for name, r, ours, t in pairs:
        if r is None or ours is None:
            if (r is None) != (ours is None):
                found.append((name, math.inf, f"{label} {name}: {ours} where R gives {r}"))
            continue
        diff = abs(ours - r)
        if not diff <= t:
            found.append((name, diff, f"{label} {name}: {ours!r} vs R {r!r} (|diff| {diff:.3g})"))
    return found


def _report(problems: list[tuple[str, float, str]]) -> str:
    worst: dict[str, float] = {}
    for name, diff, _ in problems:
        worst[name] = max(worst.get(name, 0.0), diff)
    summary = ", ".join(f"{name} {diff:.3g}" for name, diff in sorted(worst.items()))
    lines = [text for _, _, text in problems[:25]]
    more = f"\n... and {len(problems) - 25} more" if len(problems) > 25 else ""
    return f"{len(problems)} differences from R (largest: {summary}):\n" + "\n".join(lines) + more


@pytest.mark.parametrize("name", list(CASES), ids=str)
def test_cli_matches_r(name: str, runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    case = CASES[name]
    proc = runs[name]
    if "error" in case:
        # R stops ("Stratum (LONE) has only one PSU at stage 1"): the command line refuses the design.
        stratum = case["error"].split("(")[1].split(")")[0]
        assert proc.returncode == 2, proc.stdout[-500:] + proc.stderr
        assert stratum in proc.stderr and proc.stderr.count("\n") == 1
        return
    assert proc.returncode == 0, proc.stderr
    output = json.loads(proc.stdout)
    assert output["design"]["n"] == case["design"]["n"]
    assert output["design"]["df"] == case["design"]["df"]
    expected = _expected(case)
    published = _published(output, _by_column(case))
    assert sorted(published) == sorted(expected), "the command line prints other estimates than the oracle has"
    problems = [p for key, want in expected.items() for p in _differences(key, want, published[key])]
    assert not problems, _report(problems)


def test_oracle_covers_the_conventions() -> None:
    """The committed oracle still holds what it is for (guards a regeneration that loses a case)."""
    domains = [targets for case in CASES.values() for targets in case.get("estimates", {}).values()]
    item_shares = [(kinds["share"], targets) for targets in domains for t, kinds in targets.items() if t in ITEMS]
    assert {r["method"] for r, _ in item_shares} == {"beta", "xlogit", "logit", "asin", "mean"}
    assert {r["estimate"] for r, _ in item_shares} >= {0, 1}
    assert any(r["ci"][0] is None for r, _ in item_shares)  # R's NaN at p = 0 or 1
    assert any(r["n"] <= 3 for r, _ in item_shares)  # a tiny domain
    # a PSU whose domain members all left the item blank: the item's df is below the domain's
    assert any(r["df"] < targets["overall"]["share"]["df"] for r, targets in item_shares)
    assert any("dnum,snum" in c["args"] and "fpc1,fpc2" in c["args"] for c in CASES.values())  # two stages
    assert {c["r_lonely_psu"] for c in CASES.values()} == {"fail", "certainty", "remove", "average", "adjust"}
