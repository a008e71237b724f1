"""CI methods at and near the boundary, R-compatibility switch and NCHS flags (STATISTICS.md §7, §12)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analytics import korn_graubard, share_interval, wald_t_interval
from analytics.flags import mean_flags, nchs_n_eff, share_flags


@pytest.mark.parametrize("method", ["beta", "xlogit", "asin", "wilson", "likelihood"], ids=str)
def test_r_compatible_gives_nan_at_p_equal_1(method):
    lo, hi = share_interval(1.0, 0.0, 5, 26, method, r_compatible=True)
    assert np.isnan(lo) and np.isnan(hi)


@pytest.mark.parametrize("method", ["logit", "mean"], ids=str)
def test_r_compatible_logit_and_mean_give_point_at_p_equal_1(method):
    lo, hi = share_interval(1.0, 0.0, 5, 26, method, r_compatible=True)
    assert (float(lo), float(hi)) == (1.0, 1.0)


@pytest.mark.parametrize("method", ["beta", "xlogit", "logit", "asin", "wilson", "likelihood"], ids=str)
@pytest.mark.parametrize("p", [0.0, 1.0], ids=["p0", "p1"])
def test_boundary_rule_uses_nchs_closed_form(method, p):
    n, df, alpha = 40, 12, 0.05
    ratio2 = (stats.t.ppf(alpha / 2, n - 1) / stats.t.ppf(alpha / 2, df)) ** 2
    n_kg = n * ratio2
    lo, hi = share_interval(p, 0.0, df, n, method)
    edge = (alpha / 2) ** (1 / n_kg)
    expected = (edge, 1.0) if p == 1.0 else (0.0, 1 - edge)
    assert (float(lo), float(hi)) == pytest.approx(expected, rel=1e-12)


def test_df_zero_is_not_estimable_for_every_method():
    for method in ("beta", "xlogit", "logit", "asin", "mean", "wilson", "likelihood"):
        lo, hi = share_interval(0.6, 0.1, 0, 20, method)
        assert np.isnan(lo) and np.isnan(hi), method
    flags = share_flags(0.6, 0.1, 20, 0, math.nan, math.nan)
    assert [f.code for f in flags] == ["not_estimable"] and flags[0].suppress


def test_nchs_cap_at_n_differs_from_r():
    # tiny variance: n* (t_{n-1}/t_df)^2 far above n, so NCHS caps at n and widens the interval
    p, var, n, df = 0.9, 1e-6, 50, 30
    lo_n, hi_n = korn_graubard(p, var, n, df)
    lo_r, hi_r = korn_graubard(p, var, n, df, r_compatible=True)
    assert hi_n - lo_n > hi_r - lo_r
    # with the cap the interval is the Clopper-Pearson interval at n
    assert float(lo_n) == pytest.approx(stats.beta.ppf(0.025, n * p, n * (1 - p) + 1), rel=1e-12)


def test_asin_angle_is_clamped_unless_r_compatible():
    p, se, df, n = 0.97, 0.08, 10, 30
    _, hi = share_interval(p, se, df, n, "asin")
    _, hi_r = share_interval(p, se, df, n, "asin", r_compatible=True)
    assert float(hi) == 1.0
    assert float(hi_r) < 1.0  # R folds the angle back below 1


def test_wilson_is_the_r45_variant_with_design_based_n_star():
    p, se, df, n = 0.8, 0.05, 20, 100
    n_star = p * (1 - p) / se**2
    t = stats.t.ppf(0.975, df)
    centre = (p + t * t / (2 * n_star)) / (1 + t * t / n_star)
    half = t / (2 * n_star) * math.sqrt(4 * n_star * p * (1 - p) + t * t) / (1 + t * t / n_star)
    lo, hi = share_interval(p, se, df, n, "wilson")
    assert (float(lo), float(hi)) == pytest.approx((centre - half, centre + half), rel=1e-12)


def test_likelihood_limits_solve_the_scaled_likelihood_ratio_equation():
    p, se, df, n = np.array([0.3, 0.8, 0.97]), np.array([0.06, 0.05, 0.01]), 14, 90
    lo, hi = share_interval(p, se, df, n, "likelihood")
    t = stats.t.ppf(0.975, df)
    n_star = p * (1 - p) / se**2 * (n - 1) / n
    for limit in (lo, hi):
        kl = p * np.log(p / limit) + (1 - p) * np.log((1 - p) / (1 - limit))
        np.testing.assert_allclose(2 * n_star * kl, t * t, rtol=1e-10)
    assert np.all((lo < p) & (p < hi))
    # asymmetric towards the boundary, like the Wilson and beta intervals
    assert hi[2] - p[2] < p[2] - lo[2]


def test_logit_equals_xlogit_inside_the_unit_interval():
    args = (np.array([0.2, 0.7, 0.95]), np.array([0.05, 0.08, 0.02]), 9, 60)
    np.testing.assert_allclose(share_interval(*args, "logit"), share_interval(*args, "xlogit"), rtol=1e-14)


def test_vectorised_and_unknown_method():
    lo, hi = share_interval(np.array([0.3, 0.5]), np.array([0.05, 0.05]), np.array([10, 0]), 40, "xlogit")
    assert np.isfinite(lo[0]) and np.isnan(lo[1])
    with pytest.raises(ValueError, match="unknown CI method"):
        share_interval(0.5, 0.1, 5, 10, "exact")
    with pytest.raises(ValueError, match="level"):
        share_interval(0.5, 0.1, 5, 10, "beta", level=95)


def test_mean_score_interval_uses_t_df():
    lo, hi = wald_t_interval(4.0, 0.1, 7)
    t = stats.t.ppf(0.975, 7)
    assert (float(lo), float(hi)) == pytest.approx((4 - t * 0.1, 4 + t * 0.1))


@pytest.mark.parametrize(
    ("p", "se", "n", "df", "lo", "hi", "codes"),
    [
        pytest.param(0.9, 0.1, 20, 20, 0.6, 0.98, ["suppress_small_n_eff"], id="small-n_eff"),
        pytest.param(0.9, 0.01, 900, 30, 0.88, 0.92, [], id="narrow-presented"),
        pytest.param(0.5, 0.08, 900, 30, 0.34, 0.66, ["suppress_wide_ci"], id="wide"),
        pytest.param(0.1, 0.03, 900, 30, 0.01, 0.15, ["suppress_relative_width"], id="relative-width"),
        pytest.param(0.95, 0.02, 900, 30, 0.89, 0.98, ["review_complement"], id="complement"),
        pytest.param(0.8, 0.03, 900, 5, 0.72, 0.86, ["low_df"], id="low-df"),
        pytest.param(1.0, 0.0, 200, 30, 0.98, 1.0, ["boundary"], id="boundary"),
    ],
)
def test_nchs_flags(p, se, n, df, lo, hi, codes):
    flags = share_flags(p, se, n, df, lo, hi)
    assert [f.code for f in flags] == codes
    assert all(f.reason for f in flags)


@pytest.mark.parametrize(
    ("p", "se", "n", "df", "lo", "hi", "codes"),
    [
        # p̂ = 1 with n = 30, df 1: width 0 and n_eff = n, so presented with its review flags (the KG
        # interval at the boundary is wide, but the standard counts the width as 0 there)
        pytest.param(1.0, 0.0, 30, 1, 0.4, 1.0, ["low_df", "boundary"], id="p1-n30-df1-presented"),
        pytest.param(0.0, 0.0, 29, 20, 0.0, 0.12, ["suppress_small_n_eff"], id="p0-n29-suppressed"),
        pytest.param(0.0, 0.0, 30, 20, 0.0, 0.12, ["boundary"], id="p0-n30-presented"),
        # presented by the width ≤ 0.05 rule: no complement check although width/(1-p) = 2.1
        pytest.param(0.989, 0.004, 900, 30, 0.975, 0.998, [], id="narrow-no-complement"),
        pytest.param(0.8, 0.01, 900, 30, 0.775, 0.825, [], id="width-exactly-0.05"),
        pytest.param(0.97, 0.01, 900, 30, 0.9499, 1.0, ["review_complement"], id="width-0.0501-complement"),
        pytest.param(0.97, 0.01, 900, 30, 0.95, 0.989, [], id="complement-exactly-1.30"),
        pytest.param(0.5, 0.05, 900, 30, 0.35, 0.65, ["suppress_wide_ci"], id="width-exactly-0.30"),
        pytest.param(0.5, 0.05, 900, 30, 0.3501, 0.65, [], id="width-just-below-0.30"),
        pytest.param(0.2, 0.05, 900, 30, 0.1, 0.36, [], id="relative-width-exactly-1.30"),
        pytest.param(0.2, 0.05, 900, 30, 0.1, 0.3601, ["suppress_relative_width"], id="relative-width-over"),
        # a suppressed value carries its suppression only: no low_df, no boundary
        pytest.param(0.5, 0.08, 900, 3, 0.2, 0.8, ["suppress_wide_ci"], id="suppressed-low-df"),
        pytest.param(1.0, 0.0, 12, 3, 0.7, 1.0, ["suppress_small_n_eff"], id="suppressed-boundary"),
    ],
)
def test_nchs_flags_at_each_threshold(p, se, n, df, lo, hi, codes):
    assert [f.code for f in share_flags(p, se, n, df, lo, hi)] == codes


def test_nchs_n_eff_capped_and_boundary():
    assert nchs_n_eff(0.5, 0.001, 100) == 100
    assert nchs_n_eff(1.0, 0.0, 37) == 37
    assert nchs_n_eff(0.5, 0.1, 100) == pytest.approx(25)


def test_mean_flags():
    codes = [f.code for f in mean_flags(20, 10, 4.0, 0.2, 3.5, 4.5)]
    assert codes == ["suppress_small_n", "review_wide_ci"]
    assert mean_flags(100, 30, 4.0, 0.05, 3.9, 4.1) == ()


def test_flags_do_not_flip_with_rounding_at_a_threshold():
    # n = 31 with a design effect of exactly 1 gives n* = 30 in exact arithmetic; both roundings agree.
    p, n = 0.6, 31
    exact_se = math.sqrt(p * (1 - p) / 30)
    codes = {
        tuple(f.code for f in share_flags(p, se, n, 20, p - 0.1, p + 0.1))
        for se in (exact_se * (1 - 1e-15), exact_se, exact_se * (1 + 1e-15))
    }
    assert len(codes) == 1
    # a real shortfall is still flagged
    assert "suppress_small_n_eff" in {f.code for f in share_flags(p, exact_se * 1.01, n, 20, p - 0.1, p + 0.1)}
