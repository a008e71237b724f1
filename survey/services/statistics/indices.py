"""SIPAS indices with confidence intervals, from the sufficient-statistics tallies.

The default design for counter QR data (see the methodology page): agencies are strata, counter-days
are PSUs, and each response carries its cell weight, transactions ÷ valid responses per agency ×
field × month (``analytics.collapsed_cell_factors``). SQL only sums and filters; the small math is
the pure ``analytics`` package. Every result states its instrument, period, weighting, design,
composite definition and interval methods.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from analytics import (
    Design,
    EstimateSet,
    ItemSums,
    RespondentSums,
    collapsed_cell_factors,
    composite_specs,
    estimate_from_sums,
)
from survey.db import upsert_insert, utcnow
from survey.models import Instrument, PsuMonthSums, TransactionVolume

logger = logging.getLogger(__name__)

WEIGHTED = "cell weights: transactions ÷ valid responses per agency × field × month"
UNWEIGHTED = "unweighted"
DESIGN = "agencies as strata, counter-days as PSUs, with replacement (no fpc); lonely PSUs as certainty units"
#: Domain label of the whole scope (e.g. the province), next to each agency's id.
TOTAL = 0
_DAY_SPAN = 100_000  # PSU code = counter_key * _DAY_SPAN + day ordinal offset (< 274 years of days)


@dataclass(frozen=True)
class IndexQuery:
    instrument_id: int
    date_from: dt.date
    date_to: dt.date  # inclusive
    #: Agencies to estimate (each one domain); None = every agency with responses.
    agency_ids: Sequence[int] | None = None
    weighted: bool = True
    include_total: bool = True
    level: float = 0.95


@dataclass(frozen=True)
class WeightingNote:
    """How the weights were made, about one agency (and month) or, with no agency, the whole scope.

    Notes name agencies by id here; readers name them by code, and only the agencies they were asked
    about (:meth:`text`, :func:`notes_about`): a report covers a whole province, a reader often one agency.
    """

    message: str
    agency_id: int | None = None
    months: tuple[dt.date, ...] = ()

    def text(self, codes: Mapping[int, str]) -> str:
        if self.agency_id is None:
            return self.message
        when = f" {', '.join(f'{m:%Y-%m}' for m in self.months)}" if self.months else ""
        return f"agency {codes.get(self.agency_id, '?')}{when}: {self.message}"


def notes_about(
    notes: Sequence[WeightingNote], agency_ids: Sequence[int] | None, codes: Mapping[int, str]
) -> list[str]:
    """The notes that concern these agencies (all of them for None), or the whole scope, in readable form."""
    wanted = None if agency_ids is None else set(agency_ids)
    return [n.text(codes) for n in notes if n.agency_id is None or wanted is None or n.agency_id in wanted]


def _by_agency(pairs: Sequence[tuple[int, dt.date]], message: str) -> list[WeightingNote]:
    months: dict[int, list[dt.date]] = {}
    for agency_id, month in pairs:
        months.setdefault(int(agency_id), []).append(month)
    return [WeightingNote(message, a, tuple(sorted(ms))) for a, ms in sorted(months.items())]


@dataclass(frozen=True)
class IndexReport:
    """Estimates and everything needed to say how they were made."""

    estimates: EstimateSet
    instrument: str
    period: tuple[dt.date, dt.date]
    weighting: str
    design: str
    definition: str
    ci_methods: dict[str, str]
    n_strata: int
    n_psus: int
    notes: tuple[WeightingNote, ...] = field(default=())
    #: Some weighting cells were collapsed (fields without respondents or respondents without a field).
    merged_cells: bool = False
    #: Criteria with no valid answer in scope, left out of their element's average.
    unanswered_items: tuple[str, ...] = ()
    computed_at: dt.datetime = field(default_factory=utcnow)

    def get(self, domain: int, target: str, kind: str = "share"):  # type: ignore[no-untyped-def]
        """One estimate: ``target`` is an item code, an element code or "overall"; domain an agency id or TOTAL."""
        return self.estimates.get(domain, target, kind)


def _month(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]")


#: Days since 1970-01-01 of the tallies' local day, in SQL (so the driver returns plain integers).
_DAYS_SQL = {
    "sqlite": "CAST(julianday(t.day) - 2440587.5 AS INTEGER)",
    "postgresql": "(t.day - DATE '1970-01-01')",
}


#: PSU code = counter_key × 100,000 + days since 1970-01-01, computed in SQL so every column is numeric.
_PSU_SQL = {dialect: f"t.counter_key * {_DAY_SPAN} + {days}" for dialect, days in _DAYS_SQL.items()}


def _response_cells(session: Session, query: IndexQuery) -> dict[str, np.ndarray]:
    """Valid responses per agency × counter-day × field (tens of thousands of rows at national scale).

    Read through the driver cursor as integers: ``day`` comes back as ``datetime64[D]`` and ``month`` as
    ``datetime.date`` objects (the weighting cells' keys).
    """
    conn = session.connection()
    dialect = conn.dialect.name
    mark = "?" if dialect == "sqlite" else "%s"
    agencies = ""
    if query.agency_ids is not None:
        agencies = " AND t.agency_id IN ({})".format(", ".join(str(int(a)) for a in query.agency_ids) or "NULL")
    cursor = conn.connection.driver_connection.cursor()
    cursor.execute(
        f"SELECT t.agency_id, {_DAYS_SQL[dialect]}, t.counter_key, t.field_key, t.n "  # noqa: S608
        f"FROM stat_response_tallies t WHERE t.instrument_id = {mark} AND t.n > 0 "
        # an exclusion can leave a tally at zero: no respondent, no weighting cell
        f"AND t.day >= {mark} AND t.day <= {mark}{agencies}",
        (query.instrument_id, query.date_from.isoformat(), query.date_to.isoformat())
        if dialect == "sqlite"
        else (query.instrument_id, query.date_from, query.date_to),
    )
    rows = cursor.fetchall()
    cursor.close()
    values = np.array(rows, dtype=np.int64).reshape(len(rows), 5)
    day = values[:, 1].astype("datetime64[D]")
    return {
        "agency_id": values[:, 0],
        "day": day,
        "counter_key": values[:, 2],
        "field_key": values[:, 3],
        "month": day.astype("datetime64[M]").astype("datetime64[D]").astype(object),
        "n": values[:, 4],
    }


Weights = tuple[dict, tuple[WeightingNote, ...]]  # type: ignore[type-arg]


def _cell_weights(session: Session, query: IndexQuery, resp: dict[str, np.ndarray]) -> Weights:
    """Weight per (agency, field_key, month) cell; empty when weighting is impossible (with a note why)."""
    counts: dict[tuple[int, int, dt.date], float] = {}
    for key, n in zip(
        zip(resp["agency_id"].tolist(), resp["field_key"].tolist(), resp["month"].tolist(), strict=True),
        resp["n"].tolist(),
        strict=True,
    ):
        counts[key] = counts.get(key, 0.0) + n
    agencies = {a for a, _, _ in counts}
    vol_q = (
        select(
            TransactionVolume.agency_id,
            TransactionVolume.field_id,
            TransactionVolume.month,
            func.sum(TransactionVolume.transactions),
        )
        .where(TransactionVolume.month >= query.date_from.replace(day=1), TransactionVolume.month <= query.date_to)
        .group_by(TransactionVolume.agency_id, TransactionVolume.field_id, TransactionVolume.month)
    )
    totals = {(a, f, m): float(t) for a, f, m, t in session.execute(vol_q) if a in agencies}
    result = collapsed_cell_factors(counts, totals)
    notes = [
        *_by_agency(result.collapsed, "respondents without a matching field; collapsed to one cell"),
        *_by_agency(result.spread, "fields without respondents spread over the answered fields"),
    ]
    if result.missing:
        missing = _by_agency(result.missing, "no transaction volumes")
        return {}, (WeightingNote("transaction volumes are missing: estimates are unweighted"), *missing)
    return result.factors, tuple(notes)


_WEIGHTS_DDL = {
    "sqlite": "CREATE TEMP TABLE IF NOT EXISTS tmp_cell_weights (agency_id INTEGER, field_key INTEGER, "
    "month DATE, w FLOAT, PRIMARY KEY (agency_id, field_key, month))",
    # Rows vanish at the end of each transaction; the table itself lives as long as the connection.
    "postgresql": "CREATE TEMP TABLE IF NOT EXISTS tmp_cell_weights (agency_id INTEGER, field_key INTEGER, "
    "month DATE, w DOUBLE PRECISION, PRIMARY KEY (agency_id, field_key, month)) ON COMMIT DELETE ROWS",
}


def _load_weights(cursor, dialect: str, factors: dict) -> tuple[str, str]:  # type: ignore[no-untyped-def, type-arg]
    """Put the cell weights in a per-connection temporary table; return the weight expression and join."""
    if not factors:
        return "1.0", ""
    mark = "?" if dialect == "sqlite" else "%s"
    cursor.execute(_WEIGHTS_DDL[dialect])
    cursor.execute("DELETE FROM tmp_cell_weights")
    # SQLite compares dates as ISO text; PostgreSQL takes date objects.
    as_param = (lambda d: d.isoformat()) if dialect == "sqlite" else (lambda d: d)
    cursor.executemany(
        f"INSERT INTO tmp_cell_weights (agency_id, field_key, month, w) VALUES ({mark}, {mark}, {mark}, {mark})",  # noqa: S608
        [(a, f, as_param(m), w) for (a, f, m), w in factors.items()],
    )
    if dialect == "postgresql":
        # Real statistics for the planner (a temporary table has none), and room to aggregate in memory.
        cursor.execute("ANALYZE tmp_cell_weights")
    join = "JOIN tmp_cell_weights c ON c.agency_id = t.agency_id AND c.field_key = t.field_key AND c.month = t.month"
    return "c.w", join


def _psu_sums(
    session: Session,
    item_ids: list[int],
    factors: dict,
    segments: Sequence[tuple[dt.date, dt.date, Sequence[int]]],  # type: ignore[type-arg]
) -> list[np.ndarray]:
    """Weighted per-(agency, counter-day, item) sums, one float array (columns :data:`PSU_COLUMNS`) per
    segment of days × agencies.

    Cell weights travel in a per-connection temporary table, so each roll-up is one indexed join (the
    explicit agency list lets the tallies' primary key seek each agency's day range) and only PSU-level
    rows (not one row per response or answer) reach Python, through the driver cursor.
    """
    conn = session.connection()
    dialect = conn.dialect.name
    mark = "?" if dialect == "sqlite" else "%s"
    cursor = conn.connection.driver_connection.cursor()
    weight, join = _load_weights(cursor, dialect, factors)
    if dialect == "postgresql":
        cursor.execute("SET LOCAL work_mem = '64MB'")  # this transaction only: sort the roll-up in memory
    items = ", ".join(str(int(i)) for i in item_ids)
    out = []
    for day_from, day_to, agency_ids in segments:
        agencies = ", ".join(str(int(a)) for a in agency_ids)
        cursor.execute(
            f"SELECT t.agency_id, {_PSU_SQL[dialect]}, t.item_id, SUM(t.n_valid), SUM({weight} * t.n_valid), "  # noqa: S608
            f"SUM({weight} * t.n_satisfied), SUM({weight} * t.sum_score), SUM({weight} * t.sum_score_sq), "
            f"SUM({weight} * {weight} * t.n_valid) FROM stat_answer_tallies t {join} "
            f"WHERE t.agency_id IN ({agencies}) AND t.day >= {mark} AND t.day <= {mark} AND t.n_valid > 0 "
            f"AND t.item_id IN ({items}) GROUP BY t.agency_id, t.day, t.counter_key, t.item_id",
            (day_from.isoformat(), day_to.isoformat()) if dialect == "sqlite" else (day_from, day_to),
        )
        rows = cursor.fetchall()
        out.append(np.array(rows, dtype=np.float64).reshape(len(rows), len(PSU_COLUMNS)))
    cursor.close()
    return out


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def closed_months(date_from: dt.date, date_to: dt.date, today: dt.date) -> list[dt.date]:
    """Whole months inside the period that no new submission can reach: they end at least two days
    before ``today`` (UTC), a margin that covers every local date running ahead of UTC."""
    month = date_from.replace(day=1)
    if month < date_from:
        month = _next_month(month)
    months = []
    while True:
        last_day = _next_month(month) - dt.timedelta(days=1)
        if last_day > date_to or last_day >= today - dt.timedelta(days=2):
            return months
        months.append(month)
        month = _next_month(month)


def _digest(factors: dict, agency_id: int, month: dt.date) -> str:  # type: ignore[type-arg]
    """Fingerprint of the cell weights of one agency-month ("unweighted" without weights)."""
    if not factors:
        return "unweighted"
    cells = sorted((f, repr(float(w))) for (a, f, m), w in factors.items() if a == agency_id and m == month)
    return hashlib.sha256(repr(cells).encode()).hexdigest()


def _rolled_up(
    session: Session,
    query: IndexQuery,
    item_ids: list[int],
    factors: dict,
    resp: dict[str, np.ndarray],  # type: ignore[type-arg]
) -> np.ndarray:
    """PSU sums of the query: closed months from their stored roll-ups, the rest from the tallies.

    Stored months are checked against today's cell weights and response counts; missing or stale
    months are rolled up from the tallies and stored for the next reader (best effort: a reader never
    fails because it could not store).
    """
    agencies = sorted({int(a) for a in resp["agency_id"].tolist()})
    closed = closed_months(query.date_from, query.date_to, utcnow().date())
    if not closed:
        return np.concatenate(_psu_sums(session, item_ids, factors, [(query.date_from, query.date_to, agencies)]))
    counts: dict[tuple[int, dt.date], int] = {}
    for a, m, n in zip(resp["agency_id"].tolist(), resp["month"].tolist(), resp["n"].tolist(), strict=True):
        counts[(a, m)] = counts.get((a, m), 0) + int(n)
    closed_set = set(closed)
    wanted = {key: (_digest(factors, *key), n) for key, n in counts.items() if key[1] in closed_set}
    stored = session.execute(
        select(PsuMonthSums.agency_id, PsuMonthSums.month, PsuMonthSums.weights_digest, PsuMonthSums.n_responses,
               PsuMonthSums.n_rows, PsuMonthSums.sums)
        .where(PsuMonthSums.instrument_id == query.instrument_id, PsuMonthSums.weighted == bool(factors),
               PsuMonthSums.month.in_(closed), PsuMonthSums.agency_id.in_(agencies))
    ).all()  # fmt: skip
    parts: list[np.ndarray] = []
    for agency_id, month, digest, n_responses, n_rows, blob in stored:
        if wanted.get((agency_id, month)) == (digest, n_responses):
            parts.append(np.frombuffer(blob, dtype="<f8").reshape(n_rows, len(PSU_COLUMNS)))
            del wanted[(agency_id, month)]
    missing: dict[dt.date, list[int]] = {}
    for agency_id, month in sorted(wanted):
        missing.setdefault(month, []).append(agency_id)
    if len(missing) > 1:
        # Several months to roll up (e.g. the first reader after a bulk load): one pass over their span
        # costs far less than a query per month; rows of months already stored are dropped below.
        span = sorted(missing)
        ids = sorted({a for m in span for a in missing[m]})
        segments = [(span[0], _next_month(span[-1]) - dt.timedelta(days=1), ids)]
    else:
        segments = [(m, _next_month(m) - dt.timedelta(days=1), ids) for m, ids in missing.items()]
    n_missing_segments = len(segments)
    if query.date_from < closed[0]:
        segments.append((query.date_from, closed[0] - dt.timedelta(days=1), agencies))
    after = _next_month(closed[-1])
    if after <= query.date_to:
        segments.append((after, query.date_to, agencies))
    computed = _psu_sums(session, item_ids, factors, segments)
    parts.extend(computed[n_missing_segments:])
    fresh = []
    epoch = np.datetime64("1970-01-01", "D")
    for rows in computed[:n_missing_segments]:
        # PSU code = counter × 100,000 + day: the day gives each row's month
        months = (epoch + (rows[:, 1].astype(np.int64) % _DAY_SPAN)).astype("datetime64[M]")
        for month64 in np.unique(months):
            month = month64.astype("datetime64[D]").astype(dt.date)
            in_month = rows[months == month64]
            for agency_id in np.unique(in_month[:, 0]).astype(int).tolist():
                if (agency_id, month) not in wanted:
                    continue  # stored already and read above
                block = np.ascontiguousarray(in_month[in_month[:, 0] == agency_id])
                parts.append(block)
                digest, n = wanted[(agency_id, month)]
                fresh.append(
                    {"instrument_id": query.instrument_id, "agency_id": agency_id, "month": month,
                     "weighted": bool(factors), "weights_digest": digest, "n_responses": n, "n_rows": len(block),
                     "sums": block.astype("<f8").tobytes()}
                )  # fmt: skip
    if fresh:
        _store_months(session, fresh)
    return np.concatenate(parts) if parts else np.zeros((0, len(PSU_COLUMNS)))


def _store_months(session: Session, rows: list[dict]) -> None:  # type: ignore[type-arg]
    """Upsert month roll-ups in their own short transaction, unless the caller is mid-write."""
    if session.info.get("sipas_writing") or session.new or session.dirty or session.deleted:
        return
    stmt = upsert_insert(session.get_bind().dialect.name, PsuMonthSums)
    upsert = stmt.on_conflict_do_update(
        index_elements=["instrument_id", "agency_id", "month", "weighted"],
        set_={name: stmt.excluded[name] for name in ("weights_digest", "n_responses", "n_rows", "sums", "computed_at")},
    )
    try:
        session.commit()  # end the read transaction; the write below takes its own lock
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        session.execute(upsert, [{**row, "computed_at": utcnow()} for row in rows])
        session.commit()
    except DBAPIError:
        session.rollback()
        logger.warning("could not store %d monthly index roll-ups; they will be computed again", len(rows))


PSU_COLUMNS = ("agency_id", "psu", "item_id", "n", "swd", "sws", "swdy", "swdyy", "swwd")


def cell_weights(session: Session, query: IndexQuery) -> Weights:
    """Weight per (agency, field_key, month) cell for the query's valid responses, with notes.

    The one weighting rule shared by indices and exports; empty (with a note why) when no response is
    in scope or transaction volumes are missing.
    """
    resp = _response_cells(session, query)
    if len(resp["n"]) == 0:
        return {}, (WeightingNote("no valid responses: no weights"),)
    return _cell_weights(session, query, resp)


def _with_total(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    doubled = {name: np.concatenate([values, values]) for name, values in columns.items()}
    doubled["domain"][len(columns["domain"]) :] = TOTAL
    return doubled


def compute_indices(session: Session, query: IndexQuery) -> IndexReport:
    """Item, element and overall shares and mean scores, per agency (and for the whole scope)."""
    instrument = session.get(Instrument, query.instrument_id)
    if instrument is None:
        raise LookupError(f"no instrument with id {query.instrument_id}")
    item_code = {item.id: item.code for item in instrument.items}
    resp = _response_cells(session, query)
    if len(resp["n"]) == 0:
        raise LookupError("no valid responses for this instrument, period and scope")
    factors: dict = {}  # type: ignore[type-arg]
    notes: tuple[WeightingNote, ...] = ()
    merged_cells = False
    if query.weighted:
        factors, notes = _cell_weights(session, query, resp)
    merged_cells = bool(factors) and bool(notes)
    weighting = WEIGHTED if factors else UNWEIGHTED
    psu = _rolled_up(session, query, list(item_code), factors, resp)

    epoch = np.datetime64("1970-01-01", "D")
    if factors:
        w_r = np.array(
            [
                factors[key]
                for key in zip(
                    resp["agency_id"].tolist(), resp["field_key"].tolist(), resp["month"].tolist(), strict=True
                )
            ]
        )
    else:
        w_r = np.ones(len(resp["n"]))
    psu_r = resp["counter_key"].astype(np.int64) * _DAY_SPAN + (resp["day"] - epoch).astype(np.int64)
    # Compact PSU codes (counter × days of the period), so the engine can number them without sorting.
    first_day = int((resp["day"].min() - epoch).astype(np.int64))
    span = int((resp["day"].max() - epoch).astype(np.int64)) - first_day + 1

    def compact(code: np.ndarray) -> np.ndarray:
        return (code // _DAY_SPAN) * span + (code % _DAY_SPAN - first_day)

    strata_r = resp["agency_id"].astype(np.int64)
    n_psu = {int(s): len(np.unique(psu_r[strata_r == s])) for s in np.unique(strata_r)}
    design = Design(strata=tuple(n_psu), n_psu=tuple(n_psu.values()), lonely_psu="certainty")
    col = {name: psu[:, i] for i, name in enumerate(PSU_COLUMNS)}
    # Items as integer codes into the instrument's item codes (no per-row strings to build or sort).
    item_ids = list(item_code)
    position = np.zeros(max(item_ids) + 1, dtype=np.int64)
    position[item_ids] = np.arange(len(item_ids))
    codes = position[col["item_id"].astype(np.int64)]
    item_cols = {
        "stratum": col["agency_id"].astype(np.int64),
        "psu": compact(col["psu"].astype(np.int64)),
        "item": codes,
        "n": col["n"],
        "swd": col["swd"],
        "sws": col["sws"],
        "swdy": col["swdy"],
        "swdyy": col["swdyy"],
        "swwd": col["swwd"],
        "domain": col["agency_id"].astype(np.int64),
    }
    resp_cols = {
        "stratum": strata_r,
        "psu": compact(psu_r),
        "n": resp["n"],
        "sw": w_r * resp["n"],
        "sww": w_r * w_r * resp["n"],
        "domain": strata_r,
    }
    if query.include_total:
        # Each respondent also belongs to the whole-scope domain: repeat its cells with that label.
        item_cols, resp_cols = _with_total(item_cols), _with_total(resp_cols)
    items = ItemSums(**item_cols, item_labels=[item_code[i] for i in item_ids])
    respondents = RespondentSums(**resp_cols)

    # A criterion with no valid answer anywhere in scope (e.g. all "not applicable") has no share to
    # average: its element averages the criteria that have answers, and the report says so.
    answered = {item_code[item_ids[k]] for k in np.unique(codes).tolist()}
    unanswered = [item.code for item in instrument.items if item.code not in answered]
    if unanswered:
        unanswered_note = f"no valid answers in scope for {', '.join(unanswered)}: left out of the element indices"
        notes = (*notes, WeightingNote(unanswered_note))
    groups = {
        element.code: {item.code: item.weight for item in element.items if item.code in answered}
        for element in instrument.elements
    }
    groups = {code: members for code, members in groups.items() if members}
    coefficients = {element.code: element.weight for element in instrument.elements if element.code in groups}
    definition = instrument.aggregation.get("definition", "A")
    specs = composite_specs(groups, definition=definition, group_coefficients=coefficients)
    estimates = estimate_from_sums(
        design,
        items,
        respondents,
        composites=specs,
        kinds=("share", "mean"),
        ci="beta",
        composite_ci="xlogit",
        level=query.level,
    )
    return IndexReport(
        estimates=estimates,
        instrument=instrument.label,
        period=(query.date_from, query.date_to),
        weighting=weighting,
        design=DESIGN,
        definition=definition,
        ci_methods={
            "item share": "Korn–Graubard (NCHS-adjusted)",
            "composite": "xlogit, t(df)",
            "mean score": "Wald, t(df)",
        },
        n_strata=design.n_strata,
        n_psus=int(sum(n_psu.values())),
        notes=notes,
        merged_cells=merged_cells,
        unanswered_items=tuple(unanswered),
    )
