"""Item shares and mean scores, composites A/B/C and domains, from per-PSU sums (STATISTICS.md §3, §5, §6).

Entry points:

* :func:`estimate_from_sums` - the app's path: :class:`~analytics.sums.ItemSums` (SQL ``GROUP BY stratum,
  psu, domain, item``) and optionally :class:`~analytics.sums.RespondentSums`, for any number of
  domains at once, vectorised.
* :func:`estimate_from_rows` - statisticians' path: row-level numpy arrays, aggregated by
  :func:`~analytics.sums.aggregate_rows` and passed to the same code, so results are identical.

Every estimate is a ratio ``R = X / Z`` of weighted sums or a linear combination of such ratios; its
PSU totals ``u_hj = (SX_hj - R SZ_hj) / Z`` feed :class:`~analytics.design.Influence`, which applies the
stratified with-replacement (or fpc) variance with implicit zero PSUs for domains (§5.1).

Domains are domains of the full design. An item's share or mean is the estimate over "domain and
answered": its n, df (PSUs with answers minus their strata) and CI come from that subset, as R's
``svyciprop(~s, subset(des, domain & !is.na(item)))``; composites keep the domain df (PSUs with domain
members minus their strata, R ``degf`` of ``subset()``, §5.3). Zero-weight PSUs never count.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .design import Design, Influence, factorise, per_stage, string_ranks
from .errors import DataError, DesignError, EstimationError
from .flags import Flag, mean_flags, nchs_n_eff, share_flags
from .intervals import SHARE_METHODS, korn_graubard, method_label, share_interval, wald_t_interval
from .sums import ItemSums, RespondentSums, _score_matrix, aggregate_rows, merge_domains

DEFINITIONS = ("A", "B", "C")
KINDS = ("share", "mean")


@dataclass(frozen=True)
class CompositeSpec:
    """A composite index over items (§3): name, item coefficients ``a_k`` (summing to 1), definition.

    ``A`` = Σ a_k p̂_k (mean of components); ``B`` = pooled ratio over the items with a_k > 0
    (coefficients only select items); ``C`` = respondent composite c_i = Σ a_k s_ik / Σ a_k d_ik,
    averaged with weights over respondents who answered at least one component (shares only).
    """

    name: str
    coefficients: Mapping[Hashable, float]
    definition: str = "A"

    def __post_init__(self) -> None:
        if self.definition not in DEFINITIONS:
            raise EstimationError(f"composite definition must be A, B or C, not {self.definition!r}")
        if not self.coefficients:
            raise EstimationError(f"composite {self.name!r} has no items")
        values = list(self.coefficients.values())
        if any(not (v >= 0) for v in values) or sum(values) <= 0:
            raise EstimationError(f"composite {self.name!r} needs non-negative coefficients with a positive sum")
        if abs(sum(values) - 1.0) > 1e-9:
            raise EstimationError(f"coefficients of composite {self.name!r} sum to {sum(values):g}, not 1")


def composite_specs(
    groups: Mapping[str, Sequence[Hashable] | Mapping[Any, float]],
    *,
    definition: str = "A",
    group_coefficients: Mapping[str, float] | None = None,
    overall: str | None = "overall",
    rotated: bool = False,
) -> list[CompositeSpec]:
    """Element composites (one per group) and the nested overall index.

    ``rotated``: the items come from a split questionnaire (each respondent asked a few criteria, the rest
    missing by design). Only definition A, the mean of the items' own estimates, is unbiased there: B pools
    answers in proportion to how often each item was asked, and C averages a different subset per
    respondent, so both are refused.

    A group is a list of items (equal coefficients) or a mapping item → relative weight (normalised to
    sum 1). The overall index weights groups by ``group_coefficients`` (equal by default, normalised)
    and, being nested, multiplies coefficients: ``a_k = Σ_g b_g a_gk`` (§3, definition A). For B the
    overall index is the pooled ratio over all items of all groups; for C the respondent composite with
    the same multiplied coefficients.
    """
    if rotated and definition != "A":
        raise EstimationError(
            f"definition {definition} is not available for a split questionnaire: use definition A "
            "(the mean of the criteria's estimates)"
        )
    specs: list[CompositeSpec] = []
    nested: dict[Hashable, float] = {}
    names = list(groups)
    if not names:
        return specs
    b_raw = {g: float((group_coefficients or {}).get(g, 1.0 if group_coefficients is None else 0.0)) for g in names}
    b_total = sum(b_raw.values())
    if b_total <= 0 or any(v < 0 for v in b_raw.values()):
        raise EstimationError("group coefficients must be non-negative with a positive sum")
    for g in names:
        members = groups[g]
        raw = dict(members) if isinstance(members, Mapping) else dict.fromkeys(members, 1.0)
        if not raw:
            raise EstimationError(f"group {g!r} has no items")
        total = float(sum(raw.values()))
        if total <= 0 or any(v < 0 for v in raw.values()):
            raise EstimationError(f"group {g!r} needs non-negative item weights with a positive sum")
        coefs = {k: float(v) / total for k, v in raw.items()}
        specs.append(CompositeSpec(g, coefs, definition))
        for k, a in coefs.items():
            nested[k] = nested.get(k, 0.0) + b_raw[g] / b_total * a
    if overall is not None:
        total = sum(nested.values())
        specs.append(CompositeSpec(overall, {k: v / total for k, v in nested.items()}, definition))
    return specs


@dataclass(frozen=True)
class Estimate:
    """One published figure with its uncertainty and reliability flags (plain data, JSON-ready)."""

    domain: Any
    target: str
    kind: str
    definition: str
    estimate: float
    se: float
    df: int
    n: int
    ci: tuple[float, float]
    ci_method: str
    level: float
    n_eff: float | None
    deff: float | None
    deff_wr: float | None
    kish_n_eff: float | None
    flags: tuple[Flag, ...]

    @property
    def suppressed(self) -> bool:
        return any(f.suppress for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        return {
            "domain": self.domain,
            "target": self.target,
            "kind": self.kind,
            "definition": self.definition,
            "estimate": num(self.estimate),
            "se": num(self.se),
            "df": self.df,
            "n": self.n,
            "ci": [num(self.ci[0]), num(self.ci[1])],
            "ci_method": self.ci_method,
            "level": self.level,
            "n_eff": num(self.n_eff),
            "deff": num(self.deff),
            "deff_wr": num(self.deff_wr),
            "kish_n_eff": num(self.kish_n_eff),
            "suppressed": self.suppressed,
            "flags": [f.to_dict() for f in self.flags],
        }


@dataclass(frozen=True, eq=False)
class EstimateSet:
    """Estimates plus their joint linearisation, so any covariance can be computed later (§11)."""

    estimates: tuple[Estimate, ...]
    influence: Influence
    domain_df: Mapping[Any, int]
    _index: dict[tuple[Any, str, str], int] = field(repr=False)

    def __len__(self) -> int:
        return len(self.estimates)

    def __iter__(self):  # type: ignore[no-untyped-def]  # iterates the estimates; typed through EstimateSet.estimates
        return iter(self.estimates)

    def index(self, domain: Any, target: str, kind: str = "share") -> int:
        try:
            return self._index[(domain, target, kind)]
        except KeyError:
            raise EstimationError(f"no {kind} estimate for target {target!r} in domain {domain!r}") from None

    def get(self, domain: Any, target: str, kind: str = "share") -> Estimate:
        """The estimate for (domain, target, kind); ``domain=None`` is the whole sample."""
        return self.estimates[self.index(domain, target, kind)]

    def covariance(self, keys: Sequence[tuple[Any, str, str] | int]) -> np.ndarray:
        """Joint linearised covariance of estimates given by index or (domain, target, kind)."""
        idx = [k if isinstance(k, int) else self.index(*k) for k in keys]
        return self.influence.covariance(idx)

    def to_dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.estimates]


# ---------------------------------------------------------------------------------------------------
# estimate_from_sums and its steps


def estimate_from_sums(
    design: Design,
    items: ItemSums,
    respondents: RespondentSums | None = None,
    *,
    composites: Sequence[CompositeSpec] = (),
    kinds: Sequence[str] = KINDS,
    include_items: bool = True,
    ci: str = "beta",
    composite_ci: str = "xlogit",
    r_compatible: bool = False,
    level: float = 0.95,
    mean_half_width: float = 0.25,
    df_basis: str = "answered",
) -> EstimateSet:
    """Item, composite and domain estimates with variance, CI, deff and flags from per-PSU sums.

    ``ci`` is the method for single-item shares (default Korn-Graubard, NCHS-adjusted);
    ``composite_ci`` for composites (default ``xlogit``, §8); mean scores always use t(df) Wald.
    ``r_compatible=True`` reproduces R 4.1 ``svyciprop`` (NaN where R gives NaN). Flags on item shares
    always use the NCHS Korn-Graubard interval (§12), whatever ``ci`` is.

    Item estimates are estimates over "domain and answered" (§5.3): their n is the valid answers and,
    with ``df_basis="answered"`` (the default, used by the CLI, the dashboards, the API and the
    exports), their df counts the PSUs with valid answers to the item minus their strata, exactly as R's
    ``svyciprop(~s, subset(des, domain & !is.na(item)))``. Composites (elements, overall) and
    differences keep the domain df (PSUs with domain members - their strata), as ``svycontrast`` on the
    domain design does. ``df_basis="domain"`` gives items the domain df as well (R's
    ``svyratio`` on the domain design). Only PSUs with non-zero weight count (R ``degf``).

    The steps, each a function below:

    1. :func:`_layout` numbers domains, strata, PSUs and items over both tables (one item row per
       domain × PSU × item);
    2. :func:`_domain_totals`: per domain, its df (§5.3), respondents and Kish n_eff;
    3. :func:`_item_totals`: per domain × item, Ẑ = Σ w d, the valid answers n and Kish n_eff;
    4. per kind, :func:`_item_ratios`: the ratios R = X / Z, their unit variance s_w² and PSU
       influence rows; items as they are (:func:`_item_block`) and each composite
       (:func:`_composite_block`, §3) become blocks of estimates;
    5. :func:`_joint_influence` stacks every block's influence rows, so one variance pass serves all;
    6. :func:`_block_estimates`: SE, df, deff, interval and flags of each estimate of a block;
    7. :func:`_domain_major` puts estimates (and the influence) in domain-major order.
    """
    _check_options(kinds, ci, composite_ci, items)
    lay = _layout(design, items, respondents)
    dom = _domain_totals(lay)
    tot = _item_totals(lay, df_basis)
    if len({spec.name for spec in composites}) != len(composites):
        raise EstimationError("composite names must be unique")
    presence = _domain_presence(lay) if _lonely_rule_needs_presence(design) else None
    blocks: list[_Block] = []
    for kind in kinds:
        ratios = _item_ratios(lay, tot, kind)
        if include_items:
            blocks.append(_item_block(lay, tot, ratios))
        blocks.extend(
            _composite_block(spec, lay, tot, ratios, dom, presence)
            for spec in composites
            if not (spec.definition == "C" and kind == "mean")  # C is a share of respondents only
        )
    infl, offsets = _joint_influence(design, blocks)
    var = infl.variance()
    options = _Options(ci, composite_ci, r_compatible, level, mean_half_width)
    estimates: list[Estimate] = []
    for b, off in zip(blocks, offsets[:-1], strict=True):
        estimates.extend(_block_estimates(b, var[off : off + len(b.value)], dom.df, lay.d_labels, options))
    domain_codes = [np.repeat(np.arange(lay.D), len(b.targets)) for b in blocks]
    return _domain_major(design, estimates, domain_codes, infl, lay.d_labels, dom.df)


@dataclass
class _Block:
    """Estimates of one kind/target family, laid out domain-major (estimate id = d * T + t)."""

    kind: str
    definition: str
    targets: list[str]
    value: np.ndarray  # (D*T,)
    n: np.ndarray
    kish: np.ndarray
    s2: np.ndarray  # unit variance s_w² (§6) for deff and the design-based n_eff of means; NaN if unknown
    zhat: np.ndarray | None  # Ẑ = Σ w d, needed for the WOR deff; None: no deff (composites)
    df: np.ndarray | None  # per-estimate df overriding the domain df (df_basis="answered")
    est: np.ndarray  # influence rows
    psu: np.ndarray
    stratum: np.ndarray
    u: np.ndarray


@dataclass(frozen=True)
class _Layout:
    """Integer codes of every row of the two tables, over the domains, strata and PSUs of both.

    ``d_*`` domain, ``s_*`` stratum, ``g_*`` PSU (numbered over the full design, nested in strata),
    ``k_item`` item; ``est_item = d * K + k`` the item estimate each item row belongs to. The item
    table has one row per (domain, unit, item), so item influence rows need no aggregation later.

    ``unit_*`` is the unit the variance works on: the PSU itself (the very same array as ``g_*``) for a
    single-stage design; for a multi-stage design the finest-stage unit (the design's index,
    :meth:`~analytics.design.Design.unit_codes`), while ``g_*`` stays the stage-1 PSU so that the
    degrees of freedom count stage-1 PSUs (R ``degf``).
    """

    items: ItemSums
    resp: RespondentSums | None
    d_labels: list[Any]
    k_labels: list[Any]
    n_strata: int
    n_psus: int
    d_item: np.ndarray
    s_item: np.ndarray
    g_item: np.ndarray
    k_item: np.ndarray
    est_item: np.ndarray
    d_resp: np.ndarray
    s_resp: np.ndarray
    g_resp: np.ndarray
    unit_item: np.ndarray
    unit_resp: np.ndarray

    @property
    def D(self) -> int:
        return len(self.d_labels)

    @property
    def K(self) -> int:
        return len(self.k_labels)


@dataclass(frozen=True)
class _DomainTotals:
    """Per domain: df = PSUs with members - strata with members (§5.3); with respondent sums also the
    respondents (the n of composites) and Kish n_eff (Σw)²/Σw² (§6)."""

    df: np.ndarray
    n: np.ndarray | None
    kish: np.ndarray | None


@dataclass(frozen=True)
class _ItemTotals:
    """Per item estimate (domain × item, id ``d * K + k``): Ẑ = Σ w d, valid answers, Kish n_eff, and
    the df of ``df_basis="answered"`` (None: the domain df)."""

    Z: np.ndarray
    N: np.ndarray
    kish: np.ndarray
    df: np.ndarray | None
    Z_rows: np.ndarray  # Ẑ of each item row's estimate


@dataclass(frozen=True)
class _Ratios:
    """Item ratios of one kind: ``R = X / Z`` with X = Σ w s (share) or Σ w d y (mean), their unit
    variance s_w² (§6), and per item row the PSU influence ``u = (X_row - R Z_row) / Z`` (§5.1)."""

    kind: str
    X: np.ndarray
    R: np.ndarray
    s2: np.ndarray
    u_rows: np.ndarray


@dataclass(frozen=True)
class _Options:
    ci: str
    composite_ci: str
    r_compatible: bool
    level: float
    mean_half_width: float


def _check_options(kinds: Sequence[str], ci: str, composite_ci: str, items: ItemSums) -> None:
    for k in kinds:
        if k not in KINDS:
            raise EstimationError(f"kind must be 'share' or 'mean', not {k!r}")
    if ci not in SHARE_METHODS or composite_ci not in SHARE_METHODS:
        raise EstimationError(f"CI method must be one of {', '.join(SHARE_METHODS)}")
    if "mean" in kinds and items.swdy is None:
        raise EstimationError("mean scores need the swdy column (Σ w·d·y)")


def _layout(design: Design, items: ItemSums, resp: RespondentSums | None) -> _Layout:
    """Joint codes of domains and PSUs over both tables; duplicate (domain, unit, item) rows summed.

    Single stage: PSUs are numbered over the labels the sums use. Multi-stage: each row's PSU label is
    its tuple of unit labels, mapped to the design's finest-stage unit (``unit_*``) and that unit's
    stage-1 PSU (``g_*``, numbered as the design's stage-1 PSUs).
    """

    def both(name: str) -> np.ndarray:
        return _stack(getattr(items, name), getattr(resp, name) if resp is not None else None)

    n_item_rows = len(items)
    d_code_all, d_labels = factorise(both("domain"))
    s_all = design.stratum_codes(both("stratum"))
    k_item, k_labels = _item_codes(items)
    unit_all: np.ndarray | None = None
    if design.stages:
        unit_all = design.unit_codes(s_all, both("psu"))
        g_psu = design.tree().up[0][unit_all]
        n_g = int(design.n_h.sum())
    else:
        p_code = _codes(both("psu"))
        g_psu = _codes(s_all * (int(p_code.max(initial=0)) + 1) + p_code)
        n_g = int(g_psu.max(initial=0)) + 1
    items, d_item, g_item, s_item, k_item, unit_item = _unique_item_rows(
        items, d_code_all[:n_item_rows], g_psu[:n_item_rows], s_all[:n_item_rows], k_item, n_g, len(k_labels),
        None if unit_all is None else unit_all[:n_item_rows], design.n_units,
    )  # fmt: skip
    g_resp = g_psu[n_item_rows:]
    return _Layout(
        items, resp, d_labels, k_labels, design.n_strata, n_g, d_item, s_item, g_item, k_item,
        d_item * len(k_labels) + k_item, d_code_all[n_item_rows:], s_all[n_item_rows:], g_resp,
        unit_item, g_resp if unit_all is None else unit_all[n_item_rows:],
    )  # fmt: skip


def _item_codes(items: ItemSums) -> tuple[np.ndarray, list[Any]]:
    """Item codes and labels: integer codes keep the items present, in the order of ``item_labels``."""
    if items.item_labels is None:
        return factorise(items.item)
    present = np.flatnonzero(np.bincount(items.item, minlength=len(items.item_labels)))
    remap = np.zeros(len(items.item_labels), dtype=np.int64)
    remap[present] = np.arange(len(present))
    return remap[items.item], [items.item_labels[i] for i in present.tolist()]


def _df_by_group(group: np.ndarray, g: np.ndarray, s: np.ndarray, n_groups: int, lay: _Layout) -> np.ndarray:
    """Per group: distinct PSUs minus distinct strata among its rows (§5.3, R ``degf`` of ``subset()``)."""
    return _count_distinct(group, g, n_groups, lay.n_psus) - _count_distinct(group, s, n_groups, lay.n_strata)


def _domain_totals(lay: _Layout) -> _DomainTotals:
    """Domain df from the PSUs with members of non-zero weight (respondents if given, else answers), as
    R's ``degf`` (zero-weight PSUs do not count), and respondent totals."""
    resp = lay.resp
    if resp is None:
        pres = lay.items.swd > 0
        df = _df_by_group(lay.d_item[pres], lay.g_item[pres], lay.s_item[pres], lay.D, lay)
        return _DomainTotals(df, None, None)
    pres = resp.sw > 0
    df = _df_by_group(lay.d_resp[pres], lay.g_resp[pres], lay.s_resp[pres], lay.D, lay)
    n = np.bincount(lay.d_resp, weights=resp.n, minlength=lay.D)
    sw = np.bincount(lay.d_resp, weights=resp.sw, minlength=lay.D)
    sww = np.bincount(lay.d_resp, weights=resp.sww, minlength=lay.D)
    return _DomainTotals(df, n, _safe_div(sw**2, sww))


def _item_totals(lay: _Layout, df_basis: str) -> _ItemTotals:
    """Ẑ, n and Kish n_eff per item estimate; with ``df_basis="answered"`` its own df (PSUs with answers
    of non-zero weight: Ẑ > 0 there)."""
    items, est_item, E = lay.items, lay.est_item, lay.D * lay.K
    item_df: np.ndarray | None = None
    if df_basis == "answered":
        ans = items.swd > 0
        item_df = _df_by_group(est_item[ans], lay.g_item[ans], lay.s_item[ans], E, lay)
    elif df_basis != "domain":
        raise EstimationError("df_basis must be 'domain' or 'answered'")
    Z = np.bincount(est_item, weights=items.swd, minlength=E)
    N = np.bincount(est_item, weights=items.n, minlength=E)
    kish_item = (
        _safe_div(Z**2, np.bincount(est_item, weights=items.swwd, minlength=E))
        if items.swwd is not None
        else np.full(E, np.nan)
    )
    return _ItemTotals(Z, N, kish_item, item_df, Z[est_item])


def _item_ratios(lay: _Layout, tot: _ItemTotals, kind: str) -> _Ratios:
    """Ratios, unit variances and influence rows of every item estimate of one kind."""
    items, est_item, E = lay.items, lay.est_item, lay.D * lay.K
    Z, N = tot.Z, tot.N
    x_rows = items.sws if kind == "share" else items.swdy
    X = np.bincount(est_item, weights=x_rows, minlength=E)
    R = _safe_div(X, Z)
    zr = tot.Z_rows
    u_rows = np.where(zr != 0, _safe_div(x_rows - np.nan_to_num(R[est_item]) * items.swd, zr), 0.0)
    if kind == "share":
        # s_w² of a 0/1 variable: n/(n-1) p(1-p)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = np.where(N > 1, N / (N - 1) * R * (1 - R), np.nan)
    elif items.swdyy is not None:
        YY = np.bincount(est_item, weights=items.swdyy, minlength=E)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2 = np.where(N > 1, N / (N - 1) * np.maximum(_safe_div(YY, Z) - R * R, 0.0), np.nan)
    else:
        s2 = np.full(E, np.nan)
    return _Ratios(kind, X, R, s2, u_rows)


def _item_block(lay: _Layout, tot: _ItemTotals, ratios: _Ratios) -> _Block:
    """Item estimates as they are: one influence row per item row."""
    return _Block(
        ratios.kind, "item", [str(k) for k in lay.k_labels], ratios.R, tot.N, tot.kish, ratios.s2, tot.Z, tot.df,
        lay.est_item, lay.unit_item, lay.s_item, ratios.u_rows,
    )  # fmt: skip


def _composite_block(
    spec: CompositeSpec,
    lay: _Layout,
    tot: _ItemTotals,
    ratios: _Ratios,
    dom: _DomainTotals,
    presence: _Presence | None = None,
) -> _Block:
    """Value and influence rows of one composite for every domain (§3, §5.2).

    n is the domain's respondents where respondent sums are given, else its most answered component;
    composites have no deff (no single unit variance), hence NaN s_w² and no Ẑ.
    """
    a = _coefficients(spec, lay)
    used = a > 0
    D, K = lay.D, lay.K
    n_comp = tot.N.reshape(D, K)[:, used].max(axis=1) if used.any() else np.zeros(D)
    n_out = dom.n if dom.n is not None else n_comp
    kish = dom.kish if dom.kish is not None else np.full(D, np.nan)
    nan = np.full(D, np.nan)
    if spec.definition == "A":
        value, est, psu, stratum, u = _composite_a(a, used, lay, ratios)
    elif spec.definition == "B":
        value, est, psu, stratum, u = _composite_b(used, lay, tot, ratios)
    else:
        value, est, psu, stratum, u = _composite_c(spec, lay)  # needs respondent sums, so n_out = dom.n
    if presence is not None:
        # zero totals in every unit with domain members: same variance, but the lonely-PSU rules see the
        # strata of the domain design, as R's svycontrast on subset(des, domain) does
        est, psu, stratum = (np.concatenate([x, y]) for x, y in zip((est, psu, stratum), presence, strict=True))
        u = np.concatenate([u, np.zeros(len(presence[0]))])
    return _Block(ratios.kind, spec.definition, [spec.name], value, n_out, kish, nan, None, None, est, psu, stratum, u)


_Presence = tuple[np.ndarray, np.ndarray, np.ndarray]  # domain code, unit, stratum of each unit with members


def _lonely_rule_needs_presence(design: Design) -> bool:
    """Whether the strata an estimate takes part in change its variance or raise: only ``fail`` and
    ``average`` look at them, and only when a lonely unit exists (certainty strata are not lonely)."""
    return design.lonely_psu in ("fail", "average") and design.has_lonely


def _domain_presence(lay: _Layout) -> _Presence:
    """The units with domain members (respondents if given, else any answer), by domain."""
    if lay.resp is not None:
        pres = lay.resp.n > 0
        return lay.d_resp[pres], lay.unit_resp[pres], lay.s_resp[pres]
    return lay.d_item, lay.unit_item, lay.s_item


def _coefficients(spec: CompositeSpec, lay: _Layout) -> np.ndarray:
    """The composite's coefficient a_k of each item present (0 for items outside it)."""
    pos = {k: i for i, k in enumerate(lay.k_labels)}
    a = np.zeros(lay.K)
    for k, v in spec.coefficients.items():
        if k not in pos:
            raise EstimationError(f"composite {spec.name!r} refers to item {k!r}, absent from the sums")
        a[pos[k]] = v
    return a


_Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # value; influence est, psu, stratum, u


def _composite_a(a: np.ndarray, used: np.ndarray, lay: _Layout, ratios: _Ratios) -> _Rows:
    """A = Σ a_k R_k: linear, so its influence rows are a_k times the items' rows."""
    Rm = ratios.R.reshape(lay.D, lay.K)[:, used]
    value = (Rm * a[used]).sum(axis=1)
    coef_rows = a[lay.k_item]
    sel = coef_rows != 0
    return value, lay.d_item[sel], lay.unit_item[sel], lay.s_item[sel], coef_rows[sel] * ratios.u_rows[sel]


def _composite_b(used: np.ndarray, lay: _Layout, tot: _ItemTotals, ratios: _Ratios) -> _Rows:
    """B = Σ_k X_k / Σ_k Z_k over the component items: one pooled ratio per domain."""
    D, K, items = lay.D, lay.K, lay.items
    Xd = ratios.X.reshape(D, K)[:, used].sum(axis=1)
    Zd = tot.Z.reshape(D, K)[:, used].sum(axis=1)
    value = _safe_div(Xd, Zd)
    sel = used[lay.k_item]
    x_col = items.sws if ratios.kind == "share" else items.swdy
    assert x_col is not None  # mean kinds are refused without swdy (_check_options)
    x_rows = x_col[sel]
    dr = lay.d_item[sel]
    zr = Zd[dr]
    u = np.where(zr != 0, _safe_div(x_rows - np.nan_to_num(value[dr]) * items.swd[sel], zr), 0.0)
    return value, dr, lay.unit_item[sel], lay.s_item[sel], u


def _composite_c(spec: CompositeSpec, lay: _Layout) -> _Rows:
    """C = Σ w c_i / Σ w e_i: a ratio over respondents, from the per-PSU sums of w c_i and w e_i."""
    resp = lay.resp
    if resp is None or spec.name not in resp.c_sums:
        raise EstimationError(
            f"composite C {spec.name!r} needs per-PSU sums of w*c_i and w*e_i (RespondentSums.c_sums); "
            "use definition A or B from item sums, or estimate_from_rows"
        )
    swc, swe = resp.c_sums[spec.name]
    Xd = np.bincount(lay.d_resp, weights=swc, minlength=lay.D)
    Zd = np.bincount(lay.d_resp, weights=swe, minlength=lay.D)
    value = _safe_div(Xd, Zd)
    zr = Zd[lay.d_resp]
    u = np.where(zr != 0, _safe_div(swc - np.nan_to_num(value[lay.d_resp]) * swe, zr), 0.0)
    return value, lay.d_resp, lay.unit_resp, lay.s_resp, u


def _joint_influence(design: Design, blocks: Sequence[_Block]) -> tuple[Influence, np.ndarray]:
    """One influence over all blocks (block b's estimates at ``offsets[b]`` on), and the offsets.

    Item blocks have one row per (estimate, PSU) already; composite blocks are added up per block (few
    estimates each), which avoids one large sort over every row of every block.
    """
    offsets = np.cumsum([0] + [len(b.value) for b in blocks])
    total = int(offsets[-1])
    if not blocks:
        empty = np.zeros(0, dtype=np.int64)
        return Influence(design, total, empty, empty.copy(), empty.copy(), np.zeros(0)), offsets
    parts = [
        b if b.definition == "item" else Influence.build(design, len(b.value), b.est, b.psu, b.stratum, b.u)
        for b in blocks
    ]
    infl = Influence(
        design,
        total,
        np.concatenate([p.est + off for p, off in zip(parts, offsets[:-1], strict=True)]),
        np.concatenate([np.asarray(p.psu, dtype=np.int64) for p in parts]),
        np.concatenate([np.asarray(p.stratum, dtype=np.int64) for p in parts]),
        np.concatenate([p.u for p in parts]),
    )
    return infl, offsets


def _intervals(
    b: _Block, se: np.ndarray, v: np.ndarray, df: np.ndarray, options: _Options
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Published interval, the interval the flags judge, and the method label of a block.

    Shares: ``ci`` (items) or ``composite_ci`` (composites); flags on item shares always judge the NCHS
    Korn-Graubard interval (§12). Mean scores: Wald with t(df).
    """
    if b.kind != "share":
        lo, hi = wald_t_interval(b.value, se, df, options.level)
        return lo, hi, lo, hi, "t"
    method = options.ci if b.definition == "item" else options.composite_ci
    lo, hi = share_interval(b.value, se, df, b.n, method, options.level, options.r_compatible)
    if b.definition == "item" and (method != "beta" or options.r_compatible):
        f_lo, f_hi = korn_graubard(b.value, v, b.n, df, options.level, False)
    else:
        f_lo, f_hi = lo, hi
    return lo, hi, f_lo, f_hi, method_label(method, options.r_compatible)


def _block_estimates(
    b: _Block, v: np.ndarray, dom_df: np.ndarray, d_labels: Sequence[Any], options: _Options
) -> list[Estimate]:
    """The published estimates of one block, from its variances ``v``: SE, df, deff, CI and flags."""
    T = len(b.targets)
    with np.errstate(invalid="ignore"):
        # an estimate that is not estimable (no answers: NaN) has no standard error either
        se = np.sqrt(np.where((v < 0) | ~np.isfinite(b.value), np.nan, v))
    dom_of = np.repeat(np.arange(len(dom_df)), T)
    df_int = dom_df[dom_of] if b.df is None else b.df
    df = df_int.astype(float)
    if b.zhat is not None:
        deff, deff_wr = _deffs(b.s2, b.n, b.zhat, v)
    else:
        deff = deff_wr = np.full(len(v), np.nan)
    lo, hi, f_lo, f_hi, label = _intervals(b, se, v, df, options)
    out = []
    for j in range(len(b.value)):
        p, s, dfj, nj = float(b.value[j]), float(se[j]), float(df[j]), float(b.n[j])
        if b.kind == "share":
            flags = share_flags(p, s, nj, dfj, float(f_lo[j]), float(f_hi[j]))
            n_eff = nchs_n_eff(p, s, nj)
        else:
            flags = mean_flags(nj, dfj, p, s, float(f_lo[j]), float(f_hi[j]), options.mean_half_width)
            # design-based n_eff of a mean: s_w² / V̂
            n_eff = float(b.s2[j] / v[j]) if (math.isfinite(b.s2[j]) and v[j] > 0) else math.nan
        out.append(
            Estimate(
                domain=d_labels[int(dom_of[j])],
                target=b.targets[j % T],
                kind=b.kind,
                definition=b.definition,
                estimate=p,
                se=s,
                df=int(df_int[j]),
                n=int(round(nj)) if math.isfinite(nj) else 0,
                ci=(float(lo[j]), float(hi[j])),
                ci_method=label,
                level=options.level,
                n_eff=_opt(n_eff),
                deff=_opt(deff[j]),
                deff_wr=_opt(deff_wr[j]),
                kish_n_eff=_opt(b.kish[j]),
                flags=flags,
            )
        )
    return out


def _domain_major(
    design: Design,
    estimates: Sequence[Estimate],
    domain_codes: Sequence[np.ndarray],
    infl: Influence,
    d_labels: Sequence[Any],
    dom_df: np.ndarray,
) -> EstimateSet:
    """Estimates sorted by domain code (stable: within a domain, block order), the influence renumbered."""
    order_keys = np.concatenate(domain_codes).astype(np.int64) if domain_codes else np.zeros(0, dtype=np.int64)
    perm = np.argsort(order_keys, kind="stable")
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    infl = Influence(design, infl.n_estimates, inv[infl.est], infl.psu, infl.stratum, infl.u)
    ordered = tuple(estimates[i] for i in perm)
    index: dict[tuple[Any, str, str], int] = {}
    for i, e in enumerate(ordered):
        index[(e.domain, e.target, e.kind)] = i
    return EstimateSet(ordered, infl, {d_labels[i]: int(dom_df[i]) for i in range(len(d_labels))}, index)


# ---------------------------------------------------------------------------------------------------
# helpers


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return np.divide(a, b, out=np.full(np.broadcast(a, b).shape, np.nan), where=b != 0)


def _deffs(s2: np.ndarray, n: np.ndarray, zhat: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WOR and WR design effects as R ``svymean(deff=TRUE / "replace")`` (§6)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        v_wr = s2 / n
        v_wor = (zhat - n) / (zhat * n) * s2
        deff_wr = np.where(v_wr > 0, var / v_wr, np.nan)
        deff = np.where((v_wor > 0) & (zhat > n), var / v_wor, np.nan)
    return deff, deff_wr


def _codes(values: np.ndarray) -> np.ndarray:
    """Dense integer codes of PSU labels; unlike :func:`factorise`, no label list and no order to keep."""
    if values.dtype.kind in "iu" and values.ndim == 1 and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < max(4 * len(values), 1 << 16):
            # small range: number the values present by direct addressing (no sort)
            shifted = values - low
            present = np.bincount(shifted, minlength=high - low + 1) > 0
            return (np.cumsum(present) - 1)[shifted]
    if values.dtype.kind == "U" and values.ndim == 1:
        ranks = string_ranks(values)  # the strings' order, sorted as integers (many times faster)
        if ranks is not None:
            return ranks
    if values.dtype != object and values.ndim == 1:
        return np.unique(values, return_inverse=True)[1].reshape(-1)
    return factorise(values)[0]


#: Up to this many possible keys, distinct keys are counted by marking them in a boolean array (no sort).
_MARK_KEYS = 1 << 26


def _has_duplicates(key: np.ndarray) -> bool:
    """Whether a non-negative integer key occurs twice."""
    size = int(key.max(initial=-1)) + 1
    if size <= _MARK_KEYS:
        mark = np.zeros(size, dtype=bool)
        mark[key] = True
        return int(np.count_nonzero(mark)) < len(key)
    ordered = np.sort(key)
    return bool(np.any(ordered[1:] == ordered[:-1]))


def _count_distinct(group: np.ndarray, x: np.ndarray, n_groups: int, n_x: int) -> np.ndarray:
    """Per group, the number of distinct ``x`` among its rows (codes ``0 <= x < n_x``)."""
    key = group * n_x + x
    if n_groups * n_x <= _MARK_KEYS:
        mark = np.zeros(n_groups * n_x, dtype=bool)
        mark[key] = True
        return mark.reshape(n_groups, n_x).sum(axis=1)
    return np.bincount(np.unique(key) // n_x, minlength=n_groups)


def _unique_item_rows(
    items: ItemSums,
    d: np.ndarray,
    g: np.ndarray,
    s: np.ndarray,
    k: np.ndarray,
    n_g: int,
    K: int,
    unit: np.ndarray | None = None,
    n_unit: int = 0,
) -> tuple[ItemSums, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum rows that share (domain, unit, item); return the table and its codes unchanged when none do.

    The unit is the PSU ``g`` (``unit=None``) or, for a multi-stage design, the finest-stage unit
    ``unit`` (``n_unit`` of them): rows of two stage-2 units of one PSU must stay apart for the
    stage-2 variance. The last code array returned is the unit of every row (``g`` itself if None).
    """
    units = g if unit is None else unit
    if len(k) == 0:
        return items, d, g, s, k, units
    key = (d * n_g + g) * K + k if unit is None else (d * n_unit + unit) * K + k
    if not _has_duplicates(key):
        return items, d, g, s, k, units
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    m = len(uniq)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=values, minlength=m)

    def add(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else total(values)

    merged = ItemSums(
        stratum=items.stratum[first],
        psu=items.psu[first],
        item=items.item[first],
        domain=items.domain[first] if items.domain is not None else None,
        n=total(items.n),
        swd=total(items.swd),
        sws=total(items.sws),
        swdy=add(items.swdy),
        swdyy=add(items.swdyy),
        swwd=add(items.swwd),
        item_labels=items.item_labels,
    )
    g_first = g[first]
    return merged, d[first], g_first, s[first], k[first], g_first if unit is None else unit[first]


def _stack(a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """Concatenate label columns keeping a fast numpy dtype when both have one (object only if mixed)."""
    if b is None:
        return a
    if a.dtype != object and b.dtype != object and a.dtype.kind == b.dtype.kind:
        return np.concatenate([a, b])
    return np.concatenate([a.astype(object), b.astype(object)])


def _opt(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def kish(weights: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Kish effective sample size and design effect of weighting: ``(Σw)²/Σw²`` and ``nΣw²/(Σw)²`` (§6)."""
    w = np.asarray(weights, dtype=float)
    sw, sww = float(w.sum()), float((w * w).sum())
    if sww <= 0:
        return math.nan, math.nan
    return sw * sw / sww, len(w) * sww / (sw * sw)


def _psu_ranks(psu: Any) -> Any:
    """Single-stage PSU labels as the rank of each label among the distinct labels (string PSUs only).

    The sums only need to tell PSUs apart, and :func:`_layout` numbers PSUs in the order of their labels:
    ranks keep that order (so the numbers do not change by a bit) while the sums carry integers instead
    of a string per (domain, PSU, item)."""
    if isinstance(psu, np.ndarray) and psu.dtype.kind == "U" and psu.ndim == 1:
        return _codes(psu)
    return psu


def estimate_from_rows(
    weights: Sequence[float] | np.ndarray,
    scores: np.ndarray,
    items: Sequence[Hashable],
    *,
    strata: Sequence[Any] | np.ndarray | None = None,
    psu: Sequence[Any] | np.ndarray | None = None,
    fpc: Sequence[Any] | np.ndarray | None = None,
    by: Sequence[Any] | np.ndarray | None = None,
    whole_sample: bool = True,
    lonely_psu: str = "fail",
    composites: Sequence[CompositeSpec] = (),
    design: Design | None = None,
    **options: Any,
) -> EstimateSet:
    """Row-level convenience: aggregate to sums (whole sample as domain ``None`` and/or each ``by`` value)
    and call :func:`estimate_from_sums` (same keyword options). ``scores`` is (n_rows, n_items), NaN = no
    answer. The design is built from ``strata``/``psu``/``fpc`` of all rows unless given.

    ``psu`` (and ``fpc``) may be a list of arrays, one per stage (stage 1 first), for a multi-stage
    design as :meth:`Design.from_rows` takes it; the sums are then per finest-stage unit, labelled with
    the tuple of the unit's labels at every stage, so that the later stages' variance can be computed.
    """
    w = np.asarray(weights, dtype=float)
    y = _score_matrix(scores)
    n = len(w)
    if design is None:
        design = Design.from_rows(strata, psu, fpc, lonely_psu=lonely_psu, n_rows=n)
    stages = per_stage(psu)
    unit_labels: np.ndarray | None = None
    if stages is not None and len(stages) == 1:
        psu = _psu_ranks(stages[0])
    elif stages is not None:
        # aggregate by the design's finest unit (integer codes: numpy's fast path), label the sums after
        psu = design.row_units(strata, stages)
        unit_labels = np.empty(design.n_units, dtype=object)
        for i, label in enumerate(design.unit_labels()):
            unit_labels[i] = label
    elif design.stages:
        raise DesignError(f"the design has {design.n_stages} stages: give psu as one array per stage")
    else:
        psu = _psu_ranks(psu)
    comp_c = {s.name: s.coefficients for s in composites if s.definition == "C"}
    parts: list[tuple[ItemSums, RespondentSums]] = []
    by_sums = None
    if by is not None:
        # Keep string or integer labels as they are: factorising them takes numpy's fast path.
        by_arr = by if isinstance(by, np.ndarray) else np.asarray(by, dtype=object)
        if len(by_arr) != n:
            raise DataError("the by column has a different length from the weights")
        by_sums = aggregate_rows(w, strata, psu, y, items, by_arr, comp_c)
        # The by values partition the rows: the whole sample is their merged sums, not a second pass.
        if whole_sample:
            parts.append(merge_domains(*by_sums))
        parts.append(by_sums)
    elif whole_sample:
        parts.append(aggregate_rows(w, strata, psu, y, items, None, comp_c))
    if not parts:
        raise EstimationError("nothing to estimate: whole_sample=False and no by column")
    isums = ItemSums.concat([p[0] for p in parts])
    rsums = RespondentSums.concat([p[1] for p in parts])
    del parts, by_sums  # the parts' tables are as large as the stacked ones: free them before estimating
    if unit_labels is not None:
        isums = replace(isums, psu=unit_labels[isums.psu.astype(np.int64)])
        rsums = replace(rsums, psu=unit_labels[rsums.psu.astype(np.int64)])
    return estimate_from_sums(design, isums, rsums, composites=composites, **options)
