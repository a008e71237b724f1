"""Cell weights, raking, trimming and Kish diagnostics (STATISTICS.md §9)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics import DataError, cell_weights, empty_cells, kish, poststratify, rake, trim, trim_and_rake


def test_cell_weights_are_transactions_per_valid_response():
    cells = [("X", "land"), ("X", "land"), ("Y", "land"), ("X", "land")]
    answered = [True, True, True, False]
    w = cell_weights(cells, {("X", "land"): 300, ("Y", "land"): 40}, answered)
    np.testing.assert_allclose(w, [150, 150, 40, 0])


def test_cell_weights_need_every_cell_and_report_empty_cells():
    with pytest.raises(DataError, match="no transaction count for cell 'Z'"):
        cell_weights(["Z"], {"X": 1})
    assert empty_cells(["X"], {"X": 5, "Y": 3, "W": 0}) == ["Y"]


def test_poststratify_hits_the_totals(golden):
    w = poststratify(golden.w, golden.gender, {"F": 520, "M": 480})
    assert w[golden.gender == "F"].sum() == pytest.approx(520)
    with pytest.raises(DataError, match="no population total"):
        poststratify(golden.w, golden.gender, {"F": 520})


def test_rake_meets_margins_and_reports_non_convergence(golden):
    margins = [golden.gender, golden.age]
    totals = [{"F": 520, "M": 480}, {"young": 550, "old": 450}]
    res = rake(golden.w, margins, totals)
    assert res.converged and res.max_relative_error < 1e-9
    assert res.weights[golden.age == "young"].sum() == pytest.approx(550, rel=1e-9)
    assert res.weights[golden.gender == "M"].sum() == pytest.approx(480, rel=1e-9)
    once = rake(golden.w, margins, totals, maxit=1, epsilon=1e-15)
    assert not once.converged and once.iterations == 1


def test_trim_preserves_total_and_spreads_excess_equally():
    w = np.array([1.0, 1.0, 1.0, 10.0])
    out = trim(w, upper=4.0)
    assert out.sum() == pytest.approx(w.sum())
    np.testing.assert_allclose(out, [3.0, 3.0, 3.0, 4.0])
    # non-strict is one pass and may leave weights above the cap; strict iterates
    w2 = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 20.0])
    assert trim(w2, upper=6.0).max() > 6.0
    strict = trim(w2, upper=6.0, strict=True)
    assert strict.max() <= 6.0 + 1e-9
    assert strict.sum() == pytest.approx(w2.sum())


def test_trim_and_rake_respects_cap_and_margins_and_reports_kish():
    rng = np.random.default_rng(7)
    n = 400
    g = rng.choice(["F", "M"], n)
    a = rng.choice(["young", "old"], n, p=[0.8, 0.2])
    w = rng.lognormal(0, 1.2, n)
    totals = [{"F": 5200, "M": 4800}, {"young": 5000, "old": 5000}]
    res = trim_and_rake(w, [g, a], totals, cap_ratio=5.0)
    assert res.weights.max() <= res.cap * (1 + 1e-6)
    assert res.weights[a == "old"].sum() == pytest.approx(5000, rel=1e-8)
    assert res.kish_after == pytest.approx(kish(res.weights))
    d = res.to_dict()
    assert d["kish_deff_before"] > 1 and "rake" in d


def test_kish():
    n_eff, deff = kish([1, 1, 1, 1])
    assert (n_eff, deff) == (4.0, 1.0)


# -- collapsed cell factors (the app's weighting rule) -------------------------------------------------------------


def _weights_sum(counts, factors):  # type: ignore[no-untyped-def]
    return sum(n * factors[key] for key, n in counts.items())


def test_collapsed_cells_match_fields_and_pool_the_rest():
    from analytics import collapsed_cell_factors

    counts = {("a", "land", 1): 10, ("a", "civil", 1): 5, ("a", 0, 1): 5}
    transactions = {("a", "land", 1): 200, ("a", "civil", 1): 50, ("a", "tax", 1): 30}
    result = collapsed_cell_factors(counts, transactions)
    assert result.factors == {("a", "land", 1): 20.0, ("a", "civil", 1): 10.0, ("a", 0, 1): 6.0}
    assert _weights_sum(counts, result.factors) == 280
    assert result.notes == () and result.missing == ()


def test_unrepresented_fields_are_spread_over_answered_ones():
    from analytics import collapsed_cell_factors

    counts = {("a", "land", 1): 10, ("a", "civil", 1): 5}
    transactions = {("a", "land", 1): 200, ("a", "civil", 1): 50, ("a", "tax", 1): 250}
    result = collapsed_cell_factors(counts, transactions)
    assert result.factors == {("a", "land", 1): 40.0, ("a", "civil", 1): 20.0}
    assert _weights_sum(counts, result.factors) == 500
    assert "spread" in result.notes[0]


def test_pool_without_transactions_collapses_the_stratum_period():
    from analytics import collapsed_cell_factors

    counts = {("a", "land", 1): 10, ("a", 0, 1): 10}
    transactions = {("a", "land", 1): 300}
    result = collapsed_cell_factors(counts, transactions)
    assert result.factors == {("a", "land", 1): 15.0, ("a", 0, 1): 15.0}
    assert "collapsed" in result.notes[0]


def test_stratum_period_without_any_transactions_is_reported_missing():
    from analytics import collapsed_cell_factors

    result = collapsed_cell_factors({("a", "land", 1): 3, ("b", "land", 1): 4}, {("b", "land", 1): 40})
    assert result.missing == (("a", 1),)
    assert result.factors == {("b", "land", 1): 10.0}


# -- imputed cell factors: agency-months without transaction counts ------------------------------------------------

JAN, FEB, MAR, APR = (dt.date(2026, m, 1) for m in (1, 2, 3, 4))


def _volumes() -> dict[tuple[str, object, dt.date], float]:
    return {
        ("a", "land", JAN): 300,
        ("a", "civil", JAN): 100,
        ("a", "land", FEB): 200,
        ("a", "civil", FEB): 50,
        ("b", "land", FEB): 80,
        ("b", "land", MAR): 90,
    }


def _counts() -> dict[tuple[str, object, dt.date], float]:
    return {
        ("a", "land", FEB): 10,
        ("a", "civil", FEB): 5,
        ("b", "land", FEB): 4,
        ("b", "land", MAR): 3,
    }


def test_cells_with_counts_keep_exactly_their_collapsed_factors():
    from analytics.weighting import collapsed_cell_factors, imputed_cell_factors

    counts = _counts()
    plain = collapsed_cell_factors(counts, _volumes())
    counts[("a", "land", MAR)] = 6  # a month of "a" without any transaction count
    counts[("a", 0, MAR)] = 2
    result = imputed_cell_factors(counts, _volumes())
    assert {k: v for k, v in result.factors.items() if k[2] != MAR or k[0] != "a"} == plain.factors
    assert result.missing == ()


def test_a_month_without_counts_carries_the_latest_earlier_month_field_by_field():
    from analytics.weighting import CARRIED, imputed_cell_factors

    counts = {**_counts(), ("a", "land", MAR): 8, ("a", "civil", MAR): 2, ("a", 0, APR): 4}
    result = imputed_cell_factors(counts, _volumes())
    assert result.imputed[("a", MAR)].rule == CARRIED and result.imputed[("a", MAR)].source == FEB
    # February's counts (land 200, civil 50) stand for March, each field in its own cell
    assert result.factors[("a", "land", MAR)] == 200 / 8 and result.factors[("a", "civil", MAR)] == 50 / 2
    # April carries February too (the latest month with counts), its respondents pooled: 250 transactions
    assert result.imputed[("a", APR)].source == FEB and result.factors[("a", 0, APR)] == 250 / 4
    assert sum(n * result.factors[k] for k, n in counts.items() if k[2] == MAR and k[0] == "a") == 250


def test_without_an_earlier_month_the_earliest_later_month_is_carried_back():
    from analytics.weighting import imputed_cell_factors

    result = imputed_cell_factors({("b", "land", JAN): 5, ("b", "land", FEB): 4}, _volumes())
    assert result.imputed[("b", JAN)].source == FEB and result.factors[("b", "land", JAN)] == 80 / 5


def test_counts_further_than_the_carry_limit_give_the_median_weight_per_respondent():
    from analytics.weighting import TYPICAL, imputed_cell_factors

    far = dt.date(2027, 6, 1)  # 15 months after "b"'s last count, 16 after "a"'s
    counts = {**_counts(), ("b", "land", far): 2, ("c", "land", FEB): 7, ("c", 0, MAR): 1}
    result = imputed_cell_factors(counts, _volumes(), max_carry=12)
    # "c" has no counts at all and "b" none within 12 months of far: both get the median of
    # transactions ÷ respondents over the agency-months with their own counts: a Feb 250/15, b Feb 80/4, b Mar 90/3
    typical = float(np.median([250 / 15, 80 / 4, 90 / 3]))
    for key in (("b", far), ("c", FEB), ("c", MAR)):
        assert result.imputed[key].rule == TYPICAL and result.imputed[key].weight == typical
    assert result.factors[("c", "land", FEB)] == result.factors[("c", 0, MAR)] == typical
    assert result.factors[("b", "land", far)] == typical
    # a longer reach carries "b"'s March instead
    assert imputed_cell_factors(counts, _volumes(), max_carry=15).imputed[("b", far)].source == MAR


def test_imputed_shares_of_the_weight_per_stratum_and_in_all():
    from analytics.weighting import imputed_cell_factors

    counts = {**_counts(), ("a", "land", MAR): 10}
    result = imputed_cell_factors(counts, _volumes())
    # a: Feb 250 own + Mar 250 carried; b: 80 + 90, none imputed
    assert result.imputed_share("a") == pytest.approx(0.5)
    assert result.imputed_share("b") == 0.0
    assert result.imputed_share() == pytest.approx(250 / (500 + 170))
    assert imputed_cell_factors(_counts(), _volumes()).imputed_share() == 0.0


def test_no_counts_anywhere_leaves_everything_missing():
    from analytics.weighting import imputed_cell_factors

    result = imputed_cell_factors(_counts(), {})
    assert result.factors == {} and set(result.missing) == {("a", FEB), ("b", FEB), ("b", MAR)}
    assert result.imputed == {}


def test_months_are_counted_across_years_and_other_periods_are_refused():
    from analytics.weighting import imputed_cell_factors, month_number

    assert month_number(dt.date(2027, 1, 1)) - month_number(dt.date(2026, 12, 1)) == 1
    assert month_number(7) == 7
    with pytest.raises(DataError, match="weighting period"):
        month_number("2026-01")
    dec = dt.date(2025, 12, 1)
    result = imputed_cell_factors({("a", "land", dec): 5}, _volumes(), max_carry=1)
    assert result.imputed[("a", dec)].source == JAN  # one month later, across the new year


def test_calibrated_estimate_refuses_a_multistage_design():
    import pytest

    from analytics import Design
    from analytics.errors import DesignError
    from analytics.weighting import calibrated_estimate

    design = Design.from_rows(["S"] * 4, [["a", "a", "b", "b"], ["1", "2", "3", "4"]], [[4] * 4, [10] * 4])
    with pytest.raises(DesignError, match="single-stage"):
        calibrated_estimate(design, ["S"] * 4, ["a", "a", "b", "b"], [1.0, 0, 1, 1], [1.0] * 4, method="poststratify")
