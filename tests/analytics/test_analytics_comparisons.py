"""Differences with covariance, MOVER, trend and multiplicity (STATISTICS.md §11)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import benjamini_hochberg, difference, estimate_from_rows, holm, trend
from analytics.errors import EstimationError


@pytest.fixture(scope="module")
def by_gender(golden):
    return estimate_from_rows(
        golden.w, golden.scores, ["q1", "q2"], strata=golden.stratum, psu=golden.psu, by=golden.gender
    )


def dense_u(golden, member, k):
    """Unit scores of a domain share (§5.1)."""
    y = golden.scores[:, k]
    d = (~np.isnan(y)) * member
    x = np.where(d > 0, y >= 4, 0.0)
    z = golden.w * d
    p = np.sum(golden.w * x) / z.sum()
    return golden.w * (x - p * d) / z.sum()


def psu_var(golden, u):
    var = 0.0
    for h in np.unique(golden.stratum):
        tot = np.array(
            [u[(golden.stratum == h) & (golden.psu == j)].sum() for j in np.unique(golden.psu[golden.stratum == h])]
        )
        var += len(tot) / (len(tot) - 1) * np.sum((tot - tot.mean()) ** 2)
    return var


def test_domain_vs_whole_sample_includes_covariance(golden, by_gender):
    diff = difference(by_gender, ("F", "q1", "share"), (None, "q1", "share"), method="wald")
    u = dense_u(golden, (golden.gender == "F").astype(float), 0) - dense_u(golden, np.ones(golden.n), 0)
    assert diff.se**2 == pytest.approx(psu_var(golden, u), rel=1e-10)
    assert diff.correlation > 0
    assert diff.estimate == pytest.approx(by_gender.get("F", "q1").estimate - by_gender.get(None, "q1").estimate)
    assert diff.ci_method == "wald-t" and diff.df == 5


def test_independent_difference_adds_variances(by_gender):
    a, b = by_gender.get("F", "q1"), by_gender.get("M", "q1")
    diff = difference(by_gender, ("F", "q1", "share"), ("M", "q1", "share"), independent=True, method="wald")
    assert diff.se**2 == pytest.approx(a.se**2 + b.se**2, rel=1e-12)


def test_mover_near_the_boundary(by_gender):
    m1, m2 = by_gender.get("M", "q1"), by_gender.get("M", "q2")
    diff = difference(by_gender, ("M", "q1", "share"), ("M", "q2", "share"))
    assert diff.ci_method == "mover"  # both shares above 0.95
    r = diff.correlation
    lo = diff.estimate - np.sqrt(
        (m1.estimate - m1.ci[0]) ** 2 + (m2.ci[1] - m2.estimate) ** 2
        - 2 * r * (m1.estimate - m1.ci[0]) * (m2.ci[1] - m2.estimate)
    )  # fmt: skip
    assert diff.ci[0] == pytest.approx(lo, rel=1e-12)
    assert diff.ci[0] < diff.estimate < diff.ci[1]


def test_trend_equals_half_the_end_to_end_difference_for_three_periods(by_gender):
    keys = [("F", "q1", "share"), (None, "q1", "share"), ("M", "q1", "share")]
    tr = trend(by_gender, keys)
    d = difference(by_gender, keys[2], keys[0], method="wald")
    assert tr.slope == pytest.approx(d.estimate / 2, rel=1e-12)
    assert tr.se == pytest.approx(d.se / 2, rel=1e-12)
    with pytest.raises(EstimationError):
        trend(by_gender, keys[:1])


@pytest.mark.parametrize(
    ("p", "expected_holm", "expected_bh"),
    [
        ([0.01, 0.02, 0.03, 0.04, 0.05], [0.05, 0.08, 0.09, 0.09, 0.09], [0.05] * 5),
        ([0.04, 0.001, 0.03, 0.5], [0.09, 0.004, 0.09, 0.5], [0.04 * 4 / 3, 0.004, 0.04 * 4 / 3, 0.5]),
    ],
    ids=["increasing", "unordered"],
)
def test_multiplicity_matches_r_p_adjust(p, expected_holm, expected_bh):
    np.testing.assert_allclose(holm(p), expected_holm, rtol=1e-12)
    np.testing.assert_allclose(benjamini_hochberg(p), expected_bh, rtol=1e-12)


def test_difference_interval_for_independent_samples(by_gender):
    from scipy import stats

    from analytics import difference_interval

    m1, m2 = by_gender.get("M", "q1"), by_gender.get("M", "q2")  # both shares above 0.95
    se = float(np.hypot(m1.se, m2.se))
    (lo, hi), method = difference_interval(m1, m2, se, 5)
    delta = m1.estimate - m2.estimate
    assert method == "mover"
    assert lo == pytest.approx(delta - np.hypot(m1.estimate - m1.ci[0], m2.ci[1] - m2.estimate), rel=1e-12)
    assert hi == pytest.approx(delta + np.hypot(m1.ci[1] - m1.estimate, m2.estimate - m2.ci[0]), rel=1e-12)
    f = by_gender.get("F", "q1")  # below 0.95: Wald with t(df)
    (lo, hi), method = difference_interval(f, m1, se, 5)
    t = stats.t.ppf(0.975, 5)
    assert method == "wald-t"
    assert (lo, hi) == pytest.approx((f.estimate - m1.estimate - t * se, f.estimate - m1.estimate + t * se), rel=1e-12)


# -- Bonferroni: intervals at 1 - α/K and verdicts that always agree with them ---------------------------------


def test_bonferroni_matches_r_p_adjust():
    from analytics.comparisons import adjust, bonferroni

    p = [0.04, 0.001, 0.03, 0.5]
    np.testing.assert_allclose(bonferroni(p), [0.16, 0.004, 0.12, 1.0], rtol=1e-12)  # p.adjust(p, "bonferroni")
    np.testing.assert_allclose(adjust(p, "bonferroni"), bonferroni(p), rtol=0)
    assert bonferroni([]).shape == (0,)


def test_bonferroni_level_and_its_limits():
    from analytics.comparisons import bonferroni_level

    assert bonferroni_level(1) == pytest.approx(0.95)
    assert bonferroni_level(6) == pytest.approx(1 - 0.05 / 6)
    assert bonferroni_level(4, 0.90) == pytest.approx(0.975)
    with pytest.raises(EstimationError):
        bonferroni_level(0)
    with pytest.raises(EstimationError):
        bonferroni_level(3, 1.0)


@pytest.mark.parametrize("ci", ["beta", "xlogit", "wilson", "asin", "likelihood"])
def test_share_interval_at_another_level_is_the_engines_interval_at_that_level(golden, ci):
    from analytics.comparisons import share_interval_at

    def at(level):
        return estimate_from_rows(
            golden.w, golden.scores, ["q1", "q2"], strata=golden.stratum, psu=golden.psu, by=golden.gender,
            ci=ci, level=level,
        )  # fmt: skip

    e95, e99 = at(0.95), at(0.99)
    for a, b in zip(e95.estimates, e99.estimates, strict=True):
        assert share_interval_at(a, 0.95) == a.ci
        if np.isfinite(b.ci[0]):
            assert share_interval_at(a, 0.99) == pytest.approx(b.ci, rel=1e-9, abs=1e-12)


def test_mover_at_another_level_uses_the_single_share_intervals_at_that_level(golden, by_gender):
    at99 = estimate_from_rows(
        golden.w, golden.scores, ["q1", "q2"], strata=golden.stratum, psu=golden.psu, by=golden.gender, level=0.99
    )
    m1, m2 = at99.get("M", "q1"), at99.get("M", "q2")
    diff = difference(by_gender, ("M", "q1", "share"), ("M", "q2", "share"), level=0.99)  # was refused before
    assert diff.ci_method == "mover"
    r = diff.correlation
    x, y = m1.estimate - m1.ci[0], m2.ci[1] - m2.estimate
    assert diff.ci[0] == pytest.approx(diff.estimate - np.sqrt(x * x + y * y - 2 * r * x * y), rel=1e-9)
    at95 = difference(by_gender, ("M", "q1", "share"), ("M", "q2", "share"))
    assert diff.ci[0] < at95.ci[0] and diff.ci[1] > at95.ci[1]


def _share(by_gender, p, se, df=60, n=400, method="xlogit"):
    """An estimate of a share ``p`` with SE ``se`` and its interval by ``method`` at 95 %."""
    from dataclasses import replace

    from analytics import share_interval

    lo, hi = share_interval(p, se, df, n, method, 0.95)
    label = {"beta": "korn-graubard-nchs"}.get(method, method)
    return replace(by_gender.get("F", "q1"), estimate=p, se=se, df=df, n=n, ci=(float(lo), float(hi)), ci_method=label)


def test_an_unadjusted_interval_excluding_zero_is_not_significant_after_bonferroni(by_gender):
    """The filed issue: +3.2 points, unadjusted (+1.0 to +5.4) excludes zero; among 20 it does not."""
    from scipy import stats

    from analytics.comparisons import Contrast, bonferroni_differences

    a, b = _share(by_gender, 0.842, 0.009), _share(by_gender, 0.810, 0.004)
    contrast = Contrast(a, b, se=0.011, df=100, correlation=0.3)
    unadjusted = bonferroni_differences([contrast])[0]
    assert unadjusted.k == 1 and unadjusted.ci[0] > 0 and unadjusted.significant  # (+1.0 to +5.4) points
    assert unadjusted.ci == pytest.approx(
        (0.032 - stats.t.ppf(0.975, 100) * 0.011, 0.032 + stats.t.ppf(0.975, 100) * 0.011)
    )
    others = [Contrast(b, a, se=0.02, df=100)] * 19
    adjusted = bonferroni_differences([contrast, *others])[0]
    assert adjusted.k == 20 and adjusted.level == pytest.approx(1 - 0.05 / 20)
    t = stats.t.ppf(1 - 0.05 / 40, 100)
    assert adjusted.ci == pytest.approx((0.032 - t * 0.011, 0.032 + t * 0.011), rel=1e-12)
    assert adjusted.ci[0] < 0 < adjusted.ci[1]
    assert not adjusted.significant and adjusted.direction == "same"
    assert adjusted.p_adjusted == pytest.approx(20 * unadjusted.p_value) and adjusted.p_adjusted >= 0.05


def test_near_the_boundary_the_adjusted_interval_is_mover_from_adjusted_single_intervals(by_gender):
    from analytics.comparisons import Contrast, bonferroni_differences, share_interval_at

    a, b = _share(by_gender, 0.985, 0.004, method="beta"), _share(by_gender, 0.962, 0.006, method="beta")
    contrast = Contrast(a, b, se=float(np.hypot(0.004, 0.006)), df=60, correlation=0.2)
    got = bonferroni_differences([contrast] * 5)[0]
    assert got.ci_method == "mover" and got.level == pytest.approx(0.99)
    (l1, u1), (l2, u2) = share_interval_at(a, 0.99), share_interval_at(b, 0.99)
    assert (l1, u1) != a.ci
    x, y = a.estimate - l1, u2 - b.estimate
    assert got.ci[0] == pytest.approx(contrast.estimate - np.sqrt(x * x + y * y - 2 * 0.2 * x * y), rel=1e-12)
    x, y = u1 - a.estimate, b.estimate - l2
    assert got.ci[1] == pytest.approx(contrast.estimate + np.sqrt(x * x + y * y - 2 * 0.2 * x * y), rel=1e-12)
    assert got.significant == (got.ci[0] > 0 or got.ci[1] < 0)


@pytest.mark.slow
def test_adjusted_p_below_alpha_exactly_when_the_adjusted_interval_excludes_zero(by_gender):
    """Over many random tables of any K: for Wald intervals p_adjusted < α ⇔ the shown interval excludes 0;
    a MOVER interval (both shares ≥ 0.95) carries no p-value and its verdict is the interval's."""
    from scipy import stats

    from analytics.comparisons import Contrast, bonferroni_differences

    rng = np.random.default_rng(20261203)
    seen = {"wald-t": [0, 0], "mover": [0, 0]}
    for _ in range(150):
        k = int(rng.integers(1, 30))
        contrasts = []
        for _ in range(k):
            near = rng.random() < 0.3
            p1, p2 = (rng.uniform(0.95, 1.0, 2) if near else rng.uniform(0.3, 0.94, 2)).tolist()
            se1, se2 = rng.uniform(0.002, 0.03, 2).tolist()
            df = int(rng.integers(3, 200))
            method = "beta" if near and rng.random() < 0.5 else "xlogit"
            a, b = _share(by_gender, p1, se1, df, method=method), _share(by_gender, p2, se2, df, method=method)
            r = float(rng.uniform(-0.2, 0.9))
            contrasts.append(Contrast(a, b, float(np.sqrt(se1**2 + se2**2 - 2 * r * se1 * se2)), df, r))
        for c, d in zip(contrasts, bonferroni_differences(contrasts), strict=True):
            excludes = d.ci[0] > 0 or d.ci[1] < 0
            assert d.significant == excludes
            assert d.direction == ("above" if d.ci[0] > 0 else "below" if d.ci[1] < 0 else "same")
            assert d.k == k and d.level == pytest.approx(1 - 0.05 / k)
            assert d.ci[0] <= d.estimate <= d.ci[1]
            if d.ci_method == "wald-t":
                assert (d.p_adjusted < 0.05) == excludes
                t = stats.t.ppf(1 - 0.05 / (2 * k), c.df)
                assert d.ci == pytest.approx((d.estimate - t * c.se, d.estimate + t * c.se), rel=1e-9, abs=1e-15)
                assert d.p_adjusted == pytest.approx(min(1.0, k * 2 * stats.t.sf(abs(d.estimate) / c.se, c.df)))
            else:
                assert np.isnan(d.p_adjusted)
            seen[d.ci_method][excludes] += 1
    # both methods, both verdicts, were exercised
    assert min(seen["wald-t"]) > 50 and min(seen["mover"]) > 5, seen


def test_a_tie_at_the_boundary_is_decided_by_the_interval(by_gender):
    """p exactly α/K: the interval's limit sits on zero (up to rounding); p_adjusted follows the interval."""
    from scipy import stats

    from analytics.comparisons import Contrast, bonferroni_differences

    a = _share(by_gender, 0.80, 0.01)
    for k in (1, 3, 7):
        t = float(stats.t.ppf(1 - 0.05 / (2 * k), 50))
        b = _share(by_gender, 0.80 - t * 0.02, 0.01)
        d = bonferroni_differences([Contrast(a, b, 0.02, 50)] * k)[0]
        assert d.ci[0] == pytest.approx(0.0, abs=1e-15)
        assert (d.p_adjusted < 0.05) == d.significant


def test_a_difference_without_degrees_of_freedom_is_never_significant(by_gender):
    from analytics.comparisons import Contrast, bonferroni_differences

    a, b = _share(by_gender, 0.80, 0.01), _share(by_gender, 0.70, 0.01)
    (d,) = bonferroni_differences([Contrast(a, b, 0.01, 0)])
    assert np.isnan(d.p_value) and np.isnan(d.p_adjusted) and not d.significant and d.direction == "same"
    (exact,) = bonferroni_differences([Contrast(a, b, 0.0, 30)])  # no sampling error at all
    assert exact.p_adjusted == 0.0 and exact.significant and exact.direction == "above"


def test_adjusting_a_correlated_mover_interval_never_creates_significance(by_gender):
    """Shares 0.972 and 0.987 with correlation 0.85: MOVER at 99 % alone would exclude zero while the 95 %
    interval includes it; the adjusted interval covers the unadjusted one, so the verdict stays "same"."""
    from analytics.comparisons import Contrast, bonferroni_differences, difference_interval

    a, b = _share(by_gender, 0.972, 0.026, df=100), _share(by_gender, 0.987, 0.004, df=100)
    se = float(np.sqrt(0.026**2 + 0.004**2 - 2 * 0.85 * 0.026 * 0.004))
    contrast = Contrast(a, b, se=se, df=100, correlation=0.85)
    (lo95, hi95), _ = difference_interval(a, b, se, 100, correlation=0.85, level=0.95)
    (lo99, hi99), _ = difference_interval(a, b, se, 100, correlation=0.85, level=0.99)
    assert lo95 < 0 < hi95 and hi99 < 0  # the non-monotone case itself
    got = bonferroni_differences([contrast] * 5)[0]
    assert got.ci_method == "mover"
    assert got.ci[0] <= min(lo95, lo99) and got.ci[1] >= max(hi95, hi99)
    assert not got.significant and got.direction == "same"
