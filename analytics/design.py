"""Sampling design and Taylor-linearised variance from per-(stratum, PSU) totals (STATISTICS.md §4-§5).

The design is described only by what the variance formula needs: the strata, the number of PSUs
``n_h`` each stratum has in the **full** sample, and optionally the population number of PSUs ``N_h``
(finite population correction). Everything else arrives as per-PSU sums, so a domain estimate never
needs the rows of the other domains: PSUs of the full design without domain members have a linearised
total of exactly zero and are handled implicitly (§5.1, "one-pass form with implicit zero PSUs").

Lonely PSUs (a stratum with ``n_h == 1``) follow R's ``options(survey.lonely.psu=)``:

``"fail"`` (default)
    raise :class:`~analytics.errors.DesignError` naming the stratum.
``"certainty"``
    the stratum is treated as sampled with certainty and contributes zero variance.
``"remove"``
    the stratum is ignored in the variance (contributes zero). For a single-stage design R computes
    exactly the same number as for ``"certainty"``; they differ in R only for multistage designs, which
    this engine does not model.
``"average"``
    the stratum's contribution is replaced by the average contribution of the other strata present in
    the estimate: ``V = sum_ok V_h * n_strata / n_ok_strata`` (R ``onestage``).

``"adjust"`` is deliberately not offered: its meaning changed between R survey 4.1 and 4.5 (§15.4).
A domain that happens to meet only one PSU of a stratum with ``n_h > 1`` is *not* lonely: the other
PSUs are implicit zeros, exactly as R's ``subset()`` does with the default
``survey.adjust.domain.lonely = FALSE``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DesignError

LONELY_PSU_OPTIONS = ("fail", "certainty", "remove", "average")
#: Influence.build adds up duplicate rows by direct addressing when estimates × PSU ids stay below this
#: (a few tens of MB of scratch arrays); above it, by sorting.
DENSE_KEYS = 1 << 22


def factorise(values: Iterable[Any] | np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (first-appearance order) and the list of distinct labels.

    Works for numpy arrays of numbers or strings and for any sequence of hashables (``None`` included),
    so domain labels may be tuples or ``None`` for "whole sample".
    """
    arr = values if isinstance(values, np.ndarray) else None
    if arr is not None and arr.dtype.kind in "iu" and arr.ndim == 1 and len(arr):
        low, high = int(arr.min()), int(arr.max())
        if high - low < max(4 * len(arr), 1 << 16):
            # small integer range: first appearances by direct addressing instead of a sort
            shifted = arr - low
            first = np.full(high - low + 1, len(arr), dtype=np.int64)
            np.minimum.at(first, shifted, np.arange(len(arr)))
            present = np.flatnonzero(first < len(arr))
            order = present[np.argsort(first[present], kind="stable")]
            code_of = np.empty(high - low + 1, dtype=np.int64)
            code_of[order] = np.arange(len(order))
            return code_of[shifted], [int(v) + low for v in order.tolist()]
    if arr is not None and arr.dtype != object and arr.ndim == 1:
        uniq, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        remap = np.empty(len(uniq), dtype=np.int64)
        remap[order] = np.arange(len(uniq))
        labels = [uniq[i].item() if hasattr(uniq[i], "item") else uniq[i] for i in order]
        return remap[inverse.reshape(-1)], labels
    index: dict[Hashable, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in (arr.tolist() if arr is not None else values)),
        dtype=np.int64,
    )
    return codes, list(index)


@dataclass(frozen=True)
class Design:
    """Full-sample design: strata, PSUs per stratum ``n_h`` and optional population PSU counts ``N_h``.

    ``population_psu`` follows R's ``fpc=``: the number of PSUs in the population of each stratum, or,
    if every value is at most 1, the sampling fraction itself. ``inf`` or ``None`` means no fpc (the
    with-replacement ultimate-cluster approximation R uses by default, §4). For ``ids=~1`` designs the
    PSU is the respondent and ``N_h`` the population size of the stratum.
    """

    strata: tuple[Hashable, ...]
    n_psu: tuple[int, ...]
    population_psu: tuple[float, ...] | None = None
    lonely_psu: str = "fail"
    _index: dict[Hashable, int] = field(default=None, repr=False, compare=False)  # type: ignore[arg-type]  # set in __post_init__

    def __post_init__(self) -> None:
        if len(self.strata) != len(self.n_psu):
            raise DesignError("strata and n_psu must have the same length")
        if len(set(self.strata)) != len(self.strata):
            raise DesignError("stratum labels must be unique")
        if any(int(n) < 1 for n in self.n_psu):
            bad = next(s for s, n in zip(self.strata, self.n_psu, strict=True) if int(n) < 1)
            raise DesignError(f"stratum {bad!r} has no PSUs")
        if self.lonely_psu not in LONELY_PSU_OPTIONS:
            raise DesignError(f"lonely_psu must be one of {', '.join(LONELY_PSU_OPTIONS)}, not {self.lonely_psu!r}")
        if self.population_psu is not None:
            if len(self.population_psu) != len(self.strata):
                raise DesignError("population_psu must have one value per stratum")
            pop = np.asarray(self.population_psu, dtype=float)
            if np.any(~(pop > 0)):
                raise DesignError("fpc values must be positive")
            if not np.all(pop <= 1):
                nh = np.asarray(self.n_psu, dtype=float)
                small = pop < nh
                if np.any(small):
                    bad = self.strata[int(np.flatnonzero(small)[0])]
                    raise DesignError(f"fpc of stratum {bad!r} is smaller than its number of sampled PSUs")
        object.__setattr__(self, "_index", {s: i for i, s in enumerate(self.strata)})

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_rows(
        cls,
        strata: Sequence[Any] | np.ndarray | None,
        psu: Sequence[Any] | np.ndarray | None,
        fpc: Sequence[float] | np.ndarray | None = None,
        lonely_psu: str = "fail",
        n_rows: int | None = None,
    ) -> Design:
        """Design from one entry per respondent (R ``svydesign(ids=~psu, strata=~stratum, nest=TRUE)``).

        ``strata=None`` means one stratum; ``psu=None`` means each respondent is its own PSU (``ids=~1``).
        """
        if strata is None and psu is None and n_rows is None:
            raise DesignError("give strata, psu or n_rows")
        n = len(strata) if strata is not None else len(psu) if psu is not None else int(n_rows or 0)
        s_codes, s_labels = factorise(np.asarray(strata) if strata is not None else np.zeros(n, dtype=np.int64))
        p_codes = factorise(np.asarray(psu))[0] if psu is not None else np.arange(n, dtype=np.int64)
        if len(p_codes) != n:
            raise DesignError("strata and psu have different lengths")
        pairs = np.unique(s_codes * (int(p_codes.max(initial=0)) + 1) + p_codes)
        n_h = np.bincount(pairs // (int(p_codes.max(initial=0)) + 1), minlength=len(s_labels))
        pop: tuple[float, ...] | None = None
        if fpc is not None:
            f = np.asarray(fpc, dtype=float)
            if len(f) != n:
                raise DesignError("fpc has a different length from strata")
            lo = np.full(len(s_labels), np.inf)
            hi = np.full(len(s_labels), -np.inf)
            np.minimum.at(lo, s_codes, f)
            np.maximum.at(hi, s_codes, f)
            if np.any(lo != hi):
                bad = s_labels[int(np.flatnonzero(lo != hi)[0])]
                raise DesignError(f"fpc is not constant within stratum {bad!r}")
            pop = tuple(float(x) for x in lo)
        return cls(tuple(s_labels), tuple(int(x) for x in n_h), pop, lonely_psu)

    # -- derived quantities -------------------------------------------------------------------------
    @property
    def n_strata(self) -> int:
        return len(self.strata)

    @property
    def n_h(self) -> np.ndarray:
        return np.asarray(self.n_psu, dtype=np.int64)

    @property
    def sampling_fraction(self) -> np.ndarray:
        """``f_h`` per stratum (0 without fpc), as R: ``f = n_h / N_h`` or the given fraction."""
        if self.population_psu is None:
            return np.zeros(self.n_strata)
        pop = np.asarray(self.population_psu, dtype=float)
        if np.all(pop <= 1):
            return pop.copy()
        return self.n_h / pop

    @property
    def df(self) -> int:
        """Full-design degrees of freedom: #PSUs - #strata (R ``degf``, §5.3)."""
        return int(self.n_h.sum() - self.n_strata)

    def stratum_codes(self, labels: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Map stratum labels to indices, raising :class:`DesignError` for a stratum not in the design."""
        arr = np.asarray(labels) if not isinstance(labels, np.ndarray) else labels
        codes, uniq = factorise(arr)
        try:
            lookup = np.array([self._index[u] for u in uniq], dtype=np.int64)
        except KeyError as exc:
            raise DesignError(f"stratum {exc.args[0]!r} is not in the design") from None
        return lookup[codes] if len(codes) else codes

    def scale(self) -> np.ndarray:
        """``(1 - f_h) n_h / (n_h - 1)`` per stratum; 0 where ``n_h == 1`` (lonely, handled separately)."""
        nh = self.n_h.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (1.0 - self.sampling_fraction) * nh / (nh - 1.0)
        s[self.n_h <= 1] = 0.0
        return s

    def to_dict(self) -> dict[str, Any]:
        return {
            "strata": [str(s) for s in self.strata],
            "n_psu": list(self.n_psu),
            "population_psu": None if self.population_psu is None else list(self.population_psu),
            "lonely_psu": self.lonely_psu,
            "df": self.df,
        }


def _lonely_check(design: Design, present: np.ndarray) -> None:
    """Raise for ``lonely_psu='fail'`` if a stratum with one PSU takes part in any estimate."""
    if design.lonely_psu != "fail":
        return
    lonely = (design.n_h == 1) & present
    if np.any(lonely):
        bad = design.strata[int(np.flatnonzero(lonely)[0])]
        raise DesignError(
            f"stratum {bad!r} has only one PSU; collapse strata or choose lonely_psu='certainty', 'remove' or 'average'"
        )


@dataclass(frozen=True, eq=False)
class Influence:
    """Sparse linearised PSU totals ``u_hj`` for a batch of estimates (§5.1-§5.2).

    Row ``r`` says: estimate ``est[r]`` has total ``u[r]`` in PSU ``psu[r]`` of stratum ``stratum[r]``.
    PSUs absent for an estimate are implicit zeros. ``psu`` ids are global (unique across strata) and
    each (est, psu) pair occurs at most once (use :meth:`build`, which adds up duplicates).
    """

    design: Design
    n_estimates: int
    est: np.ndarray
    psu: np.ndarray
    stratum: np.ndarray
    u: np.ndarray

    @classmethod
    def build(
        cls, design: Design, n_estimates: int, est: np.ndarray, psu: np.ndarray, stratum: np.ndarray, u: np.ndarray
    ) -> Influence:
        """Aggregate duplicate (estimate, PSU) rows and store the result."""
        est = np.asarray(est, dtype=np.int64)
        psu = np.asarray(psu, dtype=np.int64)
        if len(est) == 0:
            e = np.zeros(0, dtype=np.int64)
            return cls(design, n_estimates, e, e, e, np.zeros(0))
        n_psu_ids = int(psu.max()) + 1
        key = est * n_psu_ids + psu
        if n_estimates * n_psu_ids <= DENSE_KEYS:
            # Few (estimate, PSU) combinations: add up by direct addressing, no sort (same sums, same order).
            size = n_estimates * n_psu_ids
            present = np.flatnonzero(np.bincount(key, minlength=size))
            total = np.bincount(key, weights=np.asarray(u, dtype=float), minlength=size)[present]
            strata = np.zeros(size, dtype=np.int64)
            strata[key] = np.asarray(stratum, dtype=np.int64)
            return cls(design, n_estimates, present // n_psu_ids, present % n_psu_ids, strata[present], total)
        uniq, inverse = np.unique(key, return_inverse=True)
        total = np.bincount(inverse, weights=np.asarray(u, dtype=float), minlength=len(uniq))
        first = np.zeros(len(uniq), dtype=np.int64)
        first[inverse] = np.arange(len(key))
        return cls(design, n_estimates, uniq // n_psu_ids, uniq % n_psu_ids, np.asarray(stratum)[first], total)

    def variance(self) -> np.ndarray:
        """Linearised variance of every estimate, vectorised (R ``onestrat``/``onestage``, §5.1)."""
        d = self.design
        H = d.n_strata
        size = self.n_estimates * H
        key = self.est * H + self.stratum
        m = np.bincount(key, minlength=size).astype(float)
        sum_u = np.bincount(key, weights=self.u, minlength=size)
        nh = np.tile(d.n_h.astype(float), self.n_estimates)
        present = m > 0
        _lonely_check(d, np.asarray(present.reshape(self.n_estimates, H).any(axis=0)))
        if np.any(m > nh):
            bad = d.strata[int(np.flatnonzero(m > nh)[0] % H)]
            raise DesignError(f"stratum {bad!r} has more PSUs in the sums than declared in the design")
        ubar = sum_u / nh
        dev = self.u - ubar[key]
        ss = np.bincount(key, weights=dev * dev, minlength=size) + (nh - m) * ubar * ubar
        vh = (ss * np.tile(d.scale(), self.n_estimates)).reshape(self.n_estimates, H)
        v = vh.sum(axis=1)
        if d.lonely_psu == "average":
            pres = present.reshape(self.n_estimates, H)
            n_str = pres.sum(axis=1)
            n_ok = (pres & (d.n_h > 1)[None, :]).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(n_ok > 0, v * n_str / n_ok, np.where(n_str > 0, np.nan, 0.0))
        return v

    def covariance(self, indices: Sequence[int]) -> np.ndarray:
        """Joint covariance matrix of the selected estimates (dense over the union of their PSUs)."""
        idx = np.asarray(indices, dtype=np.int64)
        k = len(idx)
        pos = np.full(self.n_estimates, -1, dtype=np.int64)
        pos[idx] = np.arange(k)
        sel = pos[self.est] >= 0
        if not np.any(sel):
            return np.zeros((k, k))
        psu_ids, col = np.unique(self.psu[sel], return_inverse=True)
        strat = np.zeros(len(psu_ids), dtype=np.int64)
        strat[col] = self.stratum[sel]
        dense = np.zeros((k, len(psu_ids)))
        np.add.at(dense, (pos[self.est[sel]], col), self.u[sel])
        d = self.design
        _lonely_check(d, np.bincount(strat, minlength=d.n_strata) > 0)
        scale = d.scale()
        cov = np.zeros((k, k))
        n_str = n_ok = 0
        for h in np.unique(strat):
            cols = strat == h
            nh = float(d.n_h[h])
            mh = float(cols.sum())
            if mh > nh:
                raise DesignError(f"stratum {d.strata[h]!r} has more PSUs in the sums than declared in the design")
            n_str += 1
            if d.n_h[h] <= 1:
                continue
            n_ok += 1
            block = dense[:, cols]
            ubar = block.sum(axis=1) / nh
            dev = block - ubar[:, None]
            cov += scale[h] * (dev @ dev.T + (nh - mh) * np.outer(ubar, ubar))
        if d.lonely_psu == "average" and n_str:
            cov = cov * n_str / n_ok if n_ok else np.full((k, k), np.nan)
        return cov

    def combine(self, coefficients: np.ndarray) -> Influence:
        """Influence of linear combinations ``C @ theta`` (``C`` has shape (n_new, n_estimates)), §5.2."""
        c = np.asarray(coefficients, dtype=float)
        new_idx, old_idx = np.nonzero(c)
        if len(new_idx) == 0:
            return Influence.build(self.design, c.shape[0], np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
        order = np.argsort(self.est, kind="stable")
        est_sorted = self.est[order]
        starts = np.searchsorted(est_sorted, np.arange(self.n_estimates))
        ends = np.searchsorted(est_sorted, np.arange(self.n_estimates), side="right")
        pieces_rows = [order[starts[o] : ends[o]] for o in old_idx]
        rows = np.concatenate(pieces_rows) if pieces_rows else np.zeros(0, dtype=np.int64)
        lens = np.array([len(p) for p in pieces_rows], dtype=np.int64)
        new_est = np.repeat(new_idx, lens)
        coef = np.repeat(c[new_idx, old_idx], lens)
        return Influence.build(
            self.design, c.shape[0], new_est, self.psu[rows], self.stratum[rows], coef * self.u[rows]
        )

    def scaled(self, factors: np.ndarray) -> Influence:
        """Delta method ``g'(theta) u`` per estimate (§5.2)."""
        f = np.asarray(factors, dtype=float)
        return Influence(self.design, self.n_estimates, self.est, self.psu, self.stratum, self.u * f[self.est])
