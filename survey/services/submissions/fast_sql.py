"""A citizen's submission as plain SQL on the driver's cursor: the response, its answers, its tallies.

Storing a submission is a handful of small statements. Through SQLAlchemy's execution layer (cache
keys, parameter processing, result objects) each cost more Python than SQLite spent running it, and
all of it ran while the database's write lock was held, which the other workers were waiting for.
Here each statement is compiled once per dialect, with named parameters, from the same Core statements
the rest of the app uses, and run on the DBAPI cursor of the session's own connection, inside the
transaction SQLAlchemy began: nothing about atomicity changes. Every parameter is worked out first
(:func:`prepare`), so the write lock is held only while SQLite runs the statements.

Values are adapted as SQLAlchemy stores them (on SQLite: UUIDs as 32 hex digits, dates as ISO text,
UTC timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff``); psycopg takes Python values as they are. Tests
read the rows back through the ORM, compare them with ORM-written rows and check the tallies against a
rebuild, on both databases.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect, insert
from sqlalchemy.exc import DBAPIError

from survey.models import Answer, AnswerTally, Response, ResponseTally
from survey.services.statistics import tallies
from survey.services.statistics.tallies import ANSWER_SUMS as _ANSWER_SUMS
from survey.services.statistics.tallies import TallyKey, answer_tally_rows

RESPONSE_COLUMNS = (
    "submission_id",
    "agency_id",
    "counter_id",
    "instrument_id",
    "received_at",
    "received_on",
    "channel",
    "collection_mode",
    "respondent_type",
    "field_id",
    "gender",
    "age_band",
    "education",
    "occupation",
    "comment",
    "dossier_hash",
    "status",
)
_ANSWER_TALLY_COLUMNS = ("agency_id", "day", "counter_key", "field_key", "month", "item_id", *_ANSWER_SUMS)
_RESPONSE_TALLY_COLUMNS = ("agency_id", "day", "counter_key", "field_key", "month", "instrument_id", "n")


#: A counter for the submission path: its ids, key version, whether it and its agency are active, and its
#: questionnaire's content digest (the key of the cached rules).
_COUNTER = (
    "SELECT counters.id, counters.agency_id, counters.key_version, counters.active, agencies.active, "
    "counters.instrument_id, instruments.content_digest FROM counters "
    "JOIN agencies ON agencies.id = counters.agency_id JOIN instruments ON instruments.id = counters.instrument_id "
    "WHERE counters.id = :counter_id"
)
#: At most ``limit`` entries of the (counter, received_at) index (see services/bursts.py).
_BURST_WINDOW = (
    "SELECT count(*) FROM (SELECT 1 FROM responses WHERE counter_id = :counter_id "
    "AND received_at > :since AND received_at <= :until LIMIT :limit) AS window_rows"
)
_NAMED = re.compile(r":(\w+)")


@cache
def _statements(dialect: Dialect) -> dict[str, str]:
    """The statements' SQL for this dialect with named parameters, compiled once from the Core statements
    the rest of the app uses (so a schema change reaches both)."""
    named = type(dialect)(paramstyle="named" if dialect.name == "sqlite" else "pyformat")
    upsert = tallies.upsert_statement

    def sql(stmt: Any, columns: tuple[str, ...] | None = None) -> str:
        return str(stmt.compile(dialect=named, column_keys=list(columns) if columns else None))

    return {
        "response": sql(insert(Response.__table__).returning(Response.__table__.c.id), RESPONSE_COLUMNS),
        "answers": sql(insert(Answer.__table__), ("response_id", "item_id", "score")),
        "response_tally": sql(
            upsert(dialect.name, ResponseTally, (*tallies.TALLY_KEYS, "instrument_id"), ("n",)), _RESPONSE_TALLY_COLUMNS
        ),
        "answer_tallies": sql(
            upsert(dialect.name, AnswerTally, (*tallies.TALLY_KEYS, "item_id"), _ANSWER_SUMS), _ANSWER_TALLY_COLUMNS
        ),
        **{
            name: text if dialect.name == "sqlite" else _NAMED.sub(r"%(\1)s", text)
            for name, text in (("burst_window", _BURST_WINDOW), ("counter", _COUNTER))
        },
    }


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _sqlite_row(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _sqlite_value(value) for name, value in values.items()}


@dataclass
class PreparedSubmission:
    """The parameters of one submission's statements, adapted to the database."""

    key: TallyKey
    response: Mapping[str, Any]
    answers: list[dict[str, Any]]
    response_tally: dict[str, Any]
    answer_tallies: list[dict[str, Any]]


def prepare(
    dialect: str, row: Mapping[str, Any], instrument_id: int, satisfied_from: int, answers: list[tuple[int, int | None]]
) -> PreparedSubmission:
    """Every parameter of :meth:`SubmissionStatements.write`, worked out before the write lock is taken."""
    values = {name: row[name] for name in RESPONSE_COLUMNS}
    key = TallyKey.of(row)
    response_tally, answer_tallies = answer_tally_rows(key, instrument_id, satisfied_from, answers)
    if dialect == "sqlite":  # of the tallies, only the day and its month need adapting, the same in every row
        values = _sqlite_row(values)
        day, month = key.day.isoformat(), key.day.replace(day=1).isoformat()
        for tally in (response_tally, *answer_tallies):
            tally["day"], tally["month"] = day, month
    answer_rows = [{"response_id": 0, "item_id": item_id, "score": score} for item_id, score in answers]
    return PreparedSubmission(key, values, answer_rows, response_tally, answer_tallies)


class SubmissionStatements:
    """The submission's statements on one connection's cursor, in that connection's transaction."""

    def __init__(self, dialect: Dialect, cursor: Any) -> None:
        self.dialect = dialect
        self.sqlite = dialect.name == "sqlite"
        self.cursor = cursor

    @classmethod
    def on(cls, connection: Connection) -> SubmissionStatements:
        """On a cursor of ``connection``'s driver connection, in its transaction."""
        return cls(connection.dialect, connection.connection.driver_connection.cursor())  # type: ignore[union-attr]

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
        params = {"counter_id": counter_id, "since": since, "until": until, "limit": limit}
        self._run("burst_window", _sqlite_row(params) if self.sqlite else params)
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
