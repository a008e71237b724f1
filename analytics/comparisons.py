"""Differences, trends and multiplicity adjustment (STATISTICS.md §11).

Estimates from one :class:`~analytics.estimators.EstimateSet` share a design, so their covariance comes
from the joint linearisation (positive for an agency against the national figure containing it; zero
for agencies that are separate strata). Estimates from separately drawn samples (PSUs redefined each
period) are compared with ``independent=True``: ``V = V_1 + V_2``.

Degrees of freedom of a contrast: the full-design df (R ``svycontrast`` of ``svyby`` results).

A table of K comparisons shown with intervals is adjusted by Bonferroni (:func:`bonferroni_differences`):
each interval is computed at level ``1 - α/K`` and a difference is significant exactly when that interval
excludes zero, which for a Wald interval is exactly ``min(1, K p) < α``. Holm's step-down p-values
(:func:`holm`) are more powerful but have no matching intervals, so an interval and a verdict could
disagree; they remain for tables that show no intervals (the PAR ranking's pairwise comparisons).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special  # t tail probabilities: t.sf(x, df) is special.stdtr(df, -x)

from .errors import EstimationError
from .estimators import Estimate, EstimateSet
from .intervals import SHARE_METHODS, share_interval, t_quantile, wald_t_interval

Key = tuple[Any, str, str] | int
MOVER_THRESHOLD = 0.95


@dataclass(frozen=True)
class Difference:
    """``first - second`` with SE, CI, two-sided t p-value and the CI method (``wald-t`` or ``mover``)."""

    first: Any
    second: Any
    estimate: float
    se: float
    df: int
    ci: tuple[float, float]
    p_value: float
    ci_method: str
    correlation: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": _plain(self.first),
            "second": _plain(self.second),
            "estimate": self.estimate,
            "se": self.se,
            "df": self.df,
            "ci": list(self.ci),
            "p_value": self.p_value,
            "ci_method": self.ci_method,
            "correlation": self.correlation,
        }


def _plain(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


def _p_value(stat: float, df: float) -> float:
    if not math.isfinite(stat) or not df > 0:
        return math.nan
    return float(2 * special.stdtr(df, -abs(stat)))


def difference(
    es: EstimateSet,
    first: Key,
    second: Key,
    *,
    level: float = 0.95,
    independent: bool = False,
    method: str = "auto",
) -> Difference:
    """Difference of two estimates (two domains, two periods, agency vs national) with covariance.

    ``method="auto"`` uses MOVER/Newcombe (from the two single-share intervals and the linearised
    correlation) when both are shares ≥ 0.95, else Wald with t(df); ``"wald"`` or ``"mover"`` force one.
    """
    if method not in ("auto", "wald", "mover"):
        raise EstimationError("method must be 'auto', 'wald' or 'mover'")
    i = first if isinstance(first, int) else es.index(*first)
    j = second if isinstance(second, int) else es.index(*second)
    a, b = es.estimates[i], es.estimates[j]
    cov = es.influence.covariance([i, j])
    if independent:
        cov[0, 1] = cov[1, 0] = 0.0
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(var) if var > 0 else 0.0
    denom = math.sqrt(cov[0, 0] * cov[1, 1])
    r = float(cov[0, 1] / denom) if denom > 0 else 0.0
    # two figures of one domain: the domain design's df (R svycontrast on it); across domains the full
    # design's (svycontrast on svyby)
    df = es.domain_df.get(a.domain, es.influence.design.df) if a.domain == b.domain else es.influence.design.df
    delta = a.estimate - b.estimate
    ci, label = difference_interval(a, b, se, df, correlation=r, level=level, method=method)
    stat = delta / se if se > 0 else (0.0 if delta == 0 else math.inf)
    return Difference(first, second, delta, se, df, ci, _p_value(stat, df), label, r)


def independent_difference(a: Estimate, b: Estimate, *, level: float = 0.95, method: str = "auto") -> Difference | None:
    """``a - b`` for estimates of independently drawn samples, e.g. two periods whose PSUs (counter-days)
    cannot recur: ``V = V_1 + V_2``, df = min(df_1, df_2), correlation 0; None when not estimable (df ≤ 0
    or a non-finite SE).

    The interval is :func:`difference_interval`'s (MOVER/Newcombe with r = 0 near the boundary under
    ``method="auto"``). A zero SE with a nonzero difference has p = 0: no sampling error explains it.
    """
    delta = a.estimate - b.estimate
    se = math.sqrt(a.se**2 + b.se**2)
    df = min(a.df, b.df)
    if df <= 0 or not math.isfinite(se):
        return None
    ci, label = difference_interval(a, b, se, df, level=level, method=method)
    stat = delta / se if se > 0 else (0.0 if delta == 0 else math.inf)
    p = _p_value(stat, df) if math.isfinite(stat) else 0.0
    return Difference((a.domain, a.target, a.kind), (b.domain, b.target, b.kind), delta, se, df, ci, p, label, 0.0)


def difference_interval(
    a: Estimate,
    b: Estimate,
    se: float,
    df: float,
    *,
    correlation: float = 0.0,
    level: float = 0.95,
    method: str = "auto",
) -> tuple[tuple[float, float], str]:
    """Interval for ``a - b`` and its method: MOVER/Newcombe from the two single-share intervals and
    their correlation when both are shares ≥ 0.95 (``auto``), else Wald with t(df) on ``se``.

    Serves estimates of one design (:func:`difference`) and of independent samples (``correlation=0``,
    ``se = sqrt(V1 + V2)``) alike. At a ``level`` other than the estimates' own, MOVER recomputes the
    single-share intervals at that level (:func:`share_interval_at`), as Bonferroni-adjusted tables need.
    """
    if method not in ("auto", "wald", "mover"):
        raise EstimationError("method must be 'auto', 'wald' or 'mover'")
    delta = a.estimate - b.estimate
    use_mover = method == "mover" or (
        method == "auto" and a.kind == b.kind == "share" and min(a.estimate, b.estimate) >= MOVER_THRESHOLD
    )
    if use_mover:
        return _mover(a, b, correlation, level), "mover"
    t = float(t_quantile(df, level))
    return (delta - t * se, delta + t * se), "wald-t"


def _mover(a: Estimate, b: Estimate, r: float, level: float) -> tuple[float, float]:
    """MOVER/Newcombe limits of ``a - b`` from the single-share intervals at ``level`` (recomputed with
    each estimate's own method when it was published at another level)."""
    (l1, u1), (l2, u2) = share_interval_at(a, level), share_interval_at(b, level)
    p1, p2 = a.estimate, b.estimate
    delta = p1 - p2
    lo = delta - math.sqrt(max((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * r * (p1 - l1) * (u2 - p2), 0.0))
    hi = delta + math.sqrt(max((u1 - p1) ** 2 + (p2 - l2) ** 2 - 2 * r * (u1 - p1) * (p2 - l2), 0.0))
    return lo, hi


#: ``Estimate.ci_method`` label → (``share_interval`` method, ``r_compatible``); see ``intervals.method_label``.
#: Labels that do not say whether the R-compatible variant was used are read as the default (False).
_SHARE_LABELS: dict[str, tuple[str, bool]] = {
    "korn-graubard-nchs": ("beta", False),
    "beta-r": ("beta", True),
    "wilson-r4.5": ("wilson", False),
    "likelihood-rao-scott": ("likelihood", False),
    "asin-clamped": ("asin", False),
    "asin": ("asin", True),
    **{m: (m, False) for m in SHARE_METHODS if m not in ("beta", "wilson", "likelihood", "asin")},
}


def share_interval_at(e: Estimate, level: float) -> tuple[float, float]:
    """``e``'s confidence interval at ``level``, by the method it was published with (``e.ci_method``), from
    its estimate, SE, df and n; ``e.ci`` itself when ``level`` is its own. Mean scores: Wald with t(df)."""
    if level == e.level:
        return e.ci
    if e.kind != "share":
        lo, hi = wald_t_interval(e.estimate, e.se, e.df, level)
        return float(lo), float(hi)
    if e.ci_method not in _SHARE_LABELS:
        raise EstimationError(f"cannot recompute a {e.ci_method!r} interval at another level")
    method, r_compatible = _SHARE_LABELS[e.ci_method]
    lo, hi = share_interval(e.estimate, e.se, e.df, e.n, method, level, r_compatible)
    return float(lo), float(hi)


@dataclass(frozen=True)
class Trend:
    """Least-squares slope per period unit of a series of estimates, with joint covariance (§11)."""

    keys: tuple[Any, ...]
    times: tuple[float, ...]
    slope: float
    se: float
    df: int
    ci: tuple[float, float]
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "keys": [_plain(k) for k in self.keys],
            "times": list(self.times),
            "slope": self.slope,
            "se": self.se,
            "df": self.df,
            "ci": list(self.ci),
            "p_value": self.p_value,
        }


def trend(
    es: EstimateSet,
    keys: Sequence[Key],
    times: Sequence[float] | None = None,
    *,
    level: float = 0.95,
    independent: bool = False,
) -> Trend:
    """Slope ``β = Σ c_t θ_t``, ``c_t = (t - t̄)/Σ(t - t̄)²``, ``V = cᵀΣc`` (diagonal Σ if ``independent``)."""
    if len(keys) < 2:
        raise EstimationError("a trend needs at least two periods")
    t_arr = np.arange(1, len(keys) + 1, dtype=float) if times is None else np.asarray(times, dtype=float)
    if len(t_arr) != len(keys):
        raise EstimationError("times and keys differ in length")
    dev = t_arr - t_arr.mean()
    if not np.any(dev):
        raise EstimationError("times must not all be equal")
    c = dev / np.sum(dev * dev)
    idx = [k if isinstance(k, int) else es.index(*k) for k in keys]
    theta = np.array([es.estimates[i].estimate for i in idx])
    cov = es.influence.covariance(idx)
    if independent:
        cov = np.diag(np.diag(cov))
    slope = float(c @ theta)
    var = float(c @ cov @ c)
    se = math.sqrt(var) if var > 0 else 0.0
    df = es.influence.design.df
    t = float(t_quantile(df, level))
    stat = slope / se if se > 0 else (0.0 if slope == 0 else math.inf)
    return Trend(
        tuple(keys), tuple(float(x) for x in t_arr), slope, se, df, (slope - t * se, slope + t * se), _p_value(stat, df)
    )


def independent_trend(estimates: Sequence[Estimate], times: Sequence[float], *, level: float = 0.95) -> Trend | None:
    """Least-squares slope of estimates from independently drawn samples (e.g. months, whose counter-day
    PSUs are disjoint): ``β = Σ c_t θ_t``, ``c_t = (t - t̄)/Σ(t - t̄)²``, ``V = Σ c_t² V_t`` (no
    covariances), df = the smallest df. None when not estimable (V ≤ 0 or not finite, or df ≤ 0).
    """
    if len(estimates) < 2:
        raise EstimationError("a trend needs at least two periods")
    if len(times) != len(estimates):
        raise EstimationError("times and estimates differ in length")
    t_values = [float(t) for t in times]
    mean_t = sum(t_values) / len(t_values)
    dev = [t - mean_t for t in t_values]
    ss = sum(d * d for d in dev)
    if ss == 0:
        raise EstimationError("times must not all be equal")
    coef = [d / ss for d in dev]
    slope = sum(c * e.estimate for c, e in zip(coef, estimates, strict=True))
    var = sum(c * c * e.se**2 for c, e in zip(coef, estimates, strict=True))
    df = min(e.df for e in estimates)
    if var <= 0 or df <= 0 or not math.isfinite(var):
        return None
    se = math.sqrt(var)
    t = float(t_quantile(df, level))
    p = float(2 * special.stdtr(df, -abs(slope / se)))
    keys = tuple((e.domain, e.target, e.kind) for e in estimates)
    return Trend(keys, tuple(t_values), slope, se, df, (slope - t * se, slope + t * se), p)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (R ``p.adjust(method="holm")``)."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def benjamini_hochberg(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (R ``p.adjust(method="BH")``)."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")[::-1]
    rank = np.arange(m, 0, -1)
    adj = np.minimum(1.0, np.minimum.accumulate(m / rank * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def bonferroni(p_values: Sequence[float]) -> np.ndarray:
    """Bonferroni adjusted p-values ``min(1, m p)`` (R ``p.adjust(method="bonferroni")``)."""
    p = np.asarray(p_values, dtype=float)
    return np.minimum(1.0, len(p) * p)


def bonferroni_level(m: int, level: float = 0.95) -> float:
    """Level of each of ``m`` Bonferroni simultaneous intervals with family level ``level``: ``1 - (1 - level)/m``."""
    if m < 1:
        raise EstimationError("a Bonferroni family needs at least one comparison")
    if not 0.0 < level < 1.0:
        raise EstimationError(f"level must be in (0, 1), got {level}")
    return 1.0 - (1.0 - level) / m


def adjust(p_values: Sequence[float], method: str = "holm") -> np.ndarray:
    """Adjusted p-values by ``"holm"``, ``"bh"`` or ``"bonferroni"``."""
    if method == "holm":
        return holm(p_values)
    if method in ("bh", "BH", "fdr"):
        return benjamini_hochberg(p_values)
    if method == "bonferroni":
        return bonferroni(p_values)
    raise EstimationError("multiplicity method must be 'holm', 'bh' or 'bonferroni'")


@dataclass(frozen=True)
class Contrast:
    """``first - second`` with what its interval needs at any level: both estimates, the SE of the
    difference, its df and the correlation of the two (0 for independently drawn samples)."""

    first: Estimate
    second: Estimate
    se: float
    df: float
    correlation: float = 0.0

    @classmethod
    def of(cls, d: Difference, first: Estimate, second: Estimate) -> Contrast:
        """The contrast behind :func:`difference` or :func:`independent_difference`'s result ``d``."""
        return cls(first, second, d.se, d.df, d.correlation)

    @property
    def estimate(self) -> float:
        return self.first.estimate - self.second.estimate


@dataclass(frozen=True)
class AdjustedDifference:
    """One difference of a Bonferroni family of ``k``: its interval at ``level`` = 1 - α/k and the verdict.

    ``significant`` is whether ``ci`` excludes zero. ``p_value`` is the two-sided t(df) test's. For a Wald
    interval ``p_adjusted = min(1, k p)``, below α exactly when ``ci`` excludes zero. A MOVER interval is
    not the inversion of that test, and need not even nest as the level grows (one side can narrow when
    the correlation is high and a share's limit is held by the boundary), so no p-value matches it: its
    ``p_adjusted`` is NaN and the verdict is the interval's alone.
    """

    estimate: float
    se: float
    df: float
    ci: tuple[float, float]
    level: float
    k: int
    p_value: float
    p_adjusted: float
    ci_method: str

    @property
    def significant(self) -> bool:
        return self.ci[0] > 0 or self.ci[1] < 0

    @property
    def direction(self) -> str:
        """``above`` or ``below`` (the interval excludes zero on that side) or ``same``."""
        return "above" if self.ci[0] > 0 else ("below" if self.ci[1] < 0 else "same")


def _wald_p(delta: float, se: float, df: float) -> float:
    """Two-sided t(df) p-value of ``delta / se``; 0 for a nonzero difference with no sampling error."""
    if se > 0:
        return _p_value(delta / se, df)
    if not df > 0:
        return math.nan
    return 1.0 if delta == 0 else 0.0


def _excludes_zero(ci: tuple[float, float]) -> bool:
    return ci[0] > 0 or ci[1] < 0


def bonferroni_differences(
    contrasts: Sequence[Contrast], *, level: float = 0.95, method: str = "auto"
) -> list[AdjustedDifference]:
    """Bonferroni simultaneous intervals for a table of ``k = len(contrasts)`` differences.

    Each interval is :func:`difference_interval`'s at level ``1 - (1 - level)/k`` (t with the contrast's
    df; MOVER/Newcombe from the single-share intervals recomputed at that level when both are shares
    ≥ 0.95 under ``method="auto"``), so the verdicts hold jointly at ``level`` and a difference is called
    significant exactly when its shown interval excludes zero (for a Wald interval, exactly when
    ``min(1, k p) < 1 - level``). A MOVER interval is widened to cover the unadjusted one: with correlated
    estimates it need not widen with the level, and adjusting must never create significance.
    """
    k = len(contrasts)
    if k == 0:
        return []
    alpha = 1.0 - level
    each = bonferroni_level(k, level)
    out = []
    for c in contrasts:
        ci, label = difference_interval(
            c.first, c.second, c.se, c.df, correlation=c.correlation, level=each, method=method
        )
        if label == "mover" and k > 1:
            # MOVER with a positive correlation can narrow as the level rises; the adjusted interval must
            # never call significant what the unadjusted one does not, so it covers that one too
            (lo0, hi0), _ = difference_interval(
                c.first, c.second, c.se, c.df, correlation=c.correlation, level=level, method=method
            )
            ci = (min(ci[0], lo0), max(ci[1], hi0))
        p = _wald_p(c.estimate, c.se, c.df)
        p_adjusted = math.nan if label == "mover" else float(np.minimum(1.0, k * p))  # NaN stays NaN
        if _excludes_zero(ci) != (p_adjusted < alpha) and abs(p_adjusted - alpha) <= 1e-9 * alpha:
            # a tie at the boundary that rounding decided the other way: the interval decides
            p_adjusted = math.nextafter(alpha, 0.0) if _excludes_zero(ci) else alpha
        out.append(AdjustedDifference(c.estimate, c.se, c.df, ci, each, k, p, p_adjusted, label))
    return out
