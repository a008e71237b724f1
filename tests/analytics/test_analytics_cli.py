"""``python -m analytics estimate``: JSON output and one-line errors with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from analytics.cli import main

ROOT = Path(__file__).resolve().parents[2]
BASE = ["--items", "score,q2", "--weight", "w", "--strata", "stratum", "--psu", "psu"]


#: The CSV readers: pyarrow's typed reader (the default), pandas' parser (pyarrow blocked) and the csv module.
READERS = ["pyarrow", "pandas", "stdlib"]


@pytest.fixture(params=READERS)
def csv_reader(request, monkeypatch):
    """A test using it runs with every CSV reader (in this process; :func:`cli` runs a subprocess with the
    reader it is given)."""
    if request.param in ("pandas", "stdlib"):
        monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
        monkeypatch.setitem(sys.modules, "pyarrow.csv", None)
    if request.param == "stdlib":
        monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    return request.param


def run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_estimate_prints_design_and_estimates(csv_reader, capsys, golden_csv, tmp_path):
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
    # suppressed: the suppression flag only (no low_df on a suppressed value, NCHS as surveytable codes it)
    assert [f["code"] for f in first["flags"]] == ["suppress_small_n_eff"]
    overall = next(e for e in data["estimates"] if e["domain"] == {} and e["target"] == "overall")
    staff = next(e for e in data["estimates"] if e["domain"] == {} and e["target"] == "staff")
    access = next(e for e in data["estimates"] if e["domain"] == {} and e["target"] == "access")
    assert overall["estimate"] == pytest.approx((staff["estimate"] + access["estimate"]) / 2)


@pytest.mark.parametrize(
    ("method", "lo"),
    [("mean", 0.6409661491), ("xlogit", 0.4720075219), ("asin", 0.5767254402), ("beta", 0.5018554178)],
    ids=str,
)
def test_ci_option_r_compatible(csv_reader, capsys, golden_csv, method, lo):
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
def test_errors_exit_2_with_one_line(csv_reader, capsys, tmp_path, csv_text, argv, message):
    code, out, err = run(capsys, ["estimate", write(tmp_path, csv_text), *argv])
    assert code == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1


def test_blank_means_no_answer_and_lonely_option(csv_reader, capsys, tmp_path):
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


# -- the command line as a user runs it: a subprocess, with each CSV reader ------------------------------------

#: Runs the command line with the named modules unimportable, so another reader does the work.
WITHOUT = (
    "import sys; sys.modules.update(dict.fromkeys({}, None)); "
    "from analytics.cli import main; sys.exit(main(sys.argv[1:]))"
)
BLOCKED = {"pyarrow": [], "pandas": ["pyarrow", "pyarrow.csv"], "stdlib": ["pyarrow", "pyarrow.csv", "pandas"]}


def cli(reader: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m analytics ARGS`` in a subprocess (with another reader: the same main, modules blocked)."""
    blocked = BLOCKED[reader]
    head = [sys.executable, "-m", "analytics"] if not blocked else [sys.executable, "-c", WITHOUT.format(blocked)]
    return subprocess.run([*head, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)


def one_line_error(proc: subprocess.CompletedProcess[str], message: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert message in proc.stderr, proc.stderr


def write_bytes(tmp_path: Path, data: bytes, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


ITEMS_W = ["--items", "q1,q2", "--weight", "w"]


BAD_INPUT = [
    pytest.param(
        b"w,q1,q2\n0,5,4\n0,3,4\n0,1,2\n", ITEMS_W, "weight column 'w': every weight is zero", id="zero-weights"
    ),
    pytest.param(
        b"w,q1,q2,note\n1,5,4,ok\n1,4,4,T\xf4t\n",  # "Tôt" in cp1258
        ITEMS_W,
        "line 3: byte 0xf4 is not utf-8-sig text",
        id="not-utf8",
    ),
    pytest.param(b"", ITEMS_W, "data.csv is empty: no header row", id="empty-file"),
    pytest.param(b"\xef\xbb\xbf\r\n", ITEMS_W, "data.csv is empty: no header row", id="bom-only"),
    pytest.param(b"w,q1,q2\n", ITEMS_W, "data.csv has no data rows", id="header-only"),
    pytest.param(
        b"w;q1;q2\n1;5;4\n2;4;3\n",
        ITEMS_W,
        "the file looks semicolon-delimited; pass --delimiter ';'",
        id="semicolon",
    ),
    pytest.param(b"w\tq1\tq2\n1\t5\t4\n", ITEMS_W, "the file looks tab-delimited; pass --delimiter 'tab'", id="tab"),
    pytest.param(
        b"w,q1,q2\n1,5,4\n1,4\n1,3,3\n", ITEMS_W, "line 3: 2 fields, the header has 3 (short row", id="short-row"
    ),
    pytest.param(
        b'w,q1,q2,c\n1,5,4,"a, b"\n1,4,4\n',
        [*ITEMS_W],
        "line 3: 3 fields, the header has 4",
        id="short-after-quote",
    ),
    pytest.param(
        b"w,q1,q2\n1,5,4\n1,4,3,7\n", ITEMS_W, "line 3: 4 fields, the header has 3 (more fields", id="long-row"
    ),
    pytest.param(b"w,q1,q2\n1,5,4\n\n1,3,3\n", ITEMS_W, "line 3 is empty (the header has 3 fields)", id="blank-line"),
    pytest.param(
        b"w,q1,q2\n1,5,4\n,3,3\n", ITEMS_W, "weight column 'w', line 3: the value is blank", id="blank-weight"
    ),
    pytest.param(
        b"w,q1,q2\n1,5,4\n1,7,3\n", ITEMS_W, "item column 'q1', line 3: score '7' is outside 1-5", id="score-7"
    ),
    pytest.param(
        b"w,q1,q2\n1,5,4\n1,6,3\n", ITEMS_W, "item column 'q1', line 3: score '6' is outside 1-5", id="score-6"
    ),
    pytest.param(  # the parsed column is filtered by --status, then its text names the line of the file
        b"w,q1,q2,s\n1,5,4,ok\n1,6,3,no\n1,5,5,ok\n2,06,1,ok\n",
        [*ITEMS_W, "--status", "s=ok"],
        "item column 'q1', line 5: score '06' is outside 1-5",
        id="score-06-after-status",
    ),
    pytest.param(b"w,q1,q2\n1,5,4\n", ["--weight", "w"], "--items is required without --codebook", id="no-items"),
    pytest.param(b"w,q1,q2\n1,5,4\n", [*ITEMS_W, "--delimiter", ";;"], "--delimiter must be one character", id="delim"),
    pytest.param(
        b"w,q1,q2\n1,5,4\n", [*ITEMS_W, "--encoding", "klingon"], "unknown encoding 'klingon'", id="bad-encoding"
    ),
    pytest.param(b"w,q1,q2,s\n1,5,4,x\n", [*ITEMS_W, "--status", "s=valid"], "no row of", id="status-matches-nothing"),
    pytest.param(
        b"w,q1,q2,a,b\n1,5,4,1,1\n",
        [*ITEMS_W, "--psu", "a", "--fpc", "a,b"],
        "--fpc names 2 columns but the design has 1 stage(s)",
        id="fpc-stages",
    ),
]


@pytest.fixture(scope="module")
def bad_input_runs(tmp_path_factory) -> dict[tuple[bytes, tuple[str, ...], str], subprocess.CompletedProcess[str]]:
    """Every bad-input case with each reader, run concurrently (each is a Python interpreter starting)."""
    jobs = {}
    for case in BAD_INPUT:
        data, argv, _message = case.values
        path = write_bytes(tmp_path_factory.mktemp(str(case.id)), data)
        for reader in READERS:
            jobs[(data, tuple(argv), reader)] = (reader, "estimate", path, *argv)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip(jobs, pool.map(lambda args: cli(*args), jobs.values()), strict=True))


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("data", "argv", "message"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line_naming_the_problem(bad_input_runs, reader, data, argv, message):
    one_line_error(bad_input_runs[(data, tuple(argv), reader)], message)


def test_a_semicolon_file_is_read_with_delimiter_and_gives_the_comma_files_numbers(tmp_path, csv_reader):
    reader = csv_reader
    rows = ["w,q1,q2,s,p", "1,5,4,A,1", "2,4,,A,2", "1.5,2,3,B,3", "3,9,5,B,4", "1,8,1,B,4"]
    comma = write_bytes(tmp_path, ("\n".join(rows) + "\n").encode(), "comma.csv")
    semi = write_bytes(tmp_path, ("\n".join(r.replace(",", ";") for r in rows) + "\n").encode(), "semi.csv")
    argv = [*ITEMS_W, "--strata", "s", "--psu", "p"]
    a, b = cli(reader, "estimate", comma, *argv), cli(reader, "estimate", semi, *argv, "--delimiter", ";")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert json.loads(a.stdout)["estimates"] == json.loads(b.stdout)["estimates"]


def test_export_codes_8_and_9_are_no_answer_and_trailing_blank_lines_are_ignored(tmp_path, csv_reader):
    reader = csv_reader
    # 8 = not applicable, 9 = not answered (the export's codes), blank = no answer; quoted text may hold commas.
    text = 'w,q1,q2,note\n1,5,9,"a, b"\n1,8,4,\n2,4,9,x\n1,2,8,"say ""hi"""\n\n\n'
    proc = cli(reader, "estimate", write_bytes(tmp_path, text.encode()), *ITEMS_W)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["data"]["rows_read"] == 4 and out["data"]["missing_codes"] == [8, 9]
    q1 = next(e for e in out["estimates"] if e["target"] == "q1" and e["kind"] == "share")
    q2 = next(e for e in out["estimates"] if e["target"] == "q2" and e["kind"] == "mean")
    assert q1["n"] == 3 and q1["estimate"] == pytest.approx(3 / 4)  # (1·[5] + 2·[4]) / (1 + 2 + 1)
    assert q2["n"] == 1 and q2["estimate"] == pytest.approx(4.0)
    none = cli(reader, "estimate", str(tmp_path / "data.csv"), *ITEMS_W, "--missing-codes", "none")
    one_line_error(none, "item column 'q1', line 3: score '8' is outside 1-5")


def test_a_utf8_file_with_vietnamese_labels_and_another_encoding_on_request(tmp_path):
    # Written as cp1258 spells them: ê plus a combining tone mark (ệ, ễ), ư precomposed.
    huyen, vien = "huy\u00ea\u0323n", "Vi\u00ea\u0303n"
    text = f"w,q1,q2,{huyen}\n1,5,4,Hoa Lư\n1,3,4,Hoa Lư\n2,4,2,Gia {vien}\n2,5,5,Gia {vien}\n"
    utf8 = cli("pyarrow", "estimate", write_bytes(tmp_path, text.encode(), "u.csv"), *ITEMS_W, "--by", huyen)
    cp = write_bytes(tmp_path, text.encode("cp1258"), "c.csv")
    for reader in READERS:
        other = cli(reader, "estimate", cp, *ITEMS_W, "--by", huyen, "--encoding", "cp1258")
        assert other.returncode == 0, other.stderr
        assert json.loads(other.stdout)["estimates"] == json.loads(utf8.stdout)["estimates"]
    assert utf8.returncode == 0, utf8.stderr
    domains = {e["domain"].get(huyen) for e in json.loads(utf8.stdout)["estimates"]}
    assert domains == {None, "Hoa Lư", f"Gia {vien}"}


def test_help_is_plain_text_with_two_examples():
    proc = cli("pyarrow", "estimate", "--help")
    assert proc.returncode == 0
    text = proc.stdout
    assert "``" not in text and ":mod:" not in text and ":func:" not in text
    examples = text.split("examples:", 1)[1]
    assert examples.count("python -m analytics estimate") == 2
    assert "--codebook export.codebook.json" in examples and "--psu school,class" in examples
    assert "Exit status: 0 success; 2 bad input" in text
    assert "{fail,certainty,remove,average,adjust}" in text  # analytics.design.LONELY_PSU_OPTIONS
    top = cli("pyarrow", "--help")
    assert top.returncode == 0 and "``" not in top.stdout


def test_lonely_psu_choices_are_the_design_modules():
    from analytics.cli import _parser
    from analytics.design import LONELY_PSU_OPTIONS

    action = next(
        a for a in _parser()._subparsers._group_actions[0].choices["estimate"]._actions if a.dest == "lonely_psu"
    )  # type: ignore[union-attr]
    assert tuple(action.choices) == LONELY_PSU_OPTIONS


def test_design_df_counts_only_psus_with_a_non_zero_weight(capsys, tmp_path):
    # Stratum A: PSUs 1, 2, 3 (PSU 3's only respondent weighs 0); stratum B: PSUs 4, 5; stratum C: PSU 6 weighs 0.
    text = "w,q1,s,p\n1,5,A,1\n2,4,A,2\n0,3,A,3\n1,2,B,4\n1,5,B,5\n2,4,B,5\n0,4,C,6\n"
    argv = ["estimate", write(tmp_path, text), "--items", "q1", "--weight", "w", "--strata", "s", "--psu", "p"]
    code, out, err = run(capsys, [*argv, "--lonely-psu", "certainty"])
    assert code == 0, err
    design = json.loads(out)["design"]
    assert design["psus"] == 6 and design["strata"] == 3
    assert design["df"] == (2 + 2) - 2  # R degf: PSUs 1, 2, 4, 5 minus strata A, B


def _apiclus2_like(tmp_path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Two-stage cluster sample (districts, then schools within them) with both stages' population sizes."""
    rng = np.random.default_rng(20)
    rows = []
    for d in range(8):  # 8 of 40 districts
        n_schools = int(rng.integers(2, 5))
        for s in range(n_schools):  # n_schools of N_d schools, N_d in the data
            size = int(rng.integers(2, 6))
            for _ in range(size):
                rows.append((d, f"{d}-{s}", 40, n_schools + 3, n_schools, *rng.integers(1, 6, size=2)))
    cols = {
        "dnum": np.array([r[0] for r in rows]),
        "snum": np.array([r[1] for r in rows]),
        "fpc1": np.array([r[2] for r in rows], dtype=float),
        "fpc2": np.array([r[3] for r in rows], dtype=float),
        "q1": np.array([r[5] for r in rows], dtype=float),
        "q2": np.array([r[6] for r in rows], dtype=float),
    }
    cols["w"] = 40 / 8 * cols["fpc2"] / np.array([r[4] for r in rows], dtype=float)  # 1 / (π_district π_school)
    lines = ["dnum,snum,fpc1,fpc2,w,q1,q2"]
    lines += [
        f"{d},{s},{f1:g},{f2:g},{float(w)!r},{int(a)},{int(b)}"
        for d, s, f1, f2, w, a, b in zip(
            *(cols[k] for k in ("dnum", "snum", "fpc1", "fpc2", "w", "q1", "q2")), strict=True
        )
    ]
    path = tmp_path / "apiclus2.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path), cols


def test_multistage_psu_and_fpc_columns_reach_the_design(tmp_path):
    """``--psu A,B --fpc F1,F2`` is the library's two-stage design (stage 1 first); the second stage adds variance."""
    from analytics.design import Design
    from analytics.estimators import composite_specs, estimate_from_rows

    path, c = _apiclus2_like(tmp_path)
    argv = ["estimate", path, "--items", "q1,q2", "--weight", "w", "--psu", "dnum,snum", "--fpc", "fpc1,fpc2"]
    proc = cli("pyarrow", *argv)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["design"]["psu_columns"] == ["dnum", "snum"] and out["design"]["fpc_columns"] == ["fpc1", "fpc2"]
    assert out["design"]["df"] == 8 - 1
    stages = [c["dnum"].astype(str), c["snum"].astype(str)]
    design = Design.from_rows(None, psu=stages, fpc=[c["fpc1"], c["fpc2"]], lonely_psu="fail", n_rows=len(c["w"]))
    scores = np.column_stack([c["q1"], c["q2"]])
    specs = composite_specs({"overall": ["q1", "q2"]}, overall=None)
    lib = estimate_from_rows(c["w"], scores, ["q1", "q2"], psu=stages, design=design, composites=specs)
    for e in out["estimates"]:
        want = lib.get(None, e["target"], e["kind"])
        assert e["estimate"] == pytest.approx(want.estimate, rel=1e-12)
        assert e["se"] == pytest.approx(want.se, rel=1e-12)
    one_stage = cli("pyarrow", "estimate", path, "--items", "q1,q2", "--weight", "w", "--psu", "dnum", "--fpc", "fpc1")
    assert one_stage.returncode == 0, one_stage.stderr
    first = {(e["target"], e["kind"]): e["se"] for e in json.loads(one_stage.stdout)["estimates"]}
    # With a sampling fraction of 1/5 at stage 1, the within-district stage contributes (R's multistage variance).
    assert all(e["se"] > first[(e["target"], e["kind"])] for e in out["estimates"])
    # Fewer fpc columns than stages is allowed.
    fewer = cli("pyarrow", *argv[:-2], "--fpc", "fpc1")
    assert fewer.returncode == 0, fewer.stderr


def test_lonely_psu_adjust_is_offered(tmp_path):
    text = "w,q1,s,p\n1,5,A,1\n1,4,A,2\n1,4,B,3\n1,2,C,4\n1,3,C,5\n"
    argv = ["estimate", write(tmp_path, text), "--items", "q1", "--weight", "w", "--strata", "s", "--psu", "p"]
    proc = cli("pyarrow", *argv, "--lonely-psu", "adjust")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["design"]["lonely_psu"] == "adjust"


def test_status_filter_and_row_numbers_of_the_rows_kept(tmp_path):
    text = "w,q1,status\n1,5,valid\n,2,excluded\n2,4,valid\n1,x,valid\n"
    argv = ["estimate", write(tmp_path, text), "--items", "q1", "--weight", "w", "--status", "status=valid"]
    one_line_error(cli("pyarrow", *argv), "item column 'q1', line 5: 'x' is not a number")
    path = write(tmp_path, text.replace("1,x,valid\n", ""))
    proc = cli("stdlib", "estimate", path, "--items", "q1", "--weight", "w", "--status", "status=valid")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["data"]["rows_read"], out["data"]["rows_used"]) == (3, 2)
    assert out["estimates"][0]["estimate"] == pytest.approx(1.0)
    one_line_error(cli("stdlib", "estimate", path, "--items", "q1", "--weight", "w"), "line 3: the value is blank")


def _codebook(tmp_path: Path, **changes: object) -> Path:
    book: dict[str, object] = {
        "schema": "sipas-export-codebook",
        "schema_version": "1.0",
        "data_file": "data.csv",
        "instrument": {"label": "test v1"},
        "period": {"from": "2026-01-01", "to": "2026-01-31"},
        "status": {"column": "status", "valid": "valid"},
        "design": {"weight": "w", "strata": "s", "psu": ["p"], "fpc": [], "lonely_psu": "certainty"},
        "scale": {"valid_codes": [1, 2, 3, 4, 5], "satisfied_from": 4},
        "items": [
            {"column": q, "valid_codes": [1, 2, 3, 4, 5], "missing_codes": {"8": "not_applicable", "9": "not_answered"}}
            for q in ("q1", "q2", "q3")
        ],
        "groups": {
            "definition": "A",
            "elements": {"e1": {"weight": 3, "items": {"q1": 1, "q2": 3}}, "e2": {"weight": 1, "items": {"q3": 1}}},
            "overall": {"name": "overall"},
        },
        "csv": {"delimiter": ";", "encoding": "utf-8-sig", "quotechar": '"'},
    }
    book.update(changes)
    path = tmp_path / "data.codebook.json"
    path.write_text(json.dumps(book))
    return path


CODEBOOK_DATA = "w;q1;q2;q3;s;p;status\n1;5;4;9;A;1;valid\n2;4;8;2;A;2;valid\n;1;1;1;A;2;excluded\n1;2;5;4;B;3;valid\n"


def test_a_codebook_sets_items_groups_design_status_and_dialect(tmp_path):
    write(tmp_path, CODEBOOK_DATA)
    book = _codebook(tmp_path)
    proc = cli("stdlib", "estimate", "--codebook", str(book))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["data"]["rows_used"] == 3 and out["data"]["status"] == {"column": "status", "valid": "valid"}
    assert out["design"]["lonely_psu"] == "certainty" and out["design"]["strata"] == 2
    composites = {c["name"]: c["coefficients"] for c in out["composites"]}
    assert composites["e1"] == {"q1": 0.25, "q2": 0.75}
    assert composites["overall"] == pytest.approx({"q1": 0.1875, "q2": 0.5625, "q3": 0.25})
    est = {(e["target"], e["kind"]): e["estimate"] for e in out["estimates"]}
    assert est[("overall", "share")] == pytest.approx(0.75 * est[("e1", "share")] + 0.25 * est[("q3", "share")])
    # Explicit options win: another status filter, lonely rule and composite definition.
    over = cli(
        "pyarrow", "estimate", "--codebook", str(book), "--status", "all", "--lonely-psu", "remove", "--definition", "B"
    )
    one_line_error(over, "weight column 'w', line 4: the value is blank")
    again = cli("pyarrow", "estimate", "--codebook", str(book), "--lonely-psu", "remove", "--definition", "B")
    assert again.returncode == 0, again.stderr
    out2 = json.loads(again.stdout)
    assert out2["design"]["lonely_psu"] == "remove" and {c["definition"] for c in out2["composites"]} == {"B"}


def test_an_item_nobody_answered_drops_out_of_its_element_as_on_the_dashboard(tmp_path):
    write(tmp_path, CODEBOOK_DATA.replace("valid\n2;4;8;2", "valid\n2;4;8;9").replace("1;2;5;4;B", "1;2;5;8;B"))
    proc = cli("pyarrow", "estimate", "--codebook", str(_codebook(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["notes"] == ["no valid answers for q3: left out of the composites"]
    composites = {c["name"]: c["coefficients"] for c in out["composites"]}
    assert set(composites) == {"e1", "overall"} and composites["overall"] == composites["e1"]
    assert "q3" not in {e["target"] for e in out["estimates"]}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"schema_version": "2.0"}, "has codebook schema version 2.0; this reader understands 1.x", id="v2"
        ),
        pytest.param({"schema": "other"}, "is not a SIPAS export codebook", id="schema"),
        pytest.param({"design": {"strata": "s"}}, '"design.weight" is missing', id="no-weight"),
        pytest.param({"scale": {"satisfied_from": 3}}, "satisfied_from 3 is not supported", id="satisfied"),
        pytest.param(
            {"groups": {"elements": {"e": {"items": {"q7": 1}}}}}, "names 'q7', which is not in \"items\"", id="group"
        ),
    ],
)
def test_a_bad_codebook_exits_2_naming_the_key(tmp_path, changes, message):
    write(tmp_path, CODEBOOK_DATA)
    one_line_error(cli("pyarrow", "estimate", "--codebook", str(_codebook(tmp_path, **changes))), message)


def test_without_codebook_the_error_points_at_the_one_beside_the_data(tmp_path):
    path = write(tmp_path, CODEBOOK_DATA)
    _codebook(tmp_path)
    one_line_error(
        cli("pyarrow", "estimate", path), f"--items is required without --codebook; pass --codebook {tmp_path}"
    )
