"""Keep the sufficient-statistics tallies in step with responses, and rebuild them from scratch.

:func:`add_response` runs inside the submission's own transaction, so an acknowledged response is
always counted; :func:`rebuild` recomputes everything from the raw rows in the caller's transaction
(a fresh bulk load, or to check the incremental path: a test proves both agree), and
:func:`rebuild_in_steps` does the same in short write transactions (one agency's days each), so submissions
go on while a live database is rebuilt (``flask rebuild-stats``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Date, case, cast, delete, func, insert, literal, select, text
from sqlalchemy.orm import Session

from survey.db import upsert_insert, utcnow
from survey.models import Answer, AnswerTally, Instrument, PsuMonthSums, Response, ResponseTally
from survey.services.administration.instruments import InstrumentRules

TALLY_KEYS = ("agency_id", "day", "counter_key", "field_key")
#: The scale points counted one by one (the 5-point SIPAS scale).
SCALE_POINTS = (1, 2, 3, 4, 5)
ANSWER_SUMS = (
    "n_valid",
    "n_satisfied",
    "sum_score",
    "sum_score_sq",
    "n_not_applicable",
    *(f"n_score_{point}" for point in SCALE_POINTS),
)


@cache
def upsert_statement(dialect: str, model: Any, keys: tuple[str, ...], sums: tuple[str, ...]) -> Any:
    """INSERT … ON CONFLICT DO UPDATE adding ``sums`` (SQLite and PostgreSQL both support it).

    Built once per dialect and table and executed with a list of rows (executemany), so SQLAlchemy
    compiles it once; a multi-row ``.values(rows)`` would be compiled again on every submission.
    """
    table = model.__table__
    stmt = upsert_insert(dialect, table)  # a Core statement on the table: executemany without the ORM's bulk machinery
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + stmt.excluded[name] for name in sums}
    )


def _upsert(session: Session, model: Any, rows: list[dict[str, Any]], keys: Iterable[str], sums: Iterable[str]) -> None:
    if rows:
        conn = session.connection()
        conn.execute(upsert_statement(conn.dialect.name, model, tuple(keys), tuple(sums)), rows)


@dataclass(frozen=True)
class TallyKey:
    """Where one response is counted: its agency, local day, counter and field (0 when none)."""

    agency_id: int
    day: dt.date
    counter_key: int
    field_key: int

    @classmethod
    def of(cls, response: Response | Mapping[str, Any]) -> TallyKey:
        """The key of a mapped response or of a response row's values (the submission path's plain dict)."""
        get: Callable[[str], Any] = response.get if isinstance(response, Mapping) else response.__getattribute__
        return cls(get("agency_id"), get("received_on"), get("counter_id") or 0, get("field_id") or 0)


def add_response(
    session: Session,
    response: Response,
    instrument: Instrument | InstrumentRules,
    sign: int = 1,
    answers: Iterable[tuple[int, int | None]] | None = None,
) -> None:
    """Add (``sign=1``) or remove (``sign=-1``) one valid response's contribution, in the caller's transaction.

    ``answers`` are (item id, score) pairs, by default the response's own answer rows.
    """
    pairs = answers if answers is not None else [(a.item_id, a.score) for a in response.answers]
    add_tallies(session, TallyKey.of(response), instrument, pairs, sign)


def answer_tally_rows(
    key: TallyKey,
    instrument_id: int,
    satisfied_from: int,
    answers: Iterable[tuple[int, int | None]],
    sign: int = 1,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The rows one response adds (``sign=1``) or removes (``-1``): its response tally and its answer tallies.

    Answer rows come in item order, so concurrent submissions take row locks in the same order.
    """
    base: dict[str, Any] = {
        "agency_id": key.agency_id,
        "day": key.day,
        "counter_key": key.counter_key,
        "field_key": key.field_key,
        "month": key.day.replace(day=1),
    }
    rows = []
    for item_id, score in sorted(answers, key=lambda pair: pair[0]):
        valid = score is not None
        rows.append(
            {
                **base,
                "item_id": item_id,
                "n_valid": sign * valid,
                "n_satisfied": sign * (score is not None and score >= satisfied_from),
                "sum_score": sign * (score or 0),
                "sum_score_sq": sign * (score or 0) ** 2,
                "n_not_applicable": sign * (not valid),
                **{f"n_score_{point}": sign * (score == point) for point in SCALE_POINTS},
            }
        )
    return {**base, "instrument_id": instrument_id, "n": sign}, rows


def add_tallies(
    session: Session,
    key: TallyKey,
    instrument: Instrument | InstrumentRules,
    answers: Iterable[tuple[int, int | None]],
    sign: int = 1,
) -> None:
    """Add (or with ``sign=-1`` remove) one response counted under ``key`` with these (item id, score) answers."""
    if isinstance(instrument, InstrumentRules):
        satisfied_from = instrument.satisfied_from
    else:
        satisfied_from = int(instrument.scale["satisfied_from"])
    response_row, answer_rows = answer_tally_rows(key, instrument.id, satisfied_from, answers, sign)
    _upsert(session, ResponseTally, [response_row], (*TALLY_KEYS, "instrument_id"), ("n",))
    _upsert(session, AnswerTally, answer_rows, (*TALLY_KEYS, "item_id"), ANSWER_SUMS)
    forget_changed_month(session, key, sign)


def forget_changed_month(session: Session, key: TallyKey, sign: int = 1) -> None:
    """A closed month changed (an exclusion, a late correction): drop its stored roll-up, which is now stale."""
    month = key.day.replace(day=1)
    if sign < 0 or month < utcnow().date().replace(day=1):
        forget_months(session, key.agency_id, month)


def forget_months(session: Session, agency_id: int | None = None, month: Any = None) -> None:
    """Drop stored monthly roll-ups (all, or one agency-month's), in the caller's transaction."""
    stmt = delete(PsuMonthSums)
    if agency_id is not None:
        stmt = stmt.where(PsuMonthSums.agency_id == agency_id, PsuMonthSums.month == month)
    session.execute(stmt)


def month_start(day: Any, dialect: str) -> Any:
    """SQL for the first day of ``day``'s month."""
    if dialect == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month")


def _insert_tallies(session: Session, instruments: list[tuple[int, int]], *where: ColumnElement[bool]) -> None:
    """Insert the tallies of the valid responses matching ``where`` (none of them may be tallied yet);
    ``instruments`` are (id, satisfied-from threshold) pairs: one pass over the answers for all of them."""
    if not instruments:
        return
    valid = Response.status == "valid"
    counter_key = func.coalesce(Response.counter_id, 0)
    field_key = func.coalesce(Response.field_id, 0)
    grain = (Response.agency_id, Response.received_on, counter_key, field_key)
    month = month_start(Response.received_on, session.get_bind().dialect.name)
    session.execute(
        insert(ResponseTally).from_select(
            [*TALLY_KEYS, "month", "instrument_id", "n"],
            select(*grain, month, Response.instrument_id, func.count())
            .where(valid, *where)
            .group_by(*grain, Response.instrument_id),
        )
    )
    thresholds = dict(instruments)
    threshold = case(thresholds, value=Response.instrument_id)
    score = Answer.score
    session.execute(
        insert(AnswerTally).from_select(
            [*TALLY_KEYS, "month", "item_id", *ANSWER_SUMS],
            select(
                *grain,
                month,
                Answer.item_id,
                func.count(score),
                func.sum(case((score >= threshold, 1), else_=0)),
                func.coalesce(func.sum(score), literal(0)),
                func.coalesce(func.sum(score * score), literal(0)),
                func.sum(case((score.is_(None), 1), else_=0)),
                *(func.sum(case((score == point, 1), else_=0)) for point in SCALE_POINTS),
            )
            .join(Response, Response.id == Answer.response_id)
            .where(valid, Response.instrument_id.in_(list(thresholds)), *where)
            .group_by(*grain, Answer.item_id),
        )
    )


def _instruments(session: Session) -> list[tuple[int, int]]:
    return [(i.id, int(i.scale["satisfied_from"])) for i in session.scalars(select(Instrument).order_by(Instrument.id))]


def _counts(session: Session) -> tuple[int, int]:
    count = session.scalar(select(func.count()).select_from(ResponseTally)) or 0
    return count, session.scalar(select(func.count()).select_from(AnswerTally)) or 0


def rebuild(session: Session) -> tuple[int, int]:
    """Recompute both tally tables from valid responses, in the caller's transaction; return row counts.

    One transaction over every response: for a fresh bulk load (the demo seed) or a database nobody is
    writing to. A live database is rebuilt with :func:`rebuild_in_steps`.
    """
    session.execute(delete(AnswerTally))
    session.execute(delete(ResponseTally))
    forget_months(session)
    _insert_tallies(session, _instruments(session))
    return _counts(session)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


#: Valid responses a rebuild step covers at most (more only when one agency-day alone has more): on
#: SQLite a step of this size holds the write lock for a few tenths of a second at most.
STEP_RESPONSES = 2_000
#: After each step, the rebuild rests this many times as long as the step took (the survey's share).
STEP_PAUSE = 1.0


def agency_days(session: Session) -> list[tuple[int, dt.date, int]]:
    """Every (agency id, day, valid responses) with a valid response or a tally row, in order."""
    counted = select(Response.agency_id, Response.received_on, func.count()).where(Response.status == "valid")
    rows = session.execute(counted.group_by(Response.agency_id, Response.received_on))
    responded = {(int(a), _as_date(d)): int(n) for a, d, n in rows}
    tallied = session.execute(select(ResponseTally.agency_id, ResponseTally.day).distinct())
    keys = set(responded) | {(int(a), _as_date(d)) for a, d in tallied}
    return [(a, d, responded.get((a, d), 0)) for a, d in sorted(keys)]


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class RebuildStep:
    """Consecutive days of one agency, rebuilt in one transaction."""

    agency_id: int
    first_day: dt.date
    last_day: dt.date
    agency_days: int


def rebuild_steps(days: list[tuple[int, dt.date, int]], budget: int = STEP_RESPONSES) -> list[RebuildStep]:
    """Group the agency-days (in order) into steps of one agency's consecutive days with at most ``budget``
    responses each (one agency-day at least)."""
    steps: list[RebuildStep] = []
    run: list[tuple[int, dt.date, int]] = []
    total = 0
    for agency_id, day, n in days:
        if run and (run[0][0] != agency_id or total + n > budget):
            steps.append(RebuildStep(run[0][0], run[0][1], run[-1][1], len(run)))
            run, total = [], 0
        run.append((agency_id, day, n))
        total += n
    if run:
        steps.append(RebuildStep(run[0][0], run[0][1], run[-1][1], len(run)))
    return steps


def rebuild_step(session: Session, step: RebuildStep, instruments: list[tuple[int, int]]) -> None:
    """Recompute one step's tallies (an agency, a run of days) from its valid responses, in the caller's
    (short) transaction, and drop the stored roll-ups of the months it touches.

    On PostgreSQL the tally tables are locked against other writers for this transaction only (readers go
    on), so a submission landing in the same agency-day waits for the step instead of racing the
    delete and insert; on SQLite the write lock already does that.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE stat_response_tallies, stat_answer_tallies IN EXCLUSIVE MODE"))
    first, last = step.first_day, step.last_day
    for model in (AnswerTally, ResponseTally):
        session.execute(delete(model).where(model.agency_id == step.agency_id, model.day >= first, model.day <= last))
    session.execute(
        delete(PsuMonthSums).where(
            PsuMonthSums.agency_id == step.agency_id,
            PsuMonthSums.month >= first.replace(day=1),
            PsuMonthSums.month <= last.replace(day=1),
        )
    )
    in_step = (Response.agency_id == step.agency_id, Response.received_on >= first, Response.received_on <= last)
    _insert_tallies(session, instruments, *in_step)


def rebuild_in_steps(
    read: Session,
    write: Callable[[], AbstractContextManager[Session]],
    progress: Callable[[int], None] | None = None,
    days: list[tuple[int, dt.date, int]] | None = None,
    budget: int = STEP_RESPONSES,
    pause: float = STEP_PAUSE,
) -> tuple[int, int]:
    """Recompute the tallies in short write transactions (``write()`` opens one and commits it), each one
    agency's run of days up to ``budget`` responses; return row counts.

    Submissions go on between the steps, and each is counted exactly once: one stored before its
    agency-day's step is counted by the step's recount, one stored after it by its own increment.
    ``progress`` is called with the number of agency-days done after each step; ``days`` are the
    agency-days (default: :func:`agency_days`). A last short transaction drops every stored monthly
    roll-up once more: one a reader computed from tallies half rebuilt and stored late is not kept.

    After each step the rebuild waits ``pause`` times as long as the step took: a file lock is not a
    fair queue, and a writer that locks again at once would keep the waiting submissions out.
    """
    days = agency_days(read) if days is None else days
    instruments = _instruments(read)
    read.commit()  # end the read: a long-open read transaction would pin old pages (SQLite WAL)
    for step in rebuild_steps(days, budget):
        started = time.perf_counter()
        with write() as session:
            rebuild_step(session, step, instruments)
        if progress:
            progress(step.agency_days)
        time.sleep(pause * (time.perf_counter() - started))
    with write() as session:
        forget_months(session)
    counts = _counts(read)
    read.commit()
    return counts
