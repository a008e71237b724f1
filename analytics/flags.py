"""Reliability flags (NCHS presentation standards for proportions, STATISTICS.md §12).

Every estimate carries a tuple of :class:`Flag`; a flag with ``suppress=True`` means "do not publish
the value". Codes are stable strings the app can translate; ``reason`` is an English explanation with
the numbers that triggered it.

Shares and share-like composites, in order (Parker et al. 2017, as coded in CDC surveytable):

1. ``n_eff < 30`` → ``suppress_small_n_eff``
2. CI width ≤ 0.05 → presented (remaining rules skipped)
3. width ≥ 0.30 → ``suppress_wide_ci``
4. width / p̂ > 1.30 → ``suppress_relative_width``

At p̂ ∈ {0, 1} the width counts as 0 and n_eff = n. Review flags, on presented values only:
``review_complement`` (width / (1 - p̂) > 1.30, checked only when rule 2 did not present the value),
``low_df`` (df < 8) and ``boundary`` (p̂ ∈ {0, 1}). A suppressed value carries only its suppression
flag. ``not_estimable`` (df = 0, nothing answered or a NaN variance) always suppresses.

Mean scores have no NCHS rule: ``suppress_small_n`` if n < 30 and ``review_wide_ci`` if the CI
half-width exceeds ``mean_half_width`` points (0.25 by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MIN_N_EFF = 30.0
NARROW_WIDTH = 0.05
MAX_WIDTH = 0.30
MAX_RELATIVE_WIDTH = 1.30
LOW_DF = 8
MIN_N_MEAN = 30
MEAN_HALF_WIDTH = 0.25
#: Relative tolerance at every threshold: an effective n of exactly 30 (e.g. n = 31 with deff 1) must not
#: flip with the last bit of rounding, or two correct computations of one estimate would disagree.
TIE = 1e-9


@dataclass(frozen=True)
class Flag:
    """One reliability flag: machine-readable ``code``, human ``reason``, whether it suppresses."""

    code: str
    reason: str
    suppress: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "suppress": self.suppress}


def nchs_n_eff(p: float, se: float, n: float) -> float:
    """``p̂(1-p̂)/SE²`` capped at n; n at the boundary or when SE = 0 (§12)."""
    if not math.isfinite(p) or not math.isfinite(se):
        return math.nan
    if p <= 0 or p >= 1 or se <= 0:
        return float(n)
    return min(float(n), p * (1 - p) / (se * se))


def _not_estimable(df: float, estimate: float, se: float, lo: float, hi: float) -> Flag | None:
    if not (df > 0):
        return Flag("not_estimable", f"design degrees of freedom are {df:g}: no variance can be estimated", True)
    if not all(math.isfinite(x) for x in (estimate, se, lo, hi)):
        return Flag("not_estimable", "the estimate, its standard error or its interval is undefined", True)
    return None


def share_flags(p: float, se: float, n: float, df: float, lo: float, hi: float) -> tuple[Flag, ...]:
    """NCHS flags for a share from its interval (the Korn-Graubard interval for single items).

    As CDC surveytable's ``.lpe_percents`` codes Parker et al. (2017): at p̂ ∈ {0, 1} the width is 0 and
    n_eff = n; the complement check runs only on the relative-width path (a value presented by the
    width ≤ 0.05 rule is not reviewed); a suppressed value carries its suppression flag and nothing else.
    """
    bad = _not_estimable(df, p, se, lo, hi)
    if bad is not None:
        return (bad,)
    boundary = p <= 0 or p >= 1
    n_eff = nchs_n_eff(p, se, n)
    width = 0.0 if boundary else hi - lo
    if n_eff < MIN_N_EFF * (1 - TIE):
        return (Flag("suppress_small_n_eff", f"effective sample size {n_eff:.1f} is below {MIN_N_EFF:g}", True),)
    out: list[Flag] = []
    if width > NARROW_WIDTH * (1 + TIE):
        if width >= MAX_WIDTH * (1 - TIE):
            return (Flag("suppress_wide_ci", f"CI width {width:.3f} is at least {MAX_WIDTH:g}", True),)
        if width / p > MAX_RELATIVE_WIDTH * (1 + TIE):
            return (
                Flag(
                    "suppress_relative_width",
                    f"CI width / estimate = {width / p:.2f} exceeds {MAX_RELATIVE_WIDTH}",
                    True,
                ),
            )
        if width / (1 - p) > MAX_RELATIVE_WIDTH * (1 + TIE):
            out.append(
                Flag(
                    "review_complement",
                    f"CI width / (1 - estimate) = {width / (1 - p):.2f} exceeds {MAX_RELATIVE_WIDTH}: "
                    "review the complement",
                )
            )
    if df < LOW_DF:
        out.append(Flag("low_df", f"only {df:g} design degrees of freedom (below {LOW_DF})"))
    if boundary:
        out.append(Flag("boundary", f"estimate is exactly {p:g}: width 0 and n_eff = n (NCHS rule)"))
    return tuple(out)


def mean_flags(
    n: float, df: float, estimate: float, se: float, lo: float, hi: float, half_width_limit: float = MEAN_HALF_WIDTH
) -> tuple[Flag, ...]:
    """Flags for a mean score (no NCHS standard; §12 last paragraph)."""
    bad = _not_estimable(df, estimate, se, lo, hi)
    if bad is not None:
        return (bad,)
    out: list[Flag] = []
    if n < MIN_N_MEAN:
        out.append(Flag("suppress_small_n", f"only {n:g} answers (below {MIN_N_MEAN})", True))
    half = (hi - lo) / 2
    if half > half_width_limit * (1 + TIE):
        out.append(Flag("review_wide_ci", f"CI half-width {half:.3f} exceeds {half_width_limit:g} points"))
    if df < LOW_DF:
        out.append(Flag("low_df", f"only {df:g} design degrees of freedom (below {LOW_DF})"))
    return tuple(out)


def is_suppressed(flags: tuple[Flag, ...]) -> bool:
    return any(f.suppress for f in flags)
