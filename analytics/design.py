"""Sampling design and Taylor-linearised variance from per-unit totals (STATISTICS.md §4-§5).

The design is described only by what the variance formula needs: the strata, the number of PSUs
``n_h`` each stratum has in the **full** sample, and optionally the population number of PSUs ``N_h``
(finite population correction). Everything else arrives as per-PSU sums, so a domain estimate never
needs the rows of the other domains: PSUs of the full design without domain members have a linearised
total of exactly zero and are handled implicitly (§5.1, "one-pass form with implicit zero PSUs").

The rules below are those of R survey 4.1.1 (Debian's ``r-cran-survey``), ``svydesign(ids=, strata=,
fpc=, nest=TRUE)`` with ``svyrecvar``'s ``multistage``/``onestage``/``onestrat``; the tests compare
against that R to 1e-12.

Certainty strata
    A stratum whose fpc says the sample is the population (``(N_h - n_h) / N_h < 1e-7``: ``N_h = n_h``
    or a sampling fraction of 1) contributes zero variance **before** any lonely-PSU rule, as R's
    ``if (all(f < 0.0000001)) return(matrix(0, ...))``. Such a stratum with one PSU is therefore not
    lonely: ``"fail"`` does not fail and ``"average"`` counts it as a stratum with a (zero) variance.

Lonely PSUs (a stratum with ``n_h == 1`` that is not a certainty stratum) follow R's
``options(survey.lonely.psu=)``:

``"fail"`` (default)
    raise :class:`~analytics.errors.DesignError` naming the stratum.
``"certainty"``
    the stratum is treated as sampled with certainty and contributes zero variance.
``"remove"``
    the stratum is ignored in the variance (contributes zero). R 4.1.1 computes exactly the same number
    as for ``"certainty"``, in single- and multi-stage designs alike (``onestrat`` centres the single
    PSU on itself for both).
``"average"``
    the stratum's contribution is replaced by the average contribution of the other strata present in
    the estimate: ``V = sum_ok V_h * n_strata / n_ok_strata`` (R ``onestage``), certainty strata
    counting among the ``ok`` ones. With no ``ok`` stratum the variance is NaN, as in R.
``"adjust"``
    the single PSU's total is taken as its deviation from **zero**: the stratum adds
    ``(1 - f_h) u_h1²`` (no ``n/(n-1)`` factor; ``1 - f_h = 1`` without fpc). This is R 4.1.1's
    ``onestrat``, which skips ``sweep(x, 2, colMeans(x), "-")`` when ``lonely.psu == "adjust"`` and
    ``nsubset == 1`` and uses ``scale <- f``. For a domain, ``u_h1`` is the domain's total in that PSU
    (zero if the domain has no member there). CRAN's survey 4.4-1 and later (4.5 included) centre the
    lonely PSU at the grand mean of the PSU totals instead (``recentering <- colSums(x) /
    n_PSUs_from_all_strata`` in ``onestage``); we match Debian's 4.1.1.

A domain that happens to meet only one PSU of a stratum with ``n_h > 1`` is *not* lonely: the other
PSUs are implicit zeros, exactly as R's ``subset()`` does with the default
``survey.adjust.domain.lonely = FALSE``.

Multi-stage designs (``Design.stages``, R ``svydesign(ids=~A+B, strata=~S, fpc=~F1+F2, nest=TRUE)``)
    ``V = V_1 + sum_hj f_1h V_2,hj`` (R ``multistage``): ``V_1`` is the formula above over the stage-1
    PSU totals; ``V_2,hj`` is the same one-stratum formula over the stage-2 units of PSU ``hj`` with
    its own ``n_2,hj`` (sampled units in the full sample) and fpc ``N_2,hj``, domains padded with
    implicit zero units and lonely units (a PSU with one sampled unit) handled by the same option
    (``"average"`` gives NaN: R averages over the one stratum there is). ``f_1h = n_h / N_h`` is the
    stage-1 sampling fraction (R ``* nPSUs[index[1], 1] / fpcs[index[1], 1]``); further stages recurse
    in the same way, multiplied by every sampling fraction above. The later stages enter only when the
    design has a stage-1 fpc: without one R uses the ultimate-cluster (with-replacement) approximation
    and so do we. A later stage without fpc is sampled with replacement (R's ``fpc = Inf``). The
    degrees of freedom count stage-1 PSUs minus strata (R ``degf``). Only PSUs that contain rows of
    the estimate are visited at the later stages, as R's ``by()`` over the subset's clusters.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DesignError

LONELY_PSU_OPTIONS = ("fail", "certainty", "remove", "average", "adjust")
#: R ``onestrat``: a stratum with ``(N - n) / N`` below this is a certainty stratum (zero variance).
CERTAINTY_TOLERANCE = 1e-7
#: Influence.build adds up duplicate rows by direct addressing when estimates × PSU ids stay below this
#: (a few tens of MB of scratch arrays); above it, by sorting.
DENSE_KEYS = 1 << 22


#: Factorisations ("codes") and string ranks ("ranks") of large read-only arrays, newest last (:func:`factorise`).
_MEMO: dict[str, list[tuple[weakref.ref[np.ndarray], tuple[np.ndarray, list[Any]]]]] = {"codes": [], "ranks": []}
_MEMO_SIZE, _MEMO_MIN_ROWS = 4, 1 << 16


def factorise(values: Iterable[Any] | np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (first-appearance order) and the list of distinct labels.

    Works for numpy arrays of numbers or strings and for any sequence of hashables (``None`` included),
    so domain labels may be tuples or ``None`` for "whole sample".

    A large array that is read-only and owns its data (the command line marks its label columns so)
    cannot change, so its factorisation is remembered while the array lives: the design, the sums and
    the degrees of freedom all factorise the same strata and PSU columns of a million rows.
    """
    arr = values if isinstance(values, np.ndarray) else None
    if arr is None or arr.flags.writeable or not arr.flags.owndata or len(arr) < _MEMO_MIN_ROWS:
        return _factorise(values)
    for ref, (codes, labels) in _MEMO["codes"]:
        if ref() is arr:
            return codes.copy(), list(labels)
    codes, labels = _factorise(arr)
    _remember("codes", arr, codes, labels)
    return codes, labels


def _factorise(values: Iterable[Any] | np.ndarray) -> tuple[np.ndarray, list[Any]]:
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
    if arr is not None and arr.dtype.kind == "U" and arr.ndim == 1 and len(arr):
        ranks = string_ranks(arr)
        if ranks is not None:
            codes, labels = _factorise(ranks)  # ranks are dense: direct addressing, no second sort
            first = _first_rows(codes, len(labels))
            return codes, arr[first].tolist()
    if arr is not None and arr.dtype == object and arr.ndim == 1 and len(arr) >= _MEMO_MIN_ROWS:
        split = _factorise_with_none(arr)
        if split is not None:
            return split
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


def _factorise_with_none(arr: np.ndarray) -> tuple[np.ndarray, list[Any]] | None:
    """An object array of ``None`` (the whole sample) and strings (domains), as sums of several domains
    stack them, factorised on numpy's string path; None if the other values are not all ``str``."""
    none = np.asarray(arr == None)  # noqa: E711  # elementwise on an object array
    rest = arr[~none].tolist()
    if not rest or set(map(type, rest)) != {str}:
        return None
    rest_codes, rest_labels = _factorise(np.array(rest, dtype=str))
    if not np.any(none):
        return rest_codes, rest_labels
    # None takes its place in first-appearance order among the strings
    first_rest = np.flatnonzero(~none)[_first_rows(rest_codes, len(rest_labels))]
    before = int(np.searchsorted(first_rest, int(np.argmax(none))))
    codes = np.empty(len(arr), dtype=np.int64)
    codes[none] = before
    codes[~none] = rest_codes + (rest_codes >= before)
    return codes, [*rest_labels[:before], None, *rest_labels[before:]]


def string_ranks(arr: np.ndarray) -> np.ndarray | None:
    """Each string's rank among the distinct strings (numpy's string order), or None if they do not pack
    into integers (:func:`pack_strings`). Remembered for a large read-only array, as :func:`factorise`."""
    memo = arr.flags.owndata and not arr.flags.writeable and len(arr) >= _MEMO_MIN_ROWS
    if memo:
        for ref, (ranks, _) in _MEMO["ranks"]:
            if ref() is arr:
                return ranks.copy()
    packed = pack_strings(arr)
    if packed is None:
        return None
    ranks = np.unique(packed, return_inverse=True)[1].reshape(-1)
    if memo:
        _remember("ranks", arr, ranks, [])
    return ranks


def _remember(kind: str, arr: np.ndarray, codes: np.ndarray, labels: list[Any]) -> None:
    memo = _MEMO[kind]
    memo[:] = [entry for entry in memo[-(_MEMO_SIZE - 1) :] if entry[0]() is not None]
    memo.append((weakref.ref(arr), (codes.copy(), list(labels))))


def pack_strings(arr: np.ndarray) -> np.ndarray | None:
    """Short strings as one int64 each (equal strings, equal numbers), or None when they do not fit.

    numpy keeps a ``str`` array as fixed-width UCS-4 code points, zero-padded. The code points used are
    shifted to ``1 .. hi - lo + 1`` (padding stays 0); when that needs ``b`` bits and ``width * b <= 62``,
    the shifted code points side by side are a unique integer, and integers factorise many times faster
    than strings (a sort of numbers, not of strings). With the first character the most significant and
    padding below every character, the integers sort as numpy sorts the strings.
    """
    width = arr.dtype.itemsize // 4
    if width == 0:
        return np.zeros(len(arr), dtype=np.int64)
    points = np.ascontiguousarray(arr).view(np.uint32).reshape(len(arr), width)
    hi = int(points.max())
    if hi == 0:
        return np.zeros(len(arr), dtype=np.int64)
    lo = int(np.min(points, where=points > 0, initial=hi))
    bits = (hi - lo + 1).bit_length()
    if width * bits > 62:
        return None
    packed = np.zeros(len(arr), dtype=np.int64)
    for j in range(width):
        column = points[:, j].astype(np.int64)
        packed <<= bits
        packed |= np.where(column > 0, column - (lo - 1), 0)
    return packed


def per_stage(values: Any) -> list[np.ndarray] | None:
    """The per-stage arrays of a ``psu=`` or ``fpc=`` argument, or None if it is one array.

    One array per stage is a list or tuple whose elements are themselves arrays or lists (stage 1
    first); anything else (a numpy array, a list of labels) is one column for a single stage.
    """
    if isinstance(values, list | tuple) and values and all(isinstance(v, np.ndarray | list | tuple) for v in values):
        return [v if isinstance(v, np.ndarray) else np.asarray(v) for v in values]
    return None


def _object_array(values: Sequence[Any]) -> np.ndarray:
    """1-D object array holding ``values`` as they are (tuples stay tuples, not a second axis)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def _first_rows(codes: np.ndarray, m: int) -> np.ndarray:
    """Index of the first row of each of the ``m`` codes."""
    first = np.full(m, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def _nest(top: np.ndarray, stage_codes: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Units nested in ``top`` (stratum codes), stage by stage (R ``nest=TRUE``).

    Returns, per stage, the unit of every row (numbered in first-appearance order) and the first row of
    every unit. A stage-k label repeated under two different stage-(k-1) units is two units.
    """
    units: list[np.ndarray] = []
    firsts: list[np.ndarray] = []
    above = top
    for codes in stage_codes:
        key = above * (int(codes.max(initial=0)) + 1) + codes
        unit = factorise(key)[0]
        m = int(unit.max(initial=-1)) + 1
        units.append(unit)
        firsts.append(_first_rows(unit, m))
        above = unit
    return units, firsts


def _constant_within(values: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, int | None]:
    """The value of each group and the first group where it is not constant (None if none)."""
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, group, values)
    np.maximum.at(hi, group, values)
    bad = np.flatnonzero(lo != hi)
    return lo, (int(bad[0]) if len(bad) else None)


@dataclass(frozen=True)
class Stage:
    """The sampled units of one stage of a multi-stage design (:attr:`Design.stages`).

    ``parent[i]`` is the index of the unit that unit ``i`` is nested in: for stage 1 its stratum (an
    index into :attr:`Design.strata`), for stage k > 1 a unit of stage k - 1. ``labels[i]`` is the
    unit's own label at this stage (unique within its parent, as R ``nest=TRUE``). ``population`` (stages
    2, 3, ... only; stage 1's fpc is :attr:`Design.population_psu`) gives, for every unit of the stage
    above, its population number of units at this stage (R's ``popsize``; ``inf`` = no fpc, sampled
    with replacement); ``None`` = no fpc at this stage.
    """

    parent: tuple[int, ...]
    labels: tuple[Hashable, ...]
    population: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.parent) != len(self.labels):
            raise DesignError("a stage needs one parent and one label per unit")


@dataclass(frozen=True, eq=False)
class _Tree:
    """Arrays derived from :attr:`Design.stages` once, for the variance (stage j is 0-based here).

    ``up[j][x]``: stage-j unit of finest unit ``x``; ``parent[j][y]``: the unit above stage-j unit ``y``
    (its stratum for j = 0). For j >= 1, per unit ``p`` of stage j - 1: ``n_sub[j][p]`` sampled stage-j
    units in it, ``keep[j][p] = (N - n) / N`` (1 without fpc; R ``onestrat``'s ``f``), ``certain[j][p]``
    and ``cum[j - 1][p]``, the product of the sampling fractions ``n / N`` that selected ``p`` and every
    unit above it (R's ``nPSUs / fpcs`` factors of ``multistage``).
    """

    up: tuple[np.ndarray, ...]
    parent: tuple[np.ndarray, ...]
    n_sub: tuple[np.ndarray, ...]
    keep: tuple[np.ndarray, ...]
    certain: tuple[np.ndarray, ...]
    cum: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Design:
    """Full-sample design: strata, PSUs per stratum ``n_h`` and optional population PSU counts ``N_h``.

    ``population_psu`` follows R's ``fpc=``: the number of PSUs in the population of each stratum, or,
    if every value is at most 1, the sampling fraction itself. ``inf`` or ``None`` means no fpc (the
    with-replacement ultimate-cluster approximation R uses by default, §4). For ``ids=~1`` designs the
    PSU is the respondent and ``N_h`` the population size of the stratum.

    ``stages`` is empty for a single-stage design (PSU labels are then whatever the sums use). A
    multi-stage design lists every stage's units, stage 1 first (:class:`Stage`, at least two); its
    per-unit sums carry as PSU label the tuple of the unit's labels at every stage, and the influence
    rows of :class:`Influence` use the finest-stage unit index (:meth:`unit_codes`).
    """

    strata: tuple[Hashable, ...]
    n_psu: tuple[int, ...]
    population_psu: tuple[float, ...] | None = None
    lonely_psu: str = "fail"
    stages: tuple[Stage, ...] = ()
    _index: dict[Hashable, int] = field(init=False, repr=False, compare=False)
    _tree: _Tree | None = field(init=False, repr=False, compare=False)
    _units: dict[tuple[Any, ...], int] | None = field(init=False, repr=False, compare=False)

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
        object.__setattr__(self, "_tree", self._build_tree() if self.stages else None)
        object.__setattr__(self, "_units", None)

    def _build_tree(self) -> _Tree:
        """Check :attr:`stages` and derive the arrays of :class:`_Tree`."""
        if len(self.stages) < 2:
            raise DesignError("a multi-stage design needs at least two stages (leave stages empty for one)")
        if self.stages[0].population is not None:
            raise DesignError("the stage-1 fpc is population_psu, not stages[0].population")
        parents: list[np.ndarray] = []
        n_sub: list[np.ndarray] = [self.n_h.astype(float)]
        keep: list[np.ndarray] = [self._keep()]
        certain: list[np.ndarray] = [self.certain]
        n_above = self.n_strata
        for j, stage in enumerate(self.stages):
            parent = np.asarray(stage.parent, dtype=np.int64)
            if len(parent) == 0 or parent.min() < 0 or parent.max() >= n_above:
                raise DesignError(f"stage {j + 1} refers to units that stage {j} does not have")
            count = np.bincount(parent, minlength=n_above)
            if j == 0 and not np.array_equal(count, self.n_h):
                raise DesignError("stage 1 does not have n_psu PSUs in every stratum")
            if j > 0 and np.any(count == 0):
                raise DesignError(f"a unit of stage {j} has no sampled units at stage {j + 1}")
            if len(set(zip(stage.parent, stage.labels, strict=True))) != len(parent):
                raise DesignError(f"unit labels of stage {j + 1} must be unique within the unit above")
            if j > 0:
                n = count.astype(float)
                if stage.population is None:
                    pop = np.full(n_above, np.inf)
                else:
                    pop = np.asarray(stage.population, dtype=float)
                    if len(pop) != n_above:
                        raise DesignError(f"the fpc of stage {j + 1} needs one value per unit of stage {j}")
                    if np.any(~(pop >= n)):
                        raise DesignError(f"the fpc of stage {j + 1} is below the number of sampled units")
                with np.errstate(invalid="ignore"):
                    k = np.where(np.isinf(pop), 1.0, (pop - n) / pop)
                n_sub.append(n)
                keep.append(k)
                certain.append(k < CERTAINTY_TOLERANCE)
            parents.append(parent)
            n_above = len(parent)
        # finest unit -> its unit at every stage
        finest = np.arange(n_above, dtype=np.int64)
        chain = [finest]
        for parent in reversed(parents[1:]):
            chain.append(parent[chain[-1]])
        up = chain[::-1]
        # cumulative sampling fractions: stage 1 n_h / N_h, then n / N of every later selection
        frac1 = self._stage1_fraction()
        cum = [frac1[parents[0]]]
        for j in range(1, len(parents) - 1):
            with np.errstate(invalid="ignore"):
                frac = np.where(np.isinf(self._population(j)), 0.0, n_sub[j] / self._population(j))
            cum.append(cum[-1][parents[j]] * frac[parents[j]])
        return _Tree(tuple(up), tuple(parents), tuple(n_sub), tuple(keep), tuple(certain), tuple(cum))

    def _population(self, j: int) -> np.ndarray:
        """Population counts of stage j + 1 (0-based j >= 1) per unit of stage j, inf without fpc."""
        stage = self.stages[j]
        n_above = len(self.stages[j - 1].parent)
        return np.full(n_above, np.inf) if stage.population is None else np.asarray(stage.population, dtype=float)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_rows(
        cls,
        strata: Sequence[Any] | np.ndarray | None,
        psu: Sequence[Any] | np.ndarray | None,
        fpc: Sequence[Any] | np.ndarray | None = None,
        lonely_psu: str = "fail",
        n_rows: int | None = None,
    ) -> Design:
        """Design from one entry per respondent (R ``svydesign(ids=~psu, strata=~stratum, nest=TRUE)``).

        ``strata=None`` means one stratum; ``psu=None`` means each respondent is its own PSU (``ids=~1``).
        ``psu`` may also be a list of arrays, one per stage (stage 1 first: R ``ids=~A+B``), and ``fpc``
        likewise (R ``fpc=~F1+F2``; fewer fpc arrays than stages: no fpc at the later stages, i.e.
        sampling with replacement there, R's ``fpc = Inf``). Each fpc must be constant within its
        stratum (stage 1) or within the unit of the stage above; all of them are population counts or
        all sampling fractions, as R's ``as.fpc``.
        """
        stages = per_stage(psu)
        fpcs = per_stage(fpc)
        if stages is not None and len(stages) == 1:
            psu, stages = stages[0], None
        if fpcs is not None and len(fpcs) == 1:
            fpc, fpcs = fpcs[0], None
        if stages is not None:
            return cls._from_stages(
                strata, stages, fpcs if fpcs is not None else [] if fpc is None else [fpc], lonely_psu
            )
        if fpcs is not None:
            raise DesignError(f"fpc gives {len(fpcs)} stages but psu only one")
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
            lo, bad = _constant_within(f, s_codes, len(s_labels))
            if bad is not None:
                raise DesignError(f"fpc is not constant within stratum {s_labels[bad]!r}")
            pop = tuple(float(x) for x in lo)
        return cls(tuple(s_labels), tuple(int(x) for x in n_h), pop, lonely_psu)

    @classmethod
    def _from_stages(
        cls,
        strata: Sequence[Any] | np.ndarray | None,
        stages: Sequence[np.ndarray],
        fpcs: Sequence[Any],
        lonely_psu: str,
    ) -> Design:
        """Multi-stage design from per-row unit labels (see :meth:`from_rows`)."""
        n = len(stages[0])
        if any(len(s) != n for s in stages) or (strata is not None and len(strata) != n):
            raise DesignError("strata and the psu stages have different lengths")
        if len(fpcs) > len(stages):
            raise DesignError(f"fpc gives {len(fpcs)} stages but psu only {len(stages)}")
        s_codes, s_labels = factorise(np.asarray(strata) if strata is not None else np.zeros(n, dtype=np.int64))
        units, firsts = _nest(s_codes, [factorise(s)[0] for s in stages])
        f = [np.asarray(x, dtype=float) for x in fpcs]
        if any(len(x) != n for x in f):
            raise DesignError("fpc has a different length from strata")
        every = np.concatenate(f) if f else np.zeros(0)
        counts = bool(np.any(every > 1))
        if counts and np.any(every < 1):
            raise DesignError("fpc must be all population sizes (>= 1) or all sampling fractions (<= 1), as R")
        if np.any(~(every >= 0)) or (counts and np.any(every <= 0)):
            raise DesignError("fpc values must be positive")
        above = s_codes
        n_above = len(s_labels)
        built: list[Stage] = []
        pop1: tuple[float, ...] | None = None
        for j, (unit, first) in enumerate(zip(units, firsts, strict=True)):
            parent = above[first]
            labels = np.asarray(stages[j])[first].tolist()
            n_sub = np.bincount(parent, minlength=n_above).astype(float)
            population: tuple[float, ...] | None = None
            if j < len(f):
                value, bad = _constant_within(f[j], above, n_above)
                if bad is not None:
                    where = f"stratum {s_labels[bad]!r}" if j == 0 else f"unit {built[-1].labels[bad]!r} of stage {j}"
                    raise DesignError(f"the stage-{j + 1} fpc is not constant within {where}")
                with np.errstate(divide="ignore"):
                    pop = value if counts else n_sub / value  # R as.fpc: popsize <- sampsize / fpc
                if np.any(pop < n_sub):
                    raise DesignError(f"the stage-{j + 1} fpc is smaller than the number of sampled units")
                if j == 0:
                    pop1 = tuple(float(x) for x in value)  # as given: Design reads counts or fractions
                else:
                    population = tuple(float(x) for x in pop)
            built.append(Stage(tuple(int(p) for p in parent), tuple(labels), population))
            above, n_above = unit, len(first)
        n_h = np.bincount(np.asarray(built[0].parent, dtype=np.int64), minlength=len(s_labels))
        return cls(tuple(s_labels), tuple(int(x) for x in n_h), pop1, lonely_psu, tuple(built))

    # -- derived quantities -------------------------------------------------------------------------
    @property
    def n_strata(self) -> int:
        return len(self.strata)

    @property
    def n_h(self) -> np.ndarray:
        return np.asarray(self.n_psu, dtype=np.int64)

    @property
    def n_stages(self) -> int:
        return max(1, len(self.stages))

    @property
    def n_units(self) -> int:
        """Number of finest-stage units of a multi-stage design (stage-1 PSUs for a single stage)."""
        return len(self.stages[-1].parent) if self.stages else int(self.n_h.sum())

    @property
    def sampling_fraction(self) -> np.ndarray:
        """``f_h`` per stratum (0 without fpc), as R: ``f = n_h / N_h`` or the given fraction."""
        if self.population_psu is None:
            return np.zeros(self.n_strata)
        pop = np.asarray(self.population_psu, dtype=float)
        if np.all(pop <= 1):
            return pop.copy()
        return self.n_h / pop

    def _popsize(self) -> np.ndarray:
        """R's ``popsize`` per stratum: ``N_h``, or ``n_h / fraction`` for fractions; inf without fpc."""
        if self.population_psu is None:
            return np.full(self.n_strata, np.inf)
        pop = np.asarray(self.population_psu, dtype=float)
        if np.all(pop <= 1):
            with np.errstate(divide="ignore"):
                return self.n_h / pop
        return pop

    def _keep(self) -> np.ndarray:
        """R ``onestrat``'s ``f = (popsize - nPSU) / popsize`` per stratum (1 without fpc)."""
        pop = self._popsize()
        with np.errstate(invalid="ignore"):
            return np.where(np.isinf(pop), 1.0, (pop - self.n_h) / pop)

    def _stage1_fraction(self) -> np.ndarray:
        """R ``multistage``'s ``nPSUs / fpcs`` per stratum: the factor of the later stages' variance."""
        return self.n_h / self._popsize()

    @property
    def certain(self) -> np.ndarray:
        """Certainty strata: the fpc says every PSU was sampled (R ``all(f < 0.0000001)``)."""
        return self._keep() < CERTAINTY_TOLERANCE

    @property
    def df(self) -> int:
        """Full-design degrees of freedom: #PSUs - #strata (R ``degf``, §5.3); stage-1 PSUs if multi-stage."""
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
        """``(1 - f_h) n_h / (n_h - 1)`` per stratum; 0 where ``n_h == 1`` (lonely, handled separately)
        and for certainty strata (R returns zero for them before anything else)."""
        nh = self.n_h.astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (1.0 - self.sampling_fraction) * nh / (nh - 1.0)
        s[self.n_h <= 1] = 0.0
        if self.population_psu is not None:
            s[self.certain] = 0.0
        return s

    def lonely(self) -> np.ndarray:
        """Strata with one PSU that are not certainty strata: the ones ``lonely_psu`` is about."""
        return (self.n_h == 1) & ~self.certain

    @property
    def has_lonely(self) -> bool:
        """Whether any lonely unit exists: a stage-1 stratum, or (multi-stage, with a stage-1 fpc) a unit
        of a later stage, with one sampled unit that is not a certainty one. Only then do the lonely
        rules apply, and so only then does it matter which units an estimate has rows in (``"fail"``
        and ``"average"`` look at them; the variance itself does not change with zero rows)."""
        if np.any(self.lonely()):
            return True
        if self._tree is None or self.population_psu is None:
            return False
        tree = self._tree
        return any(bool(np.any((n == 1) & ~c)) for n, c in zip(tree.n_sub[1:], tree.certain[1:], strict=True))

    def adjust_scale(self) -> np.ndarray:
        """Per stratum, the factor of ``u²`` that ``lonely_psu="adjust"`` adds: ``1 - f_h`` for lonely
        strata (R 4.1.1 ``scale <- f`` with the PSU total uncentred), 0 elsewhere."""
        return np.where(self.lonely(), self._keep(), 0.0) if self.lonely_psu == "adjust" else np.zeros(self.n_strata)

    def tree(self) -> _Tree:
        """The stage arrays of a multi-stage design (:class:`DesignError` for a single-stage one)."""
        if self._tree is None:
            raise DesignError("a single-stage design has no stages")
        return self._tree

    def unit_labels(self) -> list[tuple[Any, ...]]:
        """The PSU label of every finest-stage unit of a multi-stage design: its labels at every stage."""
        tree = self.tree()
        columns = [[self.stages[j].labels[i] for i in tree.up[j].tolist()] for j in range(len(self.stages))]
        return list(zip(*columns, strict=True))

    def _unit_index(self) -> dict[tuple[Any, ...], int]:
        """``(stratum index, label at stage 1, ..., label at stage K)`` -> finest unit, built once."""
        if self._units is None:
            tree = self.tree()
            strata = tree.parent[0][tree.up[0]].tolist()
            index = {(h, *labels): i for i, (h, labels) in enumerate(zip(strata, self.unit_labels(), strict=True))}
            object.__setattr__(self, "_units", index)
        assert self._units is not None
        return self._units

    def unit_codes(self, stratum_codes: np.ndarray, labels: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Finest-stage unit index of every (stratum, PSU label) of a multi-stage design's sums.

        The label is the tuple of the unit's labels at every stage (stage 1 first), as
        :func:`~analytics.estimators.estimate_from_rows` writes them; an unknown unit is a
        :class:`DesignError`, as an unknown stratum is.
        """
        arr = labels if isinstance(labels, np.ndarray) else _object_array(list(labels))
        l_codes, l_uniq = factorise(arr)
        pair_codes, pairs = factorise(np.asarray(stratum_codes, dtype=np.int64) * max(len(l_uniq), 1) + l_codes)
        index = self._unit_index()
        lookup = np.empty(len(pairs), dtype=np.int64)
        for i, pair in enumerate(pairs):
            h, j = divmod(int(pair), max(len(l_uniq), 1))
            label = l_uniq[j]
            if not isinstance(label, tuple) or len(label) != len(self.stages):
                raise DesignError(
                    f"a {len(self.stages)}-stage design needs PSU labels that are tuples of the unit labels "
                    f"at every stage, not {label!r}"
                )
            unit = index.get((h, *label))
            if unit is None:
                raise DesignError(f"PSU {label!r} of stratum {self.strata[h]!r} is not in the design")
            lookup[i] = unit
        return lookup[pair_codes] if len(pair_codes) else pair_codes

    def row_units(
        self, strata: Sequence[Any] | np.ndarray | None, psu: Sequence[Sequence[Any] | np.ndarray]
    ) -> np.ndarray:
        """Finest-stage unit index of every row, from per-row stratum and per-stage unit labels."""
        n = len(psu[0])
        if not self.stages or len(psu) != len(self.stages):
            raise DesignError(f"psu gives {len(psu)} stages but the design has {self.n_stages}")
        s_codes = self.stratum_codes(np.asarray(strata) if strata is not None else np.zeros(n, dtype=np.int64))
        arrays = [np.asarray(p) for p in psu]
        units, firsts = _nest(s_codes, [factorise(a)[0] for a in arrays])
        first = firsts[-1]
        index = self._unit_index()
        lookup = np.empty(len(first), dtype=np.int64)
        for i, row in enumerate(first.tolist()):
            key = (int(s_codes[row]), *(a[row].item() if hasattr(a[row], "item") else a[row] for a in arrays))
            unit = index.get(key)
            if unit is None:
                raise DesignError(f"PSU {key[1:]!r} of stratum {self.strata[key[0]]!r} is not in the design")
            lookup[i] = unit
        return lookup[units[-1]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "strata": [str(s) for s in self.strata],
            "n_psu": list(self.n_psu),
            "population_psu": None if self.population_psu is None else list(self.population_psu),
            "lonely_psu": self.lonely_psu,
            "df": self.df,
            "stages": self.n_stages,
        }


def _lonely_check(design: Design, present: np.ndarray) -> None:
    """Raise for ``lonely_psu='fail'`` if a lonely stratum (not a certainty one) takes part in any estimate."""
    if design.lonely_psu != "fail":
        return
    lonely = design.lonely() & present
    if np.any(lonely):
        bad = design.strata[int(np.flatnonzero(lonely)[0])]
        raise DesignError(
            f"stratum {bad!r} has only one PSU; collapse strata or choose lonely_psu='certainty', 'remove', "
            "'average' or 'adjust'"
        )


def _lonely_unit_error(design: Design, j: int, unit: int) -> DesignError:
    """The error for a stage-(j - 1) unit (0-based j) with one sampled unit at stage j under ``"fail"``."""
    tree = design.tree()
    path = []
    node = unit
    for stage in range(j - 1, -1, -1):
        path.append(design.stages[stage].labels[node])
        node = int(tree.parent[stage][node])
    label = tuple(reversed(path)) if len(path) > 1 else path[0]
    return DesignError(
        f"PSU {label!r} of stratum {design.strata[node]!r} has only one sampled unit at stage {j + 1}; "
        "choose lonely_psu='certainty', 'remove', 'average' or 'adjust'"
    )


def _add_up(
    n_estimates: int, est: np.ndarray, unit: np.ndarray, u: np.ndarray, n_units: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Totals per (estimate, unit) present: estimate, unit and total of each."""
    key = est * n_units + unit
    if n_estimates * n_units <= DENSE_KEYS:
        size = n_estimates * n_units
        present = np.flatnonzero(np.bincount(key, minlength=size))
        total = np.bincount(key, weights=u, minlength=size)[present]
        return present // n_units, present % n_units, total
    uniq, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse.reshape(-1), weights=u, minlength=len(uniq))
    return uniq // n_units, uniq % n_units, total


def _sum_columns(dense: np.ndarray, col: np.ndarray, n_cols: int) -> np.ndarray:
    """Add up the columns of ``dense`` that share a code ``col`` (codes ``0 .. n_cols - 1``)."""
    out = np.zeros((n_cols, dense.shape[0]))
    np.add.at(out, col, dense.T)
    return out.T


def _stratified_variance(
    d: Design, n_estimates: int, est: np.ndarray, stratum: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Stage-1 variance of every estimate from one row per (estimate, PSU) (R ``onestage``, §5.1)."""
    H = d.n_strata
    size = n_estimates * H
    key = est * H + stratum
    m = np.bincount(key, minlength=size).astype(float)
    sum_u = np.bincount(key, weights=u, minlength=size)
    nh = np.tile(d.n_h.astype(float), n_estimates)
    present = m > 0
    _lonely_check(d, np.asarray(present.reshape(n_estimates, H).any(axis=0)))
    if np.any(m > nh):
        bad = d.strata[int(np.flatnonzero(m > nh)[0] % H)]
        raise DesignError(f"stratum {bad!r} has more PSUs in the sums than declared in the design")
    ubar = sum_u / nh
    dev = u - ubar[key]
    ss = np.bincount(key, weights=dev * dev, minlength=size) + (nh - m) * ubar * ubar
    vh = (ss * np.tile(d.scale(), n_estimates)).reshape(n_estimates, H)
    if d.lonely_psu == "adjust":
        # lonely strata: the single PSU total about zero, times 1 - f (R 4.1.1 onestrat)
        vh = vh + (sum_u * sum_u * np.tile(d.adjust_scale(), n_estimates)).reshape(n_estimates, H)
    v = vh.sum(axis=1)
    if d.lonely_psu == "average":
        pres = present.reshape(n_estimates, H)
        n_str = pres.sum(axis=1)
        n_ok = (pres & ~d.lonely()[None, :]).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(n_ok > 0, v * n_str / n_ok, np.where(n_str > 0, np.nan, 0.0))
    return v


def _stratified_covariance(d: Design, dense: np.ndarray, strat: np.ndarray) -> np.ndarray:
    """Stage-1 covariance of ``dense`` (estimates × PSUs of the union, PSU ``c`` in stratum ``strat[c]``)."""
    k = dense.shape[0]
    _lonely_check(d, np.bincount(strat, minlength=d.n_strata) > 0)
    scale = d.scale()
    lonely = d.lonely()
    adjust = d.adjust_scale()
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
            if not lonely[h]:
                n_ok += 1  # a certainty stratum: zero variance, but not lonely
            elif d.lonely_psu == "adjust":
                total = dense[:, cols].sum(axis=1)
                cov += adjust[h] * np.outer(total, total)
            continue
        n_ok += 1
        block = dense[:, cols]
        ubar = block.sum(axis=1) / nh
        dev = block - ubar[:, None]
        cov += scale[h] * (dev @ dev.T + (nh - mh) * np.outer(ubar, ubar))
    if d.lonely_psu == "average" and n_str:
        cov = cov * n_str / n_ok if n_ok else np.full((k, k), np.nan)
    return cov


def _substage_variance(d: Design, n_estimates: int, est: np.ndarray, unit: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The later stages' term of every estimate (R ``multistage``'s ``v.sub``), from finest-unit rows."""
    tree = d.tree()
    v = np.zeros(n_estimates)
    for j in range(1, len(d.stages)):
        n_j = len(tree.parent[j])
        n_above = len(tree.parent[j - 1])
        e, y, s = _add_up(n_estimates, est, tree.up[j][unit], u, n_j)
        uk, inverse = np.unique(e * n_above + tree.parent[j][y], return_inverse=True)
        inverse = inverse.reshape(-1)
        groups = len(uk)
        p = uk % n_above
        m = np.bincount(inverse, minlength=groups).astype(float)
        total = np.bincount(inverse, weights=s, minlength=groups)
        n = tree.n_sub[j][p]
        ubar = total / n
        dev = s - ubar[inverse]
        ss = np.bincount(inverse, weights=dev * dev, minlength=groups) + (n - m) * ubar * ubar
        keep = tree.keep[j][p]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(n > 1, keep * n / (n - 1.0), 0.0)
        part = ss * scale
        lonely = (n == 1) & ~tree.certain[j][p]
        if np.any(lonely):
            if d.lonely_psu == "fail":
                raise _lonely_unit_error(d, j, int(p[np.flatnonzero(lonely)[0]]))
            if d.lonely_psu == "adjust":
                part = np.where(lonely, keep * total * total, part)
            elif d.lonely_psu == "average":
                part = np.where(lonely, np.nan, part)  # R: the one stratum there is has no variance: 0 * 1/0
        part = np.where(tree.certain[j][p], 0.0, part)
        v += np.bincount(uk // n_above, weights=part * tree.cum[j - 1][p], minlength=n_estimates)
    return v


def _substage_covariance(d: Design, dense: np.ndarray, present: np.ndarray, units: np.ndarray) -> np.ndarray:
    """The later stages' term of the covariance of ``dense`` (estimates × finest units ``units``)."""
    tree = d.tree()
    k = dense.shape[0]
    cov = np.zeros((k, k))
    for j in range(1, len(d.stages)):
        y_ids, y_col = np.unique(tree.up[j][units], return_inverse=True)
        y_col = y_col.reshape(-1)
        block = _sum_columns(dense, y_col, len(y_ids))
        p_ids, p_col = np.unique(tree.parent[j][y_ids], return_inverse=True)
        p_col = p_col.reshape(-1)
        total = _sum_columns(block, p_col, len(p_ids))
        m = np.bincount(p_col, minlength=len(p_ids)).astype(float)
        n = tree.n_sub[j][p_ids]
        keep = tree.keep[j][p_ids]
        certain = tree.certain[j][p_ids]
        weight = tree.cum[j - 1][p_ids]
        ubar = total / n
        dev = block - ubar[:, p_col]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where((n > 1) & ~certain, keep * n / (n - 1.0), 0.0) * weight
        part = (dev * scale[p_col]) @ dev.T + (ubar * (scale * (n - m))) @ ubar.T
        lonely = (n == 1) & ~certain
        if np.any(lonely):
            if d.lonely_psu == "fail":
                raise _lonely_unit_error(d, j, int(p_ids[np.flatnonzero(lonely)[0]]))
            if d.lonely_psu == "adjust":
                t = total[:, lonely]
                part = part + (t * (keep * weight)[lonely]) @ t.T
            elif d.lonely_psu == "average":
                # NaN for the estimates with rows in a lonely unit's PSU, as their variance() is
                hits = _sum_columns(present.astype(float), p_col[y_col], len(p_ids))
                hit = np.asarray((hits[:, lonely] > 0).any(axis=1))
                part = np.where(hit[:, None] | hit[None, :], np.nan, part)
        cov += part
    return cov


@dataclass(frozen=True, eq=False)
class Influence:
    """Sparse linearised unit totals ``u_hj`` for a batch of estimates (§5.1-§5.2).

    Row ``r`` says: estimate ``est[r]`` has total ``u[r]`` in PSU ``psu[r]`` of stratum ``stratum[r]``.
    PSUs absent for an estimate are implicit zeros. ``psu`` ids are global (unique across strata) and
    each (est, psu) pair occurs at most once (use :meth:`build`, which adds up duplicates). For a
    multi-stage design ``psu`` is the design's finest-stage unit index (:meth:`Design.unit_codes`) and
    ``stratum`` its stage-1 stratum, so linear combinations (:meth:`combine`) keep every stage.
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

    def _units(self) -> np.ndarray:
        """The finest-unit ids of a multi-stage influence, checked against the design."""
        psu = np.asarray(self.psu, dtype=np.int64)
        if len(psu) and (psu.min() < 0 or psu.max() >= self.design.n_units):
            raise DesignError("a multi-stage influence needs the design's unit indices as PSU ids")
        return psu

    def variance(self) -> np.ndarray:
        """Linearised variance of every estimate, vectorised (R ``multistage``/``onestage``/``onestrat``)."""
        d = self.design
        if not d.stages:
            return _stratified_variance(d, self.n_estimates, self.est, self.stratum, self.u)
        tree = d.tree()
        unit = self._units()
        e, psu1, total = _add_up(self.n_estimates, self.est, tree.up[0][unit], self.u, len(tree.parent[0]))
        v = _stratified_variance(d, self.n_estimates, e, tree.parent[0][psu1], total)
        if d.population_psu is not None:  # without a stage-1 fpc R ignores the later stages
            v = v + _substage_variance(d, self.n_estimates, self.est, unit, self.u)
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
        d = self.design
        psu_ids, col = np.unique(self.psu[sel], return_inverse=True)
        col = col.reshape(-1)
        dense = np.zeros((k, len(psu_ids)))
        np.add.at(dense, (pos[self.est[sel]], col), self.u[sel])
        if not d.stages:
            strat = np.zeros(len(psu_ids), dtype=np.int64)
            strat[col] = self.stratum[sel]
            return _stratified_covariance(d, dense, strat)
        tree = d.tree()
        units = psu_ids  # finest-stage units of the union
        if units[0] < 0 or units[-1] >= d.n_units:
            raise DesignError("a multi-stage influence needs the design's unit indices as PSU ids")
        p1_ids, p1_col = np.unique(tree.up[0][units], return_inverse=True)
        dense1 = _sum_columns(dense, p1_col.reshape(-1), len(p1_ids))
        cov = _stratified_covariance(d, dense1, tree.parent[0][p1_ids])
        if d.population_psu is not None:
            present = np.zeros((k, len(psu_ids)), dtype=bool)
            present[pos[self.est[sel]], col] = True
            cov = cov + _substage_covariance(d, dense, present, units)
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
