"""Per-(stratum, PSU, domain[, item]) weighted sums: the only input the estimators need (§13).

The app obtains these with one SQL ``GROUP BY``; :func:`aggregate_rows` builds the same tables from
row-level numpy arrays so that both paths run through identical code.

``ItemSums`` (one row per stratum × PSU × domain × item, over the **valid answers** 1-5 only, i.e. the
``WHERE score BETWEEN 1 AND 5`` query of §13)::

    n      COUNT(*)                    number of valid answers
    swd    SUM(w)                      Σ w·d   (denominator of share and mean)
    sws    SUM(CASE score>=4 THEN w)   Σ w·s   (top-2-box numerator)
    swdy   SUM(w*score)                Σ w·d·y (mean-score numerator; optional)
    swdyy  SUM(w*score*score)          Σ w·d·y² (WOR/WR design effect of the mean; optional)
    swwd   SUM(w*w)                    Σ w²·d  (Kish n_eff per item; optional)

``RespondentSums`` (one row per stratum × PSU × domain over **all** respondents of the domain)::

    n, sw, sww                          count, Σ w, Σ w²: domain df (§5.3), Kish, composite n
    c_sums = {name: (Σ w·c_i, Σ w·e_i)} composite C (§3): c_i needs respondent-level data, so the app
                                        must add these two sums per composite (e_i = answered any item)

A domain is any hashable label (``None`` = whole sample). A respondent may belong to several domains
(e.g. whole sample and one agency): simply repeat its cells with each label (see :meth:`ItemSums.concat`).
PSU labels are nested within strata (R ``nest=TRUE``). For a multi-stage design the PSU label of a row is
the tuple of its unit's labels at every stage, stage 1 first (finest-stage sums; see
:class:`~analytics.design.Design`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .design import factorise
from .errors import DataError

_ITEM_NUMERIC = ("n", "swd", "sws", "swdy", "swdyy", "swwd")
_RESP_NUMERIC = ("n", "sw", "sww")


def _as_float(name: str, values: Any, length: int | None) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise DataError(f"column {name!r} must be one-dimensional")
    if length is not None and len(arr) != length:
        raise DataError(f"column {name!r} has {len(arr)} values, expected {length}")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"column {name!r} contains non-finite values")
    return arr


def _labels(values: Any, length: int) -> np.ndarray:
    if values is None:
        return np.full(length, None, dtype=object)
    if isinstance(values, np.ndarray):
        arr = values
    else:
        try:
            arr = np.asarray(values)
        except ValueError:  # tuples of different lengths
            arr = np.empty((0, 0))
        if arr.ndim != 1:
            # tuple labels (a multi-stage unit's labels at every stage) stay tuples, not a second axis
            arr = np.empty(len(values), dtype=object)
            for i, v in enumerate(values):
                arr[i] = v
    if len(arr) != length:
        raise DataError(f"label column has {len(arr)} values, expected {length}")
    return arr


@dataclass(frozen=True, eq=False)
class ItemSums:
    """Long table of per-(stratum, PSU, domain, item) sums over valid answers (see module docstring)."""

    stratum: np.ndarray
    psu: np.ndarray
    item: np.ndarray
    n: np.ndarray
    swd: np.ndarray
    sws: np.ndarray
    swdy: np.ndarray | None = None
    swdyy: np.ndarray | None = None
    swwd: np.ndarray | None = None
    domain: np.ndarray | None = None
    #: When given, ``item`` holds integer codes into this list (cheaper than repeating label strings).
    item_labels: Sequence[str] | None = None

    def __post_init__(self) -> None:
        length = len(self.n)
        if self.item_labels is not None:
            codes = np.asarray(self.item, dtype=np.int64)
            if len(codes) and (codes.min() < 0 or codes.max() >= len(self.item_labels)):
                raise DataError("item codes must index item_labels")
            object.__setattr__(self, "item", codes)
            object.__setattr__(self, "item_labels", tuple(self.item_labels))
        for name in ("stratum", "psu", "item"):
            object.__setattr__(self, name, _labels(getattr(self, name), length))
        object.__setattr__(self, "domain", _labels(self.domain, length))
        for name in _ITEM_NUMERIC:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _as_float(name, value, length))
        if np.any(self.swd < 0) or np.any(self.sws < 0) or np.any(self.sws > self.swd * (1 + 1e-12) + 1e-300):
            raise DataError("need 0 <= sws <= swd in every cell")

    def __len__(self) -> int:
        return len(self.n)

    @classmethod
    def concat(cls, parts: Sequence[ItemSums]) -> ItemSums:
        """Stack several tables (e.g. whole-sample cells and per-agency cells)."""

        def values(part: ItemSums, name: str) -> np.ndarray | None:
            if name == "item" and part.item_labels is not None:  # codes back to labels: parts may differ
                return np.asarray(part.item_labels, dtype=object)[part.item]
            return getattr(part, name)

        def cat(name: str) -> np.ndarray | None:
            vals = [values(p, name) for p in parts]
            present = [v for v in vals if v is not None]
            if len(present) < len(vals):
                return None
            return np.concatenate([np.asarray(v, dtype=object if v.dtype == object else None) for v in present])

        columns: dict[str, Any] = {name: cat(name) for name in ("stratum", "psu", "item", "domain", *_ITEM_NUMERIC)}
        return cls(**columns)


@dataclass(frozen=True, eq=False)
class RespondentSums:
    """Per-(stratum, PSU, domain) sums over all respondents of the domain (see module docstring)."""

    stratum: np.ndarray
    psu: np.ndarray
    n: np.ndarray
    sw: np.ndarray
    sww: np.ndarray
    domain: np.ndarray | None = None
    c_sums: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        length = len(self.n)
        for name in ("stratum", "psu"):
            object.__setattr__(self, name, _labels(getattr(self, name), length))
        object.__setattr__(self, "domain", _labels(self.domain, length))
        for name in _RESP_NUMERIC:
            object.__setattr__(self, name, _as_float(name, getattr(self, name), length))
        object.__setattr__(
            self,
            "c_sums",
            {
                k: (_as_float(f"{k}.swc", a, length), _as_float(f"{k}.swe", b, length))
                for k, (a, b) in self.c_sums.items()
            },
        )

    def __len__(self) -> int:
        return len(self.n)

    @classmethod
    def concat(cls, parts: Sequence[RespondentSums]) -> RespondentSums:
        def cat(name: str) -> np.ndarray:
            return np.concatenate([np.asarray(getattr(p, name)) for p in parts])

        names = set(parts[0].c_sums) if parts else set()
        for p in parts:
            names &= set(p.c_sums)
        c_sums = {
            k: (np.concatenate([p.c_sums[k][0] for p in parts]), np.concatenate([p.c_sums[k][1] for p in parts]))
            for k in sorted(names)
        }
        domain = np.concatenate([np.asarray(p.domain, dtype=object) for p in parts])
        return cls(cat("stratum"), cat("psu"), cat("n"), cat("sw"), cat("sww"), domain, c_sums)


def _group_sums(
    keys: Sequence[np.ndarray], columns: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sum ``columns`` over equal ``keys``; returns the first row of each group (in row order) and the sums."""
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        codes = factorise(key)[0]
        combined = combined * (int(codes.max(initial=0)) + 1) + codes
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # keep groups in the order they first appear
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    group = rank[inverse.reshape(-1)]
    sums = {name: np.bincount(group, weights=values, minlength=len(order)) for name, values in columns.items()}
    return first[order], sums


def merge_domains(items: ItemSums, respondents: RespondentSums) -> tuple[ItemSums, RespondentSums]:
    """The whole sample (domain ``None``) from per-domain sums whose domains partition the rows.

    Sums are additive, so re-grouping per-domain cells by (stratum, PSU[, item]) gives exactly what
    aggregating the rows without a domain gives, at the cost of the sums rather than the rows.
    """
    numeric = {name: getattr(items, name) for name in _ITEM_NUMERIC if getattr(items, name) is not None}
    first, sums = _group_sums([items.stratum, items.psu, items.item], numeric)
    merged_items = ItemSums(
        stratum=items.stratum[first],
        psu=items.psu[first],
        item=items.item[first],
        domain=None,
        item_labels=items.item_labels,
        **sums,
    )
    columns = {name: getattr(respondents, name) for name in _RESP_NUMERIC}
    for name, (swc, swe) in respondents.c_sums.items():
        columns[f"c:{name}:swc"], columns[f"c:{name}:swe"] = swc, swe
    first, sums = _group_sums([respondents.stratum, respondents.psu], columns)
    c_sums = {name: (sums[f"c:{name}:swc"], sums[f"c:{name}:swe"]) for name in respondents.c_sums}
    merged_resp = RespondentSums(
        stratum=respondents.stratum[first],
        psu=respondents.psu[first],
        n=sums["n"],
        sw=sums["sw"],
        sww=sums["sww"],
        domain=None,
        c_sums=c_sums,
    )
    return merged_items, merged_resp


def validate_rows(weights: np.ndarray, scores: np.ndarray) -> None:
    """Raise :class:`DataError` for negative/non-finite weights or scores outside 1-5 (NaN = no answer)."""
    bad_w = ~np.isfinite(weights) | (weights < 0)
    if np.any(bad_w):
        raise DataError(f"weight of row {int(np.flatnonzero(bad_w)[0]) + 1} is not a finite non-negative number")
    # a score is valid if it is one of 1-5 (compared one by one: np.isin sorts a float array)
    bad = ~np.isnan(scores)
    for value in (1.0, 2.0, 3.0, 4.0, 5.0):
        bad &= scores != value
    if np.any(bad):
        r, c = np.argwhere(bad)[0]
        raise DataError(f"score {scores[r, c]:g} in row {r + 1}, item {c + 1} is outside 1-5")


def _score_matrix(scores: Any) -> np.ndarray:
    """Scores as a 2-D float array: float32 kept as it is (scores 1-5 are exact in it, and a million rows
    × 22 items take half the memory; every sum is still taken in float64), anything else as float64."""
    y = np.asarray(scores)
    if y.dtype not in (np.float32, np.float64):
        y = np.asarray(y, dtype=float)
    return y[:, None] if y.ndim == 1 else y


def aggregate_rows(
    weights: Sequence[float] | np.ndarray,
    strata: Sequence[Any] | np.ndarray | None,
    psu: Sequence[Any] | np.ndarray | None,
    scores: np.ndarray,
    items: Sequence[Hashable],
    domain: Sequence[Any] | np.ndarray | None = None,
    composites_c: Mapping[str, Mapping[Hashable, float]] | None = None,
) -> tuple[ItemSums, RespondentSums]:
    """Aggregate row-level data (one row per respondent) into :class:`ItemSums` and :class:`RespondentSums`.

    ``scores`` has shape (n_rows, n_items) with NaN for no answer. ``strata=None``: one stratum;
    ``psu=None``: each row is its own PSU. ``domain`` gives one label per row (``None``: whole sample).
    ``composites_c`` maps a composite name to its item coefficients ``a_k``; for each one the respondent
    composite ``c_i = Σ a_k s_ik / Σ a_k d_ik`` (§3, definition C) is summed per PSU.
    """
    w = np.asarray(weights, dtype=float)
    y = _score_matrix(scores)
    n_rows, n_items = y.shape
    if len(w) != n_rows or len(items) != n_items:
        raise DataError("weights, scores and items do not match in size")
    validate_rows(w, y)
    s_lab = _labels(strata if strata is not None else np.zeros(n_rows, dtype=np.int64), n_rows)
    s_codes, s_uniq = factorise(s_lab)
    p_codes = factorise(_labels(psu, n_rows))[0] if psu is not None else np.arange(n_rows, dtype=np.int64)
    # The whole sample (no domain) is one code; factorising a column of None would take the slow path.
    d_codes = np.zeros(n_rows, dtype=np.int64) if domain is None else factorise(_labels(domain, n_rows))[0]
    p_lab = _labels(psu, n_rows) if psu is not None else np.arange(n_rows, dtype=np.int64)
    # one code per (domain, stratum, psu) cell
    cell_key = (d_codes * (len(s_uniq)) + s_codes) * (int(p_codes.max(initial=0)) + 1) + p_codes
    cells, first, cell = np.unique(cell_key, return_index=True, return_inverse=True)
    n_cells = len(cells)

    # Item by item (a million rows of 22 items never become one long array of answers): per cell, the
    # answers' count and sums, each bin added up in row order as one bincount over all items would.
    columns = {name: np.empty((n_cells, n_items)) for name in ("n", "swd", "sws", "swdy", "swdyy", "swwd")}
    for j in range(n_items):
        yj = y[:, j]
        valid_j = ~np.isnan(yj)
        cj, wj, score = cell[valid_j], w[valid_j], yj[valid_j]
        columns["n"][:, j] = np.bincount(cj, minlength=n_cells)
        columns["swd"][:, j] = np.bincount(cj, weights=wj, minlength=n_cells)
        columns["sws"][:, j] = np.bincount(cj, weights=np.where(score >= 4, wj, 0.0), minlength=n_cells)
        columns["swdy"][:, j] = np.bincount(cj, weights=wj * score, minlength=n_cells)
        columns["swdyy"][:, j] = np.bincount(cj, weights=wj * score**2, minlength=n_cells)
        columns["swwd"][:, j] = np.bincount(cj, weights=wj * wj, minlength=n_cells)
    n_ik = columns["n"].reshape(-1)
    keep = n_ik > 0
    cell_of = np.repeat(np.arange(n_cells), n_items)[keep]
    item_of = np.tile(np.arange(n_items), n_cells)[keep]
    rows0 = first[cell_of]
    item_labels = np.asarray(list(items))
    if item_labels.ndim != 1 or item_labels.dtype.kind not in "iuU":
        item_labels = np.empty(n_items, dtype=object)
        item_labels[:] = list(items)
    isums = ItemSums(
        stratum=s_lab[rows0],
        psu=p_lab[rows0],
        item=item_labels[item_of],
        n=columns["n"].reshape(-1)[keep],
        swd=columns["swd"].reshape(-1)[keep],
        sws=columns["sws"].reshape(-1)[keep],
        swdy=columns["swdy"].reshape(-1)[keep],
        swdyy=columns["swdyy"].reshape(-1)[keep],
        swwd=columns["swwd"].reshape(-1)[keep],
        domain=_labels(domain, n_rows)[rows0],
    )
    c_sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    item_pos = {k: i for i, k in enumerate(items)}
    valid = sat = np.zeros((0, n_items), dtype=bool)
    if composites_c:
        valid = ~np.isnan(y)
        sat = valid & (y >= 4)
    for name, coefs in (composites_c or {}).items():
        a = np.zeros(n_items)
        for k, v in coefs.items():
            if k not in item_pos:
                raise DataError(f"composite {name!r} refers to unknown item {k!r}")
            a[item_pos[k]] = v
        num = (np.where(sat, 1.0, 0.0) * a).sum(axis=1)
        den = (valid * a).sum(axis=1)
        answered = den > 0
        c = np.divide(num, den, out=np.zeros(n_rows), where=answered)
        c_sums[name] = (
            np.bincount(cell, weights=w * c, minlength=n_cells),
            np.bincount(cell, weights=w * answered, minlength=n_cells),
        )
    rsums = RespondentSums(
        stratum=s_lab[first],
        psu=p_lab[first],
        n=np.bincount(cell, minlength=n_cells).astype(float),
        sw=np.bincount(cell, weights=w, minlength=n_cells),
        sww=np.bincount(cell, weights=w * w, minlength=n_cells),
        domain=_labels(domain, n_rows)[first],
        c_sums=c_sums,
    )
    return isums, rsums
