"""Dashboard comparisons: Bonferroni-adjusted intervals and verdicts that cannot disagree (the filed issue)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from flask import Flask, render_template_string
from scipy import stats

from analytics import Difference, Estimate, estimate_from_rows, share_interval
from analytics.comparisons import share_interval_at
from survey.services.statistics.dashboard import ALPHA, Comparison, compared, with_bonferroni


@pytest.fixture(scope="module")
def base() -> Estimate:
    """A share estimate of a small synthetic design, whose fields the tests then set."""
    rng = np.random.default_rng(5)
    scores = rng.integers(1, 6, size=(60, 1)).astype(float)
    es = estimate_from_rows(
        np.ones(60), scores, ["q1"], strata=np.repeat([1, 2], 30), psu=np.repeat(np.arange(6), 10), by=None
    )
    return es.get(None, "q1")


def _share(base: Estimate, p: float, se: float, df: int = 100, method: str = "xlogit") -> Estimate:
    lo, hi = share_interval(p, se, df, 400, method, 0.95)
    label = {"beta": "korn-graubard-nchs"}.get(method, method)
    return replace(base, estimate=p, se=se, df=df, n=400, ci=(float(lo), float(hi)), ci_method=label, level=0.95)


def _wald(a: Estimate, b: Estimate, se: float, df: int = 100, r: float = 0.0) -> Comparison:
    """A comparison as the dashboard makes it (``compared``), from a Wald difference at 95 %."""
    delta = a.estimate - b.estimate
    t = float(stats.t.ppf(0.975, df))
    p = float(2 * stats.t.sf(abs(delta) / se, df))
    d = Difference(None, None, delta, se, df, (delta - t * se, delta + t * se), p, "wald-t", r)
    return compared(d, a, b)


def test_the_filed_issue_unadjusted_excludes_zero_bonferroni_does_not(base: Estimate) -> None:
    """+3.20 points, unadjusted (+1.02 to +5.38) excludes zero; one of 20 comparisons, it is not significant
    and the interval shown (the adjusted one) includes zero."""
    a, b = _share(base, 0.842, 0.009), _share(base, 0.810, 0.004)
    issue = _wald(a, b, 0.011)
    assert issue.ci is not None and issue.ci[0] > 0.01 and issue.ci[1] < 0.054  # unadjusted: excludes zero
    assert not issue.significant and issue.k is None  # not a verdict until adjusted
    others = [_wald(b, a, 0.02) for _ in range(19)]
    adjusted = with_bonferroni([issue, Comparison(unavailable="suppressed"), *others])[0]
    assert adjusted.k == 20 and adjusted.level == pytest.approx(1 - ALPHA / 20)
    assert adjusted.ci is not None and adjusted.ci[0] < 0 < adjusted.ci[1]
    assert not adjusted.significant and adjusted.direction == "same"
    assert adjusted.p_adjusted is not None and adjusted.p_adjusted >= ALPHA
    assert adjusted.p_adjusted == pytest.approx(20 * issue.p_value)  # type: ignore[operator]
    # Alone in its table the same difference is significant: the adjustment, not the data, changed.
    alone = with_bonferroni([issue])[0]
    assert alone.k == 1 and alone.significant and alone.direction == "above"
    assert alone.ci == pytest.approx(issue.ci)


def test_the_displayed_interval_and_verdict_are_the_adjusted_ones(app: Flask, base: Estimate) -> None:
    a, b = _share(base, 0.842, 0.009), _share(base, 0.810, 0.004)
    table = with_bonferroni([_wald(a, b, 0.011)] + [_wald(b, a, 0.02) for _ in range(19)])
    macro = '{% from "agency/_estimates.html" import compare, adjustment with context %}'
    with app.test_request_context("/?lang=en"):
        html = render_template_string(macro + "{{ compare(c) }}|{{ adjustment(cs) }}", c=table[0], cs=table)
    shown, note = html.split("|")
    assert "No significant difference" in shown and "Significantly" not in shown
    # the adjusted interval, 3.20 ± t(100, 1 - 0.05/40) × 1.1 points, includes zero
    assert "+3.20 pp" in shown and "(−0.21 pp to +6.61 pp)" in shown
    assert "+1.02 pp" not in shown  # not the unadjusted one
    assert "Bonferroni-adjusted for 20 comparisons (99.75% intervals)" in note


def test_only_comparisons_that_could_be_made_count(base: Estimate) -> None:
    a, b = _share(base, 0.70, 0.01), _share(base, 0.60, 0.01)
    made = [_wald(a, b, 0.012), _wald(b, a, 0.012), _wald(a, a, 0.01)]
    table = with_bonferroni([Comparison(unavailable="no_data"), *made, Comparison(unavailable="suppressed")])
    assert [c.k for c in table] == [None, 3, 3, 3, None]
    assert table[0] == Comparison(unavailable="no_data") and table[4] == Comparison(unavailable="suppressed")
    assert [c.direction for c in table] == ["same", "above", "below", "same", "same"]
    t = float(stats.t.ppf(1 - ALPHA / 6, 100))
    assert table[1].ci == pytest.approx((0.1 - t * 0.012, 0.1 + t * 0.012), rel=1e-12)
    assert with_bonferroni([]) == []


def test_near_the_boundary_the_verdict_comes_from_the_adjusted_mover_interval(base: Estimate) -> None:
    a, b = _share(base, 0.991, 0.003, method="beta"), _share(base, 0.962, 0.006, method="beta")
    se = float(np.hypot(0.003, 0.006))
    d = Difference(None, None, a.estimate - b.estimate, se, 100, (0.0, 0.0), 1e-5, "mover", 0.0)
    table = with_bonferroni([compared(d, a, b)] * 8)
    c = table[0]
    assert c.method == "mover" and c.k == 8 and c.p_adjusted is None  # no p-value matches a MOVER interval
    (l1, u1), (l2, u2) = share_interval_at(a, 1 - ALPHA / 8), share_interval_at(b, 1 - ALPHA / 8)
    delta = a.estimate - b.estimate
    assert c.ci == pytest.approx(
        (delta - np.hypot(a.estimate - l1, u2 - b.estimate), delta + np.hypot(u1 - a.estimate, b.estimate - l2))
    )
    assert c.significant == (c.ci is not None and (c.ci[0] > 0 or c.ci[1] < 0))
    assert c.direction == ("above" if c.significant else "same")
