"""PAR Index share fed by SIPAS indices (DOMAIN.md §7).

The rule is configured per province (or ministry) and year, because the official SIPAS-to-points
conversion is unconfirmed. A :class:`ParScheme` lists criteria ``{code, max_points, index, conversion}``;
``index`` names an estimate target (``"overall"`` or an element) and ``conversion="linear"`` (the only
known form) gives ``points = max_points × index``. Because the conversion is increasing, the points at
the CI limits are the CI of the points. The total over criteria is a linear combination of estimates of
the same domain; its SE comes from the joint linearisation and its interval from ``xlogit`` on the
fraction of the maximum (so it stays within [0, max]).

Ranking: agencies are ordered by total points; every pair is tested (difference with covariance, t(df))
and p-values are Holm-adjusted, so a statement "A is above B" is made only when it is significant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from .comparisons import _p_value, adjust
from .errors import EstimationError
from .estimators import EstimateSet
from .intervals import share_interval

CONVERSIONS = ("linear",)


@dataclass(frozen=True)
class Criterion:
    """One PAR criterion scored from a SIPAS index."""

    code: str
    max_points: float
    index: str = "overall"
    conversion: str = "linear"
    kind: str = "share"

    def __post_init__(self) -> None:
        if self.conversion not in CONVERSIONS:
            raise EstimationError(f"criterion {self.code!r}: unknown conversion {self.conversion!r} (known: linear)")
        if not self.max_points > 0:
            raise EstimationError(f"criterion {self.code!r}: max_points must be positive")

    def points(self, value: float) -> float:
        return self.max_points * value


@dataclass(frozen=True)
class ParScheme:
    """Configured PAR scoring rule for one jurisdiction and year."""

    jurisdiction: str
    year: int
    criteria: tuple[Criterion, ...]

    @property
    def max_points(self) -> float:
        return float(sum(c.max_points for c in self.criteria))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParScheme:
        crit = tuple(
            Criterion(
                str(c["code"]),
                float(c["max_points"]),
                str(c.get("index", "overall")),
                str(c.get("conversion", "linear")),
                str(c.get("kind", "share")),
            )
            for c in data.get("criteria", ())
        )
        if not crit:
            raise EstimationError("a PAR scheme needs at least one criterion")
        return cls(str(data["jurisdiction"]), int(data["year"]), crit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.jurisdiction,
            "year": self.year,
            "criteria": [
                {
                    "code": c.code,
                    "max_points": c.max_points,
                    "index": c.index,
                    "conversion": c.conversion,
                    "kind": c.kind,
                }
                for c in self.criteria
            ],
        }


@dataclass(frozen=True)
class CriterionPoints:
    code: str
    points: float
    ci: tuple[float, float]
    max_points: float

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "points": self.points, "ci": list(self.ci), "max_points": self.max_points}


@dataclass(frozen=True)
class AgencyPoints:
    """Points of one agency: per criterion and in total, with intervals, rank and significant differences."""

    agency: Any
    criteria: tuple[CriterionPoints, ...]
    total: float
    se: float
    ci: tuple[float, float]
    rank: int
    significantly_above: tuple[Any, ...]
    significantly_below: tuple[Any, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "criteria": [c.to_dict() for c in self.criteria],
            "total": self.total,
            "se": self.se,
            "ci": list(self.ci),
            "rank": self.rank,
            "significantly_above": list(self.significantly_above),
            "significantly_below": list(self.significantly_below),
        }


@dataclass(frozen=True)
class ParResult:
    scheme: ParScheme
    agencies: tuple[AgencyPoints, ...]
    adjustment: str
    alpha: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme.to_dict(),
            "adjustment": self.adjustment,
            "alpha": self.alpha,
            "agencies": [a.to_dict() for a in self.agencies],
        }


def par_points(
    es: EstimateSet,
    scheme: ParScheme,
    agencies: Sequence[Any],
    *,
    level: float = 0.95,
    adjustment: str = "holm",
) -> ParResult:
    """Score each agency (a domain of ``es``) under ``scheme``, with intervals and a significance-aware rank."""
    if not agencies:
        raise EstimationError("no agencies to score")
    alpha = 1 - level
    max_total = scheme.max_points
    n_est = len(es.estimates)
    coef = np.zeros((len(agencies), n_est))
    rows: list[tuple[Any, tuple[CriterionPoints, ...], float]] = []
    for a_i, agency in enumerate(agencies):
        crit_points = []
        total = 0.0
        for c in scheme.criteria:
            idx = es.index(agency, c.index, c.kind)
            e = es.estimates[idx]
            coef[a_i, idx] += c.max_points
            pts = c.points(e.estimate)
            total += pts
            crit_points.append(CriterionPoints(c.code, pts, (c.points(e.ci[0]), c.points(e.ci[1])), c.max_points))
        rows.append((agency, tuple(crit_points), total))
    combined = es.influence.combine(coef)
    cov = combined.covariance(list(range(len(agencies))))
    df_dom = [es.domain_df.get(a, 0) for a in agencies]
    totals = np.array([r[2] for r in rows])
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    n_proxy = np.array([max(es.get(a, scheme.criteria[0].index, scheme.criteria[0].kind).n, 1) for a in agencies])
    lo, hi = share_interval(totals / max_total, se / max_total, np.array(df_dom, dtype=float), n_proxy, "xlogit", level)
    # pairwise differences with covariance, Holm/BH adjusted
    design_df = es.influence.design.df
    pairs = list(combinations(range(len(agencies)), 2))
    p_raw = []
    for i, j in pairs:
        var = cov[i, i] + cov[j, j] - 2 * cov[i, j]
        d = totals[i] - totals[j]
        stat = d / math.sqrt(var) if var > 0 else (0.0 if d == 0 else math.inf)
        p_raw.append(_p_value(stat, design_df))
    p_adj = adjust(p_raw, adjustment) if pairs else np.zeros(0)
    above: dict[int, list[Any]] = {i: [] for i in range(len(agencies))}
    below: dict[int, list[Any]] = {i: [] for i in range(len(agencies))}
    for (i, j), p in zip(pairs, p_adj, strict=True):
        if p <= alpha:
            hi_i, lo_i = (i, j) if totals[i] > totals[j] else (j, i)
            above[hi_i].append(agencies[lo_i])
            below[lo_i].append(agencies[hi_i])
    order = np.argsort(-totals, kind="stable")
    rank = np.empty(len(agencies), dtype=int)
    rank[order] = np.arange(1, len(agencies) + 1)
    out = tuple(
        AgencyPoints(
            agency=rows[i][0],
            criteria=rows[i][1],
            total=float(totals[i]),
            se=float(se[i]),
            ci=(float(lo[i] * max_total), float(hi[i] * max_total)),
            rank=int(rank[i]),
            significantly_above=tuple(above[i]),
            significantly_below=tuple(below[i]),
        )
        for i in order
    )
    return ParResult(scheme, out, adjustment, alpha)
