"""Sums tables of the counter-day design from PSU-level roll-ups (STATISTICS.md §4, §13).

The default design for counter QR data: agencies are strata and counter-days (one counter on one
local day) are PSUs, with replacement, lonely PSUs as certainty units. The app rolls its tallies up in
SQL to one row per (agency, counter-day, item) and reads the valid respondents per (agency,
counter-day, weighting cell); :func:`counter_day_sums` turns those arrays into the
:class:`~analytics.sums.ItemSums`, :class:`~analytics.sums.RespondentSums` and
:class:`~analytics.design.Design` that :func:`~analytics.estimators.estimate_from_sums` takes.

A PSU is coded as one integer, ``counter × DAY_SPAN + day`` (day = days since 1970-01-01), so SQL can
compute it and every column stays numeric.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .design import Design
from .sums import ItemSums, RespondentSums

#: PSU code = counter × DAY_SPAN + days since 1970-01-01 (room for < 274 years of days).
DAY_SPAN = 100_000

#: The columns of the PSU × item roll-up :func:`counter_day_sums` reads (``item`` holds item ids).
PSU_ITEM_COLUMNS = ("stratum", "psu", "item", "n", "swd", "sws", "swdy", "swdyy", "swwd")


def psu_codes(counter: np.ndarray, day: np.ndarray) -> np.ndarray:
    """PSU code of each counter-day: ``counter × DAY_SPAN + day`` (``day`` in days since 1970-01-01)."""
    return np.asarray(counter).astype(np.int64) * DAY_SPAN + np.asarray(day).astype(np.int64)


def psu_days(codes: np.ndarray) -> np.ndarray:
    """The day (days since 1970-01-01) of each PSU code."""
    return np.asarray(codes).astype(np.int64) % DAY_SPAN


def row_weights(factors: Mapping[Any, float], cells: Iterable[Hashable], n_rows: int) -> np.ndarray:
    """Each row's weight, the factor of its weighting cell; 1 for every row without factors (unweighted)."""
    if not factors:
        return np.ones(n_rows)
    return np.array([factors[cell] for cell in cells])


@dataclass(frozen=True, eq=False)
class ResponseCells:
    """Valid respondents per stratum × counter-day × weighting cell, with the cell's weight."""

    stratum: np.ndarray
    counter: np.ndarray
    #: Days since 1970-01-01.
    day: np.ndarray
    n: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True, eq=False)
class CounterDaySums:
    """What :func:`~analytics.estimators.estimate_from_sums` needs, and what the report says of it."""

    design: Design
    items: ItemSums
    respondents: RespondentSums
    #: PSUs of the full sample (over all strata).
    n_psus: int
    #: Item labels with at least one valid answer, in the order of the labels given.
    answered: tuple[str, ...]


def counter_day_sums(
    cells: ResponseCells,
    psu_items: Mapping[str, np.ndarray],
    item_ids: Sequence[int],
    item_labels: Sequence[str],
    *,
    total: Hashable | None = None,
    lonely_psu: str = "certainty",
) -> CounterDaySums:
    """Item and respondent sums, each stratum its own domain, plus ``total`` (all strata) unless None.

    ``psu_items`` holds the columns :data:`PSU_ITEM_COLUMNS` of the weighted PSU × item roll-up, with
    ``psu`` as :func:`psu_codes` and ``item`` an id from ``item_ids`` (labelled by ``item_labels``). The
    design's PSUs are the counter-days with respondents; PSU codes are compacted to counter × days of
    the period so the estimator can number them without sorting.
    """
    strata_r = cells.stratum.astype(np.int64)
    psu_r = psu_codes(cells.counter, cells.day)
    compact = _compact_codes(cells.day)
    design = _design(strata_r, psu_r, lonely_psu)
    # Items as integer codes into the item labels (no per-row strings to build or sort).
    position = np.zeros(max(item_ids) + 1, dtype=np.int64)
    position[list(item_ids)] = np.arange(len(item_ids))
    codes = position[psu_items["item"].astype(np.int64)]
    item_cols = {
        "stratum": psu_items["stratum"].astype(np.int64),
        "psu": compact(psu_items["psu"].astype(np.int64)),
        "item": codes,
        **{name: psu_items[name] for name in ("n", "swd", "sws", "swdy", "swdyy", "swwd")},
        "domain": psu_items["stratum"].astype(np.int64),
    }
    w = cells.weight
    resp_cols = {
        "stratum": strata_r,
        "psu": compact(psu_r),
        "n": cells.n,
        "sw": w * cells.n,
        "sww": w * w * cells.n,
        "domain": strata_r,
    }
    if total is not None:
        # Each respondent also belongs to the whole-scope domain: repeat its cells with that label.
        item_cols, resp_cols = _with_domain(item_cols, total), _with_domain(resp_cols, total)
    return CounterDaySums(
        design=design,
        items=ItemSums(**item_cols, item_labels=list(item_labels)),
        respondents=RespondentSums(**resp_cols),
        n_psus=int(sum(design.n_psu)),
        answered=tuple(item_labels[k] for k in np.unique(codes).tolist()),
    )


def _compact_codes(day: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Map PSU codes to counter × (days of the period) + day offset: dense, and in the same order."""
    first_day = int(day.min())
    span = int(day.max()) - first_day + 1

    def compact(code: np.ndarray) -> np.ndarray:
        return (code // DAY_SPAN) * span + (code % DAY_SPAN - first_day)

    return compact


def _design(strata: np.ndarray, psu: np.ndarray, lonely_psu: str) -> Design:
    """Strata in ascending order, each with its number of distinct PSUs, with replacement (no fpc)."""
    n_psu = {int(s): len(np.unique(psu[strata == s])) for s in np.unique(strata)}
    return Design(strata=tuple(n_psu), n_psu=tuple(n_psu.values()), lonely_psu=lonely_psu)


def _with_domain(columns: dict[str, np.ndarray], label: Hashable) -> dict[str, np.ndarray]:
    """The rows twice: once with their own domain, once with ``label``."""
    doubled = {name: np.concatenate([values, values]) for name, values in columns.items()}
    doubled["domain"][len(columns["domain"]) :] = label
    return doubled
