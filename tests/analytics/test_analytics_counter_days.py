"""The counter-day design from PSU roll-ups (analytics.counter_days) and differences of independent samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analytics import (
    DAY_SPAN,
    EstimationError,
    ResponseCells,
    composite_specs,
    counter_day_sums,
    difference,
    estimate_from_rows,
    estimate_from_sums,
    independent_difference,
    independent_trend,
    psu_codes,
    psu_days,
    row_weights,
    trend,
)


def _sample(seed: int = 3):
    """Respondents of 3 agencies, 2 counters each, over 6 days; 3 items with non-response."""
    rng = np.random.default_rng(seed)
    n = 240
    agency = rng.integers(1, 4, n)
    counter = agency * 10 + rng.integers(0, 2, n)
    day = 20_400 + rng.integers(0, 6, n)
    w = rng.choice([1.5, 2.0, 3.5], n)
    scores = rng.integers(1, 6, (n, 3)).astype(float)
    scores[rng.random((n, 3)) < 0.15] = np.nan
    return agency, counter, day, w, scores


def _roll_up(agency, counter, day, w, scores, item_ids):  # type: ignore[no-untyped-def]
    """What the SQL does: response cells per agency × counter-day × weight, and PSU × item sums."""
    psu = psu_codes(counter, day)
    keys, inverse = np.unique(np.column_stack([agency, counter, day, w]), axis=0, return_inverse=True)
    n = np.bincount(inverse.reshape(-1))
    cells = ResponseCells(keys[:, 0], keys[:, 1], keys[:, 2], n, keys[:, 3])
    rows = []
    for k, item_id in enumerate(item_ids):
        valid = ~np.isnan(scores[:, k])
        for a, p in sorted(set(zip(agency[valid].tolist(), psu[valid].tolist(), strict=True))):
            m = valid & (agency == a) & (psu == p)
            y, ww = scores[m, k], w[m]
            rows.append([a, p, item_id, m.sum(), ww.sum(), ww[y >= 4].sum(), (ww * y).sum(), (ww * y * y).sum(),
                         (ww * ww).sum()])  # fmt: skip
    table = np.array(rows, dtype=float)
    names = ("stratum", "psu", "item", "n", "swd", "sws", "swdy", "swdyy", "swwd")
    return cells, {name: table[:, i] for i, name in enumerate(names)}


def test_psu_codes_round_trip() -> None:
    codes = psu_codes(np.array([3, 17]), np.array([20_400, 20_401]))
    assert codes.tolist() == [3 * DAY_SPAN + 20_400, 17 * DAY_SPAN + 20_401]
    assert psu_days(codes).tolist() == [20_400, 20_401]


def test_row_weights_unweighted_and_weighted() -> None:
    assert row_weights({}, [], 3).tolist() == [1.0, 1.0, 1.0]
    assert row_weights({("a", 1): 2.5, ("b", 1): 4.0}, [("b", 1), ("a", 1)], 2).tolist() == [4.0, 2.5]


def test_counter_day_sums_equal_row_level_estimates() -> None:
    agency, counter, day, w, scores = _sample()
    item_ids = [11, 12, 15]
    cells, psu_items = _roll_up(agency, counter, day, w, scores, item_ids)
    sums = counter_day_sums(cells, psu_items, item_ids, ["q1", "q2", "q3"], total=0)
    pairs = set(zip(agency.tolist(), counter.tolist(), day.tolist(), strict=True))
    assert sums.design.strata == (1, 2, 3)
    assert sums.n_psus == len(pairs)
    assert sums.answered == ("q1", "q2", "q3")
    assert set(np.unique(sums.items.domain).tolist()) == {0, 1, 2, 3}
    specs = composite_specs({"e": ["q1", "q2", "q3"]})
    ours = estimate_from_sums(sums.design, sums.items, sums.respondents, composites=specs)
    psu = [f"{c}-{d}" for c, d in zip(counter.tolist(), day.tolist(), strict=True)]
    rows = estimate_from_rows(
        w, scores, ["q1", "q2", "q3"], strata=agency, psu=psu, by=agency, lonely_psu="certainty", composites=specs
    )
    for e in rows.estimates:
        domain = 0 if e.domain is None else e.domain
        mine = ours.get(domain, e.target, e.kind)
        assert mine.estimate == pytest.approx(e.estimate, rel=1e-12)
        assert mine.se == pytest.approx(e.se, rel=1e-9, abs=1e-15)
        assert mine.df == e.df and mine.n == e.n


def test_counter_day_sums_without_total_and_unanswered_item() -> None:
    agency, counter, day, w, scores = _sample(4)
    scores[:, 2] = np.nan
    cells, psu_items = _roll_up(agency, counter, day, w, scores, [1, 2])
    sums = counter_day_sums(cells, psu_items, [1, 2, 3], ["a", "b", "c"])
    assert sums.answered == ("a", "b")
    assert set(np.unique(sums.items.domain).tolist()) == {1, 2, 3}
    assert len(sums.respondents) == len(cells.n)


@pytest.fixture(scope="module")
def by_gender(golden):  # type: ignore[no-untyped-def]
    return estimate_from_rows(
        golden.w, golden.scores, ["q1", "q2"], strata=golden.stratum, psu=golden.psu, by=golden.gender
    )


def test_independent_difference_adds_variances_with_the_smaller_df(by_gender) -> None:  # type: ignore[no-untyped-def]
    a, b = by_gender.get("F", "q1"), by_gender.get(None, "q2")
    d = independent_difference(a, b, method="wald")
    assert d is not None
    assert d.se == pytest.approx(math.sqrt(a.se**2 + b.se**2), rel=1e-15)
    assert d.df == min(a.df, b.df)
    assert d.p_value == pytest.approx(2 * stats.t.sf(abs(d.estimate / d.se), d.df), rel=1e-15)
    assert d.correlation == 0.0 and d.first == ("F", "q1", "share")
    same = difference(by_gender, ("F", "q1", "share"), (None, "q2", "share"), independent=True, method="wald")
    assert d.se == pytest.approx(same.se, rel=1e-12)


def test_independent_difference_not_estimable_and_certain(by_gender) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    a = by_gender.get("F", "q1")
    assert independent_difference(a, replace(a, df=0)) is None
    assert independent_difference(a, replace(a, se=math.inf)) is None
    exact = independent_difference(replace(a, se=0.0), replace(a, se=0.0, estimate=a.estimate / 2), method="wald")
    assert exact is not None and exact.p_value == 0.0


def test_independent_trend_equals_trend_with_diagonal_covariance(by_gender) -> None:  # type: ignore[no-untyped-def]
    keys = [("F", "q1", "share"), (None, "q1", "share"), ("M", "q1", "share")]
    joint = trend(by_gender, keys, independent=True)
    line = independent_trend([by_gender.get(*k) for k in keys], [1.0, 2.0, 3.0])
    assert line is not None
    assert line.slope == pytest.approx(joint.slope, rel=1e-12)
    assert line.se == pytest.approx(joint.se, rel=1e-12)
    with pytest.raises(EstimationError):
        independent_trend([by_gender.get(*keys[0])], [1.0])
