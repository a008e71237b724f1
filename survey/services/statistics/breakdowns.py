"""Breakdowns of one agency's figures: per counter and per field, answer distributions, response rates.

Everything reads the sufficient-statistics tallies (never raw answers). The counter and field
breakdowns use the indices' design and weights (agencies as strata, counter-days as PSUs, cell weights
from :func:`survey.services.statistics.indices.cell_weights`) with each counter and each field as a domain of the
same estimation, so a counter's difference from its agency carries their covariance and the agency row
equals the overview's figure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cachetools import TTLCache
from flask import current_app
from sqlalchemy import ColumnElement, FromClause, Select, bindparam, func, select
from sqlalchemy.orm import Session

from analytics import (
    DAY_SPAN,
    AnalyticsError,
    Design,
    Estimate,
    EstimateSet,
    EstimationError,
    ItemSums,
    RespondentSums,
    composite_specs,
    difference,
    estimate_from_sums,
)
from survey.models import AnswerTally, Counter, Instrument, ProcedureField, ResponseTally, TransactionVolume
from survey.services.statistics import index_cache
from survey.services.statistics.dashboard import Comparison, Period, compared, with_bonferroni
from survey.services.statistics.indices import UNWEIGHTED, WEIGHTED, IndexQuery, cell_weights, composite_groups
from survey.services.statistics.tally_sql import EpochDays, id_list

#: Domain labels: the whole scope, then counters and fields offset so the three never collide.
ALL = 0
COUNTER_BASE = 1_000_000
FIELD_BASE = 2_000_000


@dataclass(frozen=True)
class BreakdownRow:
    key: int  # counter or field key (0: none given)
    label: str
    share: Estimate | None
    responses: int
    vs_all: Comparison


@dataclass
class Breakdown:
    weighting: str = UNWEIGHTED
    total: Estimate | None = None
    counters: list[BreakdownRow] = field(default_factory=list)
    fields: list[BreakdownRow] = field(default_factory=list)
    problem: str | None = None


def _estimate(es: EstimateSet, domain: int, target: str = "overall") -> Estimate | None:
    try:
        return es.get(domain, target, "share")
    except EstimationError:
        return None


def _vs(es: EstimateSet, domain: int, own: Estimate | None, total: Estimate | None) -> Comparison:
    if own is None or total is None:
        return Comparison(unavailable="no_data")
    if own.suppressed or total.suppressed:
        return Comparison(unavailable="suppressed")
    try:
        d = difference(es, (domain, "overall", "share"), (ALL, "overall", "share"))
    except (EstimationError, AnalyticsError):
        return Comparison(unavailable="suppressed")
    if not np.isfinite(d.p_value):
        return Comparison(unavailable="suppressed")
    return compared(d, own, total)


def _full_grain(table: FromClause, *values: ColumnElement[Any]) -> Select[Any]:
    """Agency, day number, counter, field, month day number, then ``values``, of the rows in the period."""
    return select(
        table.c.agency_id,
        EpochDays(table.c.day),
        table.c.counter_key,
        table.c.field_key,
        EpochDays(table.c.month),
        *values,
    ).where(table.c.day >= bindparam("start"), table.c.day <= bindparam("end"))


# Built once; SQLAlchemy's compiled cache compiles each once per dialect (the id lists are filled in after it).
_ANSWER = AnswerTally.__table__
_RESPONSE = ResponseTally.__table__
#: The answer tallies (… item, n, s, y, yy) of some items and agencies, at full grain.
_ANSWER_ROWS = _full_grain(
    _ANSWER, _ANSWER.c.item_id, _ANSWER.c.n_valid, _ANSWER.c.n_satisfied, _ANSWER.c.sum_score, _ANSWER.c.sum_score_sq
).where(
    _ANSWER.c.n_valid > 0, _ANSWER.c.item_id.in_(id_list("item_ids")), _ANSWER.c.agency_id.in_(id_list("agency_ids"))
)
#: The response tallies (… n) of one instrument and some agencies, at full grain.
_RESPONSE_ROWS = _full_grain(_RESPONSE, _RESPONSE.c.n).where(
    _RESPONSE.c.n > 0,
    _RESPONSE.c.instrument_id == bindparam("instrument_id"),
    _RESPONSE.c.agency_id.in_(id_list("agency_ids")),
)


def _fetch(session: Session, statement: Select[Any], params: dict[str, Any], width: int) -> np.ndarray:
    """Rows of a numeric query as a float array, read value by value into numpy (no tuple per row)."""
    result = session.connection().execute(statement, params)
    return np.fromiter(itertools.chain.from_iterable(result), dtype=np.float64).reshape(-1, width)


def _tallies(
    session: Session, ids: list[int], instrument_id: int, item_ids: list[int], period: Period
) -> tuple[np.ndarray, np.ndarray]:
    """Answer tallies (agency, day, counter, field, month, item, n, s, y, yy) and response tallies
    (agency, day, counter, field, month, n) of the period at full grain, as float arrays."""
    dates = {"start": period.start, "end": period.end}
    agencies = [int(a) for a in ids]
    answers = _fetch(
        session, _ANSWER_ROWS, {**dates, "item_ids": [int(i) for i in item_ids], "agency_ids": agencies}, 10
    )
    responses = _fetch(
        session, _RESPONSE_ROWS, {**dates, "instrument_id": int(instrument_id), "agency_ids": agencies}, 6
    )
    return answers, responses


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique values and each row's index into them (1-D, so numpy sorts plain integers)."""
    unique, inverse = np.unique(values, return_inverse=True)
    return unique, inverse.reshape(-1)


def _combined(columns: list[np.ndarray]) -> np.ndarray:
    """One int64 key per row for several small-integer columns (mixed radix over each column's codes)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        unique, inverse = _codes(column)
        key = key * len(unique) + inverse
    return key


def _weights(rows: np.ndarray, factors: dict) -> np.ndarray:  # type: ignore[type-arg]  # cell weights keyed by (agency, field, month) as indices.Factors
    """Cell weight of each row (columns agency, _, _, field, month-day-number); 1 when unweighted."""
    if not factors or len(rows) == 0:
        return np.ones(len(rows))
    cells = rows[:, [0, 3, 4]].astype(np.int64)
    _unique, inverse = _codes(_combined([cells[:, 0], cells[:, 1], cells[:, 2]]))
    first = np.zeros(len(_unique), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]  # a row of each cell
    epoch = dt.date(1970, 1, 1)
    per_cell = np.array(
        [float(factors[(int(a), int(f), epoch + dt.timedelta(days=int(m)))]) for a, f, m in cells[first].tolist()]
    )
    return per_cell[inverse]


def _sum_by(keys: list[np.ndarray], columns: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rows summed over identical keys: (one row of key values per group, summed columns)."""
    _unique, inverse = _codes(_combined(keys))
    first = np.zeros(len(_unique), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    return np.column_stack([k[first] for k in keys]), [
        np.bincount(inverse, weights=c, minlength=len(_unique)) for c in columns
    ]


def breakdown(
    session: Session,
    agency_ids: Sequence[int],
    instrument_id: int,
    period: Period,
    locale: str,
    by_counter: bool = True,
    weight_ids: Sequence[int] | None = None,
) -> Breakdown:
    """Overall index per counter and per field of these agencies (one estimation, three kinds of domain).

    The whole and the counters need only per-PSU sums (a counter is part of its PSU); the fields need
    per-PSU × field sums, so those rows stay at the tallies' grain. Results are kept for
    ``INDEX_CACHE_SECONDS`` like index reports, and cleared with them by an exclusion.

    ``weight_ids``: the agencies the cell weights are computed over (default: ``agency_ids``). The
    dashboard passes the whole province, as the overview's report does, so an imputed weight (the
    province's typical weight per response for an agency without volumes) is the same on both pages and
    the agency's total here equals its overview figure.
    """
    weights = tuple(sorted(int(a) for a in (weight_ids if weight_ids is not None else agency_ids)))
    key = (
        tuple(sorted(int(a) for a in agency_ids)),
        instrument_id,
        period.start,
        period.end,
        locale,
        by_counter,
        weights,
    )
    ttl = int(current_app.config.get("INDEX_CACHE_SECONDS", 0))
    if ttl > 0:
        with _lock:
            cached = _cache.setdefault(ttl, TTLCache(maxsize=64, ttl=ttl)).get(key)
        if cached is not None:
            return cached
    result = _breakdown(session, list(key[0]), instrument_id, period, locale, by_counter, list(weights))
    if ttl > 0:
        with _lock:
            _cache[ttl][key] = result
    return result


_lock = threading.Lock()
_cache: dict[int, TTLCache] = {}  # type: ignore[type-arg]  # cachetools ships no type information


def _forget() -> None:
    with _lock:
        for cache in _cache.values():
            cache.clear()


index_cache.clear_with_reports(_forget)  # an exclusion clears breakdowns as it clears index reports


def _breakdown(
    session: Session,
    ids: list[int],
    instrument_id: int,
    period: Period,
    locale: str,
    by_counter: bool,
    weight_ids: list[int],
) -> Breakdown:
    instrument = session.get(Instrument, instrument_id)
    assert instrument is not None
    out = Breakdown()
    factors, _notes = cell_weights(session, IndexQuery(instrument_id, period.start, period.end, agency_ids=weight_ids))
    own = set(ids)
    factors = {cell: w for cell, w in factors.items() if cell[0] in own}
    out.weighting = WEIGHTED if factors else UNWEIGHTED
    item_ids = [item.id for item in instrument.items]
    codes = np.array([item.code for item in instrument.items])
    position = {item_id: i for i, item_id in enumerate(item_ids)}
    answers, responses = _tallies(session, ids, instrument_id, item_ids, period)
    if len(answers) == 0 or len(responses) == 0:
        out.problem = "no_data"
        return out

    # Answers: weighted sums, PSU = counter * span + day number; item as its position in the instrument.
    w = _weights(answers, factors)
    psu = answers[:, 2].astype(np.int64) * DAY_SPAN + answers[:, 1].astype(np.int64)
    item = np.array([position[int(i)] for i in np.unique(answers[:, 5])])[
        np.searchsorted(np.unique(answers[:, 5]), answers[:, 5])
    ]
    n, s, y, yy = answers[:, 6], answers[:, 7], answers[:, 8], answers[:, 9]
    sums = [n, w * n, w * s, w * y, w * yy, w * w * n]
    stratum = answers[:, 0].astype(np.int64)
    # Whole and counters: summed over fields to one row per (stratum, PSU, item).
    psu_keys, psu_sums = _sum_by([stratum, psu, item], sums)
    field_keys, field_sums = _sum_by([stratum, psu, item, answers[:, 3].astype(np.int64)], sums)

    def item_part(keys: np.ndarray, columns: list[np.ndarray], domain: np.ndarray) -> ItemSums:
        return ItemSums(
            stratum=keys[:, 0],
            psu=keys[:, 1],
            item=codes[keys[:, 2]],
            n=columns[0],
            swd=columns[1],
            sws=columns[2],
            swdy=columns[3],
            swdyy=columns[4],
            swwd=columns[5],
            domain=domain,
        )

    parts = [
        item_part(psu_keys, psu_sums, np.full(len(psu_keys), ALL, dtype=np.int64)),
        item_part(field_keys, field_sums, FIELD_BASE + field_keys[:, 3]),
    ]
    if by_counter:
        parts.append(item_part(psu_keys, psu_sums, COUNTER_BASE + psu_keys[:, 1] // DAY_SPAN))
    items = ItemSums.concat(parts)

    rw = _weights(responses, factors)
    r_stratum = responses[:, 0].astype(np.int64)
    r_psu = responses[:, 2].astype(np.int64) * DAY_SPAN + responses[:, 1].astype(np.int64)
    r_field = responses[:, 3].astype(np.int64)
    r_n = responses[:, 5]
    r_sums = [r_n, rw * r_n, rw * rw * r_n]
    rp_keys, rp_sums = _sum_by([r_stratum, r_psu], r_sums)
    rf_keys, rf_sums = _sum_by([r_stratum, r_psu, r_field], r_sums)

    def resp_part(keys: np.ndarray, columns: list[np.ndarray], domain: np.ndarray) -> RespondentSums:
        return RespondentSums(
            stratum=keys[:, 0], psu=keys[:, 1], n=columns[0], sw=columns[1], sww=columns[2], domain=domain
        )

    r_parts = [
        resp_part(rp_keys, rp_sums, np.full(len(rp_keys), ALL, dtype=np.int64)),
        resp_part(rf_keys, rf_sums, FIELD_BASE + rf_keys[:, 2]),
    ]
    if by_counter:
        r_parts.append(resp_part(rp_keys, rp_sums, COUNTER_BASE + rp_keys[:, 1] // DAY_SPAN))
    # Built directly rather than with RespondentSums.concat, which turns the domain labels into Python objects.
    respondent_columns: dict[str, Any] = {
        name: np.concatenate([getattr(part, name) for part in r_parts])
        for name in ("stratum", "psu", "n", "sw", "sww", "domain")
    }
    respondents = RespondentSums(**respondent_columns)

    strata = np.unique(rp_keys[:, 0])
    design = Design(
        strata=tuple(int(x) for x in strata),
        n_psu=tuple(int(np.count_nonzero(rp_keys[:, 0] == x)) for x in strata),
        lonely_psu="certainty",
    )
    groups, coefficients = composite_groups(instrument, {str(codes[i]) for i in np.unique(psu_keys[:, 2])})
    specs = composite_specs(
        groups, definition=instrument.aggregation.get("definition", "A"), group_coefficients=coefficients
    )
    try:
        es = estimate_from_sums(
            design, items, respondents, composites=specs, kinds=("share",), ci="beta", composite_ci="xlogit"
        )
    except AnalyticsError:
        out.problem = "not_estimable"
        return out
    out.total = _estimate(es, ALL)

    def rows(base: int, keys: np.ndarray, counts: np.ndarray, names: dict[int, str]) -> list[BreakdownRow]:
        n_by_key: dict[int, int] = {}
        for k, count in zip(keys.tolist(), counts.tolist(), strict=True):
            n_by_key[k] = n_by_key.get(k, 0) + int(count)
        made = []
        for k in sorted(n_by_key, key=lambda k: (k == 0, names.get(k, "").casefold())):
            own = _estimate(es, base + k)
            made.append(BreakdownRow(k, names.get(k, ""), own, n_by_key[k], _vs(es, base + k, own, out.total)))
        adjusted = with_bonferroni([row.vs_all for row in made])
        return [
            BreakdownRow(row.key, row.label, row.share, row.responses, c) for row, c in zip(made, adjusted, strict=True)
        ]

    field_ids = sorted({int(f) for f in np.unique(r_field)})
    field_names = {
        f.id: f.name(locale) for f in session.scalars(select(ProcedureField).where(ProcedureField.id.in_(field_ids)))
    }
    out.fields = rows(FIELD_BASE, r_field, r_n, field_names)
    if by_counter:
        r_counter = responses[:, 2].astype(np.int64)
        counter_ids = sorted({int(c) for c in np.unique(r_counter)})
        counter_names = {
            c.id: c.name(locale) for c in session.scalars(select(Counter).where(Counter.id.in_(counter_ids)))
        }
        out.counters = rows(COUNTER_BASE, r_counter, r_n, counter_names)
        # Open counters without a single response in the period: worth knowing (is the poster up?).
        silent = session.scalars(
            select(Counter)
            .where(Counter.agency_id.in_(ids), Counter.active.is_(True), Counter.id.not_in(counter_ids))
            .order_by(Counter.code)
        )
        out.counters += [BreakdownRow(c.id, c.name(locale), None, 0, Comparison(unavailable="no_data")) for c in silent]
    return out


# -- answer distributions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    item_code: str
    label: str
    element: str
    #: Answers at scale points 1 … 5, then "not applicable".
    counts: tuple[int, int, int, int, int, int]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def shares(self) -> tuple[float, ...]:
        total = self.total
        return tuple(c / total if total else 0.0 for c in self.counts)


def distributions(
    session: Session, agency_ids: Sequence[int], instrument: Instrument, period: Period, locale: str
) -> list[Distribution]:
    """Unweighted answer counts per criterion (1 … 5 and "not applicable") from the answer tallies."""
    rows = session.execute(
        select(
            AnswerTally.item_id,
            func.sum(AnswerTally.n_score_1),
            func.sum(AnswerTally.n_score_2),
            func.sum(AnswerTally.n_score_3),
            func.sum(AnswerTally.n_score_4),
            func.sum(AnswerTally.n_score_5),
            func.sum(AnswerTally.n_not_applicable),
        )
        .where(
            AnswerTally.agency_id.in_(list(agency_ids)),
            AnswerTally.day >= period.start,
            AnswerTally.day <= period.end,
            AnswerTally.item_id.in_([item.id for item in instrument.items]),
        )
        .group_by(AnswerTally.item_id)
    ).all()
    counts = {r[0]: tuple(int(v or 0) for v in r[1:]) for r in rows}
    out = []
    for element in instrument.elements:
        for item in element.items:
            out.append(
                Distribution(
                    item.code,
                    item.text(locale),
                    element.name(locale),
                    counts.get(item.id, (0, 0, 0, 0, 0, 0)),  # type: ignore[arg-type]  # a six-count default of the same shape as the tallies' rows
                )
            )
    return out


# -- response rates ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    label: str
    responses: int
    transactions: int | None

    @property
    def rate(self) -> float | None:
        return self.responses / self.transactions if self.transactions else None


@dataclass
class ResponseRates:
    months: list[tuple[dt.date, RateRow]] = field(default_factory=list)
    fields: list[RateRow] = field(default_factory=list)
    total: RateRow | None = None
    has_volumes: bool = False
    #: Months of the period with responses but without any imported volume.
    months_missing: list[dt.date] = field(default_factory=list)


def response_rates(session: Session, agency_ids: Sequence[int], period: Period, locale: str) -> ResponseRates:
    """Valid responses ÷ completed transactions per month and per field, over whole months of the period.

    Volumes are monthly, so the period is widened to whole months (the page says so); responses to every
    questionnaire count.
    """
    ids = list(agency_ids)
    first, last = period.start.replace(day=1), period.months()[-1]
    month_end = (last + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    responses = session.execute(
        select(ResponseTally.month, ResponseTally.field_key, func.sum(ResponseTally.n))
        .where(ResponseTally.agency_id.in_(ids), ResponseTally.day >= first, ResponseTally.day <= month_end)
        .group_by(ResponseTally.month, ResponseTally.field_key)
    ).all()
    volumes = session.execute(
        select(TransactionVolume.month, TransactionVolume.field_id, func.sum(TransactionVolume.transactions))
        .where(TransactionVolume.agency_id.in_(ids), TransactionVolume.month >= first, TransactionVolume.month <= last)
        .group_by(TransactionVolume.month, TransactionVolume.field_id)
    ).all()
    out = ResponseRates(has_volumes=bool(volumes))
    resp_month: dict[dt.date, int] = {}
    resp_field: dict[int, int] = {}
    for month, field_key, n in responses:
        resp_month[month] = resp_month.get(month, 0) + int(n or 0)
        resp_field[field_key] = resp_field.get(field_key, 0) + int(n or 0)
    vol_month: dict[dt.date, int] = {}
    vol_field: dict[int, int] = {}
    for month, field_id, n in volumes:
        vol_month[month] = vol_month.get(month, 0) + int(n or 0)
        vol_field[field_id] = vol_field.get(field_id, 0) + int(n or 0)
    for month in period.months():
        out.months.append((month, RateRow("", resp_month.get(month, 0), vol_month.get(month))))
        if month not in vol_month and resp_month.get(month):
            # Responses without a denominator (months with neither, e.g. still to come, need no warning).
            out.months_missing.append(month)
    names = {
        f.id: f.name(locale)
        for f in session.scalars(select(ProcedureField).where(ProcedureField.id.in_(set(resp_field) | set(vol_field))))
    }
    for key in sorted(set(resp_field) | set(vol_field), key=lambda k: (k == 0, names.get(k, "").casefold())):
        out.fields.append(RateRow(names.get(key, ""), resp_field.get(key, 0), vol_field.get(key)))
    # The overall rate only over months with volumes, so missing imports do not inflate it.
    covered = [m for m in period.months() if m in vol_month]
    out.total = RateRow(
        "",
        sum(resp_month.get(m, 0) for m in covered) if covered else sum(resp_month.values()),
        sum(vol_month[m] for m in covered) if covered else None,
    )
    return out
