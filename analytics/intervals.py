"""Confidence intervals for shares, composites and mean scores (STATISTICS.md §7-§8).

All functions are vectorised over numpy arrays and never warn (NaN is returned where R returns NaN).

Share methods (``method=``):

``"beta"``   Korn-Graubard. Default (``r_compatible=False``): the **NCHS-adjusted** variant
             (``n*_KG = min(n, n* (t_{n-1}/t_df)^2)``, ``n* = n`` at p̂ ∈ {0, 1} or V̂ = 0, closed-form
             limits at the boundary), as svy ``"korn-graubard"`` and CDC surveytable.
             ``r_compatible=True``: R 4.1 ``svyciprop(method="beta")`` exactly: no cap at n, NaN at the
             boundary.
``"xlogit"`` expit(logit p̂ ± t SE / (p̂(1-p̂))) with t(df). Default for composites.
``"logit"``  For linearisation designs R's ``svyglm`` intercept CI equals ``xlogit`` up to IRLS
             convergence (≤1e-9, §7), so it is computed as ``xlogit``; with ``r_compatible=True`` the
             boundary gives [p̂, p̂] as R does (``xlogit`` gives NaN there).
``"asin"``   sin²(asin √p̂ ± t SE / (2√(p̂(1-p̂)))). We clamp the angle to [0, π/2]; R does not and an
             upper angle above π/2 folds back below 1 (``r_compatible=True`` reproduces that).
``"mean"``   Wald p̂ ± t SE; can leave [0, 1]. For comparison only: never publish it for shares.
``"wilson"`` The **R 4.5** variant: Wilson score interval with the design-based ``n* = p̂(1-p̂)/V̂``,
             *not* df-adjusted, and t(df) as critical value (svy's df-adjusted variant differs).
``"likelihood"`` Rao-Scott scaled binomial likelihood: every π with
             ``2 n* (n-1)/n · KL(p̂ ‖ π) ≤ t²_df``, solved in closed form by bisection. R interpolates a
             profile grid instead, so the two agree to about 1e-4, not to rounding (§7).

Boundary rule (``r_compatible=False``): at p̂ ∈ {0, 1} or V̂ = 0 every share method except ``"mean"``
falls back to the NCHS Korn-Graubard closed form (``n* = n``). At df ≤ 0 every method returns NaN and
the estimate is flagged not estimable.
"""

from __future__ import annotations

import numpy as np

# scipy.special, not scipy.stats: t.ppf there is special.stdtrit (bit for bit), and importing scipy.stats
# costs a second or more at every start of the command line
from scipy import special

SHARE_METHODS = ("beta", "xlogit", "logit", "asin", "mean", "wilson", "likelihood")


def t_quantile(df: np.ndarray | float, level: float) -> np.ndarray:
    """Two-sided critical value ``t_{df, 1-α/2}``; NaN for df ≤ 0 (R's ``qt`` at df = 0)."""
    d = np.asarray(df, dtype=float)
    q = 1.0 - (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        out = np.where(d > 0, special.stdtrit(np.where(d > 0, d, 1.0), q), np.nan)
    return out


#: a variance below this fraction of p(1-p) (n* above 1e18) is rounding noise around an exact zero; the
#: boundary rule then applies, so that the SQL and row-level paths give the same interval.
ZERO_VARIANCE = 1e-18


def _degenerate(p: np.ndarray, var: np.ndarray) -> np.ndarray:
    """p̂ ∈ {0, 1} or V̂ = 0 (up to rounding): where the boundary rule of §7 applies."""
    with np.errstate(invalid="ignore"):
        return (p <= 0) | (p >= 1) | (var <= ZERO_VARIANCE * p * (1 - p))


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")


def method_label(method: str, r_compatible: bool = False) -> str:
    """Machine-readable name of the interval actually computed (stored with every estimate)."""
    if method == "beta":
        return "beta-r" if r_compatible else "korn-graubard-nchs"
    if method == "wilson":
        return "wilson-r4.5"
    if method == "likelihood":
        return "likelihood-rao-scott"
    if method == "asin":
        return "asin" if r_compatible else "asin-clamped"
    return method


def korn_graubard(
    p: np.ndarray, var: np.ndarray, n: np.ndarray, df: np.ndarray, level: float = 0.95, r_compatible: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Korn-Graubard interval; NCHS-adjusted unless ``r_compatible`` (see module docstring)."""
    _check_level(level)
    p, var, n, df = (np.asarray(a, dtype=float) for a in (p, var, n, df))
    alpha = 1.0 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        t_n = special.stdtrit(np.where(n - 1 > 0, n - 1, np.nan), alpha / 2)
        t_df = special.stdtrit(np.where(df > 0, df, np.nan), alpha / 2)
        ratio2 = (t_n / t_df) ** 2
        n_star = p * (1 - p) / var
        if not r_compatible:
            n_star = np.where(_degenerate(p, var), n, n_star)
            n_kg = np.minimum(n, n_star * ratio2)
        else:
            n_kg = n_star * ratio2
        a_lo, b_lo = n_kg * p, n_kg * (1 - p) + 1
        a_hi, b_hi = n_kg * p + 1, n_kg * (1 - p)
        ok_lo = (a_lo > 0) & (b_lo > 0)
        ok_hi = (a_hi > 0) & (b_hi > 0)
        lo = np.where(ok_lo, special.betaincinv(np.where(ok_lo, a_lo, 1), np.where(ok_lo, b_lo, 1), alpha / 2), np.nan)
        hi = np.where(
            ok_hi, special.betaincinv(np.where(ok_hi, a_hi, 1), np.where(ok_hi, b_hi, 1), 1 - alpha / 2), np.nan
        )
        if not r_compatible:
            # closed forms at the boundary: qbeta(a/2, n, 1) = (a/2)^(1/n)
            at1 = p >= 1
            at0 = p <= 0
            lo = np.where(at0, 0.0, np.where(at1, (alpha / 2) ** (1 / n_kg), lo))
            hi = np.where(at1, 1.0, np.where(at0, 1 - (alpha / 2) ** (1 / n_kg), hi))
        else:
            # R: qbeta(q, 0, b) is 0 and qbeta(q, a, 0) is 1 (point masses) when n* is finite
            lo = np.where(np.isfinite(n_kg) & (a_lo == 0) & (b_lo > 0), 0.0, lo)
            hi = np.where(np.isfinite(n_kg) & (b_hi == 0) & (a_hi > 0), 1.0, hi)
    bad = ~(df > 0) | ~np.isfinite(p)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def _likelihood_limits(p: np.ndarray, var: np.ndarray, n: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both roots of ``2 n* (n-1)/n · KL(p̂ ‖ π) = t²`` around p̂, by vectorised bisection.

    KL(p̂ ‖ π) = p̂ ln(p̂/π) + (1-p̂) ln((1-p̂)/(1-π)) falls from +∞ to 0 on (0, p̂] and rises again on
    [p̂, 1), so each side has exactly one root; 200 halvings reach the double-precision limit.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n_star = p * (1 - p) / var * (n - 1) / n
        target = t * t / (2 * n_star)

        def excess(pi: np.ndarray) -> np.ndarray:
            return p * np.log(p / pi) + (1 - p) * np.log((1 - p) / (1 - pi)) - target

        bounds = []
        # Below p̂ the excess falls as π rises; above p̂ it rises.
        for below, above, falling in ((np.zeros_like(p), p, True), (p, np.ones_like(p), False)):
            lo, hi = below.copy(), above.copy()
            for _ in range(200):
                mid = (lo + hi) / 2
                positive = excess(mid) > 0
                move_lo = positive == falling
                lo, hi = np.where(move_lo, mid, lo), np.where(move_lo, hi, mid)
            bounds.append((lo + hi) / 2)
    return bounds[0], bounds[1]


def share_interval(
    p: np.ndarray | float,
    se: np.ndarray | float,
    df: np.ndarray | float,
    n: np.ndarray | float,
    method: str = "beta",
    level: float = 0.95,
    r_compatible: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """CI for a share (or a share-like composite in [0, 1]) by ``method``; arrays in, arrays out."""
    _check_level(level)
    if method not in SHARE_METHODS:
        raise ValueError(f"unknown CI method {method!r}; choose one of {', '.join(SHARE_METHODS)}")
    p, se, df, n = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (p, se, df, n)))
    var = se * se
    if method == "beta":
        return korn_graubard(p, var, n, df, level, r_compatible)
    t = t_quantile(df, level)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if method == "mean":
            lo, hi = p - t * se, p + t * se
        elif method in ("xlogit", "logit"):
            centre = special.logit(p)
            half = t * se / (p * (1 - p))
            lo, hi = special.expit(centre - half), special.expit(centre + half)
            if method == "logit" and r_compatible:
                edge = (p <= 0) | (p >= 1)
                lo, hi = np.where(edge, p, lo), np.where(edge, p, hi)
        elif method == "asin":
            centre = np.arcsin(np.sqrt(p))
            half = t * se / (2 * np.sqrt(p * (1 - p)))
            a_lo, a_hi = centre - half, centre + half
            if not r_compatible:
                a_lo, a_hi = np.clip(a_lo, 0, np.pi / 2), np.clip(a_hi, 0, np.pi / 2)
            lo, hi = np.sin(a_lo) ** 2, np.sin(a_hi) ** 2
        elif method == "likelihood":
            lo, hi = _likelihood_limits(p, var, n, t)
            if r_compatible:  # R's profile fails at the boundary
                edge = (p <= 0) | (p >= 1)
                lo, hi = np.where(edge, np.nan, lo), np.where(edge, np.nan, hi)
        else:  # wilson, R 4.5: n* = p(1-p)/V, not df-adjusted
            n_star = p * (1 - p) / var
            t2 = t * t
            centre = p + t2 / (2 * n_star)
            half = t / (2 * n_star) * np.sqrt(4 * n_star * p * (1 - p) + t2)
            den = 1 + t2 / n_star
            lo, hi = (centre - half) / den, (centre + half) / den
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    if not r_compatible and method != "mean":
        boundary = _degenerate(p, var)
        if np.any(boundary):
            kg_lo, kg_hi = korn_graubard(p, var, n, df, level, r_compatible=False)
            lo, hi = np.where(boundary, kg_lo, lo), np.where(boundary, kg_hi, hi)
    bad = ~(df > 0) | ~np.isfinite(p)
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def wald_t_interval(
    estimate: np.ndarray | float, se: np.ndarray | float, df: np.ndarray | float, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """``estimate ± t_df SE``: mean scores (§8; R ``confint(.., df=degf(des))``) and differences."""
    _check_level(level)
    est, se, df = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (estimate, se, df)))
    t = t_quantile(df, level)
    return est - t * se, est + t * se
