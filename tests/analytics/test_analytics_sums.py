"""Merging per-domain sums gives exactly the whole-sample sums (the by-column partitions the rows)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics import Design, composite_specs, estimate_from_sums
from analytics.sums import aggregate_rows, merge_domains


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merged_domains_equal_whole_sample_aggregation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 600, 4
    strata = rng.integers(0, 3, n)
    psu = strata * 10 + rng.integers(0, 5, n)
    weights = rng.lognormal(1.0, 0.4, n)
    scores = rng.integers(1, 6, (n, k)).astype(float)
    scores[rng.random((n, k)) < 0.15] = np.nan
    by = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, n)]
    items = ["q1", "q2", "q3", "q4"]
    specs = composite_specs({"e1": ["q1", "q2"], "e2": ["q3", "q4"]}, definition="C")
    comp_c = {s.name: s.coefficients for s in specs}
    direct = aggregate_rows(weights, strata, psu, scores, items, None, comp_c)
    merged = merge_domains(*aggregate_rows(weights, strata, psu, scores, items, by, comp_c))
    design = Design.from_rows(strata, psu, None, n_rows=n)
    a = {(e.target, e.kind): e for e in estimate_from_sums(design, *direct, composites=specs).estimates}
    b = {(e.target, e.kind): e for e in estimate_from_sums(design, *merged, composites=specs).estimates}
    assert a.keys() == b.keys() and len(a) == 2 * k + 3  # item shares and means; composite C is share-only
    for key, e in a.items():
        assert math.isclose(e.estimate, b[key].estimate, rel_tol=1e-12), key
        assert math.isclose(e.se, b[key].se, rel_tol=1e-10), key
        assert (e.n, e.df) == (b[key].n, b[key].df), key


@pytest.mark.parametrize("dense", [True, False], ids=["dense-build", "sorted-build"])
def test_split_rows_and_both_aggregation_paths_give_identical_estimates(dense: bool, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Item sums split over two rows per (domain, PSU, item) are added up before estimation, and the
    direct-addressing and sorting paths of ``Influence.build`` agree."""
    import analytics.design

    if not dense:
        monkeypatch.setattr(analytics.design, "DENSE_KEYS", 0)
    rng = np.random.default_rng(5)
    n, k = 500, 4
    strata = rng.integers(0, 4, n)
    psu = strata * 10 + rng.integers(0, 6, n)
    weights = rng.lognormal(1.0, 0.4, n)
    scores = rng.integers(1, 6, (n, k)).astype(float)
    scores[rng.random((n, k)) < 0.1] = np.nan
    by = np.array(["x", "y"])[rng.integers(0, 2, n)]
    names = ["q1", "q2", "q3", "q4"]
    specs = composite_specs({"e1": ["q1", "q2"], "e2": ["q3", "q4"]})
    design = Design.from_rows(strata, psu, None, n_rows=n)
    items, respondents = aggregate_rows(weights, strata, psu, scores, names, by, {})
    whole = estimate_from_sums(design, items, respondents, composites=specs)
    half = {name: getattr(items, name) / 2 for name in ("n", "swd", "sws", "swdy", "swdyy", "swwd")}
    split = type(items)(
        **{name: np.concatenate([getattr(items, name)] * 2) for name in ("stratum", "psu", "item", "domain")},
        **{name: np.concatenate([value, value]) for name, value in half.items()},
    )
    again = estimate_from_sums(design, split, respondents, composites=specs)
    assert len(whole.estimates) == len(again.estimates) > 2 * k
    for e, f in zip(whole.estimates, again.estimates, strict=True):
        assert (e.domain, e.target, e.kind, e.n, e.df) == (f.domain, f.target, f.kind, f.n, f.df)
        assert math.isclose(e.estimate, f.estimate, rel_tol=1e-12)
        assert math.isclose(e.se, f.se, rel_tol=1e-10)


def test_item_codes_with_labels_equal_item_label_strings() -> None:
    rng = np.random.default_rng(9)
    n = 300
    strata = rng.integers(0, 3, n)
    psu = strata * 10 + rng.integers(0, 4, n)
    scores = rng.integers(1, 6, (n, 3)).astype(float)
    scores[:, 1] = np.nan  # an item nobody answered is left out either way
    items, respondents = aggregate_rows(rng.lognormal(1, 0.3, n), strata, psu, scores, ["q1", "q2", "q3"], None, {})
    labels = ["q3", "q2", "q1", "q9"]
    coded = type(items)(
        **{name: getattr(items, name) for name in ("stratum", "psu", "domain", "n", "swd", "sws", "swdy", "swdyy")},
        item=np.array([labels.index(str(v)) for v in items.item]),
        item_labels=labels,
    )
    design = Design.from_rows(strata, psu, None, n_rows=n)
    by_label = {(e.target, e.kind): e for e in estimate_from_sums(design, items, respondents).estimates}
    by_code = estimate_from_sums(design, coded, respondents).estimates
    assert [e.target for e in by_code if e.kind == "share"] == ["q3", "q1"]  # the labels' order
    assert {(e.target, e.kind) for e in by_code} == set(by_label)
    for e in by_code:
        assert (e.estimate, e.se, e.ci) == (
            by_label[(e.target, e.kind)].estimate,
            by_label[(e.target, e.kind)].se,
            by_label[(e.target, e.kind)].ci,
        )
