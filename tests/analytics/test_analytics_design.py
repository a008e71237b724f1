"""Design, linearised variance, lonely PSUs, fpc and degrees of freedom (STATISTICS.md §4-§5)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import Design, DesignError, Influence, ItemSums, estimate_from_rows, estimate_from_sums

# three strata: A has 3 PSUs, B 2, L only 1 (lonely)
STRATA = np.array(["A"] * 6 + ["B"] * 4 + ["L"] * 2)
PSUS = np.array(["a1", "a1", "a2", "a2", "a3", "a3", "b1", "b1", "b2", "b2", "l1", "l1"])
W = np.array([1.0, 2, 3, 1, 2, 2, 4, 1, 2, 3, 5, 1])
Y = np.array([5.0, 4, 2, 5, 3, 4, 5, 5, 1, 4, 2, 5])


def stratum_var(u, strata, psus, f=None):
    """Per-stratum with-replacement contributions from unit scores, by hand."""
    out = {}
    for h in np.unique(strata):
        totals = np.array([u[(strata == h) & (psus == j)].sum() for j in np.unique(psus[strata == h])])
        nh = len(totals)
        scale = (1 - (f or {}).get(h, 0.0)) * nh / (nh - 1) if nh > 1 else 0.0
        out[h] = scale * np.sum((totals - totals.mean()) ** 2)
    return out


def unit_scores(w, y):
    x = (y >= 4).astype(float)
    p = np.sum(w * x) / np.sum(w)
    return p, w * (x - p) / np.sum(w)


def test_lonely_psu_fail_names_the_stratum():
    with pytest.raises(DesignError, match="stratum 'L' has only one PSU"):
        estimate_from_rows(W, Y, ["q"], strata=STRATA, psu=PSUS)


@pytest.mark.parametrize("option", ["certainty", "remove"], ids=["certainty", "remove"])
def test_lonely_psu_certainty_and_remove_contribute_zero(option):
    res = estimate_from_rows(W, Y, ["q"], strata=STRATA, psu=PSUS, lonely_psu=option)
    p, u = unit_scores(W, Y)
    parts = stratum_var(u, STRATA, PSUS)
    e = res.get(None, "q")
    assert e.estimate == pytest.approx(p, rel=1e-12)
    assert e.se**2 == pytest.approx(parts["A"] + parts["B"], rel=1e-12)


def test_lonely_psu_average_scales_up_the_other_strata():
    res = estimate_from_rows(W, Y, ["q"], strata=STRATA, psu=PSUS, lonely_psu="average")
    _, u = unit_scores(W, Y)
    parts = stratum_var(u, STRATA, PSUS)
    assert res.get(None, "q").se ** 2 == pytest.approx((parts["A"] + parts["B"]) * 3 / 2, rel=1e-12)


def test_domain_meeting_one_psu_of_a_stratum_is_not_lonely():
    keep = STRATA != "L"
    dom = np.where(PSUS[keep] == "a1", "x", "y")
    res = estimate_from_rows(W[keep], Y[keep], ["q"], strata=STRATA[keep], psu=PSUS[keep], by=dom)
    e = res.get("x", "q")
    assert e.df == 0  # one PSU in one stratum: not estimable, as R
    assert np.isnan(e.ci[0])
    assert e.flags[0].code == "not_estimable"
    assert np.isfinite(e.se)  # the variance itself is defined (the padded zeros give it)


@pytest.mark.parametrize("as_fraction", [False, True], ids=["population-counts", "fractions"])
def test_fpc_multiplies_each_stratum_by_one_minus_f(as_fraction):
    keep = STRATA != "L"
    s, ps, w, y = STRATA[keep], PSUS[keep], W[keep], Y[keep]
    fraction = {"A": 3 / 6, "B": 2 / 8}  # n_h / N_h with N_A = 6, N_B = 8 PSUs
    fpc = np.array([fraction[h] if as_fraction else {"A": 6.0, "B": 8.0}[h] for h in s])
    res = estimate_from_rows(w, y, ["q"], strata=s, psu=ps, fpc=fpc)
    _, u = unit_scores(w, y)
    parts = stratum_var(u, s, ps, f=fraction)
    assert res.get(None, "q").se ** 2 == pytest.approx(parts["A"] + parts["B"], rel=1e-12)


def test_census_stratum_contributes_nothing():
    keep = STRATA != "L"
    s, ps, w, y = STRATA[keep], PSUS[keep], W[keep], Y[keep]
    fpc = np.array([3.0 if h == "A" else 1000.0 for h in s])
    res = estimate_from_rows(w, y, ["q"], strata=s, psu=ps, fpc=fpc)
    _, u = unit_scores(w, y)
    parts = stratum_var(u, s, ps, f={"A": 1.0, "B": 2 / 1000})
    assert res.get(None, "q").se ** 2 == pytest.approx(parts["B"], rel=1e-12)


def test_fpc_must_be_constant_within_stratum():
    with pytest.raises(DesignError, match="not constant within stratum 'A'"):
        Design.from_rows(["A", "A"], ["1", "2"], [10, 11])


def test_respondent_as_psu_gives_n_minus_strata_df():
    d = Design.from_rows(STRATA, None)
    assert d.df == len(STRATA) - 3
    assert d.n_psu == (6, 4, 2)


def test_unknown_stratum_and_too_many_psus_are_rejected():
    design = Design(("A",), (2,))
    base = {"psu": ["1", "2", "3"], "item": ["q"] * 3, "n": [1, 1, 1], "swd": [1, 1, 1], "sws": [1, 0, 1]}
    with pytest.raises(DesignError, match="stratum 'Z' is not in the design"):
        estimate_from_sums(design, ItemSums(stratum=["A", "A", "Z"], **base), kinds=("share",))
    with pytest.raises(DesignError, match="more PSUs"):
        estimate_from_sums(design, ItemSums(stratum=["A", "A", "A"], **base), kinds=("share",))


def test_bad_design_arguments():
    with pytest.raises(DesignError, match="lonely_psu"):
        Design(("A",), (2,), lonely_psu="adjust")
    with pytest.raises(DesignError, match="no PSUs"):
        Design(("A",), (0,))
    with pytest.raises(DesignError, match="smaller than"):
        Design(("A",), (5,), (3.0,))


def test_covariance_diagonal_equals_variance():
    d = Design(("A", "B"), (3, 2))
    infl = Influence.build(
        d,
        2,
        np.array([0, 0, 1, 1, 0, 1]),
        np.array([0, 1, 1, 2, 3, 4]),
        np.array([0, 0, 0, 0, 1, 1]),
        np.array([0.3, -0.1, 0.2, 0.5, -0.4, 0.1]),
    )
    cov = infl.covariance([0, 1])
    np.testing.assert_allclose(np.diag(cov), infl.variance(), rtol=1e-12)
    # dense check of the off-diagonal: PSUs of A are (0, 1, 2), of B (3, 4)
    ua = np.array([[0.3, -0.1, 0.0], [0.0, 0.2, 0.5]])
    ub = np.array([[-0.4, 0.0], [0.0, 0.1]])
    expected = sum(
        m.shape[1] / (m.shape[1] - 1) * (m - m.mean(axis=1, keepdims=True)) @ (m - m.mean(axis=1, keepdims=True)).T
        for m in (ua, ub)
    )
    np.testing.assert_allclose(cov, expected, rtol=1e-12)


def test_many_domains_are_fast():
    import time

    rng = np.random.default_rng(1)
    n = 60_000
    strata = rng.integers(0, 10, n)
    psu = rng.integers(0, 40, n)
    dom = rng.integers(0, 200, n)
    scores = rng.integers(1, 6, (n, 22)).astype(float)
    scores[rng.random((n, 22)) < 0.1] = np.nan
    w = rng.lognormal(0, 0.4, n)
    from analytics import aggregate_rows

    isums, rsums = aggregate_rows(w, strata, psu, scores, [f"q{k:02d}" for k in range(22)], dom)
    design = Design.from_rows(strata, psu)
    start = time.perf_counter()
    res = estimate_from_sums(design, isums, rsums)
    elapsed = time.perf_counter() - start
    assert len(res) == 200 * 22 * 2
    assert elapsed < 5.0  # typically well under a second; generous for CI machines


def test_df_basis_answered_counts_only_psus_with_answers():
    # stratum A: PSU a3 has members but nobody answered q
    strata = np.array(["A"] * 6 + ["B"] * 4)
    psus = np.array(["a1", "a1", "a2", "a2", "a3", "a3", "b1", "b1", "b2", "b2"])
    y = np.array([5.0, 4, 2, 5, np.nan, np.nan, 5, 5, 1, 4])
    w = np.ones(10)
    by_domain = estimate_from_rows(w, y, ["q"], strata=strata, psu=psus).get(None, "q")
    by_answers = estimate_from_rows(w, y, ["q"], strata=strata, psu=psus, df_basis="answered").get(None, "q")
    assert (by_domain.df, by_answers.df) == (3, 2)
    assert by_domain.se == by_answers.se
    assert by_answers.ci[1] - by_answers.ci[0] > by_domain.ci[1] - by_domain.ci[0]
