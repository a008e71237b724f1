"""Cell weights, raking, trimming and Kish diagnostics (STATISTICS.md §9)."""

from __future__ import annotations

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
