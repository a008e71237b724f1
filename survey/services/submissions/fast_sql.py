"""A citizen's submission as plain SQL on the driver's cursor: the response, its answers, its tallies.

Storing a submission is a handful of small statements. Through SQLAlchemy's execution layer (cache
keys, parameter processing, result objects) each cost more Python than SQLite spent running it, and
all of it ran while the database's write lock was held, which the other workers were waiting for.
Here each statement is compiled once per dialect, with named parameters, from the same Core statements
the rest of the app uses, and run on the DBAPI cursor of the session's own connection, inside the
transaction SQLAlchemy began: nothing about atomicity changes. Every parameter is worked out first
(:func:`prepare`), so the write lock is held only while SQLite runs the statements.

Values are bound through the columns' own types (their bind processors on the dialect, looked up once),
so they are stored exactly as the ORM stores them; the response's columns are the model's
(``SUBMITTED_COLUMNS``). Tests
read the rows back through the ORM, compare them with ORM-written rows and check the tallies against a
rebuild, on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Column, Connection, Dialect, Table, bindparam, func, insert, literal_column, select
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.exc import DBAPIError

from survey.db import driver_connection
from survey.models import Agency, Answer, AnswerTally, Counter, Instrument, Response, ResponseTally
from survey.models.response import SUBMITTED_COLUMNS
from survey.services.statistics import tallies
from survey.services.statistics.tallies import ANSWER_SUMS as _ANSWER_SUMS
from survey.services.statistics.tallies import TallyKey, answer_tally_rows

_ANSWER_TALLY_COLUMNS = ("agency_id", "day", "counter_key", "field_key", "month", "item_id", *_ANSWER_SUMS)
_RESPONSE_TALLY_COLUMNS = ("agency_id", "day", "counter_key", "field_key", "month", "instrument_id", "n")
#: The tables, typed as the Tables they are (a mapped class only promises a FromClause).
_RESPONSE_TABLE = cast(Table, Response.__table__)
_ANSWER_TABLE = cast(Table, Answer.__table__)
_responses = _RESPONSE_TABLE.c

#: A counter for the submission path: its ids, key version, whether it and its agency are active, and its
#: questionnaire's content digest (the key of the cached rules).
_COUNTER = (
    select(
        Counter.id,
        Counter.agency_id,
        Counter.key_version,
        Counter.active,
        Agency.active,
        Counter.instrument_id,
        Instrument.content_digest,
    )
    .join(Agency, Agency.id == Counter.agency_id)
    .join(Instrument, Instrument.id == Counter.instrument_id)
    .where(Counter.id == bindparam("counter_id"))
)
#: At most ``limit`` entries of the (counter, received_at) index (see services/bursts.py).
_BURST_WINDOW = select(func.count()).select_from(
    select(literal_column("1"))
    .select_from(Response.__table__)
    .where(
        _responses.counter_id == bindparam("counter_id"),
        _responses.received_at > bindparam("since"),
        _responses.received_at <= bindparam("until"),
    )
    .limit(bindparam("limit"))
    .offset(literal_column("0"))  # SQLite's compiler would otherwise add an OFFSET parameter of its own
    .subquery("window_rows")
)


@cache
def _statements(dialect: Dialect) -> dict[str, str]:
    """The statements' SQL for this dialect with named parameters, compiled once from Core statements on the
    models (so a schema change reaches them)."""
    named = cast(type[DefaultDialect], type(dialect))(paramstyle="named" if dialect.name == "sqlite" else "pyformat")
    upsert = tallies.upsert_statement

    def sql(stmt: Any, columns: tuple[str, ...] | None = None) -> str:
        return str(stmt.compile(dialect=named, column_keys=list(columns) if columns else None))

    return {
        "response": sql(insert(_RESPONSE_TABLE).returning(_responses.id), SUBMITTED_COLUMNS),
        "answers": sql(insert(_ANSWER_TABLE), ("response_id", "item_id", "score")),
        "response_tally": sql(
            upsert(dialect.name, ResponseTally, (*tallies.TALLY_KEYS, "instrument_id"), ("n",)), _RESPONSE_TALLY_COLUMNS
        ),
        "answer_tallies": sql(
            upsert(dialect.name, AnswerTally, (*tallies.TALLY_KEYS, "item_id"), _ANSWER_SUMS), _ANSWER_TALLY_COLUMNS
        ),
        "burst_window": sql(_BURST_WINDOW),
        "counter": sql(_COUNTER),
    }


Processor = Callable[[Any], Any]


def _processors(dialect: Dialect, columns: Mapping[str, Column[Any]]) -> tuple[tuple[str, Processor], ...]:
    """The columns' bind processors on ``dialect`` (how SQLAlchemy stores each value), leaving out the
    columns whose values the driver takes as they are."""
    found = ((name, column.type.dialect_impl(dialect).bind_processor(dialect)) for name, column in columns.items())
    return tuple((name, process) for name, process in found if process is not None)


@dataclass(frozen=True)
class _Binds:
    """Per dialect, the bind processors of the statements' parameters, looked up once."""

    response: tuple[tuple[str, Processor], ...]
    day: Processor | None
    received_at: Processor | None


@cache
def _binds(dialect: Dialect) -> _Binds:
    day = dict(_processors(dialect, {"day": cast(Table, AnswerTally.__table__).c.day}))
    received_at = dict(_processors(dialect, {"received_at": _responses.received_at}))
    return _Binds(
        response=_processors(dialect, {name: _responses[name] for name in SUBMITTED_COLUMNS}),
        day=day.get("day"),
        received_at=received_at.get("received_at"),
    )


@dataclass
class PreparedSubmission:
    """The parameters of one submission's statements, adapted to the database."""

    key: TallyKey
    response: Mapping[str, Any]
    answers: list[dict[str, Any]]
    response_tally: dict[str, Any]
    answer_tallies: list[dict[str, Any]]


def prepare(
    dialect: Dialect,
    row: Mapping[str, Any],
    instrument_id: int,
    satisfied_from: int,
    answers: list[tuple[int, int | None]],
) -> PreparedSubmission:
    """Every parameter of :meth:`SubmissionStatements.write`, worked out before the write lock is taken and
    bound as the columns' types bind them (on SQLite: UUIDs as hex digits, dates and timestamps as text)."""
    binds = _binds(dialect)
    values = {name: row[name] for name in SUBMITTED_COLUMNS}
    for name, process in binds.response:
        values[name] = process(values[name])
    key = TallyKey.of(row)
    response_tally, answer_tallies = answer_tally_rows(key, instrument_id, satisfied_from, answers)
    if binds.day is not None:  # of the tallies, only the day and its month are bound, the same in every row
        day, month = binds.day(key.day), binds.day(key.day.replace(day=1))
        for tally in (response_tally, *answer_tallies):
            tally["day"], tally["month"] = day, month
    answer_rows = [{"response_id": 0, "item_id": item_id, "score": score} for item_id, score in answers]
    return PreparedSubmission(key, values, answer_rows, response_tally, answer_tallies)


class SubmissionStatements:
    """The submission's statements on one connection's cursor, in that connection's transaction."""

    def __init__(self, dialect: Dialect, cursor: Any) -> None:
        self.dialect = dialect
        self.cursor = cursor

    @classmethod
    def on(cls, connection: Connection) -> SubmissionStatements:
        """On a cursor of ``connection``'s driver connection, in its transaction."""
        return cls(connection.dialect, driver_connection(connection).cursor())

    def _run(self, name: str, params: Any, many: bool = False) -> None:
        """Run one statement; a driver error becomes SQLAlchemy's (IntegrityError, OperationalError …),
        as the callers and the app's error handlers expect."""
        sql = _statements(self.dialect)[name]
        try:
            (self.cursor.executemany if many else self.cursor.execute)(sql, params)
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                sql, None, exc, self.dialect.loaded_dbapi.Error, hide_parameters=True, dialect=self.dialect
            ) from exc

    def write(self, prepared: PreparedSubmission) -> int:
        """Insert the response and its answers and count it in both tally tables; the response's id.

        A repeated submission id raises IntegrityError on the first insert, before anything else is written.
        """
        self._run("response", prepared.response)
        (response_id,) = self.cursor.fetchone()
        for answer in prepared.answers:
            answer["response_id"] = response_id
        self._run("answers", prepared.answers, many=True)
        self._run("response_tally", prepared.response_tally)
        self._run("answer_tallies", prepared.answer_tallies, many=True)
        return int(response_id)

    def responses_in_window(self, counter_id: int, since: dt.datetime, until: dt.datetime, limit: int) -> int:
        """How many of the counter's responses fall in (since, until], counting no further than ``limit``."""
        process = _binds(self.dialect).received_at or (lambda value: value)
        params = {"counter_id": counter_id, "since": process(since), "until": process(until), "limit": limit}
        self._run("burst_window", params)
        return int(self.cursor.fetchone()[0])

    def counter(self, counter_id: int) -> tuple[int, int, int, bool, bool, int, str] | None:
        """(id, agency id, key version, active, agency active, instrument id, content digest), or None."""
        self._run("counter", {"counter_id": counter_id})
        row = self.cursor.fetchone()
        if row is None:
            return None
        counter_id, agency_id, key_version, active, agency_active, instrument_id, digest = row
        return counter_id, agency_id, key_version, bool(active), bool(agency_active), instrument_id, digest

    def close(self) -> None:
        self.cursor.close()


def counter_row(connection: Connection, counter_id: int) -> tuple[int, int, int, bool, bool, int, str] | None:
    """:meth:`SubmissionStatements.counter` on a cursor of its own."""
    statements = SubmissionStatements.on(connection)
    try:
        return statements.counter(counter_id)
    finally:
        statements.close()
