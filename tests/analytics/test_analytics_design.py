"""Design, linearised variance, lonely PSUs, fpc and degrees of freedom (STATISTICS.md §4-§5)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import Design, DesignError, Influence, ItemSums, estimate_from_rows, estimate_from_sums
from analytics.design import Stage

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
        Design(("A",), (2,), lonely_psu="collapse")
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


def test_many_domains_in_one_pass():
    # timings live in benchmarks/analytics_scale.py; this checks the many-domain path's shape
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
    res = estimate_from_sums(design, isums, rsums)
    assert len(res) == 200 * 22 * 2
    assert {e.domain for e in res} == set(range(200))


def test_df_basis_answered_counts_only_psus_with_answers():
    # stratum A: PSU a3 has members but nobody answered q
    strata = np.array(["A"] * 6 + ["B"] * 4)
    psus = np.array(["a1", "a1", "a2", "a2", "a3", "a3", "b1", "b1", "b2", "b2"])
    y = np.array([5.0, 4, 2, 5, np.nan, np.nan, 5, 5, 1, 4])
    w = np.ones(10)
    by_domain = estimate_from_rows(w, y, ["q"], strata=strata, psu=psus, df_basis="domain").get(None, "q")
    by_answers = estimate_from_rows(w, y, ["q"], strata=strata, psu=psus).get(None, "q")  # the default
    assert (by_domain.df, by_answers.df) == (3, 2)
    assert by_domain.se == by_answers.se
    assert by_answers.ci[1] - by_answers.ci[0] > by_domain.ci[1] - by_domain.ci[0]


# ---------------------------------------------------------------------------------------------------
# Certainty strata, "adjust" and multi-stage designs (R survey 4.1.1; the R comparisons are in
# test_analytics_multistage.py, these check the rules by hand)

# five strata of two PSUs and one stratum "C" of one PSU
CS_STRATA = np.repeat(["A", "B", "D", "E", "F", "C"], [4, 4, 4, 4, 4, 2])
CS_PSUS = np.array([f"{h}{j}" for h, j in zip(CS_STRATA, [1, 1, 2, 2] * 5 + [1, 1], strict=True)])
CS_W = np.array([1.0, 2, 3, 1, 2, 2, 4, 1, 2, 3, 5, 1, 2, 2, 1, 3, 1, 4, 2, 2, 3, 1])
CS_Y = np.array([5.0, 4, 2, 5, 3, 4, 5, 5, 1, 4, 2, 5, 4, 4, 1, 2, 5, 3, 4, 1, 5, 5])


def test_certainty_stratum_with_one_psu_is_not_lonely():
    # C is sampled with certainty (N = n = 1): zero variance, no "fail", and "average" must not scale
    # the other strata up by 6/5 (the SE would be sqrt(1.2) too large)
    _, u = unit_scores(CS_W, CS_Y)
    parts = stratum_var(u, CS_STRATA, CS_PSUS)
    expected = sum(v for h, v in parts.items() if h != "C")
    fpc = np.where(CS_STRATA == "C", 1.0, 1e9)
    f = dict.fromkeys("ABDEF", 2 / 1e9)
    expected_fpc = sum(v * (1 - f[h]) for h, v in parts.items() if h != "C")
    for option in ("fail", "certainty", "remove", "average", "adjust"):
        res = estimate_from_rows(CS_W, CS_Y, ["q"], strata=CS_STRATA, psu=CS_PSUS, fpc=fpc, lonely_psu=option)
        assert res.get(None, "q").se ** 2 == pytest.approx(expected_fpc, rel=1e-12), option
    assert expected_fpc == pytest.approx(expected, rel=1e-8)


def test_certainty_boundary_population_equal_to_sample():
    base = {"A": 10.0, "B": 10.0, "D": 10.0, "E": 10.0, "F": 10.0}
    certain = np.array([{**base, "C": 1.0}[h] for h in CS_STRATA])
    just_off = np.array([{**base, "C": 2.0}[h] for h in CS_STRATA])  # N = n + 1: C is lonely again
    estimate_from_rows(CS_W, CS_Y, ["q"], strata=CS_STRATA, psu=CS_PSUS, fpc=certain)
    with pytest.raises(DesignError, match="stratum 'C' has only one PSU"):
        estimate_from_rows(CS_W, CS_Y, ["q"], strata=CS_STRATA, psu=CS_PSUS, fpc=just_off)
    # as sampling fractions: 1 is certainty, just below 1 is not
    fractions = np.where(CS_STRATA == "C", 1.0, 0.2)
    assert Design.from_rows(CS_STRATA, CS_PSUS, fractions).certain.tolist() == [False] * 5 + [True]
    below = np.where(CS_STRATA == "C", 1 - 1e-6, 0.2)
    assert not Design.from_rows(CS_STRATA, CS_PSUS, below).certain.any()
    # R's tolerance: (N - n) / N < 1e-7 counts as certainty
    near = np.where(CS_STRATA == "C", 1 - 1e-8, 0.2)
    assert Design.from_rows(CS_STRATA, CS_PSUS, near).certain[-1]


def test_average_counts_certainty_strata_as_ok_and_lonely_ones_out():
    # C lonely (no fpc): V = sum of the five others * 6 / 5
    _, u = unit_scores(CS_W, CS_Y)
    parts = stratum_var(u, CS_STRATA, CS_PSUS)
    others = sum(v for h, v in parts.items() if h != "C")
    res = estimate_from_rows(CS_W, CS_Y, ["q"], strata=CS_STRATA, psu=CS_PSUS, lonely_psu="average")
    assert res.get(None, "q").se ** 2 == pytest.approx(others * 6 / 5, rel=1e-12)


@pytest.mark.parametrize("with_fpc", [False, True], ids=["no-fpc", "fpc"])
def test_adjust_centres_the_lonely_psu_at_zero(with_fpc):
    # R 4.1.1: the lonely PSU total is not centred and gets (1 - f) instead of n/(n-1) (1 - f)
    fpc = np.where(CS_STRATA == "C", 4.0, 8.0) if with_fpc else None
    res = estimate_from_rows(CS_W, CS_Y, ["q"], strata=CS_STRATA, psu=CS_PSUS, fpc=fpc, lonely_psu="adjust")
    _, u = unit_scores(CS_W, CS_Y)
    f = dict.fromkeys("ABDEF", 2 / 8 if with_fpc else 0.0) | {"C": 1 / 4 if with_fpc else 0.0}
    parts = stratum_var(u, CS_STRATA, CS_PSUS, f=f)
    lonely = (1 - f["C"]) * u[CS_STRATA == "C"].sum() ** 2
    expected = sum(v for h, v in parts.items() if h != "C") + lonely
    assert res.get(None, "q").se ** 2 == pytest.approx(expected, rel=1e-12)
    assert lonely > 0


def test_adjust_in_domains_uses_the_domains_own_lonely_total():
    dom = np.where(np.arange(len(CS_W)) % 3 == 0, "x", "y")
    dom[CS_STRATA == "C"] = "y"  # domain x has no member in the lonely stratum
    res = estimate_from_rows(CS_W, CS_Y, ["q"], strata=CS_STRATA, psu=CS_PSUS, by=dom, lonely_psu="adjust")
    remove = estimate_from_rows(CS_W, CS_Y, ["q"], strata=CS_STRATA, psu=CS_PSUS, by=dom, lonely_psu="remove")
    assert res.get("x", "q").se == pytest.approx(remove.get("x", "q").se, rel=1e-12)
    keep = dom == "y"
    x = (CS_Y >= 4).astype(float)
    zy = np.sum(CS_W[keep])
    py = np.sum((CS_W * x)[keep]) / zy
    u_y = np.where(keep, CS_W * (x - py) / zy, 0.0)
    lonely = u_y[CS_STRATA == "C"].sum() ** 2
    assert res.get("y", "q").se ** 2 == pytest.approx(remove.get("y", "q").se ** 2 + lonely, rel=1e-12)


def test_adjust_variance_and_covariance_agree():
    d = Design(("A", "L"), (3, 1), lonely_psu="adjust")
    infl = Influence.build(
        d, 2, np.array([0, 0, 1, 1, 0, 1]), np.array([0, 1, 1, 2, 3, 3]), np.array([0, 0, 0, 0, 1, 1]),
        np.array([0.3, -0.1, 0.2, 0.5, -0.4, 0.1]),
    )  # fmt: skip
    cov = infl.covariance([0, 1])
    np.testing.assert_allclose(np.diag(cov), infl.variance(), rtol=1e-12)
    ua = np.array([[0.3, -0.1, 0.0], [0.0, 0.2, 0.5]])
    dev = ua - ua.mean(axis=1, keepdims=True)
    expected = 1.5 * dev @ dev.T + np.outer([-0.4, 0.1], [-0.4, 0.1])
    np.testing.assert_allclose(cov, expected, rtol=1e-12)


# two-stage: stratum S (3 PSUs of N1 = 6), PSUs with 2, 3 and 2 SSUs of N2 = 4, 5, 2 (the last is a
# census at stage 2 and contributes nothing there)
MS_STRATA = np.array(["S"] * 14)
MS_PSU = np.array(["p1"] * 4 + ["p2"] * 6 + ["p3"] * 4)
MS_SSU = np.array(["a", "a", "b", "b", "a", "a", "b", "b", "c", "c", "a", "a", "b", "b"])
MS_N1 = np.full(14, 6.0)
MS_N2 = np.array([4.0] * 4 + [5.0] * 6 + [2.0] * 4)
MS_W = np.array([1.0, 2, 3, 1, 2, 2, 4, 1, 2, 3, 5, 1, 2, 2])
MS_Y = np.array([5.0, 4, 2, 5, 3, 4, 5, 5, 1, 4, 2, 5, 4, 1])


def _one_stratum(totals, n, f):
    """(1 - f) n/(n-1) Σ (t - t̄)², the one-stratum formula with the full sample's n (zeros padded)."""
    t = np.concatenate([totals, np.zeros(n - len(totals))])
    return (1 - f) * n / (n - 1) * np.sum((t - t.mean()) ** 2)


def test_two_stage_variance_by_hand():
    res = estimate_from_rows(MS_W, MS_Y, ["q"], strata=MS_STRATA, psu=[MS_PSU, MS_SSU], fpc=[MS_N1, MS_N2])
    p, u = unit_scores(MS_W, MS_Y)
    psus = ["p1", "p2", "p3"]
    v1 = _one_stratum(np.array([u[MS_PSU == j].sum() for j in psus]), 3, 3 / 6)
    v2 = 0.0
    for j, n2, big_n2 in zip(psus, (2, 3, 2), (4, 5, 2), strict=True):
        ssu_totals = np.array([u[(MS_PSU == j) & (MS_SSU == s)].sum() for s in np.unique(MS_SSU[MS_PSU == j])])
        v2 += 3 / 6 * _one_stratum(ssu_totals, n2, n2 / big_n2)
    e = res.get(None, "q")
    assert e.estimate == pytest.approx(p, rel=1e-12)
    assert e.se**2 == pytest.approx(v1 + v2, rel=1e-12)
    assert e.df == 2  # stage-1 PSUs - strata, not SSUs - strata
    # without the stage-1 fpc: the ultimate-cluster approximation, stage 2 ignored (R)
    no_fpc = estimate_from_rows(MS_W, MS_Y, ["q"], strata=MS_STRATA, psu=[MS_PSU, MS_SSU])
    assert no_fpc.get(None, "q").se ** 2 == pytest.approx(v1 / (1 - 3 / 6), rel=1e-12)
    # fewer fpc arrays than stages: stage 2 sampled with replacement (R's fpc = Inf)
    wr = estimate_from_rows(MS_W, MS_Y, ["q"], strata=MS_STRATA, psu=[MS_PSU, MS_SSU], fpc=[MS_N1])
    v2_wr = 0.0
    for j, n2 in zip(psus, (2, 3, 2), strict=True):
        ssu_totals = np.array([u[(MS_PSU == j) & (MS_SSU == s)].sum() for s in np.unique(MS_SSU[MS_PSU == j])])
        v2_wr += 3 / 6 * _one_stratum(ssu_totals, n2, 0.0)
    assert wr.get(None, "q").se ** 2 == pytest.approx(v1 + v2_wr, rel=1e-12)


def test_two_stage_domain_pads_both_stages_with_zero_units():
    dom = np.array(["x", "y", "y", "x", "y", "y", "y", "y", "x", "x", "y", "y", "y", "y"])  # x misses p3
    res = estimate_from_rows(MS_W, MS_Y, ["q"], strata=MS_STRATA, psu=[MS_PSU, MS_SSU], fpc=[MS_N1, MS_N2], by=dom)
    keep = dom == "x"
    x = (MS_Y >= 4).astype(float)
    z = MS_W[keep].sum()
    p = (MS_W * x)[keep].sum() / z
    u = np.where(keep, MS_W * (x - p) / z, 0.0)
    v1 = _one_stratum(np.array([u[MS_PSU == j].sum() for j in ("p1", "p2")]), 3, 3 / 6)
    # p1: both SSUs have x members; p2: only SSU c (two implicit zero SSUs); p3 has none: not visited
    v2 = 3 / 6 * _one_stratum(np.array([u[(MS_PSU == "p1") & (MS_SSU == s)].sum() for s in "ab"]), 2, 2 / 4)
    v2 += 3 / 6 * _one_stratum(np.array([u[(MS_PSU == "p2") & (MS_SSU == "c")].sum()]), 3, 3 / 5)
    e = res.get("x", "q")
    assert e.estimate == pytest.approx(p, rel=1e-12)
    assert e.se**2 == pytest.approx(v1 + v2, rel=1e-12)
    assert e.df == 1  # two stage-1 PSUs with members, one stratum


def test_lonely_ssu_follows_lonely_psu():
    # p3 keeps one SSU of two: a lonely unit at stage 2
    keep = ~((MS_PSU == "p3") & (MS_SSU == "b"))
    args = (MS_W[keep], MS_Y[keep], ["q"])
    kw = {"strata": MS_STRATA[keep], "psu": [MS_PSU[keep], MS_SSU[keep]], "fpc": [MS_N1[keep], MS_N2[keep]]}
    with pytest.raises(DesignError, match="PSU 'p3' of stratum 'S' has only one sampled unit at stage 2"):
        estimate_from_rows(*args, **kw)
    certainty = estimate_from_rows(*args, **kw, lonely_psu="certainty").get(None, "q")
    remove = estimate_from_rows(*args, **kw, lonely_psu="remove").get(None, "q")
    adjust = estimate_from_rows(*args, **kw, lonely_psu="adjust").get(None, "q")
    average = estimate_from_rows(*args, **kw, lonely_psu="average").get(None, "q")
    assert certainty.se == remove.se
    assert np.isnan(average.se)  # R: the one stratum of PSU p3 has no variance to average
    _, u = unit_scores(MS_W[keep], MS_Y[keep])
    t = u[MS_PSU[keep] == "p3"].sum()
    assert adjust.se**2 == pytest.approx(certainty.se**2 + 3 / 6 * (1 - 1 / 2) * t * t, rel=1e-12)
    # the same PSU as a census at stage 2 (N2 = 1) is a certainty unit: no error
    n2 = np.where(MS_PSU[keep] == "p3", 1.0, MS_N2[keep])
    fine = estimate_from_rows(*args, **{**kw, "fpc": [MS_N1[keep], n2]}).get(None, "q")
    assert fine.se == pytest.approx(certainty.se, rel=1e-12)


def test_multistage_influence_supports_covariance_and_combinations():
    dom = np.array(["x", "y", "y", "x", "y", "y", "y", "y", "x", "x", "y", "y", "y", "y"])
    res = estimate_from_rows(
        MS_W, MS_Y, ["q"], strata=MS_STRATA, psu=[MS_PSU, MS_SSU], fpc=[MS_N1, MS_N2], by=dom, whole_sample=False
    )
    ix, iy = res.index("x", "q"), res.index("y", "q")
    cov = res.covariance([ix, iy])
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), [res.estimates[ix].se, res.estimates[iy].se], rtol=1e-12)
    c = np.zeros((1, len(res)))
    c[0, ix], c[0, iy] = 1.0, -1.0
    diff = res.influence.combine(c).variance()[0]
    assert diff == pytest.approx(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], rel=1e-12)
    assert cov[0, 1] != 0


def test_multistage_sums_carry_tuple_labels():
    design = Design.from_rows(MS_STRATA, [MS_PSU, MS_SSU], [MS_N1, MS_N2])
    assert design.n_stages == 2 and design.n_units == 7 and design.df == 2
    items = ItemSums(
        stratum=["S"] * 3, psu=[("p1", "a"), ("p1", "b"), ("p2", "a")], item=["q"] * 3,
        n=[1, 1, 1], swd=[1.0, 1.0, 1.0], sws=[1.0, 0.0, 1.0],
    )  # fmt: skip
    res = estimate_from_sums(design, items, kinds=("share",))
    assert res.get(None, "q").df == 1
    with pytest.raises(DesignError, match=r"PSU \('p9', 'a'\) of stratum 'S' is not in the design"):
        estimate_from_sums(
            design, ItemSums(stratum=["S"], psu=[("p9", "a")], item=["q"], n=[1], swd=[1], sws=[1]), kinds=("share",)
        )
    with pytest.raises(DesignError, match="tuples of the unit labels"):
        estimate_from_sums(
            design, ItemSums(stratum=["S"], psu=["p1"], item=["q"], n=[1], swd=[1], sws=[1]), kinds=("share",)
        )
    # the rows path with a given design gives what the design built from the rows gives
    a = estimate_from_rows(MS_W, MS_Y, ["q"], strata=MS_STRATA, psu=[MS_PSU, MS_SSU], design=design)
    b = estimate_from_rows(MS_W, MS_Y, ["q"], strata=MS_STRATA, psu=[MS_PSU, MS_SSU], fpc=[MS_N1, MS_N2])
    assert a.get(None, "q").se == b.get(None, "q").se
    with pytest.raises(DesignError, match="one array per stage"):
        estimate_from_rows(MS_W, MS_Y, ["q"], strata=MS_STRATA, psu=MS_PSU, design=design)


def test_single_stage_given_as_a_list_of_one_array_is_the_single_stage_design():
    one = Design.from_rows(STRATA, PSUS, [10.0] * len(STRATA))
    listed = Design.from_rows(STRATA, [PSUS], [np.full(len(STRATA), 10.0)])
    assert one == listed and not listed.stages


def test_bad_multistage_arguments():
    with pytest.raises(DesignError, match="not constant within unit 'p1' of stage 1"):
        Design.from_rows(MS_STRATA, [MS_PSU, MS_SSU], [MS_N1, np.where(MS_SSU == "a", 4.0, 5.0)])
    with pytest.raises(DesignError, match="all population sizes"):
        Design.from_rows(MS_STRATA, [MS_PSU, MS_SSU], [MS_N1, np.full(14, 0.5)])
    with pytest.raises(DesignError, match="smaller than the number of sampled units"):
        Design.from_rows(MS_STRATA, [MS_PSU, MS_SSU], [MS_N1, np.full(14, 2.0)])
    with pytest.raises(DesignError, match="fpc gives 3 stages but psu only 2"):
        Design.from_rows(MS_STRATA, [MS_PSU, MS_SSU], [MS_N1, MS_N2, MS_N2])
    with pytest.raises(DesignError, match="fpc gives 2 stages but psu only one"):
        Design.from_rows(MS_STRATA, MS_PSU, [MS_N1, MS_N2])
    with pytest.raises(DesignError, match="at least two stages"):
        Design(("S",), (1,), stages=(Stage((0,), ("p1",)),))


def test_has_lonely_sees_every_stage_and_skips_certainty_units():
    assert Design.from_rows(STRATA, PSUS).has_lonely  # stratum L
    assert not Design.from_rows(CS_STRATA, CS_PSUS, np.where(CS_STRATA == "C", 1.0, 10.0)).has_lonely
    assert not Design.from_rows(MS_STRATA, [MS_PSU, MS_SSU], [MS_N1, MS_N2]).has_lonely
    keep = ~((MS_PSU == "p3") & (MS_SSU == "b"))  # p3 keeps one SSU of two
    lonely_ssu = Design.from_rows(MS_STRATA[keep], [MS_PSU[keep], MS_SSU[keep]], [MS_N1[keep], MS_N2[keep]])
    assert lonely_ssu.has_lonely
    # without a stage-1 fpc the later stages do not count (R's ultimate-cluster approximation)
    assert not Design.from_rows(MS_STRATA[keep], [MS_PSU[keep], MS_SSU[keep]]).has_lonely


# -- factorise: strings packed into integers, None beside strings, read-only arrays remembered -----------------


def _dict_factorise(values):
    index = {}
    codes = [index.setdefault(v, len(index)) for v in values]
    return codes, list(index)


@pytest.mark.parametrize(
    "labels",
    [
        ["b", "a", "", "b", "cc", "a", "ab"],
        ["Hoa Lư", "Gia Viễn", "Hoa Lư", "x"],  # non-ASCII code points: fewer characters fit, same codes
        ["a-very-long-counter-label-1", "a-very-long-counter-label-2", "a-very-long-counter-label-1"],  # no fit
    ],
)
def test_factorise_strings_gives_first_appearance_codes_and_string_ranks_sort_as_numpy(labels):
    from analytics.design import factorise, string_ranks

    arr = np.array(labels * 30_000)  # large enough for every fast path
    codes, uniq = factorise(arr)
    expected_codes, expected_labels = _dict_factorise(arr.tolist())
    assert codes.tolist() == expected_codes and uniq == expected_labels
    ranks = string_ranks(arr)
    if ranks is not None:
        assert ranks.tolist() == np.unique(arr, return_inverse=True)[1].tolist()


def test_factorise_puts_none_among_the_strings_in_first_appearance_order():
    from analytics.design import factorise

    values = np.empty(70_000, dtype=object)
    values[:] = (["x", None, "y", "x", None, "z", "y"] * 10_000)[:70_000]
    codes, labels = factorise(values)
    expected_codes, expected_labels = _dict_factorise(values.tolist())
    assert codes.tolist() == expected_codes and labels == expected_labels


def test_factorise_remembers_only_read_only_arrays():
    from analytics.design import factorise

    arr = np.array(["a", "b"] * 40_000)
    assert factorise(arr)[1] == ["a", "b"]
    arr[0] = "c"  # a writable array may change: never answered from memory
    assert factorise(arr)[1] == ["c", "b", "a"]
    arr.setflags(write=False)
    first = factorise(arr)
    again = factorise(arr)
    assert again[0].tolist() == first[0].tolist() and again[1] == first[1] == ["c", "b", "a"]
    again[0][0] = 99  # callers get copies
    assert factorise(arr)[0][0] == 0
