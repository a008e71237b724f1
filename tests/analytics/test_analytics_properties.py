"""Property tests: invariances and agreement with a from-scratch dense computation (§5.1, §5.3)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import CompositeSpec, Design, ItemSums, RespondentSums, estimate_from_rows, estimate_from_sums

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def surveys(draw):
    """A stratified cluster sample with item non-response and a 3-valued domain variable."""
    n_strata = draw(st.integers(1, 4))
    strata, psus = [], []
    for h in range(n_strata):
        for j in range(draw(st.integers(2, 5))):
            size = draw(st.integers(1, 6))
            strata += [f"S{h}"] * size
            psus += [f"P{j}"] * size  # PSU labels repeat across strata: nested
    n = len(strata)
    w = np.array(draw(st.lists(st.floats(0.5, 50), min_size=n, max_size=n)))
    n_items = draw(st.integers(1, 3))
    cells = draw(st.lists(st.sampled_from([1, 2, 3, 4, 5, None]), min_size=n * n_items, max_size=n * n_items))
    scores = np.array([np.nan if c is None else float(c) for c in cells]).reshape(n, n_items)
    domain = np.array(draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)), dtype=object)
    return np.array(strata), np.array(psus), w, scores, domain


def dense_reference(strata, psus, w, x, z, member):
    """Ratio, variance and df over "domain and answered" computed directly: all PSUs of the full design,
    zeros padded."""
    xm, zm = w * x * member, w * z * member
    R = xm.sum() / zm.sum()
    u = (xm - R * zm) / zm.sum()
    var = 0.0
    for h in np.unique(strata):
        in_h = strata == h
        totals = np.array([u[in_h & (psus == j)].sum() for j in np.unique(psus[in_h])])
        nh = len(totals)
        var += nh / (nh - 1) * np.sum((totals - totals.mean()) ** 2)
    has = (member > 0) & (z > 0)  # an item estimate's df: PSUs with answers in the domain (§5.3)
    pairs = {(s, p) for s, p in zip(strata[has], psus[has], strict=True)}
    df = len(pairs) - len({s for s, _ in pairs})
    return R, var, df


@SETTINGS
@given(surveys())
def test_domain_share_equals_padded_zero_psu_computation(data):
    strata, psus, w, scores, domain = data
    res = estimate_from_rows(w, scores, [f"q{k}" for k in range(scores.shape[1])], strata=strata, psu=psus, by=domain)
    for dom in np.unique(domain):
        member = (domain == dom).astype(float)
        for k in range(scores.shape[1]):
            d = ~np.isnan(scores[:, k])
            if not np.any(d & (member > 0)):
                continue
            x = np.where(d, scores[:, k] >= 4, 0.0)
            R, var, df = dense_reference(strata, psus, w, x, d.astype(float), member)
            e = res.get(dom, f"q{k}", "share")
            np.testing.assert_allclose(e.estimate, R, rtol=1e-12)
            np.testing.assert_allclose(e.se**2, var, rtol=1e-9, atol=1e-15)
            assert e.df == df
            m = res.get(dom, f"q{k}", "mean")
            Rm, vm, _ = dense_reference(strata, psus, w, np.where(d, scores[:, k], 0.0), d.astype(float), member)
            np.testing.assert_allclose(m.estimate, Rm, rtol=1e-12)
            np.testing.assert_allclose(m.se**2, vm, rtol=1e-9, atol=1e-15)


def _comparable(res):
    out = []
    for e in res.estimates:
        out.append([e.estimate, e.se, e.ci[0], e.ci[1], e.df, e.n])
    return np.array(out, dtype=float)


@SETTINGS
@given(surveys(), st.floats(0.01, 100))
def test_invariant_to_weight_scaling(data, factor):
    strata, psus, w, scores, domain = data
    items = [f"q{k}" for k in range(scores.shape[1])]
    specs = [CompositeSpec("all", dict.fromkeys(items, 1 / len(items)))]
    a = estimate_from_rows(w, scores, items, strata=strata, psu=psus, by=domain, composites=specs)
    b = estimate_from_rows(w * factor, scores, items, strata=strata, psu=psus, by=domain, composites=specs)
    np.testing.assert_allclose(_comparable(a), _comparable(b), rtol=1e-8, atol=1e-12, equal_nan=True)


@SETTINGS
@given(surveys(), st.sampled_from(["A", "B", "C"]))
def test_composite_of_one_item_is_the_item(data, definition):
    strata, psus, w, scores, domain = data
    spec = CompositeSpec("only", {"q0": 1.0}, definition)
    res = estimate_from_rows(
        w, scores, [f"q{k}" for k in range(scores.shape[1])], strata=strata, psu=psus, by=domain, composites=[spec]
    )
    for dom in [None, *np.unique(domain)]:
        item = res.get(dom, "q0")
        comp = res.get(dom, "only")
        assert comp.definition == definition
        np.testing.assert_allclose(
            [comp.estimate, comp.se], [item.estimate, item.se], rtol=1e-9, atol=1e-14, equal_nan=True
        )


@SETTINGS
@given(surveys(), st.randoms(use_true_random=False))
def test_row_level_and_sum_level_paths_agree(data, rnd):
    strata, psus, w, scores, domain = data
    items = [f"q{k}" for k in range(scores.shape[1])]
    specs = [CompositeSpec("all", dict.fromkeys(items, 1 / len(items)), "B")]
    from_rows = estimate_from_rows(
        w, scores, items, strata=strata, psu=psus, by=domain, whole_sample=False, composites=specs
    )
    # one ItemSums row per answer, shuffled: the engine must add up duplicate (stratum, PSU) cells
    r_idx, k_idx = np.nonzero(~np.isnan(scores))
    order = list(range(len(r_idx)))
    rnd.shuffle(order)
    r_idx, k_idx = r_idx[order], k_idx[order]
    y = scores[r_idx, k_idx]
    sums = ItemSums(
        stratum=strata[r_idx],
        psu=psus[r_idx],
        item=np.array(items, dtype=object)[k_idx],
        domain=domain[r_idx],
        n=np.ones(len(r_idx)),
        swd=w[r_idx],
        sws=w[r_idx] * (y >= 4),
        swdy=w[r_idx] * y,
        swdyy=w[r_idx] * y * y,
        swwd=w[r_idx] ** 2,
    )
    # one RespondentSums row per respondent: the domain df counts PSUs with members, answered or not
    people = RespondentSums(strata, psus, np.ones(len(w)), w, w * w, domain)
    design = Design.from_rows(strata, psus)
    from_sums = estimate_from_sums(design, sums, people, composites=specs)
    for e in from_rows.estimates:
        try:
            other = from_sums.get(e.domain, e.target, e.kind)
        except ValueError:
            # the row path also sees domains whose members never answered; the sums path cannot
            assert not np.isfinite(e.estimate)
            continue
        np.testing.assert_allclose(
            [e.estimate, e.se, e.ci[0], e.ci[1], e.df], [other.estimate, other.se, other.ci[0], other.ci[1], other.df],
            rtol=1e-9, atol=1e-14, equal_nan=True,
        )  # fmt: skip


def test_composite_c_from_item_sums_alone_is_refused():
    import pytest

    from analytics import EstimationError

    sums = ItemSums(stratum=["A", "A"], psu=["1", "2"], item=["q", "q"], n=[1, 1], swd=[1.0, 2.0], sws=[1.0, 0.0])
    with pytest.raises(EstimationError, match="needs per-PSU sums of w\\*c_i"):
        estimate_from_sums(
            Design(("A",), (2,)), sums, composites=[CompositeSpec("c", {"q": 1.0}, "C")], kinds=("share",)
        )
