"""``python -m analytics estimate``: JSON output and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.cli import main

ROOT = Path(__file__).resolve().parents[2]
BASE = ["--items", "score,q2", "--weight", "w", "--strata", "stratum", "--psu", "psu"]


@pytest.fixture(autouse=True, params=["pandas", "stdlib"])
def csv_reader(request, monkeypatch):
    """Every CLI test runs with both CSV readers: pandas' parser and the csv-module fallback."""
    if request.param == "stdlib":
        monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    return request.param


def run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_estimate_prints_design_and_estimates(capsys, golden_csv, tmp_path):
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({"access": ["score"], "staff": ["score", "q2"]}))
    code, out, _ = run(capsys, ["estimate", str(golden_csv), *BASE, "--groups", str(groups), "--by", "gender"])
    assert code == 0
    data = json.loads(out)
    assert data["design"]["n"] == 26 and data["design"]["df"] == 5 and data["design"]["psus"] == 8
    assert data["design"]["kish_n_eff"] == pytest.approx(19.6786448644, rel=1e-9)
    keys = {(tuple(e["domain"].items()), e["target"], e["kind"]) for e in data["estimates"]}
    for dom in ((), (("gender", "F"),), (("gender", "M"),)):
        for target in ("score", "q2", "access", "staff", "overall"):
            for kind in ("share", "mean"):
                assert (dom, target, kind) in keys
    first = next(e for e in data["estimates"] if e["domain"] == {"gender": "F"} and e["target"] == "score")
    assert first["estimate"] == pytest.approx(0.7634069401, rel=1e-9)
    assert first["ci"][0] == pytest.approx(0.2876029315, rel=1e-9)
    assert first["ci_method"] == "korn-graubard-nchs"
    assert {f["code"] for f in first["flags"]} >= {"suppress_small_n_eff", "low_df"}
    overall = next(e for e in data["estimates"] if e["domain"] == {} and e["target"] == "overall")
    staff = next(e for e in data["estimates"] if e["domain"] == {} and e["target"] == "staff")
    access = next(e for e in data["estimates"] if e["domain"] == {} and e["target"] == "access")
    assert overall["estimate"] == pytest.approx((staff["estimate"] + access["estimate"]) / 2)


@pytest.mark.parametrize(
    ("method", "lo"),
    [("mean", 0.6409661491), ("xlogit", 0.4720075219), ("asin", 0.5767254402), ("beta", 0.5018554178)],
    ids=str,
)
def test_ci_option_r_compatible(capsys, golden_csv, method, lo):
    argv = ["estimate", str(golden_csv), "--items", "score", "--weight", "w", "--strata", "stratum"]
    code, out, _ = run(capsys, [*argv, "--psu", "psu", "--ci", method, "--r-compatible"])
    assert code == 0
    est = json.loads(out)["estimates"][0]
    assert est["ci"][0] == pytest.approx(lo, rel=1e-9)


def write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("csv_text", "argv", "message"),
    [
        pytest.param(
            "w,q1\n1,5\n", ["--items", "q1,q9", "--weight", "w"], "column 'q9' not found", id="missing-column"
        ),
        pytest.param("w,q1\n1,5\nabc,4\n", ["--items", "q1", "--weight", "w"], "'w', line 3: 'abc'", id="bad-weight"),
        pytest.param("w,q1\n1,5\n1,7\n", ["--items", "q1", "--weight", "w"], "'q1', line 3: score '7'", id="score-7"),
        pytest.param(
            "w,q1,s,p\n1,5,A,1\n1,4,A,2\n1,4,B,3\n",
            ["--items", "q1", "--weight", "w", "--strata", "s", "--psu", "p"],
            "stratum 'B' has only one PSU",
            id="lonely-psu",
        ),
    ],
)
def test_errors_exit_2_with_one_line(capsys, tmp_path, csv_text, argv, message):
    code, out, err = run(capsys, ["estimate", write(tmp_path, csv_text), *argv])
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1


def test_blank_means_no_answer_and_lonely_option(capsys, tmp_path):
    path = write(tmp_path, "w,q1,s,p\n1,5,A,1\n2,,A,2\n1,4,B,3\n3,2,A,2\n")
    argv = ["estimate", path, "--items", "q1", "--weight", "w", "--strata", "s", "--psu", "p"]
    code, out, _ = run(capsys, [*argv, "--lonely-psu", "certainty"])
    assert code == 0
    est = json.loads(out)["estimates"][0]
    assert est["n"] == 3
    assert est["estimate"] == pytest.approx(2 / 5)


def test_module_entry_point_runs_as_subprocess(golden_csv):
    out = subprocess.run(
        [sys.executable, "-m", "analytics", "estimate", str(golden_csv), *BASE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["design"]["strata"] == 3
