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
