"""PAR points from SIPAS indices with intervals and significance-aware ranking (DOMAIN.md §7)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import (
    Criterion,
    EstimationError,
    ParScheme,
    composite_specs,
    difference,
    estimate_from_rows,
    holm,
    par_points,
)


@pytest.fixture(scope="module")
def agencies_set():
    rng = np.random.default_rng(3)
    rows = []
    for a, p in (("north", 0.95), ("centre", 0.80), ("south", 0.78)):
        for j in range(6):
            for _ in range(40):
                rows.append((a, f"{a}-{j}", p))
    agency = np.array([r[0] for r in rows], dtype=object)
    psu = np.array([r[1] for r in rows], dtype=object)
    p = np.array([r[2] for r in rows])
    sat = rng.random((len(rows), 3)) < p[:, None]
    scores = np.where(sat, 5.0, 2.0)
    w = rng.uniform(1, 3, len(rows))
    specs = composite_specs({"access": ["q1", "q2"], "staff": ["q3"]})
    return estimate_from_rows(w, scores, ["q1", "q2", "q3"], strata=agency, psu=psu, by=agency, composites=specs)


SCHEME = ParScheme.from_dict(
    {
        "jurisdiction": "Tỉnh A",
        "year": 2025,
        "criteria": [
            {"code": "8.1", "max_points": 6.0, "index": "overall"},
            {"code": "8.2", "max_points": 2.0, "index": "staff", "conversion": "linear"},
        ],
    }
)


def test_points_are_max_times_index_with_interval_at_ci_limits(agencies_set):
    res = par_points(agencies_set, SCHEME, ["north", "centre", "south"])
    north = next(a for a in res.agencies if a.agency == "north")
    overall = agencies_set.get("north", "overall")
    c81 = north.criteria[0]
    assert c81.points == pytest.approx(6.0 * overall.estimate)
    assert c81.ci == pytest.approx((6.0 * overall.ci[0], 6.0 * overall.ci[1]))
    assert north.total == pytest.approx(c81.points + north.criteria[1].points)
    assert north.ci[0] < north.total < north.ci[1] <= SCHEME.max_points
    assert res.to_dict()["scheme"]["jurisdiction"] == "Tỉnh A"


def test_ranking_states_only_significant_differences(agencies_set):
    res = par_points(agencies_set, SCHEME, ["north", "centre", "south"])
    assert [a.rank for a in res.agencies] == [1, 2, 3]
    assert res.agencies[0].agency == "north"
    by_name = {a.agency: a for a in res.agencies}
    # agencies are separate strata: independent; recompute the Holm decision by hand from the points
    names = ["north", "centre", "south"]
    pairs = [(0, 1), (0, 2), (1, 2)]
    pvals = []
    for i, j in pairs:
        se_i, se_j = by_name[names[i]].se, by_name[names[j]].se
        diff = by_name[names[i]].total - by_name[names[j]].total
        from scipy import stats

        pvals.append(2 * stats.t.sf(abs(diff) / np.hypot(se_i, se_j), agencies_set.influence.design.df))
    adj = holm(pvals)
    for (i, j), p in zip(pairs, adj, strict=True):
        hi, lo = (names[i], names[j]) if by_name[names[i]].total > by_name[names[j]].total else (names[j], names[i])
        assert (lo in by_name[hi].significantly_above) == (p <= 0.05)
        assert (hi in by_name[lo].significantly_below) == (p <= 0.05)
    # the overall index difference agrees in sign with the ranking
    assert difference(agencies_set, ("north", "overall", "share"), ("south", "overall", "share")).estimate > 0


def test_scheme_validation():
    with pytest.raises(EstimationError, match="unknown conversion"):
        Criterion("x", 5.0, conversion="log")
    with pytest.raises(EstimationError, match="at least one criterion"):
        ParScheme.from_dict({"jurisdiction": "B", "year": 2024, "criteria": []})
    assert ParScheme.from_dict(SCHEME.to_dict()) == SCHEME
