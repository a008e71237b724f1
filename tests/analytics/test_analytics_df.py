"""Degrees of freedom and estimability: one convention everywhere (STATISTICS.md §5.3).

Items are estimates over "domain and answered" (R ``svyciprop(~s, subset(des, domain & !is.na(q)))``);
composites and differences keep the domain df (``svycontrast`` on the domain design); PSUs whose weights
are all zero never count (R ``degf``).
"""

from __future__ import annotations

import math

import numpy as np

from analytics import composite_specs, estimate_from_rows

STRATA = np.array(["A"] * 6 + ["B"] * 4)
PSUS = np.array(["a1", "a1", "a2", "a2", "a3", "a3", "b1", "b1", "b2", "b2"])


def test_items_take_the_answered_df_and_composites_the_domain_df():
    # PSU a3 has respondents but none answered q1: q1's df loses it, q2's and the composite's do not
    q1 = [5.0, 4, 2, 5, np.nan, np.nan, 5, 5, 1, 4]
    q2 = [4.0, 4, 2, 5, 3, 5, 5, 1, 1, 4]
    res = estimate_from_rows(
        np.ones(10), np.column_stack([q1, q2]), ["q1", "q2"], strata=STRATA, psu=PSUS,
        composites=composite_specs({"overall": ["q1", "q2"]}, overall=None),
    )  # fmt: skip
    assert res.get(None, "q1").df == 2
    assert res.get(None, "q1").n == 8
    assert res.get(None, "q2").df == 3
    assert res.get(None, "overall").df == 3
    assert res.domain_df[None] == 3


def test_zero_weight_psus_do_not_count_towards_df():
    w = np.array([1.0, 1, 1, 1, 0, 0, 1, 1, 1, 1])  # PSU a3 weighs nothing
    y = np.array([5.0, 4, 2, 5, 5, 5, 5, 5, 1, 4])
    res = estimate_from_rows(w, y, ["q"], strata=STRATA, psu=PSUS)
    assert res.get(None, "q").df == 2
    assert res.domain_df[None] == 2
    # the zero-weight rows still count in n, as R's nrow(design)
    assert res.get(None, "q").n == 10


def test_an_estimate_that_is_not_estimable_has_no_standard_error():
    # domain "b" answered nothing: its item and overall shares are undefined and so are their SEs
    y = np.array([[5.0, 4], [4, 2], [2, 5], [5, 5], [np.nan, np.nan], [np.nan, np.nan]])
    by = np.array(["a", "a", "a", "a", "b", "b"])
    res = estimate_from_rows(
        np.ones(6), y, ["q1", "q2"], by=by, composites=composite_specs({"overall": ["q1", "q2"]}, overall=None)
    )
    overall = res.get("b", "overall")
    assert math.isnan(overall.estimate) and math.isnan(overall.se)
    assert overall.to_dict()["se"] is None and overall.to_dict()["estimate"] is None
    assert [f.code for f in overall.flags] == ["not_estimable"]
    assert res.get("a", "overall").se > 0
