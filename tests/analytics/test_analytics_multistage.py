"""Variances against R survey 4.1.1: certainty strata, lonely PSUs ("adjust" included), multi-stage designs.

The expected figures come from ``r_oracle/design_cases.R`` (R's own ``api`` data and hand-made designs,
run once with Debian's r-cran-survey 4.1.1) and are stored in ``r_oracle/design_cases.json``; these
tests never need R. Conventions of the oracle are in the R script's header: item shares and mean
scores on ``subset(des, domain & !is.na(q))``, the composite "overall" (the mean of the two item
shares) by ``svycontrast`` on the domain design.
"""

from __future__ import annotations

import csv
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analytics import Design, DesignError, composite_specs, estimate_from_rows

ORACLE = Path(__file__).with_name("r_oracle")
CASES: dict[str, dict[str, Any]] = json.loads((ORACLE / "design_cases.json").read_text())["cases"]
#: R and we add the same terms in different orders: agreement to a few ulps of the variance
TOL = 1e-12


@cache
def dataset(name: str) -> dict[str, np.ndarray]:
    """Columns of one data set: an api CSV written by the R script, or a hand-made design from the JSON."""
    oracle = json.loads((ORACLE / "design_cases.json").read_text())
    if name in oracle["datasets"]:
        with (ORACLE / oracle["datasets"][name]).open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        columns = {k: [r[k] for r in rows] for k in rows[0]}
    else:
        columns = oracle["data"][name]
    out: dict[str, np.ndarray] = {}
    for key, values in columns.items():
        if key in ("q1", "q2", "pw", "w", "fpc", "fpc1", "fpc2", "frac1", "frac2", "N", "frac", "N1", "N2", "N3"):
            out[key] = np.array([np.nan if v in ("", None) else float(v) for v in values])
        else:
            out[key] = np.array([str(v) for v in values])
    return out


def run(case: dict[str, Any]) -> Any:
    data = dataset(case["data"])
    psu_cols = case.get("psu") or []
    fpc_cols = case.get("fpc") or []
    psu: Any = None if not psu_cols else data[psu_cols[0]] if len(psu_cols) == 1 else [data[c] for c in psu_cols]
    fpc: Any = None if not fpc_cols else data[fpc_cols[0]] if len(fpc_cols) == 1 else [data[c] for c in fpc_cols]
    return estimate_from_rows(
        data[case["weight"]],
        np.column_stack([data["q1"], data["q2"]]),
        ["q1", "q2"],
        strata=data[case["strata"]] if case.get("strata") else None,
        psu=psu,
        fpc=fpc,
        by=data[case["by"]],
        lonely_psu=case["lonely"],
        composites=composite_specs({"overall": ["q1", "q2"]}, overall=None),
    )


def close(ours: float, r: float | None) -> bool:
    if r is None:  # R's NaN
        return math.isnan(ours)
    return abs(ours - r) <= TOL * max(1.0, abs(r))


@pytest.mark.parametrize("name", [n for n in CASES if "error" not in CASES[n]])
def test_estimates_match_r(name: str) -> None:
    case = CASES[name]
    res = run(case)
    problems = []
    for want in case["estimates"]:
        got = res.get(want["domain"], want["target"], want["kind"])
        for key in ("estimate", "se"):
            if not close(getattr(got, key), want[key]):
                problems.append(
                    f"{want['domain']}/{want['target']}/{want['kind']} {key}: {getattr(got, key)!r} vs R {want[key]!r}"
                )
        if got.df != want["df"]:
            problems.append(f"{want['domain']}/{want['target']}/{want['kind']} df: {got.df} vs R {want['df']}")
    assert not problems, "\n".join(problems)
    cov = res.covariance([(None, "q1", "share"), (None, "q2", "share")])
    assert close(float(cov[0, 1]), case["cov_q1_q2"])
    # the joint covariance and the per-estimate variance are one formula
    np.testing.assert_allclose(np.diag(cov) ** 0.5, [res.get(None, "q1").se, res.get(None, "q2").se], rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in CASES if "error" in CASES[n]])
def test_designs_r_refuses_are_refused(name: str) -> None:
    case = CASES[name]
    stage = case["error"].rsplit("stage ", 1)[1]
    with pytest.raises(DesignError, match=f"only one (PSU|sampled unit at stage {stage})"):
        run(case)


def test_the_cases_cover_what_they_claim() -> None:
    """Guard the oracle itself: NaN, lonely units at stage 2 and 3, refusals and adjust all occur."""
    assert CASES["two_stage_fail"]["error"].endswith("at stage 2")
    assert any(e["se"] is None for e in CASES["two_stage_average"]["estimates"])
    assert any(e["se"] is not None for e in CASES["two_stage_average"]["estimates"])
    se = {n: CASES[n]["estimates"][0]["se"] for n in ("two_stage_certainty", "two_stage_adjust", "two_stage_no_fpc")}
    assert len(set(se.values())) == 3
    # the issue: the two-stage SE of apiclus2 is larger than the one-stage SE with the stage-1 fpc
    assert CASES["apiclus2_two_stage"]["estimates"][0]["se"] > CASES["apiclus2_one_stage_fpc1"]["estimates"][0]["se"]


def test_apiclus2_two_stage_weights_and_degrees_of_freedom() -> None:
    data = dataset("apiclus2")
    design = Design.from_rows(None, [data["dnum"], data["snum"]], [data["fpc1"], data["fpc2"]])
    assert design.n_stages == 2
    assert design.df == 40 - 1  # stage-1 PSUs minus strata, as R's degf
    assert design.n_units == len(data["snum"])
    # the fpc as counts and as fractions is one design
    fractions = Design.from_rows(None, [data["dnum"], data["snum"]], [data["frac1"], data["frac2"]])
    np.testing.assert_allclose(fractions.stages[1].population, design.stages[1].population, rtol=1e-12)
