"""Weights and calibration: cell weights, post-stratification, raking, trimming (STATISTICS.md §9).

The app's weighting rule is :func:`imputed_cell_factors`: cell weights ``N/n`` per (stratum, field,
period), collapsed where fields do not match (:func:`collapsed_cell_factors`), and for a (stratum,
period) without transaction counts an imputation confined to its own cells (the stratum's nearest
period with counts carried, else the median weight per respondent), so one such period never changes
another's weights.

Weights are row-level arrays (the app stores the final weight per response). The variance after
calibration is computed from linearised unit scores ``u_i`` that :func:`calibrated_estimate` turns into
PSU totals and feeds to the same :class:`~analytics.design.Influence` as everything else.

Variance after raking - two R answers, same point estimate (§9):

* ``"greg"`` (recommended, default): R ``calibrate(..., calfun="raking")``; GREG residuals with the
  **pre-calibration** weights in B̂ and the calibrated weights in ``u`` (G6).
* ``"rake"``: R ``rake()``; 10 rounds of margin-wise projection of the score with the weights after
  each margin's step of the last IPF round (G7).

Raking is done at **cell level** (the cross-classification of the raking variables): the IPF factor
depends only on the cell, so the iteration runs on a small table and is joined back to the rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .design import Design, Influence, factorise
from .errors import DataError, DesignError
from .estimators import kish

CALIBRATION_VARIANCES = ("poststratify", "greg", "rake")


def _labels(values: Sequence[Hashable] | np.ndarray) -> np.ndarray | list[Hashable]:
    """Labels for :func:`factorise`, keeping tuples (e.g. ``(agency, field)``) as single labels."""
    return values if isinstance(values, np.ndarray) else list(values)


def _weights(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise DataError("weights must be a one-dimensional array of finite non-negative numbers")
    return w


def cell_weights(
    cells: Sequence[Hashable] | np.ndarray,
    transactions: Mapping[Hashable, float],
    answered: Sequence[bool] | np.ndarray | None = None,
) -> np.ndarray:
    """Base weight ``N_cell / n_cell``: transactions per cell ÷ valid responses in the cell (§3).

    ``cells`` labels each response (e.g. ``(agency, field, period)`` tuples); ``answered`` marks the
    valid responses (default all). Responses that are not valid get weight 0. A cell with responses but
    no transaction count raises :class:`DataError`; cells with transactions but no response are
    reported by :func:`empty_cells`.
    """
    codes, labels = factorise(_labels(cells))
    ok = np.ones(len(codes), dtype=bool) if answered is None else np.asarray(answered, dtype=bool)
    counts = np.bincount(codes[ok], minlength=len(labels)).astype(float)
    totals = np.empty(len(labels))
    for i, lab in enumerate(labels):
        if lab not in transactions:
            raise DataError(f"no transaction count for cell {lab!r}")
        totals[i] = float(transactions[lab])
        if totals[i] < 0:
            raise DataError(f"negative transaction count for cell {lab!r}")
    factor = np.divide(totals, counts, out=np.zeros(len(labels)), where=counts > 0)
    return np.where(ok, factor[codes], 0.0)


def empty_cells(cells: Sequence[Hashable] | np.ndarray, transactions: Mapping[Hashable, float]) -> list[Hashable]:
    """Cells with transactions but no response: their population is not represented (collapse them)."""
    present = set(cells.tolist() if isinstance(cells, np.ndarray) else cells)
    return [c for c, t in transactions.items() if t > 0 and c not in present]


#: Furthest an agency's transaction counts are carried to a period without them, in months either way.
MAX_CARRY_MONTHS = 12
#: How the weights of a stratum × period without transaction counts were imputed (:class:`Imputed`).
CARRIED, TYPICAL = "carried", "typical"


@dataclass(frozen=True)
class Imputed:
    """The imputation of one stratum × period that has respondents but no transaction count.

    ``rule`` :data:`CARRIED`: the stratum's counts of ``source`` (its nearest period with counts, the
    latest earlier one first) stand in for the missing ones, field by field. ``rule`` :data:`TYPICAL`:
    no counts within reach, every respondent weighs ``weight``, the median weight per respondent of the
    strata × periods with their own counts.
    """

    rule: str
    source: Any = None
    weight: float | None = None


@dataclass(frozen=True)
class CellFactors:
    """Weight per respondent of each cell after collapsing, and what was collapsed and why."""

    factors: dict[tuple[Any, Any, Any], float]
    notes: tuple[str, ...]
    #: Strata × periods with respondents but no transaction count at all: they cannot be weighted.
    missing: tuple[tuple[Any, Any], ...]
    #: Strata × periods collapsed to one cell (respondents without a matching field, no transactions left).
    collapsed: tuple[tuple[Any, Any], ...] = ()
    #: Strata × periods whose unanswered fields' transactions were spread over the answered fields.
    spread: tuple[tuple[Any, Any], ...] = ()
    #: Strata × periods without transaction counts whose weights were imputed (:func:`imputed_cell_factors`).
    imputed: Mapping[tuple[Any, Any], Imputed] = field(default_factory=dict)
    #: Per stratum: (weight in imputed cells, all weight), Σ respondents × factor (:func:`imputed_cell_factors`).
    weight_sums: Mapping[Any, tuple[float, float]] = field(default_factory=dict)

    def imputed_share(self, stratum: Any = None) -> float:
        """Share of the weight (of one stratum, or of all with None) that lies in imputed cells."""
        sums = list(self.weight_sums.values()) if stratum is None else [self.weight_sums.get(stratum, (0.0, 0.0))]
        total = sum(t for _, t in sums)
        return sum(i for i, _ in sums) / total if total > 0 else 0.0


def _by_stratum_period(
    transactions: Mapping[tuple[Any, Any, Any], float],
) -> dict[tuple[Hashable, Hashable], dict[Hashable, float]]:
    """Positive transaction counts per (stratum, period) → {field: count}, in the order given."""
    index: dict[tuple[Hashable, Hashable], dict[Hashable, float]] = {}
    for (stratum, fld, period), t in transactions.items():
        if t > 0:
            index.setdefault((stratum, period), {})[fld] = float(t)
    return index


def _groups(counts: Mapping[tuple[Any, Any, Any], float]) -> dict[tuple[Hashable, Hashable], dict[Hashable, float]]:
    groups: dict[tuple[Hashable, Hashable], dict[Hashable, float]] = {}
    for (stratum, fld, period), n in counts.items():
        if n > 0:
            groups.setdefault((stratum, period), {})[fld] = float(n)
    return groups


def collapsed_cell_factors(
    counts: Mapping[tuple[Any, Any, Any], float],
    transactions: Mapping[tuple[Any, Any, Any], float],
    unknown: Hashable = 0,
) -> CellFactors:
    """Cell weights ``N_cell / n_cell`` for (stratum, field, period) cells, collapsing where cells do not match.

    ``counts`` holds valid respondents per (stratum, field, period), with ``field == unknown`` for
    respondents who did not state a field; ``transactions`` the population count per (stratum, field,
    period). Within each (stratum, period), so that its weights always sum to its transactions:

    * a field with respondents and transactions is its own cell;
    * respondents without a field, or in a field without a transaction count, form one pooled cell
      that represents the transactions of the fields nobody answered for;
    * if that pool has respondents but no transactions left, the whole (stratum, period) collapses to
      one cell; if it has transactions but no respondents, they are spread over the matched cells.

    (Stratum, period) pairs with respondents but no transactions at all are returned in ``missing``
    (:func:`imputed_cell_factors` imputes them). Each (stratum, period)'s factors depend on its own
    respondents and transactions only.
    """
    index = _by_stratum_period(transactions)
    factors: dict[tuple[Hashable, Hashable, Hashable], float] = {}
    notes: list[str] = []
    missing: list[tuple[Any, Any]] = []
    collapsed: list[tuple[Any, Any]] = []
    spread: list[tuple[Any, Any]] = []
    for (stratum, period), fields in _groups(counts).items():
        totals = index.get((stratum, period), {})
        population = sum(totals.values())
        if population <= 0:
            missing.append((stratum, period))
            continue
        matched = {f: n for f, n in fields.items() if f != unknown and f in totals}
        pooled_n = sum(n for f, n in fields.items() if f not in matched)
        pooled_t = population - sum(totals[f] for f in matched)
        if pooled_n > 0 and pooled_t <= 0:
            notes.append(f"{stratum} {period}: respondents without a matching field; collapsed to one cell")
            collapsed.append((stratum, period))
            for f in fields:
                factors[(stratum, f, period)] = population / sum(fields.values())
            continue
        scale = 1.0
        if pooled_n == 0 and pooled_t > 0:
            notes.append(f"{stratum} {period}: fields without respondents spread over the answered fields")
            spread.append((stratum, period))
            scale = population / (population - pooled_t)
        for f, n in fields.items():
            factors[(stratum, f, period)] = totals[f] * scale / n if f in matched else pooled_t / pooled_n
    return CellFactors(factors, tuple(notes), tuple(missing), tuple(collapsed), tuple(spread))


def month_number(period: Any) -> int:
    """A period as a month count (``datetime.date``: year × 12 + month) or itself (an integer period)."""
    if isinstance(period, dt.date):
        return period.year * 12 + period.month - 1
    if isinstance(period, int | np.integer):
        return int(period)
    raise DataError(f"a weighting period must be a date (its month) or an integer, not {period!r}")


def _nearest_source(period: Any, known: Sequence[Any], max_carry: int) -> Any:
    """The latest period of ``known`` before ``period`` within ``max_carry`` months, else the earliest after."""
    target = month_number(period)
    before = [p for p in known if 0 < target - month_number(p) <= max_carry]
    if before:
        return max(before, key=month_number)
    after = [p for p in known if 0 < month_number(p) - target <= max_carry]
    return min(after, key=month_number) if after else None


def imputed_cell_factors(
    counts: Mapping[tuple[Any, Any, Any], float],
    transactions: Mapping[tuple[Any, Any, Any], float],
    unknown: Hashable = 0,
    *,
    max_carry: int = MAX_CARRY_MONTHS,
) -> CellFactors:
    """:func:`collapsed_cell_factors`, with weights imputed where a (stratum, period) has no transaction count.

    Only the (stratum, period) pairs with respondents but no count are imputed; every other pair keeps
    exactly the factors :func:`collapsed_cell_factors` gives it. Periods are months (``datetime.date``)
    or integers. In order:

    1. **carried**: the stratum's counts of its nearest period with counts (the latest earlier one
       within ``max_carry`` months, else the earliest later one within ``max_carry`` months) stand in,
       field by field, and are collapsed as usual: the pair's weights add up to those transactions.
       ``transactions`` should therefore hold the ``max_carry`` months either side of the periods asked.
    2. **typical**: a stratum with no count within reach weighs each of its respondents by the median,
       over the pairs with their own counts, of transactions ÷ respondents (over the carried pairs if
       no pair has its own). Constant within the stratum, it leaves the stratum's own shares and means
       as unweighted, while the stratum counts in a total like a typical stratum per respondent.

    Pairs still without weights (no pair has counts at all) stay in ``missing``. ``imputed`` says how
    each pair was imputed; ``weight_sums`` gives each stratum's weight in imputed cells and in all.
    """
    if max_carry < 0:
        raise DataError("max_carry must be a non-negative number of months")
    groups = _groups(counts)
    index = _by_stratum_period(transactions)
    known: dict[Hashable, list[Hashable]] = {}
    for stratum, period in index:
        known.setdefault(stratum, []).append(period)
    augmented: dict[tuple[Any, Any, Any], float] = dict(transactions)
    imputed: dict[tuple[Any, Any], Imputed] = {}
    for stratum, period in groups:
        if (stratum, period) in index:
            continue
        source = _nearest_source(period, known.get(stratum, []), max_carry)
        if source is not None:
            imputed[(stratum, period)] = Imputed(CARRIED, source)
            for fld, t in index[(stratum, source)].items():
                augmented[(stratum, fld, period)] = t
    result = collapsed_cell_factors(counts, augmented, unknown)
    factors = dict(result.factors)
    missing = list(result.missing)
    if missing:
        # The median over the pairs with their own counts (over the carried ones only if none has its own).
        populations = _by_stratum_period(augmented)
        basis = [key for key in groups if key in index] or list(imputed)
        per_respondent = [sum(populations[key].values()) / sum(groups[key].values()) for key in basis]
        if per_respondent:
            typical = float(np.median(per_respondent))
            for stratum, period in missing:
                imputed[(stratum, period)] = Imputed(TYPICAL, weight=typical)
                for fld in groups[(stratum, period)]:
                    factors[(stratum, fld, period)] = typical
            missing = []
    weight_sums: dict[Any, tuple[float, float]] = {}
    for (stratum, fld, period), n in counts.items():
        if n > 0 and (stratum, fld, period) in factors:
            w = n * factors[(stratum, fld, period)]
            held, total = weight_sums.get(stratum, (0.0, 0.0))
            weight_sums[stratum] = (held + (w if (stratum, period) in imputed else 0.0), total + w)
    return CellFactors(
        factors,
        result.notes,
        tuple(missing),
        result.collapsed,
        result.spread,
        imputed,
        weight_sums,
    )


def poststratify(
    weights: Sequence[float] | np.ndarray, cells: Sequence[Hashable] | np.ndarray, totals: Mapping[Hashable, float]
) -> np.ndarray:
    """``w*_i = w_i N_g / Σ_{i∈g} w_i`` (R ``postStratify``, §9)."""
    w = _weights(weights)
    codes, labels = factorise(_labels(cells))
    sums = np.bincount(codes, weights=w, minlength=len(labels))
    target = np.array([_total(totals, lab) for lab in labels])
    if np.any(sums <= 0):
        bad = labels[int(np.flatnonzero(sums <= 0)[0])]
        raise DataError(f"post-stratum {bad!r} has zero weight")
    return w * (target / sums)[codes]


def _total(totals: Mapping[Hashable, float], label: Hashable) -> float:
    if label not in totals:
        raise DataError(f"no population total for category {label!r}")
    return float(totals[label])


@dataclass(frozen=True, eq=False)
class RakeResult:
    """Raked weights and what is needed for the ``rake()`` variance and for reporting."""

    weights: np.ndarray
    iterations: int
    converged: bool
    max_relative_error: float
    step_weights: tuple[np.ndarray, ...]  # weights after each margin's step in the last round (G7)

    def to_dict(self) -> dict[str, Any]:
        return {
            "iterations": self.iterations,
            "converged": self.converged,
            "max_relative_error": self.max_relative_error,
        }


def rake(
    weights: Sequence[float] | np.ndarray,
    margins: Sequence[Sequence[Hashable] | np.ndarray],
    totals: Sequence[Mapping[Hashable, float]],
    *,
    epsilon: float = 1e-9,
    maxit: int = 100,
) -> RakeResult:
    """Iterative proportional fitting at cell level (§9).

    Stops when ``max |Σw - T| / T < epsilon`` over all margins and categories (R's defaults
    ``maxit=10, epsilon=1`` are too loose; ours are 100 and 1e-9). Non-convergence is reported in the
    result, not raised.
    """
    w = _weights(weights)
    if len(margins) != len(totals) or not margins:
        raise DataError("give one totals mapping per raking margin")
    m_codes = []
    m_targets = []
    for margin, tot in zip(margins, totals, strict=True):
        codes, labels = factorise(_labels(margin))
        if len(codes) != len(w):
            raise DataError("a raking margin has a different length from the weights")
        m_codes.append(codes)
        m_targets.append(np.array([_total(tot, lab) for lab in labels]))
    # cell = combination of margin categories
    cell_key = np.zeros(len(w), dtype=np.int64)
    for codes, tgt in zip(m_codes, m_targets, strict=True):
        cell_key = cell_key * len(tgt) + codes
    cell_ids, first, cell = np.unique(cell_key, return_index=True, return_inverse=True)
    W = np.bincount(cell, weights=w, minlength=len(cell_ids))
    cell_cat = [codes[first] for codes in m_codes]
    g = np.ones(len(cell_ids))
    step_g: list[np.ndarray] = [g.copy() for _ in m_codes]
    err = math.inf
    it = 0
    for it in range(1, maxit + 1):  # noqa: B007 - iteration count is reported
        for m, (cats, tgt) in enumerate(zip(cell_cat, m_targets, strict=True)):
            current = np.bincount(cats, weights=W * g, minlength=len(tgt))
            if np.any(current <= 0):
                raise DataError("a raking category has zero weight in the sample")
            g = g * (tgt / current)[cats]
            step_g[m] = g.copy()
        err = max(
            float(np.max(np.abs(np.bincount(cats, weights=W * g, minlength=len(tgt)) - tgt) / tgt))
            for cats, tgt in zip(cell_cat, m_targets, strict=True)
        )
        if err < epsilon:
            break
    return RakeResult(w * g[cell], it, err < epsilon, err, tuple(w * sg[cell] for sg in step_g))


def trim(
    weights: Sequence[float] | np.ndarray, upper: float | None = None, lower: float | None = None, strict: bool = False
) -> np.ndarray:
    """R ``trimWeights``: clip to [lower, upper] and spread the excess equally (additively) over untrimmed
    units, preserving Σw. One pass unless ``strict`` (repeat until no weight is outside the bounds)."""
    w = _weights(weights).copy()
    for _ in range(1000 if strict else 1):
        hi = upper if upper is not None else np.inf
        lo = lower if lower is not None else -np.inf
        outside = (w > hi) | (w < lo)
        if not np.any(outside):
            break
        clipped = np.clip(w, lo, hi)
        excess = float(w.sum() - clipped.sum())
        inside = ~outside
        if not np.any(inside):
            raise DataError("every weight is outside the trimming bounds")
        clipped[inside] += excess / inside.sum()
        w = clipped
    return w


@dataclass(frozen=True, eq=False)
class TrimRakeResult:
    weights: np.ndarray
    rounds: int
    cap: float
    rake: RakeResult
    kish_before: tuple[float, float]
    kish_after: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "cap": self.cap,
            "rake": self.rake.to_dict(),
            "kish_n_eff_before": self.kish_before[0],
            "kish_deff_before": self.kish_before[1],
            "kish_n_eff_after": self.kish_after[0],
            "kish_deff_after": self.kish_after[1],
        }


def trim_and_rake(
    weights: Sequence[float] | np.ndarray,
    margins: Sequence[Sequence[Hashable] | np.ndarray],
    totals: Sequence[Mapping[Hashable, float]],
    *,
    cap_ratio: float = 5.0,
    max_rounds: int = 20,
    epsilon: float = 1e-9,
) -> TrimRakeResult:
    """Rake, then iterate trim (cap = ``cap_ratio`` × mean weight, as anesrake) ↔ re-rake until the raked
    weights respect the cap (to 1e-9 relative) or ``max_rounds`` is reached. Reports Kish before/after."""
    w0 = _weights(weights)
    result = rake(w0, margins, totals, epsilon=epsilon)
    w = result.weights
    cap = cap_ratio * float(w.mean())
    rounds = 0
    while rounds < max_rounds and np.max(w) > cap * (1 + 1e-9):
        rounds += 1
        w = trim(w, upper=cap, strict=True)
        result = rake(w, margins, totals, epsilon=epsilon)
        w = result.weights
    return TrimRakeResult(w, rounds, cap, result, kish(w0), kish(w))


# ---------------------------------------------------------------------------------------------------
# variance after calibration


@dataclass(frozen=True)
class CalibratedEstimate:
    """A ratio estimated with calibrated weights and its linearised SE (§9)."""

    estimate: float
    se: float
    df: int
    variance_method: str

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "se": self.se, "df": self.df, "variance_method": self.variance_method}


def _dummies(margins: Sequence[Sequence[Hashable] | np.ndarray], n: int) -> np.ndarray:
    """Intercept plus category dummies (first category of each margin dropped)."""
    cols = [np.ones(n)]
    for margin in margins:
        codes, labels = factorise(_labels(margin))
        for c in range(1, len(labels)):
            cols.append((codes == c).astype(float))
    return np.column_stack(cols)


def calibrated_estimate(
    design: Design,
    strata: Sequence[Hashable] | np.ndarray,
    psu: Sequence[Hashable] | np.ndarray | None,
    x: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray,
    *,
    method: str,
    z: Sequence[float] | np.ndarray | None = None,
    cells: Sequence[Hashable] | np.ndarray | None = None,
    margins: Sequence[Sequence[Hashable] | np.ndarray] | None = None,
    pre_weights: Sequence[float] | np.ndarray | None = None,
    rake_result: RakeResult | None = None,
) -> CalibratedEstimate:
    """Ratio ``Σ w x / Σ w z`` (z = 1 by default: a mean or share) with calibrated ``weights`` and its SE.

    ``method``: ``"poststratify"`` (needs ``cells``; G5), ``"greg"`` (needs ``margins`` and the
    pre-calibration ``pre_weights``; R ``calibrate``, G6) or ``"rake"`` (needs ``margins`` and the
    :class:`RakeResult`; R ``rake()``, G7).
    """
    if method not in CALIBRATION_VARIANCES:
        raise DesignError(f"method must be one of {', '.join(CALIBRATION_VARIANCES)}")
    if design.n_stages > 1:
        # this variance numbers its own (stage-1) PSUs: a later stage's term would be silently lost
        raise DesignError("calibrated estimates support single-stage designs only")
    w = _weights(weights)
    xv = np.asarray(x, dtype=float)
    zv = np.ones(len(w)) if z is None else np.asarray(z, dtype=float)
    zhat = float(np.sum(w * zv))
    theta = float(np.sum(w * xv) / zhat)
    score = (xv - theta * zv) / zhat  # per unit, before weighting
    if method == "poststratify":
        if cells is None:
            raise DesignError("post-stratification variance needs the cells")
        codes, labels = factorise(_labels(cells))
        mean = np.bincount(codes, weights=w * score, minlength=len(labels)) / np.bincount(
            codes, weights=w, minlength=len(labels)
        )
        u = w * (score - mean[codes])
    elif method == "greg":
        if margins is None or pre_weights is None:
            raise DesignError("GREG variance needs the margins and the pre-calibration weights")
        w_pre = _weights(pre_weights)
        X = _dummies(margins, len(w))
        sq = np.sqrt(w_pre)
        beta, *_ = np.linalg.lstsq(X * sq[:, None], score * sq, rcond=None)
        u = w * (score - X @ beta)
    else:
        if margins is None or rake_result is None:
            raise DesignError("rake() variance needs the margins and the RakeResult")
        u = w * score
        margin_codes = [factorise(_labels(m)) for m in margins]
        for _ in range(10):
            for (c, labels), psw in zip(margin_codes, rake_result.step_weights, strict=True):
                ratio = np.divide(u, psw, out=np.zeros(len(u)), where=psw != 0)
                avg = np.bincount(c, weights=ratio, minlength=len(labels)) / np.bincount(c, minlength=len(labels))
                u = u - psw * avg[c]
    s_codes = design.stratum_codes(np.asarray(strata, dtype=object))
    p_codes = factorise(_labels(psu))[0] if psu is not None else np.arange(len(w))
    g_psu = factorise(s_codes * (int(p_codes.max(initial=0)) + 1) + p_codes)[0]
    infl = Influence.build(design, 1, np.zeros(len(w), dtype=np.int64), g_psu, s_codes, u)
    var = float(infl.variance()[0])
    return CalibratedEstimate(theta, math.sqrt(var) if var >= 0 else math.nan, design.df, method)
